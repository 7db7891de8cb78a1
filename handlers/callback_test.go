package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/config"
	"ringback/handlers"
	"ringback/store/storetest"
)

var pickerLinkRE = regexp.MustCompile(regexp.QuoteMeta(publicURL) + `/c/([A-Za-z0-9_-]+)`)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pickerHarness is a real server with the callback picker mounted, whose
// lines' text-back carries {{callback_link}}; its log, at debug level, is
// kept.
func pickerHarness(t *testing.T, backend string) (*harness, *syncBuffer) {
	t.Helper()
	cfg := loadConfig(t, filepath.Join("..", "testdata", "ringback.yaml"))
	for i := range cfg.Templates {
		if cfg.Templates[i].Key == "textback_day" {
			cfg.Templates[i].Text = "Hi, it's {{business}}. Sorry we missed your call. Pick a time for our call back: {{callback_link}}"
		}
	}
	var _ config.Callback // the line's defaults: 30m slots, 3 days, 10m reminder, 72h links
	h := newBotHarness(t, storetest.New(t, backend), cfg)
	logs := &syncBuffer{}
	srv := handlers.New(handlers.Deps{Store: h.store, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv.MountCallbacks(h.bot, publicURL, h.clock.Now)
	h.serve(srv)
	return h, logs
}

// linkFor makes a missed call from number and returns the token its
// text-back carried.
func (h *harness) linkFor(sid, number string) string {
	h.t.Helper()
	h.missed(sid, number, lettings)
	for _, m := range h.textsTo(number) {
		if sub := pickerLinkRE.FindStringSubmatch(m.Body); sub != nil {
			return sub[1]
		}
	}
	h.t.Fatalf("no link texted to %s: %+v", number, h.textsTo(number))
	return ""
}

func (h *harness) getPicker(token string, header ...string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.server.URL+"/c/"+token, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return h.do(req)
}

func (h *harness) postPicker(token string, form url.Values, header ...string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.server.URL+"/c/"+token, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return h.do(req)
}

// slotValue finds the radio button of a slot by its label in the page.
func slotValue(t *testing.T, page, day, hhmm string) string {
	t.Helper()
	i := strings.Index(page, "<legend>"+day+"</legend>")
	if i < 0 {
		t.Fatalf("no day %q in the page", day)
	}
	m := regexp.MustCompile(`value="(\d+)" required[^>]*> ` + hhmm + `</label>`).FindStringSubmatch(page[i:])
	if m == nil {
		t.Fatalf("no slot %s %s in the page", day, hhmm)
	}
	return m[1]
}

// The caller opens the link on their phone, picks a slot, a category and
// a note; the case gets them and the caller one confirmation text. The
// page names the business and nothing about the caller.
func TestCallbackPickerOverHTTP(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			h, logs := pickerHarness(t, backend)
			token := h.linkFor("CA1", caller)
			code, page := h.getPicker(token)
			if code != 200 {
				t.Fatalf("GET: %d %s", code, page)
			}
			for _, want := range []string{
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				"<h1>Northside Lettings</h1>",
				`<label for="category">`, `<label for="note">`, `<select id="category" name="category">`,
				`<legend>Mon 16 Nov</legend>`, `<legend>Tue 17 Nov</legend>`,
				`<option value="maintenance">Maintenance</option>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %s", want)
				}
			}
			for _, bad := range []string{"<script", "7700", "900123", "Case", " #1", "Urgent safety", "Sun 22 Nov"} {
				if strings.Contains(page, bad) {
					t.Errorf("page shows %q", bad)
				}
			}
			slot := slotValue(t, page, "Tue 17 Nov", "14:30")
			code, done := h.postPicker(token, url.Values{"slot": {slot}, "category": {"maintenance"}, "note": {"leaking tap under sink"}},
				"Origin", publicURL)
			if code != 200 || !strings.Contains(done, "Tue 17 Nov 14:30 — Maintenance") {
				t.Fatalf("POST: %d %s", code, done)
			}
			h.flush()
			c := h.openCase(caller, lettings)
			if c.DueAt == nil || c.DueAt.UTC() != time.Date(2026, 11, 17, 14, 30, 0, 0, time.UTC) || c.Category != "maintenance" {
				t.Errorf("case: due %v, category %q", c.DueAt, c.Category)
			}
			confirms := 0
			for _, m := range h.textsTo(caller) {
				if strings.Contains(m.Body, "we'll call you back on Tue 17 Nov at 14:30") {
					confirms++
				}
			}
			if confirms != 1 {
				t.Errorf("%d confirmation texts, want 1", confirms)
			}
			// The page opened again shows the pick, and the note is not
			// shown back.
			_, again := h.getPicker(token)
			if !strings.Contains(again, "Tue 17 Nov 14:30 — Maintenance") || !strings.Contains(again, `value="`+slot+`" required checked`) ||
				strings.Contains(again, "leaking tap") {
				t.Errorf("page after the pick: %s", again)
			}
			if strings.Contains(logs.String(), token) {
				t.Errorf("the token is in the log: %s", logs.String())
			}
		})
	}
}

// Unknown, expired and used-up links get a polite page and the right
// status; a pick from another site's page is refused; a slot not offered
// brings the form back.
func TestCallbackPickerRefusals(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			h, _ := pickerHarness(t, backend)
			token := h.linkFor("CA1", caller)
			_, page := h.getPicker(token)
			slot := slotValue(t, page, "Tue 17 Nov", "10:00")

			if code, body := h.getPicker("AAAAAAAAAAAAAAAAAAAAAA"); code != 404 || !strings.Contains(body, "this link is not valid") {
				t.Errorf("unknown link: %d %s", code, body)
			}
			if code, body := h.postPicker(token, url.Values{"slot": {slot}}, "Origin", "https://evil.example"); code != 403 {
				t.Errorf("cross-site POST: %d %s", code, body)
			}
			if n := h.count("callback_requests"); n != 0 {
				t.Errorf("the cross-site POST stored %d requests", n)
			}
			sunday := "1795345200" // Sun 22 Nov 2026 11:00 UTC
			if code, body := h.postPicker(token, url.Values{"slot": {sunday}}); code != 409 || !strings.Contains(body, "that time is no longer available") || !strings.Contains(body, `name="slot"`) {
				t.Errorf("slot not offered: %d %s", code, body)
			}
			if code, body := h.getPicker(token, "Accept-Language", "es-ES,es;q=0.9,en;q=0.5"); code != 200 || !strings.Contains(body, `<html lang="es">`) || !strings.Contains(body, "<legend>mar 17 nov</legend>") {
				t.Errorf("Spanish page: %d %s", code, body)
			}

			h.clock.Advance(73 * time.Hour)
			if code, body := h.getPicker(token); code != 410 || !strings.Contains(body, "this link has expired") {
				t.Errorf("expired link: %d %s", code, body)
			}
			if code, _ := h.postPicker(token, url.Values{"slot": {slot}}); code != 410 {
				t.Errorf("pick through an expired link: %d", code)
			}
			if n := h.count("callback_requests"); n != 0 {
				t.Errorf("%d requests stored through refused picks", n)
			}

			other := h.linkFor("CA2", "+447700900456")
			c := h.openCase("+447700900456", lettings)
			if _, err := h.bot.Close(context.Background(), c.ID, aliceActor(), "reached", "sorted on the phone"); err != nil {
				t.Fatal(err)
			}
			if code, body := h.getPicker(other); code != 410 || !strings.Contains(body, "can no longer be changed") {
				t.Errorf("closed case's link: %d %s", code, body)
			}
		})
	}
}

// Guessing is rate-limited per address, and one link's requests per link.
func TestCallbackPickerRateLimit(t *testing.T) {
	h, _ := pickerHarness(t, "sqlite")
	limited := 0
	for i := range 80 {
		tok := strings.Repeat("A", 21) + string(rune('A'+i%26))
		if code, _ := h.getPicker(tok); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("80 guesses in a row from one address, none refused")
	}
	// A minute later the address may try again.
	h.clock.Advance(time.Minute)
	if code, _ := h.getPicker("BBBBBBBBBBBBBBBBBBBBBB"); code != 404 {
		t.Errorf("after a minute: %d, want 404", code)
	}
}

// One link is limited on its own: a burst on it is refused (429) while
// another link from the same address still opens.
func TestCallbackPickerRateLimitPerLink(t *testing.T) {
	h, _ := pickerHarness(t, "sqlite")
	busy, other := h.linkFor("CA1", "+447700900123"), h.linkFor("CA2", "+447700900124")
	codes := map[int]int{}
	for range 25 {
		code, _ := h.getPicker(busy)
		codes[code]++
	}
	if codes[http.StatusOK] != 20 || codes[http.StatusTooManyRequests] != 5 {
		t.Fatalf("25 loads of one link: %v, want 20 pages then 429s", codes)
	}
	if code, _ := h.getPicker(other); code != http.StatusOK {
		t.Fatalf("another link from the same address: %d, want 200", code)
	}
	h.clock.Advance(time.Minute)
	if code, _ := h.getPicker(busy); code != http.StatusOK {
		t.Fatalf("the busy link a minute later: %d, want 200", code)
	}
}
