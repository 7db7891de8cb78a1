package config

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

// QuietHours is the recipient's local window outside which texts that are
// not an immediate reply (a scheduled staff reply, any delayed or status
// text) wait. Where a US state's law is stricter, the bot narrows the
// window further for numbers of that state.
type QuietHours struct {
	// Off turns quiet hours off (quiet_hours.enabled: false). Zero is on:
	// a Config built in Go respects the window unless it says otherwise.
	Off bool
	// From and To bound the window, [From, To), in the recipient's time;
	// default 08:00–21:00 (the TCPA's calling hours).
	From, To TimeOfDay
}

// Defaults of the quiet_hours keys.
var (
	DefaultQuietFrom = TimeOfDay{Hour: 8}
	DefaultQuietTo   = TimeOfDay{Hour: 21}
)

// SetDefaults gives a window with neither end the default 08:00–21:00.
func (q *QuietHours) SetDefaults() {
	if q.From == (TimeOfDay{}) && q.To == (TimeOfDay{}) {
		q.From, q.To = DefaultQuietFrom, DefaultQuietTo
	}
}

// Window is the window as "08:00–21:00".
func (q QuietHours) Window() string { return q.From.String() + "–" + q.To.String() }

var quietWindowRE = regexp.MustCompile(`^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$`)

// quietHours reads `quiet_hours: {enabled: true, window: "08:00-21:00"}`
// over q (the business's, for a line).
func (p *parser) quietHours(key string, n *yaml.Node, q QuietHours) QuietHours {
	p.fields(key, n, map[string]func(string, *yaml.Node){
		"enabled": func(k string, v *yaml.Node) {
			var on bool
			if v.Kind != yaml.ScalarNode || v.Decode(&on) != nil {
				p.add(v, k, "must be true or false")
				return
			}
			q.Off = !on
		},
		"window": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if !ok {
				return
			}
			m := quietWindowRE.FindStringSubmatch(s)
			var from, to int
			fromOK, toOK := false, false
			if m != nil {
				from, fromOK = clock(m[1], m[2], false)
				to, toOK = clock(m[3], m[4], false)
			}
			switch {
			case !fromOK || !toOK:
				p.add(v, k, `%q is not "HH:MM-HH:MM"`, s)
			case from >= to:
				p.add(v, k, "%q ends before it starts (a window within one day)", s)
			default:
				q.From, q.To = TimeOfDay{from / 60, from % 60}, TimeOfDay{to / 60, to % 60}
			}
		},
	})
	return q
}
