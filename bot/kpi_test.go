package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

// The fixture week is 2026-W46: Monday 9 November 2026 00:00 to Monday 16
// November 00:00, Europe/London, which is UTC in November (no DST change),
// so every wall-clock time below is also its UTC time.

const (
	kpiLettings    = "+441632960001"
	kpiMaintenance = "+441632960002"
)

// kpiAt is a time in November 2026 (UTC = London).
func kpiAt(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, time.UTC)
}

func kpiMin(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

func kpiConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// kpiFixture writes rows straight through the store, as the intake would
// have left them.
type kpiFixture struct {
	t   *testing.T
	ctx context.Context
	s   *store.Store
	cfg *config.Config
	n   int
}

func (f *kpiFixture) sid(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%04d", prefix, f.n)
}

// call records a call; after_hours comes from the line's hours, as at intake.
func (f *kpiFixture) call(lineNum, caller string, at time.Time, missed bool, caseID int64) {
	f.t.Helper()
	line, routed := f.cfg.LineByNumber(lineNum)
	c := store.Call{
		SID: f.sid("CA"), Provider: "twilio", LineNumber: lineNum, Routed: routed, CallerNumber: caller,
		Status: "completed", Missed: missed, StartedAt: at, CreatedAt: at, UpdatedAt: at,
	}
	if missed {
		c.Status = "no-answer"
	}
	if routed {
		c.AfterHours = !line.InHours(at)
	}
	if caseID != 0 {
		c.CaseID = &caseID
	}
	if _, err := f.s.InsertCall(f.ctx, &c); err != nil {
		f.t.Fatal(err)
	}
}

// open writes a case opened at `at` by a missed call (or a text: origin sms).
func (f *kpiFixture) open(lineNum, caller, origin string, at time.Time, textbackStatus string) store.Case {
	f.t.Helper()
	line, _ := f.cfg.LineByNumber(lineNum)
	c := store.Case{
		LineNumber: lineNum, CallerNumber: caller, State: store.CaseOpen, Origin: origin,
		AfterHours: !line.InHours(at), CallCount: 1, LastCallAt: &at, TextbackStatus: textbackStatus,
		CreatedAt: at, UpdatedAt: at,
	}
	if origin == "sms" {
		c.CallCount, c.LastCallAt = 0, nil
	}
	if ok, err := f.s.InsertCase(f.ctx, &c); err != nil || !ok {
		f.t.Fatalf("insert case: inserted %v, %v", ok, err)
	}
	f.event(c, at, "case_opened", map[string]any{"origin": origin})
	if origin == "call" {
		f.call(lineNum, caller, at, true, c.ID)
	}
	return c
}

func (f *kpiFixture) update(c store.Case) {
	f.t.Helper()
	if err := f.s.UpdateCase(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
}

func (f *kpiFixture) event(c store.Case, at time.Time, kind string, data any) {
	f.t.Helper()
	if err := f.s.AddEvent(f.ctx, c.ID, at, kind, "", data); err != nil {
		f.t.Fatal(err)
	}
}

// textBack queues the case's text-back; accepted > 0 is when Twilio took
// it, after the first missed call.
func (f *kpiFixture) textBack(c *store.Case, accepted time.Duration) {
	f.t.Helper()
	m := store.Message{
		CaseID: &c.ID, Direction: store.Outbound, Kind: "textback", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
		Body: "Hi, it's Northside Lettings.", TemplateKey: "textback_day", Status: "pending", CreatedAt: c.CreatedAt, UpdatedAt: c.CreatedAt,
	}
	if _, err := f.s.InsertMessage(f.ctx, &m); err != nil {
		f.t.Fatal(err)
	}
	c.TextbackStatus = "queued"
	if accepted == 0 {
		return
	}
	at := c.CreatedAt.Add(accepted)
	sid := f.sid("SM")
	m.SID, m.Status, m.AcceptedAt, m.UpdatedAt = &sid, "sent", &at, at
	if err := f.s.UpdateMessage(f.ctx, m); err != nil {
		f.t.Fatal(err)
	}
	c.TextbackStatus = "sent"
}

// text is an SMS from the caller on the case.
func (f *kpiFixture) text(c store.Case, at time.Time, body string) {
	f.t.Helper()
	sid := f.sid("SMin")
	m := store.Message{
		SID: &sid, CaseID: &c.ID, Direction: store.Inbound, Kind: "reply", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
		Body: body, Status: "received", CreatedAt: at, UpdatedAt: at,
	}
	if _, err := f.s.InsertMessage(f.ctx, &m); err != nil {
		f.t.Fatal(err)
	}
	f.event(c, at, "sms_received", nil)
}

// contact is a human contact attempt: a staff template SMS or a logged callback.
func (f *kpiFixture) contact(c *store.Case, at time.Time, sms bool) {
	f.t.Helper()
	if sms {
		sid := f.sid("SM")
		m := store.Message{
			SID: &sid, CaseID: &c.ID, Direction: store.Outbound, Kind: "template", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
			Body: "Hi, Alice here.", TemplateKey: "viewing_slots", SentBy: "U0ALICE", Status: "sent", AcceptedAt: &at, CreatedAt: at, UpdatedAt: at,
		}
		if _, err := f.s.InsertMessage(f.ctx, &m); err != nil {
			f.t.Fatal(err)
		}
		f.event(*c, at, "reply_queued", nil)
	} else {
		f.event(*c, at, "callback", map[string]string{"text": "logged a callback"})
	}
	c.ContactAttempts++
	if c.FirstContactAt == nil {
		c.FirstContactAt = &at
	}
}

func (f *kpiFixture) claim(c *store.Case, after time.Duration) {
	at := c.CreatedAt.Add(after)
	c.ClaimedAt, c.State, c.Owner = &at, store.CaseClaimed, "U0ALICE"
	f.event(*c, at, "claimed", nil)
}

func (f *kpiFixture) categorize(c *store.Case, category string, after time.Duration) {
	at := c.CreatedAt.Add(after)
	c.Category, c.CategorizedAt = category, &at
}

func (f *kpiFixture) close(c *store.Case, outcome string, at time.Time) {
	c.State, c.Outcome, c.CloseNote, c.ClosedBy, c.ClosedAt = store.CaseClosed, outcome, "done", "U0ALICE", &at
	f.event(*c, at, "closed", nil)
}

func (f *kpiFixture) escalate(c store.Case, after time.Duration, level int) {
	f.event(c, c.CreatedAt.Add(after), "escalated", map[string]any{"level": level, "step": level - 1})
}

// buildKPIWeek writes the fixture. Cases c1…c11 open in the week; c0a, c0b
// and c0c open outside it.
func buildKPIWeek(f *kpiFixture) {
	const L, M = kpiLettings, kpiMaintenance
	mins := kpiMin

	// Answered calls (no case): Lettings 3, Maintenance 3.
	f.call(L, "+447700900201", kpiAt(9, 9, 30), false, 0)
	f.call(L, "+447700900202", kpiAt(9, 12, 10), false, 0)
	f.call(L, "+447700900203", kpiAt(12, 15, 0), false, 0)
	f.call(M, "+447700900204", kpiAt(10, 10, 0), false, 0)
	f.call(M, "+447700900205", kpiAt(11, 11, 0), false, 0)
	// A missed call to a number that is no line: counts nowhere.
	f.call("+441632960099", "+447700900206", kpiAt(10, 11, 0), true, 0)

	// c1 Lettings, Mon 12:00 in hours: text-back at 40 s, caller replies
	// "1" at 2 min (triaged viewing at 3 min), claimed at 2 min, template
	// SMS at 6 min, closed booked after that one attempt.
	c1 := f.open(L, "+447700900001", "call", kpiAt(9, 12, 0), "")
	f.textBack(&c1, 40*time.Second)
	f.text(c1, c1.CreatedAt.Add(mins(2)), "1")
	f.categorize(&c1, "viewing", mins(3))
	f.claim(&c1, mins(2))
	f.contact(&c1, c1.CreatedAt.Add(mins(6)), true)
	f.close(&c1, "booked", kpiAt(9, 13, 0))
	f.update(c1)

	// c2 Lettings, Mon 12:30 in hours: text-back at 120 s, no reply,
	// maintenance at 8 min, claimed at 10 min, callbacks at 20 min and
	// 1 h, closed reached after two attempts: not first-cycle.
	c2 := f.open(L, "+447700900002", "call", kpiAt(9, 12, 30), "")
	f.textBack(&c2, 120*time.Second)
	f.categorize(&c2, "maintenance", mins(8))
	f.claim(&c2, mins(10))
	f.contact(&c2, c2.CreatedAt.Add(mins(20)), false)
	f.contact(&c2, c2.CreatedAt.Add(mins(60)), false)
	f.close(&c2, "reached", kpiAt(9, 15, 0))
	f.update(c2)

	// c3 Lettings, Mon 12:45, number withheld: no text-back was due.
	// Closed no_contact without any attempt.
	c3 := f.open(L, "", "call", kpiAt(9, 12, 45), "not sent: number withheld")
	f.event(c3, c3.CreatedAt, "textback_skipped", map[string]string{"reason": "number withheld"})
	f.close(&c3, "no_contact", kpiAt(9, 14, 0))
	f.update(c3)

	// c4 Maintenance, Tue 20:00 after hours: text-back at 30 s, reply "2"
	// at 1 min (triaged maintenance), a repeat missed call at 21:00 (before
	// contact: a repeat contact), claimed at 15 min, callback at 3 h,
	// closed resolved after one attempt.
	c4 := f.open(M, "+447700900004", "call", kpiAt(10, 20, 0), "")
	f.textBack(&c4, 30*time.Second)
	f.text(c4, c4.CreatedAt.Add(mins(1)), "2")
	f.categorize(&c4, "maintenance", mins(1))
	f.call(M, c4.CallerNumber, kpiAt(10, 21, 0), true, c4.ID)
	c4.CallCount++
	f.event(c4, kpiAt(10, 21, 0), "call_repeat", nil)
	f.claim(&c4, mins(15))
	f.contact(&c4, c4.CreatedAt.Add(mins(180)), false)
	f.close(&c4, "resolved", kpiAt(11, 10, 0))
	f.update(c4)

	// c5 Maintenance, Wed 07:00 after hours: text-back still pending (never
	// accepted: due, late), claimed at 30 min, callback at 40 min, a repeat
	// call at 09:00 after that contact (not a repeat contact), escalated
	// level 1; still open (claimed) at the week's end.
	c5 := f.open(M, "+447700900005", "call", kpiAt(11, 7, 0), "")
	f.textBack(&c5, 0)
	f.claim(&c5, mins(30))
	f.contact(&c5, c5.CreatedAt.Add(mins(40)), false)
	f.call(M, c5.CallerNumber, kpiAt(11, 9, 0), true, c5.ID)
	c5.CallCount++
	f.escalate(c5, mins(10), 1)
	f.update(c5)

	// c6 Lettings, Thu 10:00, a number on the spam list: no text-back due;
	// the caller texts 26 h later (outside the 24 h window); closed spam.
	c6 := f.open(L, "+447700900006", "call", kpiAt(12, 10, 0), "not sent: number on the spam list")
	c6.Spam = true
	f.text(c6, c6.CreatedAt.Add(26*time.Hour), "hello?")
	f.close(&c6, "spam", kpiAt(12, 10, 5))
	f.update(c6)

	// c7 Lettings, Fri 18:00 after hours: the night template could not be
	// filled (due, never sent), claimed at 20 min, callback at 25 min and
	// categorised compliance then, escalated to levels 1 and 2, closed
	// wrong_number (left out of contact rate and first-cycle).
	c7 := f.open(L, "+447700900007", "call", kpiAt(13, 18, 0), "not sent: template textback_night cannot be filled: missing caller_name")
	f.claim(&c7, mins(20))
	f.contact(&c7, c7.CreatedAt.Add(mins(25)), false)
	f.categorize(&c7, "compliance", mins(25))
	f.escalate(c7, mins(10), 1)
	f.escalate(c7, mins(30), 2)
	f.close(&c7, "wrong_number", kpiAt(13, 19, 0))
	f.update(c7)

	// c8 Maintenance, Sat 15:00 after hours: text-back at exactly 90 s,
	// reply "9" at 5 min (urgent, triaged at exactly 5 min), another text
	// at 5 h; nobody claims or contacts: escalated level 1 twice (a
	// repeating step); still open at the week's end.
	c8 := f.open(M, "+447700900008", "call", kpiAt(14, 15, 0), "")
	f.textBack(&c8, 90*time.Second)
	f.text(c8, c8.CreatedAt.Add(mins(5)), "9")
	f.categorize(&c8, "urgent", mins(5))
	c8.Urgent = true
	f.text(c8, c8.CreatedAt.Add(5*time.Hour), "please call")
	f.escalate(c8, mins(5), 1)
	f.escalate(c8, mins(20), 1)
	f.update(c8)

	// c9 Lettings, Sun 23:00 after hours: text-back at 45 s, claimed at
	// 60 min, callback at 9 h (Monday 08:00), closed no_contact on Monday
	// 16 November 10:00, after the week: open at the week's end.
	c9 := f.open(L, "+447700900009", "call", kpiAt(15, 23, 0), "")
	f.textBack(&c9, 45*time.Second)
	f.claim(&c9, mins(60))
	f.contact(&c9, c9.CreatedAt.Add(mins(540)), false)
	f.update(c9)
	f.close(&c9, "no_contact", kpiAt(16, 10, 0))
	f.update(c9)

	// c10 Lettings, Wed 14:00: the caller texted in (no call, no text-back
	// due); viewing at 2 min, claimed at 4 min, template SMS at 5 min,
	// closed not_qualified.
	c10 := f.open(L, "+447700900010", "sms", kpiAt(11, 14, 0), "not sent: the caller texted in")
	f.text(c10, c10.CreatedAt, "Is the flat on Elm Street still available?")
	f.categorize(&c10, "viewing", mins(2))
	f.claim(&c10, mins(4))
	f.contact(&c10, c10.CreatedAt.Add(mins(5)), true)
	f.close(&c10, "not_qualified", kpiAt(11, 15, 0))
	f.update(c10)

	// c11 Maintenance, Thu 12:00 in hours: the text-back was queued but
	// withdrawn when the caller's next call (12:01) was answered: not due.
	// Maintenance at 4 min, claimed at 3 min, callback at 5 min, closed
	// resolved after one attempt.
	c11 := f.open(M, "+447700900011", "call", kpiAt(12, 12, 0), "")
	f.textBack(&c11, 0)
	f.call(M, c11.CallerNumber, kpiAt(12, 12, 1), false, 0)
	c11.TextbackStatus = "not sent: the caller's next call was answered"
	f.event(c11, kpiAt(12, 12, 1), "textback_canceled", nil)
	f.categorize(&c11, "maintenance", mins(4))
	f.claim(&c11, mins(3))
	f.contact(&c11, c11.CreatedAt.Add(mins(5)), false)
	f.close(&c11, "resolved", kpiAt(12, 13, 0))
	f.update(c11)

	// Outside the week. c0a opened Sunday 8 November 22:00 and was worked
	// inside the week (reply, escalation, contact, close): none of it counts.
	c0a := f.open(L, "+447700900100", "call", kpiAt(8, 22, 0), "")
	f.call(L, "+447700900207", kpiAt(8, 21, 0), false, 0)
	f.textBack(&c0a, 20*time.Second)
	f.text(c0a, kpiAt(9, 8, 0), "1")
	f.categorize(&c0a, "viewing", mins(1))
	f.escalate(c0a, mins(150), 1)
	f.claim(&c0a, mins(630))
	f.contact(&c0a, kpiAt(9, 8, 40), true)
	f.close(&c0a, "reached", kpiAt(10, 9, 0))
	f.update(c0a)
	// c0b opened Tuesday 17 November, after the week: counts nowhere.
	c0b := f.open(L, "+447700900101", "call", kpiAt(17, 9, 0), "")
	f.textBack(&c0b, 10*time.Second)
	f.update(c0b)
	// c0c opened Friday 6 November 10:00 and is still open: only in the
	// backlog, as its oldest case.
	c0c := f.open(L, "+447700900102", "call", kpiAt(6, 10, 0), "")
	f.textBack(&c0c, 15*time.Second)
	f.update(c0c)
}

func kpiPeak(cells map[time.Weekday]map[int]int) [7][24]int {
	var h [7][24]int
	for d, hours := range cells {
		for hr, n := range hours {
			h[d][hr] = n
		}
	}
	return h
}

func kpiSpread(count int, median, p90 time.Duration) *bot.Spread {
	return &bot.Spread{Count: count, Median: median, P90: p90}
}

func kpiAge(d time.Duration) *time.Duration { return &d }

// kpiCheck compares every field of the figures and names the ones that differ.
func kpiCheck(t *testing.T, name string, got, want bot.Figures) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		field := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s.%s = %s, want %s", name, field, gj, wj)
		}
	}
}

func TestKPIsFixtureWeek(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cfg := kpiConfig(t)
		f := &kpiFixture{t: t, ctx: ctx, s: s, cfg: cfg}
		buildKPIWeek(f)
		now := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
		b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: bot.NewManualClock(now), Log: quiet})
		p, err := bot.ISOWeek("2026-W46", now, cfg.Business.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		k, err := b.KPIs(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if k.Period != p {
			t.Errorf("period = %+v, want %+v", k.Period, p)
		}

		mins := kpiMin
		total := bot.Figures{
			// Missed: Lettings c1 c2 c3 c6 c7 c9 = 6; Maintenance c4 ×2,
			// c5 ×2, c8, c11 = 6. Answered: 3 + 3. The unrouted call and
			// the calls outside the week count nowhere.
			Calls:    18, // 12 missed + 6 answered
			Missed:   12, // 6 + 6
			MissRate: &bot.Ratio{Num: 12, Den: 18},
			// After hours: Lettings c7 Fri 18:00, c9 Sun 23:00 = 2;
			// Maintenance c4 Tue 20:00 and 21:00, c5 Wed 07:00, c8 Sat
			// 15:00 = 4 (c5's 09:00 and c11's 12:00 are in hours).
			AfterHours: &bot.Ratio{Num: 6, Den: 12}, // 2 + 4
			Cases:      11,                          // c1…c11
			// Due: c1 c2 c4 c5 c7 c8 c9 = 7 (not c3 withheld, c6 spam,
			// c10 texted in, c11 withdrawn). ≤ 90 s: c1 40 s, c4 30 s,
			// c8 90 s, c9 45 s = 4 (c2 120 s, c5 pending, c7 never sent).
			TextBackWithin90s: &bot.Ratio{Num: 4, Den: 7},
			// Accepted text-backs: c1 c2 c4 c8 c9 = 5; of those the caller
			// texted on c1 c4 c8 = 3 (c10 texted but got no text-back).
			CallerReplies: &bot.Ratio{Num: 3, Den: 5},
			// Claims (min): c1 2, c11 3, c10 4, c2 10, c4 15, c7 20, c5 30,
			// c9 60: n = 8, median (10+15)/2 = 12.5, p90 rank ⌈7.2⌉ = 8 → 60.
			TimeToClaim: kpiSpread(8, mins(12.5), mins(60)),
			TimeToContact: []bot.CategorySpread{
				// c10 5, c1 6: median (5+6)/2 = 5.5, p90 rank ⌈1.8⌉ = 2 → 6.
				{Category: "viewing", Label: "Viewing / lettings", Time: kpiSpread(2, mins(5.5), mins(6))},
				// c11 5, c2 20, c4 180: median 20, p90 rank ⌈2.7⌉ = 3 → 180.
				{Category: "maintenance", Label: "Maintenance", Time: kpiSpread(3, mins(20), mins(180))},
				// c7 25.
				{Category: "compliance", Label: "Compliance", Time: kpiSpread(1, mins(25), mins(25))},
				// c8 never contacted.
				{Category: "urgent", Label: "Urgent safety"},
				// c5 40, c9 540: median (40+540)/2 = 290, p90 rank 2 → 540.
				{Category: "", Label: "Uncategorised", Time: kpiSpread(2, mins(290), mins(540))},
			},
			// 5 5 6 20 25 40 180 540: median (20+25)/2 = 22.5, p90 rank 8 → 540.
			TimeToContactAll: kpiSpread(8, mins(22.5), mins(540)),
			// ≤ 5 min: c1 3, c4 1, c8 5 (exactly), c10 2, c11 4 = 5
			// (c2 8 and c7 25 are late; c3 c5 c6 c9 never categorised).
			TriagedWithin5m: &bot.Ratio{Num: 5, Den: 11},
			// Closed other than spam/wrong_number: c1 booked, c2 reached,
			// c3 no_contact, c4 resolved, c9 no_contact (after the week),
			// c10 not_qualified, c11 resolved = 7; reached/booked/resolved:
			// c1 c2 c4 c11 = 4.
			ContactRate: &bot.Ratio{Num: 4, Den: 7},
			// Of those 4, exactly one attempt: c1 c4 c11 = 3 (c2 had two).
			FirstCycle: &bot.Ratio{Num: 3, Den: 7},
			// c1 reply at 2 min < contact at 6; c4 reply at 1 min and call at
			// 1 h < contact at 3 h; c8 texts at 5 min and 5 h, no contact.
			// Not: c5's call came after contact, c6's text after 26 h, c10's
			// text opened the case.
			Repeat24h: &bot.Ratio{Num: 3, Den: 11},
			// c5 (1), c7 (1, 2), c8 (1, 1 again) = 3 cases; level 1: 3 cases,
			// level 2: 1 case. c0a's escalation is outside.
			Escalated:        &bot.Ratio{Num: 3, Den: 11},
			EscalationLevels: map[int]int{1: 3, 2: 1},
			// SLA met: contact within the category's contact_within (viewing
			// 15m, maintenance 30m, uncategorised 30m) of the cases but spam
			// and wrong number (c6, c7): the lines' 3 of 5 and 1 of 4.
			SLAMet: &bot.Ratio{Num: 4, Den: 9},
			// Open at Mon 16 Nov 00:00: c5, c8, c9 (closed later), c0c = 4;
			// oldest c0c, Fri 6 Nov 10:00 → 9 d 14 h = 230 h.
			Backlog:    4,
			OldestOpen: kpiAge(230 * time.Hour),
			PeakHours: kpiPeak(map[time.Weekday]map[int]int{
				time.Monday:    {12: 3}, // c1 12:00, c2 12:30, c3 12:45
				time.Tuesday:   {20: 1, 21: 1},
				time.Wednesday: {7: 1, 9: 1},
				time.Thursday:  {10: 1, 12: 1},
				time.Friday:    {18: 1},
				time.Saturday:  {15: 1},
				time.Sunday:    {23: 1},
			}),
		}
		kpiCheck(t, "Total", k.Total, total)

		lettings := bot.Figures{
			Calls:    9, // missed c1 c2 c3 c6 c7 c9 + answered 3
			Missed:   6,
			MissRate: &bot.Ratio{Num: 6, Den: 9},
			// c7, c9.
			AfterHours: &bot.Ratio{Num: 2, Den: 6},
			Cases:      7, // c1 c2 c3 c6 c7 c9 c10
			// Due c1 c2 c7 c9; ≤ 90 s c1 c9.
			TextBackWithin90s: &bot.Ratio{Num: 2, Den: 4},
			// Accepted c1 c2 c9; replied c1.
			CallerReplies: &bot.Ratio{Num: 1, Den: 3},
			// 2 4 10 20 60: median 10, p90 rank ⌈4.5⌉ = 5 → 60.
			TimeToClaim: kpiSpread(5, mins(10), mins(60)),
			TimeToContact: []bot.CategorySpread{
				{Category: "viewing", Label: "Viewing / lettings", Time: kpiSpread(2, mins(5.5), mins(6))}, // 5 6
				{Category: "maintenance", Label: "Maintenance", Time: kpiSpread(1, mins(20), mins(20))},    // c2
				{Category: "compliance", Label: "Compliance", Time: kpiSpread(1, mins(25), mins(25))},      // c7
				{Category: "urgent", Label: "Urgent safety"},
				{Category: "", Label: "Uncategorised", Time: kpiSpread(1, mins(540), mins(540))}, // c9
			},
			// 5 6 20 25 540: median 20, p90 rank 5 → 540.
			TimeToContactAll: kpiSpread(5, mins(20), mins(540)),
			// Met c1 c10 (viewing ≤ 15m), c2 (maintenance 20 ≤ 30m); missed
			// c9 (uncategorised, 540 > 30m), c3 (never contacted).
			SLAMet:          &bot.Ratio{Num: 3, Den: 5},
			TriagedWithin5m: &bot.Ratio{Num: 2, Den: 7}, // c1 c10
			// Closed c1 c2 c3 c9 c10 (c6 spam, c7 wrong number); reached c1 c2.
			ContactRate:      &bot.Ratio{Num: 2, Den: 5},
			FirstCycle:       &bot.Ratio{Num: 1, Den: 5}, // c1
			Repeat24h:        &bot.Ratio{Num: 1, Den: 7}, // c1
			Escalated:        &bot.Ratio{Num: 1, Den: 7}, // c7
			EscalationLevels: map[int]int{1: 1, 2: 1},
			Backlog:          2,                       // c9, c0c
			OldestOpen:       kpiAge(230 * time.Hour), // c0c
			PeakHours: kpiPeak(map[time.Weekday]map[int]int{
				time.Monday: {12: 3}, time.Thursday: {10: 1}, time.Friday: {18: 1}, time.Sunday: {23: 1},
			}),
		}
		maintenance := bot.Figures{
			Calls:    9, // missed c4 ×2, c5 ×2, c8, c11 + answered 3
			Missed:   6,
			MissRate: &bot.Ratio{Num: 6, Den: 9},
			// c4 20:00 and 21:00, c5 07:00, c8.
			AfterHours: &bot.Ratio{Num: 4, Den: 6},
			Cases:      4, // c4 c5 c8 c11
			// Due c4 c5 c8; ≤ 90 s c4 c8.
			TextBackWithin90s: &bot.Ratio{Num: 2, Den: 3},
			// Accepted c4 c8; both replied.
			CallerReplies: &bot.Ratio{Num: 2, Den: 2},
			// 3 15 30: median 15, p90 rank ⌈2.7⌉ = 3 → 30.
			TimeToClaim: kpiSpread(3, mins(15), mins(30)),
			TimeToContact: []bot.CategorySpread{
				{Category: "viewing", Label: "Viewing / lettings"},
				// c11 5, c4 180: median (5+180)/2 = 92.5, p90 rank 2 → 180.
				{Category: "maintenance", Label: "Maintenance", Time: kpiSpread(2, mins(92.5), mins(180))},
				{Category: "compliance", Label: "Compliance"},
				{Category: "urgent", Label: "Urgent safety"},
				{Category: "", Label: "Uncategorised", Time: kpiSpread(1, mins(40), mins(40))}, // c5
			},
			// 5 40 180: median 40, p90 rank 3 → 180.
			TimeToContactAll: kpiSpread(3, mins(40), mins(180)),
			// Met c11 (5 ≤ 30m); missed c4 (180), c5 (uncategorised, 40), c8 (never).
			SLAMet:           &bot.Ratio{Num: 1, Den: 4},
			TriagedWithin5m:  &bot.Ratio{Num: 3, Den: 4}, // c4 c8 c11
			ContactRate:      &bot.Ratio{Num: 2, Den: 2}, // c4 c11
			FirstCycle:       &bot.Ratio{Num: 2, Den: 2},
			Repeat24h:        &bot.Ratio{Num: 2, Den: 4}, // c4 c8
			Escalated:        &bot.Ratio{Num: 2, Den: 4}, // c5 c8
			EscalationLevels: map[int]int{1: 2},
			// c5 and c8; oldest c5, Wed 11 Nov 07:00 → 4 d 17 h = 113 h.
			Backlog:    2,
			OldestOpen: kpiAge(113 * time.Hour),
			PeakHours: kpiPeak(map[time.Weekday]map[int]int{
				time.Tuesday: {20: 1, 21: 1}, time.Wednesday: {7: 1, 9: 1}, time.Thursday: {12: 1}, time.Saturday: {15: 1},
			}),
		}
		if len(k.Lines) != 2 {
			t.Fatalf("lines = %d, want Lettings and Maintenance", len(k.Lines))
		}
		for i, want := range []struct {
			name, number string
			f            bot.Figures
		}{{"Lettings", kpiLettings, lettings}, {"Maintenance", kpiMaintenance, maintenance}} {
			got := k.Lines[i]
			if got.Name != want.name || got.Number != want.number {
				t.Errorf("line %d = %s %s, want %s %s", i, got.Name, got.Number, want.name, want.number)
			}
			kpiCheck(t, want.name, got.Figures, want.f)
		}
		if l, ok := k.Line("maintenance"); !ok || l.Number != kpiMaintenance {
			t.Errorf("Line(maintenance) = %+v, %v", l.Number, ok)
		}

		stats, err := b.StatsText(ctx, "2026-W46")
		text := stats.String()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("/callbacks stats 2026-W46:\n%s", text)
		for _, want := range []string{
			"2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)",
			"12 of 18 calls (miss rate 67%): Lettings 6, Maintenance 6",
			"After-hours share: 6 / 12 (50%)",
			"Text-back within 90 s: 4 / 7 (57%)",
			"Caller reply rate: 3 / 5 (60%)",
			"Time to claim: median 13 min, p90 1 h (8 cases)", // 12.5 min rounds up
			"Time to first human contact: median 23 min, p90 9 h (8 cases)",
			"Maintenance: median 20 min, p90 3 h (3 cases)",
			"Uncategorised: median 4 h 50 min, p90 9 h (2 cases)",
			"Triaged within 5 min: 5 / 11 (45%)",
			"Contact rate: 4 / 7 (57%)",
			"First-cycle resolution: 3 / 7 (43%)",
			"Repeat contact within 24 h: 3 / 11 (27%)",
			"Escalations: 3 / 11 (27%); level 1: 3, level 2: 1",
			"Backlog: 4 open at the period's end, oldest 9 d 14 h",
			"Peak miss hours: Mon 12:00–13:00: 3, Tue 20:00–21:00: 1, Tue 21:00–22:00: 1",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("stats text lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "Urgent safety") {
			t.Errorf("stats text lists a category without data:\n%s", text)
		}
	})
}

// Peak hours are read in the line's own time zone.
func TestKPIPeakHoursInLineTimezone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cfg := kpiConfig(t)
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Lines[1].Timezone = ny
		f := &kpiFixture{t: t, ctx: ctx, s: s, cfg: cfg}
		// Tuesday 10 November 03:30 UTC is Monday 9 November 22:30 in New York (UTC−5).
		f.open(kpiMaintenance, "+447700900001", "call", kpiAt(10, 3, 30), "")
		now := kpiAt(18, 10, 0)
		b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: bot.NewManualClock(now), Log: quiet})
		p, _ := bot.ISOWeek("2026-W46", now, cfg.Business.Timezone)
		k, err := b.KPIs(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want := kpiPeak(map[time.Weekday]map[int]int{time.Monday: {22: 1}})
		if k.Total.PeakHours != want || k.Lines[1].PeakHours != want {
			t.Errorf("peak hours: total %v, line %v; want Monday 22:00 only", k.Total.PeakHours, k.Lines[1].PeakHours)
		}
	})
}

// An empty week has counts of 0 and no ratios or times at all.
func TestKPIsEmptyWeekHasNoData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := kpiConfig(t)
		now := kpiAt(18, 10, 0)
		b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: bot.NewManualClock(now), Log: quiet})
		p, _ := bot.ISOWeek("last", now, cfg.Business.Timezone)
		k, err := b.KPIs(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		f := k.Total
		if f.Calls != 0 || f.Cases != 0 || f.Backlog != 0 || f.MissRate != nil || f.AfterHours != nil ||
			f.TextBackWithin90s != nil || f.CallerReplies != nil || f.TimeToClaim != nil || f.TimeToContactAll != nil ||
			f.TriagedWithin5m != nil || f.ContactRate != nil || f.FirstCycle != nil || f.Repeat24h != nil ||
			f.Escalated != nil || f.EscalationLevels != nil || f.OldestOpen != nil {
			t.Errorf("empty week: %+v", f)
		}
		stats, err := b.StatsText(context.Background(), "last")
		if err != nil {
			t.Fatal(err)
		}
		text := stats.String()
		if !strings.Contains(text, "Time to claim: no data") || !strings.Contains(text, "Peak miss hours: no data") {
			t.Errorf("empty stats text:\n%s", text)
		}
	})
}

func TestKPIISOWeek(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC) // Wednesday of 2026-W47
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, london) }
	for _, tc := range []struct {
		spec, now string
		from, to  time.Time
		label     string
	}{
		{"2026-W46", "", day(2026, 11, 9), day(2026, 11, 16), "2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)"},
		{" 2026-w46 ", "", day(2026, 11, 9), day(2026, 11, 16), "2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)"},
		{"last", "", day(2026, 11, 9), day(2026, 11, 16), "2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)"},
		{"", "", day(2026, 11, 16), now, "2026-W47 so far (Mon 16 Nov – Wed 18 Nov 10:00)"},
		{"2026-W47", "", day(2026, 11, 16), now, "2026-W47 so far (Mon 16 Nov – Wed 18 Nov 10:00)"},
		// 2026-W13 spans the start of British Summer Time: 167 hours.
		{"2026-W13", "", day(2026, 3, 23), day(2026, 3, 30), "2026-W13 (Mon 23 Mar – Sun 29 Mar 2026)"},
		// ISO weeks that cross years.
		{"2025-W01", "", day(2024, 12, 30), day(2025, 1, 6), "2025-W01 (Mon 30 Dec – Sun 5 Jan 2025)"},
		{"2020-W53", "", day(2020, 12, 28), day(2021, 1, 4), "2020-W53 (Mon 28 Dec – Sun 3 Jan 2021)"},
		{"last", "2027-01-06T09:00:00Z", day(2026, 12, 28), day(2027, 1, 4), "2026-W53 (Mon 28 Dec – Sun 3 Jan 2027)"},
		// Sunday 23:30 in London is still that week.
		{"", "2026-11-15T23:30:00Z", day(2026, 11, 9), time.Date(2026, 11, 15, 23, 30, 0, 0, time.UTC), "2026-W46 so far (Mon 9 Nov – Sun 15 Nov 23:30)"},
	} {
		n := now
		if tc.now != "" {
			n, _ = time.Parse(time.RFC3339, tc.now)
		}
		p, err := bot.ISOWeek(tc.spec, n, london)
		if err != nil {
			t.Errorf("ISOWeek(%q): %v", tc.spec, err)
			continue
		}
		if !p.From.Equal(tc.from) || !p.To.Equal(tc.to) || p.Label != tc.label {
			t.Errorf("ISOWeek(%q) = %s → %s %q, want %s → %s %q", tc.spec, p.From, p.To, p.Label, tc.from, tc.to, tc.label)
		}
	}
	if p, _ := bot.ISOWeek("2026-W13", now, london); p.To.Sub(p.From) != 167*time.Hour {
		t.Errorf("2026-W13 lasts %s, want 167h (the clocks go forward)", p.To.Sub(p.From))
	}
	for _, spec := range []string{"W46", "2026-46", "2026-W00", "2026-W54", "2021-W53", "next", "2026-W46x", "46", "2027-W01"} {
		if _, err := bot.ISOWeek(spec, now, london); err == nil || !strings.HasPrefix(err.Error(), "bot: ") {
			t.Errorf("ISOWeek(%q) error = %v, want a bot: error", spec, err)
		}
	}
}

func TestKPIStatsRefusesBadWeek(t *testing.T) {
	s := storetest.New(t, "sqlite")
	b := bot.New(bot.Deps{Store: s, Config: kpiConfig(t), Clock: bot.NewManualClock(kpiAt(18, 10, 0)), Log: quiet})
	_, err := b.StatsText(context.Background(), "2026-46")
	var r *bot.Refusal
	if !errors.As(err, &r) || !strings.Contains(r.Message, "Usage: /callbacks stats [week]") || !strings.Contains(r.Message, "2026-W46") {
		t.Fatalf("StatsText(bad week) = %v, want a refusal with the usage", err)
	}
	text, err := b.StatsText(context.Background(), "")
	if err != nil || !strings.Contains(text.String(), "2026-W47 so far") {
		t.Fatalf("StatsText(\"\") = %q, %v", text, err)
	}
}

// kpiBench sizes the benchmark database: a year of a busy business.
const (
	kpiBenchCases = 200_000
	kpiBenchCalls = 1_000_000 // 5 per case: the missed call, a repeat for every 4th case, answered calls
	kpiBenchEvery = 157       // seconds between cases: 200,000 × 157 s ≈ 363 days
)

// kpiBenchBuild fills s with kpiBenchCalls calls and kpiBenchCases cases
// (with their text-backs, replies, staff texts and events) from Monday 17
// November 2025, in one transaction of multi-row INSERT … SELECT statements:
// generate_series on PostgreSQL, a recursive CTE on SQLite.
func kpiBenchBuild(b testing.TB, s *store.Store) {
	b.Helper()
	ctx := context.Background()
	base := time.Date(2025, 11, 17, 0, 0, 0, 0, time.UTC).Unix()
	pg := s.Dialect() == "postgres"
	series := func(n int) string {
		if pg {
			return fmt.Sprintf("WITH g(i) AS (SELECT generate_series(1, %d)) ", n)
		}
		return fmt.Sprintf("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d) ", n)
	}
	// ts is a timestamp base + secs (an SQL expression) as each engine
	// stores it; on SQLite the driver's "_time_format=sqlite" text.
	ts := func(secs string) string {
		if pg {
			return fmt.Sprintf("to_timestamp(%d + %s)", base, secs)
		}
		return fmt.Sprintf("(strftime('%%Y-%%m-%%d %%H:%%M:%%S', %d + %s, 'unixepoch') || '+00:00')", base, secs)
	}
	at := func(c string) string { return c + " * " + strconv.Itoa(kpiBenchEvery) } // case c's creation, in seconds
	open := fmt.Sprintf("(i > %d OR i %% 997 = 0)", kpiBenchCases-300)
	line := "CASE WHEN i % 2 = 0 THEN '+441632960001' ELSE '+441632960002' END"
	caller := "'+4477' || (10000000 + i)"
	stmts := []string{
		series(kpiBenchCases) + `INSERT INTO cases (id, line_number, caller_number, state, origin, category, categorized_at,
			urgent, spam, after_hours, owner, claimed_at, first_contact_at, contact_attempts, call_count, last_call_at,
			textback_status, escalation_level, outcome, close_note, closed_by, closed_at, created_at, updated_at)
		SELECT i, ` + line + `, ` + caller + `,
			CASE WHEN ` + open + ` THEN 'open' ELSE 'closed' END,
			CASE WHEN i % 20 = 0 THEN 'sms' ELSE 'call' END,
			CASE i % 5 WHEN 0 THEN 'viewing' WHEN 1 THEN 'maintenance' WHEN 2 THEN 'compliance' WHEN 3 THEN 'urgent' ELSE '' END,
			CASE WHEN i % 5 <> 4 THEN ` + ts(at("i")+" + i % 600") + ` END,
			(i % 5 = 3), (i % 50 = 0), (i % 3 = 0),
			CASE WHEN i % 10 <> 0 THEN 'U0ALICE' ELSE '' END,
			CASE WHEN i % 10 <> 0 THEN ` + ts(at("i")+" + i % 1800") + ` END,
			CASE WHEN i % 8 <> 0 THEN ` + ts(at("i")+" + 60 + i % 3600") + ` END,
			CASE WHEN i % 8 <> 0 THEN 1 + i % 3 ELSE 0 END,
			CASE WHEN i % 4 = 0 THEN 2 ELSE 1 END, ` + ts(at("i")) + `,
			'delivered', CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END,
			CASE WHEN ` + open + ` THEN '' ELSE CASE i % 7 WHEN 0 THEN 'booked' WHEN 1 THEN 'resolved' WHEN 2 THEN 'reached'
				WHEN 3 THEN 'no_contact' WHEN 4 THEN 'not_qualified' WHEN 5 THEN 'spam' ELSE 'wrong_number' END END,
			'', '', CASE WHEN ` + open + ` THEN NULL ELSE ` + ts(at("i")+" + 3600 + i % 86400") + ` END,
			` + ts(at("i")) + `, ` + ts(at("i")) + `
		FROM g`,
		// Call j belongs to case c = (j-1)/5+1: k = 0 is the missed call that
		// opened it, k = 1 a repeat missed call on every 4th case, the rest
		// answered calls from other numbers.
		series(kpiBenchCalls) + `INSERT INTO calls (sid, provider, line_number, routed, caller_number, status, missed,
			after_hours, started_at, duration_s, case_id, created_at, updated_at)
		SELECT 'bench-' || j, 'twilio', CASE WHEN c % 2 = 0 THEN '+441632960001' ELSE '+441632960002' END, (1 = 1),
			CASE WHEN k = 0 OR (k = 1 AND c % 4 = 0) THEN '+4477' || (10000000 + c) ELSE '+4478' || (10000000 + j) END,
			CASE WHEN k = 0 OR (k = 1 AND c % 4 = 0) THEN 'no-answer' ELSE 'completed' END,
			(k = 0 OR (k = 1 AND c % 4 = 0)), (c % 3 = 0), ` + ts(at("c")+" + k * 30") + `, 0,
			CASE WHEN k = 0 OR (k = 1 AND c % 4 = 0) THEN c END, ` + ts(at("c")+" + k * 30") + `, ` + ts(at("c")+" + k * 30") + `
		FROM (SELECT i AS j, (i - 1) / 5 + 1 AS c, (i - 1) % 5 AS k FROM g) x`,
		series(kpiBenchCases) + `INSERT INTO messages (sid, case_id, direction, kind, line_number, caller_number, body,
			status, accepted_at, created_at, updated_at)
		SELECT 'SMtb' || i, i, 'out', 'textback', ` + line + `, ` + caller + `, 'Hi', 'delivered',
			` + ts(at("i")+" + 20 + i % 120") + `, ` + ts(at("i")) + `, ` + ts(at("i")) + ` FROM g`,
		series(kpiBenchCases) + `INSERT INTO messages (sid, case_id, direction, kind, line_number, caller_number, body,
			status, created_at, updated_at)
		SELECT 'SMin' || i, i, 'in', 'reply', ` + line + `, ` + caller + `, '1', 'received',
			` + ts(at("i")+" + 120") + `, ` + ts(at("i")+" + 120") + ` FROM g WHERE i % 2 = 0`,
		series(kpiBenchCases) + `INSERT INTO messages (sid, case_id, direction, kind, line_number, caller_number, body,
			sent_by, status, accepted_at, created_at, updated_at)
		SELECT 'SMtp' || i, i, 'out', 'template', ` + line + `, ` + caller + `, 'Hi', 'U0ALICE', 'delivered',
			` + ts(at("i")+" + 60 + i % 3600") + `, ` + ts(at("i")+" + 60 + i % 3600") + `, ` + ts(at("i")+" + 60 + i % 3600") + `
		FROM g WHERE i % 8 <> 0`,
		series(kpiBenchCases) + `INSERT INTO events (case_id, at, kind, data)
		SELECT i, ` + ts(at("i")) + `, 'case_opened', '{}' FROM g
		UNION ALL SELECT i, ` + ts(at("i")+" + i % 1800") + `, 'claimed', '{}' FROM g WHERE i % 10 <> 0
		UNION ALL SELECT i, ` + ts(at("i")+" + 120") + `, 'sms_received', '{}' FROM g WHERE i % 2 = 0
		UNION ALL SELECT i, ` + ts(at("i")+" + 600") + `, 'escalated', '{"level": 1, "step": 0}' FROM g WHERE i % 7 = 0
		UNION ALL SELECT i, ` + ts(at("i")+" + 1800") + `, 'escalated', '{"level": 2, "step": 1}' FROM g WHERE i % 21 = 0
		UNION ALL SELECT i, ` + ts(at("i")+" + 3600 + i % 86400") + `, 'closed', '{}' FROM g WHERE NOT ` + open,
	}
	start := time.Now()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			b.Fatalf("%v\n%s", err, q)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// What autovacuum would have done by now on a live PostgreSQL.
	if pg {
		if _, err := s.DB().ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: built %d cases and %d calls in %s", s.Dialect(), kpiBenchCases, kpiBenchCalls, time.Since(start).Round(time.Millisecond))
}

// kpiBenchWeek builds the benchmarks' year on backend, once per backend and
// outside the timed sub-benchmark, which the testing package runs several
// times; it returns a bot on it and the week 2026-W20.
func kpiBenchWeek(b *testing.B, backend string) (*bot.Bot, bot.Period) {
	b.Helper()
	s := storetest.New(b, backend)
	kpiBenchBuild(b, s)
	cfg := kpiConfig(b)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	bt := bot.New(bot.Deps{Store: s, Config: cfg, Clock: bot.NewManualClock(now), Log: quiet})
	p, err := bot.ISOWeek("2026-W20", now, cfg.Business.Timezone)
	if err != nil {
		b.Fatal(err)
	}
	return bt, p
}

// BenchmarkKPIsWeek times the KPIs of one week (2026-W20) in a database of
// a year: 1,000,000 calls and 200,000 cases. Budget: 2 s on PostgreSQL.
func BenchmarkKPIsWeek(b *testing.B) {
	for _, backend := range storetest.Backends(b) {
		bt, p := kpiBenchWeek(b, backend)
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			var k bot.KPIs
			var err error
			for b.Loop() {
				if k, err = bt.KPIs(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			if k.Total.Cases < 3000 || k.Total.Calls < 15000 {
				b.Fatalf("week %s: %d cases, %d calls: the data is not where the benchmark looks", p.Label, k.Total.Cases, k.Total.Calls)
			}
		})
	}
}

// "So far" stats taken while a fresh case's text-back is still on its way
// count it neither for nor against the 90 s target; one older than 90 s
// without a text-back counts against it.
func TestKPITextBackStillOnItsWayIsNotLate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cfg := kpiConfig(t)
		f := &kpiFixture{t: t, ctx: ctx, s: s, cfg: cfg}
		now := kpiAt(18, 10, 0)
		fresh := f.open(kpiLettings, "+447700900001", "call", now.Add(-30*time.Second), "")
		f.textBack(&fresh, 0)
		f.update(fresh)
		late := f.open(kpiLettings, "+447700900002", "call", now.Add(-2*time.Minute), "")
		f.textBack(&late, 0)
		f.update(late)
		sent := f.open(kpiLettings, "+447700900003", "call", now.Add(-20*time.Second), "")
		f.textBack(&sent, 5*time.Second)
		f.update(sent)
		b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: bot.NewManualClock(now), Log: quiet})
		p, err := bot.ISOWeek("this", now, cfg.Business.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		k, err := b.KPIs(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := k.Total.TextBackWithin90s, (&bot.Ratio{Num: 1, Den: 2}); got == nil || *got != *want {
			t.Errorf("text-back within 90 s so far = %+v, want %+v (the 30 s old case is still on its way)", got, want)
		}
	})
}
