package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"ringback/store"
)

// RINGBACK_LOG_FORMAT=json writes JSON lines with snake_case keys; text
// (or unset) writes key=value; anything else says so once and writes text.
func TestLogFormat(t *testing.T) {
	for _, c := range []struct{ format, want string }{
		{"json", `{"level":"INFO","msg":"call recorded","call_sid":"CA1"}`},
		{"JSON", `{"level":"INFO","msg":"call recorded","call_sid":"CA1"}`},
		{"", `level=INFO msg="call recorded" call_sid=CA1`},
		{"text", `level=INFO msg="call recorded" call_sid=CA1`},
		{"xml", `level=WARN msg="RINGBACK_LOG_FORMAT is neither json nor text: logging text" value=xml`},
	} {
		var buf bytes.Buffer
		log := newLogger(&buf, func(k string) string {
			if k == "RINGBACK_LOG_FORMAT" {
				return c.format
			}
			return ""
		})
		log.Info("call recorded", "call_sid", "CA1")
		first := strings.SplitN(buf.String(), "\n", 2)[0]
		if c.format == "json" || c.format == "JSON" {
			var rec map[string]any
			if err := json.Unmarshal([]byte(first), &rec); err != nil {
				t.Fatalf("%s: %q is no JSON", c.format, first)
			}
			delete(rec, "time")
			got, _ := json.Marshal(rec)
			var want map[string]any
			_ = json.Unmarshal([]byte(c.want), &want)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Errorf("%s: %s, want %s", c.format, got, wantJSON)
			}
			continue
		}
		if _, rest, ok := strings.Cut(first, " "); !ok || rest != c.want {
			t.Errorf("%q: %q, want %q after the time", c.format, first, c.want)
		}
	}
}

// A logged error names no caller: the store's errors name the number whose
// row they failed on, and the logger masks it (a line's number, logged
// under its own key, stays whole).
func TestLoggedErrorsMaskCallerNumbers(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ringback.db"))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	const caller, line = "+447700900123", "+441632960001"
	_, storeErr := s.LastTextBack(ctx, caller)
	if storeErr == nil || !strings.Contains(storeErr.Error(), caller) {
		t.Fatalf("the closed store's error %v does not name the caller: nothing to mask", storeErr)
	}
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := newLogger(&buf, func(k string) string {
			if k == "RINGBACK_LOG_FORMAT" {
				return format
			}
			return ""
		})
		log.Error("webhook failed", "line_number", line, "error", fmt.Errorf("handlers: missed call: %w", storeErr))
		out := buf.String()
		if strings.Contains(out, caller) {
			t.Errorf("%s: the log names the caller: %s", format, out)
		}
		if !strings.Contains(out, "+*********123") || !strings.Contains(out, "handlers: missed call: store: last text-back to") {
			t.Errorf("%s: the error is not logged with its number masked: %s", format, out)
		}
		if !strings.Contains(out, "line_number="+line) && !strings.Contains(out, `"line_number":"`+line+`"`) {
			t.Errorf("%s: the line's number is not logged whole: %s", format, out)
		}
	}
}
