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
// once, the card before its thread, a failure recorded once, every post
// made at most once across crashes) live in the bot.
// Its errors speak the outbox's words: RetryAfter for a rate limit,
// Permanent for a request the platform will never accept, and
// ChannelUnavailable for a channel people must fix.
//
// Every post takes a key that names it on the platform (Slack message
// metadata, a Discord nonce and a marker the adapter puts in the message),
// so that Find and FindEntry can tell, after a crash, whether an earlier
// attempt's post reached the platform.
type Chat interface {
	// Platform names the chat in outbox kinds and card rows ("slack").
	Platform() string
	// CardChannel is where the card of a case goes; "" when this platform
	// shows no card for the case's line.
	CardChannel(card Card) (string, error)
	// PostCard posts a case's card.
	PostCard(ctx context.Context, channel string, card Card, key string) (MessageRef, error)
	// UpdateCard refreshes a posted card; ErrMessageGone when someone
	// deleted it.
	UpdateCard(ctx context.Context, at MessageRef, card Card) error
	// PostEntry posts a timeline entry in the thread of the card at card.
	PostEntry(ctx context.Context, card MessageRef, e Entry, key string) (MessageRef, error)
	// UpdateEntry replaces the words of a posted timeline entry (a text's
	// delivery, once known); ErrMessageGone when someone deleted it.
	UpdateEntry(ctx context.Context, at MessageRef, e Entry) error
	// Find looks in channel, and FindEntry in the card's thread, for the
	// bot's post named key made since since: a re-run whose earlier
	// attempt may have reached the platform adopts it instead of posting.
	Find(ctx context.Context, channel, key string, since time.Time) (MessageRef, bool, error)
	FindEntry(ctx context.Context, card MessageRef, key string, since time.Time) (MessageRef, bool, error)
	// DMChannels opens the direct-message channels a notice goes to on
	// this platform, one per person (none when it is not this platform's
	// to send).
	DMChannels(ctx context.Context, n Notice) ([]string, error)
	// DM sends a notice in a direct-message channel; card is the case's
	// card on this platform, if it has one, for a link.
	DM(ctx context.Context, channel string, n Notice, card MessageRef, key string) (MessageRef, error)
	// PostChannel is where a post goes on this platform ("" when nowhere).
	PostChannel(p Post) string
	// Post posts a message to a channel that is not a case's thread.
	Post(ctx context.Context, channel string, p Post, key string) (MessageRef, error)
	// DigestChannel is where the digest goes ("" for no digest on this
	// platform), and whether a thread follows it (PostDigestThread, a row
	// of its own).
	DigestChannel() (channel string, thread bool)
	// PostDigest posts the digest of job's period in channel: the headline
	// figures, the chart, the lines and the oldest cases.
	PostDigest(ctx context.Context, channel string, job DigestJob, d Digest, key string) (MessageRef, error)
	// PostDigestThread posts every table of the digest and its CSV in the
	// thread of the digest's post top, and FindDigestThread looks there for
	// that post made since since.
	PostDigestThread(ctx context.Context, top MessageRef, d Digest, key string) (MessageRef, error)
	FindDigestThread(ctx context.Context, top MessageRef, d Digest, key string, since time.Time) (MessageRef, bool, error)
}

// IdempotentPoster is a platform that answers a second post of the same
// key, made within the duration PostsDedupedFor returns, with the first
// post (Discord's enforced nonce): a re-run need not wait for an earlier
// attempt's call that may still land.
type IdempotentPoster interface {
	PostsDedupedFor() time.Duration
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
