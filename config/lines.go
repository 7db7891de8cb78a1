package config

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	digitRE     = regexp.MustCompile(`^[0-9]$`)
	messagingRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// Twilio's <Dial timeout> accepts 5 to 600 seconds.
const (
	minRingTimeout = 5 * time.Second
	maxRingTimeout = 600 * time.Second
)

// Defaults of the line keys a file leaves out.
const (
	DefaultRingTimeout = 20 * time.Second // ring_timeout
	DefaultCooldown    = 12 * time.Hour   // textback.cooldown
)

// DefaultQueueChecks are the local times of a line's daily queue post when
// the line has no queue_check.
func DefaultQueueChecks() []TimeOfDay { return []TimeOfDay{{8, 45}, {17, 15}} }

// SetDefaults gives the settings l leaves zero the values Parse gives the
// keys a file leaves out: b's time zone, DefaultRingTimeout,
// DefaultCooldown, DefaultQueueChecks (a nil list; an empty one stays off),
// b's quiet hours and its escalation steps' defaults.
func (l *Line) SetDefaults(b Business) {
	if l.Timezone == nil {
		l.Timezone = b.Timezone
	}
	if l.ClosedDates == nil {
		l.ClosedDates = b.ClosedDates
	}
	if l.QuietHours == (QuietHours{}) {
		l.QuietHours = b.QuietHours
	}
	l.QuietHours.SetDefaults()
	if l.RingTimeout == 0 {
		l.RingTimeout = DefaultRingTimeout
	}
	if l.TextBack.Cooldown == 0 {
		l.TextBack.Cooldown = DefaultCooldown
	}
	if l.QueueChecks == nil {
		l.QueueChecks = DefaultQueueChecks()
	}
	l.Callback.SetDefaults()
	for i := range l.Escalation {
		l.Escalation[i].SetDefaults()
	}
}

// lines reads the lines section: at least one, numbers and names unique.
func (p *parser) lines(root, n *yaml.Node, cfg *Config) []Line {
	items := []*yaml.Node(nil)
	if n != nil {
		items = p.seq("lines", n)
	}
	if len(items) == 0 && !p.has("lines") {
		where := n
		if where == nil {
			where = root
		}
		p.add(where, "lines", "at least one line is required")
	}
	numbers := map[string]int{}
	names := map[string]int{}
	var out []Line
	for i, item := range items {
		path := index("lines", i)
		l := p.line(path, item, cfg)
		if l.Number != "" {
			if j, dup := numbers[l.Number]; dup {
				p.add(item, join(path, "number"), "%q is also lines[%d].number", l.Number, j)
			} else {
				numbers[l.Number] = i
			}
		}
		if l.Name != "" {
			lower := strings.ToLower(l.Name)
			if j, dup := names[lower]; dup {
				p.add(item, join(path, "name"), "%q is also lines[%d].name", l.Name, j)
			} else {
				names[lower] = i
			}
		}
		out = append(out, l)
	}
	return out
}

// line reads one line, starting from the defaults.
func (p *parser) line(path string, n *yaml.Node, cfg *Config) Line {
	region := cfg.Business.Region
	// Defaults first, so that a key the file sets, even to zero
	// ("cooldown: 0s"), wins.
	var l Line
	l.SetDefaults(cfg.Business)
	var escalationNode *yaml.Node
	p.fields(path, n, map[string]func(string, *yaml.Node){
		"number":  func(k string, v *yaml.Node) { l.Number = p.phone(k, v, region) },
		"name":    func(k string, v *yaml.Node) { l.Name, _ = p.str(k, v) },
		"channel": func(k string, v *yaml.Node) { l.Channel = p.slackChannel(k, v) },
		"timezone": func(k string, v *yaml.Node) {
			if loc := p.location(k, v); loc != nil {
				l.Timezone = loc
			}
		},
		"hours": func(k string, v *yaml.Node) { l.Hours = p.hours(k, v) },
		"triage": func(k string, v *yaml.Node) {
			l.Triage = map[string]string{}
			for _, e := range p.pairs(k, v) {
				tk := join(k, e.key)
				if !digitRE.MatchString(e.key) {
					p.add(e.keyNode, tk, "%q is not a single digit", e.key)
					continue
				}
				cat, ok := p.str(tk, e.value())
				if !ok {
					continue
				}
				if _, known := cfg.Category(cat); !known {
					p.add(e.value(), tk, "unknown category %q", cat)
				}
				l.Triage[e.key] = cat
			}
		},
		"textback": func(k string, v *yaml.Node) {
			p.fields(k, v, map[string]func(string, *yaml.Node){
				"in_hours":    func(k string, v *yaml.Node) { l.TextBack.InHours = p.templateKey(k, v, cfg) },
				"after_hours": func(k string, v *yaml.Node) { l.TextBack.AfterHours = p.templateKey(k, v, cfg) },
				"cooldown": func(k string, v *yaml.Node) {
					if d, ok := p.duration(k, v); ok {
						l.TextBack.Cooldown = d
					}
				},
				"delay": func(k string, v *yaml.Node) { l.TextBack.Delay, _ = p.duration(k, v) },
			})
		},
		"ring": func(k string, v *yaml.Node) {
			for j, item := range p.seq(k, v) {
				if e164 := p.phone(index(k, j), item, region); e164 != "" {
					l.Ring = append(l.Ring, e164)
				}
			}
		},
		"ring_timeout": func(k string, v *yaml.Node) {
			d, ok := p.duration(k, v)
			if !ok {
				return
			}
			if d < minRingTimeout || d > maxRingTimeout {
				p.add(v, k, "%s is outside %s to %s (Twilio's limits)", d, minRingTimeout, maxRingTimeout)
				return
			}
			l.RingTimeout = d
		},
		"on_call": func(k string, v *yaml.Node) { l.OnCall = p.phone(k, v, region) },
		"messaging_service_sid": func(k string, v *yaml.Node) {
			l.MessagingServiceSID = p.matching(k, v, messagingRE, "%q is not a Messaging Service SID (MG and 32 hex digits)")
		},
		"escalation": func(k string, v *yaml.Node) {
			escalationNode = v
			l.Escalation = p.escalation(k, v)
		},
		"on_duty": func(k string, v *yaml.Node) {
			l.OnDuty = p.matching(k, v, slackIDRE, "%q is not a Slack user (U…) or user group (S…) ID")
		},
		"rota":          func(k string, v *yaml.Node) { l.Rota = p.rota(k, v) },
		"category_rota": func(k string, v *yaml.Node) { l.CategoryRota = p.categoryRota(k, v, cfg) },
		"contact_kinds": func(k string, v *yaml.Node) { l.ContactKinds = p.contactKinds(k, v, cfg) },
		"quiet_hours":   func(k string, v *yaml.Node) { l.QuietHours = p.quietHours(k, v, l.QuietHours) },
		"discord_channel": func(k string, v *yaml.Node) {
			l.DiscordChannel = p.matching(k, v, snowflakeYAML, "%q is not a Discord channel id (15 to 21 digits)")
		},
		"closed_dates":         func(k string, v *yaml.Node) { l.ClosedDates = p.closedDates(k, v, l.ClosedDates) },
		"callback":             func(k string, v *yaml.Node) { l.Callback = p.callback(k, v, l.Callback) },
		"untriaged":            func(k string, v *yaml.Node) { l.Untriaged = p.due(k, v, l.Untriaged) },
		"escalate_after_hours": func(k string, v *yaml.Node) { l.EscalateAfterHours = p.afterHoursPolicy(k, v) },
		"on_call_pages":        func(k string, v *yaml.Node) { l.OnCallPages = p.afterHoursPolicy(k, v) },
		"status_texts": func(k string, v *yaml.Node) {
			p.fields(k, v, map[string]func(string, *yaml.Node){
				"claimed":       func(k string, v *yaml.Node) { l.StatusTexts.Claimed = p.templateKey(k, v, cfg) },
				"callback_soon": func(k string, v *yaml.Node) { l.StatusTexts.CallbackSoon = p.templateKey(k, v, cfg) },
			})
		},
		"queue_check": func(k string, v *yaml.Node) {
			l.QueueChecks = []TimeOfDay{}
			for j, item := range p.seq(k, v) {
				s, ok := p.str(index(k, j), item)
				if !ok {
					continue
				}
				t, ok := parseTimeOfDay(s)
				if !ok {
					p.add(item, index(k, j), "%q is not HH:MM", s)
					continue
				}
				l.QueueChecks = append(l.QueueChecks, t)
			}
		},
	})
	for _, req := range []struct{ key, value string }{
		{"number", l.Number}, {"name", l.Name}, {"channel", l.Channel},
	} {
		if req.value == "" && !p.has(join(path, req.key)) {
			p.add(n, join(path, req.key), "required")
		}
	}
	if l.OnCall == "" && !p.has(join(path, "on_call")) {
		for i, s := range cfg.EscalationFor(&l) {
			if s.Notify == "on_call" {
				where, from := escalationNode, join(path, "escalation")
				if l.Escalation == nil {
					where, from = n, "escalation"
				}
				p.add(where, join(path, "on_call"), "required by %s[%d] (notify: on_call)", from, i)
				break
			}
		}
	}
	return l
}

// hours reads a line's hours: "24/7", "closed" or a map of days to hours.
func (p *parser) hours(key string, n *yaml.Node) Hours {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(strings.TrimSpace(n.Value)) {
		case "24/7":
			return Hours{}
		case "closed":
			return Hours{set: true}
		}
		p.add(n, key, `%q is not "24/7", "closed" or a map of days to hours`, n.Value)
		return Hours{}
	}
	pairs := p.pairs(key, n)
	entries := make([]hoursEntry, 0, len(pairs))
	valid := make([]pair, 0, len(pairs))
	for _, e := range pairs {
		s, ok := p.str(join(key, e.key), e.value())
		if !ok {
			continue
		}
		entries = append(entries, hoursEntry{e.key, s})
		valid = append(valid, e)
	}
	return parseHours(entries, func(i int, msg string) {
		p.add(valid[i].keyNode, join(key, valid[i].key), "%s", msg)
	})
}

// rota reads `rota: {mon-fri: U1, sat: U2}` (by weekday) or
// `rota: [U1, U2, U3]` (round-robin).
func (p *parser) rota(key string, n *yaml.Node) Rota {
	var r Rota
	if resolve(n).Kind == yaml.SequenceNode {
		for i, item := range p.seq(key, n) {
			if s, ok := p.str(index(key, i), item); ok {
				if !slackIDRE.MatchString(s) || s[0] == 'S' {
					p.add(item, index(key, i), "%q is not a Slack user ID (U…)", s)
					continue
				}
				r.RoundRobin = append(r.RoundRobin, s)
			}
		}
		return r
	}
	r.ByDay = map[time.Weekday]string{}
	for _, e := range p.pairs(key, n) {
		k := join(key, e.key)
		days, ok := parseDays(e.key)
		if !ok {
			p.add(e.keyNode, k, "%q is not a day or range of days (mon, mon-fri, sat,sun)", e.key)
			continue
		}
		s, ok := p.str(k, e.value())
		if !ok {
			continue
		}
		if !slackIDRE.MatchString(s) || s[0] == 'S' {
			p.add(e.value(), k, "%q is not a Slack user ID (U…)", s)
			continue
		}
		for _, d := range days {
			if _, dup := r.ByDay[d]; dup {
				p.add(e.keyNode, k, "%s is in the rota twice", d)
			}
			r.ByDay[d] = s
		}
	}
	return r
}

// parseTimeOfDay reads "HH:MM".
func parseTimeOfDay(s string) (TimeOfDay, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return TimeOfDay{}, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return TimeOfDay{}, false
	}
	return TimeOfDay{hh, mm}, true
}
