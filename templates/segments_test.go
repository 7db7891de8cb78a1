package templates

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSegments(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name string
		body string
		want SegmentInfo
	}{
		{"empty", "", SegmentInfo{GSM7, 0, 0}},
		{"one char", "a", SegmentInfo{GSM7, 1, 1}},
		{"160 GSM", r("a", 160), SegmentInfo{GSM7, 160, 1}},
		{"161 GSM", r("a", 161), SegmentInfo{GSM7, 161, 2}},
		{"306 GSM", r("a", 306), SegmentInfo{GSM7, 306, 2}},
		{"307 GSM", r("a", 307), SegmentInfo{GSM7, 307, 3}},
		{"euro counts 2", "€", SegmentInfo{GSM7, 2, 1}},
		{"every extension char counts 2", "^{}\\[~]|€\f", SegmentInfo{GSM7, 20, 1}},
		{"80 euros fit one", r("€", 80), SegmentInfo{GSM7, 160, 1}},
		{"159 + euro overflows", r("a", 159) + "€", SegmentInfo{GSM7, 161, 2}},
		{"newline and CR are basic", "a\r\nb", SegmentInfo{GSM7, 4, 1}},
		{"e acute is basic", "é", SegmentInfo{GSM7, 1, 1}},
		{"greek capitals are basic", "ΔΦΓΛΩΠΨΣΘΞ", SegmentInfo{GSM7, 10, 1}},
		{"e circumflex forces UCS-2", "ê", SegmentInfo{UCS2, 1, 1}},
		{"backtick forces UCS-2", "`", SegmentInfo{UCS2, 1, 1}},
		{"lower c cedilla forces UCS-2", "ç", SegmentInfo{UCS2, 1, 1}},
		{"one non-GSM char makes all UCS-2", r("a", 69) + "ê", SegmentInfo{UCS2, 70, 1}},
		{"UCS-2 euro counts 1", "ê€", SegmentInfo{UCS2, 2, 1}},
		{"surrogate pair counts 2", "😀", SegmentInfo{UCS2, 2, 1}},
		{"emoji 70 units", r("😀", 35), SegmentInfo{UCS2, 70, 1}},
		{"emoji 71 units", r("😀", 35) + "a", SegmentInfo{UCS2, 71, 2}},
		{"UCS-2 134 units", r("ê", 134), SegmentInfo{UCS2, 134, 2}},
		{"UCS-2 135 units", r("ê", 135), SegmentInfo{UCS2, 135, 3}},
		{"invalid UTF-8 is UCS-2", "a\xffb", SegmentInfo{UCS2, 3, 1}},
		// A part holds 153 septets. The escape pair must not straddle parts.
		{"escape fills part exactly", r("a", 151) + "€" + r("b", 153), SegmentInfo{GSM7, 306, 2}},
		{"escape at 153 boundary pushed to next part", r("a", 152) + "€" + r("b", 152), SegmentInfo{GSM7, 306, 3}},
		{"escape pushed, still two parts", r("a", 152) + "€" + r("b", 7), SegmentInfo{GSM7, 161, 2}},
		// Likewise a surrogate pair at the 67-unit boundary of a UCS-2 part.
		{"surrogate pair fills part exactly", r("ê", 65) + "😀" + r("ê", 67), SegmentInfo{UCS2, 134, 2}},
		{"surrogate pair at 67 boundary pushed", r("ê", 66) + "😀" + r("ê", 66), SegmentInfo{UCS2, 134, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Segments(tt.body); got != tt.want {
				t.Errorf("Segments(%d runes) = %+v, want %+v", utf8.RuneCountInString(tt.body), got, tt.want)
			}
		})
	}
}

// TestGSMTable guards the hand-written alphabet against typos and look-alikes.
func TestGSMTable(t *testing.T) {
	basic := []rune(gsmBasic)
	if len(basic) != 127 { // 128 codes less ESC
		t.Fatalf("basic set has %d characters, want 127", len(basic))
	}
	// Spot-check code positions (index shifts by one after 0x1B).
	code := func(c int) rune {
		if c > 0x1B {
			c--
		}
		return basic[c]
	}
	for c, want := range map[int]rune{
		0x00: '@', 0x01: '£', 0x02: '$', 0x09: 'Ç', 0x0A: '\n', 0x0D: '\r',
		0x10: 'Δ', 0x11: '_', 0x12: 'Φ', 0x1A: 'Ξ', 0x1C: 'Æ', 0x1F: 'É',
		0x20: ' ', 0x24: '¤', 0x40: '¡', 0x41: 'A', 0x5B: 'Ä', 0x5F: '§',
		0x60: '¿', 0x61: 'a', 0x7B: 'ä', 0x7F: 'à',
	} {
		if got := code(c); got != want {
			t.Errorf("code 0x%02X = %q, want %q", c, got, want)
		}
	}
	greek := "\u0394\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E"
	if got := string(basic[0x10:0x1B]); got != "Δ_"+greek[2:] {
		t.Errorf("Greek row = %q", got)
	}
	if n := len(gsmSeptets); n != 127+10 {
		t.Errorf("gsmSeptets has %d entries, want 137 (a duplicate?)", n)
	}
	for r := rune(0x20); r < 0x7F; r++ {
		_, ok := gsmSeptets[r]
		if want := r != '`'; ok != want {
			t.Errorf("printable ASCII %q in GSM-7 = %v, want %v", r, ok, want)
		}
	}
}
