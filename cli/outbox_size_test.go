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
// the defaults, which carry slow remotes at hundreds of rows a second.
func TestOutboxConfigSizesTheLanes(t *testing.T) {
	w := bot.NewWorker(nil, bot.SystemClock{}, "w", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n := w.Concurrency(store.LaneSMS); n < 50 {
		t.Errorf("default sms concurrency = %d: at Twilio's 100 ms that caps texts at %d a second", n, n*10)
	}
	sizeOutbox(w, config.Outbox{SMSConcurrency: 96, ChatConcurrency: 48})
	for lane, want := range map[string]int{store.LaneSMS: 96, store.LaneSlack: 48, store.LaneDiscord: 48} {
		if got := w.Concurrency(lane); got != want {
			t.Errorf("%s concurrency = %d, want %d", lane, got, want)
		}
	}
}

// On SQLite the lanes carry slow remotes at 100 calls a second: at
// Twilio's 100 ms and Slack's 150 ms a call's text and two posts need
// about 10 texts and 30 posts at once.
func TestSQLiteLanesCarrySlowRemotes(t *testing.T) {
	w := bot.NewWorker(nil, bot.SystemClock{}, "w", slog.New(slog.NewTextHandler(io.Discard, nil)))
	sqliteLanes(w)
	for lane, least := range map[string]int{store.LaneSMS: 10, store.LaneSlack: 30, store.LaneDiscord: 30} {
		if got := w.Concurrency(lane); got < least {
			t.Errorf("%s concurrency on SQLite = %d, want at least %d", lane, got, least)
		}
	}
	sizeOutbox(w, config.Outbox{SMSConcurrency: 4})
	if got := w.Concurrency(store.LaneSMS); got != 4 {
		t.Errorf("the config's sms_concurrency on SQLite: %d, want 4", got)
	}
}
