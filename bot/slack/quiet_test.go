package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot"
	"ringback/bot/internal/golden"
	rbslack "ringback/bot/slack"
)

// roundUp is a managers' round-up of three cases, urgent first.
func roundUp() bot.Notice {
	return bot.Notice{User: "U0MANAGER1", Text: bot.RoundUpText([]bot.RoundUpItem{
		{Ref: "#51", Line: "Maintenance", Category: "Urgent safety", Urgent: true, Age: 25 * time.Minute},
		{Ref: "#42", Line: "Lettings", Category: "Viewing / lettings", Owner: "U0ALICE", Age: 2*time.Hour + 31*time.Minute},
		{Ref: "#47", Line: "Lettings & <Sales>", Age: 2 * time.Hour},
	})}
}

// The quiet surfaces: the card's one escalation line, the thread entry
// each step edits in place, the managers' one message per interval.
func TestQuietGoldenFiles(t *testing.T) {
	k := cards()["card_claimed"]
	k.EscalationLevel, k.Escalation = 2, "no contact with the caller yet, owner reminded at 10:30"
	checkLimits(t, golden.Check(t, "card_escalated", slack.Blocks{BlockSet: rbslack.CardBlocks(k)}))

	e := bot.Entry{CaseID: 42, Kind: bot.EntryReminder, Key: "escalation:42:0", Edit: true, Mention: "here",
		Text: bot.Plain("⏰ #42 still unclaimed after 10 min. Who can take it? (escalation level 1)")}
	golden.Check(t, "entry_escalation", map[string]string{"text": rbslack.EntryText(e)})

	golden.Check(t, "notice_roundup", slack.Blocks{BlockSet: rbslack.NoticeBlocks(roundUp(), "")})
}

// Nobody is mentioned for their own action: the entry names them.
func TestEntryNamesTheActorWithoutAMention(t *testing.T) {
	got := rbslack.EntryText(bot.Entry{Kind: bot.EntryClaimed, Actor: "U0ALICE", ActorName: "Alice *Jones*", Text: bot.Plain("claimed the case")})
	if strings.Contains(got, "<@U0ALICE>") || !strings.HasPrefix(got, "*Alice ") || !strings.Contains(got, "claimed the case") {
		t.Fatalf("entry = %q", got)
	}
	// Entries queued before names were kept still show the mention.
	if got := rbslack.EntryText(bot.Entry{Kind: bot.EntryClaimed, Actor: "U0ALICE", Text: bot.Plain("claimed the case")}); !strings.HasPrefix(got, "<@U0ALICE>") {
		t.Fatalf("legacy entry = %q", got)
	}
}
