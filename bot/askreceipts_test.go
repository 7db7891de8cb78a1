package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/sms"
	"ringback/store"
)

// askerAfterAFirstPass is Twilio as the receipt pass asks it, a second
// after a first pass, which sets where the next ones start: texts accepted
// before an install are not asked about.
func askerAfterAFirstPass(t *testing.T, f *fixture) bot.ReceiptAsker {
	t.Helper()
	asker := sms.NewTexter(sms.New(testAccount, testToken, f.twilio.URL))
	if asked, _, err := f.bot.AskReceipts(context.Background(), asker); err != nil || asked != 0 {
		t.Fatalf("first pass: asked %d, %v", asked, err)
	}
	f.clock.Advance(time.Second)
	return asker
}

// A text whose final receipt never reached Ringback is asked about once it
// has waited ten minutes: what Twilio answers is recorded as that receipt
// would have been (the text and its case's text-back status); a text
// still "sent" at the carrier is asked about once and left so; a text a
// receipt already moved on is not asked about at all.
func TestTextsWhoseReceiptNeverCameAreAskedAbout(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		asker := askerAfterAFirstPass(t, f)
		lost, sid := sentTextBack(t, f)
		if err := f.twilio.SetStatus(sid, "delivered", 0); err != nil { // its callback never came
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
		stays := f.missed(t, "CA2", "+447700900222")
		answered := f.missed(t, "CA3", "+447700900333")
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		sids := map[int64]string{}
		for _, m := range f.twilio.Messages() {
			for _, c := range []store.Case{stays, answered} {
				if m.To == c.CallerNumber {
					sids[c.ID] = m.SID
				}
			}
		}
		// Its "sent" receipt came; the carrier never reports more.
		if err := f.twilio.SetStatus(sids[stays.ID], "sent", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sids[stays.ID], State: bot.SMSSent}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sids[answered.ID], State: bot.SMSDelivered}); err != nil {
			t.Fatal(err)
		}
		// Within the grace nobody is asked about.
		f.clock.Advance(5 * time.Minute)
		if asked, _, err := f.bot.AskReceipts(ctx, asker); err != nil || asked != 0 {
			t.Fatalf("pass within the grace: asked %d, %v", asked, err)
		}
		f.clock.Advance(6 * time.Minute)
		asked, moved, err := f.bot.AskReceipts(ctx, asker)
		if err != nil || asked != 2 || moved != 1 {
			t.Fatalf("pass after the grace: asked %d, moved %d, %v; want 2 asked (the lost receipt's and the text still sent), 1 moved", asked, moved, err)
		}
		for _, want := range []struct {
			c      store.Case
			status bot.SMSState
		}{{lost, bot.SMSDelivered}, {stays, bot.SMSSent}, {answered, bot.SMSDelivered}} {
			c, err := f.store.CaseByID(ctx, want.c.ID)
			if err != nil || c.TextbackStatus != string(want.status) {
				t.Errorf("case %d: text-back %q (%v), want %q", want.c.ID, c.TextbackStatus, err, want.status)
			}
		}
		// Each text is asked about once.
		f.clock.Advance(time.Minute)
		if asked, _, err := f.bot.AskReceipts(ctx, asker); err != nil || asked != 0 {
			t.Errorf("next pass: asked %d, %v; want none asked again", asked, err)
		}
	})
}

// A pass Twilio fails (an outage, or a refusal of every request) stops
// there, and the next pass asks again from the text it could not ask about.
func TestReceiptPassResumesAfterAFailure(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		asker := askerAfterAFirstPass(t, f)
		c, sid := sentTextBack(t, f)
		if err := f.twilio.SetStatus(sid, "undelivered", sms.CodeUnreachable); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(11 * time.Minute)
		// An outage, then a refusal of every request (credentials revoked).
		for _, failure := range []struct{ status, code int }{{503, 0}, {401, 20003}} {
			f.twilio.FailNext(1, failure.status, failure.code, 0)
			if asked, _, err := f.bot.AskReceipts(ctx, asker); err == nil || asked != 0 {
				t.Fatalf("pass Twilio answers %d: asked %d, %v; want an error", failure.status, asked, err)
			}
			f.clock.Advance(time.Minute)
		}
		if asked, moved, err := f.bot.AskReceipts(ctx, asker); err != nil || asked != 1 || moved != 1 {
			t.Fatalf("next pass: asked %d, moved %d, %v; want the text asked about again", asked, moved, err)
		}
		got, err := f.store.CaseByID(ctx, c.ID)
		if err != nil || !strings.HasPrefix(got.TextbackStatus, string(bot.SMSUndelivered)) {
			t.Errorf("the case's text-back %q (%v), want undelivered", got.TextbackStatus, err)
		}
	})
}

// A text Twilio knows nothing of (404) is passed over, and does not hold
// up the texts after it.
func TestReceiptPassPassesOverATextTwilioDoesNotKnow(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		asker := askerAfterAFirstPass(t, f)
		sentTextBack(t, f)
		f.clock.Advance(time.Second)
		c := f.missed(t, "CA2", "+447700900222")
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		texts := f.twilio.Messages()
		if err := f.twilio.SetStatus(texts[len(texts)-1].SID, "delivered", 0); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(11 * time.Minute)
		f.twilio.FailNext(1, 404, 20404, 0) // the first text's
		if asked, moved, err := f.bot.AskReceipts(ctx, asker); err != nil || asked != 1 || moved != 1 {
			t.Fatalf("pass: asked %d, moved %d, %v; want the second text asked and moved", asked, moved, err)
		}
		if got, err := f.store.CaseByID(ctx, c.ID); err != nil || got.TextbackStatus != string(bot.SMSDelivered) {
			t.Errorf("the second case's text-back %q (%v), want delivered", got.TextbackStatus, err)
		}
		f.clock.Advance(time.Minute)
		if asked, _, err := f.bot.AskReceipts(ctx, asker); err != nil || asked != 0 {
			t.Errorf("next pass: asked %d, %v; want none", asked, err)
		}
	})
}
