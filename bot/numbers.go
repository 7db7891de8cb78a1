package bot

import (
	"fmt"
	"strings"

	"ringback/config"
)

// withheld are the ways phone systems say a caller hid their number:
// Twilio's keypad spellings of ANONYMOUS, UNAVAILABLE, UNKNOWN, BLOCKED and
// RESTRICTED, and the words themselves.
var withheld = map[string]bool{
	"+266696687": true, "+86282452253": true, "+8656696": true, "+2562533": true, "+7378742833": true,
	"anonymous": true, "restricted": true, "unknown": true, "private": true, "unavailable": true, "blocked": true,
}

// IsWithheld reports whether raw says the caller's number was withheld.
func IsWithheld(raw string) bool {
	raw = strings.TrimSpace(raw)
	return raw == "" || withheld[strings.ToLower(raw)]
}

// callerNumber is raw as E.164, "" when withheld, or ErrBadInput.
func (b *Bot) callerNumber(raw string) (string, error) {
	if IsWithheld(raw) {
		return "", nil
	}
	n, err := config.Normalize(raw, b.cfg.Business.Region)
	if err != nil {
		return "", fmt.Errorf("%w: caller number %q", ErrBadInput, raw)
	}
	return n, nil
}

// lineNumber is the called number as E.164, or ErrBadInput.
func (b *Bot) lineNumber(raw string) (string, error) {
	n, err := config.Normalize(raw, b.cfg.Business.Region)
	if err != nil {
		return "", fmt.Errorf("%w: called number %q", ErrBadInput, raw)
	}
	return n, nil
}
