package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// While Twilio is down, queued text-backs wait behind one probe a second
// instead of each spending an attempt on it, and when it comes back they
// all go out within about a second.
func TestTwilioOutageHoldsTextsBehindOneProbe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		f.twilio.FailNext(1000, 503, 0, 0)
		for i := range 20 {
			f.missed(t, fmt.Sprintf("CA%d", i), fmt.Sprintf("+4477009001%02d", i))
		}
		for range 10 { // ten seconds of outage
			if _, err := f.worker.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Second)
		}
		hit := f.twilio.EndFailures()
		if hit > 12 {
			t.Errorf("Twilio got %d sends during a 10 s outage, want about one a second", hit)
		}
		f.clock.Advance(1100 * time.Millisecond)
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(f.twilio.Messages()); n != 20 {
			t.Errorf("%d of 20 text-backs out 1.1 s after the outage, want all", n)
		}
	})
}

// A text-back that failed many times (an outage, and replicas killed while
// it ran) still retries seconds apart while it is young: it goes out
// within seconds of Twilio coming back, not minutes.
func TestTextBackRetriesSoonWhileYoung(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		f.twilio.FailNext(8, 503, 0, 0)
		start := f.clock.Now()
		f.missed(t, "CA1", callerNum)
		for len(f.twilio.Messages()) == 0 && f.clock.Now().Sub(start) < 5*time.Minute {
			if _, err := f.worker.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(500 * time.Millisecond)
		}
		if took := f.clock.Now().Sub(start); took > 15*time.Second {
			t.Errorf("after 8 failed sends the text-back went out %s after the call, want ≤ 15 s", took)
		}
	})
}
