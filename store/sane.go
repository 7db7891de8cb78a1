package store

import (
	"fmt"
	"time"

	"ringback/clean"
)

// Times the store accepts: what both engines write and read back. SQLite
// keeps a time as text, and a five-digit year is written but cannot be
// scanned again, which would break every query that meets the row.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// sane checks a statement's arguments before either engine sees them: text
// is cleaned (clean.Text) so both engines store the same bytes, and a time
// neither engine could give back is refused. Callers clean outside input
// first; this is the last line, so a missed field fails the same everywhere.
func sane(args []any) ([]any, error) {
	var out []any
	for i, a := range args {
		switch v := a.(type) {
		case string:
			if c := clean.Text(v); c != v {
				if out == nil {
					out = append([]any(nil), args...)
				}
				out[i] = c
			}
		case time.Time:
			if err := saneTime(v); err != nil {
				return nil, err
			}
		case *time.Time:
			if v != nil {
				if err := saneTime(*v); err != nil {
					return nil, err
				}
			}
		}
	}
	if out == nil {
		return args, nil
	}
	return out, nil
}

func saneTime(t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("store: time %s is outside years 1-9999 and could not be read back", t.UTC().Format(time.RFC3339))
	}
	return nil
}
