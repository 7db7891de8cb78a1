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

	"ringback/bot"
	"ringback/store"
)

// Platform is the name of Slack in outbox kinds and card rows.
const Platform = "slack"

// Adapter performs Ringback's Slack side effects and answers the questions
// handlers ask about Slack users.
type Adapter struct {
	api   *slack.Client
	bot   *bot.Bot
	store *store.Store
	log   *slog.Logger

	mu       sync.Mutex
	teamURL  string // https://team.slack.com/ from auth.test, for permalinks
	members  map[string]bool
	fetched  time.Time
	names    map[string]string
	memberTT time.Duration
	pause    *bot.Pause
}

// New returns the adapter. appToken enables Socket Mode ("" for HTTP mode);
// apiURL overrides Slack's Web API base URL (SLACK_API_URL; "" for the real one).
func New(token, appToken, apiURL string, b *bot.Bot, log *slog.Logger) *Adapter {
	opts := []slack.Option{}
	if appToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(appToken))
	}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &Adapter{
		api: slack.New(token, opts...), bot: b, store: b.Store(), log: log,
		names: map[string]string{}, memberTT: 5 * time.Minute, pause: bot.NewPause(b.Clock(), "slack"),
	}
}

// API is the Slack client (Socket Mode is built on it).
func (a *Adapter) API() *slack.Client { return a.api }

// Register adds the adapter's outbox performers.
func (a *Adapter) Register(w *bot.Worker) {
	w.Handle(bot.KindCard+"."+Platform, a.performCard)
	w.Handle(bot.KindThread+"."+Platform, a.performThread)
	w.Handle(bot.KindDM+"."+Platform, a.performDM)
	w.Handle(bot.KindPost+"."+Platform, a.performPost)
	w.Handle(bot.KindDigest+"."+Platform, a.performDigest)
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

// Actor describes a Slack user for the bot: name for {{agent}}, and whether
// they are staff (a member of a line's channel).
func (a *Adapter) Actor(ctx context.Context, userID, fallbackName string) bot.Actor {
	return bot.Actor{ID: userID, Name: a.name(ctx, userID, fallbackName), Staff: a.isStaff(ctx, userID)}
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

// isStaff: members of any line's channel, and of the configured staff user
// group, work cases. Membership is cached for a few minutes, so a click
// costs no API call.
func (a *Adapter) isStaff(ctx context.Context, userID string) bool {
	a.mu.Lock()
	fresh := a.members != nil && time.Since(a.fetched) < a.memberTT
	if fresh {
		ok := a.members[userID]
		a.mu.Unlock()
		return ok
	}
	a.mu.Unlock()
	members := map[string]bool{}
	for _, line := range a.bot.Config().Lines {
		cursor := ""
		for {
			ids, next, err := a.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: line.Channel, Cursor: cursor, Limit: 1000})
			if err != nil {
				a.log.Warn("slack conversations.members failed", "channel", line.Channel, "error", err)
				break
			}
			for _, id := range ids {
				members[id] = true
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
			members[id] = true
		}
	}
	a.mu.Lock()
	a.members, a.fetched = members, time.Now()
	a.mu.Unlock()
	return members[userID]
}

// paused holds calls while a Slack rate limit lasts.
func (a *Adapter) paused() error { return a.pause.Held() }

// failed classifies err, and starts the pause when Slack rate-limited us.
func (a *Adapter) failed(err error) error { return a.pause.Note(classify(err)) }

// classify turns a Slack API error into the outbox's words.
func classify(err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return bot.RetryAfter(rl.RetryAfter, err)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long":
			return bot.Permanent(fmt.Errorf("slack: %w", err))
		}
	}
	return fmt.Errorf("slack: %w", err)
}

// notInChannel reports the errors that a person must fix by inviting the bot.
func notInChannel(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && (se.Err == "not_in_channel" || se.Err == "channel_not_found" || se.Err == "is_archived")
}

// performCard posts the case's card, or updates it in place.
func (a *Adapter) performCard(ctx context.Context, it store.OutboxItem) error {
	if err := a.paused(); err != nil {
		return err
	}
	var job bot.CardJob
	if err := it.Decode(&job); err != nil {
		return bot.Permanent(err)
	}
	if newer, err := a.store.NewerOutboxWaiting(ctx, it.Kind, job.CaseID, it.ID); err != nil {
		return err
	} else if newer {
		return nil // a later refresh will render the latest state
	}
	_, err := a.syncCard(ctx, job.CaseID, true)
	return err
}

// syncCard makes sure the case's card exists, posting it if need be, and
// when update is set refreshes it; it returns where the card is. A
// reservation row makes sure only one worker ever posts a case's first card.
func (a *Adapter) syncCard(ctx context.Context, caseID int64, update bool) (store.Card, error) {
	existing, err := a.store.CardFor(ctx, caseID, Platform)
	switch {
	case err == nil && existing.MessageID != "" && !update:
		return existing, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Card{}, err
	}
	card, err := a.bot.Card(ctx, caseID)
	if err != nil {
		return store.Card{}, err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(CardText(card), false), slack.MsgOptionBlocks(CardBlocks(card)...)}
	if err == nil && existing.MessageID != "" {
		if _, _, _, err := a.api.UpdateMessageContext(ctx, existing.Channel, existing.MessageID, opts...); err != nil {
			return store.Card{}, a.chatFailed(ctx, card, err)
		}
		return existing, nil
	}
	if card.Channel == "" {
		return store.Card{}, bot.Permanent(fmt.Errorf("slack: case %s has no channel (line %s is not configured)", card.Ref, card.LineNumber))
	}
	reserved, err := a.store.ReserveCard(ctx, card.CaseID, Platform, card.Channel, a.bot.Clock().Now())
	if err != nil {
		return store.Card{}, err
	}
	if !reserved {
		// Another worker is posting the first card; come back after it.
		return store.Card{}, bot.RetryAfter(500*time.Millisecond, errors.New("slack: card is being posted by another worker"))
	}
	channel, ts, err := a.api.PostMessageContext(ctx, card.Channel, opts...)
	if err != nil {
		if uerr := a.store.UnreserveCard(ctx, card.CaseID, Platform); uerr != nil {
			a.log.Error("slack: card reservation not released", "case_id", card.CaseID, "error", uerr)
		}
		return store.Card{}, a.chatFailed(ctx, card, err)
	}
	if err := a.store.SaveCard(ctx, card.CaseID, Platform, channel, ts); err != nil {
		return store.Card{}, err
	}
	return store.Card{CaseID: card.CaseID, Platform: Platform, Channel: channel, MessageID: ts}, nil
}

// chatFailed records a failure people must fix (the bot is not in the
// channel) on the case, once, and hands the error to the outbox to retry.
func (a *Adapter) chatFailed(ctx context.Context, card bot.Card, err error) error {
	if notInChannel(err) {
		a.log.Error("slack: the bot cannot post in the line's channel; invite @ringback to it", "channel", card.Channel, "line", card.Line, "error", err)
		a.bot.ChatFailed(ctx, card.CaseID, Platform, card.Channel, "invite the bot to the channel", err)
	}
	return a.failed(err)
}

// performThread posts a timeline entry in the card's thread.
func (a *Adapter) performThread(ctx context.Context, it store.OutboxItem) error {
	if err := a.paused(); err != nil {
		return err
	}
	var e bot.Entry
	if err := it.Decode(&e); err != nil {
		return bot.Permanent(err)
	}
	// An entry never goes to the channel on its own: if the card is not
	// there yet, post it first rather than wait for its own row.
	c, err := a.syncCard(ctx, e.CaseID, false)
	if err != nil {
		return err
	}
	_, _, err = a.api.PostMessageContext(ctx, c.Channel, slack.MsgOptionText(EntryText(e), false), slack.MsgOptionTS(c.MessageID))
	if err != nil {
		card, cerr := a.bot.Card(ctx, e.CaseID)
		if cerr != nil {
			return a.failed(err)
		}
		return a.chatFailed(ctx, card, err)
	}
	return nil
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
	mine, err := a.bot.Queue(ctx, bot.QueueRequest{Mine: true, Actor: bot.Actor{ID: user}, Platform: Platform, Limit: 15})
	if err != nil {
		return err
	}
	queue, err := a.bot.Queue(ctx, bot.QueueRequest{Platform: Platform, Limit: 15})
	if err != nil {
		return err
	}
	if _, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: HomeView(mine, queue, a.Permalink)}); err != nil {
		return fmt.Errorf("slack: publish home: %w", err)
	}
	return nil
}

// performDM sends a direct message (reminders, alerts) to one person.
func (a *Adapter) performDM(ctx context.Context, it store.OutboxItem) error {
	if err := a.paused(); err != nil {
		return err
	}
	var n bot.Notice
	if err := it.Decode(&n); err != nil {
		return bot.Permanent(err)
	}
	ch, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{n.User}})
	if err != nil {
		return a.failed(err)
	}
	link := ""
	if c, err := a.store.CardFor(ctx, n.CaseID, Platform); err == nil {
		link = a.Permalink(c.Channel, c.MessageID)
	}
	_, _, err = a.api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText(Mrkdwn(n.Text), false), slack.MsgOptionBlocks(NoticeBlocks(n, link)...))
	if err != nil {
		return a.failed(err)
	}
	return nil
}

// performPost posts a message to a channel (queue checks, manager alerts).
func (a *Adapter) performPost(ctx context.Context, it store.OutboxItem) error {
	if err := a.paused(); err != nil {
		return err
	}
	var p bot.Post
	if err := it.Decode(&p); err != nil {
		return bot.Permanent(err)
	}
	if _, _, err := a.api.PostMessageContext(ctx, p.Channel, slack.MsgOptionText(Mrkdwn(p.Text), false)); err != nil {
		if notInChannel(err) {
			a.log.Error("slack: the bot cannot post in the channel; invite @ringback to it", "channel", p.Channel, "error", err)
		}
		return a.failed(err)
	}
	return nil
}
