package bot_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// The digest's fixture week is 2026-W46 (Mon 9 – Sun 15 November 2026,
// London = UTC in November), worked through the bot as staff would:
//
//	W45 Tue 3 Nov 11:00  Lettings     missed call → case 0, never worked
//	Mon 9   10:00  Lettings     missed (caller A) → case 1: Alice claims 10:05, calls back
//	               (reached) 10:12, closes booked 10:20
//	Mon 9   10:30  Lettings     answered call
//	Tue 10  14:00  Maintenance  missed (caller C) → case 2: Bob claims 14:03, calls back
//	               (no answer) 14:33, leaves it open
//	Wed 11  20:00  Lettings     missed after hours (caller D) → case 3: nobody claims
//	Thu 12  09:15  Lettings     missed (caller A again) → case 4: Alice claims 09:20 and
//	               closes it no_contact 09:40
type digestFixture struct {
	bot   *bot.Bot
	clock *bot.ManualClock
	week  bot.Period
	cases [5]int64 // case ids, by the numbers above
}

func nov(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, time.UTC)
}

// digest is the fixture week's digest of line (every line when "").
func (f *digestFixture) digest(t *testing.T, line string) bot.Digest {
	t.Helper()
	d, err := f.bot.Digest(context.Background(), f.week, line)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newDigestFixture(t *testing.T, s *store.Store) *digestFixture {
	t.Helper()
	ctx := context.Background()
	clock := bot.NewManualClock(nov(3, 11, 0))
	b := bot.New(bot.Deps{Store: s, Config: kpiConfig(t), Clock: clock, Log: quiet})
	if err := b.SyncTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	f := &digestFixture{bot: b, clock: clock}
	n := 0
	call := func(when time.Time, from, to string, outcome bot.CallOutcome) int64 {
		t.Helper()
		clock.Set(when)
		n++
		res, err := b.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA" + strings.Repeat("0", 30) + string(rune('a'+n)),
			From: from, To: to, Outcome: outcome, Status: "no-answer"})
		if err != nil {
			t.Fatal(err)
		}
		return res.CaseID
	}
	act := func(when time.Time, err func() error) {
		t.Helper()
		clock.Set(when)
		if e := err(); e != nil {
			t.Fatal(e)
		}
	}
	const callerA, callerB, callerC, callerD = "+447700900101", "+447700900102", "+447700900103", "+447700900104"
	f.cases[0] = call(nov(3, 11, 0), "+447700900100", kpiLettings, bot.CallMissed)

	f.cases[1] = call(nov(9, 10, 0), callerA, kpiLettings, bot.CallMissed)
	act(nov(9, 10, 5), func() error { _, err := b.Claim(ctx, f.cases[1], alice); return err })
	act(nov(9, 10, 12), func() error {
		_, err := b.LogCallback(ctx, f.cases[1], alice, "reached", "booked a viewing")
		return err
	})
	act(nov(9, 10, 20), func() error { _, err := b.Close(ctx, f.cases[1], alice, "booked", "Thursday 2pm"); return err })
	call(nov(9, 10, 30), callerB, kpiLettings, bot.CallAnswered)

	f.cases[2] = call(nov(10, 14, 0), callerC, kpiMaintenance, bot.CallMissed)
	act(nov(10, 14, 3), func() error { _, err := b.Claim(ctx, f.cases[2], bob); return err })
	act(nov(10, 14, 33), func() error { _, err := b.LogCallback(ctx, f.cases[2], bob, "no_answer", ""); return err })

	f.cases[3] = call(nov(11, 20, 0), callerD, kpiLettings, bot.CallMissed)

	f.cases[4] = call(nov(12, 9, 15), callerA, kpiLettings, bot.CallMissed)
	act(nov(12, 9, 20), func() error { _, err := b.Claim(ctx, f.cases[4], alice); return err })
	act(nov(12, 9, 40), func() error { _, err := b.Close(ctx, f.cases[4], alice, "no_contact", "no answer twice"); return err })

	clock.Set(nov(20, 9, 0))
	var err error
	if f.week, err = bot.ISOWeek("2026-W46", clock.Now(), kpiConfig(t).Business.Timezone); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDigestFixtureWeek(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newDigestFixture(t, s)
		d := f.digest(t, "")
		if got := d.Scopes(); strings.Join(got, ",") != "total,Lettings,Maintenance" {
			t.Fatalf("scopes %v", got)
		}
		if d.KPIs.Total.Calls != 5 || d.KPIs.Total.Missed != 4 || d.Previous.Total.Missed != 1 {
			t.Fatalf("calls %d, missed %d, missed the week before %d; want 5, 4, 1", d.KPIs.Total.Calls, d.KPIs.Total.Missed, d.Previous.Total.Missed)
		}
		if !strings.HasPrefix(d.Previous.Period.Label, "2026-W45 (Mon 2 Nov") {
			t.Errorf("previous week %q", d.Previous.Period.Label)
		}

		row := func(scope, kpi string) bot.DigestRow {
			t.Helper()
			for _, r := range d.Rows() {
				if r.Scope == scope && r.KPI == kpi {
					return r
				}
			}
			t.Fatalf("no row %s/%s", scope, kpi)
			return bot.DigestRow{}
		}
		for _, c := range []struct{ scope, kpi, value, change string }{
			{"total", "missed_calls", "4", "▲ 3"},
			{"total", "miss_rate", "80%", "▼ 20 pts"},
			{"total", "after_hours_share", "25%", "▲ 25 pts"},
			{"total", "time_to_claim_median", "5 min", ""},
			{"total", "contact_rate", "50%", ""},
			{"total", "backlog", "3", "▲ 2"},
			{"total", "oldest_open_age", "12 d 13 h", "▲ 7 d"},
			{"Lettings", "missed_calls", "3", "▲ 2"},
			{"Maintenance", "time_to_contact_median", "33 min", ""},
		} {
			r := row(c.scope, c.kpi)
			if r.ValueText() != c.value || r.ChangeText() != c.change {
				t.Errorf("%s %s = %q %q, want %q %q", c.scope, c.kpi, r.ValueText(), r.ChangeText(), c.value, c.change)
			}
		}
		if r := row("total", "miss_rate"); r.RatioText() != "4/5" {
			t.Errorf("miss rate parts %q", r.RatioText())
		}

		if len(d.Staff) != 2 {
			t.Fatalf("staff %+v", d.Staff)
		}
		a, b := d.Staff[0], d.Staff[1]
		if a.User != alice.ID || a.Claims != 2 || a.Contacted != 1 || *a.FirstContact != 12*time.Minute ||
			a.Closed != 2 || a.Outcomes["booked"] != 1 || a.Outcomes["no_contact"] != 1 {
			t.Errorf("Alice's row %+v", a)
		}
		if b.User != bob.ID || b.Claims != 1 || b.Contacted != 1 || *b.FirstContact != 33*time.Minute || b.Closed != 0 {
			t.Errorf("Bob's row %+v", b)
		}

		// Open at the week's end: the case of the week before, and cases 2 and 3.
		if len(d.Oldest) != 3 || d.Oldest[0].CaseID != f.cases[0] || d.Oldest[1].CaseID != f.cases[2] || d.Oldest[2].CaseID != f.cases[3] {
			t.Fatalf("oldest open %+v", d.Oldest)
		}
		if o := d.Oldest[1]; o.Age != 5*24*time.Hour+10*time.Hour || o.Owner != bob.ID || o.Line != "Maintenance" {
			t.Errorf("oldest %+v", o)
		}

		want := [7][2]int{{1, 1}, {1, 1}, {1, 0}, {1, 0}, {0, 0}, {0, 0}, {0, 0}}
		if len(d.Daily) != 7 {
			t.Fatalf("%d days", len(d.Daily))
		}
		for i, day := range d.Daily {
			if day.Day.Day() != 9+i || day.Missed != want[i][0] || day.Reached != want[i][1] {
				t.Errorf("day %d: %s missed %d reached %d, want %v", i, day.Day.Format("Mon 2"), day.Missed, day.Reached, want[i])
			}
		}
	})
}

func TestDigestOfOneLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newDigestFixture(t, s)
		d := f.digest(t, "maintenance")
		if d.Line != "Maintenance" || strings.Join(d.Scopes(), ",") != "Maintenance" || d.KPIs.Total.Missed != 1 {
			t.Fatalf("line %q, scopes %v, missed %d", d.Line, d.Scopes(), d.KPIs.Total.Missed)
		}
		if len(d.Staff) != 1 || d.Staff[0].User != bob.ID || len(d.Oldest) != 1 || d.Oldest[0].CaseID != f.cases[2] {
			t.Fatalf("staff %+v, oldest %+v", d.Staff, d.Oldest)
		}
		if d.Daily[1].Missed != 1 || d.Daily[0].Missed != 0 {
			t.Fatalf("days %+v", d.Daily)
		}
		if _, err := f.bot.Digest(context.Background(), f.week, "Sales"); err == nil || !strings.Contains(err.Error(), "Lettings, Maintenance") {
			t.Fatalf("an unknown line: %v", err)
		}
	})
}

func TestDigestFormats(t *testing.T) {
	f := newDigestFixture(t, storetest.New(t, "sqlite"))
	d := f.digest(t, "")
	d.Oldest[2].Caller = "Eve \x1b[2J<!channel>" // a name from an import, with a terminal escape

	text := d.Text()
	for _, want := range []string{
		"Weekly digest, 2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)",
		"against 2026-W45",
		"All lines", "Lettings", "Maintenance",
		"Miss rate", "80%", "4/5", "▼ 20 pts",
		"Time to claim, median",
		"U0ALICE", "12 min", "booked", "no_contact",
		"#" + strconv.FormatInt(f.cases[2], 10), "5 d 10 h",
		"Mon 9 Nov",
		"Peak miss hours",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Error("a terminal escape reached the text")
	}
	// The table's columns line up: every value of a row starts where the
	// scope's header does.
	lines := strings.Split(text, "\n")
	var header, miss string
	for _, l := range lines {
		if strings.HasPrefix(l, "KPI ") {
			header = l
		}
		if strings.HasPrefix(l, "Miss rate") {
			miss = l
		}
	}
	if header == "" || miss == "" || len([]rune(miss)) < len([]rune(header))-len("Maintenance") {
		t.Errorf("table is not aligned:\n%s\n%s", header, miss)
	}

	raw, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Period struct{ Label string }
		KPIs   []struct {
			Scope, KPI              string
			Value, Previous, Change *float64
			Numerator, Denominator  *int
		} `json:"kpis"`
		Staff []struct {
			User        string
			Claims      int
			MedianFirst *int64 `json:"median_first_contact_s"`
			Outcomes    map[string]int
		}
		Oldest []struct {
			Ref  string
			AgeS int64 `json:"age_s"`
		} `json:"oldest_open"`
		Daily []struct {
			Date            string
			Missed, Reached int
		}
		Peak map[string]map[string][]int `json:"peak_missed_calls"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	found := false
	for _, k := range doc.KPIs {
		if k.Scope == "total" && k.KPI == "miss_rate" {
			found = true
			if *k.Value != 80 || *k.Numerator != 4 || *k.Denominator != 5 || *k.Previous != 100 || *k.Change != -20 {
				t.Errorf("miss rate in JSON: %+v", k)
			}
		}
	}
	if !found || len(doc.Staff) != 2 || *doc.Staff[0].MedianFirst != 720 || doc.Staff[0].Outcomes["booked"] != 1 {
		t.Errorf("JSON: %s", raw)
	}
	if doc.Oldest[1].AgeS != (5*24+10)*3600 || doc.Daily[0].Date != "2026-11-09" || doc.Daily[0].Missed != 1 {
		t.Errorf("JSON oldest %+v, daily %+v", doc.Oldest, doc.Daily)
	}
	if doc.Peak["Lettings"]["mon"][10] != 1 || doc.Peak["total"]["wed"][20] != 1 {
		t.Errorf("JSON peak hours %v", doc.Peak)
	}

	raw, err = d.CSV()
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "scope,kpi,value,numerator,denominator,previous,change" {
		t.Fatalf("CSV header %v", records[0])
	}
	rows := map[string]string{}
	for _, r := range records[1:] {
		rows[r[0]+"/"+r[1]] = strings.Join(r[2:], ",")
	}
	for key, want := range map[string]string{
		"total/miss_rate":                   "80,4,5,100,-20",
		"total/missed_calls":                "4,,,1,3",
		"Maintenance/time_to_claim_median":  "180,,1,,",
		"total/contact_rate":                "50,1,2,,",
		"Lettings/peak_missed_calls.wed.20": "1,,,0,1",
		"total/escalated":                   "0,0,4,0,0",
	} {
		if rows[key] != want {
			t.Errorf("CSV %s = %q, want %q", key, rows[key], want)
		}
	}
}

// BenchmarkDigestWeek times a week's digest (2026-W20) in a database of a
// year: 1,000,000 calls and 200,000 cases, built by the KPI benchmark's
// generator. Budget: 2 s on PostgreSQL.
func BenchmarkDigestWeek(b *testing.B) {
	for _, backend := range storetest.Backends(b) {
		bt, p := kpiBenchWeek(b, backend)
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			var d bot.Digest
			var err error
			for b.Loop() {
				if d, err = bt.Digest(ctx, p, ""); err != nil {
					b.Fatal(err)
				}
				if _, err := d.JSON(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			if d.KPIs.Total.Cases < 3000 || len(d.Staff) == 0 || len(d.Oldest) != 5 || d.Daily[0].Missed == 0 {
				b.Fatalf("week %s: %d cases, %d staff, %d oldest: the data is not where the benchmark looks",
					p.Label, d.KPIs.Total.Cases, len(d.Staff), len(d.Oldest))
			}
		})
	}
}
