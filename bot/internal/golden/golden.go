// Package golden holds rendered chat JSON against the files checked in
// under a package's testdata/, for the Slack and Discord renderers' tests.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Update rewrites the golden files instead of comparing (`go test -update`).
var Update = flag.Bool("update", false, "rewrite the golden files")

// JSON is v as the platform receives it, indented for review. The chat
// libraries' own MarshalJSON escapes < and > as \u003c; decoding and
// re-encoding plainly lets tests (and reviewers) see the real characters.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var plain any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&plain); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(plain); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b.Bytes())
}

// Check compares v's JSON with testdata/NAME.json (or rewrites it under
// -update) and returns the JSON.
func Check(t testing.TB, name string, v any) []byte {
	t.Helper()
	got := JSON(t, v)
	path := filepath.Join("testdata", name+".json")
	if *Update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run the package's tests with -update)", path, err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
	return got
}
