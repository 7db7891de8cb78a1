package handlers

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"ringback/store"
)

// replayGuard refuses a signed request accepted before, for as long as its
// signature stays valid. It keys a request on its platform, its signed
// timestamp and its signature decoded to bytes, so a copy whose hex is
// written in another case is the same request. With a store the record is
// shared by every replica and survives restarts; without one (a handler
// built without a store) it is this process's memory.
type replayGuard struct {
	store *store.Store

	mu   sync.Mutex
	seen map[string]time.Time
}

// replayKey is the identity of a signed request, "" when its signature or
// timestamp cannot be read (such a request never passes the signature check).
func replayKey(platform, hexSig, timestamp string) string {
	sig, err := hex.DecodeString(strings.TrimSpace(hexSig))
	if err != nil || len(sig) == 0 {
		return ""
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return ""
	}
	return platform + ":" + strconv.FormatInt(ts, 10) + ":" + hex.EncodeToString(sig)
}

// first records key until now+keep and reports whether it is new. An error
// means the record could not be checked: the request must be refused.
func (g *replayGuard) first(ctx context.Context, key string, now time.Time, keep time.Duration) (bool, error) {
	if key == "" {
		return false, nil
	}
	if g.store != nil {
		return g.store.FirstRequest(ctx, key, now, now.Add(keep))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, exp := range g.seen {
		if now.After(exp) {
			delete(g.seen, k)
		}
	}
	if _, dup := g.seen[key]; dup {
		return false, nil
	}
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	g.seen[key] = now.Add(keep)
	return true, nil
}
