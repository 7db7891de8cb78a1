package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	rbslack "ringback/bot/slack"
	"ringback/cmd/internal/harness"
)

// world builds an observation the way a clean run leaves it, for callers
// A (one call, one digit reply), B (three calls, one worded reply) and C
// (both lines at once, texted from Lettings).
type world struct {
	o     observed
	t0    time.Time
	nextT int
}

const (
	numA = "+447700910001"
	numB = "+447700910002"
	numC = "+447700910003"
)

func newWorld() *world {
	w := &world{t0: time.Unix(1_800_000_000, 0)}
	w.o = observed{
		callers: map[string]*callerLog{
			numA: {number: numA, firstAck: w.t0, calls: map[string]int{harness.LettingsLine: 1},
				replies: map[string][]reply{harness.LettingsLine: {{body: "2", digit: true}}}},
			numB: {number: numB, firstAck: w.t0, calls: map[string]int{harness.LettingsLine: 3},
				replies: map[string][]reply{harness.LettingsLine: {{body: "call me after 5"}}}},
			numC: {number: numC, firstAck: w.t0, calls: map[string]int{harness.LettingsLine: 1, harness.MaintenanceLine: 1},
				replies: map[string][]reply{}},
		},
		cases: map[int64]pair{
			1: {numA, harness.LettingsLine}, 2: {numB, harness.LettingsLine}, 3: {numC, harness.LettingsLine}, 4: {numC, harness.MaintenanceLine},
		},
	}
	w.text(numA, harness.LettingsLine, 2*time.Second)
	w.text(numB, harness.LettingsLine, 3*time.Second)
	w.text(numC, harness.LettingsLine, 9*time.Second)
	for id := int64(1); id <= 4; id++ {
		w.card(id)
	}
	w.entry(1, bot.Entry{Text: bot.Plain("Text-back"), Quote: "Hi, it's Northside Lettings."})
	w.entry(1, bot.Entry{Text: bot.Plain("Caller texted"), Quote: "2"})
	w.entry(1, bot.Entry{Text: bot.Plain("Caller chose Maintenance")})
	w.entry(2, bot.Entry{Text: bot.Plain("Text-back"), Quote: "Hi, it's Northside Lettings."})
	w.entry(2, bot.Entry{Text: bot.Plain("Caller rang again (2 calls)")})
	w.entry(2, bot.Entry{Text: bot.Plain("Caller rang again (3 calls)")})
	w.entry(2, bot.Entry{Text: bot.Plain("Caller texted"), Quote: "call me after 5"})
	w.entry(3, bot.Entry{Text: bot.Plain("Text-back"), Quote: "Hi, it's Northside Lettings."})
	w.entry(4, bot.Entry{Text: bot.Plain("⏰ Unclaimed for 5m. Who can take it?"), Mention: "channel"}) // not counted
	return w
}

func (w *world) text(to, from string, after time.Duration) {
	w.o.texts = append(w.o.texts, sentText{from: from, to: to, at: w.t0.Add(after)})
}

func (w *world) ts() string {
	w.nextT++
	return fmt.Sprintf("1800000000.%06d", w.nextT)
}

// card posts case id's card the way the Slack adapter renders it.
func (w *world) card(id int64) string {
	blocks, _ := json.Marshal(rbslack.CardBlocks(bot.Card{CaseID: id, Ref: "#x", Line: "Lettings", State: "open"}))
	ts := w.ts()
	w.o.posts = append(w.o.posts, slackPost{channel: "C0LETTINGS", ts: ts, caseID: harness.CaseOfCard(blocks, nil)})
	return ts
}

// entry posts e in the thread of the first card of case id, as rendered.
func (w *world) entry(id int64, e bot.Entry) {
	for _, p := range w.o.posts {
		if p.threadTS == "" && p.caseID == id {
			w.o.posts = append(w.o.posts, slackPost{channel: p.channel, ts: w.ts(), threadTS: p.ts, text: rbslack.EntryText(e)})
			return
		}
	}
	panic("no card")
}

func (w *world) drop(text string) {
	for i, p := range w.o.posts {
		if strings.HasPrefix(p.text, text) {
			w.o.posts = append(w.o.posts[:i], w.o.posts[i+1:]...)
			return
		}
	}
	panic("no post " + text)
}

func check(t *testing.T, v verdict, kind string, want tally) {
	t.Helper()
	got := *v.Tallies[kind]
	if (got.Duplicated > 0) != (len(got.Copies) > 0) {
		t.Errorf("%s: %d duplicated, named %q", kind, got.Duplicated, got.Copies)
	}
	got.Copies = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %+v, want %+v", kind, got, want)
	}
}

func TestCleanRunIsClean(t *testing.T) {
	v := judge(newWorld().o)
	check(t, v, kindTextBack, tally{Expected: 3, Got: 3})
	check(t, v, kindCard, tally{Expected: 4, Got: 4})
	check(t, v, kindEntry, tally{Expected: 6, Got: 6})
	check(t, v, kindCallerSMS, tally{Expected: 2, Got: 2})
	if !v.clean() {
		t.Errorf("a clean run judged unclean: %+v", v)
	}
	if v.AckToText.N != 3 || v.AckToText.Max != 9*time.Second {
		t.Errorf("ack→text = %+v, want 3 samples, max 9s", v.AckToText)
	}
}

// The symptoms, each counted under its own kind: a caller of both
// lines texted twice, a second card for a case, an entry posted twice, a
// caller's SMS lost, a dead card row.
func TestDuplicatesLossesAndDeadRowsAreCountedPerKind(t *testing.T) {
	w := newWorld()
	w.text(numC, harness.MaintenanceLine, 9*time.Second) // two text-backs for one caller
	w.card(2)                                            // a second card for B's case
	w.entry(2, bot.Entry{Text: bot.Plain("Caller rang again (3 calls)")})
	w.o.posts[len(w.o.posts)-1].key = "entry:7"
	w.drop("Caller texted\n> call me after 5")
	w.text("+447700999999", harness.LettingsLine, 0) // nobody called from there
	w.o.dead = []deadRow{{kind: "chat.card.slack"}, {kind: "chat.thread.slack", entryKind: "sms_in"}, {kind: "sms.send"}}
	v := judge(w.o)
	check(t, v, kindTextBack, tally{Expected: 3, Got: 4, Duplicated: 1, Dead: 1})
	check(t, v, kindCard, tally{Expected: 4, Got: 5, Duplicated: 1, Dead: 1})
	// The second text-back came from Maintenance, so its thread entry is
	// now expected there too, and missing.
	check(t, v, kindEntry, tally{Expected: 7, Got: 7, Lost: 1, Duplicated: 1})
	check(t, v, kindCallerSMS, tally{Expected: 2, Got: 1, Lost: 1, Dead: 1})
	// The report names the copies, to find them in the logs.
	if c := strings.Join(v.Tallies[kindEntry].Copies, "\n"); !strings.Contains(c, `"repeat:3" ×2`) || !strings.Contains(c, `"entry:7"`) {
		t.Errorf("the duplicated entry is named %q, want its key and the copy's post", c)
	}
	if c := strings.Join(v.Tallies[kindTextBack].Copies, "\n"); strings.Count(c, numC+": ") != 2 || !strings.Contains(c, "from "+harness.MaintenanceLine) {
		t.Errorf("the duplicated text-back is named %q, want both texts to %s listed", c, numC)
	}
	if v.Stray != 1 || v.clean() {
		t.Errorf("stray %d, clean %v", v.Stray, v.clean())
	}
}

func TestNothingArrivedIsAllLost(t *testing.T) {
	w := newWorld()
	w.o.texts, w.o.posts = nil, nil
	w.o.callers[numB].firstAck = time.Time{} // none of B's calls was acknowledged
	w.o.pending = map[string]int{"sms.send": 3, "chat.card.slack": 4}
	v := judge(w.o)
	check(t, v, kindTextBack, tally{Expected: 3, Lost: 3, Pending: 3, Unacked: 1})
	check(t, v, kindCard, tally{Expected: 4, Lost: 4, Pending: 4})
	// No text-back, so no text-back entry is expected: that loss is the text-back's.
	check(t, v, kindEntry, tally{Expected: 3, Lost: 3})
	if v.AckToText.N != 0 {
		t.Errorf("ack→text samples without texts: %+v", v.AckToText)
	}
}

// A second case for the same caller and line (a lost race) shows as a
// duplicate card, and what its thread repeats as duplicate entries.
func TestUnexpectedCardsAndTheirEntriesAreDuplicates(t *testing.T) {
	w := newWorld()
	w.o.cases[9] = pair{numA, harness.LettingsLine}
	w.card(9)
	w.entry(9, bot.Entry{Text: bot.Plain("Caller texted"), Quote: "2"})
	v := judge(w.o)
	check(t, v, kindCard, tally{Expected: 4, Got: 5, Duplicated: 1})
	check(t, v, kindCallerSMS, tally{Expected: 2, Got: 3, Duplicated: 1})
}

func TestEntryKeys(t *testing.T) {
	for _, tc := range []struct {
		e         bot.Entry
		kind, key string
	}{
		{bot.Entry{Text: bot.Plain("Text-back"), Quote: "Hi"}, kindEntry, "textback"},
		{bot.Entry{Text: bot.Plain("Text-back: failed: twilio: 503")}, kindEntry, "textback"},
		{bot.Entry{Text: bot.Plain("Caller rang again (12 calls)")}, kindEntry, "repeat:12"},
		{bot.Entry{Text: bot.Plain("URGENT: caller chose Urgent safety"), Mention: "channel"}, kindEntry, "triaged"},
		{bot.Entry{Text: bot.Plain("Caller texted"), Quote: "a <b> & c"}, kindCallerSMS, "sms:a &lt;b&gt; &amp; c"},
		{bot.Entry{Text: bot.Plain("claimed the case"), Actor: "U1"}, kindOther, "claimed the case"},
	} {
		kind, key := entryKey(rbslack.EntryText(tc.e))
		if kind != tc.kind || key != tc.key {
			t.Errorf("entryKey(%q) = %q, %q; want %q, %q", rbslack.EntryText(tc.e), kind, key, tc.kind, tc.key)
		}
	}
}

func TestVerdictOutput(t *testing.T) {
	w := newWorld()
	w.text(numA, harness.LettingsLine, time.Second)
	var b bytes.Buffer
	writeVerdict(&b, judge(w.o), 15*time.Second)
	out := b.String()
	for _, want := range []string{"text-back", "duplicated", "max 9s", "target ≤ 15s: ok", "verdict: FAIL"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeVerdict(&b, judge(newWorld().o), 5*time.Second)
	if out := b.String(); !strings.Contains(out, "MISSED") || !strings.Contains(out, "verdict: PASS") {
		t.Errorf("output:\n%s", out)
	}
}

// A batched thread entry quoting several caller texts counts each of them.
func TestBatchedCallerTextsCountOnceEach(t *testing.T) {
	kind, keys := entryKeys("Caller texted 3 times\n> call me after 5\n> \n> 2\n> \n> thanks")
	if kind != kindCallerSMS || !slices.Equal(keys, []string{"sms:call me after 5", "sms:2", "sms:thanks"}) {
		t.Fatalf("entryKeys = %s %q", kind, keys)
	}
}

// Every receipt Ringback answered must leave its text delivered: a receipt
// applied to nothing makes the run unclean, and so does a text-back's card
// not showing it.
func TestAnsweredReceiptsLeaveTextsAndCardsDelivered(t *testing.T) {
	w := newWorld()
	// Cases 1 and 2 show their text-backs delivered (rendered so), 3 does not.
	for i := range w.o.posts {
		if id := w.o.posts[i].caseID; id == 1 || id == 2 {
			blocks, _ := json.Marshal(rbslack.CardBlocks(bot.Card{CaseID: id, Ref: "#x", Line: "Lettings", State: "open", TextBack: "delivered"}))
			w.o.posts[i].textBackDelivered = showsTextBackDelivered(blocks)
		}
	}
	w.o.stored = map[string]storedText{
		"SM1": {kind: "textback", status: "delivered", caseID: 1},
		"SM2": {kind: "textback", status: "delivered", caseID: 2},
		"SM3": {kind: "template", status: "delivered", caseID: 3},
		"SM4": {kind: "textback", status: "delivered", caseID: 3},
		"SM5": {kind: "textback", status: "sent", caseID: 1},
	}
	w.o.receipted = []string{"SM1", "SM2", "SM3"}
	if v := judge(w.o); !v.clean() || v.Receipts.Answered != 3 {
		t.Errorf("receipts all applied judged %+v", v.Receipts)
	}
	w.o.receipted = append(w.o.receipted, "SM4")
	if v := judge(w.o); v.clean() || v.Receipts.CardsStale != 1 || len(v.Receipts.Examples) != 1 {
		t.Errorf("a stale card alone judged %+v (clean %v), want it counted and named, the run unclean", v.Receipts, v.clean())
	}
	w.o.receipted = append(w.o.receipted, "SM5", "SMgone")
	w.o.receiptsGivenUp, w.o.lateSent = 2, 1
	v := judge(w.o)
	want := receiptTally{Answered: 6, GivenUp: 2, LateSent: 1, Unapplied: 2, CardsStale: 1, StaleCases: []int64{3}}
	got := v.Receipts
	got.Examples = nil
	if !reflect.DeepEqual(got, want) || len(v.Receipts.Examples) != 3 || v.clean() {
		t.Errorf("receipts judged %+v (clean %v), want %+v, unclean, each named", v.Receipts, v.clean(), want)
	}
	var out bytes.Buffer
	writeVerdict(&out, v, 15*time.Second)
	if !strings.Contains(out.String(), `delivery receipts: 6 answered (1 with a "sent" after them), 2 callbacks never answered; texts not delivered after their receipt: 2; text-back cards not showing it: 1`) {
		t.Errorf("the verdict does not tell the receipts:\n%s", out.String())
	}
}

// The weekly digest's chart, posted in the digest's thread, is Ringback's
// own and counted apart; a reply under any other post that is no card is
// still an orphan.
func TestDigestThreadIsNoOrphan(t *testing.T) {
	w := newWorld()
	digest := w.ts()
	w.o.posts = append(w.o.posts,
		slackPost{channel: "C0MANAGERS", ts: digest, text: "📊 Weekly digest", key: digestKeyPrefix + "12"},
		slackPost{channel: "C0MANAGERS", ts: w.ts(), threadTS: digest})
	v := judge(w.o)
	if v.Orphans != 0 || v.DigestReplies != 1 {
		t.Fatalf("orphans %d, digest replies %d; want 0 and 1", v.Orphans, v.DigestReplies)
	}
	var out bytes.Buffer
	writeVerdict(&out, v, 15*time.Second)
	if strings.Contains(out.String(), "under no card") || !strings.Contains(out.String(), "weekly digest thread replies (its charts, not counted): 1") {
		t.Errorf("the report says:\n%s", out.String())
	}

	other := w.ts()
	w.o.posts = append(w.o.posts,
		slackPost{channel: "C0LETTINGS", ts: other, text: "something else", key: "dm:3"},
		slackPost{channel: "C0LETTINGS", ts: w.ts(), threadTS: other, text: "a reply"})
	if v := judge(w.o); v.Orphans != 1 || v.DigestReplies != 1 {
		t.Errorf("orphans %d, digest replies %d; want 1 and 1", v.Orphans, v.DigestReplies)
	}
}

// A replica's log line that spells out a caller's number fails the run,
// however its output was split into writes; a line's number, a masked
// caller and a number that never called do not count.
func TestLogsNamingACallerFailTheRun(t *testing.T) {
	var scan numberScan
	out := "time=1 level=INFO msg=\"text sent\" line_number=" + harness.LettingsLine + "\n" +
		"time=2 level=WARN msg=\"store unreachable\" error=\"store: open case of +*********001: refused\"\n" +
		"time=3 level=WARN msg=\"x\" error=\"store: last text-back to " + numB + ": closed\"\n" +
		"time=4 level=WARN msg=\"y\" error=\"twilio: +447700999999 is not a mobile\"\n"
	for i := 0; i < len(out); i += 7 { // a pipe hands the output over in pieces
		if _, err := scan.Write([]byte(out[i:min(i+7, len(out))])); err != nil {
			t.Fatal(err)
		}
	}
	w := newWorld()
	w.o.logged = map[string]string{}
	scan.named(w.o.logged)
	v := judge(w.o)
	if v.LoggedCallers != 1 || !strings.Contains(v.LoggedExample, "store: last text-back to "+numB) || v.clean() {
		t.Fatalf("logged callers %d (%q), clean %v; want 1 (%s), not clean", v.LoggedCallers, v.LoggedExample, v.clean(), numB)
	}
	var b bytes.Buffer
	writeVerdict(&b, v, 15*time.Second)
	if o := b.String(); !strings.Contains(o, "callers named whole in the replicas' logs: 1") || !strings.Contains(o, "verdict: FAIL") {
		t.Errorf("output:\n%s", o)
	}
	if v := judge(newWorld().o); v.LoggedCallers != 0 || !v.clean() {
		t.Errorf("a run whose logs name nobody: %d logged, clean %v", v.LoggedCallers, v.clean())
	}
}
