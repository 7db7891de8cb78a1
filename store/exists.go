package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Exists reports whether the database at databaseURL has been created, so
// a command that must write nothing (a dry run) can avoid creating an
// SQLite file by opening it. A PostgreSQL database is taken to exist: the
// server, not Ringback, creates it.
func Exists(databaseURL string) (bool, error) {
	d, _, dsn, err := parseURL(databaseURL)
	if err != nil {
		return false, err
	}
	if d.name != "sqlite" {
		return true, nil
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("store: %w", err)
}
