package discord_test

import (
	"ringback/bot/internal/golden"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	"ringback/bot/discord/discordstandin"
	"ringback/templates"
)

const (
	alice = "300000000000000001"
	boss  = "300000000000000009"
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
	claimed.State, claimed.Owner = "claimed", alice
	claimed.Category, claimed.CategoryLabel, claimed.DueAt = "maintenance", "Maintenance", &dueAt
	claimed.CallerReplied = true
	claimed.Actions = []string{bot.ActionRelease, bot.ActionReply, bot.ActionLog, bot.ActionClose, bot.ActionSpam, bot.ActionReassign}

	overdue := claimed
	overdue.Overdue, overdue.EscalationLevel = true, 2

	urgent := baseCard()
	urgent.Urgent, urgent.Category, urgent.CategoryLabel = true, "urgent", "Urgent safety"
	urgent.Calls, urgent.LastCall = 3, &now
	urgent.VoicemailURL = "https://api.twilio.com/rec/RE1"
	urgent.Transcript = "There's water coming through the ceiling @everyone <@123> & it's *sparking*"
	urgent.AfterHours = true

	withheld := baseCard()
	withheld.Caller = bot.Caller{Withheld: true}
	withheld.TextBack = "not sent: number withheld"
	withheld.Actions = []string{bot.ActionClaim, bot.ActionLog, bot.ActionClose, bot.ActionReassign}

	textedIn := baseCard()
	textedIn.Origin, textedIn.Calls, textedIn.TextBack = "sms", 0, "not sent: the caller texted in"
	textedIn.Caller = bot.Caller{Number: "07700 900124", E164: "+447700900124"}

	done := claimed
	done.State, done.Outcome, done.ClosedBy, done.ClosedAt = "closed", "booked", alice, &closed
	done.CloseNote = "Viewing booked for Thursday 2pm <@" + boss + "> @here"
	done.FirstContact = &twelve
	done.Actions = []string{bot.ActionReopen}

	possibleOptOut := textedIn
	possibleOptOut.PossibleOptOut = "wrong number, who is this? @everyone *now*"
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

func noProblems(t *testing.T, probs []string) {
	t.Helper()
	for _, p := range probs {
		t.Error("over Discord's limits: " + p)
	}
}

func TestCardGoldenFiles(t *testing.T) {
	for name, k := range cards() {
		t.Run(name, func(t *testing.T) {
			raw := golden.Check(t, name, rbdiscord.CardMessage(k))
			noProblems(t, discordstandin.MessageProblems(raw))
		})
	}
}

func choices() []bot.TemplateChoice {
	ack := "Hi Jane, Alice from Northside Lettings has your repair request (ref #42)."
	return []bot.TemplateChoice{
		{Key: "maintenance_ack", Label: "Repair request received", Category: "Maintenance", Text: "Hi {{caller_name|there}}, {{agent}} from {{business}} has your repair request (ref {{case_number}}).",
			Preview: ack, Segments: templates.Segments(ack)},
		{Key: "callback_missed", Label: "We tried to call back", Category: bot.AnyCategory, Preview: "Sorry we missed you, Alice tried to call you back from Northside Lettings. Reply with a good time or call us on [callback number].",
			Missing: []string{"callback_number"}, Segments: templates.Segments("Sorry we missed you"),
			Blocked: "Ringback does not know the callback number for this caller, and the template has no fallback ({{callback_number|…}})"},
	}
}

// optedOut are choices() for a caller who opted out: none can be sent.
func optedOut() []bot.TemplateChoice {
	cs := choices()
	for i := range cs {
		cs[i].Blocked = "the caller opted out of texts"
	}
	return cs
}

func TestInteractionGoldenFiles(t *testing.T) {
	k := cards()["card_claimed"]
	messages := map[string]*discordgo.InteractionResponseData{
		"reply_picker":       rbdiscord.ReplyPicker(k, choices(), "", nil, bot.ReplyTiming{}),
		"reply_preview":      rbdiscord.ReplyPicker(k, choices(), "maintenance_ack", nil, bot.ReplyTiming{}),
		"reply_missing":      rbdiscord.ReplyPicker(k, choices(), "callback_missed", nil, bot.ReplyTiming{}),
		"reply_none":         rbdiscord.ReplyPicker(k, nil, "", nil, bot.ReplyTiming{}),
		"reply_opted_out":    rbdiscord.ReplyPicker(k, optedOut(), "maintenance_ack", nil, bot.ReplyTiming{}),
		"reply_refused":      rbdiscord.ReplyPicker(k, choices(), "maintenance_ack", bot.Plain("Not sent: the caller opted out of texts."), bot.ReplyTiming{}),
		"reply_quiet":        rbdiscord.ReplyPicker(k, choices(), "maintenance_ack", nil, golden.QuietTiming()),
		"log_picker":         rbdiscord.LogPicker(k, nil),
		"close_picker":       rbdiscord.ClosePicker(k, nil),
		"close_picker_again": rbdiscord.ClosePicker(k, bot.Plain("A note is required to close a case.")),
		"spam_confirm":       rbdiscord.SpamConfirm(k),
		"say_refusal":        rbdiscord.SayText((&bot.Refusal{Message: "Case #42 is already claimed.", Owner: alice}).Text()),
		"help":               rbdiscord.SayText(bot.Help),
	}
	for name, d := range messages {
		t.Run(name, func(t *testing.T) {
			raw := golden.Check(t, name, d)
			noProblems(t, discordstandin.MessageProblems(raw))
			noProblems(t, discordstandin.ResponseProblems(golden.JSON(t, discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: d})))
		})
	}
	modals := map[string]*discordgo.InteractionResponseData{
		"modal_log_callback": rbdiscord.LogModal(42, "left_voicemail"),
		"modal_close":        rbdiscord.CloseModal(42, "#42", "not_qualified"),
	}
	for name, d := range modals {
		t.Run(name, func(t *testing.T) {
			raw := golden.Check(t, name, d)
			noProblems(t, discordstandin.ModalProblems(raw))
		})
	}
}

func TestQueueThreadAndNoticeGoldenFiles(t *testing.T) {
	v := bot.QueueView{Title: "Open callbacks", Total: 30, Items: []bot.QueueItem{
		{CaseID: 41, Ref: "#41", Age: 3 * time.Hour, Line: "Lettings", Category: "Viewing / lettings", Caller: "Jane Smith", CallerReplied: true, Overdue: true, CardChannel: "1100000000000000001", CardMessage: "1300000000000000005"},
		{CaseID: 42, Ref: "#42", Age: 25 * time.Minute, Line: "Maintenance", Owner: alice, Caller: "07700 900124 @everyone", Urgent: true},
		{CaseID: 43, Ref: "#43", Age: 5 * time.Minute, Line: "Maintenance", Owner: "U0BOB", Caller: "number withheld"},
	}}
	raw := golden.Check(t, "queue", rbdiscord.QueueMessage(v, func(ch, msg string) string {
		return "https://discord.com/channels/1000000000000000001/" + ch + "/" + msg
	}))
	noProblems(t, discordstandin.MessageProblems(raw))
	if strings.Contains(string(raw), "@everyone") {
		t.Fatal("a caller's text reached Discord as a mention")
	}

	entries := map[string]bot.Entry{
		"entry_sms_in":   {CaseID: 42, Kind: bot.EntrySMSIn, Text: bot.Plain("Caller texted"), Quote: "Call me after 5 @everyone <@123> **now**"},
		"entry_reassign": {CaseID: 42, Kind: bot.EntryReassign, Actor: boss, Text: bot.Text{bot.Words("assigned the case to "), bot.User(alice)}},
		"entry_urgent":   {CaseID: 42, Kind: bot.EntryTriaged, Text: bot.Plain("URGENT: caller chose Urgent safety"), Mention: "channel"},
	}
	for name, e := range entries {
		t.Run(name, func(t *testing.T) {
			noProblems(t, discordstandin.MessageProblems(golden.Check(t, name, rbdiscord.EntryMessage(e))))
		})
	}
	n := bot.Notice{User: alice, CaseID: 42, Confirm: true, Text: bot.Plain("⏰ Your case #42: no contact with the caller yet. Are you still on it?")}
	noProblems(t, discordstandin.MessageProblems(golden.Check(t, "notice_confirm", rbdiscord.NoticeMessage(n, "https://discord.com/channels/1/2/3"))))
}

// The digest's post reads in thirty seconds: the headline figures against
// their targets, the chart, one line per line and the three oldest cases,
// linked; every table goes in its thread.
func TestDigestGoldenFiles(t *testing.T) {
	link := func(channel, message string) string {
		return "https://discord.com/channels/1/" + channel + "/" + message
	}
	raw := golden.Check(t, "digest", rbdiscord.DigestMessage(golden.SampleDigest(), link, "ringback-digest-2026-W46.png"))
	noProblems(t, discordstandin.MessageProblems(raw))
	for _, want := range []string{
		"SLA met ⚠️", "82% (28/34) · target ≥ 90%", "5 min · target ≤ 10 min · ▼ 2 min",
		"attachment://ringback-digest-2026-W46.png",
		"**Lettings**: 30 missed",
		"41](https://discord.com/channels/1/C0LETTINGS/1762855200.000100)",
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the digest lacks %q", want)
		}
	}
	if strings.Contains(string(raw), "#63") || strings.Contains(string(raw), "<@U0BOSS>") {
		t.Error("the post has a fourth case, or a mention that pings")
	}
	raw = golden.Check(t, "digest_thread", rbdiscord.DigestThreadMessage(golden.SampleDigest()))
	noProblems(t, discordstandin.MessageProblems(raw))
	if !strings.Contains(string(raw), "reached level 2") || !strings.Contains(string(raw), "Alice Jones") {
		t.Errorf("the thread lacks the tables:\n%s", raw)
	}
}

func TestCardButtons(t *testing.T) {
	cs := cards()
	for name, want := range map[string]string{
		"card_open":     "claim:42 reply:42 log_callback:42 close:42 spam:42 reassign:42",
		"card_claimed":  "release:42 reply:42 log_callback:42 close:42 spam:42 reassign:42",
		"card_withheld": "claim:42 log_callback:42 close:42 reassign:42",
		"card_closed":   "reopen:42",
	} {
		raw := golden.JSON(t, rbdiscord.CardMessage(cs[name]).Components)
		if got := strings.Join(discordstandin.CustomIDs(raw), " "); got != want {
			t.Errorf("%s: custom ids %q, want %q", name, got, want)
		}
	}
	var labels []string
	for _, a := range []string{bot.ActionClaim, bot.ActionRelease, bot.ActionReply, bot.ActionLog, bot.ActionClose, bot.ActionReopen, bot.ActionSpam} {
		labels = append(labels, rbdiscord.ActionLabels[a])
	}
	if got := strings.Join(labels, ","); got != "Claim,Release,Reply,Log callback,Close,Reopen,Spam" {
		t.Fatalf("labels = %s", got)
	}
	// Six or more buttons wrap onto a second row; the select keeps its own.
	k := baseCard()
	k.Actions = []string{bot.ActionClaim, bot.ActionRelease, bot.ActionReply, bot.ActionLog, bot.ActionClose, bot.ActionReopen, bot.ActionSpam, bot.ActionReassign}
	m := rbdiscord.CardMessage(k)
	if len(m.Components) != 3 {
		t.Fatalf("%d rows, want 2 of buttons and 1 select", len(m.Components))
	}
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, m)))
}

func TestOutsideTextIsInert(t *testing.T) {
	k := cards()["card_urgent"]
	k.Caller.Name = "@everyone Bob <@123> <@&77> <#88> **x** `y` [click](https://evil.example) @HERE"
	k.Line = "Lettings # - > |"
	raw := string(golden.JSON(t, rbdiscord.CardMessage(k)))
	for _, bad := range []string{"@everyone", "@HERE", "<@123>", "<@&77>", "<#88>", "**x**", "[click]"} {
		if strings.Contains(raw, bad) {
			t.Errorf("card contains %q live: %s", bad, raw)
		}
	}
	if !strings.Contains(raw, "@\u200beveryone Bob") {
		t.Errorf("card lost the caller's words: %s", raw)
	}

	e := rbdiscord.EntryMessage(bot.Entry{Kind: bot.EntrySMSIn, Text: bot.Plain("Caller texted"), Quote: "hi @everyone <@123> @here <t:0:R>"})
	for _, bad := range []string{"@everyone", "@here", "<@123>", "<t:0:R>"} {
		if strings.Contains(e.Content, bad) {
			t.Errorf("thread entry contains %q live: %q", bad, e.Content)
		}
	}
	if am := e.AllowedMentions; am == nil || am.Parse == nil || len(am.Parse) != 0 || len(am.Users) != 0 {
		t.Fatalf("allowed_mentions = %+v, want nothing parsed and nobody named", am)
	}
	if !strings.Contains(string(golden.JSON(t, e)), `"parse": []`) {
		t.Fatal(`allowed_mentions must say "parse": [] (absent means parse everything)`)
	}
}

// Neutral text becomes Discord markdown: Discord users stay mentions (and
// are the only ones pingable), other platforms' ids are inert, outside text
// is escaped and Ringback's own words only kept from mentioning.
func TestMarkdown(t *testing.T) {
	for want, in := range map[string]bot.Text{
		"assigned the case to <@" + alice + ">":     {bot.Words("assigned the case to "), bot.User(alice)},
		"assigned the case to @U0BOB":               {bot.Words("assigned the case to "), bot.User("U0BOB")},
		"**Callback stats**: 3 <\u200b@123> & x-y":  {bot.Strong("Callback stats"), bot.Words(": 3 <@123> & x-y")},
		"ping @\u200beveryone":                      {bot.Words("ping @everyone")},
		"**\\*Bob\\*** \\#1":                        {bot.Outside(bot.Strong("*Bob*")), bot.Said(" #1")},
		"`/callbacks args:line NAME`":               {bot.Command("line NAME")},
		"[#41](https://discord.com/channels/1/2/3)": {bot.Link("https://discord.com/channels/1/2/3", "#41")},
		"#41": {bot.Link("javascript:alert(1)", "#41")},
	} {
		if got, _ := rbdiscord.Markdown(in); got != want {
			t.Errorf("Markdown(%v) = %q, want %q", in, got, want)
		}
	}
	if _, users := rbdiscord.Markdown(bot.Text{bot.User(alice), bot.Words(" and "), bot.User("U0BOB"), bot.User(alice)}); len(users) != 1 || users[0] != alice {
		t.Fatalf("mentioned = %v", users)
	}
	e := rbdiscord.EntryMessage(bot.Entry{Kind: bot.EntryReassign, Actor: boss, Text: bot.Text{bot.Words("assigned the case to "), bot.User(alice)}})
	if len(e.AllowedMentions.Users) != 1 || e.AllowedMentions.Users[0] != alice {
		t.Fatalf("only the assignee may be pinged, not the actor: %+v", e.AllowedMentions)
	}
	u := rbdiscord.EntryMessage(bot.Entry{Kind: bot.EntryTriaged, Text: bot.Plain("URGENT"), Mention: "channel"})
	if !strings.HasPrefix(u.Content, "@here ") || len(u.AllowedMentions.Parse) != 1 || u.AllowedMentions.Parse[0] != discordgo.AllowedMentionTypeEveryone {
		t.Fatalf("urgent entry = %q %+v", u.Content, u.AllowedMentions)
	}
}

func TestLongTextStaysWithinLimits(t *testing.T) {
	long := strings.Repeat("*_`|> #-[]\\ @everyone <@1> ", 400)
	k := cards()["card_urgent"]
	k.Caller.Name, k.Caller.Property, k.Transcript, k.Line, k.CategoryLabel = long, long, long, long[:300], long
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.CardMessage(k))))
	k.State, k.CloseNote, k.Outcome, k.Actions = "closed", long, "booked", []string{bot.ActionReopen}
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.CardMessage(k))))
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.EntryMessage(bot.Entry{Text: bot.Plain(long), Quote: long}))))
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.PostMessage(bot.Plain(long+long)))))
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.Say(long+long))))
	var many []bot.TemplateChoice
	for i := range 40 {
		many = append(many, bot.TemplateChoice{Key: "k" + strings.Repeat("x", i), Preview: long})
	}
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.ReplyPicker(k, many, "kxx", nil, bot.ReplyTiming{}))))
	items := make([]bot.QueueItem, 200)
	for i := range items {
		items[i] = bot.QueueItem{Ref: "#1", Caller: long[:200], Line: "L"}
	}
	noProblems(t, discordstandin.MessageProblems(golden.JSON(t, rbdiscord.QueueMessage(bot.QueueView{Title: "Open", Total: 500, Items: items}, nil))))
}

func TestCustomIDRoundTrip(t *testing.T) {
	id := rbdiscord.CustomID(rbdiscord.ActionReplySend, 42, "maintenance_ack")
	action, caseID, extra, ok := rbdiscord.ParseCustomID(id)
	if !ok || action != "reply_send" || caseID != 42 || extra != "maintenance_ack" {
		t.Fatalf("%s → %s %d %s %v", id, action, caseID, extra, ok)
	}
	for _, bad := range []string{"", "claim", "claim:x", "claim:-1"} {
		if _, _, _, ok := rbdiscord.ParseCustomID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The shift handover, as the Slack one (see its golden file).
func TestHandoverGoldenFile(t *testing.T) {
	raw := golden.Check(t, "handover", rbdiscord.HandoverMessage(golden.Handover()))
	noProblems(t, discordstandin.MessageProblems(raw))
	if strings.Contains(string(raw), "@everyone") && !strings.Contains(string(raw), `"parse": []`) {
		t.Fatal("a note can ping in Discord")
	}
}
