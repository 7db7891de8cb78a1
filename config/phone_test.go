package config

import (
	"fmt"
	"strings"
	"testing"

	"ringback/internal/memo"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region, want string // want "" means an error
	}{
		{"+44 1632 960001", "GB", "+441632960001"},
		{"+44 1632 960001", "", "+441632960001"},
		{"01632 960001", "GB", "+441632960001"},
		{"01632 960001", "gb", "+441632960001"},
		{"0044 1632 960001", "GB", "+441632960001"},
		{"07700 900001", "GB", "+447700900001"},
		{"(555) 123-4567", "US", "+15551234567"},
		{"+1 555-123-4567", "GB", "+15551234567"},
		{"  +15551234567 ", "US", "+15551234567"},
		{"12", "GB", ""},
		{"", "GB", ""},
		{"hello", "US", ""},
		{"555-1234", "US", ""},                      // local only: no area code
		{"01632 960001", "", ""},                    // national number without a region
		{"+1 555 123 4567 ext 12", "US", ""},        // extensions cannot be dialled from E.164
		{"07700CALLME", "GB", ""},                   // letters are no keypad spelling here
		{"1-800-FLOWERS", "US", ""},                 // nor here
		{"0000000000", "BA", ""},                    // its E.164 form reads back as another number
		{"+44 1632 960001 5555555555555", "GB", ""}, // over-long
		{"+٤٤ 1632 960001", "GB", "+441632960001"},  // Arabic-Indic digits are digits
	}
	for _, tt := range tests {
		got, err := Normalize(tt.raw, tt.region)
		if tt.want == "" {
			if err == nil || !strings.HasPrefix(err.Error(), "config: ") || !strings.Contains(err.Error(), "is not a phone number") {
				t.Errorf("Normalize(%q, %q) = %q, %v; want a config: error", tt.raw, tt.region, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		}
	}
}

// A number read once reads the same again: what is stored can be compared
// with what arrives later.
func TestNormalizeIdempotent(t *testing.T) {
	for _, raw := range []string{"0000000000", "01632 960001", "0044 (0) 1632 960001", "(555) 123-4567", "+800 1234 5678", "0800 123 4567"} {
		for _, region := range []string{"GB", "US", "BA", "DE"} {
			once, err := Normalize(raw, region)
			if err != nil {
				continue
			}
			if twice, err := Normalize(once, region); err != nil || twice != once {
				t.Errorf("Normalize(%q, %q) = %q, then %q, %v", raw, region, once, twice, err)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ e164, region, want string }{
		{"+441632960001", "GB", "01632 960001"},
		{"+447700900001", "GB", "07700 900001"},
		{"+441632960001", "US", "+44 1632 960001"},
		{"+15551234567", "US", "(555) 123-4567"},
		{"+15551234567", "GB", "+1 555-123-4567"},
		{"+15551234567", "", "+1 555-123-4567"},
		{"anonymous", "US", "anonymous"},
		{"", "GB", ""},
	}
	for _, tt := range tests {
		if got := Format(tt.e164, tt.region); got != tt.want {
			t.Errorf("Format(%q, %q) = %q, want %q", tt.e164, tt.region, got, tt.want)
		}
	}
}

// Numbers read again are answered from memory, the same answer as the
// library's, and the memory stays bounded however many numbers come in.
func TestPhoneMemo(t *testing.T) {
	for i := range memoSize + 100 {
		raw := fmt.Sprintf("01632 %06d", i)
		got, err := Normalize(raw, "GB")
		want, ok := parseNumber(raw, "GB")
		if !ok || err != nil || got != want {
			t.Fatalf("Normalize(%q) = %q, %v; the library says %q", raw, got, err, want)
		}
		if again, _ := Normalize(raw, "GB"); again != want {
			t.Fatalf("Normalize(%q) again = %q, want %q", raw, again, want)
		}
		if f := Format(got, "GB"); f != format(got, "GB") {
			t.Fatalf("Format(%q) = %q, want %q", got, f, format(got, "GB"))
		}
	}
	if _, err := Normalize("not a number", "GB"); err == nil {
		t.Error("a refused number was accepted when read again")
	}
	if _, err := Normalize("not a number", "GB"); err == nil {
		t.Error("a refused number was accepted from memory")
	}
	long := strings.Repeat(" ", 100) + "01632 960001"
	if _, err := Normalize(long, "GB"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*memo.Map[memoResult]{normalized, formatted} {
		n := m.Len()
		kept, _ := m.Get("GB\x00" + long)
		if n > memoSize {
			t.Errorf("the memo holds %d answers, want at most %d", n, memoSize)
		}
		if kept.s != "" {
			t.Errorf("a %d-character input was kept", len(long))
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	for b.Loop() {
		Format("+441632960001", "GB")
	}
}
