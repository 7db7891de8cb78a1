package chat

import (
	"fmt"
	"math"
	"time"
)

// KPI describes one KPI of DESIGN.md: its stable key, the words each view
// uses for it, and how to read it from a period's Figures. Catalogue lists
// them all, in DESIGN.md's order; the digest (its rows, tables, JSON, CSV
// and headline), /callbacks stats and the chat renderers all read it, so
// a KPI is added, renamed or dropped in one place.
type KPI struct {
	// Key is stable: JSON and CSV use it ("miss_rate"); a time adds
	// "_median" and "_p90".
	Key string
	// Label names it in the digest's tables ("" for a KPI the tables do
	// not list).
	Label string
	// Name is DESIGN.md's name, in /callbacks stats ("" for a KPI stats
	// shows within another: the miss rate beside the missed calls).
	Name string
	// Headline names it in the digest's headline, the figures a manager
	// reads first ("" for the others).
	Headline string
	Kind     KPIKind

	count  func(Figures) int
	ratio  func(Figures) *Ratio
	spread func(Figures) *Spread
	age    func(Figures) *time.Duration
	peak   func(Figures) [7][24]int
}

// KPIKind is how a KPI's value reads.
type KPIKind int

// KPI kinds.
const (
	KPICount  KPIKind = iota // a number of calls or cases
	KPIRatio                 // a share: numerator of denominator
	KPISpread                // durations: how many, median and p90
	KPIAge                   // one duration
	KPIPeak                  // counts by weekday and hour
)

func countKPI(k KPI, f func(Figures) int) *KPI {
	k.Kind, k.count = KPICount, f
	return &k
}

func ratioKPI(k KPI, f func(Figures) *Ratio) *KPI {
	k.Kind, k.ratio = KPIRatio, f
	return &k
}

func spreadKPI(k KPI, f func(Figures) *Spread) *KPI {
	k.Kind, k.spread = KPISpread, f
	return &k
}

// The KPIs.
var (
	KPIInboundCalls = countKPI(KPI{Key: "calls", Label: "Inbound calls"}, func(f Figures) int { return f.Calls })
	KPIMissedCalls  = countKPI(KPI{Key: "missed_calls", Label: "Missed calls", Name: "Missed calls", Headline: "Missed calls"},
		func(f Figures) int { return f.Missed })
	KPIMissRate = ratioKPI(KPI{Key: "miss_rate", Label: "Miss rate"},
		func(f Figures) *Ratio { return f.MissRate })
	KPIAfterHours = ratioKPI(KPI{Key: "after_hours_share", Label: "After-hours share", Name: "After-hours share"},
		func(f Figures) *Ratio { return f.AfterHours })
	KPICases       = countKPI(KPI{Key: "cases", Label: "Cases opened"}, func(f Figures) int { return f.Cases })
	KPITextBack90s = ratioKPI(KPI{Key: "textback_within_90s", Label: "Text-back within 90 s", Name: "Text-back within 90 s", Headline: "Text-back within 90 s"},
		func(f Figures) *Ratio { return f.TextBackWithin90s })
	KPICallerReplies = ratioKPI(KPI{Key: "caller_reply_rate", Label: "Caller reply rate", Name: "Caller reply rate"},
		func(f Figures) *Ratio { return f.CallerReplies })
	KPITimeToClaim = spreadKPI(KPI{Key: "time_to_claim", Label: "Time to claim", Name: "Time to claim", Headline: "Time to claim (median)"},
		func(f Figures) *Spread { return f.TimeToClaim })
	// KPITimeToContact is followed, in the digest and stats, by the same
	// time per category (Figures.TimeToContact).
	KPITimeToContact = spreadKPI(KPI{Key: "time_to_contact", Label: "Time to first contact", Name: "Time to first human contact"},
		func(f Figures) *Spread { return f.TimeToContactAll })
	KPISLAMet = ratioKPI(KPI{Key: "sla_met", Label: "SLA met (contact in time)", Name: "SLA met", Headline: "SLA met"},
		func(f Figures) *Ratio { return f.SLAMet })
	KPITriaged5m = ratioKPI(KPI{Key: "triaged_within_5m", Label: "Triaged within 5 min", Name: "Triaged within 5 min"},
		func(f Figures) *Ratio { return f.TriagedWithin5m })
	KPIContactRate = ratioKPI(KPI{Key: "contact_rate", Label: "Contact rate", Name: "Contact rate", Headline: "Contact rate"},
		func(f Figures) *Ratio { return f.ContactRate })
	KPIFirstCycle = ratioKPI(KPI{Key: "first_cycle_resolution", Label: "First-cycle resolution", Name: "First-cycle resolution"},
		func(f Figures) *Ratio { return f.FirstCycle })
	KPIRepeat24h = ratioKPI(KPI{Key: "repeat_contact_24h", Label: "Repeat contact within 24 h", Name: "Repeat contact within 24 h"},
		func(f Figures) *Ratio { return f.Repeat24h })
	// KPIEscalated is followed by the cases per escalation level
	// (Figures.EscalationLevels).
	KPIEscalated = ratioKPI(KPI{Key: "escalated", Label: "Escalated", Name: "Escalations"},
		func(f Figures) *Ratio { return f.Escalated })
	KPIPickerUsed = ratioKPI(KPI{Key: "callback_picker_used", Label: "Callback picker used", Name: "Callback picker used"},
		func(f Figures) *Ratio { return f.PickerUsed })
	KPICallbacksKept = ratioKPI(KPI{Key: "callbacks_kept_on_time", Label: "Callbacks kept on time", Name: "Scheduled callbacks kept on time"},
		func(f Figures) *Ratio { return f.CallbacksKept })
	KPIBacklog = countKPI(KPI{Key: "backlog", Label: "Open at the period's end", Name: "Backlog", Headline: "Open at the week's end"},
		func(f Figures) int { return f.Backlog })
	KPIOldestOpen = &KPI{Key: "oldest_open_age", Label: "Oldest open case's age", Kind: KPIAge,
		age: func(f Figures) *time.Duration { return f.OldestOpen }}
	KPIPeakHours = &KPI{Key: "peak_missed_calls", Name: "Peak miss hours", Kind: KPIPeak,
		peak: func(f Figures) [7][24]int { return f.PeakHours }}
)

// Catalogue is every KPI in DESIGN.md's order.
var Catalogue = []*KPI{
	KPIInboundCalls, KPIMissedCalls, KPIMissRate, KPIAfterHours, KPICases, KPITextBack90s, KPICallerReplies,
	KPITimeToClaim, KPITimeToContact, KPISLAMet, KPITriaged5m, KPIContactRate, KPIFirstCycle, KPIRepeat24h, KPIEscalated,
	KPIPickerUsed, KPICallbacksKept, KPIBacklog, KPIOldestOpen, KPIPeakHours,
}

// Count is a count KPI's value.
func (k *KPI) Count(f Figures) int { return k.count(f) }

// Ratio is a ratio KPI's value (nil: no data).
func (k *KPI) Ratio(f Figures) *Ratio { return k.ratio(f) }

// Spread is a time KPI's value (nil: nothing timed).
func (k *KPI) Spread(f Figures) *Spread { return k.spread(f) }

// Age is an age KPI's value (nil: none).
func (k *KPI) Age(f Figures) *time.Duration { return k.age(f) }

// Peak is a peak-hours KPI's counts by [time.Weekday][hour].
func (k *KPI) Peak(f Figures) [7][24]int { return k.peak(f) }

// metrics are the KPI's rows of f: one, or a time's median and p90. Peak
// hours have no row (the digest shows them apart).
func (k *KPI) metrics(f Figures) []metric {
	switch k.Kind {
	case KPICount:
		return []metric{countMetric(k.Key, k.Label, k.count(f))}
	case KPIRatio:
		return []metric{ratioMetric(k.Key, k.Label, k.ratio(f))}
	case KPISpread:
		return timeMetrics(k.Key, k.Label, k.spread(f))
	case KPIAge:
		m := metric{key: k.Key, label: k.Label, unit: UnitSeconds}
		if a := k.age(f); a != nil {
			v := math.Round(a.Seconds())
			m.value = &v
		}
		return []metric{m}
	}
	return nil
}

// metrics lists every KPI of f in the catalogue's order, each time to
// contact per category after the overall one, each escalation level after
// the escalated share; levels 1…levels are always listed, so a week
// without level 2 still shows 0.
func metrics(f Figures, levels int) []metric {
	var ms []metric
	for _, k := range Catalogue {
		ms = append(ms, k.metrics(f)...)
		switch k {
		case KPITimeToContact:
			for _, c := range f.TimeToContact {
				key := c.Category
				if key == "" {
					key = "uncategorised"
				}
				ms = append(ms, timeMetrics(k.Key+"."+key, "  "+c.Label, c.Time)...)
			}
		case KPIEscalated:
			for l := 1; l <= levels; l++ {
				ms = append(ms, countMetric(fmt.Sprintf("escalations_level_%d", l), fmt.Sprintf("  reached level %d", l), f.EscalationLevels[l]))
			}
		}
	}
	return ms
}
