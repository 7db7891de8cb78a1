package slack

import (
	"strings"

	"ringback/bot/chat"
)

// Mrkdwn writes a neutral text in Slack's mrkdwn. Every span's words are
// escaped (Slack reads only &, < and > as controls), so neither a caller
// nor a configured name can form a mention; mentions, links and dates are
// written by Ringback alone.
func Mrkdwn(t chat.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case chat.SpanStrong:
			b.WriteString("*" + Escape(s.Text) + "*")
		case chat.SpanEmphasis:
			b.WriteString("_" + Escape(s.Text) + "_")
		case chat.SpanCode:
			b.WriteString("`" + codeText(s.Text) + "`")
		case chat.SpanQuote:
			b.WriteString(quote(s.Text))
		case chat.SpanLink:
			u := chat.SafeURL(s.URL)
			switch {
			case u == "":
				b.WriteString(Escape(s.Text)) // the label alone, never the target
			case s.Text == "":
				b.WriteString("<" + Escape(u) + ">")
			default:
				b.WriteString("<" + Escape(u) + "|" + strings.ReplaceAll(Escape(s.Text), "|", "¦") + ">")
			}
		case chat.SpanUser:
			b.WriteString(userMention(s.Text, ""))
		case chat.SpanBroadcast:
			b.WriteString(notify(s.Text))
		case chat.SpanCommand:
			b.WriteString("`" + codeText(strings.TrimSpace("/callbacks "+s.Text)) + "`")
		case chat.SpanTime:
			if s.Use == chat.TimeWhen {
				b.WriteString(date(s.At, "{date_short_pretty} {time}"))
			} else {
				b.WriteString(date(s.At, "{time}"))
			}
		default:
			b.WriteString(Escape(s.Text))
		}
	}
	return b.String()
}

// codeText keeps a backtick from closing inline code early.
func codeText(s string) string { return strings.ReplaceAll(Escape(s), "`", "ˋ") }
