package discord_test

import (
	"testing"
	"time"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	"ringback/bot/discord/discordstandin"
	"ringback/bot/internal/golden"
)

// The quiet surfaces: the card's one escalation line, the thread entry
// each step edits in place, the managers' one message per interval.
func TestQuietGoldenFiles(t *testing.T) {
	k := cards()["card_claimed"]
	k.EscalationLevel, k.Escalation = 2, "no contact with the caller yet, owner reminded at 10:30"
	noProblems(t, discordstandin.MessageProblems(golden.Check(t, "card_escalated", rbdiscord.CardMessage(k))))

	e := bot.Entry{CaseID: 42, Kind: bot.EntryReminder, Key: "escalation:42:0", Edit: true, Mention: "here",
		Text: bot.Plain("⏰ #42 still unclaimed after 10 min. Who can take it? (escalation level 1)")}
	noProblems(t, discordstandin.MessageProblems(golden.Check(t, "entry_escalation", rbdiscord.EntryMessage(e))))

	n := bot.Notice{User: alice, Text: bot.RoundUpText([]bot.RoundUpItem{
		{Ref: "#51", Line: "Maintenance", Category: "Urgent safety", Urgent: true, Age: 25 * time.Minute},
		{Ref: "#42", Line: "Lettings", Category: "Viewing / lettings", Owner: alice, Age: 2*time.Hour + 31*time.Minute},
		{Ref: "#47", Line: "Lettings & <Sales>", Age: 2 * time.Hour},
	})}
	noProblems(t, discordstandin.MessageProblems(golden.Check(t, "notice_roundup", rbdiscord.NoticeMessage(n, ""))))
}
