package config

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits bound what one caller can make Ringback do: a prankster texting
// "9" or "HELP" over and over must not page the team or get a text each time.
type Limits struct {
	// RepeatReply is how long an automatic reply (safety, help) is not
	// sent again to the same caller. (A case alerts the channel once, when
	// it becomes urgent, whatever the window.)
	RepeatReply time.Duration
	// ThreadBatch is how long a case's caller texts gather before the next
	// thread update: a flood becomes one update per interval, not one per text.
	ThreadBatch time.Duration
}

// Default limits.
const (
	DefaultRepeatReply = 30 * time.Minute
	DefaultThreadBatch = 5 * time.Second
)

// SetDefaults fills the limits a file leaves out.
func (l *Limits) SetDefaults() {
	if l.RepeatReply == 0 {
		l.RepeatReply = DefaultRepeatReply
	}
	if l.ThreadBatch == 0 {
		l.ThreadBatch = DefaultThreadBatch
	}
}

// limits reads the optional limits section.
func (p *parser) limits(n *yaml.Node) Limits {
	var l Limits
	if n != nil {
		p.fields("limits", n, map[string]func(string, *yaml.Node){
			"repeat_reply": func(k string, v *yaml.Node) { l.RepeatReply, _ = p.duration(k, v) },
			"thread_batch": func(k string, v *yaml.Node) { l.ThreadBatch, _ = p.duration(k, v) },
		})
	}
	l.SetDefaults()
	return l
}
