package config

import (
	"strings"
	"testing"
)

// quiet_hours defaults to 08:00–21:00; a line inherits the business's
// setting and may override one key of it.
func TestQuietHoursDefaultsAndLineOverride(t *testing.T) {
	cfg, err := Parse([]byte(`
business: {name: B, region: US, quiet_hours: {window: "09:00-20:30"}}
lines:
  - {number: "+14155550100", name: A, channel: C1}
  - {number: "+14155550101", name: B, channel: C2, quiet_hours: {enabled: false}}
  - {number: "+14155550102", name: C, channel: C3, quiet_hours: {window: "10:00-18:00"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if q := cfg.Business.QuietHours; q.Off || q.Window() != "09:00–20:30" {
		t.Errorf("business quiet hours = %+v", q)
	}
	want := []string{"on 09:00–20:30", "off 09:00–20:30", "on 10:00–18:00"}
	for i, l := range cfg.Lines {
		state := "on"
		if l.QuietHours.Off {
			state = "off"
		}
		if got := state + " " + l.QuietHours.Window(); got != want[i] {
			t.Errorf("lines[%d] quiet hours = %s, want %s", i, got, want[i])
		}
	}
	plain, err := Parse([]byte(`
business: {name: B, region: US}
lines: [{number: "+14155550100", name: A, channel: C1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if q := plain.Lines[0].QuietHours; q.Off || q.Window() != "08:00–21:00" {
		t.Errorf("default quiet hours = %+v", q)
	}
}

func TestQuietHoursMistakes(t *testing.T) {
	_, err := Parse([]byte(`
business: {name: B, region: US, quiet_hours: {window: "8am-9pm", enabled: maybe}}
lines: [{number: "+14155550100", name: A, channel: C1, quiet_hours: {window: "21:00-08:00"}}]
`))
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{
		`business.quiet_hours.window: "8am-9pm" is not "HH:MM-HH:MM"`,
		`business.quiet_hours.enabled: must be true or false`,
		`lines[0].quiet_hours.window: "21:00-08:00" ends before it starts`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}
