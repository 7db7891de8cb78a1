package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ringback/cmd/internal/harness"
	"ringback/sms"
	"ringback/sms/twiliostandin"
)

const (
	statusPath = "/twilio/voice/status"
	// requestTimeout bounds one callback; a request that takes longer
	// counts as an error.
	requestTimeout = 15 * time.Second
)

// call is one missed call offered to the server, and what became of it.
// Each is written only by the goroutine that sends it.
type call struct {
	from string // the caller, unique in the run
	body string // the form, encoded
	sig  string // its X-Twilio-Signature

	target time.Time // when the schedule says to send it
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

// runOnce starts a fresh server on store st, offers it rate calls per
// second for o.duration, waits for the texts and measures.
func runOnce(ctx context.Context, o options, root, bin, work, st string, rate int, stderr io.Writer) (res result, err error) {
	accountSID, authToken := "AC"+harness.RandomHex(32), harness.RandomHex(32)
	tw := twiliostandin.NewServer(accountSID, authToken)
	defer tw.Close()
	tw.SetLatency(o.twilioLatency)

	dir, err := os.MkdirTemp(work, st+"-")
	if err != nil {
		return res, fmt.Errorf("run directory: %w", err)
	}
	var databaseURL string
	var db *pgDatabase
	switch st {
	case "sqlite":
		// Unset: ringback.db in the server's working directory, dir. (The
		// environment check refuses the sqlite: form that store.Open knows.)
		databaseURL = ""
	case "postgres":
		var cerr error
		db, cerr = createDatabase(ctx, o.databaseURL)
		if cerr != nil {
			return res, cerr
		}
		defer func() {
			if derr := db.drop(); derr != nil && err == nil {
				err = derr
			}
		}()
		databaseURL = db.url
	}
	configPath := filepath.Join(root, "ringback.example.yaml")
	if _, err := os.Stat(configPath); err != nil {
		return res, fmt.Errorf("example config: %w", err)
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
	srv, err := harness.Start(ctx, bin, dir,
		serverEnv(databaseURL, addr, publicURL, configPath, accountSID, authToken, tw.URL), publicURL, logTo, 60*time.Second)
	if err != nil {
		return res, err
	}
	// Deferred after the database's drop, so it runs before it.
	defer func() {
		if serr := srv.Stop(); serr != nil && err == nil {
			err = fmt.Errorf("server: %w", serr)
		}
		if err == nil && !res.clean() && !o.verbose {
			fmt.Fprintf(stderr, "server log (%s at %d/s, last lines):\n%s\n", st, rate, harness.LastLines(srv.Log.String(), 30))
		}
	}()

	n := int(int64(rate) * int64(o.duration) / int64(time.Second))
	calls := prepareCalls(n, accountSID, authToken, publicURL)
	hc := &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // 127.0.0.1 only
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 2048,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	defer hc.CloseIdleConnections()

	var db0 map[int]time.Duration
	if db != nil {
		db0 = db.backendCPU(ctx)
	}
	cpu0, cpuOK := srv.CPUTime()
	start := time.Now()
	if err := offer(ctx, hc, publicURL+statusPath, calls, rate); err != nil {
		return res, err
	}
	offered := time.Now()
	acked := 0
	for i := range calls {
		if calls[i].status == http.StatusOK {
			acked++
		}
	}
	// The tail: every acknowledged call should get its text; then a short
	// settle so that a late duplicate is seen.
	tw.WaitMessages(acked, o.grace)
	end := time.Now()
	cpu1, cpuOK1 := srv.CPUTime()
	var db1 map[int]time.Duration
	if db != nil {
		db1 = db.backendCPU(ctx)
	}
	settle := min(500*time.Millisecond+2*o.twilioLatency, max(0, o.grace-end.Sub(offered)))
	time.Sleep(settle)

	res = analyze(st, rate, calls, tw.Messages())
	res.ServerCPU, res.DatabaseCPU = -1, -1
	if cpuOK && cpuOK1 {
		res.ServerCPU = float64(cpu1-cpu0) / float64(end.Sub(start))
	}
	if d, ok := cpuBetween(db0, db1); ok {
		res.DatabaseCPU = float64(d) / float64(end.Sub(start))
	}
	return res, nil
}

// offer sends calls open-loop: call i leaves at start + i/rate, on its own
// goroutine, whether or not earlier calls have been answered. It returns when
// every call has been answered or has failed.
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

// analyze matches the stand-in's messages to the calls.
func analyze(st string, rate int, calls []call, msgs []twiliostandin.SentMessage) result {
	r := result{Store: st, Rate: rate, Calls: len(calls)}
	byTo := make(map[string][]twiliostandin.SentMessage, len(msgs))
	for _, m := range msgs {
		byTo[m.To] = append(byTo[m.To], m)
	}
	var acks, sent, lags []time.Duration
	for i := range calls {
		c := &calls[i]
		if !c.sent.IsZero() {
			lags = append(lags, c.sent.Sub(c.target))
		}
		if c.status == http.StatusOK {
			acks = append(acks, c.acked.Sub(c.sent))
		} else {
			r.Errors++
		}
		texts := byTo[c.from]
		delete(byTo, c.from)
		switch {
		case len(texts) == 0:
			if c.status == http.StatusOK {
				r.Lost++
			}
			continue
		case len(texts) > 1:
			r.Duplicates++
		}
		// At is the stand-in's wall clock; so is c.sent's wall reading.
		sent = append(sent, texts[0].At.Sub(c.sent))
	}
	for _, ms := range byTo {
		r.Stray += len(ms)
	}
	r.Texts = len(msgs)
	r.Ack = harness.Summarize(acks)
	r.Sent = harness.Summarize(sent)
	r.Lag = harness.Summarize(lags)
	return r
}
