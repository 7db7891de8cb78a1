package discordstandin

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Reading a channel, as Discord documents GET /channels/{id}/messages:
// limit (1 to 100, 50 by default) messages, newest first; with before, the
// newest ones older than it; with after, the oldest ones newer than it
// (still answered newest first); with around, those nearest it. A message
// read back carries no nonce: Discord returns it only to the create.

// RouteGetMessages is the read, as FailNext and Calls take it.
const RouteGetMessages = "GET /channels/{channel}/messages"

func init() {
	extraRoutes[RouteGetMessages] = (*Server).getMessages
}

// snowflake reads an id; 0 when it is none.
func snowflake(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// discordEpoch is when snowflakes start (2015-01-01, in ms).
const discordEpoch = 1420070400000

// createdAt is when the message with snowflake id was created.
func createdAt(id string) time.Time {
	return time.UnixMilli(int64(snowflake(id)>>22) + discordEpoch).UTC()
}

func (s *Server) getMessages(w http.ResponseWriter, r *http.Request, _ []byte) {
	channel := r.PathValue("channel")
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			invalidForm(w, []string{"limit: int value should be between 1 and 100"})
			return
		}
		limit = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[channel] {
		apiError(w, http.StatusForbidden, discordgo.ErrCodeMissingAccess, "Missing Access")
		return
	}
	var msgs []Message // oldest first
	switch t, thread := s.threads[channel]; {
	case thread:
		msgs = slices.Clone(t.Messages)
	case s.dmUser[channel] != "":
		msgs = copies(s.dms[s.dmUser[channel]])
	case s.byID[channel] != nil:
		apiError(w, http.StatusNotFound, discordgo.ErrCodeUnknownChannel, "Unknown Channel")
		return
	default:
		msgs = copies(s.channels[channel])
	}
	var page []Message
	switch before, after, around := snowflake(q.Get("before")), snowflake(q.Get("after")), snowflake(q.Get("around")); {
	case after > 0:
		for _, m := range msgs {
			if snowflake(m.ID) > after && len(page) < limit {
				page = append(page, m)
			}
		}
	case before > 0:
		for _, m := range msgs {
			if snowflake(m.ID) < before {
				page = append(page, m)
			}
		}
		page = page[max(0, len(page)-limit):]
	case around > 0:
		i, _ := slices.BinarySearchFunc(msgs, around, func(m Message, id uint64) int { return cmpID(snowflake(m.ID), id) })
		lo := max(0, i-limit/2)
		page = msgs[lo:min(len(msgs), lo+limit)]
	default:
		page = msgs[max(0, len(msgs)-limit):]
	}
	out := make([]map[string]any, 0, len(page))
	for _, m := range slices.Backward(page) {
		out = append(out, s.readJSON(m))
	}
	writeJSON(w, http.StatusOK, out)
}

func cmpID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readJSON is a message as a read returns it: what was sent, its author
// (the bot) and its time; no nonce.
func (s *Server) readJSON(m Message) map[string]any {
	out := messageJSON(&m)
	out["embeds"] = m.Embeds
	if out["embeds"] == nil {
		out["embeds"] = []any{}
	}
	if len(m.Components) > 0 {
		out["components"] = m.Components
	}
	out["author"] = map[string]any{"id": s.appID, "username": "Ringback", "bot": true}
	out["timestamp"] = createdAt(m.ID).Format(time.RFC3339Nano)
	return out
}
