package bot

import (
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"ringback/config"
)

// Quiet hours (DESIGN.md): a text that is not an immediate reply to the
// caller (a scheduled staff reply, any delayed or status text) reaches its
// recipient only inside their local window. The text-back to a missed call
// and the automatic replies to a caller's own text are immediate replies;
// urgent safety texts are exempt.

// stateRule is a US state whose law allows texts in a narrower window than
// the TCPA's 08:00–21:00.
type stateRule struct {
	Name     string // as phonenumbers' geocoder names the state
	From, To config.TimeOfDay
}

// stricterStates are applied on top of the configured window (the
// narrower of the two wins). Sources: Florida Telephone Solicitation Act,
// Fla. Stat. § 501.059(8)(a) (8 a.m.–8 p.m.); Maryland Stop the Spam Calls
// Act, Md. Code Com. Law § 14-4503 (8 a.m.–8 p.m.); Oklahoma Telephone
// Solicitation Act, 15 O.S. § 775C.4, held to 8 p.m. as the product asks
// (a narrower window is always lawful).
var stricterStates = map[string]stateRule{
	"FL": {Name: "Florida", From: config.TimeOfDay{Hour: 8}, To: config.TimeOfDay{Hour: 20}},
	"MD": {Name: "Maryland", From: config.TimeOfDay{Hour: 8}, To: config.TimeOfDay{Hour: 20}},
	"OK": {Name: "Oklahoma", From: config.TimeOfDay{Hour: 8}, To: config.TimeOfDay{Hour: 20}},
}

// maxNumberZones is how many time zones a number may map to and still be
// read as its own: more (a US toll-free number maps to forty) says nothing
// about where the recipient is, so the line's zone is used.
const maxNumberZones = 4

// SendWindow is when a text that is not an immediate reply may reach its
// recipient.
type SendWindow struct {
	// Allowed: now is inside the recipient's window (or quiet hours do not
	// apply), so the text may go now.
	Allowed bool
	// At is now when Allowed, else the window's next opening.
	At time.Time
	// Zone is the recipient's time zone: from the number, else the line's.
	Zone *time.Location
	// State is the US state whose stricter law narrowed the window ("FL"),
	// or "".
	State string
	// From and To are the window that applies, in Zone.
	From, To config.TimeOfDay
}

// Window is the window as "08:00–20:00".
func (w SendWindow) Window() string { return w.From.String() + "–" + w.To.String() }

// QuietHoursAt says whether a text to number on line may go at now, or when
// it may. Platform-free: it reads only the number and the line's settings.
func QuietHoursAt(number string, line *config.Line, now time.Time) SendWindow {
	q := line.QuietHours
	q.SetDefaults()
	lineZone := line.Timezone
	if lineZone == nil {
		lineZone = time.UTC
	}
	w := SendWindow{Allowed: true, At: now, Zone: lineZone, From: q.From, To: q.To}
	zones := []*time.Location{lineZone}
	if p, err := phonenumbers.Parse(number, ""); err == nil {
		if zs := numberZones(p, lineZone); len(zs) > 0 {
			zones, w.Zone = zs, zs[0]
		}
		if st := usState(p); st != "" {
			r := stricterStates[st]
			w.State = st
			w.From, w.To = later(w.From, r.From), earlier(w.To, r.To)
		}
	}
	if q.Off {
		return w
	}
	next, ok := opening(zones, w.From, w.To, now)
	if !ok && len(zones) > 1 {
		// The zones share no window (too far apart): the line's is the
		// best guess left.
		zones, w.Zone = []*time.Location{lineZone}, lineZone
		next, _ = opening(zones, w.From, w.To, now)
	}
	w.Allowed, w.At = next.Equal(now), next
	return w
}

// opening is the first instant at or after now that is inside [from, to)
// in every zone; ok is false when there is none within a few days.
func opening(zones []*time.Location, from, to config.TimeOfDay, now time.Time) (time.Time, bool) {
	t := now
	for range 2*len(zones) + 2 {
		moved := false
		for _, z := range zones {
			if next := openingIn(z, from, to, t); !next.Equal(t) {
				t, moved = next, true
			}
		}
		if !moved {
			return t, true
		}
	}
	return time.Time{}, false
}

// openingIn is t when it is inside [from, to) in zone, else the window's
// next opening there. Dates are built on the zone's wall clock, so a DST
// change between now and the opening moves nothing: 08:00 stays 08:00.
func openingIn(zone *time.Location, from, to config.TimeOfDay, t time.Time) time.Time {
	local := t.In(zone)
	minute := local.Hour()*60 + local.Minute()
	start, end := from.Hour*60+from.Minute, to.Hour*60+to.Minute
	if minute >= start && minute < end {
		return t
	}
	day := local
	if minute >= end {
		day = local.AddDate(0, 0, 1)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), from.Hour, from.Minute, 0, 0, zone)
}

// numberZones are the time zones of the number's area (area code or finer),
// the line's alone when it is among them (the caller is most likely
// local), none when the number says nothing useful.
func numberZones(p *phonenumbers.PhoneNumber, line *time.Location) []*time.Location {
	names, err := phonenumbers.GetTimezonesForNumber(p)
	if err != nil || len(names) > maxNumberZones {
		return nil
	}
	var zones []*time.Location
	for _, name := range names {
		if name == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if name == line.String() {
			return []*time.Location{line}
		}
		if z := zone(name); z != nil {
			zones = append(zones, z)
		}
	}
	return zones
}

var zones sync.Map // name → *time.Location

func zone(name string) *time.Location {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location)
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	zones.Store(name, z)
	return z
}

// usState is the stricter state (a key of stricterStates) of a US number,
// from phonenumbers' geocoder: "Miami, FL" or "Florida".
func usState(p *phonenumbers.PhoneNumber) string {
	if phonenumbers.GetRegionCodeForNumber(p) != "US" {
		return ""
	}
	place, err := phonenumbers.GetGeocodingForNumber(p, "en")
	if err != nil {
		return ""
	}
	if i := strings.LastIndex(place, ", "); i >= 0 {
		if _, ok := stricterStates[place[i+2:]]; ok {
			return place[i+2:]
		}
		return ""
	}
	for code, r := range stricterStates {
		if r.Name == place {
			return code
		}
	}
	return ""
}

func later(a, b config.TimeOfDay) config.TimeOfDay {
	if b.Hour*60+b.Minute > a.Hour*60+a.Minute {
		return b
	}
	return a
}

func earlier(a, b config.TimeOfDay) config.TimeOfDay {
	if b.Hour*60+b.Minute < a.Hour*60+a.Minute {
		return b
	}
	return a
}
