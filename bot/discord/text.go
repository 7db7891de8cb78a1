package discord

import (
	"strings"

	"ringback/bot/chat"
)

// rendered is a neutral text written for Discord, with whom it may ping.
type rendered struct {
	text     string
	users    []string // Discord users the text mentions
	everyone bool     // the text says @here
}

// Markdown writes a neutral text in Discord markdown. Text from outside is
// escaped and its mentions broken; Ringback's own words and configured
// names keep their characters but cannot form a mention. Mentions of
// Discord users are returned, so allowed_mentions can name them; another
// platform's user ids are written inert.
func Markdown(t chat.Text) (text string, mentioned []string) {
	r := markdownOf(t)
	return r.text, r.users
}

func markdownOf(t chat.Text) rendered {
	var r rendered
	var b strings.Builder
	words := func(s chat.Span) string {
		if s.Outside {
			return Escape(s.Text)
		}
		return neutralise(s.Text)
	}
	for _, s := range t {
		switch s.Kind {
		case chat.SpanStrong:
			b.WriteString("**" + words(s) + "**")
		case chat.SpanEmphasis:
			b.WriteString("*" + words(s) + "*")
		case chat.SpanCode:
			b.WriteString("`" + codeText(s.Text) + "`")
		case chat.SpanQuote:
			b.WriteString(quote(s.Text, 1500))
		case chat.SpanLink:
			label := words(s)
			if label == "" {
				label = neutralise(s.URL)
			}
			if u := safeURL(s.URL); u != "" {
				b.WriteString("[" + label + "](" + u + ")")
			} else {
				b.WriteString(label)
			}
		case chat.SpanUser:
			b.WriteString(user(s.Text, ""))
			if IsSnowflake(s.Text) {
				r.users = appendUnique(r.users, s.Text)
			}
		case chat.SpanBroadcast:
			// Discord has no user groups: a Slack group (a line's on_duty)
			// is stood in for by whoever is here.
			b.WriteString("@here")
			r.everyone = true
		case chat.SpanCommand:
			if s.Text == "" {
				b.WriteString("`/callbacks`")
			} else {
				b.WriteString("`/callbacks args:" + codeText(s.Text) + "`")
			}
		case chat.SpanTime:
			switch s.Use {
			case chat.TimeWhen:
				b.WriteString(stamp(s.At, "f"))
			case chat.TimeDue:
				b.WriteString(stamp(s.At, "R"))
			default:
				b.WriteString(stamp(s.At, "t"))
			}
		default:
			b.WriteString(words(s))
		}
	}
	r.text = b.String()
	return r
}

// codeText keeps a backtick from closing inline code early, and a mention
// from forming in it.
func codeText(s string) string { return neutralise(strings.ReplaceAll(s, "`", "ˋ")) }
