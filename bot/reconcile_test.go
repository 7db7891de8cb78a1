package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ringback/bot"
	"ringback/sms"
	"ringback/sms/twiliostandin"
)

// Six hours without webhooks: one pass resumes from the watermark the last
// pass left, pages through every missed call of the outage and ingests each
// once, including calls that ended in Ringback's own voicemail flow; calls a
// person answered and calls still ringing are left alone.
func TestReconcileRecoversAnOutageFromTheWatermark(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		lister := sms.NewTexter(sms.New(testAccount, testToken, f.twilio.URL))
		if n, err := f.bot.Reconcile(ctx, lister); err != nil || n != 0 {
			t.Fatalf("quiet pass: %d, %v", n, err)
		}
		outageStart := f.clock.Now()

		// The outage: 250 missed calls over six hours, newest listed first
		// by Twilio across three pages of 100.
		const missed = 250
		for i := range missed {
			status := "no-answer"
			if i%5 == 0 {
				status = "busy"
			}
			f.twilio.AddCall(twiliostandin.CallRecord{
				From: fmt.Sprintf("+4477009%05d", 1000+i), To: lettingsNum, Status: status,
				StartTime: outageStart.Add(time.Duration(i) * 86 * time.Second),
			})
		}
		// Rang staff, nobody answered, the caller left a voicemail: Twilio
		// says "completed" (its TwiML answered) and the staff leg no-answer.
		// Ringback saw the call ring (its row exists) but no webhook after.
		vm := "CA00000000000000000000000000000vm1"
		vmAt := outageStart.Add(time.Hour)
		f.clock.Set(vmAt)
		if _, err := f.bot.RouteCall(ctx, vm, "+447700900701", lettingsNum); err != nil {
			t.Fatal(err)
		}
		f.twilio.AddCall(twiliostandin.CallRecord{SID: vm, From: "+447700900701", To: lettingsNum, Status: "completed", StartTime: vmAt, Duration: 48})
		f.twilio.AddCall(twiliostandin.CallRecord{ParentSID: vm, From: lettingsNum, To: "+447700900001", Status: "no-answer", Direction: "outbound-dial", StartTime: vmAt})
		// After hours, straight to voicemail: no leg at all, no webhook seen.
		f.twilio.AddCall(twiliostandin.CallRecord{SID: "CA00000000000000000000000000000vm2", From: "+447700900702", To: lettingsNum, Status: "completed", StartTime: outageStart.Add(5 * time.Hour), Duration: 30})
		// Answered by staff: the leg completed. Not a missed call.
		answered := f.twilio.AddCall(twiliostandin.CallRecord{From: "+447700900703", To: lettingsNum, Status: "completed", StartTime: outageStart.Add(2 * time.Hour), Duration: 200})
		f.twilio.AddCall(twiliostandin.CallRecord{ParentSID: answered, From: lettingsNum, To: "+447700900002", Status: "completed", Direction: "outbound-dial", StartTime: outageStart.Add(2 * time.Hour), Duration: 190})
		// Staff calling a customer back is no inbound call.
		f.twilio.AddCall(twiliostandin.CallRecord{From: lettingsNum, To: "+447700900704", Status: "no-answer", Direction: "outbound-api", StartTime: outageStart.Add(3 * time.Hour)})
		// Still ringing as the pass runs: the watermark must wait for it.
		ringing := f.twilio.AddCall(twiliostandin.CallRecord{From: "+447700900705", To: lettingsNum, Status: "ringing", StartTime: outageStart.Add(5*time.Hour + 30*time.Minute)})

		f.clock.Set(outageStart.Add(6 * time.Hour))
		n, err := f.bot.Reconcile(ctx, lister)
		if err != nil {
			t.Fatal(err)
		}
		if want := missed + 2; n != want {
			t.Fatalf("reconcile ingested %d, want %d", n, want)
		}
		var cases int
		if err := f.store.DB().Get(&cases, `SELECT COUNT(*) FROM cases`); err != nil || cases != missed+2 {
			t.Fatalf("cases = %d (%v), want %d", cases, err, missed+2)
		}
		for _, sid := range []string{vm, "CA00000000000000000000000000000vm2"} {
			c, err := f.store.CallBySID(ctx, sid)
			if err != nil || !c.Missed || c.CaseID == nil {
				t.Fatalf("voicemail-flow call %s: %+v %v; want a missed call with a case", sid, c, err)
			}
		}
		if c, err := f.store.CallBySID(ctx, answered); err != nil || c.Missed {
			t.Fatalf("answered call: %+v %v", c, err)
		}
		if mark, err := f.store.Watermark(ctx, bot.ReconcileWatermark); err != nil || mark.After(outageStart.Add(5*time.Hour+30*time.Minute)) {
			t.Fatalf("watermark %v (%v) passed the call still ringing", mark, err)
		}

		// A second pass finds nothing new.
		f.clock.Advance(3 * time.Minute)
		if n, err := f.bot.Reconcile(ctx, lister); err != nil || n != 0 {
			t.Fatalf("second pass: %d, %v; want 0", n, err)
		}
		// The ringing call ends unanswered: the next pass still sees it.
		f.twilio.SetCallStatus(ringing, "no-answer", 0)
		f.clock.Advance(3 * time.Minute)
		if n, err := f.bot.Reconcile(ctx, lister); err != nil || n != 1 {
			t.Fatalf("pass after the ringing call ended: %d, %v; want 1", n, err)
		}
		if mark, _ := f.store.Watermark(ctx, bot.ReconcileWatermark); !mark.Equal(outageStart.Add((missed - 1) * 86 * time.Second)) {
			t.Fatalf("watermark = %v, want the newest call's start", mark)
		}
	})
}

// An outage longer than a day recovers the last 24 h, not more.
func TestReconcileLooksBackAtMostADay(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		lister := sms.NewTexter(sms.New(testAccount, testToken, f.twilio.URL))
		start := f.clock.Now()
		if _, err := f.bot.Reconcile(ctx, lister); err != nil {
			t.Fatal(err)
		}
		f.twilio.AddCall(twiliostandin.CallRecord{From: "+447700900801", To: lettingsNum, Status: "busy", StartTime: start.Add(time.Hour)})
		f.twilio.AddCall(twiliostandin.CallRecord{From: "+447700900802", To: lettingsNum, Status: "busy", StartTime: start.Add(40 * time.Hour)})
		f.clock.Set(start.Add(48 * time.Hour))
		if n, err := f.bot.Reconcile(ctx, lister); err != nil || n != 1 {
			t.Fatalf("reconcile after 48 h: %d, %v; want only the call of the last day", n, err)
		}
	})
}
