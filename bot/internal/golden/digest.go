package golden

import (
	"time"

	"ringback/bot/chat"
	"ringback/config"
)

func ratio(num, den int) *chat.Ratio { return &chat.Ratio{Num: num, Den: den} }

func spread(n int, med, p90 time.Duration) *chat.Spread {
	return &chat.Spread{Count: n, Median: med, P90: p90}
}

func age(d time.Duration) *time.Duration { return &d }

// SampleDigest is a week of two lines, written out by hand so the golden
// file changes only when the rendering does.
func SampleDigest() chat.Digest {
	london, _ := time.LoadLocation("Europe/London")
	from := time.Date(2026, 11, 9, 0, 0, 0, 0, london)
	lettings := chat.Figures{
		Calls: 120, Missed: 30, MissRate: ratio(30, 120), AfterHours: ratio(9, 30), Cases: 26,
		TextBackWithin90s: ratio(25, 26), CallerReplies: ratio(14, 25),
		TimeToClaim: spread(24, 4*time.Minute, 11*time.Minute), TimeToContactAll: spread(22, 13*time.Minute, 48*time.Minute),
		TimeToContact: []chat.CategorySpread{
			{Category: "viewing", Label: "Viewing / lettings", Time: spread(15, 9*time.Minute, 30*time.Minute)},
			{Category: "maintenance", Label: "Maintenance"},
		},
		SLAMet: ratio(19, 24), TriagedWithin5m: ratio(18, 26), ContactRate: ratio(17, 21), FirstCycle: ratio(12, 21), Repeat24h: ratio(3, 26),
		Escalated: ratio(4, 26), EscalationLevels: map[int]int{1: 4, 2: 1}, PickerUsed: ratio(9, 20), CallbacksKept: ratio(7, 8), Backlog: 3, OldestOpen: age(50 * time.Hour),
	}
	lettings.PeakHours[time.Monday][9] = 6
	lettings.PeakHours[time.Monday][12] = 4
	maint := chat.Figures{
		Calls: 40, Missed: 12, MissRate: ratio(12, 40), AfterHours: ratio(5, 12), Cases: 11,
		TextBackWithin90s: ratio(11, 11), CallerReplies: ratio(8, 11),
		TimeToClaim: spread(10, 6*time.Minute, 20*time.Minute), TimeToContactAll: spread(9, 25*time.Minute, 2*time.Hour),
		TimeToContact: []chat.CategorySpread{
			{Category: "viewing", Label: "Viewing / lettings"},
			{Category: "maintenance", Label: "Maintenance", Time: spread(9, 25*time.Minute, 2*time.Hour)},
		},
		SLAMet: ratio(9, 10), TriagedWithin5m: ratio(9, 11), ContactRate: ratio(7, 9), FirstCycle: ratio(5, 9), Repeat24h: ratio(1, 11),
		Escalated: ratio(2, 11), EscalationLevels: map[int]int{1: 2}, PickerUsed: ratio(3, 9), CallbacksKept: ratio(2, 3), Backlog: 1, OldestOpen: age(20 * time.Hour),
	}
	maint.PeakHours[time.Tuesday][8] = 3
	total := chat.Figures{
		Calls: 160, Missed: 42, MissRate: ratio(42, 160), AfterHours: ratio(14, 42), Cases: 37,
		TextBackWithin90s: ratio(36, 37), CallerReplies: ratio(22, 36),
		TimeToClaim: spread(34, 5*time.Minute, 14*time.Minute), TimeToContactAll: spread(31, 16*time.Minute, 70*time.Minute),
		TimeToContact: []chat.CategorySpread{
			{Category: "viewing", Label: "Viewing / lettings", Time: spread(15, 9*time.Minute, 30*time.Minute)},
			{Category: "maintenance", Label: "Maintenance", Time: spread(9, 25*time.Minute, 2*time.Hour)},
		},
		SLAMet: ratio(28, 34), TriagedWithin5m: ratio(27, 37), ContactRate: ratio(24, 30), FirstCycle: ratio(17, 30), Repeat24h: ratio(4, 37),
		Escalated: ratio(6, 37), EscalationLevels: map[int]int{1: 6, 2: 1}, PickerUsed: ratio(12, 29), CallbacksKept: ratio(9, 11), Backlog: 4, OldestOpen: age(50 * time.Hour),
	}
	total.PeakHours[time.Monday][9] = 6
	total.PeakHours[time.Monday][12] = 4
	total.PeakHours[time.Tuesday][8] = 3
	prev := total
	prev.Missed, prev.Calls, prev.MissRate, prev.TimeToClaim, prev.Backlog = 36, 150, ratio(36, 150), spread(30, 7*time.Minute, 16*time.Minute), 6
	prevLettings := lettings
	prevLettings.Missed, prevLettings.MissRate = 27, ratio(27, 110)

	d := chat.Digest{
		Period: chat.Period{From: from, To: from.AddDate(0, 0, 7), Label: "2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)"},
		Zone:   london,
		KPIs: chat.KPIs{Total: total, Lines: []chat.LineKPIs{
			{Name: "Lettings", Number: "+441632960001", Figures: lettings},
			{Name: "Maintenance", Number: "+441632960002", Figures: maint},
		}},
		Previous: chat.KPIs{
			Period: chat.Period{From: from.AddDate(0, 0, -7), To: from, Label: "2026-W45 (Mon 2 Nov – Sun 8 Nov 2026)"},
			Total:  prev,
			Lines: []chat.LineKPIs{
				{Name: "Lettings", Number: "+441632960001", Figures: prevLettings},
				{Name: "Maintenance", Number: "+441632960002", Figures: maint},
			},
		},
		Staff: []chat.StaffRow{
			{User: "U0ALICE", Claims: 20, Contacted: 18, FirstContact: age(11 * time.Minute), Closed: 17, Outcomes: map[string]int{"booked": 9, "reached": 6, "spam": 2}},
			{User: "U0BOB", Claims: 14, Contacted: 13, FirstContact: age(21 * time.Minute), Closed: 11, Outcomes: map[string]int{"resolved": 8, "no_contact": 3}},
		},
		Oldest: []chat.QueueItem{
			{CaseID: 41, Ref: "#41", Age: 50 * time.Hour, Line: "Lettings", Category: "Viewing / lettings", Caller: "Jane Smith (tenant)", CardChannel: "C0LETTINGS", CardMessage: "1762855200.000100"},
			{CaseID: 57, Ref: "#57", Age: 20 * time.Hour, Line: "Maintenance", Owner: "U0BOB", Caller: "07700 900124 <!here>"},
			{CaseID: 60, Ref: "#60", Age: 7 * time.Hour, Line: "Lettings", Caller: "Sam Jones", CardChannel: "C0LETTINGS", CardMessage: "1762999200.000100"},
			{CaseID: 63, Ref: "#63", Age: 2 * time.Hour, Line: "Lettings", Caller: "Fourth Oldest"},
		},
		Names:   map[string]string{"U0ALICE": "Alice Jones", "U0BOB": "Bob <@U0BOSS> Brown"},
		Targets: chat.Targets(config.DefaultTargets),
	}
	for i, v := range [][2]int{{9, 7}, {8, 8}, {6, 5}, {7, 4}, {8, 6}, {3, 2}, {1, 1}} {
		d.Daily = append(d.Daily, chat.DayCount{Day: from.AddDate(0, 0, i), Missed: v[0], Reached: v[1]})
	}
	return d
}
