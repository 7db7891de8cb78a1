package slack

import (
	"strings"

	"ringback/bot"
)

// Mrkdwn writes a neutral text in Slack's mrkdwn. Every span's words are
// escaped (Slack reads only &, < and > as controls), so neither a caller
// nor a configured name can form a mention; mentions, links and dates are
// written by Ringback alone.
func Mrkdwn(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case bot.SpanStrong:
			b.WriteString("*" + Escape(s.Text) + "*")
		case bot.SpanEmphasis:
			b.WriteString("_" + Escape(s.Text) + "_")
		case bot.SpanCode:
			b.WriteString("`" + codeText(s.Text) + "`")
		case bot.SpanQuote:
			b.WriteString(quote(s.Text))
		case bot.SpanLink:
			if s.Text == "" {
				b.WriteString("<" + Escape(s.URL) + ">")
			} else {
				b.WriteString("<" + Escape(s.URL) + "|" + strings.ReplaceAll(Escape(s.Text), "|", "¦") + ">")
			}
		case bot.SpanUser:
			b.WriteString(userMention(s.Text, ""))
		case bot.SpanBroadcast:
			b.WriteString(notify(s.Text))
		case bot.SpanCommand:
			b.WriteString("`" + codeText(strings.TrimSpace("/callbacks "+s.Text)) + "`")
		case bot.SpanTime:
			if s.Use == bot.TimeWhen {
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
