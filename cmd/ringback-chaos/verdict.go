package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ringback/cmd/internal/harness"
)

// The kinds of side effect the verdict counts.
const (
	kindTextBack  = "text-back"
	kindCard      = "card"
	kindEntry     = "thread entry"
	kindCallerSMS = "caller SMS"
	kindOther     = "other"
)

var kinds = []string{kindTextBack, kindCard, kindEntry, kindCallerSMS}

// pair is a caller on a line: one case, one card.
type pair struct{ caller, line string }

// callerLog is what the traffic did for one caller.
type callerLog struct {
	number   string
	firstAck time.Time          // first 2xx to any of the caller's calls; zero if none
	calls    map[string]int     // line → missed calls offered (distinct CallSids)
	replies  map[string][]reply // line → SMS replies offered
}

// reply is one SMS a caller sent.
type reply struct {
	body  string
	digit bool // a triage digit: also expects a "Caller chose" entry
}

// sentText is a message the Twilio stand-in accepted.
type sentText struct {
	from, to string
	at       time.Time
	sid      string
	body     string
}

// slackPost is a top-level message or a thread reply in Slack.
type slackPost struct {
	channel, ts, threadTS string
	text                  string
	caseID                int64  // cards: the case the card is for; 0 otherwise
	key                   string // Ringback's name for the post (its metadata), when it gives one
	// textBackDelivered: a card that shows its text-back delivered.
	textBackDelivered bool
}

// showsTextBackDelivered tells whether a card's blocks (Slack's JSON) show
// its text-back delivered.
func showsTextBackDelivered(blocks []byte) bool {
	return strings.Contains(string(blocks), `*Text-back*\ndelivered`)
}

// storedText is a text as Ringback's database holds it at the end.
type storedText struct {
	kind, status string
	caseID       int64 // 0: none
}

// deadRow is an outbox row that gave up.
type deadRow struct {
	kind      string // outbox kind
	entryKind string // thread rows: the timeline entry's kind
}

// observed is everything the verdict is computed from.
type observed struct {
	callers map[string]*callerLog
	texts   []sentText
	posts   []slackPost
	cases   map[int64]pair // case id → its caller and line, from the database
	dead    []deadRow
	start   time.Time      // traffic began: offsets in the report are from here
	pending map[string]int // outbox kind → rows not settled at the end
	// receipted are the SIDs whose delivery receipt Ringback answered 2xx;
	// receiptsGivenUp the receipts never answered; lateSent the "sent"
	// receipts answered after their text's delivery; stored the texts as
	// the database holds them, by SID.
	receipted       []string
	receiptsGivenUp int
	lateSent        int
	stored          map[string]storedText
	// logged are the phone numbers the replicas' logs spelt out whole, each
	// with the first line naming it.
	logged map[string]string
}

// tally is one kind's line of the verdict.
type tally struct {
	Expected   int
	Got        int
	Lost       int
	Duplicated int
	Dead       int
	Pending    int
	// Unacked are the lost whose webhooks never got a 2xx (text-backs:
	// callers none of whose calls was acknowledged).
	Unacked int
	// Copies names the first duplicated keys, to find them in the logs.
	Copies []string
}

func (t tally) clean() bool { return t.Lost == 0 && t.Duplicated == 0 && t.Dead == 0 }

// digestKeyPrefix begins a weekly digest's post key (bot: "digest:" and
// its outbox row), which its Slack metadata carries.
const digestKeyPrefix = "digest:"

// verdict is the outcome of a run.
type verdict struct {
	Tallies   map[string]*tally
	Stray     int // texts to numbers that never called
	AckToText harness.Summary
	// Orphans are thread replies under a post that is no card and no
	// digest; OrphanText names the first and its parent (a card posted
	// without its case, say).
	Orphans    int
	OrphanText string
	// DigestReplies are thread replies under a weekly digest (its chart):
	// Ringback's own, which the run does not count.
	DigestReplies int
	// Slowest are the longest ack→text waits, to match against the
	// run's fault events (offsets from the start of traffic).
	Slowest []slowText
	// TextsPer5s counts text-backs the stand-in accepted in each 5 s of
	// the run: where the rate sags is where the backlog grew.
	TextsPer5s []int
	Receipts   receiptTally
	// LoggedCallers counts the callers whose number the replicas' logs
	// spelt out whole; LoggedExample is the first such line.
	LoggedCallers int
	LoggedExample string
}

// receiptTally is what became of the delivery receipts Ringback answered:
// each must leave its text delivered, and a text-back's card should show
// it.
type receiptTally struct {
	Answered, GivenUp int
	// LateSent: "sent" receipts answered after their text's "delivered"
	// (each text must stay delivered).
	LateSent int
	// Unapplied: answered, but the text is not delivered at the end (or
	// not found); CardsStale: text-backs delivered whose case's card does
	// not show it. Examples names the first few.
	Unapplied, CardsStale int
	Examples              []string
	// StaleCases are the first few cases whose card is stale, for the
	// run to show what their rows did.
	StaleCases []int64
}

// clean: every answered receipt applied, and every text-back's card shows
// its delivery — a card left showing an older status is what a user sees.
func (r receiptTally) clean() bool { return r.Unapplied == 0 && r.CardsStale == 0 }

// judgeReceipts checks every answered receipt against the texts and cards
// as the run left them.
func judgeReceipts(o observed) receiptTally {
	r := receiptTally{Answered: len(o.receipted), GivenUp: o.receiptsGivenUp, LateSent: o.lateSent}
	shows := map[int64]bool{} // case → its card shows its text-back delivered
	for _, p := range o.posts {
		if p.threadTS == "" && p.caseID != 0 {
			shows[p.caseID] = shows[p.caseID] || p.textBackDelivered
		}
	}
	example := func(format string, args ...any) {
		if len(r.Examples) < 5 {
			r.Examples = append(r.Examples, fmt.Sprintf(format, args...))
		}
	}
	for _, sid := range o.receipted {
		t, ok := o.stored[sid]
		switch {
		case !ok || t.status != "delivered":
			r.Unapplied++
			example("%s answered, but the text is %q (found %v)", sid, t.status, ok)
		case t.kind == "textback" && t.caseID != 0 && !shows[t.caseID]:
			r.CardsStale++
			example("%s delivered, but the card of case %d does not show it", sid, t.caseID)
			if len(r.StaleCases) < 5 {
				r.StaleCases = append(r.StaleCases, t.caseID)
			}
		}
	}
	return r
}

// slowText is one caller's ack→text wait, placed on the run's timeline.
type slowText struct {
	Caller    string
	Ack, Text time.Duration // offsets from the start of traffic
	Wait      time.Duration
}

func (v verdict) clean() bool {
	for _, t := range v.Tallies {
		if !t.clean() {
			return false
		}
	}
	return v.Stray == 0 && v.Receipts.clean() && v.LoggedCallers == 0
}

// judgeLogs counts the callers the replicas' logs named.
func judgeLogs(o observed, v *verdict) {
	for _, n := range slices.Sorted(maps.Keys(o.logged)) {
		if _, caller := o.callers[n]; caller {
			v.LoggedCallers++
			if v.LoggedExample == "" {
				v.LoggedExample = o.logged[n]
			}
		}
	}
}

// count keys: expected multiplicity 1 each; a missing key is lost, every
// copy past the first and every key not expected is a duplicate.
func (t *tally) count(expected []string, got []string) { t.countOf("", expected, got, nil) }

// countOf is count for the keys of one owner (a caller, a card), named
// when a key is duplicated, with the platform's names of its copies (posts,
// when known: one name twice is a post made twice, two an entry queued twice).
func (t *tally) countOf(owner string, expected []string, got []string, posts map[string][]string) {
	want := make(map[string]bool, len(expected))
	for _, k := range expected {
		want[k] = true
	}
	t.Expected += len(want)
	t.Got += len(got)
	seen := make(map[string]int, len(got))
	for _, k := range got {
		seen[k]++
	}
	for k := range want {
		if seen[k] == 0 {
			t.Lost++
		}
	}
	for k, n := range seen {
		expected := 0
		if want[k] {
			expected = 1
		}
		t.Duplicated += n - expected
		if n > expected && len(t.Copies) < 10 {
			c := fmt.Sprintf("%s %q ×%d (expected %d)", owner, k, n, expected)
			if pk := posts[k]; len(pk) > 0 {
				c += fmt.Sprintf("; posts %q", pk)
			}
			t.Copies = append(t.Copies, c)
		}
	}
}

var (
	repeatEntry = regexp.MustCompile(`^Caller rang again \((\d+) calls\)`)
	mentionHead = regexp.MustCompile(`^(<[^>]*>\s*)+`)
)

// entryKey classifies a thread reply by the words the Slack renderer writes
// (bot/slack EntryText) and names it so that a second copy has the same
// name: the kind it counts under and its key within the case's thread.
func entryKey(text string) (kind, key string) {
	text = mentionHead.ReplaceAllString(text, "")
	head, quote, _ := strings.Cut(text, "\n")
	switch {
	case strings.HasPrefix(head, "Text-back"):
		return kindEntry, "textback"
	case repeatEntry.MatchString(head):
		return kindEntry, "repeat:" + repeatEntry.FindStringSubmatch(head)[1]
	case strings.HasPrefix(head, "Caller chose"), strings.HasPrefix(head, "URGENT: caller chose"):
		return kindEntry, "triaged"
	case strings.HasPrefix(head, "Caller texted"):
		return kindCallerSMS, "sms:" + strings.TrimPrefix(quote, "> ")
	}
	return kindOther, head
}

// entryKeys is entryKey for a thread reply that may quote several caller
// texts at once (a batched "Caller texted 3 times", a blank quoted line
// between each): one key a text.
func entryKeys(text string) (kind string, keys []string) {
	kind, key := entryKey(text)
	if kind != kindCallerSMS {
		return kind, []string{key}
	}
	for _, q := range strings.Split(strings.TrimPrefix(key, "sms:"), "\n> \n> ") {
		keys = append(keys, "sms:"+q)
	}
	return kind, keys
}

// judge counts, per kind, what was lost, duplicated and dead. Expectations:
// one text-back per caller (the cooldown spans both lines); one card per
// caller and line called; in each card's thread one text-back entry when
// that line texted the caller, one "rang again" entry per repeat call, one
// "Caller chose" entry per digit reply, and one entry per caller SMS.
func judge(o observed) verdict {
	v := verdict{Tallies: map[string]*tally{}}
	for _, k := range append(slices.Clone(kinds), kindOther) {
		v.Tallies[k] = &tally{}
	}

	// Text-backs, by caller.
	textsTo := map[string][]sentText{}
	for _, t := range o.texts {
		if o.callers[t.to] == nil {
			v.Stray++
			continue
		}
		textsTo[t.to] = append(textsTo[t.to], t)
	}
	var latencies []time.Duration
	for num, c := range o.callers {
		var got []string
		for range textsTo[num] {
			got = append(got, num)
		}
		v.Tallies[kindTextBack].count([]string{num}, got)
		if ts := textsTo[num]; len(ts) > 1 {
			t := v.Tallies[kindTextBack]
			for _, x := range ts {
				if len(t.Copies) < 10 {
					t.Copies = append(t.Copies, fmt.Sprintf("%s: %s at %s from %s: %.40q", num, x.sid, x.at.Sub(o.start).Round(time.Millisecond), x.from, x.body))
				}
			}
		}
		if len(got) == 0 && c.firstAck.IsZero() {
			v.Tallies[kindTextBack].Unacked++
		}
		if ts := textsTo[num]; len(ts) > 0 && !c.firstAck.IsZero() {
			wait := max(0, ts[0].at.Sub(c.firstAck))
			latencies = append(latencies, wait)
			v.Slowest = append(v.Slowest, slowText{Caller: num, Ack: c.firstAck.Sub(o.start), Text: ts[0].at.Sub(o.start), Wait: wait})
		}
	}
	v.AckToText = harness.Summarize(latencies)
	v.Receipts = judgeReceipts(o)
	judgeLogs(o, &v)
	slices.SortFunc(v.Slowest, func(a, b slowText) int { return cmp.Compare(b.Wait, a.Wait) })
	v.Slowest = v.Slowest[:min(len(v.Slowest), 5)]
	for _, t := range o.texts {
		if o.start.IsZero() || t.at.Sub(o.start) > time.Hour {
			continue // no timeline (a test's world) or not this run's text
		}
		i := int(max(0, t.at.Sub(o.start)) / (5 * time.Second))
		for len(v.TextsPer5s) <= i {
			v.TextsPer5s = append(v.TextsPer5s, 0)
		}
		v.TextsPer5s[i]++
	}

	// Cards, by caller and line.
	cardsOf := map[pair][]slackPost{}
	cardAt := map[string]pair{}    // channel + ts of a card → its pair
	topText := map[string]string{} // channel + ts of a top-level post → its text
	digests := map[string]bool{}   // channel + ts of a weekly digest
	for _, p := range o.posts {
		if p.threadTS == "" {
			topText[p.channel+" "+p.ts] = p.text
			if strings.HasPrefix(p.key, digestKeyPrefix) {
				digests[p.channel+" "+p.ts] = true
			}
		}
		if p.threadTS != "" || p.caseID == 0 {
			continue
		}
		pr, ok := o.cases[p.caseID]
		if !ok {
			pr = pair{caller: "case " + strconv.FormatInt(p.caseID, 10)} // unknown to the database: unexpected
		}
		cardsOf[pr] = append(cardsOf[pr], p)
		cardAt[p.channel+" "+p.ts] = pr
	}
	var wantCards, gotCards []string
	for num, c := range o.callers {
		for line := range c.calls {
			wantCards = append(wantCards, num+" "+line)
		}
	}
	for pr, cs := range cardsOf {
		for range cs {
			gotCards = append(gotCards, pr.caller+" "+pr.line)
		}
	}
	v.Tallies[kindCard].count(wantCards, gotCards)

	// Thread entries, by caller and line.
	got := map[string]map[pair][]string{kindEntry: {}, kindCallerSMS: {}}
	postKeys := map[pair]map[string][]string{} // entry key → the copies' post keys
	for _, p := range o.posts {
		if p.threadTS == "" {
			continue
		}
		pr, ok := cardAt[p.channel+" "+p.threadTS]
		if !ok && digests[p.channel+" "+p.threadTS] {
			v.DigestReplies++
			continue
		}
		if !ok {
			if v.Orphans == 0 {
				v.OrphanText = fmt.Sprintf("%.80q (post %q) under %.80q", p.text, p.key, topText[p.channel+" "+p.threadTS])
			}
			v.Orphans++
			continue
		}
		kind, keys := entryKeys(p.text)
		if kind == kindOther {
			continue // reminders and the like: not this run's business
		}
		got[kind][pr] = append(got[kind][pr], keys...)
		if postKeys[pr] == nil {
			postKeys[pr] = map[string][]string{}
		}
		for _, k := range keys {
			postKeys[pr][k] = append(postKeys[pr][k], p.key)
		}
	}
	textedFrom := map[pair]bool{}
	for _, t := range o.texts {
		textedFrom[pair{t.to, t.from}] = true
	}
	for num, c := range o.callers {
		for line, n := range c.calls {
			pr := pair{num, line}
			var want []string
			if textedFrom[pr] {
				want = append(want, "textback")
			}
			for k := 2; k <= n; k++ {
				want = append(want, "repeat:"+strconv.Itoa(k))
			}
			var wantSMS []string
			for _, r := range c.replies[line] {
				wantSMS = append(wantSMS, "sms:"+r.body)
				if r.digit {
					want = append(want, "triaged")
				}
			}
			v.Tallies[kindEntry].countOf(num+" on "+line, want, got[kindEntry][pr], postKeys[pr])
			v.Tallies[kindCallerSMS].countOf(num+" on "+line, wantSMS, got[kindCallerSMS][pr], postKeys[pr])
			delete(got[kindEntry], pr)
			delete(got[kindCallerSMS], pr)
		}
	}
	for kind, byPair := range got { // threads of cards nobody expected
		for _, keys := range byPair {
			v.Tallies[kind].count(nil, keys)
		}
	}

	for _, d := range o.dead {
		v.Tallies[outboxKind(d.kind, d.entryKind)].Dead++
	}
	for k, n := range o.pending {
		v.Tallies[outboxKind(k, "")].Pending += n
	}
	return v
}

// outboxKind maps an outbox row to the kind it counts under.
func outboxKind(kind, entryKind string) string {
	switch {
	case kind == "sms.send":
		return kindTextBack
	case strings.HasPrefix(kind, "chat.card."):
		return kindCard
	case strings.HasPrefix(kind, "chat.thread.") && entryKind == "sms_in":
		return kindCallerSMS
	case strings.HasPrefix(kind, "chat.thread."):
		return kindEntry
	}
	return kindOther
}

// writeVerdict prints the table and the latency line.
func writeVerdict(w io.Writer, v verdict, target time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind          \texpected\tgot\tlost\tduplicated\tdead\tpending\t")
	for _, k := range append(slices.Clone(kinds), kindOther) {
		t := v.Tallies[k]
		if k == kindOther && t.Dead == 0 && t.Pending == 0 {
			continue
		}
		fmt.Fprintf(tw, "%-14s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", k, t.Expected, t.Got, t.Lost, t.Duplicated, t.Dead, t.Pending)
	}
	_ = tw.Flush()
	for _, k := range append(slices.Clone(kinds), kindOther) {
		for _, c := range v.Tallies[k].Copies {
			fmt.Fprintf(w, "  duplicated %s: %s\n", k, c)
		}
	}
	if n := v.Tallies[kindTextBack].Unacked; n > 0 {
		fmt.Fprintf(w, "of the lost text-backs, %d are callers none of whose calls Ringback acknowledged (webhooks given up)\n", n)
	}
	if v.Stray > 0 {
		fmt.Fprintf(w, "stray texts (to numbers that never called): %d\n", v.Stray)
	}
	if v.Orphans > 0 {
		fmt.Fprintf(w, "thread replies under no card: %d (the first: %s)\n", v.Orphans, v.OrphanText)
	}
	if v.DigestReplies > 0 {
		fmt.Fprintf(w, "weekly digest thread replies (its charts, not counted): %d\n", v.DigestReplies)
	}
	rt := v.Receipts
	fmt.Fprintf(w, "delivery receipts: %d answered (%d with a \"sent\" after them), %d callbacks never answered; texts not delivered after their receipt: %d; text-back cards not showing it: %d\n",
		rt.Answered, rt.LateSent, rt.GivenUp, rt.Unapplied, rt.CardsStale)
	for _, e := range rt.Examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	a := v.AckToText
	if a.N == 0 {
		fmt.Fprintln(w, "ack→text: no samples")
	} else {
		ok := "ok"
		if a.Max > target {
			ok = "MISSED"
		}
		fmt.Fprintf(w, "ack→text (first 2xx of a caller's call → the stand-in accepted the text-back, %d callers): p50 %s  p99 %s  max %s  (target ≤ %s: %s)\n",
			a.N, round(a.P50), round(a.P99), round(a.Max), target, ok)
		fmt.Fprintf(w, "  text-backs per 5 s: %v\n", v.TextsPer5s)
		for _, s := range v.Slowest {
			fmt.Fprintf(w, "  slow: %s acked at %6.1fs, texted at %6.1fs (%s)\n", s.Caller, s.Ack.Seconds(), s.Text.Seconds(), round(s.Wait))
		}
	}
	fmt.Fprintf(w, "callers named whole in the replicas' logs: %d\n", v.LoggedCallers)
	if v.LoggedExample != "" {
		fmt.Fprintf(w, "  %s\n", v.LoggedExample)
	}
	if v.clean() {
		fmt.Fprintln(w, "verdict: PASS — nothing lost, duplicated or dead")
	} else {
		fmt.Fprintln(w, "verdict: FAIL — see lost / duplicated / dead / receipts / logs above")
	}
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
