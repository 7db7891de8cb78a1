package bot

import (
	"strings"
)

// chatNames names the chat platforms the business uses, for texts that
// send people there ("Open Slack to take it"): "Slack", "Slack or
// Discord"; "the chat" when there is none.
func (b *Bot) chatNames() string {
	var names []string
	for _, c := range b.chats {
		if c != "" {
			names = append(names, strings.ToUpper(c[:1])+c[1:])
		}
	}
	if len(names) == 0 {
		return "the chat"
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
