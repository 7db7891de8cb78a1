package bot_test

import (
	"context"
	"testing"
	"time"

	"ringback/bot"
)

// A call whose row the database keeps refusing, yet never shows, is an
// error after a few tries, not a report that spins until the stack or the
// webhook's timeout gives out.
func TestReportCallRetriesABoundedNumberOfTimes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		// The database drops the insert of this one call without a word,
		// as it does when a concurrent report inserted it first.
		ignore := map[string][]string{
			"sqlite": {`CREATE TRIGGER calls_stuck BEFORE INSERT ON calls WHEN NEW.sid = 'CAstuck' BEGIN SELECT RAISE(IGNORE); END`},
			"postgres": {
				`CREATE FUNCTION calls_stuck() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.sid = 'CAstuck' THEN RETURN NULL; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER calls_stuck BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION calls_stuck()`,
			},
		}[f.store.Dialect()]
		for _, q := range ignore {
			if _, err := f.store.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() {
			_, err := f.bot.ReportCall(context.Background(), bot.CallReport{Provider: "twilio", SID: "CAstuck", From: callerNum, To: lettingsNum, Outcome: bot.CallMissed, Status: "no-answer"})
			done <- err
		}()
		if err := within(t, done, 20*time.Second, "ReportCall is still retrying after 20 s"); err == nil {
			t.Fatal("a call that was never stored was reported as taken")
		}
		// Other calls are taken as ever.
		if c := f.missed(t, "CA1", callerNum); c.ID == 0 {
			t.Fatal("no case for the next call")
		}
	})
}
