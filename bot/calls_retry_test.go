package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
)

// A call whose row the database keeps refusing as written already, yet
// never shows, is an error after a few tries, not a report that spins
// until the stack or the webhook's timeout gives out.
func TestReportCallRetriesABoundedNumberOfTimes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		// The database refuses this one call as a duplicate, as it does
		// when a concurrent report inserted it first.
		refuse := map[string][]string{
			"sqlite": {`CREATE TRIGGER calls_stuck BEFORE INSERT ON calls WHEN NEW.sid = 'CAstuck' BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: calls.sid'); END`},
			"postgres": {
				`CREATE FUNCTION calls_stuck() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.sid = 'CAstuck' THEN RAISE unique_violation USING TABLE = 'calls'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER calls_stuck BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION calls_stuck()`,
			},
		}[f.store.Dialect()]
		for _, q := range refuse {
			if _, err := f.store.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() {
			_, err := f.bot.ReportCall(context.Background(), bot.CallReport{Provider: "twilio", SID: "CAstuck", From: callerNum, To: lettingsNum, Outcome: bot.CallMissed, Status: "no-answer"})
			done <- err
		}()
		err := within(t, done, 20*time.Second, "ReportCall is still retrying after 20 s")
		if err == nil {
			t.Fatal("a call that was never stored was reported as taken")
		}
		if !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("error %v, want one that says the row was taken", err)
		}
		// Nothing of it stayed: no case, no text-back queued.
		var cases, rows int
		if err := f.store.DB().Get(&cases, `SELECT COUNT(*) FROM cases`); err != nil || cases != 0 {
			t.Errorf("%d cases (%v) after the refused call, want none", cases, err)
		}
		if err := f.store.DB().Get(&rows, `SELECT COUNT(*) FROM outbox`); err != nil || rows != 0 {
			t.Errorf("%d outbox rows (%v) after the refused call, want none", rows, err)
		}
		// Other calls are taken as ever.
		if c := f.missed(t, "CA1", callerNum); c.ID == 0 {
			t.Fatal("no case for the next call")
		}
	})
}

// Twilio retries a status callback that got no answer in time, so the same
// call can be reported twice at the same instant (two replicas, or one
// webhook and its retry): it is one call, one case, one text-back, and
// every report answers success.
func TestSameCallReportedAtOnceIsRecordedOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		const reports = 8
		errs := make([]error, reports)
		cases := make([]int64, reports)
		atOnce(reports, func(i int) {
			res, err := f.bot.ReportCall(context.Background(), bot.CallReport{Provider: "twilio", SID: "CAtwice", From: callerNum, To: lettingsNum, Outcome: bot.CallMissed, Status: "no-answer"})
			errs[i], cases[i] = err, res.CaseID
		})
		for i, err := range errs {
			if err != nil || cases[i] == 0 || cases[i] != cases[0] {
				t.Errorf("report %d: case %d, %v; want case %d", i, cases[i], err, cases[0])
			}
		}
		var calls, open, texts int
		db := f.store.DB()
		if err := db.Get(&calls, `SELECT COUNT(*) FROM calls WHERE sid = 'CAtwice'`); err != nil || calls != 1 {
			t.Errorf("%d calls recorded (%v), want 1", calls, err)
		}
		if err := db.Get(&open, `SELECT COUNT(*) FROM cases`); err != nil || open != 1 {
			t.Errorf("%d cases (%v), want 1", open, err)
		}
		if err := db.Get(&texts, `SELECT COUNT(*) FROM messages WHERE kind = 'textback'`); err != nil || texts != 1 {
			t.Errorf("%d text-backs queued (%v), want 1", texts, err)
		}
		if c, err := f.store.CaseByID(context.Background(), cases[0]); err != nil || c.CallCount != 1 {
			t.Errorf("case counts %d calls (%v), want 1", c.CallCount, err)
		}
	})
}

// Two calls from one number to one line at the same instant (two SIDs)
// open one case: the report whose new case meets the other's at the commit
// runs again and counts its call on that case, with no second text-back.
func TestTwoCallsAtOnceFromOneCallerOpenOneCase(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		const calls = 6
		errs := make([]error, calls)
		atOnce(calls, func(i int) {
			_, errs[i] = f.bot.ReportCall(context.Background(), bot.CallReport{Provider: "twilio", SID: "CAat" + string(rune('a'+i)), From: callerNum, To: lettingsNum, Outcome: bot.CallMissed, Status: "no-answer"})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		var cases []store.Case
		if err := f.store.DB().Select(&cases, `SELECT id, call_count FROM cases`); err != nil {
			t.Fatal(err)
		}
		if len(cases) != 1 || cases[0].CallCount != calls {
			t.Errorf("cases %+v, want one counting %d calls", cases, calls)
		}
		var texts, linked int
		if err := f.store.DB().Get(&texts, `SELECT COUNT(*) FROM messages WHERE kind = 'textback'`); err != nil || texts != 1 {
			t.Errorf("%d text-backs queued (%v), want 1", texts, err)
		}
		if err := f.store.DB().Get(&linked, `SELECT COUNT(*) FROM calls WHERE case_id IS NOT NULL`); err != nil || linked != calls {
			t.Errorf("%d calls on the case (%v), want %d", linked, err, calls)
		}
	})
}

// atOnce runs fn(0) … fn(n-1) on goroutines released together, and waits
// for them.
func atOnce(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
