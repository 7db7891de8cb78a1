package store_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// historyRows is how many done rows BenchmarkOutboxWithHistory seeds
// (RINGBACK_BENCH_OUTBOX_ROWS overrides it).
func historyRows(b *testing.B) int {
	if v := os.Getenv("RINGBACK_BENCH_OUTBOX_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1_000_000
}

// seedHistory writes n done rows, a second apart up to now (in id order,
// as rows are created), and a small backlog.
func seedHistory(b *testing.B, s *store.Store, n int) {
	b.Helper()
	db := s.DB()
	var err error
	if s.Dialect() == "postgres" {
		_, err = db.Exec(`INSERT INTO outbox (kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, lane, claim_seq, created_at, updated_at)
			SELECT 'sms.send', 'history:' || g, '{}', g, 'done', 1, 70, now(), 'sms', 1, now() - make_interval(secs => $1 - g), now() - make_interval(secs => $1 - g)
			FROM generate_series(1, $1) g`, n)
		if err == nil {
			_, err = db.Exec(`ANALYZE outbox`)
		}
	} else {
		_, err = db.Exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
			INSERT INTO outbox (kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, lane, claim_seq, created_at, updated_at)
			SELECT 'sms.send', 'history:' || n, '{}', n, 'done', 1, 70, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), 'sms', 1,
				strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || (? - n) || ' seconds'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || (? - n) || ' seconds')
			FROM g`, n, n, n)
		if err == nil {
			_, err = db.Exec(`ANALYZE`)
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 100 {
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "backlog:" + strconv.Itoa(i), Payload: i, CaseID: int64(i + 1)}, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutboxWithHistory times what runs all the time — a /metrics
// scrape's outbox query, the worker's look at every lane, a claim, the
// hourly prune — on a
// table holding a million done rows (pruning keeps it smaller): each must
// cost what it costs on an empty table (a scrape well under 10 ms).
func BenchmarkOutboxWithHistory(b *testing.B) {
	storetest.EachBackend(b, func(b *testing.B, backend string) {
		s := storetest.New(b, backend)
		seedHistory(b, s, historyRows(b))
		ctx := context.Background()
		b.Run("metrics", func(b *testing.B) {
			for b.Loop() {
				if c, err := s.OutboxBacklog(ctx); err != nil || c[store.OutboxPending] != 100 {
					b.Fatal(c, err)
				}
			}
		})
		b.Run("counts-every-state", func(b *testing.B) {
			// The scrape before: every state counted, done included (now
			// only `ringback outbox`, on demand).
			for b.Loop() {
				if _, err := s.OutboxCounts(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("lanes", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.OutboxLanes(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("prune-none-old", func(b *testing.B) {
			// The hourly prune once the history is all within the
			// retention: it must not read the history to find nothing.
			before := time.Now().Add(-time.Duration(historyRows(b)+3600) * time.Second)
			for b.Loop() {
				if n, err := s.PruneOutbox(ctx, before); err != nil || n != 0 {
					b.Fatal(n, err)
				}
			}
		})
		b.Run("claim-none-due", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: time.Now().Add(-time.Hour), Lease: time.Minute, Limit: 32, Lanes: []string{store.LaneSlack}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// A claim of due rows, and of a lane with nothing to do, walk
		// neither the history nor the other lanes (each was a scan of the
		// million done rows: 0.4 s).
		for _, lane := range []string{store.LaneSlack, store.LaneSMS} {
			b.Run("claim-due-"+lane, func(b *testing.B) {
				for b.Loop() {
					if _, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: time.Now(), Lease: time.Minute, Limit: 32, Lanes: []string{lane}}); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if _, err := s.DB().Exec(`UPDATE outbox SET state = 'pending', lease_until = NULL WHERE state = 'running'`); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	})
}

// seedBacklog writes a chat backlog as a Slack outage leaves it: for each
// of n cases a card row and two thread rows (held behind the card), all
// due, plus n text rows in the SMS lane.
func seedBacklog(b *testing.B, s *store.Store, n int) {
	b.Helper()
	db := s.DB()
	rows := `SELECT 'chat.card.slack', 'card:' || g, '{}', g, 'pending', 0, 70, NOW, 'slack', 0, NOW, NOW FROM g
		UNION ALL SELECT 'chat.thread.slack', 'thread1:' || g, '{}', g, 'pending', 0, 70, NOW, 'slack', 0, NOW, NOW FROM g
		UNION ALL SELECT 'chat.thread.slack', 'thread2:' || g, '{}', g, 'pending', 0, 70, NOW, 'slack', 0, NOW, NOW FROM g
		UNION ALL SELECT 'sms.send', 'sms:' || g, '{}', g, 'pending', 0, 70, NOW, 'sms', 0, NOW, NOW FROM g`
	var err error
	if s.Dialect() == "postgres" {
		_, err = db.Exec(`WITH g AS (SELECT generate_series(1, $1) AS g)
			INSERT INTO outbox (kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, lane, claim_seq, created_at, updated_at) `+
			strings.ReplaceAll(strings.ReplaceAll(rows, "NOW", "now() - interval '1 minute'"), "FROM g", "FROM g AS t(g)")+` ORDER BY 4, 2`, n)
		if err == nil {
			_, err = db.Exec(`ANALYZE outbox`)
		}
	} else {
		_, err = db.Exec(`WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < ?)
			INSERT INTO outbox (kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, lane, claim_seq, created_at, updated_at) `+
			strings.ReplaceAll(rows, "NOW", "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-1 minutes')")+` ORDER BY 4, 2`, n)
		if err == nil {
			_, err = db.Exec(`ANALYZE`)
		}
	}
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkClaimUnderBacklog times a worker's claim of 64 rows of the Slack
// lane while 20,000 cases' cards and thread entries wait there (a Slack
// outage's backlog), and of the SMS lane beside it. Each claimed row is put
// back (untimed), so every claim meets the same backlog. A claim must cost
// about what it costs on a short queue: it is taken after every freed slot.
func BenchmarkClaimUnderBacklog(b *testing.B) {
	storetest.EachBackend(b, func(b *testing.B, backend string) {
		s := storetest.New(b, backend)
		seedBacklog(b, s, 20_000)
		ctx := context.Background()
		for _, lane := range []string{store.LaneSlack, store.LaneSMS} {
			b.Run(lane, func(b *testing.B) {
				for b.Loop() {
					items, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: time.Now(), Lease: time.Minute, Limit: 64, Lanes: []string{lane}})
					if err != nil || len(items) != 64 {
						b.Fatal(len(items), err)
					}
					b.StopTimer()
					if _, err := s.DB().Exec(`UPDATE outbox SET state = 'pending', lease_until = NULL WHERE state = 'running'`); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	})
}

// BenchmarkClaimVaryingLimit times a claim of as many rows as a worker has
// free slots, which changes from one claim to the next (1 to 8 here), on
// the short queue of a store keeping up. On SQLite a LIMIT bound as a parameter made the statement be
// prepared again whenever the value changed (~4× a claim's own cost).
func BenchmarkClaimVaryingLimit(b *testing.B) {
	storetest.EachBackend(b, func(b *testing.B, backend string) {
		s := storetest.New(b, backend)
		ctx := context.Background()
		// 8 texts waiting, written as the bot writes them (no ANALYZE:
		// with statistics, SQLite also plans the time bound's value in).
		for i := range 8 {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "sms:" + strconv.Itoa(i), Payload: i, CaseID: int64(i + 1)}, time.Now().Add(-time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		for b.Loop() {
			i++
			limit := 1 + i%8
			items, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: time.Now(), Lease: time.Minute, Limit: limit, Lanes: []string{store.LaneSMS}})
			if err != nil || len(items) != limit {
				b.Fatal(len(items), err)
			}
			b.StopTimer()
			if _, err := s.DB().Exec(`UPDATE outbox SET state = 'pending', lease_until = NULL WHERE state = 'running'`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}
