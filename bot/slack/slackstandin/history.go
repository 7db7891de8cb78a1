package slackstandin

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// Reading a conversation, as Slack documents conversations.history and
// conversations.replies: oldest and latest bound the messages by ts
// (exclusive unless inclusive), limit and cursor page them, and a message's
// metadata comes back only with include_all_metadata.

func init() {
	handlers["conversations.history"] = (*Server).conversationsHistory
	handlers["conversations.replies"] = (*Server).conversationsReplies
}

// Default and largest page sizes Slack documents.
const (
	historyLimit    = 100
	historyMaxLimit = 999
	repliesLimit    = 1000
)

// window is a read's bounds and paging.
type window struct {
	oldest, latest int64 // micros; latest 0 = now
	inclusive      bool
	limit          int
	cursor         int64 // micros of the first message of this page; 0 = none
	metadata       bool
}

func readWindow(p params, defLimit int) (window, string) {
	w := window{inclusive: truthy(p["inclusive"]), metadata: truthy(p["include_all_metadata"]), limit: defLimit}
	var ok bool
	if v := p["oldest"]; v != "" {
		if w.oldest, ok = micros(v); !ok {
			return w, "invalid_ts_oldest"
		}
	}
	if v := p["latest"]; v != "" {
		if w.latest, ok = micros(v); !ok {
			return w, "invalid_ts_latest"
		}
	}
	if v := p["limit"]; v != "" && v != "0" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return w, "invalid_limit"
		}
		w.limit = min(n, max(defLimit, historyMaxLimit))
	}
	if v := p["cursor"]; v != "" {
		raw, err := base64.StdEncoding.DecodeString(v)
		ts, found := strings.CutPrefix(string(raw), "next_ts:")
		if err != nil || !found {
			return w, "invalid_cursor"
		}
		if w.cursor, ok = micros(ts); !ok {
			return w, "invalid_cursor"
		}
	}
	return w, ""
}

// in reports whether ts falls within the window's bounds.
func (w window) in(ts int64) bool {
	if w.oldest > 0 && (ts < w.oldest || (ts == w.oldest && !w.inclusive)) {
		return false
	}
	if w.latest > 0 && (ts > w.latest || (ts == w.latest && !w.inclusive)) {
		return false
	}
	return true
}

// page cuts msgs, already in reading order and bounded, at the cursor and
// the limit; before reports whether a ts comes before the cursor in that order.
func (w window) page(msgs []*Message, before func(ts, cursor int64) bool) ([]*Message, string) {
	if w.cursor != 0 {
		i := slices.IndexFunc(msgs, func(m *Message) bool { ts, _ := micros(m.TS); return !before(ts, w.cursor) })
		if i < 0 {
			i = len(msgs)
		}
		msgs = msgs[i:]
	}
	if len(msgs) <= w.limit {
		return msgs, ""
	}
	next := base64.StdEncoding.EncodeToString([]byte("next_ts:" + msgs[w.limit].TS))
	return msgs[:w.limit], next
}

func (s *Server) conversationsHistory(p params) result {
	ch := s.resolveChannelLocked(p["channel"])
	if ch == "" {
		return fail("channel_not_found")
	}
	w, code := readWindow(p, historyLimit)
	if code != "" {
		return fail(code)
	}
	var msgs []*Message // newest first, as Slack reads a channel
	for _, m := range slices.Backward(s.messages[ch]) {
		ts, _ := micros(m.TS)
		if (m.ThreadTS == "" || m.Broadcast) && w.in(ts) {
			msgs = append(msgs, m)
		}
	}
	msgs, next := w.page(msgs, func(ts, cursor int64) bool { return ts > cursor })
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = s.readJSON(ch, m, w.metadata)
	}
	return result{fields: map[string]any{
		"messages": out, "has_more": next != "", "pin_count": 0,
		"response_metadata": map[string]any{"next_cursor": next},
	}}
}

func (s *Server) conversationsReplies(p params) result {
	ch := s.resolveChannelLocked(p["channel"])
	if ch == "" {
		return fail("channel_not_found")
	}
	parent := s.findLocked(ch, p["ts"])
	if parent == nil {
		return fail("thread_not_found")
	}
	w, code := readWindow(p, repliesLimit)
	if code != "" {
		return fail(code)
	}
	var msgs []*Message // the parent, then its replies oldest first
	for _, m := range s.messages[ch] {
		ts, _ := micros(m.TS)
		if (m == parent || m.ThreadTS == parent.TS) && w.in(ts) {
			msgs = append(msgs, m)
		}
	}
	msgs, next := w.page(msgs, func(ts, cursor int64) bool { return ts < cursor })
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = s.readJSON(ch, m, w.metadata)
	}
	return result{fields: map[string]any{
		"messages": out, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	}}
}

// readJSON is a message as the reading methods return it: a thread's parent
// carries its thread_ts and reply count, and metadata only when asked for.
func (s *Server) readJSON(ch string, m *Message, metadata bool) map[string]any {
	out := messageJSON(m)
	if !metadata {
		delete(out, "metadata")
	}
	if len(m.Files) > 0 {
		// A file share reads back with its files described, as Slack does.
		files := make([]map[string]any, 0, len(m.Files))
		for _, id := range m.Files {
			if f := s.fileLocked(id); f != nil {
				files = append(files, map[string]any{"id": f.ID, "name": f.Name, "title": f.Title, "size": f.Length, "user": m.User, "alt_txt": f.AltText})
			}
		}
		out["files"], out["upload"] = files, true
	}
	if m.ThreadTS == "" {
		n := 0
		for _, r := range s.messages[ch] {
			if r.ThreadTS == m.TS {
				n++
			}
		}
		if n > 0 {
			out["thread_ts"], out["reply_count"] = m.TS, n
		}
	}
	return out
}

// micros parses a Slack ts ("1700000000.000100", or whole seconds).
func micros(ts string) (int64, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 6 {
		return 0, false
	}
	var us int64
	if frac != "" {
		if us, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, false
		}
	}
	return s*1_000_000 + us, true
}

// truthy reads a boolean argument as Slack does: "1" or "true".
func truthy(v string) bool { return v == "1" || v == "true" }
