package config

import (
	"regexp"
	"testing"
	"unicode"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// FuzzNormalize drives phone normalisation with outside numbers: what it
// accepts is E.164, read again unchanged, and never spelt with letters.
func FuzzNormalize(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := Normalize(raw, region)
		if err != nil {
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("Normalize(%q, %q) = %q: not E.164", raw, region, got)
		}
		for _, r := range raw {
			if unicode.IsLetter(r) {
				t.Fatalf("Normalize(%q, %q) = %q: a number spelt with letters was accepted", raw, region, got)
			}
		}
		if again, err := Normalize(got, region); err != nil || again != got {
			t.Fatalf("Normalize(%q, %q) = %q, but Normalize(%q) = %q, %v", raw, region, got, got, again, err)
		}
	})
}
