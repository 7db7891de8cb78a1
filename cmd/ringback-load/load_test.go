package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"ringback/config"
	"ringback/sms/twiliostandin"
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
	}
}

func TestAnalyzeCountsLostDuplicateStrayAndErrors(t *testing.T) {
	t0 := time.Now()
	mk := func(from string, status int) call {
		return call{from: from, target: t0, sent: t0, acked: t0.Add(2 * time.Millisecond), status: status}
	}
	calls := []call{
		mk("+447700900000", http.StatusOK),                  // one text
		mk("+447700900001", http.StatusOK),                  // lost
		mk("+447700900002", http.StatusOK),                  // two texts
		mk("+447700900003", http.StatusInternalServerError), // error, no text
	}
	msgs := []twiliostandin.SentMessage{
		{To: "+447700900000", At: t0.Add(30 * time.Millisecond)},
		{To: "+447700900002", At: t0.Add(40 * time.Millisecond)},
		{To: "+447700900002", At: t0.Add(50 * time.Millisecond)},
		{To: "+447700999999", At: t0},
	}
	r := analyze("sqlite", 50, calls, msgs)
	if r.Lost != 1 || r.Duplicates != 1 || r.Errors != 1 || r.Stray != 1 || r.Texts != 4 {
		t.Fatalf("lost %d dup %d errors %d stray %d texts %d", r.Lost, r.Duplicates, r.Errors, r.Stray, r.Texts)
	}
	if r.Ack.N != 3 || r.Ack.P99 != 2*time.Millisecond {
		t.Errorf("ack = %+v", r.Ack)
	}
	if r.Sent.N != 2 || r.Sent.P50 != 30*time.Millisecond || r.Sent.P99 != 40*time.Millisecond {
		t.Errorf("sent = %+v", r.Sent)
	}
	if r.clean() {
		t.Error("clean() with losses")
	}
}

func TestOutput(t *testing.T) {
	rs := []result{{
		Store: "postgres", Rate: 200, Calls: 2000, Texts: 2000,
		Ack:  summary{N: 2000, P50: 2100 * time.Microsecond, P99: 9800 * time.Microsecond},
		Sent: summary{N: 2000, P50: 31 * time.Millisecond, P99: 88 * time.Millisecond},
		Lag:  summary{N: 2000, P99: 300 * time.Microsecond}, ServerCPU: 0.5, DatabaseCPU: 0.9,
	}}
	var b bytes.Buffer
	writeTable(&b, rs)
	writeTargets(&b, rs)
	out := b.String()
	for _, want := range []string{"ack p99", "postgres", "2.1ms", "9.8ms", "88ms", "50%", "90%", "ack p99 9.8ms ≤ 25ms ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := writeJSON(&b, rs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[0]["ack_p99_ms"] != 9.8 || got[0]["ok"] != true {
		t.Errorf("json = %s", b.String())
	}
}

func TestFlags(t *testing.T) {
	o, err := parseFlags([]string{"-rates", "50, 200", "-stores", "sqlite", "-duration", "2s"}, &bytes.Buffer{})
	if err != nil || len(o.rates) != 2 || o.rates[1] != 200 || o.stores[0] != "sqlite" {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"-rates", "0"}, {"-rates", "x"}, {"-stores", "mysql"}, {"-duration", "0s"},
		{"-rates", "5000", "-duration", "1m"}, {"extra"},
	} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
