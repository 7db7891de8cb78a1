package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// An import never renames a contact people already know, nor takes their
// number; it reports both. Within one import, rows sharing a number are one
// person and the later row's name wins.
func TestMergeContactReportsRenames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		merge := func(c store.Contact, start time.Time, numbers ...string) store.ContactMerge {
			t.Helper()
			var m store.ContactMerge
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				m, err = tx.MergeContact(ctx, c, numbers, start)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return m
		}
		first := t0
		alice := merge(store.Contact{Name: "Alice Smith", Kind: "tenant"}, first, "+447700900001")
		bob := merge(store.Contact{Name: "Bob Jones"}, first, "+447700900002")
		// The same import: the later row's name wins, silently.
		if m := merge(store.Contact{Name: "Alice  SMITH-Lee"}, first, "+447700900001"); m.ID != alice.ID || len(m.Conflicts) != 0 {
			t.Fatalf("same import: %+v", m)
		}
		second := t0.Add(24 * time.Hour)
		m := merge(store.Contact{Name: "Alicia Smith", Unit: "Flat 2"}, second, "+447700900001", "+447700900002", "+447700900003")
		want := []string{
			`contact "Alice  SMITH-Lee" (+447700900001) not renamed to "Alicia Smith"`,
			`+447700900002 belongs to "Bob Jones": left with them`,
		}
		if m.ID != alice.ID || m.Created || !reflect.DeepEqual(m.Conflicts, want) {
			t.Fatalf("second import: %+v, want conflicts %q", m, want)
		}
		a, _ := s.ContactByNumber(ctx, "+447700900001")
		if a.Name != "Alice  SMITH-Lee" || a.Unit != "Flat 2" || a.Kind != "tenant" {
			t.Fatalf("Alice after the second import: %+v", a)
		}
		if b, _ := s.ContactByNumber(ctx, "+447700900002"); b.ID != bob.ID {
			t.Fatalf("Bob's number moved to %d", b.ID)
		}
		if c, _ := s.ContactByNumber(ctx, "+447700900003"); c.ID != alice.ID {
			t.Fatalf("a new number did not join Alice: %d", c.ID)
		}
		// The same name, spelt with other case and spaces, is no conflict.
		if m := merge(store.Contact{Name: "alice smith-lee"}, second, "+447700900001"); len(m.Conflicts) != 0 {
			t.Fatalf("same name: %+v", m)
		}
		if a, _ := s.ContactByNumber(ctx, "+447700900001"); a.Name != "Alice  SMITH-Lee" {
			t.Fatalf("a known name changed case: %q", a.Name)
		}
	})
}
