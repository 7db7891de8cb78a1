package store

import "strings"

// SQLitePath is the file a DATABASE_URL names for SQLite; ok is false for
// PostgreSQL. Commands that must write nothing (a dry run) check that the
// file exists before Open, which would create it.
func SQLitePath(databaseURL string) (path string, ok bool) {
	var p string
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return "", false
	case databaseURL == "":
		p = DefaultSQLitePath
	case strings.HasPrefix(databaseURL, "sqlite:"):
		p = strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//")
	case strings.HasPrefix(databaseURL, "file:"):
		p = strings.TrimPrefix(databaseURL, "file:")
	default:
		return "", false
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p, true
}
