package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"ringback/bot"
	"ringback/bot/slack/slackstandin"
	"ringback/config"
	"ringback/sms"
	"ringback/sms/twiliostandin"
	"ringback/store/storetest"
)

const (
	mAccount = "AC0123456789abcdef0123456789abcdef"
	mToken   = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	mPublic  = "https://ringback.example.com"
	mCaller  = "+447700900123"
	mLine    = "+441632960001"
)

// metricsScenario runs the real server (a.start, as serve wires it) against
// the Twilio and Slack stand-ins, plays a missed call, the caller's reply,
// a rate-limited card post, two webhooks with bad signatures and an
// escalation through real HTTP, and returns the /metrics scrape and the
// logs.
func metricsScenario(t *testing.T, backend string) (map[string]*dto.MetricFamily, []map[string]any) {
	t.Helper()
	tw := twiliostandin.NewServer(mAccount, mToken)
	t.Cleanup(tw.Close)
	sl := slackstandin.NewServer("xoxb-test")
	t.Cleanup(sl.Close)
	sl.SetMembers("C0LETTINGS", "U0ALICE")
	vars := map[string]string{
		"DATABASE_URL": storetest.URL(t, backend), "RINGBACK_ADDR": "127.0.0.1:0", "PUBLIC_URL": mPublic,
		"TWILIO_ACCOUNT_SID": mAccount, "TWILIO_AUTH_TOKEN": mToken, "TWILIO_API_URL": tw.URL,
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "slack-secret", "SLACK_API_URL": sl.URL + "/",
		"RINGBACK_WEBHOOK_SECRET": "hook-secret", "RINGBACK_LOG_FORMAT": "json", "RINGBACK_LOG_LEVEL": "debug",
		"RINGBACK_SPOOL_DIR": t.TempDir(),
	}
	getenv := func(k string) string { return vars[k] }
	env := config.EnvFrom(getenv)
	var logs syncBuffer
	a := &app{getenv: getenv, stdout: io.Discard, stderr: &logs, log: newLogger(&logs, getenv)}
	ctx, cancel := context.WithCancel(context.Background())
	clock := bot.NewManualClock(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)) // Monday, in hours
	rt, err := a.start(ctx, env, exampleCfg(t), clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); stopsWithin(t, rt.wait, 20*time.Second, "the server") })
	base := "http://" + rt.listener.Addr().String()
	tw.RouteCallbacks(mPublic, base)

	post := func(path string, form url.Values, sig string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	signed := func(path string, form url.Values) int { return post(path, form, sms.Sign(mToken, mPublic+path, form)) }

	// The card's first post is rate-limited: one chat error, one 429.
	sl.FailNext("chat.postMessage", 1, http.StatusTooManyRequests, 1)
	call := url.Values{"CallSid": {"CA" + strings.Repeat("1", 32)}, "AccountSid": {mAccount}, "From": {mCaller}, "To": {mLine},
		"CallStatus": {"no-answer"}, "Direction": {"inbound"}, "CallDuration": {"0"}}
	if code := signed("/twilio/voice/status", call); code != 200 {
		t.Fatalf("missed call: %d", code)
	}
	if got := tw.WaitMessages(1, 20*time.Second); len(got) != 1 {
		t.Fatalf("text-back: %d texts", len(got))
	}
	// Twilio's receipt comes after its answer to the send: wait until the
	// text's SID is recorded (a receipt kept "early" while that answer
	// commits can be left unapplied; see the report of this change).
	waitRows := func(query string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for n := 0; n == 0; time.Sleep(20 * time.Millisecond) {
			if err := rt.store.DB().Get(&n, query); err != nil {
				t.Fatal(err)
			}
			if n == 0 && time.Now().After(deadline) {
				var rows []string
				_ = rt.store.DB().Select(&rows, `SELECT id || ' ' || kind || ' ' || state || ' ' || CAST(run_at AS TEXT) || ' seq ' || claim_seq || ' att ' || attempts || ' ' || last_error FROM outbox ORDER BY id`)
				t.Fatalf("still no row: %s; clock %s; slack posts %d; rows %q", query, clock.Now(), sl.Calls("chat.postMessage"), rows)
			}
		}
	}
	waitRows("SELECT COUNT(*) FROM messages WHERE sid IS NOT NULL AND sid <> ''")
	if err := tw.Deliver(tw.Messages()[0].SID, "delivered", 0); err != nil {
		t.Fatal(err)
	}
	reply := url.Values{"MessageSid": {"SM" + strings.Repeat("2", 32)}, "AccountSid": {mAccount}, "From": {mCaller}, "To": {mLine},
		"Body": {"Is anyone there?"}, "NumMedia": {"0"}}
	if code := signed("/twilio/sms", reply); code != 200 {
		t.Fatalf("caller's reply: %d", code)
	}
	if code := post("/twilio/sms", reply, "bm90IGEgc2lnbmF0dXJl"); code != http.StatusForbidden {
		t.Fatalf("forged webhook: %d", code)
	}
	req, _ := http.NewRequest("POST", base+"/calls", strings.NewReader(`{"id":"x"}`))
	req.Header.Set("X-Ringback-Signature", "t=1,v1=00")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned /calls: %v %v", res, err)
	}
	waitRows("SELECT COUNT(*) FROM messages WHERE status = 'delivered'")
	deadline := time.Now().Add(20 * time.Second)
	// Once the card's post met the 429, move past its Retry-After.
	for sl.Calls("chat.postMessage") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// The 429 is recorded (the row that met it back to pending, to run
	// after Retry-After on the bot's clock, and Slack's rows paused) a
	// moment after Slack counted the call, and a row may still be at Slack:
	// advancing the clock before they settle left their retry in a future
	// the clock never reached. Which post meets the 429 (the card, or the
	// Monday digest's) is the workers' race; the figures are the same.
	waitRows(`SELECT CASE WHEN EXISTS (SELECT 1 FROM outbox WHERE kind LIKE 'chat.%' AND state = 'pending' AND last_error LIKE '%retry after%')
		AND NOT EXISTS (SELECT 1 FROM outbox WHERE kind LIKE 'chat.%' AND state = 'running') THEN 1 ELSE 0 END`)
	clock.Advance(2 * time.Second)
	if !sl.WaitFor(func() bool { return len(sl.Messages("C0LETTINGS")) > 0 }, 20*time.Second) {
		t.Fatal("the card was never posted")
	}
	// 11 minutes unclaimed: the line's first escalation step (channel).
	clock.Advance(11 * time.Minute)
	if _, err := rt.bot.RunEscalations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.bot.RefreshBacklog(ctx); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for !rt.leader.IsLeader() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	scrape := func() map[string]*dto.MetricFamily {
		t.Helper()
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return fams
	}
	// A worker counts a text once its transaction has committed, a moment
	// after the store shows it: scrape until the texts are counted.
	fams := scrape()
	for value(fams, "ringback_sms_results_total", "outcome", "delivered") < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		fams = scrape()
	}
	var records []map[string]any
	for _, line := range bytes.Split([]byte(logs.String()), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("RINGBACK_LOG_FORMAT=json wrote a line that is no JSON: %q", line)
		}
		records = append(records, rec)
	}
	return fams, records
}

// value is the figure of the family's series with exactly these labels
// (a histogram's count); -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		for _, l := range m.Label {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsAfterAScenario scrapes /metrics after a missed call, the
// caller's reply, a delivery receipt, two forged webhooks, a rate-limited
// card and an escalation, and checks each figure; the logs of that
// scenario are JSON and hold nothing at WARN or above.
func TestMetricsAfterAScenario(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		fams, logs := metricsScenario(t, backend)
		for _, c := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"ringback_http_requests_total", []string{"route", "POST /twilio/voice/status", "status", "200"}, 1},
			{"ringback_http_requests_total", []string{"route", "POST /twilio/sms", "status", "200"}, 1},
			{"ringback_http_requests_total", []string{"route", "POST /twilio/sms", "status", "403"}, 1},
			{"ringback_http_requests_total", []string{"route", "POST /twilio/sms/status", "status", "204"}, 1},
			{"ringback_http_requests_total", []string{"route", "POST /calls", "status", "403"}, 1},
			{"ringback_http_request_duration_seconds", []string{"route", "POST /twilio/sms"}, 2},
			{"ringback_webhook_signature_failures_total", []string{"source", "twilio"}, 1},
			{"ringback_webhook_signature_failures_total", []string{"source", "calls"}, 1},
			{"ringback_webhook_signature_failures_total", []string{"source", "slack"}, 0},
			{"ringback_leader", nil, 1},
			{"ringback_cases_open", []string{"line", "Lettings"}, 1},
			{"ringback_cases_unclaimed", []string{"line", "Lettings"}, 1},
			// Unclaimed 11 minutes after the ring: past the untriaged claim_within (10m).
			{"ringback_cases_overdue", []string{"line", "Lettings"}, 1},
			{"ringback_cases_open", []string{"line", "Maintenance"}, 0},
			{"ringback_escalations_total", []string{"level", "1", "notify", "channel"}, 1},
			{"ringback_sms_results_total", []string{"outcome", "accepted"}, 1},
			{"ringback_sms_results_total", []string{"outcome", "delivered"}, 1},
			{"ringback_sms_results_total", []string{"outcome", "failed"}, 0},
			{"ringback_chat_api_errors_total", []string{"platform", "slack"}, 1},
			{"ringback_chat_rate_limited_total", []string{"platform", "slack"}, 1},
		} {
			if got := value(fams, c.name, c.labels...); got != c.want {
				t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
			}
		}
		// The connection pool: 20 connections on PostgreSQL (and two for
		// what passes the gate), SQLite's one.
		if got, want := value(fams, "go_sql_max_open_connections", "db_name", "ringback"), map[string]float64{"postgres": 22, "sqlite": 1}[backend]; got != want {
			t.Errorf("go_sql_max_open_connections = %v, want %v", got, want)
		}
		if f := fams["go_sql_wait_duration_seconds_total"]; f == nil {
			t.Error("no go_sql_wait_duration_seconds_total: a wait in the pool itself would not show")
		}
		// The connections are handed out by Ringback, webhooks first: the
		// waits are counted by who waited, on both stores.
		for _, name := range []string{"ringback_connection_waits_total", "ringback_connection_wait_seconds_total", "ringback_connection_waiting", "ringback_connection_held_seconds_total"} {
			f := fams[name]
			if f == nil || len(f.Metric) != 3 || value(fams, name, "class", "foreground") < 0 || value(fams, name, "class", "texts") < 0 || value(fams, name, "class", "background") < 0 {
				t.Errorf("%s = %v, want a series for foreground, one for texts and one for background", name, f)
			}
		}
		if backend == "postgres" { // an embedded store has no spool
			if got := value(fams, "ringback_webhook_spool_depth"); got != 0 {
				t.Errorf("ringback_webhook_spool_depth = %v, want 0", got)
			}
		}
		if f := fams["ringback_build_info"]; f == nil || len(f.Metric) != 1 || f.Metric[0].Gauge.GetValue() != 1 {
			t.Errorf("ringback_build_info = %v", f)
		}
		for _, rec := range logs {
			if lvl, _ := rec["level"].(string); lvl == "WARN" || lvl == "ERROR" {
				t.Errorf("a routine scenario logged at %s: %v", lvl, rec)
			}
		}
		if len(logs) == 0 {
			t.Error("no logs")
		}
	})
}

// metricNames are the ringback_ (and process_/go_) series a PromQL text
// names, reduced to their family (a histogram's _bucket, _sum, _count).
var metricName = regexp.MustCompile(`\b(?:ringback|process|go)_[a-z0-9_]+`)

func families(expr string) []string {
	var out []string
	for _, n := range metricName.FindAllString(expr, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suf); ok && strings.Contains(n, "_seconds_") {
				n = base
			}
		}
		out = append(out, n)
	}
	return out
}

// TestDeployMetricsExist parses deploy/grafana-dashboard.json and
// deploy/alerts.yaml and checks that every metric they use is in a real
// scrape after the scenario.
func TestDeployMetricsExist(t *testing.T) {
	backends := storetest.Backends(t)
	backend := backends[len(backends)-1] // PostgreSQL when there is one: its replicas spool webhooks
	fams, _ := metricsScenario(t, backend)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	raw, err := os.ReadFile(filepath.Join("..", "deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	used := map[string][]string{} // metric -> where
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range families(tg.Expr) {
				used[n] = append(used[n], "panel "+p.Title)
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	raw, err = os.ReadFile(filepath.Join("..", "deploy", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	nRules := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			nRules++
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("alert rule without a name or expr: %+v", r)
			}
			for _, n := range families(r.Expr) {
				used[n] = append(used[n], "alert "+r.Alert)
			}
		}
	}
	if len(dash.Panels) < 8 || nRules < 5 {
		t.Fatalf("%d panels, %d alert rules: too few to watch Ringback", len(dash.Panels), nRules)
	}
	var missing []string
	for n, where := range used {
		if fams[n] == nil && backend == "sqlite" && strings.HasPrefix(n, "ringback_webhook_spool_") {
			t.Logf("%s is served with PostgreSQL only (no TEST_DATABASE_URL)", n)
			continue
		}
		if fams[n] == nil {
			missing = append(missing, n+" ("+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("metrics used under deploy/ that /metrics does not serve:\n%s", strings.Join(missing, "\n"))
	}
}
