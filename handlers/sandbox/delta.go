package sandbox

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"sync"
)

// versions numbers the page's pieces (each message with its thread, the
// phones) by the change that last touched them, so a page that has
// version N is sent only what changed after N instead of the whole state
// (about 450 KB after a busy day) on every change.
type versions struct {
	mu   sync.Mutex
	n    int64
	seen map[string]versioned
}

type versioned struct {
	hash uint64
	ver  int64
}

func newVersions() *versions { return &versions{seen: map[string]versioned{}} }

// mark records a piece's content and returns the version it last changed at.
func (v *versions) mark(key string, data []byte) int64 {
	h := fnv.New64a()
	h.Write(data)
	sum := h.Sum64()
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur, ok := v.seen[key]; ok && cur.hash == sum {
		return cur.ver
	}
	v.n++
	v.seen[key] = versioned{hash: sum, ver: v.n}
	return v.n
}

func (v *versions) current() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.n
}

// deltaView is the state with only what changed after Since: each channel
// lists the timestamps of all its messages (Order) and carries only the
// messages that changed; Phones is left out (PhonesSame) when unchanged,
// or holds only the phones that changed, in PhoneOrder's order.
type deltaView struct {
	stateView
	Since      int64 `json:"since"`
	Version    int64 `json:"version"`
	PhonesSame bool  `json:"phones_same,omitempty"`
	// PhoneOrder lists every phone's number when Phones holds only the
	// phones that changed (a busy day's list is over 100 KB; one text
	// changes one phone).
	PhoneOrder []string `json:"phone_order,omitempty"`
}

// delta cuts st down to what changed after since (0: everything, with the
// version to ask from next time).
func (s *Sandbox) delta(st stateView, since int64) deltaView {
	for i := range st.Channels {
		ch := &st.Channels[i]
		order := make([]string, 0, len(ch.Messages))
		changed := []messageView{}
		for _, m := range ch.Messages {
			data, _ := json.Marshal(m)
			order = append(order, m.TS)
			if s.vers.mark(ch.ID+"/"+m.TS, data) > since {
				changed = append(changed, m)
			}
		}
		ch.Order = order
		if since > 0 {
			ch.Messages = changed
			ch.Partial = true
		}
	}
	d := deltaView{stateView: st, Since: since}
	order := make([]string, 0, len(st.Phones))
	changed := []phoneView{}
	for _, p := range st.Phones {
		data, _ := json.Marshal(p)
		order = append(order, p.Number)
		if s.vers.mark("phone/"+p.Number, data) > since {
			changed = append(changed, p)
		}
	}
	list, _ := json.Marshal(order)
	listChanged := s.vers.mark("phones", list) > since
	switch {
	case since == 0:
	case len(changed) == 0 && !listChanged:
		d.Phones, d.PhonesSame = nil, true
	default:
		d.Phones, d.PhoneOrder = changed, order
	}
	d.Version = s.vers.current()
	return d
}

// sinceParam is the version the page has (?since=N), 0 when absent.
func sinceParam(r *http.Request) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
