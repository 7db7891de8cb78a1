package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a Go duration ("90s", "1h30m") that may start with a
// whole number of days ("1d", "2d12h"), because response promises and
// cooldowns are often counted in days and "48h" reads badly in a config file.
// Negative durations are refused: every duration in the file is a wait.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	orig := s
	notDuration := fmt.Errorf("%q is not a duration", orig)
	if s == "" {
		return 0, notDuration
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 10000 {
			return 0, notDuration
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			return 0, notDuration
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, notDuration
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", orig)
	}
	return days + d, nil
}
