package config

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SetDefaults gives a digest with neither day nor time the values Parse
// gives a file without digest.at: Monday 08:00. (In Go, Sunday 00:00 is
// the zero value and reads as not set.)
func (d *Digest) SetDefaults() {
	if d.Weekday == time.Sunday && d.At == (TimeOfDay{}) {
		d.Weekday, d.At = time.Monday, TimeOfDay{Hour: 8}
	}
	t, def := &d.Targets, DefaultTargets
	if t.TextBack90s == 0 {
		t.TextBack90s = def.TextBack90s
	}
	if t.TimeToClaim == 0 {
		t.TimeToClaim = def.TimeToClaim
	}
	if t.SLAMet == 0 {
		t.SLAMet = def.SLAMet
	}
	if t.ContactRate == 0 {
		t.ContactRate = def.ContactRate
	}
	if t.Backlog == 0 {
		t.Backlog = def.Backlog
	}
}

var percentRE = regexp.MustCompile(`^(\d{1,3}(?:\.\d+)?)\s*%?$`)

// targets reads digest.targets: percents as "95%" (or 95), the claim time
// as a duration, the backlog as a count.
func (p *parser) targets(n *yaml.Node, t *Targets) {
	percent := func(k string, v *yaml.Node, dst *float64) {
		s, ok := p.str(k, v)
		if !ok {
			return
		}
		m := percentRE.FindStringSubmatch(strings.TrimSpace(s))
		f := 0.0
		if m != nil {
			f, _ = strconv.ParseFloat(m[1], 64)
		}
		if m == nil || f <= 0 || f > 100 {
			p.add(v, k, "%q is not a percentage between 0 and 100 (like \"95%%\")", s)
			return
		}
		*dst = f
	}
	p.fields("digest.targets", n, map[string]func(string, *yaml.Node){
		"textback_within_90s": func(k string, v *yaml.Node) { percent(k, v, &t.TextBack90s) },
		"sla_met":             func(k string, v *yaml.Node) { percent(k, v, &t.SLAMet) },
		"contact_rate":        func(k string, v *yaml.Node) { percent(k, v, &t.ContactRate) },
		"time_to_claim": func(k string, v *yaml.Node) {
			if d, ok := p.duration(k, v); ok && d > 0 {
				t.TimeToClaim = d
			}
		},
		"backlog": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if !ok {
				return
			}
			b, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || b <= 0 {
				p.add(v, k, "%q is not a number of cases above 0", s)
				return
			}
			t.Backlog = b
		},
	})
}

var digestAtRE = regexp.MustCompile(`^([A-Za-z]+)\s+(\d{1,2}):(\d{2})$`)

// digest reads the optional digest section.
func (p *parser) digest(n *yaml.Node) Digest {
	var d Digest
	d.SetDefaults()
	if n == nil {
		return d
	}
	p.fields("digest", n, map[string]func(string, *yaml.Node){
		"channel": func(k string, v *yaml.Node) { d.Channel = p.slackChannel(k, v) },
		"targets": func(k string, v *yaml.Node) { p.targets(v, &d.Targets) },
		"at": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if !ok {
				return
			}
			m := digestAtRE.FindStringSubmatch(s)
			var day time.Weekday
			var minute int
			if m != nil {
				var dayOK, timeOK bool
				day, dayOK = parseDay(m[1])
				minute, timeOK = clock(m[2], m[3], false)
				if !dayOK || !timeOK {
					m = nil
				}
			}
			if m == nil {
				p.add(v, k, `%q is not "mon HH:MM"`, s)
				return
			}
			d.Weekday, d.At = day, TimeOfDay{Hour: minute / 60, Minute: minute % 60}
		},
	})
	if d.Channel == "" && !p.has("digest.channel") {
		p.add(n, "digest.channel", "required when digest is set")
	}
	return d
}
