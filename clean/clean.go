// Package clean makes text from outside (webhook fields, chat names) safe to
// store and to compare: the same bytes on PostgreSQL and SQLite, which
// otherwise disagree (PostgreSQL refuses NUL and invalid UTF-8 in text,
// SQLite stores them).
package clean

import (
	"strings"
	"unicode/utf8"
)

// Text strips NUL bytes and replaces each invalid UTF-8 sequence with
// U+FFFD. Everything else, newlines included, is kept: an SMS body or a
// transcript is shown as the caller wrote it.
func Text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s // the common case allocates nothing
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
