package discord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"ringback/bot/charts"
	"ringback/bot/chat"
	"ringback/config"
	"ringback/internal/remote"
)

// Adapter performs Ringback's Discord side effects and answers the
// questions handlers ask about Discord users.
//
// Identity across platforms: a case's owner is whichever platform's user
// claimed it. The adapter renders Discord ids as mentions and other ids
// (Slack's U…) as inert text; DMs go only to Discord ids.
type Adapter struct {
	s     *discordgo.Session
	appID string
	bot   Bot
	log   *slog.Logger

	channels  map[string]string // line number → Discord channel id
	digest    string            // digest channel id ("" = no digest, no manager posts)
	managers  []string          // Discord user ids with managers' rights
	staffRole string            // "" = everyone in the guild is staff
	guild     string            // configured guild ("" = any)

	mu        sync.Mutex
	seenGuild string // learned from interactions, for card links

	history chat.HistoryReads[*discordgo.Message]
}

// Option configures an Adapter beyond what New requires.
type Option func(*Adapter)

// WithManagers names the Discord users who are managers: they are staff,
// and they get manager alerts by DM (see performDM).
func WithManagers(ids ...string) Option {
	return func(a *Adapter) { a.managers = append(a.managers, ids...) }
}

// WithDigestChannel sets where the weekly digest and manager alerts go.
func WithDigestChannel(id string) Option { return func(a *Adapter) { a.digest = id } }

// WithStaffRole limits staff to guild members with this role id. Without
// it, everyone in the guild may work cases: Discord servers are usually
// one team, and channel permissions already decide who sees the cards.
func WithStaffRole(id string) Option { return func(a *Adapter) { a.staffRole = id } }

// WithGuild pins Ringback to one guild (server): only its members are
// staff, /callbacks is registered there (instantly, where a global
// command takes up to an hour), and card links use it.
func WithGuild(id string) Option { return func(a *Adapter) { a.guild = id } }

// New returns the adapter. token is the bot token (without "Bot "); appID
// the application id; apiBase, when not "", replaces https://discord.com for
// every REST call (tests, proxies) — through the Session's HTTP client, so
// nothing process-wide changes; channels maps a line's number to its
// Discord channel id (lines without one get no Discord card).
func New(token, appID, apiBase string, b Bot, channels map[string]string, log *slog.Logger, opts ...Option) *Adapter {
	// discordgo.New only fills a struct; its error is always nil.
	s, _ := discordgo.New("Bot " + token)
	// The outbox owns retries: a 429 becomes RetryAfter instead of a sleep
	// inside a worker, and a 502 is retried with backoff, not at once.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.StateEnabled = false
	s.Client = remote.Client(20*time.Second, trimComponents(rewriteTransport(apiBase, remote.Transport())))
	if log == nil {
		log = slog.Default()
	}
	a := &Adapter{s: s, appID: appID, bot: b, log: log, channels: map[string]string{}}
	for number, ch := range channels {
		a.channels[number] = ch
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// rewriteTransport sends requests for discord.com to base instead. discordgo
// builds its URLs from package variables (EndpointDiscord…) computed once at
// init; rewriting at the transport keeps those untouched, so two sessions
// (or two tests) can point at different servers.
func rewriteTransport(base string, next http.RoundTripper) http.RoundTripper {
	if base == "" {
		return next
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" {
		return next
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "discord.com" {
			return next.RoundTrip(r)
		}
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host, r2.Host = u.Scheme, u.Host, ""
		r2.URL.Path = u.Path + r.URL.Path
		r2.URL.RawPath = ""
		return next.RoundTrip(r2)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Session is the discordgo session (REST only; Ringback opens no Gateway).
func (a *Adapter) Session() *discordgo.Session { return a.s }

// AppID is the application id the adapter was built with.
func (a *Adapter) AppID() string { return a.appID }

// Bot is what the adapter asks of the bot: its configuration and a case's
// card (to start a thread that failed to start).
// *bot.Bot is one; asking no more keeps the adapter apart from the store.
// Its outbox performers are the bot's: bot.RegisterChat.
type Bot interface {
	Config() *config.Config
	Card(ctx context.Context, id int64) (chat.Card, error)
}

// Command is the /callbacks application command: one optional free-text
// option, so the verbs stay those of Slack's /callbacks.
func Command() *discordgo.ApplicationCommand {
	return &discordgo.ApplicationCommand{
		Type:        discordgo.ChatApplicationCommand,
		Name:        "callbacks",
		Description: "Ringback: the open callback queue and its verbs (args: help)",
		Options: []*discordgo.ApplicationCommandOption{{
			Type:        discordgo.ApplicationCommandOptionString,
			Name:        "args",
			Description: "mine, overdue, line NAME, stats, templates…, away until DATE, back, optout/spam NUMBER, help",
			Required:    false,
		}},
	}
}

// RegisterCommands creates /callbacks, replacing the application's commands
// (bulk overwrite, so a restart never duplicates it): in the configured
// guild, else globally.
func (a *Adapter) RegisterCommands(ctx context.Context) error {
	if _, err := a.s.ApplicationCommandBulkOverwrite(a.appID, a.guild, []*discordgo.ApplicationCommand{Command()}, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("discord: register /callbacks: %w", err)
	}
	return nil
}

// Actor describes the person behind an interaction for the bot. Staff are
// members of the guild (of the configured one, when set) holding the staff
// role (when set); managers always are. A click in a DM carries no member,
// so it is staff only for managers.
func (a *Adapter) Actor(i *discordgo.Interaction) chat.Actor {
	var u *discordgo.User
	var nick string
	var roles []string
	member := false
	switch {
	case i.Member != nil && i.Member.User != nil:
		u, nick, roles, member = i.Member.User, i.Member.Nick, i.Member.Roles, true
	case i.User != nil:
		u = i.User
	default:
		return chat.Actor{}
	}
	name := nick
	if name == "" {
		name = u.GlobalName
	}
	if name == "" {
		name = u.Username
	}
	staff := member && (a.guild == "" || i.GuildID == a.guild) && (a.staffRole == "" || slices.Contains(roles, a.staffRole))
	if slices.Contains(a.managers, u.ID) {
		staff = true
	}
	return chat.Actor{ID: u.ID, Name: name, Staff: staff}
}

// NoteGuild remembers the guild a signed interaction came from, so card
// links work without WithGuild.
func (a *Adapter) NoteGuild(id string) {
	if id == "" {
		return
	}
	a.mu.Lock()
	if a.seenGuild == "" {
		a.seenGuild = id
	}
	a.mu.Unlock()
}

// CardLink is a card's message link ("" while the guild is unknown).
func (a *Adapter) CardLink(channel, message string) string {
	g := a.guild
	if g == "" {
		a.mu.Lock()
		g = a.seenGuild
		a.mu.Unlock()
	}
	if g == "" || channel == "" || message == "" {
		return ""
	}
	return "https://discord.com/channels/" + g + "/" + channel + "/" + message
}

// EditOriginal replaces an interaction's first answer (a deferred one), or
// for a deferred component update the message the component is on.
func (a *Adapter) EditOriginal(ctx context.Context, appID, token string, d *discordgo.InteractionResponseData) error {
	content, embeds, components := d.Content, d.Embeds, d.Components
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	if components == nil {
		components = []discordgo.MessageComponent{}
	}
	_, err := a.s.WebhookMessageEdit(appID, token, "@original", &discordgo.WebhookEdit{
		Content: &content, Embeds: &embeds, Components: &components, AllowedMentions: d.AllowedMentions,
	}, discordgo.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("discord: edit interaction response: %w", err)
	}
	return nil
}

// Followup sends another message for an interaction (ephemeral when d says
// so), e.g. a refusal after a deferred component update.
func (a *Adapter) Followup(ctx context.Context, appID, token string, d *discordgo.InteractionResponseData) error {
	_, err := a.s.WebhookExecute(appID, token, false, &discordgo.WebhookParams{
		Content: d.Content, Embeds: d.Embeds, Components: d.Components, AllowedMentions: d.AllowedMentions, Flags: d.Flags,
	}, discordgo.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("discord: interaction follow-up: %w", err)
	}
	return nil
}

// --- errors ---

func restError(err error) (*discordgo.RESTError, bool) {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re, true
	}
	return nil, false
}

func hasCode(err error, code int) bool {
	re, ok := restError(err)
	return ok && re.Message != nil && re.Message.Code == code
}

// noAccess reports the failures people must fix in Discord: the bot cannot
// see or post in the channel, or the channel is gone.
func noAccess(err error) bool {
	re, ok := restError(err)
	if !ok {
		return false
	}
	if re.Message != nil {
		switch re.Message.Code {
		case discordgo.ErrCodeMissingAccess, discordgo.ErrCodeMissingPermissions, discordgo.ErrCodeUnknownChannel:
			return true
		}
	}
	return re.Response.StatusCode == http.StatusForbidden
}

// failed turns a Discord error into the bot's words; channel, when not "",
// is where the bot tried to post, for a refusal people must fix.
func (a *Adapter) failed(channel, fix string, err error) error {
	cerr := classify(err)
	if channel != "" && noAccess(err) {
		return chat.ChannelUnavailable(channel, fix, cerr)
	}
	return cerr
}

// What people must give the bot in a line's channel, and in other channels.
const (
	fixLineChannel = "give the bot access to the channel (View Channel, Send Messages, Read Message History, Create Public Threads, Send Messages in Threads)"
	fixChannel     = "give the bot access to the channel (View Channel, Send Messages, Read Message History)"
)

// classify turns a Discord error into the outbox's words: a rate limit is
// retried when Discord says, a request Discord will never accept is dead at
// once, anything else (5xx, network, missing access) backs off and retries.
func classify(err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return chat.RetryAfter(max(rl.RetryAfter, time.Second/10), fmt.Errorf("discord: %w", err))
	}
	if re, ok := restError(err); ok {
		code := 0
		if re.Message != nil {
			code = re.Message.Code
		}
		switch {
		case re.Response.StatusCode == http.StatusTooManyRequests:
			return chat.RetryAfter(retryAfter(re.Response.Header), fmt.Errorf("discord: %w", err))
		case re.Response.StatusCode == http.StatusUnauthorized, re.Response.StatusCode == http.StatusBadRequest,
			code == discordgo.ErrCodeCannotSendMessagesToThisUser:
			return chat.Permanent(fmt.Errorf("discord: %w", err))
		}
	}
	return fmt.Errorf("discord: %w", err)
}

// retryAfter reads a Retry-After header in seconds (1 s when absent).
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return time.Second
}

// --- the bot's chat port (chat.Chat) ---

// Platform names Discord for the bot.
func (a *Adapter) Platform() string { return Platform }

// CardChannel is the caller kind's Discord channel when the line routes
// it, else the line's; "" for a line that lives on other platforms only.
func (a *Adapter) CardChannel(card chat.Card) (string, error) {
	if card.DiscordChannel != "" {
		return card.DiscordChannel, nil
	}
	return a.channels[card.LineNumber], nil
}

// messageSend is discordgo's MessageSend with what v0.29.0 lacks: a nonce
// which, with enforce_nonce, makes Discord answer a second create with the
// same nonce (within a few minutes) with the message already created.
type messageSend struct {
	*discordgo.MessageSend
	Nonce        string `json:"nonce,omitempty"`
	EnforceNonce bool   `json:"enforce_nonce,omitempty"`
}

// PostsDedupedFor is how long a second post with the same nonce returns
// the first: Discord documents "the past few minutes"; the short end.
func (a *Adapter) PostsDedupedFor() time.Duration { return 2 * time.Minute }

// nonce is the post's name as Discord takes it: at most 25 characters.
func nonce(key string) string {
	if len(key) <= 25 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:25]
}

// send creates a message named key, once: a re-run with the same key
// within the nonce's window gets the message its earlier attempt created,
// and later Find finds it by its marker.
func (a *Adapter) send(ctx context.Context, channel string, msg *discordgo.MessageSend, key string) (*discordgo.Message, error) {
	mark(msg, key)
	for _, e := range msg.Embeds {
		if e.Type == "" {
			e.Type = discordgo.EmbedTypeRich
		}
	}
	endpoint := discordgo.EndpointChannelMessages(channel)
	payload := messageSend{MessageSend: msg, Nonce: nonce(key), EnforceNonce: true}
	var body []byte
	var err error
	if len(msg.Files) > 0 {
		// Attachments go as multipart/form-data, the message in payload_json.
		for _, f := range msg.Files {
			if sk, ok := f.Reader.(io.Seeker); ok {
				_, _ = sk.Seek(0, io.SeekStart) // a retried send reads the file again
			}
		}
		ct, mp, merr := discordgo.MultipartBodyWithJSON(payload, msg.Files)
		if merr != nil {
			return nil, chat.Permanent(fmt.Errorf("discord: attach files: %w", merr))
		}
		body, err = a.s.RequestRaw(http.MethodPost, endpoint, ct, mp, endpoint, 0, discordgo.WithContext(ctx))
	} else {
		body, err = a.s.RequestWithBucketID(http.MethodPost, endpoint, payload, endpoint, discordgo.WithContext(ctx))
	}
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("discord: read the created message: %w", err)
	}
	return &m, nil
}

// PostCard posts a case's card in channel and starts its thread, now, so it
// is there when staff look; if that fails, PostEntry starts it.
func (a *Adapter) PostCard(ctx context.Context, channel string, card chat.Card, key string) (chat.MessageRef, error) {
	m, err := a.send(ctx, channel, CardMessage(card), key)
	if err != nil {
		return chat.MessageRef{}, a.failed(channel, fixLineChannel, err)
	}
	if err := a.startThread(ctx, channel, m.ID, card); err != nil {
		a.log.Warn("discord: card thread not started yet", "case_id", card.CaseID, "error", err)
	}
	return chat.MessageRef{Channel: channel, ID: m.ID}, nil
}

// UpdateCard edits a posted card in place.
func (a *Adapter) UpdateCard(ctx context.Context, at chat.MessageRef, card chat.Card) error {
	msg := CardMessage(card)
	content := ""
	return a.edit(ctx, "card", &discordgo.MessageEdit{
		ID: at.ID, Channel: at.Channel,
		Content: &content, Embeds: &msg.Embeds, Components: &msg.Components, AllowedMentions: msg.AllowedMentions,
	})
}

// UpdateEntry replaces a thread entry's words in place; at.Channel is the
// card's thread.
func (a *Adapter) UpdateEntry(ctx context.Context, at chat.MessageRef, e chat.Entry) error {
	msg := EntryMessage(e)
	return a.edit(ctx, "entry", &discordgo.MessageEdit{ID: at.ID, Channel: at.Channel, Content: &msg.Content, AllowedMentions: msg.AllowedMentions})
}

// edit edits a message the bot posted (what names it in errors):
// ErrMessageGone when someone deleted it.
func (a *Adapter) edit(ctx context.Context, what string, m *discordgo.MessageEdit) error {
	_, err := a.s.ChannelMessageEditComplex(m, discordgo.WithContext(ctx))
	if hasCode(err, discordgo.ErrCodeUnknownMessage) {
		return fmt.Errorf("discord: edit %s: %w", what, chat.ErrMessageGone)
	}
	if err != nil {
		return a.failed(m.Channel, fixLineChannel, err)
	}
	return nil
}

// Find looks through the channel's messages since since for the post
// named key, by its marker: the nonce dedupes for a few minutes only, and
// a re-run may come later (after an outage, a long backoff). The read is
// shared with the channel's other searches (chat.HistoryReads).
func (a *Adapter) Find(ctx context.Context, channel, key string, since time.Time) (chat.MessageRef, bool, error) {
	m, ok, err := a.history.Find(ctx, channel, since, func(m *discordgo.Message) bool { return marked(m, key) },
		func(ctx context.Context, since time.Time, each func(*discordgo.Message) bool) error {
			after := snowflakeAt(since)
			for {
				// With after, Discord answers the messages just after it, newest first.
				ms, err := a.s.ChannelMessages(channel, 100, "", after, "", discordgo.WithContext(ctx))
				if hasCode(err, discordgo.ErrCodeUnknownChannel) {
					return nil // a thread never started holds no post
				}
				if noAccess(err) {
					// A channel the bot cannot see: the post fails the same way and
					// says what to fix. (Without Read Message History Discord answers
					// no messages: the nonce is then all that dedupes.)
					return nil
				}
				if err != nil {
					return a.failed(channel, fixChannel, err)
				}
				for _, m := range ms {
					if each(m) {
						return nil
					}
				}
				if len(ms) < 100 {
					return nil
				}
				after = ms[0].ID
			}
		})
	if err != nil || !ok {
		return chat.MessageRef{}, false, err
	}
	return chat.MessageRef{Channel: channel, ID: m.ID}, true, nil
}

// FindEntry looks in the card's thread, whose id is the card's.
func (a *Adapter) FindEntry(ctx context.Context, card chat.MessageRef, key string, since time.Time) (chat.MessageRef, bool, error) {
	return a.Find(ctx, card.ID, key, since)
}

// PostEntry posts a timeline entry in the card's thread, whose id is the
// card message's id.
func (a *Adapter) PostEntry(ctx context.Context, card chat.MessageRef, e chat.Entry, key string) (chat.MessageRef, error) {
	msg := EntryMessage(e)
	m, err := a.send(ctx, card.ID, msg, key)
	if hasCode(err, discordgo.ErrCodeUnknownChannel) {
		// The card is there but its thread is not (its start failed).
		c, cerr := a.bot.Card(ctx, e.CaseID)
		if cerr != nil {
			return chat.MessageRef{}, cerr
		}
		if terr := a.startThread(ctx, card.Channel, card.ID, c); terr != nil {
			return chat.MessageRef{}, a.failed(card.Channel, fixLineChannel, terr)
		}
		m, err = a.send(ctx, card.ID, msg, key)
	}
	if err != nil {
		return chat.MessageRef{}, a.failed(card.Channel, fixLineChannel, err)
	}
	return chat.MessageRef{Channel: card.ID, ID: m.ID}, nil
}

// startThread starts the card's thread. Its id is the card message's id,
// which is how entries find it.
func (a *Adapter) startThread(ctx context.Context, channel, messageID string, card chat.Card) error {
	name := clip(card.Ref+" · "+card.Caller.Label(), 100)
	_, err := a.s.MessageThreadStartComplex(channel, messageID, &discordgo.ThreadStart{
		Name: name, AutoArchiveDuration: 10080, // a week: the longest Discord offers
	}, discordgo.WithContext(ctx))
	if err != nil && !hasCode(err, discordgo.ErrCodeThreadAlreadyCreatedForThisMessage) {
		return fmt.Errorf("discord: start thread: %w", err)
	}
	return nil
}

// recipients are the Discord users a notice goes to. A notice to a Discord
// id goes to that person. The bot addresses manager alerts to each
// configured manager, who are Slack users: the one to the first of them
// stands for "the managers", and goes to every Discord manager not already
// among them, so each gets it once. Other notices (a Slack owner's
// reminder) are not Discord's to send.
func (a *Adapter) recipients(n chat.Notice) []string {
	if IsSnowflake(n.User) {
		return []string{n.User}
	}
	cfg := a.bot.Config().Managers
	if len(cfg) == 0 || n.User != cfg[0] {
		return nil
	}
	var out []string
	for _, m := range a.managers {
		if !slices.Contains(cfg, m) {
			out = append(out, m)
		}
	}
	return out
}

// DMChannels opens the DM channel of each person a notice goes to.
func (a *Adapter) DMChannels(ctx context.Context, n chat.Notice) ([]string, error) {
	var out []string
	for _, u := range a.recipients(n) {
		ch, err := a.s.UserChannelCreate(u, discordgo.WithContext(ctx))
		if err != nil {
			return nil, a.failed("", "", err)
		}
		out = append(out, ch.ID)
	}
	return out, nil
}

// DM sends a direct message (reminders, alerts) in a DM channel, linked to
// the case's card.
func (a *Adapter) DM(ctx context.Context, channel string, n chat.Notice, card chat.MessageRef, key string) (chat.MessageRef, error) {
	m, err := a.send(ctx, channel, NoticeMessage(n, a.CardLink(card.Channel, card.ID)), key)
	if err != nil {
		if hasCode(err, discordgo.ErrCodeCannotSendMessagesToThisUser) {
			a.log.Info("discord: a user does not accept DMs from the bot", "channel", channel)
		}
		return chat.MessageRef{}, a.failed("", "", err)
	}
	return chat.MessageRef{Channel: channel, ID: m.ID}, nil
}

// PostChannel maps a post's channel, which the bot takes from ringback.yaml
// (Slack ids), to Discord's: the digest channel to the Discord digest
// channel, a line's channel to the line's Discord channel. A Discord
// channel the adapter knows passes as it is; anything else is not
// Discord's to post ("").
func (a *Adapter) PostChannel(p chat.Post) string {
	if p.Channel == "" {
		return ""
	}
	if p.Channel == a.digest {
		return p.Channel
	}
	for _, ch := range a.channels {
		if ch == p.Channel {
			return p.Channel
		}
	}
	cfg := a.bot.Config()
	if p.Channel == cfg.Digest.Channel {
		return a.digest
	}
	for _, l := range cfg.Lines {
		if l.Channel == p.Channel {
			return a.channels[l.Number]
		}
	}
	return ""
}

// Post posts a message to a channel (queue checks, manager alerts).
func (a *Adapter) Post(ctx context.Context, channel string, p chat.Post, key string) (chat.MessageRef, error) {
	if p.Handover != nil {
		return a.sendIn(ctx, channel, HandoverMessage(*p.Handover), key)
	}
	return a.sendIn(ctx, channel, PostMessage(p.Text), key)
}

// sendIn sends msg named key in channel, a channel people must fix when
// the bot cannot post there.
func (a *Adapter) sendIn(ctx context.Context, channel string, msg *discordgo.MessageSend, key string) (chat.MessageRef, error) {
	m, err := a.send(ctx, channel, msg, key)
	if err != nil {
		return chat.MessageRef{}, a.failed(channel, fixChannel, err)
	}
	return chat.MessageRef{Channel: channel, ID: m.ID}, nil
}

// DigestChannel is the Discord digest channel; the digest's thread (the
// tables, the CSV) follows its post.
func (a *Adapter) DigestChannel() (string, bool) { return a.digest, true }

// PostDigest posts the digest in the digest channel, its chart attached and
// shown in the embed.
func (a *Adapter) PostDigest(ctx context.Context, channel string, _ chat.DigestJob, d chat.Digest, key string) (chat.MessageRef, error) {
	msg := DigestMessage(d, a.CardLink, "")
	if img, err := charts.DigestPNG(d); err != nil {
		a.log.Warn("discord: digest chart not drawn; posting without it", "error", err)
	} else {
		name := d.FileName() + ".png"
		msg = DigestMessage(d, a.CardLink, name)
		msg.Files = []*discordgo.File{{Name: name, ContentType: "image/png", Reader: bytes.NewReader(img)}}
	}
	return a.sendIn(ctx, channel, msg, key)
}

// PostDigestThread starts the digest post's thread and posts every table
// there, with the CSV attached.
func (a *Adapter) PostDigestThread(ctx context.Context, top chat.MessageRef, d chat.Digest, key string) (chat.MessageRef, error) {
	data, err := d.CSV()
	if err != nil {
		return chat.MessageRef{}, chat.Permanent(err)
	}
	_, err = a.s.MessageThreadStartComplex(top.Channel, top.ID, &discordgo.ThreadStart{
		Name: clip(d.Title(), 100), AutoArchiveDuration: 10080,
	}, discordgo.WithContext(ctx))
	if err != nil && !hasCode(err, discordgo.ErrCodeThreadAlreadyCreatedForThisMessage) {
		return chat.MessageRef{}, a.failed(top.Channel, fixChannel, fmt.Errorf("discord: start the digest's thread: %w", err))
	}
	msg := DigestThreadMessage(d)
	msg.Files = []*discordgo.File{{Name: d.FileName() + ".csv", ContentType: "text/csv", Reader: bytes.NewReader(data)}}
	return a.sendIn(ctx, top.ID, msg, key) // a thread's id is its message's
}

// FindDigestThread looks in the digest post's thread for the post named
// key; a thread not started yet has none.
func (a *Adapter) FindDigestThread(ctx context.Context, top chat.MessageRef, _ chat.Digest, key string, since time.Time) (chat.MessageRef, bool, error) {
	ref, found, err := a.Find(ctx, top.ID, key, since)
	if hasCode(err, discordgo.ErrCodeUnknownChannel) {
		return chat.MessageRef{}, false, nil
	}
	return ref, found, err
}
