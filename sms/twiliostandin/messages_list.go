package twiliostandin

import (
	"net/http"
	"net/url"
	"sort"
	"time"
)

// listMessages answers GET Messages.json as Twilio does: the account's
// messages, newest first, filtered by To, From and the DateSent family, in
// pages of PageSize (50 by default, at most 1000) whose URIs keep the filters.
//
// DateSent filters compare GMT dates, not instants (the spec: "YYYY-MM-DD",
// on-or-before for DateSent<, on-or-after for DateSent>), against the
// message's date_sent; a message still queued has no date_sent and so
// matches no DateSent filter.
//
// messagesJSON has checked the account and played any scripted failure.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageSize, page, ok := pageQuery(w, q)
	if !ok {
		return
	}
	var on, onOrBefore, onOrAfter string // GMT dates, YYYY-MM-DD
	if !readFilters(w, q, parseDate, []string{"DateSent", "DateSent<", "DateSent>"}, &on, &onOrBefore, &onOrAfter) {
		return
	}

	s.mu.Lock()
	var match []SentMessage
	for _, m := range s.messages {
		sent := ""
		if t, ok := dateSent(m); ok {
			sent = t.Format(time.DateOnly)
		}
		switch {
		case q.Has("To") && m.To != q.Get("To"),
			q.Has("From") && m.From != q.Get("From"),
			on != "" && sent != on,
			onOrBefore != "" && (sent == "" || sent > onOrBefore),
			onOrAfter != "" && (sent == "" || sent < onOrAfter):
			continue
		}
		match = append(match, m)
	}
	s.mu.Unlock()
	// Newest first; of two created in the same instant, the later one first.
	for i, j := 0, len(match)-1; i < j; i, j = i+1, j-1 {
		match[i], match[j] = match[j], match[i]
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].At.After(match[j].At) })

	messages, meta := pageOf(r, match, page, pageSize, listedResource)
	resp := messagesPageJSON{Messages: messages, pageJSON: meta}
	writeJSON(w, http.StatusOK, resp)
}

type messagesPageJSON struct {
	Messages []messageJSON `json:"messages"`
	pageJSON
}

// listedResource is a message as the list shows it now: its current status,
// date_sent once it left Twilio, and the error of a failed delivery.
func listedResource(m SentMessage) messageJSON {
	j := messageResource(m, 0)
	if t, ok := dateSent(m); ok {
		sent := t.Format(time.RFC1123Z)
		j.DateSent = &sent
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		j.ErrorCode = &code
	}
	return j
}

// dateSent is when Twilio sent m: set once the message left Twilio (the
// stand-in sends at once, so it is the creation time), absent while queued
// and for a message that failed before leaving.
func dateSent(m SentMessage) (time.Time, bool) {
	switch m.Status {
	case "sent", "delivered", "undelivered", "read":
		return m.At.UTC(), true
	}
	return time.Time{}, false
}

// parseDate reads a DateSent filter as its GMT date: YYYY-MM-DD as Twilio
// documents, or a timestamp (RFC 3339 as twilio-go sends, RFC 2822 as the
// spec's examples) whose time of day Twilio ignores.
func parseDate(v string) (string, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339, time.RFC1123Z, "2006-01-02 15:04:05.000"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.DateOnly), nil
		}
	}
	_, err := time.Parse(time.DateOnly, v)
	return "", err
}

// readFilters parses the query's filters keys, of one kind, into dst (one
// each, in order); a value parse refuses is answered 400, as Twilio does,
// and false.
func readFilters[T any](w http.ResponseWriter, q url.Values, parse func(string) (T, error), keys []string, dst ...*T) bool {
	for i, key := range keys {
		if v := q.Get(key); v != "" {
			d, err := parse(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, 20001, "Invalid "+key+": "+v)
				return false
			}
			*dst[i] = d
		}
	}
	return true
}

// AddMessage records a message as if it had been sent through the API at
// m.At (now when zero), for listing tests; it returns its SID. Empty fields
// get Twilio's defaults: a fresh "SM…" SID, status "queued".
func (s *Server) AddMessage(m SentMessage) string {
	if m.SID == "" {
		m.SID = newSID("SM")
	}
	if m.Status == "" {
		m.Status = "queued"
	}
	if m.At.IsZero() {
		m.At = time.Now()
	}
	m.AccountSID = s.accountSID
	m.At = m.At.UTC()
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	return m.SID
}
