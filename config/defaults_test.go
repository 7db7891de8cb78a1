package config

import (
	"reflect"
	"testing"
	"time"
)

// A Config built in Go and given its defaults equals the same settings
// parsed from a file: every key the file leaves out gets the same value.
func TestDefaultsOfAConfigBuiltInGo(t *testing.T) {
	parsed, err := Parse([]byte(`
business: {name: Northside Lettings, region: GB}
digest: {channel: C0DIGEST}
categories:
  viewing: {claim_within: 10m, contact_within: 15m}
escalation:
  - {after: 10m, when: unclaimed, notify: channel}
lines:
  - number: "+441632960001"
    name: Lettings
    channel: C0LETTINGS
    escalation: [{after: 30m, when: no_contact, notify: owner}]
`))
	if err != nil {
		t.Fatal(err)
	}
	built := &Config{
		Business:   Business{Name: "Northside Lettings", Region: "GB"},
		Digest:     Digest{Channel: "C0DIGEST"},
		Categories: []Category{{Key: "viewing", ClaimWithin: 10 * time.Minute, ContactWithin: 15 * time.Minute}},
		Escalation: []EscalationStep{{After: 10 * time.Minute, When: "unclaimed", Notify: "channel"}},
		Lines: []Line{{
			Number: "+441632960001", Name: "Lettings", Channel: "C0LETTINGS",
			Escalation: []EscalationStep{{After: 30 * time.Minute, When: "no_contact", Notify: "owner"}},
		}},
	}
	if reflect.DeepEqual(built, parsed) {
		t.Fatal("a Config built in Go equals a parsed one before Defaults: the test proves nothing")
	}
	if got := built.Defaults(); got != built || !reflect.DeepEqual(built, parsed) {
		t.Errorf("built in Go, with defaults:\n%+v\nparsed:\n%+v", *built, *parsed)
	}

	l := built.Lines[0]
	if l.TextBack.Cooldown != 12*time.Hour || l.RingTimeout != 20*time.Second || l.Timezone != time.UTC ||
		!reflect.DeepEqual(l.QueueChecks, []TimeOfDay{{8, 45}, {17, 15}}) || l.Escalation[0].AckWithin != 15*time.Minute {
		t.Errorf("line defaults: %+v", l)
	}
	if built.Categories[0].Label != "viewing" || built.Escalation[0].AckWithin != 15*time.Minute ||
		built.Digest.Weekday != time.Monday || built.Digest.At != (TimeOfDay{8, 0}) {
		t.Errorf("defaults: %+v", *built)
	}
}

// What a Config sets is kept; a line's time zone defaults to the business's.
func TestDefaultsKeepWhatIsSet(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cfg := (&Config{
		Business: Business{Timezone: ny},
		Lines: []Line{
			{RingTimeout: 30 * time.Second, TextBack: TextBack{Cooldown: time.Hour}, QueueChecks: []TimeOfDay{}},
			{},
		},
	}).Defaults()
	if l := cfg.Lines[0]; l.RingTimeout != 30*time.Second || l.TextBack.Cooldown != time.Hour || l.QueueChecks == nil || len(l.QueueChecks) != 0 {
		t.Errorf("set values changed: %+v", l)
	}
	if cfg.Lines[1].Timezone != ny {
		t.Errorf("line time zone %v, want the business's", cfg.Lines[1].Timezone)
	}
}

// A parsed Config keeps what its file says, even a zero the defaults would
// fill in a Config built in Go.
func TestDefaultsLeaveAParsedConfig(t *testing.T) {
	cfg, err := Parse([]byte(`
business: {name: B, region: GB}
digest: {channel: C0DIGEST, at: "sun 00:00"}
lines: [{number: "+441632960001", name: L, channel: C1, textback: {cooldown: 0s}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Defaults()
	if cfg.Lines[0].TextBack.Cooldown != 0 || cfg.Digest.Weekday != time.Sunday || cfg.Digest.At != (TimeOfDay{}) {
		t.Errorf("after Defaults: cooldown %v, digest %+v", cfg.Lines[0].TextBack.Cooldown, cfg.Digest)
	}
}
