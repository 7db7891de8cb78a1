package templates

import "unicode/utf16"

// SegmentInfo tells how an SMS body will be billed and split.
type SegmentInfo struct {
	Encoding string // "GSM-7" or "UCS-2"
	Units    int    // GSM-7 septets (extension characters count 2) or UTF-16 code units (a surrogate pair counts 2)
	Segments int    // 0 for "", 1 if the body fits one SMS, else the number of concatenated parts
}

// Encodings reported in SegmentInfo.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Per-segment capacities: a single SMS carries 160 septets or 70 UCS-2 units;
// each part of a concatenated one loses 7 septets / 3 units to its header.
const (
	gsmSingle, gsmPart = 160, 153
	ucsSingle, ucsPart = 70, 67
)

// gsmBasic is the GSM 7-bit default alphabet, 3GPP TS 23.038 §6.2.1, in code
// order 0x00–0x7F, with 0x1B (the escape to the extension table) left out.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ" +
	" !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the default alphabet extension table, 3GPP TS 23.038
// §6.2.1.1: each is sent as ESC + code, so costs 2 septets.
const gsmExtension = "\f^{}\\[~]|€"

// gsmSeptets maps every GSM-7 character to its cost in septets.
var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segments tells how body will be encoded and into how many SMS parts it will
// be split. Any character outside GSM-7 makes the whole body UCS-2. A part
// never splits a character: an extension character (2 septets) or a surrogate
// pair (2 units) that would straddle a part boundary starts the next part, as
// carriers and Twilio do, so the count can exceed ceil(Units/153) or ceil(Units/67).
func Segments(body string) SegmentInfo {
	if body == "" {
		return SegmentInfo{Encoding: GSM7}
	}
	enc, single, part := GSM7, gsmSingle, gsmPart
	cost := func(r rune) int { return gsmSeptets[r] }
	for _, r := range body {
		if gsmSeptets[r] == 0 {
			enc, single, part = UCS2, ucsSingle, ucsPart
			cost = func(r rune) int {
				if n := utf16.RuneLen(r); n > 0 {
					return n
				}
				return 1 // invalid UTF-8 is sent as U+FFFD
			}
			break
		}
	}
	units := 0
	for _, r := range body {
		units += cost(r)
	}
	if units <= single {
		return SegmentInfo{Encoding: enc, Units: units, Segments: 1}
	}
	segments, used := 1, 0
	for _, r := range body {
		c := cost(r)
		if used+c > part {
			segments, used = segments+1, 0
		}
		used += c
	}
	return SegmentInfo{Encoding: enc, Units: units, Segments: segments}
}
