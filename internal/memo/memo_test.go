package memo

import (
	"fmt"
	"sync"
	"testing"
)

// An answer put is got back, and however many keys come in (at once), the
// map never holds more than its size.
func TestMapKeepsAnswersWithinItsSize(t *testing.T) {
	m := New[int](100)
	if _, ok := m.Get("a"); ok {
		t.Fatal("an empty map answered")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				key := fmt.Sprint(g, "/", i)
				m.Put(key, i)
				if v, ok := m.Get(key); ok && v != i {
					t.Errorf("Get(%q) = %d, want %d", key, v, i)
				}
				if n := m.Len(); n > 100 {
					t.Errorf("%d answers kept, want at most 100", n)
				}
			}
		})
	}
	wg.Wait()
	m.Put("last", 7)
	if v, ok := m.Get("last"); !ok || v != 7 {
		t.Errorf("Get(last) = %d, %v; want 7, true", v, ok)
	}
}
