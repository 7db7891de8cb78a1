package cli

import (
	"io"
	"log/slog"
	"strings"

	"ringback/bot"
)

// newLogger is the process's logger: RINGBACK_LOG_FORMAT "json" writes one
// JSON object a line (for a log collector), "text" or unset slog's
// key=value text; RINGBACK_LOG_LEVEL sets the least level written.
func newLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevel(getenv("RINGBACK_LOG_LEVEL")), ReplaceAttr: maskErrorNumbers}
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

// maskErrorNumbers masks the phone numbers in a logged error's text. Ringback
// logs no caller's number itself (a line's number, under its own key, is the
// business's), but an error's text is anyone's: the store names the caller
// whose row it failed on, Twilio's messages name the number they refused,
// and logs travel further than the database does.
func maskErrorNumbers(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindAny {
		return a
	}
	err, ok := a.Value.Any().(error)
	if !ok || err == nil {
		return a
	}
	if text := err.Error(); strings.Contains(text, "+") {
		a.Value = slog.StringValue(bot.MaskNumbers(text))
	}
	return a
}
