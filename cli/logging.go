package cli

import (
	"io"
	"log/slog"
	"strings"
)

// newLogger is the process's logger: RINGBACK_LOG_FORMAT "json" writes one
// JSON object a line (for a log collector), "text" or unset slog's
// key=value text; RINGBACK_LOG_LEVEL sets the least level written.
func newLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevel(getenv("RINGBACK_LOG_LEVEL"))}
	format := strings.ToLower(strings.TrimSpace(getenv("RINGBACK_LOG_FORMAT")))
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	log := slog.New(slog.NewTextHandler(w, opts))
	if format != "" && format != "text" {
		log.Warn("RINGBACK_LOG_FORMAT is neither json nor text: logging text", "value", format)
	}
	return log
}
