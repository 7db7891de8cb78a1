package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SetDefaults gives the settings b leaves zero the values Parse gives the
// keys a file leaves out: the time zone is UTC, quiet hours 08:00–21:00.
func (b *Business) SetDefaults() {
	if b.Timezone == nil {
		b.Timezone = time.UTC
	}
	b.QuietHours.SetDefaults()
}

// business reads the business section; key is its key node, nil if absent.
func (p *parser) business(key, n *yaml.Node) Business {
	var b Business
	b.SetDefaults()
	p.fields("business", n, map[string]func(string, *yaml.Node){
		"name": func(k string, v *yaml.Node) { b.Name, _ = p.str(k, v) },
		"timezone": func(k string, v *yaml.Node) {
			if loc := p.location(k, v); loc != nil {
				b.Timezone = loc
			}
		},
		"region": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if !ok || s == "" {
				return
			}
			s = strings.ToUpper(s)
			if !validRegion(s) {
				p.add(v, k, "%q is not a region code (ISO 3166, e.g. GB, US)", s)
				return
			}
			b.Region = s
		},
		"booking_link": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if ok && s != "" && !httpURL(s) {
				p.add(v, k, "%q is not an http(s) URL", s)
				return
			}
			b.BookingLink = s
		},
		"quiet_hours":  func(k string, v *yaml.Node) { b.QuietHours = p.quietHours(k, v, b.QuietHours) },
		"closed_dates": func(k string, v *yaml.Node) { b.ClosedDates = p.closedDates(k, v, nil) },
	})
	if b.Name == "" {
		p.add(key, "business.name", "required")
	}
	// Region is required rather than defaulted: guessing it would silently
	// misread every local number in the file and from callers.
	if b.Region == "" && !p.has("business.region") {
		p.add(key, "business.region", "required")
	}
	return b
}
