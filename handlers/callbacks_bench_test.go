package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// BenchmarkCallbacksCommand answers /callbacks through real HTTP (signed)
// with 10,000 open cases in the store, and reports p50/p99: Slack wants an
// answer within 3 s; the target is p99 ≤ 100 ms on PostgreSQL.
func BenchmarkCallbacksCommand(b *testing.B) {
	storetest.EachBackend(b, func(b *testing.B, backend string) {
		h := newHarnessTB(b, backend)
		seedOpenCases(b, h.store, 10000)
		body := url.Values{"command": {"/callbacks"}, "text": {""}, "user_id": {"U0ALICE"}, "user_name": {"alice"}, "channel_id": {"C0LETTINGS"}}.Encode()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			code, resp := h.postSlack("/slack/commands", body+fmt.Sprintf("&trigger_id=%d", i), time.Now(), slackSign)
			lat = append(lat, time.Since(start))
			if code != 200 || !strings.Contains(resp, "10000 open") {
				b.Fatalf("/callbacks: %d %.200s", code, resp)
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
	})
}

// seedOpenCases writes n open cases across both lines, a third of them
// with a caller's reply, in one transaction.
func seedOpenCases(tb testing.TB, s *store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	err := s.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			at := base.Add(time.Duration(i) * time.Minute)
			line := lettings
			if i%2 == 1 {
				line = maint
			}
			c := store.Case{LineNumber: line, CallerNumber: fmt.Sprintf("+4477009%05d", i), State: store.CaseOpen, Origin: "call",
				CallCount: 1, LastCallAt: &at, CreatedAt: at, UpdatedAt: at}
			if _, err := tx.InsertCase(ctx, &c); err != nil {
				return err
			}
			if i%3 == 0 {
				sid := fmt.Sprintf("SMseed%06d", i)
				m := store.Message{SID: &sid, CaseID: &c.ID, Direction: store.Inbound, Kind: "reply", LineNumber: line,
					CallerNumber: c.CallerNumber, Body: "2", Status: "received", CreatedAt: at, UpdatedAt: at}
				if _, err := tx.InsertMessage(ctx, &m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
