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
