package bot

import (
	"fmt"
	"strings"
	"unicode"

	"ringback/config"
)

// withheldNumbers are Twilio's keypad spellings of ANONYMOUS, UNAVAILABLE,
// UNKNOWN, BLOCKED and RESTRICTED.
var withheldNumbers = map[string]bool{
	"+266696687": true, "+86282452253": true, "+8656696": true, "+2562533": true, "+7378742833": true,
}

// withheldWords are the words phone systems and call-log exports (UK and US)
// print for a hidden number, squashed: "Number Withheld" is numberwithheld.
var withheldWords = map[string]bool{
	"anonymous": true, "restricted": true, "unknown": true, "private": true, "unavailable": true, "blocked": true,
	"withheld": true, "numberwithheld": true, "callerwithheld": true, "privatenumber": true, "nocallerid": true,
	"calleridblocked": true, "callerunknown": true,
}

// IsWithheld reports whether raw says the caller's number was withheld. Live
// reports and imported call logs are both judged by it.
func IsWithheld(raw string) bool {
	raw = strings.TrimSpace(raw)
	return raw == "" || withheldNumbers[raw] || withheldWords[squash(raw)]
}

// squash keeps the letters and digits of s, in lower case, so that
// "No Caller-ID" and "NO_CALLER_ID" read alike.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// CallerNumber reads a caller's number as dialled in region: E.164, "" when
// withheld, or ErrBadInput.
func CallerNumber(raw, region string) (string, error) {
	if IsWithheld(raw) {
		return "", nil
	}
	n, err := config.Normalize(raw, region)
	if err != nil {
		return "", fmt.Errorf("%w: caller number %q", ErrBadInput, raw)
	}
	return n, nil
}

// LineNumber reads the number called as dialled in region: E.164, or
// ErrBadInput.
func LineNumber(raw, region string) (string, error) {
	n, err := config.Normalize(raw, region)
	if err != nil {
		return "", fmt.Errorf("%w: called number %q", ErrBadInput, raw)
	}
	return n, nil
}

// callerNumber is CallerNumber in the business's region.
func (b *Bot) callerNumber(raw string) (string, error) {
	return CallerNumber(raw, b.cfg.Business.Region)
}

// lineNumber is LineNumber in the business's region.
func (b *Bot) lineNumber(raw string) (string, error) {
	return LineNumber(raw, b.cfg.Business.Region)
}
