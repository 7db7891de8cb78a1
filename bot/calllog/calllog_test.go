package calllog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"ringback/bot"
	"ringback/bot/calllog"
	"ringback/config"
	"ringback/handlers"
	"ringback/store"
	"ringback/store/storetest"
)

const (
	lettings  = "+441632960001"
	elsewhere = "+441632960099"
)

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
business: {name: Northside Lettings, timezone: Europe/London, region: GB}
lines:
  - {number: "01632 960001", name: Lettings, channel: C0LETTINGS, hours: {mon-fri: "09:00-17:30"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// verdict is what Ringback makes of a call.
type verdict struct {
	Caller                     string // "" when withheld
	Missed, AfterHours, Routed bool
}

// An imported call and a live one are judged by the same rules: the same
// call posted to the generic webhook and read from a call log gets the
// same verdict, and the verdict is the right one.
func TestImportedCallJudgedAsLive(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	open := time.Date(2026, 11, 16, 10, 0, 0, 0, london)   // a Monday, open
	closed := time.Date(2026, 11, 14, 10, 0, 0, 0, london) // a Saturday, closed
	late := time.Date(2026, 11, 16, 17, 31, 0, 0, london)  // a minute after closing
	const caller = "+447700900123"
	cases := []struct {
		name, from, to, status string
		at                     time.Time
		want                   verdict
	}{
		{"withheld: Twilio's word", "Anonymous", lettings, "no-answer", open, verdict{"", true, false, true}},
		{"withheld: Twilio's keypad spelling", "+266696687", lettings, "busy", open, verdict{"", true, false, true}},
		{"withheld: UK export", "Number Withheld", lettings, "missed", open, verdict{"", true, false, true}},
		{"withheld: US export", "No Caller-ID", lettings, "no answer", open, verdict{"", true, false, true}},
		{"withheld: blank", " ", lettings, "busy", open, verdict{"", true, false, true}},
		{"voicemail", "07700 900123", lettings, "Voicemail", open, verdict{caller, true, false, true}},
		{"voicemail, short", "07700 900123", lettings, "VM", open, verdict{caller, true, false, true}},
		{"busy", "07700 900123", lettings, "BUSY", open, verdict{caller, true, false, true}},
		{"canceled", "07700 900123", lettings, "cancelled", open, verdict{caller, true, false, true}},
		{"answered", "07700 900123", lettings, "answered", open, verdict{caller, false, false, true}},
		{"completed: answered", "07700 900123", lettings, "completed", open, verdict{caller, false, false, true}},
		{"after hours: weekend", "07700 900123", lettings, "no-answer", closed, verdict{caller, true, true, true}},
		{"after hours: a minute after closing", "07700 900123", lettings, "voicemail", late, verdict{caller, true, true, true}},
		{"after hours, answered", "07700 900123", lettings, "answered", closed, verdict{caller, false, true, true}},
		{"no configured line: never after hours", "07700 900123", elsewhere, "missed", closed, verdict{caller, true, false, false}},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cfg := testConfig(t)
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		// The phone system posts each call as it ends: the bot's clock is
		// the call's time (a report days old would be taken as now).
		clock := bot.NewManualClock(open)
		b := bot.New(bot.Deps{Store: s, Config: cfg, Log: quiet, Clock: clock})
		srv := handlers.New(handlers.Deps{Store: s, Log: quiet})
		const secret = "webhook-secret"
		srv.MountCalls(b, secret, time.Now)
		judge := calllog.NewJudge(cfg, calllog.Options{AllLines: true})
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// Live: the phone system posts the call to the generic webhook.
				clock.Set(tc.at.Add(time.Minute))
				sid := fmt.Sprintf("live-%d", i)
				body, _ := json.Marshal(handlers.GenericCall{ID: sid, From: tc.from, To: tc.to, StartedAt: tc.at, Status: tc.status})
				req := httptest.NewRequest("POST", "/calls", bytes.NewReader(body))
				req.Header.Set(handlers.SignatureHeader, handlers.SignGeneric(secret, body, time.Now()))
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					t.Fatalf("live: %d %s", rec.Code, rec.Body)
				}
				c, err := s.CallBySID(ctx, "generic:"+sid)
				if err != nil {
					t.Fatal(err)
				}
				live := verdict{c.CallerNumber, c.Missed, c.AfterHours, c.Routed}

				c, problems := judge.Call(calllog.Row{Started: tc.at, From: tc.from, To: tc.to, Status: tc.status, Cells: []string{tc.name}}, tc.at)
				if len(problems) > 0 {
					t.Fatalf("imported: %+v", problems)
				}
				imported := verdict{c.CallerNumber, c.Missed, c.AfterHours, c.Routed}
				if live != tc.want || imported != tc.want {
					t.Errorf("live %+v, imported %+v; want %+v", live, imported, tc.want)
				}
			})
		}
	})
}

// A status no rule reads is refused the same way live and imported.
func TestUnknownStatusRefusedBoth(t *testing.T) {
	for _, status := range []string{"ringing", "in-progress", "transferred"} {
		if o, ok := bot.CallStatusOutcome(status); ok {
			t.Errorf("live reads %q as %s", status, o)
		}
		if _, known := calllog.Missed(status, 30, true); known {
			t.Errorf("import reads %q", status)
		}
	}
}

// Rows repeated in a log are one call; a row that differs is another.
func TestSIDIsTheRow(t *testing.T) {
	cfg := testConfig(t)
	j := calllog.NewJudge(cfg, calllog.Options{})
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	row := calllog.Row{Started: at, From: "07700 900123", To: lettings, Status: "missed", Cells: []string{"16/11/2026 10:00", "07700 900123", "missed"}}
	a, _ := j.Call(row, at)
	b, _ := j.Call(row, at.Add(time.Hour))
	row.Cells = append(row.Cells[:2:2], "Missed")
	c, _ := j.Call(row, at)
	if a.SID != b.SID || a.SID == c.SID || a.Provider != calllog.Provider {
		t.Errorf("SIDs %q %q %q (provider %q): want the first two equal, the third apart", a.SID, b.SID, c.SID, a.Provider)
	}
}

func TestRowProblems(t *testing.T) {
	cfg := testConfig(t)
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		row  calllog.Row
		opts calllog.Options
		want []calllog.Problem
	}{
		{calllog.Row{From: "12345", To: lettings, Status: "missed"}, calllog.Options{},
			[]calllog.Problem{{`caller "12345" is not a phone number`, calllog.FixNone}}},
		{calllog.Row{From: "07700 900123", To: elsewhere, Status: "missed"}, calllog.Options{},
			[]calllog.Problem{{elsewhere + " is not a configured line", calllog.FixAllLines}}},
		{calllog.Row{From: "07700 900123", Status: "missed"}, calllog.Options{},
			[]calllog.Problem{{"no number called", calllog.FixToColumn}}},
		{calllog.Row{From: "07700 900123", To: lettings, Duration: "long"}, calllog.Options{},
			[]calllog.Problem{{`"long" is not a duration`, calllog.FixDurationColumn}}},
		{calllog.Row{From: "07700 900123", To: lettings}, calllog.Options{},
			[]calllog.Problem{{"no status", calllog.FixStatusColumn}}},
		{calllog.Row{From: "07700 900123", Status: "missed"}, calllog.Options{Line: &cfg.Lines[0]}, nil},
	} {
		tc.row.Started = at
		_, got := calllog.NewJudge(cfg, tc.opts).Call(tc.row, at)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%+v: got %+v, want %+v", tc.row, got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]struct {
		secs           int
		present, valid bool
	}{
		"": {0, false, true}, "-": {0, false, true}, "N/A": {0, false, true},
		"0": {0, true, true}, "42": {42, true, true}, "42.6": {43, true, true},
		"1:05": {65, true, true}, "00:01:05": {65, true, true}, "1:00:00": {3600, true, true},
		"1m5s": {65, true, true}, "65 sec": {65, true, true}, "2 min": {120, true, true},
		"1:75": {0, true, false}, "long": {0, true, false}, "-5": {0, true, false},
	} {
		secs, present, valid := calllog.ParseDuration(in)
		if secs != want.secs || present != want.present || valid != want.valid {
			t.Errorf("%q: got %d, %v, %v; want %+v", in, secs, present, valid, want)
		}
	}
}

func TestMissed(t *testing.T) {
	for _, tc := range []struct {
		status        string
		dur           int
		hasDur        bool
		missed, known bool
	}{
		{"Answered", 0, true, false, true}, {"COMPLETED", 10, true, false, true}, {"yes", 0, false, false, true}, {"1", 0, false, false, true},
		{"No Answer", 0, true, true, true}, {"no-answer", 0, true, true, true}, {"NO_ANSWER", 0, true, true, true},
		{"Voicemail", 40, true, true, true}, {"VM", 40, true, true, true}, {"busy", 0, false, true, true}, {"Canceled", 0, false, true, true},
		{"false", 0, false, true, true}, {"0", 0, false, true, true},
		{"", 0, true, true, true}, {"", 12, true, false, true}, {"", 0, false, false, false},
		{"transferred", 0, true, false, false},
	} {
		missed, known := calllog.Missed(tc.status, tc.dur, tc.hasDur)
		if missed != tc.missed || known != tc.known {
			t.Errorf("%q %d %v: got missed %v known %v", tc.status, tc.dur, tc.hasDur, missed, known)
		}
	}
}
