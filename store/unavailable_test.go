package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lib/pq"

	"ringback/store"
)

// Only a database that cannot answer is "unavailable": its answers
// (a constraint, a missing row) are not, so they are never spooled.
func TestIsUnavailable(t *testing.T) {
	ctx := context.Background()
	if _, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); !store.IsUnavailable(err) {
		t.Errorf("connection refused: IsUnavailable(%v) = false", err)
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pq.Error{Code: "57P01"}, true}, // terminating connection due to administrator command
		{&pq.Error{Code: "57P03"}, true}, // the database system is starting up
		{&pq.Error{Code: "08006"}, true},
		{&pq.Error{Code: "3D000"}, true}, // database renamed or dropped
		{&pq.Error{Code: "23505"}, false},
		{&pq.Error{Code: "42P01"}, false},
		{store.ErrNotFound, false},
		{errors.New("bot: bad input"), false},
		{nil, false},
	} {
		if got := store.IsUnavailable(fmt.Errorf("store: wrapped: %w", c.err)); c.err != nil && got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
