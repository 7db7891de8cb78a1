package golden

import (
	"time"

	"ringback/bot/chat"
)

// QuietTiming is the Reply timing both renderers' golden files show: a
// Florida caller at 20:30 their time, whose window opens at 08:00.
func QuietTiming() chat.ReplyTiming {
	miami, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return chat.ReplyTiming{Quiet: true, CallerNow: time.Date(2026, 11, 16, 20, 30, 0, 0, miami),
		SendAt: time.Date(2026, 11, 17, 8, 0, 0, 0, miami), Window: "08:00–20:00", Law: "Florida law"}
}
