package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"ringback/internal/memo"
)

// Normalize reads a phone number as a person in region (ISO 3166, e.g. "GB")
// would dial it and returns it in E.164 ("+441632960001"), the only form used
// inside Ringback.
//
// It checks that the number is possible (right length for its country), not
// that it is assigned: the fictional ranges used in examples and tests
// (+44 1632 960xxx, +1 555 …) must be accepted. Numbers that only work when
// dialled locally (a US number without its area code) and numbers with an
// extension are refused, because neither can be texted or dialled from E.164.
func Normalize(raw, region string) (string, error) {
	e164, ok := normalize(raw, region)
	if !ok {
		return "", fmt.Errorf("config: %s", notPhone(raw))
	}
	return e164, nil
}

func normalize(raw, region string) (string, bool) {
	key := region + "\x00" + raw
	if r, ok := normalized.Get(key); ok {
		return r.s, r.ok
	}
	e164, ok := parseNumber(raw, region)
	if len(raw) <= maxMemoKey {
		normalized.Put(key, memoResult{e164, ok})
	}
	return e164, ok
}

func parseNumber(raw, region string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || !dialable(raw) {
		return "", false
	}
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil {
		return "", false
	}
	if num.GetExtension() != "" {
		return "", false
	}
	if phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	// What Ringback stores is read again later: a number whose E.164 form
	// reads back as another number (leading zeros some regions keep) is
	// refused, so normalising is idempotent.
	again, err := phonenumbers.Parse(e164, "")
	if err != nil || phonenumbers.Format(again, phonenumbers.E164) != e164 ||
		phonenumbers.IsPossibleNumberWithReason(again) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	return e164, true
}

// maxDialDigits is the most digits a number may be dialled with: E.164's
// 15, an international prefix of up to 4 ("0011") and a bracketed trunk "0"
// ("+44 (0) 1632 …"). The library would read a number out of a longer run.
const maxDialDigits = 15 + 4 + 1

// dialable reports whether raw looks like a number a person dials: no
// letters (the library would read "07700CALLME" as a keypad spelling) and no
// more digits than any number needs.
func dialable(raw string) bool {
	digits := 0
	for _, r := range raw {
		switch {
		case unicode.IsLetter(r):
			return false
		case unicode.IsDigit(r):
			digits++
		}
	}
	return digits <= maxDialDigits
}

func notPhone(raw string) string {
	return fmt.Sprintf("%q is not a phone number", raw)
}

// Format renders an E.164 number for people: national format when the number
// belongs to region ("01632 960001" for GB), international otherwise
// ("+1 555-123-4567"). Anything it cannot parse comes back unchanged, so a
// caller ID like "anonymous" still shows as what Twilio sent.
//
// The country code decides "belongs to region", not the number's validity,
// so fictional test numbers are formatted like real ones.
func Format(e164, region string) string {
	key := region + "\x00" + e164
	if r, ok := formatted.Get(key); ok {
		return r.s
	}
	s := format(e164, region)
	if len(e164) <= maxMemoKey {
		formatted.Put(key, memoResult{s: s, ok: true})
	}
	return s
}

func format(e164, region string) string {
	num, err := phonenumbers.Parse(e164, strings.ToUpper(region))
	if err != nil {
		return e164
	}
	if region != "" && int(num.GetCountryCode()) == phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) {
		return phonenumbers.Format(num, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// validRegion reports whether the phone-number library knows region.
func validRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[region]
}

// The phone-number library parses with regular expressions: reading a
// number cost about 5 % of a missed call's CPU, and the same few callers'
// and lines' numbers are read again and again (every webhook, every card).
// Both functions are pure, so their answers are kept, up to memoSize each.
var normalized, formatted = memo.New[memoResult](memoSize), memo.New[memoResult](memoSize)

// memoSize and maxMemoKey bound the memory the answers take: numbers
// come from outside, and a long text is no number anyway.
const (
	memoSize   = 4096
	maxMemoKey = 64
)

type memoResult struct {
	s  string
	ok bool
}
