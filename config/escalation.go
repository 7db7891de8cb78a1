package config

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	knownWhen   = []string{"unclaimed", "no_contact", "overdue"}
	knownNotify = []string{"channel", "owner", "managers", "on_call"}
)

// DefaultManagerBatch is how often managers hear of the cases that need
// them when manager_batch is not set.
const DefaultManagerBatch = 30 * time.Minute

// managerBatch reads manager_batch: a duration of at least a minute.
func (p *parser) managerBatch(key string, n *yaml.Node) time.Duration {
	d, ok := p.duration(key, n)
	if !ok {
		return DefaultManagerBatch
	}
	if d < time.Minute || d > 24*time.Hour {
		p.add(n, key, "%s is outside 1m to 24h", d)
		return DefaultManagerBatch
	}
	return d
}

// DefaultAckWithin is how long an owner has to answer an owner reminder
// when a step has no ack_within.
const DefaultAckWithin = 15 * time.Minute

// SetDefaults gives the settings s leaves zero the values Parse gives the
// keys a file leaves out (ack_within).
func (s *EscalationStep) SetDefaults() {
	if s.AckWithin == 0 {
		s.AckWithin = DefaultAckWithin
	}
}

// escalation reads a list of steps. The result is non-nil even when empty so
// that a line's "escalation: []" can switch escalation off.
func (p *parser) escalation(path string, n *yaml.Node) []EscalationStep {
	out := []EscalationStep{}
	for i, item := range p.seq(path, n) {
		sp := index(path, i)
		var s EscalationStep
		var hasAfter bool
		p.fields(sp, item, map[string]func(string, *yaml.Node){
			"after": func(k string, v *yaml.Node) { s.After, hasAfter = p.duration(k, v) },
			"when": func(k string, v *yaml.Node) {
				var ok bool
				if s.When, ok = p.str(k, v); ok && !slices.Contains(knownWhen, s.When) {
					p.add(v, k, "%q is not one of %s", s.When, strings.Join(knownWhen, ", "))
				}
			},
			"notify": func(k string, v *yaml.Node) {
				var ok bool
				if s.Notify, ok = p.str(k, v); ok && !slices.Contains(knownNotify, s.Notify) {
					p.add(v, k, "%q is not one of %s", s.Notify, strings.Join(knownNotify, ", "))
				}
			},
			"repeat":     func(k string, v *yaml.Node) { s.Repeat, _ = p.duration(k, v) },
			"ack_within": func(k string, v *yaml.Node) { s.AckWithin, _ = p.duration(k, v) },
		})
		s.SetDefaults()
		if !hasAfter && !p.has(join(sp, "after")) {
			p.add(item, join(sp, "after"), "required")
		}
		if s.When == "" && !p.has(join(sp, "when")) {
			p.add(item, join(sp, "when"), "required")
		}
		if s.Notify == "" && !p.has(join(sp, "notify")) {
			p.add(item, join(sp, "notify"), "required")
		}
		out = append(out, s)
	}
	return out
}

// After-hours policies of a line: which cases escalate, and which page the
// on-call phone.
const (
	// UrgentOnly: only urgent cases (the default).
	UrgentOnly = "urgent"
	// AllCases: every case.
	AllCases = "all"
)

var knownAfterHours = []string{UrgentOnly, AllCases}

// Escalates reports whether a case (urgent or not) runs its clocks while
// the line is closed; the others start them at the next opening.
func (l *Line) Escalates(urgent bool) bool {
	return urgent || l.EscalateAfterHours == AllCases
}

// Pages reports whether an escalation step may page the on-call phone for
// a case (urgent or not).
func (l *Line) Pages(urgent bool) bool {
	return urgent || l.OnCallPages == AllCases
}

// afterHoursPolicy reads "urgent" or "all".
func (p *parser) afterHoursPolicy(key string, n *yaml.Node) string {
	s, ok := p.str(key, n)
	if ok && !slices.Contains(knownAfterHours, s) {
		p.add(n, key, "%q is not one of %s", s, strings.Join(knownAfterHours, ", "))
		return ""
	}
	return s
}
