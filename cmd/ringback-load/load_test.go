package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/bot/chat"
	rbslack "ringback/bot/slack"
	"ringback/cmd/internal/harness"
	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

// Every caller of a run is a distinct, valid-looking GB number that
// Ringback itself normalizes to the same E.164 string (else its text
// would go to a number the load command does not expect).
func TestCallerNumbersAreDistinctAndNormal(t *testing.T) {
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 9, 10, 4999, 50_000, maxCallsPerRun - 1} {
		n := callerNumber(i)
		if seen[n] {
			t.Fatalf("callerNumber(%d) = %s repeats", i, n)
		}
		seen[n] = true
		e164, err := config.Normalize(n, "GB")
		if err != nil || e164 != n {
			t.Errorf("Normalize(%s) = %q, %v", n, e164, err)
		}
		if strings.HasPrefix(n, seedCallerPrefix) {
			t.Errorf("caller %s is in the seeded callers' range", n)
		}
	}
}

// The caller is read back from the card as Ringback's Slack adapter writes
// it.
func TestCardCallerReadsTheRenderedCard(t *testing.T) {
	n := callerNumber(123)
	text := rbslack.CardText(chat.Card{Caller: chat.Caller{E164: n, Number: config.Format(n, "GB")}, Line: "Lettings"})
	if got := cardCaller(text); got != n {
		t.Errorf("cardCaller(%q) = %q, want %s", text, got, n)
	}
	if got := cardCaller("#12 closed: resolved"); got != "" {
		t.Errorf("a closed card's text names %q", got)
	}
}

func TestAnalyzeCountsLostDuplicateStrayAndErrors(t *testing.T) {
	t0 := time.Now()
	mk := func(from string, status int) call {
		return call{from: from, target: t0, sent: t0, acked: t0.Add(2 * time.Millisecond), status: status}
	}
	calls := []call{
		mk("+447700900000", http.StatusOK),                  // one text, one card
		mk("+447700900001", http.StatusOK),                  // lost text, two cards
		mk("+447700900002", http.StatusOK),                  // two texts, no card
		mk("+447700900003", http.StatusInternalServerError), // error, nothing
	}
	texts := []posted{
		{to: "+447700900000", at: t0.Add(30 * time.Millisecond)},
		{to: "+447700900002", at: t0.Add(50 * time.Millisecond)},
		{to: "+447700900002", at: t0.Add(40 * time.Millisecond)},
		{to: "+447700999999", at: t0},
	}
	cards := []posted{
		{to: "+447700900000", at: t0.Add(200 * time.Millisecond)},
		{to: "+447700900001", at: t0.Add(300 * time.Millisecond)},
		{to: "+447700900001", at: t0.Add(310 * time.Millisecond)},
	}
	r := analyze("sqlite", 50, calls, texts, true)
	r.addCards(calls, cards, 1)
	if r.LostTexts != 1 || r.DupTexts != 1 || r.Errors != 1 || r.StrayTexts != 1 || r.Texts != 4 || r.Acked != 3 {
		t.Fatalf("texts: lost %d dup %d errors %d stray %d texts %d acked %d", r.LostTexts, r.DupTexts, r.Errors, r.StrayTexts, r.Texts, r.Acked)
	}
	if r.LostCards != 1 || r.DupCards != 1 || r.StrayCards != 0 || r.Cards != 3 || r.OtherPosts != 1 {
		t.Fatalf("cards: lost %d dup %d stray %d cards %d others %d", r.LostCards, r.DupCards, r.StrayCards, r.Cards, r.OtherPosts)
	}
	if r.lost() != 2 || r.duplicated() != 2 || r.clean() {
		t.Errorf("lost %d duplicated %d clean %v", r.lost(), r.duplicated(), r.clean())
	}
	if r.Ack.N != 3 || r.Ack.P99 != 2*time.Millisecond {
		t.Errorf("ack = %+v", r.Ack)
	}
	// The earlier of two texts counts.
	if r.Text.N != 2 || r.Text.P50 != 30*time.Millisecond || r.Text.Max != 40*time.Millisecond {
		t.Errorf("text = %+v", r.Text)
	}
	if r.Card.N != 2 || r.Card.Max != 300*time.Millisecond {
		t.Errorf("card = %+v", r.Card)
	}
}

// A generator that is held up (a closed loop waiting for answers, a
// stalled machine) sends late; counted from the actual send its calls look
// fast. Counted from the plan, the wait is in every figure.
func TestLatencyCountsFromThePlannedSendTime(t *testing.T) {
	t0 := time.Now()
	var calls []call
	var texts []posted
	for i := range 100 {
		target := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		sent := target
		if i >= 40 && i < 50 {
			sent = t0.Add(700 * time.Millisecond) // held up until then
		}
		from := callerNumber(i)
		calls = append(calls, call{from: from, target: target, sent: sent, acked: sent.Add(2 * time.Millisecond), status: http.StatusOK})
		texts = append(texts, posted{to: from, at: sent.Add(30 * time.Millisecond)})
	}
	r := analyze("postgres", 100, calls, texts, false)
	if r.Ack.P99 < 290*time.Millisecond || r.Text.P99 < 320*time.Millisecond || r.Lag.P99 < 290*time.Millisecond {
		t.Errorf("the 300 ms hold-up is not in p99: ack %s, text %s, lag %s", r.Ack.P99, r.Text.P99, r.Lag.P99)
	}
	if ok, why := r.meets(); ok || !strings.Contains(why, "ack p99") {
		t.Errorf("meets = %v, %q", ok, why)
	}
}

// Offered open-loop against a server that stalls, the calls planned during
// the stall show it in p99, although each was sent on time.
func TestOfferShowsAStallingServerInP99(t *testing.T) {
	const stall = 300 * time.Millisecond
	var mu sync.Mutex
	var once sync.Once
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock() // one at a time, as a server on one connection to its store
		defer mu.Unlock()
		if time.Since(start) > 100*time.Millisecond {
			once.Do(func() { time.Sleep(stall) })
		}
	}))
	defer srv.Close()
	calls := prepareCalls(60, "AC"+strings.Repeat("0", 32), "token", srv.URL)
	if err := offer(context.Background(), srv.Client(), srv.URL, calls, 100); err != nil {
		t.Fatal(err)
	}
	r := analyze("sqlite", 100, calls, nil, false)
	if r.Acked != 60 || r.Errors != 0 {
		t.Fatalf("acked %d errors %d", r.Acked, r.Errors)
	}
	if r.Ack.P99 < stall-50*time.Millisecond {
		t.Errorf("ack p99 %s does not show the %s stall", r.Ack.P99, stall)
	}
	// Not one slow call but every call planned during the stall: a closed
	// loop would have sent them after it, and timed them as fast.
	if r.Ack.P90 < 100*time.Millisecond {
		t.Errorf("ack p90 %s: the calls planned during the stall did not wait for it", r.Ack.P90)
	}
	if r.LostTexts != 60 {
		t.Errorf("no texts, but %d lost", r.LostTexts)
	}
}

func TestDelayedCountsTopLevelPostsOnly(t *testing.T) {
	var hits int
	d := &delayed{next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ })}
	post := func(path, ctype, body string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		d.ServeHTTP(httptest.NewRecorder(), req)
	}
	form := "application/x-www-form-urlencoded"
	post("/api/chat.postMessage", form, url.Values{"channel": {"C1"}, "text": {"card"}}.Encode())
	post("/api/chat.postMessage", form, url.Values{"channel": {"C1"}, "thread_ts": {"1.2"}}.Encode())
	post("/api/chat.postMessage", "application/json", `{"channel":"C1","text":"card"}`)
	post("/api/chat.postMessage", "application/json", `{"channel":"C1","thread_ts":"1.2"}`)
	post("/api/chat.update", form, url.Values{"channel": {"C1"}, "ts": {"1.2"}}.Encode())
	post("/api/upload/F0001", "application/octet-stream", "PNG")
	if hits != 6 || d.topLevel.Load() != 2 {
		t.Errorf("passed on %d, counted %d top-level posts; want 6 and 2", hits, d.topLevel.Load())
	}
	if c := d.counts(); c["chat.postMessage"] != 4 || c["chat.update"] != 1 || c["upload"] != 1 {
		t.Errorf("calls by method = %v", c)
	}
	if got := tsTime("1700000000.000250"); !got.Equal(time.Unix(1700000000, 250_000)) {
		t.Errorf("tsTime = %s", got)
	}
}

func TestFindMaxStepsToTheHighestPassingRate(t *testing.T) {
	for _, tc := range []struct{ first, limit, threshold int }{
		{50, 2000, 337}, {50, 2000, 5000}, {50, 2000, 20}, {100, 400, 100},
	} {
		var tried []int
		got, err := findMax(tc.first, tc.limit, func(rate int) (bool, error) {
			tried = append(tried, rate)
			return rate <= tc.threshold, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := min(tc.threshold, tc.limit)
		if got > want || got < want*9/10 {
			t.Errorf("%+v: found %d after %v; want within 10%% below %d", tc, got, tried, want)
		}
		if len(tried) > 12 {
			t.Errorf("%+v: %d runs: %v", tc, len(tried), tried)
		}
	}
}

// The seed's rows are what the store reads back, on both stores.
func TestSeedWritesWhatTheStoreReads(t *testing.T) {
	sd := seed{cases: 40, calls: 100, outbox: 25}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, q := range sd.statements(s.Dialect()) {
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
		}
		for table, want := range map[string]int{"cases": 40, "calls": 100, "outbox": 25} {
			var n int
			if err := s.DB().GetContext(ctx, &n, "SELECT COUNT(*) FROM "+table); err != nil || n != want {
				t.Errorf("%s: %d rows, %v; want %d", table, n, err, want)
			}
		}
		var id int64
		if err := s.DB().GetContext(ctx, &id, "SELECT MAX(id) FROM cases"); err != nil {
			t.Fatal(err)
		}
		c, err := s.CaseByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != "closed" || !strings.HasPrefix(c.CallerNumber, seedCallerPrefix) || time.Since(c.CreatedAt) > time.Hour || c.ClosedAt == nil {
			t.Errorf("newest seeded case = %+v", c)
		}
		calls, err := s.CallsForCase(ctx, id)
		if err != nil || len(calls) == 0 || calls[0].CallerNumber != c.CallerNumber {
			t.Errorf("its calls = %+v, %v", calls, err)
		}
		if s.Dialect() != "postgres" {
			return
		}
		// Vacuumed as seeded: else autovacuum vacuums the template's
		// million rows during the first run, and that run measures it.
		var unvacuumed []string
		if err := s.DB().SelectContext(ctx, &unvacuumed, `SELECT relname FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname IN ('cases', 'calls', 'outbox') AND last_vacuum IS NULL`); err != nil {
			t.Fatal(err)
		}
		if len(unvacuumed) > 0 {
			t.Errorf("seeded tables never vacuumed: %v", unvacuumed)
		}
	})
}

func TestOutput(t *testing.T) {
	r := result{
		Store: "postgres", Rate: 200, Calls: 2000, Acked: 2000, Texts: 2000, Cards: 2000, Slack: true,
		Ack:  summary{N: 2000, P50: 2100 * time.Microsecond, P90: 5 * time.Millisecond, P99: 9800 * time.Microsecond, Max: 20 * time.Millisecond},
		Text: summary{N: 2000, P50: 131 * time.Millisecond, P99: 188 * time.Millisecond},
		Card: summary{N: 2000, P50: 180 * time.Millisecond, P99: 420 * time.Millisecond},
		Lag:  summary{N: 2000, P99: 300 * time.Microsecond}, ServerCPU: 9 * time.Second, DatabaseCPU: 12 * time.Second,
		Metrics: summary{N: 10, P50: 3 * time.Millisecond, Max: 2100 * time.Millisecond}, MetricsFailed: 2,
		HasCounters: true, Statements: 59.25, Commits: 12, WALSyncs: 10.5, WALRecords: 80,
		TopStatements: []statement{{Query: "UPDATE outbox SET state = $1", Calls: 8600}},
		SlackCalls:    map[string]int{"chat.postMessage": 4000, "chat.update": 3000},
		Wall:          20 * time.Second, MachineBusy: 30 * time.Second, LoadCPU: 4 * time.Second, CPUs: 2,
		ConnWaits: []classWaits{{"foreground", connWait{Waits: 40, Seconds: 0.02, Held: 2}}, {Class: "texts"}, {"background", connWait{Waits: 900, Seconds: 1.8, Held: 9}}},
		ConnSpan:  18 * time.Second,
	}
	rep := report{Runs: []result{r}, Baseline: &baselineResult{Tool: "pgbench", Clients: 8, Transactions: 26720, TPS: 2672, DBCPU: 700 * time.Microsecond, WALSyncs: 0.4},
		MaxRate: map[string]int{"postgres": 200}}
	var b bytes.Buffer
	writeTable(&b, rep)
	writeStatements(&b, rep)
	out := b.String()
	for _, want := range []string{"postgres", "2.1ms", "9.8ms", "188ms", "420ms", "4.50", "6.00", "59.2", "10.5",
		"2672 tx/s", "0.70 cpu-s/1k", "highest sustained rate on postgres", "200 calls/s (0.075 of the baseline", "4.30  UPDATE outbox", "3.0ms  2100ms       2", "2 of 10 /metrics and 0 of 0 /healthz scrapes were not answered 200", "chat.postMessage 2.00 chat.update 1.50",
		"the database's connections, postgres at 200/s, from the run's first /metrics scrape to its last (18.0 s)",
		"foreground held 0.11, 40 waits (0.50 ms each)", "texts      held 0.00, 0 waits\n", "background held 0.50, 900 waits (2.00 ms each)",
		"postgres at 200/s, in cores busy over the run: 1.50 of 2, Ringback 0.45, PostgreSQL 0.60, this command (the calls, the stand-ins, the scrapes) 0.20, the rest 0.25",
		"  at this run's CPU per call (Ringback 4.50 ms, PostgreSQL 6.00 ms, this command 2.00 ms) the 2 CPUs carry at most 160 calls/s; 190 with the calls and the stand-ins on another machine\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := writeJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Runs []map[string]any `json:"runs"`
		Base map[string]any   `json:"baseline"`
		Max  map[string]int   `json:"max_sustained_rate"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	run := got.Runs[0]
	if run["ack"].(map[string]any)["p99_ms"] != 9.8 || run["meets_targets"] != true || run["ringback_cpu_s_per_1k"] != 4.5 ||
		run["wal_flushes_per_call"] != 10.5 || run["metrics_scrapes_failed"] != 2.0 || got.Base["tps"] != 2672.0 || got.Max["postgres"] != 200 ||
		run["machine_busy_cores"] != 1.5 || len(run["connection_waits"].([]any)) != 3 || run["load_command_cores"] != 0.2 || run["machine_cpus"] != 2.0 ||
		run["load_command_cpu_s_per_1k"] != 2.0 || run["cpu_ceiling_calls_per_s"] != 160.0 || math.Abs(run["cpu_ceiling_apart_calls_per_s"].(float64)-2/0.0105) > 1e-9 {
		t.Errorf("json = %s", b.String())
	}
}

// Each store and rate offered several times (-runs) gets the medians of
// its runs' figures, in the table and the JSON; a store and rate run once
// gets none, and a figure a run does not know stays unknown.
func TestMediansOfRepeatedRuns(t *testing.T) {
	run := func(store string, n int, ackP99 time.Duration, rbCPU, pgCPU time.Duration, stmts float64, meets bool) result {
		r := result{Store: store, Rate: 100, Run: n, Calls: 1000, Acked: 1000, Texts: 1000, Cards: 1000, Slack: true,
			Ack:  summary{N: 1000, P99: ackP99},
			Text: summary{N: 1000, P99: 120 * time.Millisecond}, Card: summary{N: 1000, P99: 280 * time.Millisecond},
			ServerCPU: rbCPU, DatabaseCPU: pgCPU, Statements: stmts, HasCounters: stmts > 0, WALSyncs: 3,
			LoadCPU: 2 * time.Second, CPUs: 2}
		if !meets {
			r.Card.P99 = 900 * time.Millisecond
		}
		return r
	}
	rep := report{Runs: []result{
		run("postgres", 1, 30*time.Millisecond, 3200*time.Millisecond, 4000*time.Millisecond, 13.1, false),
		run("sqlite", 1, 8*time.Millisecond, 5000*time.Millisecond, -1, 0, true),
		run("postgres", 2, 10*time.Millisecond, 2900*time.Millisecond, 3500*time.Millisecond, 13.0, true),
		run("sqlite", 2, 12*time.Millisecond, 6000*time.Millisecond, -1, 0, true),
		run("postgres", 3, 20*time.Millisecond, 3100*time.Millisecond, 3700*time.Millisecond, 13.2, true),
	}}
	rep.Runs = append(rep.Runs, result{Store: "postgres", Rate: 200, Calls: 10})
	ms := medians(rep.Runs)
	if len(ms) != 2 {
		t.Fatalf("%d medians, want postgres and sqlite at 100/s: %+v", len(ms), ms)
	}
	pg, lite := ms[0], ms[1]
	if pg.Store != "postgres" || pg.Runs != 3 || pg.Met != 2 || pg.AckP99 != 20*time.Millisecond || pg.ServerCPU != 3.1 ||
		pg.DatabaseCPU != 3.7 || pg.Statements != 13.1 || pg.CardP99 != 280*time.Millisecond {
		t.Errorf("postgres median = %+v, want the middle run's figures, 2 of 3 meeting the targets", pg)
	}
	if lite.Store != "sqlite" || lite.Runs != 2 || lite.AckP99 != 10*time.Millisecond || lite.ServerCPU != 5.5 || lite.DatabaseCPU != -1 || lite.Statements != -1 {
		t.Errorf("sqlite median = %+v, want the mean of the two middle runs and no database figures", lite)
	}
	var b bytes.Buffer
	writeTable(&b, rep)
	out := b.String()
	_, table, found := strings.Cut(out, "medians over each store and rate's runs (-runs):\n")
	lines := strings.Split(table, "\n")
	if !found || len(lines) < 3 ||
		strings.Join(strings.Fields(lines[1]), " ") != "postgres 100 3 2 20ms 120ms 280ms 3.10 3.70 13.10 3.00 2.00 227" ||
		strings.Join(strings.Fields(lines[2]), " ") != "sqlite 100 2 2 10ms 120ms 280ms 5.50 - - - 2.00 268" {
		t.Errorf("table:\n%s", out)
	}
	b.Reset()
	if err := writeJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Runs    []map[string]any `json:"runs"`
		Medians []map[string]any `json:"medians"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Medians) != 2 || got.Medians[0]["ack_p99_ms"] != 20.0 || got.Medians[0]["runs_meeting_targets"] != 2.0 ||
		got.Runs[2]["run"] != 2.0 || got.Medians[1]["postgres_cpu_s_per_1k"] != nil ||
		got.Medians[0]["load_command_cpu_s_per_1k"] != 2.0 || math.Abs(got.Medians[0]["cpu_ceiling_calls_per_s"].(float64)-2/0.0088) > 1e-9 {
		t.Errorf("json = %s", b.String())
	}
}

// The call rate the machine's CPUs carry at a run's CPU per call: with
// this command's share and without it; on SQLite the server's CPU is the
// database's too; unknown when a share is.
func TestCPUCeiling(t *testing.T) {
	pg := result{Store: "postgres", Calls: 1000, CPUs: 2, ServerCPU: 4 * time.Second, DatabaseCPU: 5 * time.Second, LoadCPU: 3 * time.Second}
	if all, apart := pg.ceiling(); math.Abs(all-2/0.012) > 1e-9 || math.Abs(apart-2/0.009) > 1e-9 {
		t.Errorf("postgres ceiling = %.2f, %.2f calls/s, want 166.67 (12 ms a call on 2 CPUs) and 222.22 (9 ms)", all, apart)
	}
	lite := result{Store: "sqlite", Calls: 1000, CPUs: 2, ServerCPU: 5 * time.Second, DatabaseCPU: -1, LoadCPU: 3 * time.Second}
	if all, apart := lite.ceiling(); all != 250 || apart != 400 {
		t.Errorf("sqlite ceiling = %.2f, %.2f calls/s, want 250 (8 ms a call on 2 CPUs) and 400 (5 ms)", all, apart)
	}
	if line := lite.ceilingLine(); line != "at this run's CPU per call (Ringback 5.00 ms, this command 3.00 ms) the 2 CPUs carry at most 250 calls/s; 400 with the calls and the stand-ins on another machine" {
		t.Errorf("sqlite line = %q", line)
	}
	for name, r := range map[string]result{
		"postgres's CPU unknown": {Store: "postgres", Calls: 1000, CPUs: 2, ServerCPU: time.Second, DatabaseCPU: -1, LoadCPU: time.Second},
		"this command's unknown": {Store: "sqlite", Calls: 1000, CPUs: 2, ServerCPU: time.Second, DatabaseCPU: -1, LoadCPU: -1},
		"the server's unknown":   {Store: "sqlite", Calls: 1000, CPUs: 2, ServerCPU: -1, DatabaseCPU: -1, LoadCPU: time.Second},
		"no calls":               {Store: "sqlite", CPUs: 2, ServerCPU: time.Second, DatabaseCPU: -1, LoadCPU: time.Second},
		"CPUs unknown":           {Store: "sqlite", Calls: 1000, ServerCPU: time.Second, DatabaseCPU: -1, LoadCPU: time.Second},
	} {
		if all, apart := r.ceiling(); all != 0 || apart != 0 || r.ceilingLine() != "" {
			t.Errorf("%s: ceiling %.2f, %.2f, line %q; want unknown", name, all, apart, r.ceilingLine())
		}
	}
}

func TestFlags(t *testing.T) {
	o, err := parseFlags([]string{"-rates", "50, 200", "-stores", "sqlite", "-duration", "2s"}, &bytes.Buffer{})
	if err != nil || len(o.rates) != 2 || o.rates[1] != 200 || o.stores[0] != "sqlite" {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	if o.twilioLatency != 100*time.Millisecond || o.slackLatency != 150*time.Millisecond || o.receiptAfter != 2*time.Second || o.sentAfter != 500*time.Millisecond || !o.slack || !o.baseline {
		t.Errorf("defaults = %+v", o)
	}
	for _, bad := range [][]string{
		{"-rates", "0"}, {"-rates", "x"}, {"-stores", "mysql"}, {"-duration", "0s"},
		{"-rates", "5000", "-duration", "1m"}, {"-find-max", "-max-rate", "4000", "-duration", "30s"},
		{"-seed-cases", "2000000"}, {"-runs", "0"}, {"-runs", "3", "-find-max"}, {"-slack-latency", "-1s"}, {"-receipt-after", "-1s"}, {"-sent-after", "2m"}, {"extra"},
	} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

// A small run of the real binary on SQLite, Slack configured: every call
// offered is acknowledged and gets one text and one card, and the report's
// figures are measured, not defaults.
func TestSmallRunOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ringback binary: not with -short")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stores", "sqlite", "-rates", "20", "-duration", "2s", "-baseline=false", "-json", "-grace", "2m"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	var rep struct {
		Runs []struct {
			Calls, Acked, Texts, Cards, Lost, Duplicated, Errors, Stray int
			Ack, Text, Card                                             struct {
				N   int
				P99 float64 `json:"p99_ms"`
			}
			WarmupS float64         `json:"warmup_s"`
			WarmAck struct{ N int } `json:"warmup_ack"`
			Probe   struct{ N int } `json:"commit_probe"`
			RBCPU   *float64        `json:"ringback_cpu_s_per_1k"`
			Metrics struct{ N int } `json:"metrics_scrape"`
			Note    string          `json:"database_note"`
			// Every text's receipts, the warm-up's too, answered 2xx.
			Receipts       int `json:"receipts"`
			ReceiptsFailed int `json:"receipts_failed"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.Runs) != 1 {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	r := rep.Runs[0]
	if r.Calls != 40 || r.Acked != 40 || r.Texts != 40 || r.Cards != 40 || r.Lost != 0 || r.Duplicated != 0 || r.Errors != 0 || r.Stray != 0 {
		t.Errorf("counts: %+v", r)
	}
	if r.Ack.N != 40 || r.Text.N != 40 || r.Card.N != 40 {
		t.Errorf("samples: ack %d text %d card %d", r.Ack.N, r.Text.N, r.Card.N)
	}
	// Each text and card waited for its stand-in's latency at least.
	if r.Text.P99 < 100 || r.Card.P99 < 150 || r.Ack.P99 <= 0 {
		t.Errorf("latencies: ack %.1f text %.1f card %.1f ms", r.Ack.P99, r.Text.P99, r.Card.P99)
	}
	// The warm-up's 60 calls came first, and none of their texts or cards
	// counts above (else 100 texts, or 60 stray).
	if r.WarmupS != 3 || r.WarmAck.N != 60 || r.Probe.N == 0 {
		t.Errorf("warm-up %.1fs of %d calls, %d probe commits", r.WarmupS, r.WarmAck.N, r.Probe.N)
	}
	if r.RBCPU == nil || *r.RBCPU <= 0 || r.Metrics.N == 0 || !strings.Contains(r.Note, "SQLite") {
		t.Errorf("cpu %v, scrapes %d, note %q", r.RBCPU, r.Metrics.N, r.Note)
	}
	if r.Receipts != 200 || r.ReceiptsFailed != 0 {
		t.Errorf("receipts: %d answered 2xx, %d not; want the 100 texts' two, sent and delivered (60 texts of the warm-up)", r.Receipts, r.ReceiptsFailed)
	}

}

// On a private cluster: pg_stat_statements counts what a database ran, the
// WAL counters move, and both baselines (pgbench when installed, the Go
// loop) commit transactions of the webhook's shape.
func TestPrivateClusterCountsStatementsAndRunsTheBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("initdb and a server start: not with -short")
	}
	if _, err := harness.PostgresBin(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg, err := openPGServer(ctx, "", true)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.close()
	if !pg.statements {
		t.Fatalf("pg_stat_statements unavailable on the private cluster: %s", pg.statementsNo)
	}
	db, err := pg.createDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("postgres", pg.dsn(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := pg.resetStatements(ctx); err != nil {
		t.Fatal(err)
	}
	c0, err := pg.counters(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, baselineSchema); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := baselineTx(ctx, conn, i, fmt.Sprint("CA", i)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close() // its backend reports its counters as it leaves
	time.Sleep(statsFlush)
	stmts, err := pg.statementsOf(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range stmts {
		total += s.Calls
	}
	if total < 5*baselineStatements {
		t.Errorf("%d statements counted for 5 transactions of %d: %+v", total, baselineStatements, stmts)
	}
	c1, err := pg.counters(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if c1.commits-c0.commits < 5 || c1.walSync <= c0.walSync || c1.walRecords <= c0.walRecords {
		t.Errorf("counters did not move: %+v then %+v", c0, c1)
	}
	// The one connection the transactions ran on, opened after c0: what a
	// run reports as connections opened after its warm-up.
	if got := c1.sessions - c0.sessions; got != 1 {
		t.Errorf("connections opened: %d (sessions %d then %d), want 1", got, c0.sessions, c1.sessions)
	}
	// Each transaction writes two outbox rows: two entries in each of
	// b_outbox's indexes, read back from the WAL by index name.
	entries, top, err := pg.indexEntriesOf(ctx, db, c0.lsn, c1.lsn, 5)
	if err != nil {
		t.Fatal(err)
	}
	perIndex := map[string]float64{}
	for _, e := range top {
		perIndex[e.Index] = e.PerCall
	}
	if perIndex["b_outbox_pkey"] != 2 || perIndex["b_outbox_dedupe_key_key"] != 2 || perIndex["b_calls_sid_key"] != 1 || entries < 8 {
		t.Errorf("index entries per transaction: %.1f in all, %v; want 2 in each of b_outbox's, 1 in b_calls_sid_key", entries, top)
	}
	w1, err := pg.tableWritesOf(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if rates := tableWritesBetween(nil, w1, 5); len(rates) == 0 || rates[0].Inserts < 1 {
		t.Errorf("row writes per transaction: %+v, want the baseline's inserts", rates)
	}
	if err := pg.dropDatabase(db); err != nil {
		t.Fatal(err)
	}

	b, err := runBaseline(ctx, pg, time.Second, 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b.Transactions == 0 || b.TPS <= 0 || b.DBCPU <= 0 || b.WALSyncs <= 0 {
		t.Errorf("baseline = %+v", b)
	}
	gdb, err := pg.createDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pg.dropDatabase(gdb) }()
	gconn, err := sql.Open("postgres", pg.dsn(gdb))
	if err != nil {
		t.Fatal(err)
	}
	defer gconn.Close()
	if _, err := gconn.ExecContext(ctx, baselineSchema); err != nil {
		t.Fatal(err)
	}
	n, err := runGoBaseline(ctx, gconn, 500*time.Millisecond, 2)
	if err != nil || n == 0 {
		t.Errorf("Go baseline: %d transactions, %v", n, err)
	}
}

// The row writes of a run are differences of two readings, per call, and
// a table autovacuum analyzed or vacuumed in the run is listed with those
// counts (not per call) even when the run wrote nothing to it: an ANALYZE
// is what makes every connection plan its statements again.
func TestTableWritesBetweenCountsAutovacuum(t *testing.T) {
	before := map[string]tableWrites{
		"outbox": {Table: "outbox", Inserts: 100, Updates: 200, AutoAnalyzes: 1},
		"cases":  {Table: "cases", Inserts: 50, AutoVacuums: 2},
	}
	after := map[string]tableWrites{
		"outbox": {Table: "outbox", Inserts: 130, Updates: 250, AutoAnalyzes: 3},
		"cases":  {Table: "cases", Inserts: 50, AutoVacuums: 3},
		"leases": {Table: "leases"},
	}
	got := tableWritesBetween(before, after, 10)
	want := []tableRate{
		{Table: "outbox", Inserts: 3, Updates: 5, AutoAnalyzes: 2},
		{Table: "cases", AutoVacuums: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tableWritesBetween = %+v, want %+v", got, want)
	}
	var b strings.Builder
	writeStatements(&b, report{Runs: []result{{Store: "postgres", Rate: 10, TableWrites: got}}})
	if !strings.Contains(b.String(), "analyzed") || !regexp.MustCompile(`outbox\s+3\.00\s+5\.00\s+0\.00\s+0\.00\s+2\s+0`).MatchString(b.String()) {
		t.Errorf("the report's table rows:\n%s", b.String())
	}
}

// The commit probe writes and syncs beside the load and reports how long
// each took, a stall included.
func TestCommitProbeMeasuresAStall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := startProbe(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	s, failed := p.finish()
	if s.N < 5 || s.P50 <= 0 || failed != 0 || !strings.Contains(p.what, "fsync") {
		t.Fatalf("the disk probe: %+v, %d failed (%s)", s, failed, p.what)
	}

	// A commit that stalls once shows as the max, not as the median; one
	// that fails is counted apart.
	var n int
	stalling := &commitProbe{close: func() {}, commit: func(context.Context) error {
		n++
		switch n {
		case 3:
			time.Sleep(250 * time.Millisecond)
		case 5:
			return fmt.Errorf("disk full")
		}
		return nil
	}}
	stalling.start(ctx)
	time.Sleep(500 * time.Millisecond)
	s, failed = stalling.finish()
	if s.Max < 250*time.Millisecond || s.P50 >= 250*time.Millisecond || failed != 1 {
		t.Fatalf("a stall: %+v, %d failed; want the stall as its max and one failure", s, failed)
	}
}

// The server's waits for a connection are read from its /metrics, by
// class, and what they grew by over a run is given in the order the server
// serves the classes.
func TestConnectionWaitsFromMetrics(t *testing.T) {
	scrape := func(fg, fgS, bg, bgS float64) connWaits {
		t.Helper()
		w, err := parseConnWaits(fmt.Sprintf(`# TYPE ringback_connection_waits_total counter
ringback_connection_waits_total{class="background"} %v
ringback_connection_waits_total{class="foreground"} %v
ringback_connection_waits_total{class="texts"} 3
# TYPE ringback_connection_wait_seconds_total counter
ringback_connection_wait_seconds_total{class="background"} %v
ringback_connection_wait_seconds_total{class="foreground"} %v
ringback_connection_wait_seconds_total{class="texts"} 0.5
# TYPE ringback_connection_held_seconds_total counter
ringback_connection_held_seconds_total{class="background"} %v
# TYPE go_goroutines gauge
go_goroutines 12
`, bg, fg, bgS, fgS, bgS*2))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	got := waitsBetween(scrape(10, 0.01, 100, 1), scrape(50, 0.03, 1000, 3))
	want := []classWaits{{"foreground", connWait{40, 0.02, 0}}, {"texts", connWait{0, 0, 0}}, {"background", connWait{900, 2, 4}}}
	if len(got) != len(want) {
		t.Fatalf("waits = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Class != want[i].Class || got[i].Waits != want[i].Waits || math.Abs(got[i].Seconds-want[i].Seconds) > 1e-9 || math.Abs(got[i].Held-want[i].Held) > 1e-9 {
			t.Errorf("waits = %+v, want %+v", got, want)
		}
	}
	if waitsBetween(nil, scrape(1, 1, 1, 1)) != nil {
		t.Error("waits known with no first scrape")
	}
	if _, err := parseConnWaits("ringback_connection_waits_total{class=\"x\" 1\n"); err == nil {
		t.Error("a broken /metrics answer parsed")
	}
}
