package templates

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzRenderNames renders an approved text with names anyone can set (a
// contact's, a chat display name): the text around them stays exactly the
// approved one and each name is a plain name.
func FuzzRenderNames(f *testing.F) {
	const text = "Hi {{caller_name}}, {{agent}} from {{business}} here."
	f.Fuzz(func(t *testing.T, caller, agent string) {
		got, err := Render(text, Vars{"caller_name": caller, "agent": agent, "business": "Northside"})
		if err != nil {
			if PlainName(caller) != "" && PlainName(agent) != "" {
				t.Fatalf("Render(%q, %q): %v", caller, agent, err)
			}
			return
		}
		rest, ok := strings.CutPrefix(got, "Hi ")
		name1, rest, ok1 := strings.Cut(rest, ", ")
		name2, rest, ok2 := strings.Cut(rest, " from Northside here.")
		if !ok || !ok1 || !ok2 || rest != "" {
			t.Fatalf("approved text changed: %q", got)
		}
		for _, n := range []string{name1, name2} {
			plain(t, n)
		}
		if p := PlainName(caller); PlainName(p) != p {
			t.Fatalf("PlainName is not idempotent on %q", caller)
		}
	})
}

// plain fails t unless name is words of letters split by single spaces.
func plain(t *testing.T, name string) {
	t.Helper()
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes || strings.Contains(name, "  ") ||
		strings.TrimSpace(name) != name || strings.ContainsAny(name, "{}") {
		t.Fatalf("%q is no plain name", name)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsMark(r) || r == ' ' || inWord(r)) {
			t.Fatalf("%q is no plain name: %U", name, r)
		}
	}
}
