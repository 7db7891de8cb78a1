package chat

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Text is words for people in chat, in no platform's syntax: a list of
// spans that each chat renderer writes in its own (Slack mrkdwn, Discord
// markdown), escaping what must not be read as syntax. The bot builds
// texts; it never writes markup.
type Text []Span

// Span is a run of text with one meaning.
type Span struct {
	Kind SpanKind `json:"kind,omitempty"`
	// Text is the words; a link's label; a user's or group's id; the
	// arguments of a command.
	Text string    `json:"text,omitempty"`
	URL  string    `json:"url,omitempty"` // a link's target
	At   time.Time `json:"at,omitzero"`   // a time's instant
	Use  TimeUse   `json:"use,omitempty"` // what a time is for
	// Outside marks text that came from outside Ringback (a caller, an
	// imported contact): renderers make all of it inert, formatting
	// characters too. Ringback's own words and configured names are only
	// kept from forming mentions.
	Outside bool `json:"outside,omitempty"`
}

// SpanKind says what a span is.
type SpanKind string

// Span kinds.
const (
	SpanWords     SpanKind = ""          // plain words
	SpanStrong    SpanKind = "strong"    // bold
	SpanEmphasis  SpanKind = "emphasis"  // italic
	SpanCode      SpanKind = "code"      // inline code: keys, table cells
	SpanQuote     SpanKind = "quote"     // a block quote, on lines of its own
	SpanLink      SpanKind = "link"      // Text labels URL
	SpanUser      SpanKind = "user"      // a mention of user id Text
	SpanBroadcast SpanKind = "broadcast" // a mention of everyone present: "here", "channel", or a user group id
	SpanCommand   SpanKind = "command"   // /callbacks with arguments Text, as the platform has it typed
	SpanTime      SpanKind = "time"      // At, shown as Use says, in the reader's zone where the platform can
)

// TimeUse says what a time is for, so each platform can pick its format (a
// full date, a clock time, "in 5 minutes").
type TimeUse int

// Times on a card.
const (
	TimeWhen TimeUse = iota // the first missed call
	TimeDue                 // the due time
	TimeLast                // the last call
)

// Words is Ringback's own words (or a configured name).
func Words(s string) Span { return Span{Text: s} }

// Wordsf is Words with fmt's formatting.
func Wordsf(format string, args ...any) Span { return Words(fmt.Sprintf(format, args...)) }

// Strong is bold words.
func Strong(s string) Span { return Span{Kind: SpanStrong, Text: s} }

// Emphasis is italic words.
func Emphasis(s string) Span { return Span{Kind: SpanEmphasis, Text: s} }

// Code is inline code.
func Code(s string) Span { return Span{Kind: SpanCode, Text: s} }

// Quote is a block quote.
func Quote(s string) Span { return Span{Kind: SpanQuote, Text: s} }

// Link is label linking to url.
func Link(url, label string) Span { return Span{Kind: SpanLink, Text: label, URL: url} }

// User mentions a user.
func User(id string) Span { return Span{Kind: SpanUser, Text: id} }

// Broadcast mentions everyone present: "here", "channel", or a user group.
func Broadcast(who string) Span { return Span{Kind: SpanBroadcast, Text: who} }

// Command is /callbacks with args, as a person types it on the platform.
func Command(args string) Span { return Span{Kind: SpanCommand, Text: args} }

// At is a time, formatted for its use.
func At(t time.Time, use TimeUse) Span { return Span{Kind: SpanTime, At: t, Use: use} }

// Outside marks s as text from outside Ringback.
func Outside(s Span) Span {
	s.Outside = true
	return s
}

// Said is text from outside Ringback, as plain words.
func Said(s string) Span { return Outside(Words(s)) }

// Plain is a text of words alone.
func Plain(s string) Text {
	if s == "" {
		return nil
	}
	return Text{Words(s)}
}

// Plainf is Plain with fmt's formatting.
func Plainf(format string, args ...any) Text { return Plain(fmt.Sprintf(format, args...)) }

// Append adds spans.
func (t Text) Append(s ...Span) Text { return append(t, s...) }

// Join joins texts with sep between them.
func Join(ts []Text, sep string) Text {
	var out Text
	for i, t := range ts {
		if i > 0 && sep != "" {
			out = append(out, Words(sep))
		}
		out = append(out, t...)
	}
	return out
}

// String is the text without any markup, for places that show none (a
// notification's plain text, a header, a test's assertion).
func (t Text) String() string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case SpanUser, SpanBroadcast:
			b.WriteString("@" + s.Text)
		case SpanCommand:
			b.WriteString(strings.TrimSpace("/callbacks " + s.Text))
		case SpanTime:
			b.WriteString(s.At.UTC().Format("2006-01-02 15:04 UTC"))
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Users lists the users the text mentions, each once, in order.
func (t Text) Users() []string {
	var out []string
	for _, s := range t {
		if s.Kind == SpanUser && s.Text != "" && !contains(out, s.Text) {
			out = append(out, s.Text)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// UnmarshalJSON reads a text, or a plain JSON string: outbox rows queued
// before texts were neutral carry Slack mrkdwn, whose few constructs the
// bot wrote (<@U…>, <!here>, *bold*, &amp; &lt; &gt;) are read back.
func (t *Text) UnmarshalJSON(raw []byte) error {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("bot: text: %w", err)
		}
		*t = legacyText(s)
		return nil
	}
	var spans []Span
	if err := json.Unmarshal(raw, &spans); err != nil {
		return fmt.Errorf("bot: text: %w", err)
	}
	*t = spans
	return nil
}

var (
	legacyMarkup   = regexp.MustCompile(`<@([A-Za-z0-9]+)>|<!(here|channel)>|<!subteam\^([A-Za-z0-9]+)>|\*([^*\n]+)\*`)
	legacyEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// legacyText reads the mrkdwn the bot used to write.
func legacyText(s string) Text {
	var t Text
	words := func(w string) {
		if w != "" {
			t = append(t, Words(legacyEntities.Replace(w)))
		}
	}
	last := 0
	for _, m := range legacyMarkup.FindAllStringSubmatchIndex(s, -1) {
		words(s[last:m[0]])
		switch {
		case m[2] >= 0:
			t = append(t, User(s[m[2]:m[3]]))
		case m[4] >= 0:
			t = append(t, Broadcast(s[m[4]:m[5]]))
		case m[6] >= 0:
			t = append(t, Broadcast(s[m[6]:m[7]]))
		default:
			t = append(t, Strong(legacyEntities.Replace(s[m[8]:m[9]])))
		}
		last = m[1]
	}
	words(s[last:])
	return t
}
