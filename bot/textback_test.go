package bot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"ringback/bot"
)

// Twenty callers each ring both lines at the same instant: each gets exactly
// one text-back (the cooldown spans lines), however the two calls race.
func TestTextBackOncePerCallerAcrossLinesUnderConcurrentCalls(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		const callers = 20
		start := make(chan struct{})
		errs := make(chan error, 2*callers)
		var wg sync.WaitGroup
		for i := 0; i < callers; i++ {
			from := fmt.Sprintf("+4477009002%02d", i)
			for j, to := range []string{lettingsNum, "+441632960002"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := f.bot.ReportCall(ctx, bot.CallReport{
						Provider: "twilio", SID: fmt.Sprintf("CA%02d%d", i, j), From: from, To: to, Outcome: bot.CallMissed, Status: "no-answer",
					})
					errs <- err
				}()
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		texts := map[string]int{}
		for _, m := range f.twilio.Messages() {
			texts[m.To]++
		}
		if len(texts) != callers {
			t.Fatalf("%d callers texted, want %d", len(texts), callers)
		}
		for to, n := range texts {
			if n != 1 {
				t.Errorf("%s got %d text-backs, want 1", to, n)
			}
		}
	})
}
