package golden

import (
	"time"

	"ringback/bot/chat"
)

// Handover is the shift handover both platforms' golden files render: an
// urgent, an overdue and an ordinary open case, two closed ones, notes with
// outside text that must not ping anyone, and more cases than shown.
func Handover() chat.Handover {
	since := time.Date(2026, 11, 20, 17, 15, 0, 0, time.UTC)
	return chat.Handover{
		Line: "Lettings", At: "08:45", Since: "Fri 17:15", SinceAt: since,
		OpenTotal: 18, Unclaimed: 2, Overdue: 4, Urgent: 1, ClosedTotal: 2,
		Open: []chat.HandoverItem{
			{CaseID: 44, Ref: "#44", Caller: "Jane Smith", Category: "Urgent safety", Owner: "U0ALICE", Urgent: true, Age: 25 * time.Minute,
				Note: "Gas smell; engineer on the way <!channel> @everyone"},
			{CaseID: 41, Ref: "#41", Caller: "07700 900124", Category: "Maintenance", Overdue: true, Age: 63 * time.Hour},
			{CaseID: 43, Ref: "#43", Caller: "number withheld", Owner: "U0BOB", Age: 14 * time.Hour, Note: "left a voicemail, will try again at 10"},
		},
		Closed: []chat.HandoverItem{
			{CaseID: 39, Ref: "#39", Caller: "Tom Brown", Category: "Viewing / lettings", Owner: "U0ALICE", Outcome: "booked", Note: "Viewing Sat 11:00 at 14 Elm Road"},
			{CaseID: 40, Ref: "#40", Caller: "07700 900188", Category: "Compliance", Owner: "U0BOB", Outcome: "no contact"},
		},
	}
}
