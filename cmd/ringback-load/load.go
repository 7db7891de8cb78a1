package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"ringback/cmd/internal/harness"
	"ringback/sms"
)

const (
	statusPath = "/twilio/voice/status"
	// requestTimeout bounds one callback; a request that takes longer
	// counts as an error.
	requestTimeout = 15 * time.Second
	// statsFlush is how long PostgreSQL's processes may take to report
	// their counters once idle (PGSTAT_MIN_INTERVAL is 1 s).
	statsFlush = 1500 * time.Millisecond
	// statsIdleFlush is how long a backend gone idle may hold its counters
	// (PGSTAT_IDLE_INTERVAL is 10 s).
	statsIdleFlush = 11 * time.Second
)

// call is one missed call offered to the server, and what became of it.
// Each is written only by the goroutine that sends it.
type call struct {
	from string // the caller, unique in the run
	body string // the form, encoded
	sig  string // its X-Twilio-Signature

	target time.Time // when the schedule says to send it: latencies count from here
	sent   time.Time // when it was sent
	acked  time.Time // when the response status arrived
	status int       // 0: no response
	err    error
}

// callerNumber is the i-th caller of a run: +447700900000 onwards, UK
// mobile numbers of Ofcom's drama range, unique for i < maxCallsPerRun.
func callerNumber(i int) string {
	return fmt.Sprintf("+447700%06d", 900000+i%maxCallsPerRun)
}

// prepareCalls builds and signs every request of a run ahead of time, so
// that the generator only sends.
func prepareCalls(n int, accountSID, authToken, publicURL string) []call {
	calls := make([]call, n)
	for i := range calls {
		from := callerNumber(i)
		form := url.Values{
			"CallSid":      {harness.NewSID("CA")},
			"AccountSid":   {accountSID},
			"From":         {from},
			"To":           {harness.LettingsLine},
			"CallStatus":   {"no-answer"},
			"Direction":    {"inbound"},
			"CallDuration": {"0"},
			"ApiVersion":   {"2010-04-01"},
		}
		calls[i] = call{
			from: from,
			body: form.Encode(),
			sig:  sms.Sign(authToken, publicURL+statusPath, form),
		}
	}
	return calls
}

// runStore is where a run's server keeps its data.
type runStore struct {
	name     string    // "sqlite" or "postgres"
	pg       *pgServer // postgres
	template string    // postgres: the seeded database to copy; sqlite: the folder of the seeded file
}

// runOnce starts a fresh server on st, offers it rate calls per second for
// o.duration, waits for every text and card and measures.
func runOnce(ctx context.Context, o options, bin, work string, st runStore, rate int, stderr io.Writer) (res result, err error) {
	rem, err := newRemotes(o)
	if err != nil {
		return res, err
	}
	defer rem.close()

	dir, err := os.MkdirTemp(work, st.name+"-")
	if err != nil {
		return res, fmt.Errorf("run directory: %w", err)
	}
	// Deferred first, so it runs once the server has stopped: a seeded
	// store's copy is large, and -find-max makes many.
	defer os.RemoveAll(dir)
	var dbName, databaseURL string
	switch st.name {
	case "sqlite":
		// Unset: ringback.db in the server's working directory, dir. (The
		// environment check refuses the sqlite: form that store.Open knows.)
		if st.template != "" {
			if err := copySQLite(st.template, dir); err != nil {
				return res, err
			}
		}
	case "postgres":
		dbName, err = st.pg.createDatabase(ctx, st.template)
		if dbName != "" {
			defer func() {
				if derr := st.pg.dropDatabase(dbName); derr != nil && err == nil {
					err = derr
				}
			}()
		}
		if err != nil {
			return res, err
		}
		databaseURL = st.pg.dsn(dbName)
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return res, err
	}
	publicURL := "http://" + addr
	var logTo io.Writer
	if o.verbose {
		logTo = stderr
	}
	env := serverEnv(o.config, addr, publicURL, databaseURL, rem.env())
	srv, err := harness.Start(ctx, bin, dir, env, publicURL, logTo, 60*time.Second)
	if err != nil {
		return res, err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		if serr := srv.Stop(); serr != nil {
			return fmt.Errorf("server: %w", serr)
		}
		return nil
	}
	// Deferred after the database's drop, so it runs before it.
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = serr
		}
		if err == nil && !res.clean() && !o.verbose {
			fmt.Fprintf(stderr, "server log (%s at %d/s, last lines):\n%s\n", st.name, rate, harness.LastLines(srv.Log.String(), 30))
		}
	}()

	n := int(int64(rate) * int64(o.duration) / int64(time.Second))
	w := int(int64(rate) * int64(o.warmup) / int64(time.Second))
	calls := prepareCalls(w+n, rem.accountSID, rem.authToken, publicURL)
	warm, calls := calls[:w], calls[w:]
	hc := &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // 127.0.0.1 only
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	defer hc.CloseIdleConnections()

	warmed, err := warmUp(ctx, hc, publicURL+statusPath, rem, warm, rate, o)
	if err != nil {
		return res, err
	}

	var c0 pgCounters
	var cerr, werr error
	var w0 map[string]tableWrites
	var pgCPU0 map[int]time.Duration
	var pgCPUOK bool
	var kinds0 map[string]time.Duration
	var kindsOK bool
	if st.pg != nil {
		// What the server's start-up did is reported by now, before the
		// counters are read; after a warm-up, by a backend gone idle since
		// too (else some 5 % of its row writes counted in the run's).
		if w > 0 {
			time.Sleep(statsIdleFlush)
		} else {
			time.Sleep(statsFlush)
		}
		if err := st.pg.resetStatements(ctx); err != nil {
			return res, err
		}
		c0, cerr = st.pg.counters(ctx, dbName)
		w0, werr = st.pg.tableWritesOf(ctx, dbName)
		pgCPU0, pgCPUOK = st.pg.cpu(ctx, dbName)
		kinds0, kindsOK = st.pg.cpuByKind()
	}
	cpu0, cpuOK := srv.CPUTime()
	machine0, cpus, machineOK := harness.MachineCPU()
	self0, selfOK := harness.ProcessCPU(os.Getpid())
	sc, stopScraping := startScraper(ctx, publicURL, o.scrape)
	probe, perr := startProbe(ctx, dir)
	if perr == nil {
		defer probe.finish()
	}
	start := time.Now()
	if err := offer(ctx, hc, publicURL+statusPath, calls, rate); err != nil {
		stopScraping()
		return res, err
	}
	acked := 0
	for i := range calls {
		if calls[i].status == http.StatusOK {
			acked++
		}
	}
	// The tail: every acknowledged call should get its text and its card,
	// within -grace of the last answer.
	deadline := time.Now().Add(o.grace)
	rem.tw.WaitMessages(warmed.acked+acked, time.Until(deadline))
	if o.slack {
		waitCards(ctx, rem, calls, deadline)
	}
	// Their receipts too: what they cost counts in the run's.
	receipts, receiptsFailed := rem.waitReceipts(deadline.Add(max(o.receiptAfter, o.sentAfter)))
	end := time.Now()
	stopScraping()
	var probed summary
	probeFailed, probeWhat := 0, ""
	if perr != nil {
		probeWhat = perr.Error()
	} else {
		probed, probeFailed = probe.finish()
		probeWhat = probe.what
	}
	cpu1, cpuOK1 := srv.CPUTime()
	machine1, _, machineOK1 := harness.MachineCPU()
	self1, selfOK1 := harness.ProcessCPU(os.Getpid())
	var pgCPU1 map[int]time.Duration
	var pgCPUOK1 bool
	var byKind map[string]time.Duration
	if st.pg != nil {
		pgCPU1, pgCPUOK1 = st.pg.cpu(ctx, dbName)
		if kinds1, ok := st.pg.cpuByKind(); ok && kindsOK {
			byKind = map[string]time.Duration{}
			for k, t := range kinds1 {
				byKind[k] = t - kinds0[k]
			}
		}
	}
	// A short settle, so that a late duplicate is seen.
	time.Sleep(min(time.Second, max(0, time.Until(deadline))))

	res = analyze(st.name, rate, calls, warmed.leaveOut(rem.texts()), o.slack)
	res.Receipts, res.ReceiptsFailed = receipts, receiptsFailed
	if o.slack {
		cards, others := rem.cards()
		res.addCards(calls, warmed.leaveOut(cards), others)
		res.SlackCalls = rem.slackCalls()
		for m, k := range warmed.slackCalls {
			res.SlackCalls[m] -= k
		}
	}
	res.WarmAck, res.Warmup = warmed.ack, o.warmup
	res.Wall = end.Sub(start)
	res.Probe, res.ProbeFailed, res.ProbeWhat = probed, probeFailed, probeWhat
	res.ServerCPU, res.DatabaseCPU, res.Connections = -1, -1, -1
	if cpuOK && cpuOK1 {
		res.ServerCPU = cpu1 - cpu0
	}
	if pgCPUOK && pgCPUOK1 {
		res.DatabaseCPU = cpuBetween(pgCPU0, pgCPU1)
	}
	res.DatabaseCPUByKind = byKind
	res.MachineBusy, res.LoadCPU, res.CPUs = -1, -1, cpus
	if machineOK && machineOK1 {
		res.MachineBusy = machine1 - machine0
	}
	if selfOK && selfOK1 {
		res.LoadCPU = self1 - self0
	}
	res.Metrics, res.Healthz = sc.metrics.summary(), sc.health.summary()
	res.ConnWaits, res.ConnSpan = waitsBetween(sc.firstWaits, sc.lastWaits), sc.lastAt.Sub(sc.firstAt)
	res.MetricsFailed, res.HealthzFailed = sc.metrics.failed, sc.health.failed
	res.Seeded = st.template != ""

	switch {
	case st.pg == nil:
		res.DBNote = "SQLite runs inside the server: its CPU is the server's; no statement counts"
	default:
		// Stopped, its backends have reported their counters.
		if err := stop(); err != nil {
			return res, err
		}
		time.Sleep(statsFlush)
		c1, cerr1 := st.pg.counters(ctx, dbName)
		if w1, werr1 := st.pg.tableWritesOf(ctx, dbName); werr == nil && werr1 == nil && n > 0 {
			res.TableWrites = tableWritesBetween(w0, w1, n)
		}
		if cerr == nil && cerr1 == nil && n > 0 {
			res.WALSyncs = float64(c1.walSync-c0.walSync) / float64(n)
			res.WALRecords = float64(c1.walRecords-c0.walRecords) / float64(n)
			res.Commits = float64(c1.commits-c0.commits) / float64(n)
			res.HasCounters = true
			if total, top, err := st.pg.indexEntriesOf(ctx, dbName, c0.lsn, c1.lsn, n); err != nil {
				res.IndexNote = err.Error()
			} else {
				res.IndexEntries, res.TopIndexEntries = total, top
			}
			if c0.sessions >= 0 && c1.sessions >= 0 {
				res.Connections = int(c1.sessions - c0.sessions)
			}
		}
		stmts, serr := st.pg.statementsOf(ctx, dbName)
		if serr != nil {
			res.DBNote = serr.Error()
		} else if n > 0 {
			var total int64
			for _, s := range stmts {
				total += s.Calls
				res.ExecMillis += s.Millis / float64(n)
				res.PlanMillis += s.PlanMillis / float64(n)
			}
			res.Statements = float64(total) / float64(n)
			res.TopStatements = stmts[:min(len(stmts), 12)]
			byTime := slices.Clone(stmts)
			slices.SortStableFunc(byTime, func(a, b statement) int { return cmp.Compare(b.Millis+b.PlanMillis, a.Millis+a.PlanMillis) })
			res.CostliestStatements = byTime[:min(len(byTime), 8)]
		}
	}
	return res, nil
}

// warmed is what a run's warm-up offered and what became of it.
type warmed struct {
	callers    map[string]bool // its calls' callers
	acked      int
	ack        summary
	slackCalls map[string]int // the Slack calls it caused
}

// leaveOut is what arrived for the measured calls: got without the
// warm-up's texts or cards.
func (w warmed) leaveOut(got []posted) []posted {
	out := got[:0:0]
	for _, p := range got {
		if !w.callers[p.to] {
			out = append(out, p)
		}
	}
	return out
}

// warmUp offers the warm-up's calls at rate and waits, up to -grace, for
// their texts and cards, so that the measured calls meet a server that has
// been running.
func warmUp(ctx context.Context, hc *http.Client, target string, rem *remotes, calls []call, rate int, o options) (warmed, error) {
	w := warmed{callers: map[string]bool{}}
	if len(calls) == 0 {
		return w, nil
	}
	if err := offer(ctx, hc, target, calls, rate); err != nil {
		return w, fmt.Errorf("warm-up: %w", err)
	}
	for i := range calls {
		w.callers[calls[i].from] = true
	}
	r := analyze("", rate, calls, nil, false)
	w.acked, w.ack = r.Acked, r.Ack
	deadline := time.Now().Add(o.grace)
	rem.tw.WaitMessages(w.acked, time.Until(deadline))
	if o.slack {
		waitCards(ctx, rem, calls, deadline)
		// The entries posted in the cards' threads after them.
		time.Sleep(time.Second)
		w.slackCalls = rem.slackCalls()
	}
	return w, nil
}

// waitCards returns once every acknowledged call's card has been posted, or
// at deadline. The count of top-level posts is cheap to poll; the cards
// themselves are read once it says there may be enough (a top-level post
// need not be a card).
func waitCards(ctx context.Context, rem *remotes, calls []call, deadline time.Time) {
	want := 0
	for i := range calls {
		if calls[i].status == http.StatusOK {
			want++
		}
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if rem.cardsPosted() >= int64(want) {
			cards, _ := rem.cards()
			if lat, _, _, _ := match(calls, cards); len(lat) >= want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverEnv is what a child gets (databaseURL "" selects SQLite in its
// working directory).
func serverEnv(configPath, addr, publicURL, databaseURL string, remotes []string) []string {
	settings := append([]string{
		"RINGBACK_ADDR=" + addr,
		"PUBLIC_URL=" + publicURL,
		"RINGBACK_CONFIG=" + configPath,
		"RINGBACK_LOG_LEVEL=warn",
	}, remotes...)
	if databaseURL != "" {
		settings = append(settings, "DATABASE_URL="+databaseURL)
	}
	return harness.ServerEnv(settings...)
}

// offer sends calls open-loop: call i is planned for start + i/rate and
// sent then on its own goroutine, whether or not earlier calls have been
// answered. It returns when every call has been answered or has failed.
func offer(ctx context.Context, hc *http.Client, target string, calls []call, rate int) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now().Add(20 * time.Millisecond)
	for i := range calls {
		c := &calls[i]
		c.target = start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if d := time.Until(c.target); d > 0 {
			time.Sleep(d) // at most 1/rate ≤ 1 s
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted after %d of %d calls: %w", i, len(calls), err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(hc, target, c)
		}()
	}
	return nil
}

func send(hc *http.Client, target string, c *call) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(c.body))
	if err != nil {
		c.err = fmt.Errorf("build request: %w", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", c.sig)
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	c.sent = time.Now()
	resp, err := hc.Do(req)
	c.acked = time.Now()
	if err != nil {
		c.err = err
		return
	}
	c.status = resp.StatusCode
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
	resp.Body.Close()
}

// analyze matches the texts to the calls. Every latency counts from the
// call's planned send time, not from when the generator got round to
// sending it: a generator held up by the system it measures (or by its own
// machine) would otherwise leave the wait out of every figure.
func analyze(st string, rate int, calls []call, texts []posted, slack bool) result {
	r := result{Store: st, Rate: rate, Calls: len(calls), Texts: len(texts), Slack: slack}
	var acks, lags []time.Duration
	for i := range calls {
		c := &calls[i]
		if !c.sent.IsZero() {
			lags = append(lags, c.sent.Sub(c.target))
		}
		if c.status == http.StatusOK {
			r.Acked++
			acks = append(acks, c.acked.Sub(c.target))
		} else {
			r.Errors++
		}
	}
	var lat []time.Duration
	lat, r.LostTexts, r.DupTexts, r.StrayTexts = match(calls, texts)
	r.Ack, r.Text, r.Lag = harness.Summarize(acks), harness.Summarize(lat), harness.Summarize(lags)
	return r
}

// addCards matches the cards to the calls.
func (r *result) addCards(calls []call, cards []posted, others int) {
	var lat []time.Duration
	lat, r.LostCards, r.DupCards, r.StrayCards = match(calls, cards)
	r.Cards, r.OtherPosts = len(cards), others
	r.Card = harness.Summarize(lat)
}

// match pairs what arrived with the calls by caller: the latency of each
// call's first arrival from its planned time, the acknowledged calls that
// got none, the calls that got more than one, and arrivals for nobody.
func match(calls []call, got []posted) (lat []time.Duration, lost, dup, stray int) {
	byTo := make(map[string][]posted, len(got))
	for _, p := range got {
		byTo[p.to] = append(byTo[p.to], p)
	}
	for i := range calls {
		c := &calls[i]
		ps := byTo[c.from]
		delete(byTo, c.from)
		switch {
		case len(ps) == 0:
			if c.status == http.StatusOK {
				lost++
			}
			continue
		case len(ps) > 1:
			dup++
		}
		first := ps[0].at
		for _, p := range ps[1:] {
			if p.at.Before(first) {
				first = p.at
			}
		}
		// at is the stand-in's wall clock; so is target's wall reading.
		lat = append(lat, first.Sub(c.target))
	}
	for _, ps := range byTo {
		stray += len(ps)
	}
	return lat, lost, dup, stray
}
