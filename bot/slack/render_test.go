package slack_test

import (
	"encoding/json"
	"ringback/bot/internal/golden"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"ringback/bot"
	"ringback/bot/chat"
	rbslack "ringback/bot/slack"
	"ringback/templates"
)

var (
	first  = time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	now    = first.Add(20 * time.Minute)
	dueAt  = first.Add(15 * time.Minute)
	closed = first.Add(45 * time.Minute)
	twelve = 12 * time.Minute
)

func baseCard() bot.Card {
	return bot.Card{
		CaseID: 42, Ref: "#42", State: "open", Line: "Lettings", LineNumber: "+441632960001", Channel: "C0LETTINGS",
		FirstCall: first, Calls: 1, Origin: "call", TextBack: "delivered",
		Caller:  bot.Caller{Number: "07700 900123", E164: "+447700900123", Name: "Jane Smith", Kind: "tenant", Property: "14 Elm Street", Unit: "Flat 2"},
		Actions: []string{bot.ActionClaim, bot.ActionReply, bot.ActionLog, bot.ActionClose, bot.ActionSpam, bot.ActionReassign}, Now: now,
	}
}

func cards() map[string]bot.Card {
	open := baseCard()

	claimed := baseCard()
	claimed.State, claimed.Owner = "claimed", "U0ALICE"
	claimed.Category, claimed.CategoryLabel, claimed.DueAt = "maintenance", "Maintenance", &dueAt
	claimed.CallerReplied = true
	claimed.Actions = []string{bot.ActionRelease, bot.ActionReply, bot.ActionLog, bot.ActionClose, bot.ActionSpam, bot.ActionReassign}

	overdue := claimed
	overdue.Overdue, overdue.EscalationLevel = true, 2

	urgent := baseCard()
	urgent.Urgent, urgent.Category, urgent.CategoryLabel = true, "urgent", "Urgent safety"
	urgent.Calls, urgent.LastCall = 3, &now
	urgent.VoicemailURL = "https://api.twilio.com/rec/RE1"
	urgent.Transcript = "There's water coming through the ceiling <!channel> & it's sparking"
	urgent.AfterHours = true

	withheld := baseCard()
	withheld.Caller = bot.Caller{Withheld: true}
	withheld.TextBack = "not sent: number withheld"
	withheld.Actions = []string{bot.ActionClaim, bot.ActionLog, bot.ActionClose}

	textedIn := baseCard()
	textedIn.Origin, textedIn.Calls, textedIn.TextBack = "sms", 0, "not sent: the caller texted in"
	textedIn.Caller = bot.Caller{Number: "07700 900124", E164: "+447700900124"}

	done := claimed
	done.State, done.Outcome, done.ClosedBy, done.ClosedAt = "closed", "booked", "U0ALICE", &closed
	done.CloseNote = "Viewing booked for Thursday 2pm <@U0BOSS>"
	done.FirstContact = &twelve
	done.Actions = []string{bot.ActionReopen}

	possibleOptOut := textedIn
	possibleOptOut.PossibleOptOut = "wrong number, who is this? <!channel>"
	possibleOptOut.Actions = append([]string{bot.ActionOptOut, bot.ActionNotOptOut}, baseCard().Actions...)

	// The category select, the case's category chosen; the line was
	// closed, so its clock started at the next opening.
	category := claimed
	category.Actions = append(append([]string{}, claimed.Actions...), bot.ActionCategory)
	category.Categories = []bot.CategoryOption{{Key: "viewing", Label: "Viewing / lettings"}, {Key: "maintenance", Label: "Maintenance"}, {Key: "urgent", Label: "Urgent safety"}}
	opens := first.Add(23 * time.Hour) // 09:00 the next day
	due := opens.Add(15 * time.Minute)
	category.Opens, category.DueAt = &opens, &due

	// The caller picked a callback slot on the callback page; their note
	// is their own words.
	callback := claimed
	callback.Callback = &bot.CallbackRequest{Slot: time.Date(2026, 11, 17, 14, 30, 0, 0, time.UTC), Category: "Maintenance", Note: "leaking tap under sink <!channel> *now*"}

	return map[string]bot.Card{
		"card_callback": callback,
		"card_category": category,
		"card_open":     open, "card_claimed": claimed, "card_overdue": overdue, "card_urgent": urgent,
		"card_withheld": withheld, "card_texted_in": textedIn, "card_closed": done, "card_possible_optout": possibleOptOut,
	}
}

func TestCardGoldenFiles(t *testing.T) {
	for name, k := range cards() {
		t.Run(name, func(t *testing.T) {
			raw := golden.Check(t, name, slack.Blocks{BlockSet: rbslack.CardBlocks(k)})
			checkLimits(t, raw)
		})
	}
}

func TestModalGoldenFiles(t *testing.T) {
	k := cards()["card_claimed"]
	choices := []bot.TemplateChoice{
		{Key: "maintenance_ack", Label: "Repair request received", Category: "Maintenance", Text: "Hi {{caller_name|there}}, {{agent}} from {{business}} has your repair request (ref {{case_number}}).",
			Preview: "Hi Jane, Alice from Northside Lettings has your repair request (ref #42).", Segments: templates.Segments("Hi Jane, Alice from Northside Lettings has your repair request (ref #42).")},
		{Key: "callback_missed", Label: "We tried to call back", Category: bot.AnyCategory, Preview: "Sorry we missed you, Alice tried to call you back from Northside Lettings. Reply with a good time or call us on [callback number].",
			Missing: []string{"callback_number"}, Segments: templates.Segments("Sorry we missed you"),
			Blocked: "Ringback does not know the callback number for this caller, and the template has no fallback ({{callback_number|…}})"},
	}
	optedOut := slices.Clone(choices)
	for i := range optedOut {
		optedOut[i].Blocked = "the caller opted out of texts"
	}
	views := map[string]slack.ModalViewRequest{
		"modal_reply":           rbslack.ReplyModal(k, choices, "", bot.ReplyTiming{}),
		"modal_reply_selected":  rbslack.ReplyModal(k, choices, "maintenance_ack", bot.ReplyTiming{}),
		"modal_reply_missing":   rbslack.ReplyModal(k, choices, "callback_missed", bot.ReplyTiming{}),
		"modal_reply_quiet":     rbslack.ReplyModal(k, choices, "maintenance_ack", golden.QuietTiming()),
		"modal_reply_opted_out": rbslack.ReplyModal(k, optedOut, "maintenance_ack", golden.QuietTiming()),
		"modal_log_callback":    rbslack.LogModal(k),
		"modal_close":           rbslack.CloseModal(k),
	}
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			raw := golden.Check(t, name, v)
			checkLimits(t, raw)
		})
	}
}

func TestQueueGoldenFile(t *testing.T) {
	v := bot.QueueView{Title: "Open callbacks", Total: 30, Items: []bot.QueueItem{
		{CaseID: 41, Ref: "#41", Age: 3 * time.Hour, Line: "Lettings", Category: "Viewing / lettings", Caller: "Jane Smith", CallerReplied: true, Overdue: true, CardChannel: "C0LETTINGS", CardMessage: "1763287200.000100"},
		{CaseID: 42, Ref: "#42", Age: 25 * time.Minute, Line: "Maintenance", Owner: "U0ALICE", Caller: "07700 900124 <!here>", Urgent: true},
	}}
	raw := golden.Check(t, "queue", slack.Blocks{BlockSet: rbslack.QueueBlocks(v, func(ch, ts string) string {
		return "https://northside.slack.com/archives/" + ch + "/p" + strings.ReplaceAll(ts, ".", "")
	})})
	checkLimits(t, raw)
	if strings.Contains(string(raw), "<!here>") {
		t.Fatal("a caller's text reached Slack unescaped")
	}
}

func TestOutsideTextIsEscaped(t *testing.T) {
	k := cards()["card_urgent"]
	k.Caller.Name = "<!channel> Bob & <@U123>"
	k.AutoTriaged = &chat.AutoTriage{Phrase: "gas <!here>", Source: "voicemail"}
	raw := golden.JSON(t, slack.Blocks{BlockSet: rbslack.CardBlocks(k)})
	if !strings.Contains(string(raw), "auto-triaged: 'gas &lt;!here&gt;' in voicemail") {
		t.Errorf("card lacks why it was auto-triaged: %s", raw)
	}
	for _, bad := range []string{"<!channel>", "<@U123>", "<!here>"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("card contains %s unescaped: %s", bad, raw)
		}
	}
	e := rbslack.EntryText(bot.Entry{Kind: bot.EntrySMSIn, Text: bot.Plain("Caller texted"), Quote: "hi <!everyone> <https://evil|click>"})
	if strings.Contains(e, "<!everyone>") || strings.Contains(e, "<https://evil|click>") {
		t.Fatalf("thread entry not escaped: %s", e)
	}
	if !strings.Contains(e, "&lt;!everyone&gt;") {
		t.Fatalf("thread entry lost the text: %s", e)
	}
}

// checkLimits holds rendered JSON to Block Kit's limits.
func checkLimits(t *testing.T, raw []byte) {
	t.Helper()
	var doc any
	json.Unmarshal(raw, &doc)
	blocks := findBlocks(doc)
	if len(blocks) > 50 {
		t.Errorf("%d blocks, limit 50", len(blocks))
	}
	for _, b := range blocks {
		switch b["type"] {
		case "section":
			if txt, ok := b["text"].(map[string]any); ok && utf8.RuneCountInString(txt["text"].(string)) > 3000 {
				t.Errorf("section text over 3000 characters")
			}
			if f, ok := b["fields"].([]any); ok && len(f) > 10 {
				t.Errorf("section with %d fields, limit 10", len(f))
			}
		case "header":
			if n := utf8.RuneCountInString(b["text"].(map[string]any)["text"].(string)); n > 150 {
				t.Errorf("header %d characters, limit 150", n)
			}
		case "actions":
			els := b["elements"].([]any)
			if len(els) > 25 {
				t.Errorf("actions block with %d elements, limit 25", len(els))
			}
			for _, e := range els {
				el := e.(map[string]any)
				if id, _ := el["action_id"].(string); len(id) > 255 {
					t.Errorf("action_id %d characters", len(id))
				}
				if el["type"] == "button" {
					if n := utf8.RuneCountInString(el["text"].(map[string]any)["text"].(string)); n > 75 {
						t.Errorf("button text %d characters, limit 75", n)
					}
				}
			}
		}
		if id, _ := b["block_id"].(string); len(id) > 255 {
			t.Errorf("block_id over 255")
		}
	}
}

func findBlocks(v any) []map[string]any {
	switch x := v.(type) {
	case []any:
		var out []map[string]any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				if _, ok := m["type"]; ok {
					out = append(out, m)
				}
			}
		}
		return out
	case map[string]any:
		if b, ok := x["blocks"]; ok {
			return findBlocks(b)
		}
	}
	return nil
}

func TestReminderMentionsWhoIsOnDuty(t *testing.T) {
	for mention, want := range map[string]string{
		"channel":    "<!channel> ",
		"here":       "<!here> ",
		"U0ONDUTY":   "<@U0ONDUTY> ",
		"S0LETTINGS": "<!subteam^S0LETTINGS> ",
		"":           "⏰",
	} {
		got := rbslack.EntryText(bot.Entry{Kind: bot.EntryReminder, Text: bot.Plain("⏰ #42 still unclaimed after 10 min. Who can take it?"), Mention: mention})
		if !strings.HasPrefix(got, want) {
			t.Errorf("mention %q: %q, want it to start with %q", mention, got, want)
		}
	}
}

// A voicemail URL comes from the phone system: only a plain web link is
// shown, labelled by Ringback.
func TestVoicemailLinkIsOnlyAWebLinkWithOurLabel(t *testing.T) {
	for _, u := range []string{"!channel", "https://evil|Download voicemail (secure)", "javascript:alert(1)", "https://x.example/a>b|Open"} {
		k := baseCard()
		k.VoicemailURL = u
		raw, err := json.Marshal(slack.Blocks{BlockSet: rbslack.CardBlocks(k)})
		if err != nil {
			t.Fatal(err)
		}
		s := string(raw)
		for _, bad := range []string{"\\u003c!channel", "Download voicemail", "javascript", "|listen", "Open"} {
			if strings.Contains(s, bad) {
				t.Errorf("voicemail_url %q: card carries %q: %s", u, bad, s)
			}
		}
	}
}

// The shift handover: counts, open cases urgent and overdue first, closed
// cases with outcomes, each with its latest note.
func TestHandoverGoldenFile(t *testing.T) {
	raw := golden.Check(t, "handover", slack.Blocks{BlockSet: rbslack.HandoverBlocks(golden.Handover())})
	checkLimits(t, raw)
	for _, bad := range []string{"<!channel>", "<!here>"} {
		if strings.Contains(string(raw), bad) {
			t.Fatalf("a note reached Slack unescaped: %s", bad)
		}
	}
}
