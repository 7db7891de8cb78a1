package chat

import (
	"context"
	"errors"
	"time"
)

// MessageRef is where a message lives on a chat platform.
type MessageRef struct {
	Channel string
	ID      string // Slack's ts, Discord's message id
}

// Chat is a chat platform as the bot's performers use it. An adapter
// renders and calls its API, nothing else; the rules of posting (a card
// once, the card before its thread, a failure recorded once) live here.
// Its errors speak the outbox's words: RetryAfter for a rate limit,
// Permanent for a request the platform will never accept, and
// ChannelUnavailable for a channel people must fix.
type Chat interface {
	// Platform names the chat in outbox kinds and card rows ("slack").
	Platform() string
	// CardChannel is where the card of a case goes; "" when this platform
	// shows no card for the case's line.
	CardChannel(card Card) (string, error)
	// PostCard posts a case's card; key names the post for FindCard.
	PostCard(ctx context.Context, channel string, card Card, key string) (MessageRef, error)
	// UpdateCard refreshes a posted card; ErrMessageGone when someone
	// deleted it.
	UpdateCard(ctx context.Context, at MessageRef, card Card) error
	// PostEntry posts a timeline entry in the thread of the card at card;
	// key names the post for FindEntry.
	PostEntry(ctx context.Context, card MessageRef, e Entry, key string) (MessageRef, error)
	// UpdateEntry replaces the words of a posted timeline entry (a text's
	// delivery, once known); ErrMessageGone when someone deleted it.
	UpdateEntry(ctx context.Context, at MessageRef, e Entry) error
	// FindCard and FindEntry look on the platform for a post named key
	// made since since, for a re-run whose earlier attempt may have
	// reached it. A platform that deduplicates posts by key itself
	// (Discord's nonce) finds nothing and lets PostCard adopt.
	FindCard(ctx context.Context, channel, key string, since time.Time) (MessageRef, bool, error)
	FindEntry(ctx context.Context, card MessageRef, key string, since time.Time) (MessageRef, bool, error)
	// DM sends a notice to its person; card is the case's card on this
	// platform, if it has one, for a link.
	DM(ctx context.Context, n Notice, card MessageRef) error
	// Post posts a message to a channel that is not a case's thread.
	Post(ctx context.Context, p Post) error
	// PostDigest posts the digest of job's period in the digest channel,
	// and says whether charts follow (PostCharts, a row of their own).
	PostDigest(ctx context.Context, job DigestJob, d Digest) (charts bool, err error)
	PostCharts(ctx context.Context, d Digest) error
}

// ErrChannelUnavailable means the bot cannot post in a channel (it is not
// in it, lacks access, or the channel is gone): people must fix it.
var ErrChannelUnavailable = errors.New("bot: the bot cannot post in the channel")

// ErrMessageGone means a message the bot posted was deleted.
var ErrMessageGone = errors.New("bot: the message is gone")

// ChannelError is a post refused because of the channel; Fix says what
// people must do, in the platform's words.
type ChannelError struct {
	Channel string
	Fix     string
	Err     error
}

func (e *ChannelError) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is find ErrChannelUnavailable and errors.As the
// outbox's words (RetryAfter, Permanent) in the cause.
func (e *ChannelError) Unwrap() []error { return []error{ErrChannelUnavailable, e.Err} }

// ChannelUnavailable wraps err, a refusal to post in channel.
func ChannelUnavailable(channel, fix string, err error) error {
	return &ChannelError{Channel: channel, Fix: fix, Err: err}
}
