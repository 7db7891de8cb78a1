package config

import (
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Outbox sizes the workers that perform side effects (texts, chat posts)
// and says how long their finished rows are kept. A remote call waits on
// the remote: a lane runs at most concurrency / latency rows a second
// (64 texts at once with Twilio's ~100 ms answer: ~640 a second). Zero
// leaves the choice to Ringback (see cli's defaults per store).
type Outbox struct {
	SMSConcurrency  int           // sms_concurrency: texts at once
	ChatConcurrency int           // chat_concurrency: posts at once, per chat platform
	Retention       time.Duration // retention: how long done rows are kept
}

// DefaultOutboxRetention is how long a done outbox row is kept: long enough
// to look into last week's side effects, short enough that the table stays
// small.
const DefaultOutboxRetention = 7 * 24 * time.Hour

// SetDefaults fills what a file leaves out.
func (o *Outbox) SetDefaults() {
	if o.Retention == 0 {
		o.Retention = DefaultOutboxRetention
	}
}

// outbox reads the optional outbox section.
func (p *parser) outbox(n *yaml.Node) Outbox {
	var o Outbox
	if n != nil {
		p.fields("outbox", n, map[string]func(string, *yaml.Node){
			"sms_concurrency":  func(k string, v *yaml.Node) { o.SMSConcurrency = p.positive(k, v) },
			"chat_concurrency": func(k string, v *yaml.Node) { o.ChatConcurrency = p.positive(k, v) },
			"retention": func(k string, v *yaml.Node) {
				if d, ok := p.duration(k, v); ok && d < 24*time.Hour {
					p.add(v, k, "must be at least 24h (a done row's key keeps its work from being queued again)")
				} else {
					o.Retention = d
				}
			},
		})
	}
	o.SetDefaults()
	return o
}

// positive reads a whole number from 1 to 10000.
func (p *parser) positive(key string, n *yaml.Node) int {
	s, ok := p.str(key, n)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > 10000 {
		p.add(n, key, "%q is not a whole number from 1 to 10000", s)
		return 0
	}
	return v
}
