// Package memo keeps answers for keys that come back again and again (a
// pure function's for a caller's number or an approved text; a text as
// last written, for its receipts), in a map of bounded size: keys also come
// from outside, so when full it starts again empty, which keeps it simple
// and its memory fixed. What it keeps may be lost at any time: a caller
// must be right, only slower, without it.
package memo

import "sync"

// Map holds up to size answers by key; safe for concurrent use.
type Map[V any] struct {
	mu   sync.Mutex
	m    map[string]V
	size int
}

// New returns an empty Map of at most size answers.
func New[V any](size int) *Map[V] {
	return &Map[V]{m: make(map[string]V), size: size}
}

// Get returns the answer kept for key.
func (m *Map[V]) Get(key string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

// Put keeps v for key, forgetting every answer first when the map is full.
func (m *Map[V]) Put(key string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= m.size {
		clear(m.m)
	}
	m.m[key] = v
}

// Delete forgets the answer kept for key.
func (m *Map[V]) Delete(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}

// Len is how many answers are kept.
func (m *Map[V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
