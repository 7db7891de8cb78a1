package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
