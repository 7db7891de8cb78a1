package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot/chat"
	"ringback/config"
	"ringback/internal/remote"
)

// Platform is the name of Slack in outbox kinds and card rows.
const Platform = "slack"

// Adapter performs Ringback's Slack side effects and answers the questions
// handlers ask about Slack users.
type Adapter struct {
	api *slack.Client
	bot Bot
	log *slog.Logger

	mu       sync.Mutex
	teamURL  string              // https://team.slack.com/ from auth.test, for permalinks
	members  map[string][]string // user → numbers of the lines whose channel they are in
	group    map[string]bool     // members of the staff group: staff of every line
	fetched  time.Time
	names    map[string]string
	memberTT time.Duration

	history chat.HistoryReads[slack.Message]
}

// New returns the adapter. appToken enables Socket Mode ("" for HTTP mode);
// apiURL overrides Slack's Web API base URL (SLACK_API_URL; "" for the real one).
func New(token, appToken, apiURL string, b Bot, log *slog.Logger) *Adapter {
	opts := []slack.Option{}
	if appToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(appToken))
	}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	// A hung Slack call must not hold an outbox row (and its lane) for
	// long: the outbox retries it.
	opts = append(opts, slack.OptionHTTPClient(remote.Client(20*time.Second, trimBlocks(remote.Transport()))))
	return &Adapter{
		api: slack.New(token, opts...), bot: b, log: log,
		names: map[string]string{}, memberTT: 5 * time.Minute,
	}
}

// API is the Slack client (Socket Mode is built on it).
func (a *Adapter) API() *slack.Client { return a.api }

// Bot is what the adapter asks of the bot: its configuration, and the queue
// for the App Home. *bot.Bot is one; asking no more keeps the adapter apart
// from the store. Its outbox performers are the bot's: bot.RegisterChat.
type Bot interface {
	Config() *config.Config
	Queue(ctx context.Context, r chat.QueueRequest) (chat.QueueView, error)
}

// Start learns the workspace URL (for permalinks). It logs and carries on
// when Slack cannot be reached: links then appear once it can.
func (a *Adapter) Start(ctx context.Context) {
	res, err := a.api.AuthTestContext(ctx)
	if err != nil {
		a.log.Warn("slack auth.test failed; card links in /callbacks will be missing until it succeeds", "error", err)
		return
	}
	a.mu.Lock()
	a.teamURL = res.URL
	a.mu.Unlock()
	a.log.Info("slack connected", "team", res.Team, "bot_user", res.UserID)
}

// Permalink builds a card's link the way Slack does, without an API call
// per card.
func (a *Adapter) Permalink(channel, ts string) string {
	a.mu.Lock()
	base := a.teamURL
	a.mu.Unlock()
	if base == "" || ts == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

// Actor describes a Slack user for the bot: name for {{agent}}, and whose
// staff they are: the lines whose channel they are in, or every line for
// the staff group.
func (a *Adapter) Actor(ctx context.Context, userID, fallbackName string) chat.Actor {
	lines, all := a.staffOf(ctx, userID)
	act := chat.Actor{ID: userID, Name: a.name(ctx, userID, fallbackName), Staff: all || len(lines) > 0}
	if !all {
		act.Lines = lines
	}
	return act
}

func (a *Adapter) name(ctx context.Context, userID, fallback string) string {
	a.mu.Lock()
	n, ok := a.names[userID]
	a.mu.Unlock()
	if ok {
		return n
	}
	u, err := a.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		a.log.Warn("slack users.info failed", "user", userID, "error", err)
		return fallback
	}
	n = u.Profile.RealName
	if n == "" {
		n = u.RealName
	}
	if n == "" {
		n = u.Name
	}
	a.mu.Lock()
	a.names[userID] = n
	a.mu.Unlock()
	return n
}

// staffOf: members of a line's channel are staff of that line; members of
// the configured staff user group, of every line. Membership is cached for
// a few minutes, so a click costs no API call.
func (a *Adapter) staffOf(ctx context.Context, userID string) (lines []string, all bool) {
	a.mu.Lock()
	fresh := a.members != nil && time.Since(a.fetched) < a.memberTT
	if fresh {
		lines, all = a.members[userID], a.group[userID]
		a.mu.Unlock()
		return lines, all
	}
	a.mu.Unlock()
	members, group := map[string][]string{}, map[string]bool{}
	for _, line := range a.bot.Config().Lines {
		cursor := ""
		for {
			ids, next, err := a.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: line.Channel, Cursor: cursor, Limit: 1000})
			if err != nil {
				a.log.Warn("slack conversations.members failed", "channel", line.Channel, "error", err)
				break
			}
			for _, id := range ids {
				members[id] = append(members[id], line.Number)
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	if g := a.bot.Config().StaffGroup; g != "" {
		ids, err := a.api.GetUserGroupMembersContext(ctx, g)
		if err != nil {
			a.log.Warn("slack usergroups.users.list failed", "group", g, "error", err)
		}
		for _, id := range ids {
			group[id] = true
		}
	}
	a.mu.Lock()
	a.members, a.group, a.fetched = members, group, time.Now()
	a.mu.Unlock()
	return members[userID], group[userID]
}

// failed turns a Slack error into the bot's words; channel, when not "",
// is where the bot tried to post, for a refusal people must fix.
func (a *Adapter) failed(channel string, err error) error {
	cerr := classify(err)
	if channel != "" && notInChannel(err) {
		return chat.ChannelUnavailable(channel, "invite the bot to the channel", cerr)
	}
	return cerr
}

// classify turns a Slack API error into the outbox's words.
func classify(err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return chat.RetryAfter(rl.RetryAfter, err)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long":
			return chat.Permanent(fmt.Errorf("slack: %w", err))
		}
	}
	return fmt.Errorf("slack: %w", err)
}

// notInChannel reports the errors that a person must fix by inviting the bot.
func notInChannel(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && (se.Err == "not_in_channel" || se.Err == "channel_not_found" || se.Err == "is_archived")
}

// Platform names Slack for the bot (chat.Chat).
func (a *Adapter) Platform() string { return Platform }

// CardChannel is the line's channel: every line has one on Slack.
func (a *Adapter) CardChannel(card chat.Card) (string, error) {
	if card.Channel == "" {
		return "", chat.Permanent(fmt.Errorf("slack: case %s has no channel (line %s is not configured)", card.Ref, card.LineNumber))
	}
	return card.Channel, nil
}

// Message metadata names Ringback's posts, so a re-run after a crash can
// find a post whose ts was never saved (conversations.history, .replies).
const (
	cardEvent   = "ringback_card"
	entryEvent  = "ringback_entry"
	noticeEvent = "ringback_notice"
	postEvent   = "ringback_post"
	digestEvent = "ringback_digest"
)

func metadata(event string, caseID int64, key string) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: event, EventPayload: map[string]any{"case_id": caseID, "key": key}})
}

// namedBy reports whether m carries the metadata of Ringback's post named
// key (keys name one post whatever its kind).
func namedBy(m slack.Message, key string) bool {
	k, _ := m.Metadata.EventPayload["key"].(string)
	return strings.HasPrefix(m.Metadata.EventType, "ringback_") && k == key
}

func cardOptions(card chat.Card) []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(CardText(card), false), slack.MsgOptionBlocks(CardBlocks(card)...)}
}

// PostCard posts a case's card in channel.
func (a *Adapter) PostCard(ctx context.Context, channel string, card chat.Card, key string) (chat.MessageRef, error) {
	return a.post(ctx, channel, channel, append(cardOptions(card), metadata(cardEvent, card.CaseID, key))...)
}

// UpdateCard refreshes a posted card in place.
func (a *Adapter) UpdateCard(ctx context.Context, at chat.MessageRef, card chat.Card) error {
	if _, _, _, err := a.api.UpdateMessageContext(ctx, at.Channel, at.ID, cardOptions(card)...); err != nil {
		return a.failed(at.Channel, err)
	}
	return nil
}

// PostEntry posts a timeline entry in the card's thread.
func (a *Adapter) PostEntry(ctx context.Context, card chat.MessageRef, e chat.Entry, key string) (chat.MessageRef, error) {
	return a.post(ctx, card.Channel, card.Channel, slack.MsgOptionText(EntryText(e), false), slack.MsgOptionTS(card.ID),
		metadata(entryEvent, e.CaseID, key))
}

// UpdateEntry replaces a thread entry's words in place (chat.update). The
// entry's post is saved before it is edited, so FindEntry never needs its
// metadata again.
func (a *Adapter) UpdateEntry(ctx context.Context, at chat.MessageRef, e chat.Entry) error {
	_, _, _, err := a.api.UpdateMessageContext(ctx, at.Channel, at.ID, slack.MsgOptionText(EntryText(e), false))
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "message_not_found" {
		return fmt.Errorf("slack: edit entry: %w", chat.ErrMessageGone)
	}
	if err != nil {
		return a.failed(at.Channel, err)
	}
	return nil
}

// Find looks through the channel's history since since for the post
// named key, in a read shared with the channel's other searches
// (chat.HistoryReads). Metadata comes back only with include_all_metadata.
func (a *Adapter) Find(ctx context.Context, channel, key string, since time.Time) (chat.MessageRef, bool, error) {
	m, ok, err := a.history.Find(ctx, channel, since, func(m slack.Message) bool { return namedBy(m, key) },
		func(ctx context.Context, since time.Time, each func(slack.Message) bool) error {
			params := &slack.GetConversationHistoryParameters{ChannelID: channel, Oldest: slackTS(since), Limit: 200, IncludeAllMetadata: true}
			for {
				res, err := a.api.GetConversationHistoryContext(ctx, params)
				if err != nil {
					return a.unread(channel, err)
				}
				for _, m := range res.Messages {
					if each(m) {
						return nil
					}
				}
				if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
					return nil
				}
				params.Cursor = res.ResponseMetaData.NextCursor
			}
		})
	if err != nil || !ok {
		return chat.MessageRef{}, false, err
	}
	return chat.MessageRef{Channel: channel, ID: m.Timestamp}, true, nil
}

// FindEntry looks through the card's thread since since for the entry
// post named key.
func (a *Adapter) FindEntry(ctx context.Context, card chat.MessageRef, key string, since time.Time) (chat.MessageRef, bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: card.Channel, Timestamp: card.ID, Oldest: slackTS(since), Limit: 200, IncludeAllMetadata: true}
	for {
		msgs, more, next, err := a.api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return chat.MessageRef{}, false, a.unread(card.Channel, err)
		}
		for _, m := range msgs {
			if namedBy(m, key) {
				return chat.MessageRef{Channel: card.Channel, ID: m.Timestamp}, true, nil
			}
		}
		if !more || next == "" {
			return chat.MessageRef{}, false, nil
		}
		params.Cursor = next
	}
}

// unread is failed for reading a channel. An app installed before Ringback
// read history lacks channels:history: it posts as it used to (a lost
// answer may then double a post) rather than stop posting.
func (a *Adapter) unread(channel string, err error) error {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "missing_scope" {
		a.log.Warn("slack: cannot read the channel to find an earlier attempt's post; add the channels:history, groups:history and im:history scopes (app-manifest.yaml) and reinstall the app", "channel", channel)
		return nil
	}
	return a.failed(channel, err)
}

// slackTS writes t as Slack's "seconds.micros" timestamp.
func slackTS(t time.Time) string {
	us := t.UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// Ephemeral shows text to one person in a channel (refusals).
func (a *Adapter) Ephemeral(ctx context.Context, channel, user, text string) {
	if _, err := a.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		a.log.Warn("slack: ephemeral message failed", "channel", channel, "error", err)
	}
}

// OpenModal opens a modal for a click's trigger.
func (a *Adapter) OpenModal(ctx context.Context, triggerID string, v slack.ModalViewRequest) error {
	if _, err := a.api.OpenViewContext(ctx, triggerID, v); err != nil {
		return fmt.Errorf("slack: open modal: %w", err)
	}
	return nil
}

// UpdateModal replaces an open modal (the Reply preview).
func (a *Adapter) UpdateModal(ctx context.Context, viewID, hash string, v slack.ModalViewRequest) error {
	if _, err := a.api.UpdateViewContext(ctx, v, "", hash, viewID); err != nil {
		return fmt.Errorf("slack: update modal: %w", err)
	}
	return nil
}

// PublishHome refreshes a person's App Home tab.
func (a *Adapter) PublishHome(ctx context.Context, user string) error {
	actor := a.Actor(ctx, user, "")
	view, err := a.homeView(ctx, actor)
	if err != nil {
		return err
	}
	if _, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		return fmt.Errorf("slack: publish home: %w", err)
	}
	return nil
}

// homeView is the App Home of actor: the queue for staff, the refusal's
// words (and nothing of any case) for anyone else.
func (a *Adapter) homeView(ctx context.Context, actor chat.Actor) (slack.HomeTabViewRequest, error) {
	mine, err := a.bot.Queue(ctx, chat.QueueRequest{Mine: true, Actor: actor, Platform: Platform, Limit: 15})
	var refused *chat.Refusal
	if errors.As(err, &refused) {
		return HomeRefused(refused.Text()), nil
	}
	if err != nil {
		return slack.HomeTabViewRequest{}, err
	}
	queue, err := a.bot.Queue(ctx, chat.QueueRequest{Actor: actor, Platform: Platform, Limit: 15})
	if err != nil {
		return slack.HomeTabViewRequest{}, err
	}
	return HomeView(mine, queue, a.Permalink), nil
}

// DMChannels opens the direct-message channel with the notice's person.
func (a *Adapter) DMChannels(ctx context.Context, n chat.Notice) ([]string, error) {
	ch, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{n.User}})
	if err != nil {
		return nil, a.failed("", err)
	}
	return []string{ch.ID}, nil
}

// DM sends a direct message (reminders, alerts) in channel, linked to the
// case's card.
func (a *Adapter) DM(ctx context.Context, channel string, n chat.Notice, card chat.MessageRef, key string) (chat.MessageRef, error) {
	link := a.Permalink(card.Channel, card.ID)
	return a.post(ctx, channel, "", slack.MsgOptionText(Mrkdwn(n.Text), false), slack.MsgOptionBlocks(NoticeBlocks(n, link)...),
		metadata(noticeEvent, n.CaseID, key))
}

// PostChannel is the post's channel: the bot names Slack's.
func (a *Adapter) PostChannel(p chat.Post) string { return p.Channel }

// Post posts a message to a channel (queue checks, manager alerts).
func (a *Adapter) Post(ctx context.Context, channel string, p chat.Post, key string) (chat.MessageRef, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(Mrkdwn(p.Text), false), metadata(postEvent, p.CaseID, key)}
	if p.Handover != nil {
		opts = append(opts, slack.MsgOptionBlocks(HandoverBlocks(*p.Handover)...))
	}
	return a.post(ctx, channel, channel, opts...)
}

// post posts a message in channel; fix, when not "", is the channel named
// in a refusal people must fix.
func (a *Adapter) post(ctx context.Context, channel, fix string, opts ...slack.MsgOption) (chat.MessageRef, error) {
	ch, ts, err := a.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return chat.MessageRef{}, a.failed(fix, err)
	}
	return chat.MessageRef{Channel: ch, ID: ts}, nil
}
