package handlers

import (
	"sync"
	"time"
)

// replayGuard remembers the signatures of accepted requests for as long as
// they stay valid, so that a captured request sent again is refused.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// first records sig until now+keep and reports whether it is new; it
// forgets the signatures that have expired.
func (g *replayGuard) first(sig string, now time.Time, keep time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, exp := range g.seen {
		if now.After(exp) {
			delete(g.seen, k)
		}
	}
	if _, dup := g.seen[sig]; dup {
		return false
	}
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	g.seen[sig] = now.Add(keep)
	return true
}
