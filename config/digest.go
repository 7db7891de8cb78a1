package config

import (
	"regexp"
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
