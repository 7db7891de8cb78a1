package cli

import (
	"io"
	"log/slog"
	"testing"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
)

// The config's outbox section sizes the lanes; what it leaves out keeps
// the defaults, which carry slow remotes at 500 calls a second: at
// Twilio's 100 ms and Slack's 150 ms, a call's text and two or three chat
// rows need 50 texts and 150-225 posts at once.
func TestOutboxConfigSizesTheLanes(t *testing.T) {
	w := bot.NewWorker(nil, bot.SystemClock{}, "w", slog.New(slog.NewTextHandler(io.Discard, nil)))
	for lane, least := range map[string]int{store.LaneSMS: 50, store.LaneSlack: 225, store.LaneDiscord: 225} {
		if got := w.Concurrency(lane); got < least {
			t.Errorf("default %s concurrency = %d, want at least %d", lane, got, least)
		}
	}
	sizeOutbox(w, config.Outbox{SMSConcurrency: 96, ChatConcurrency: 48})
	for lane, want := range map[string]int{store.LaneSMS: 96, store.LaneSlack: 48, store.LaneDiscord: 48} {
		if got := w.Concurrency(lane); got != want {
			t.Errorf("%s concurrency = %d, want %d", lane, got, want)
		}
	}
}

// On SQLite the lanes carry slow remotes as on PostgreSQL: at Twilio's
// 100 ms and Slack's 150 ms a call's text and three chat rows need, at 300
// calls a second, about 30 texts and 90 posts at once (more than that).
// The rest pool runs one row at a time.
func TestSQLiteLanesCarrySlowRemotes(t *testing.T) {
	w := bot.NewWorker(nil, bot.SystemClock{}, "w", slog.New(slog.NewTextHandler(io.Discard, nil)))
	sqliteLanes(w)
	for lane, least := range map[string]int{store.LaneSMS: 30, store.LaneSlack: 90, store.LaneDiscord: 90} {
		if got := w.Concurrency(lane); got < least {
			t.Errorf("%s concurrency on SQLite = %d, want at least %d", lane, got, least)
		}
	}
	if got := w.Concurrency("webhook"); got != 1 {
		t.Errorf("the rest pool on SQLite runs %d rows at once, want 1", got)
	}
	sizeOutbox(w, config.Outbox{SMSConcurrency: 4})
	if got := w.Concurrency(store.LaneSMS); got != 4 {
		t.Errorf("the config's sms_concurrency on SQLite: %d, want 4", got)
	}
}
