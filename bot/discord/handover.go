package discord

import (
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"ringback/bot/chat"
)

// HandoverMessage lays out a shift handover as an embed: the counts as its
// title, then the open cases (urgent and overdue first) and the cases
// closed since the last check, one line each with its latest note.
// Mentions are never parsed, so naming owners pings nobody.
func HandoverMessage(h chat.Handover) *discordgo.MessageSend {
	summary, _ := Markdown(h.Summary())
	var b strings.Builder
	list := func(heading string, lines []chat.Text, more func(int) string) {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("**" + heading + "**")
		start, shown := utf8.RuneCountInString(b.String()), 0
		for _, l := range lines {
			line, _ := Markdown(l)
			// Leave room in the embed's 4,096 for the other list.
			if utf8.RuneCountInString(b.String())-start+utf8.RuneCountInString(line) > 1900 {
				break
			}
			b.WriteString("\n• " + line)
			shown++
		}
		if m := more(shown); m != "" {
			b.WriteString("\n" + m)
		}
	}
	list(h.OpenHeading(), h.OpenLines(), h.MoreOpen)
	if h.ClosedTotal > 0 {
		list(h.ClosedHeading(), h.ClosedLines(), h.MoreClosed)
	}
	colour := colourInfo
	if h.Urgent > 0 || h.Overdue > 0 {
		colour = ColourOverdue
	}
	return &discordgo.MessageSend{
		Content:         clip(summary, 2000),
		Embeds:          []*discordgo.MessageEmbed{{Type: discordgo.EmbedTypeRich, Description: clip(b.String(), 4096), Color: colour}},
		AllowedMentions: mentions(),
	}
}
