package discord

import "ringback/bot/chat"

// TableAction is the action of the authorisation table (bot/access.go) that
// a component's action is a step of: a picker, a preview or a confirmation
// needs the same right as the card's button it came from.
func TableAction(action string) string {
	switch action {
	case ActionReplyPick, ActionReplySend:
		return chat.ActionReply
	case ActionLogPick:
		return chat.ActionLog
	case ActionClosePick:
		return chat.ActionClose
	case ActionSpamConfirm:
		return chat.ActionSpam
	}
	return action
}
