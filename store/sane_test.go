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
