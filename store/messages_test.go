package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func pendingMessage(t *testing.T, s *store.Store) store.Message {
	t.Helper()
	m := store.Message{
		Direction: store.Outbound, Kind: "textback", LineNumber: "+441632960001", CallerNumber: "+447700900123",
		Body: "Sorry we missed your call.", Status: "pending", CreatedAt: t0, UpdatedAt: t0,
	}
	if _, err := s.InsertMessage(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A re-run of a send must know when the FIRST attempt began, whatever later
// attempts did: that is where it looks for the text at the provider.
func TestStartSendKeepsTheFirstAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := pendingMessage(t, s)
		if got, _ := s.MessageByID(ctx, m.ID); got.SendStartedAt != nil {
			t.Fatalf("a message never tried has send_started_at %v", got.SendStartedAt)
		}
		first := t0.Add(time.Minute)
		at, err := s.StartSend(ctx, m.ID, first)
		if err != nil || !at.Equal(first) {
			t.Fatalf("first attempt: %v %v, want %v", at, err, first)
		}
		at, err = s.StartSend(ctx, m.ID, first.Add(time.Hour))
		if err != nil || !at.Equal(first) {
			t.Fatalf("second attempt: %v %v, want the first attempt's %v", at, err, first)
		}
		got, err := s.MessageByID(ctx, m.ID)
		if err != nil || got.SendStartedAt == nil || !got.SendStartedAt.Equal(first) {
			t.Fatalf("stored send_started_at = %v %v, want %v", got.SendStartedAt, err, first)
		}
		// Recording the acceptance leaves it as it was.
		sid := "SM0123456789abcdef0123456789abcdef"
		got.SID, got.Status, got.AcceptedAt = &sid, "queued", &first
		if err := s.UpdateMessage(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MessageBySID(ctx, sid); got.SendStartedAt == nil || !got.SendStartedAt.Equal(first) {
			t.Fatalf("after acceptance send_started_at = %v", got.SendStartedAt)
		}
		if _, err := s.StartSend(ctx, m.ID+100, first); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("StartSend of a missing message: %v, want ErrNotFound", err)
		}
	})
}

// An early receipt keeps the bot's word for why the text failed until the
// message's SID is known.
func TestEarlyReceiptKeepsItsProblem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sid := "SM0123456789abcdef0123456789abcdef"
		if err := s.KeepReceipt(ctx, store.Receipt{SID: sid, Status: "sent", ReceivedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.KeepReceipt(ctx, store.Receipt{SID: sid, Status: "undelivered", Problem: "not_textable", ErrorCode: "30006", ReceivedAt: t0.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		r, ok, err := s.TakeReceipt(ctx, sid)
		if err != nil || !ok || r.Status != "undelivered" || r.Problem != "not_textable" || r.ErrorCode != "30006" {
			t.Fatalf("TakeReceipt = %+v %v %v, want the later receipt with its problem", r, ok, err)
		}
		if _, ok, _ := s.TakeReceipt(ctx, sid); ok {
			t.Fatal("a receipt was taken twice")
		}
	})
}

// Both stores keep the same text for bytes PostgreSQL would refuse, and
// neither writes a time it could not read back.
func TestStoresKeepTheSameBytesAndOnlyReadableTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := store.Call{SID: "CA\x00dirty\xff", Provider: "twilio", LineNumber: "+441632960001", Status: "no-answer",
			Transcript: "boiler\x00 off \xc3", StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCall(ctx, &c); err != nil {
			t.Fatalf("insert: %v", err)
		}
		got, err := s.CallBySID(ctx, c.SID) // the dirty key finds the clean row
		if err != nil || got.SID != "CAdirty\uFFFD" || got.Transcript != "boiler off \uFFFD" {
			t.Fatalf("read back %+v, %v", got, err)
		}
		far := store.Call{SID: "CAfar", Provider: "twilio", LineNumber: "+441632960001", Status: "no-answer",
			StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCall(ctx, &far); err == nil || !strings.Contains(err.Error(), "could not be read back") {
			t.Fatalf("a call in year 10000: %v", err)
		}
		if _, err := s.CallBySID(ctx, "CAfar"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the year 10000 call was stored: %v", err)
		}
	})
}
