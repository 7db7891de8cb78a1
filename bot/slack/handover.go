package slack

import (
	"github.com/slack-go/slack"

	"ringback/bot/chat"
)

// sectionRunes is under Block Kit's 3,000-character limit of a section's
// text, leaving room for escaping.
const sectionRunes = 2800

// HandoverBlocks lays out a shift handover: the counts, then the open cases
// (urgent and overdue first) and the cases closed since the last check,
// one line each with its latest note.
func HandoverBlocks(h chat.Handover) []slack.Block {
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(Mrkdwn(h.Summary())), nil, nil), slack.NewDividerBlock()}
	list := func(heading string, lines []chat.Text, more func(int) string) {
		body := "*" + Escape(heading) + "*"
		for _, l := range lines {
			line := "\n• " + Mrkdwn(l)
			if len([]rune(body))+len([]rune(line)) > sectionRunes {
				blocks = append(blocks, slack.NewSectionBlock(mrkdwn(body), nil, nil))
				body = ""
				line = line[1:]
			}
			body += line
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(body), nil, nil))
		if m := more(len(lines)); m != "" {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(Escape(m))))
		}
	}
	list(h.OpenHeading(), h.OpenLines(), h.MoreOpen)
	if h.ClosedTotal > 0 {
		list(h.ClosedHeading(), h.ClosedLines(), h.MoreClosed)
	}
	return blocks
}
