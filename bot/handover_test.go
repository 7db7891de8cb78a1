package bot_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"ringback/bot"
)

// handovers are the handover posts queued for Slack in the Lettings
// channel, oldest first.
func handovers(t *testing.T, f *fixture) []bot.Handover {
	t.Helper()
	var out []bot.Handover
	for _, it := range outbox(t, f.store, "chat.post.slack") {
		var p bot.Post
		if err := json.Unmarshal([]byte(it.Payload), &p); err != nil {
			t.Fatal(err)
		}
		if p.Channel == "C0LETTINGS" && p.Handover != nil {
			out = append(out, *p.Handover)
		}
	}
	return out
}

// The 17:15 check hands over what closed since 08:45 with its outcome and
// note, and what is open, urgent then overdue first, with owners and notes.
// A closed date has no check; the next one reaches back to the last.
func TestHandoverAtTheQueueCheck(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.clock.Set(time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)) // Monday, London
		early := f.missed(t, "CA0", "+447700900100")
		if _, err := f.bot.Close(ctx, early.ID, alice, "wrong_number", "not ours"); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 11, 16, 8, 46, 0, 0, time.UTC))
		tick(t, f.bot)
		f.clock.Set(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC))
		a := f.missed(t, "CA1", "+447700900101")
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM1", From: "+447700900101", To: lettingsNum, Body: "1"}); err != nil {
			t.Fatal(err)
		}
		b := f.missed(t, "CA2", "+447700900102")
		if _, err := f.bot.Claim(ctx, b.ID, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.LogCallback(ctx, b.ID, alice, "left_voicemail", "left a voicemail, try after 6"); err != nil {
			t.Fatal(err)
		}
		c := f.missed(t, "CA3", "+447700900103")
		if _, err := f.bot.Claim(ctx, c.ID, bob); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.Close(ctx, c.ID, bob, "booked", "Viewing Tue 11:00"); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 11, 16, 11, 0, 0, 0, time.UTC))
		e := f.missed(t, "CA4", "+447700900104")
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM4", From: "+447700900104", To: lettingsNum, Body: "9"}); err != nil {
			t.Fatal(err)
		}

		f.clock.Set(time.Date(2026, 11, 16, 17, 16, 0, 0, time.UTC))
		tick(t, f.bot)
		hs := handovers(t, f)
		if len(hs) != 2 { // 08:45 and 17:15
			t.Fatalf("%d handovers, want 2", len(hs))
		}
		h := hs[1]
		if h.At != "17:15" || h.Since != "08:45" || h.ClosedTotal != 1 || h.OpenTotal != 3 || h.Urgent != 1 || h.Overdue != 2 || h.Unclaimed != 2 {
			t.Fatalf("handover = %+v", h)
		}
		if got := h.Closed[0]; got.CaseID != c.ID || got.Outcome != "booked" || got.Note != "Viewing Tue 11:00" {
			t.Fatalf("closed = %+v", got)
		}
		if len(h.Open) != 3 || h.Open[0].CaseID != e.ID || h.Open[1].CaseID != a.ID || !h.Open[1].Overdue || h.Open[2].CaseID != b.ID {
			t.Fatalf("open, want urgent #%d, overdue #%d, then #%d: %+v", e.ID, a.ID, b.ID, h.Open)
		}
		if h.Open[2].Owner != alice.ID || h.Open[2].Note != "left a voicemail, try after 6" {
			t.Fatalf("open case with its note = %+v", h.Open[2])
		}

		// Tuesday is a closed date: no check. Wednesday's 08:45 reaches back
		// to Monday 17:15.
		line, _ := f.bot.Config().LineByName("Lettings")
		line.ClosedDates = []string{"2026-11-17"}
		f.clock.Set(time.Date(2026, 11, 17, 8, 46, 0, 0, time.UTC))
		tick(t, f.bot)
		f.clock.Set(time.Date(2026, 11, 17, 17, 16, 0, 0, time.UTC))
		tick(t, f.bot)
		if n := len(handovers(t, f)); n != 2 {
			t.Fatalf("%d handovers after a closed day, want still 2", n)
		}
		if _, err := f.bot.Close(ctx, a.ID, alice, "reached", "called back, sorted"); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 11, 18, 8, 46, 0, 0, time.UTC))
		tick(t, f.bot)
		hs = handovers(t, f)
		if len(hs) != 3 || hs[2].Since != "Mon 17:15" || hs[2].ClosedTotal != 1 || hs[2].Closed[0].CaseID != a.ID {
			t.Fatalf("Wednesday's handover = %+v", hs[len(hs)-1])
		}
	})
}
