package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	cfg, err := Load("../ringback.example.yaml")
	if err != nil {
		t.Fatalf("example has problems:\n%v", err)
	}

	if cfg.Business.Name != "Northside Lettings" || cfg.Business.Region != "GB" || cfg.Business.Timezone.String() != "Europe/London" {
		t.Errorf("business = %+v", cfg.Business)
	}
	var keys []string
	for _, c := range cfg.Categories {
		keys = append(keys, c.Key)
	}
	if want := []string{"viewing", "maintenance", "compliance", "urgent"}; !slices.Equal(keys, want) {
		t.Errorf("categories in order %v, want %v", keys, want)
	}
	if u, _ := cfg.Category("urgent"); !u.Urgent || u.ClaimWithin != 2*time.Minute || u.ContactWithin != 5*time.Minute {
		t.Errorf("urgent = %+v", u)
	}
	if cfg.Limits.RepeatReply != 30*time.Minute {
		t.Errorf("limits.repeat_reply = %s, want 30m", cfg.Limits.RepeatReply)
	}
	if cfg.Outbox != (Outbox{Retention: 7 * 24 * time.Hour}) {
		t.Errorf("outbox = %+v, want the defaults (retention 7 days, concurrency Ringback's)", cfg.Outbox)
	}
	for _, key := range []string{"textback_day", "textback_night", "viewing_slots", "maintenance_ack", "compliance_ack", "safety", "optout_confirm", "help", "callback_missed"} {
		if _, ok := cfg.Template(key); !ok {
			t.Errorf("template %q missing", key)
		}
	}
	if s, _ := cfg.Template("safety"); !strings.HasPrefix(s.Text, "If anyone is in danger call 999 now.") || !slices.Equal(s.Categories, []string{"urgent"}) {
		t.Errorf("safety = %+v", s)
	}
	if cfg.Digest != (Digest{Channel: "C0DIGEST", Weekday: time.Monday, At: TimeOfDay{8, 0}, Targets: DefaultTargets}) {
		t.Errorf("digest = %+v", cfg.Digest)
	}

	lettings, ok := cfg.LineByNumber("+441632960001")
	if !ok || lettings.Name != "Lettings" || lettings.Channel != "C0LETTINGS" {
		t.Fatalf("LineByNumber(lettings) = %+v, %v", lettings, ok)
	}
	if lettings.RingTimeout != 18*time.Second || lettings.TextBack.Cooldown != 12*time.Hour {
		t.Errorf("lettings timings = %v, %v", lettings.RingTimeout, lettings.TextBack.Cooldown)
	}
	if lettings.Triage["9"] != "urgent" {
		t.Errorf("lettings triage = %v", lettings.Triage)
	}
	maint, ok := cfg.LineByName("MAINTENANCE")
	if !ok || maint.Number != "+441632960002" || maint.OnCall != "+447700900999" {
		t.Fatalf("LineByName(MAINTENANCE) = %+v, %v", maint, ok)
	}
	if maint.Triage["2"] != "maintenance" {
		t.Errorf("maintenance triage (from the anchor) = %v", maint.Triage)
	}
	if got := cfg.EscalationFor(lettings); !slices.Equal(got, cfg.Escalation) || len(got) != 3 {
		t.Errorf("lettings escalation = %v, want the global %v", got, cfg.Escalation)
	}
	if got := cfg.EscalationFor(maint); len(got) != 4 || got[1].Notify != "on_call" || got[1].Repeat != 15*time.Minute {
		t.Errorf("maintenance escalation = %v, want its own four steps", got)
	}
	// Tuesday 2026-11-17 10:00 London is open; 18:00 is after hours.
	if !lettings.InHours(time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)) || lettings.InHours(time.Date(2026, 11, 17, 18, 0, 0, 0, time.UTC)) {
		t.Error("lettings hours not applied")
	}
	if !cfg.IsManager("U0MANAGER1") || cfg.IsManager("U0SOMEONE") {
		t.Error("IsManager")
	}
	if n, err := cfg.Normalize("07700 900001"); err != nil || n != "+447700900001" {
		t.Errorf("Normalize = %q, %v", n, err)
	}
}

// problemsOf parses yaml and returns its problems as strings.
func problemsOf(t *testing.T, yaml string) []string {
	t.Helper()
	_, err := Parse([]byte(yaml))
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestParseBrokenFileReportsEveryProblem(t *testing.T) {
	broken := `
business:
  timezone: Europe/Londn
  region: GB
managers: [U0MANAGER1]
digest: {channel: C0DIGEST, at: "monday 8am"}
lnies: []
lines:
  - number: "12"
    name: Lettings
    hours: {mon-fri: "9-5", sat: "10:00-14:00", fri: "10:00-12:00"}
    triage: {"1": viewing, "2": maintenence}
    textback: {in_hours: textback_dya}
    ring_timeout: 2s
    messaging_service_sid: MG123
  - number: "+44 1632 960001"
    name: lettings
    channel: C0LETTINGS
  - number: "01632 960001"
    name: Other
    channel: C0OTHER
    nmae: typo
categories:
  viewing: {label: Viewing, claim_within: 10m, contact_within: 15m}
  urgent: {label: Urgent, claim_within: 2 minutes, contact_within: 5m, urgent: true}
escalation:
  - {after: 10m, when: unclamed, notify: channel}
  - {after: 30m, when: no_contact, notify: boss}
templates:
  - key: hello
    text: "Hi from {{business}}, {{something}} here"
  - key: hello
    text: ""
  - key: booking
    categories: [viewings]
    text: "Book at {{booking_link}}"
`
	got := problemsOf(t, broken)
	want := []string{
		`business.name: required`,
		`business.timezone: "Europe/Londn" is not an IANA time zone (e.g. Europe/London)`,
		`digest.at: "monday 8am" is not "mon HH:MM"`,
		`lnies: unknown key (known: auto_triage, business, categories, digest, discord, escalation, limits, lines, manager_batch, managers, outbox, staff_group, templates, untriaged, webhooks)`,
		`lines[0].number: "12" is not a phone number`,
		`lines[0].channel: required`,
		`lines[0].hours.mon-fri: "9-5" is not HH:MM-HH:MM`,
		`lines[0].hours.fri: fri listed twice`,
		`lines[0].triage.2: unknown category "maintenence"`,
		`lines[0].textback.in_hours: unknown template "textback_dya"`,
		`lines[0].ring_timeout: 2s is outside 5s to 10m0s (Twilio's limits)`,
		`lines[0].messaging_service_sid: "MG123" is not a Messaging Service SID (MG and 32 hex digits)`,
		`lines[1].name: "lettings" is also lines[0].name`,
		`lines[2].number: "+441632960001" is also lines[1].number`,
		`lines[2].nmae: unknown key (known: callback, category_rota, channel, closed_dates, contact_kinds, discord_channel, escalate_after_hours, escalation, hours, messaging_service_sid, name, number, on_call, on_call_pages, on_duty, queue_check, quiet_hours, ring, ring_timeout, rota, status_texts, textback, timezone, triage, untriaged)`,
		`categories.urgent.claim_within: "2 minutes" is not a duration`,
		`escalation[0].when: "unclamed" is not one of unclaimed, no_contact, overdue`,
		`escalation[1].notify: "boss" is not one of channel, owner, managers, on_call`,
		`templates[0].text: unknown variable {{something}} (known: business, line, caller_name, agent, booking_link, case_number, callback_number, callback_link, due)`,
		`templates[1].key: "hello" is also templates[0]`,
		`templates[1].text: required`,
		`templates[2].categories[0]: unknown category "viewings"`,
		`templates[2].text: uses {{booking_link}} but business.booking_link is not set`,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing problem %s", w)
		}
	}
	// Problems come in file order so they read top to bottom.
	if !slices.Equal(got, want) {
		t.Errorf("got problems:\n%s\nwant, in this order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProblemsError(t *testing.T) {
	_, err := Parse([]byte("business: {region: GB}\nlines: [{number: '+441632960001', name: A, channel: C1}]\n"))
	if err == nil {
		t.Fatal("want an error for the missing business name")
	}
	if got, want := err.Error(), "config: business.name: required"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	ps := Problems{{Key: "a", Message: "one"}, {Key: "b", Message: "two"}, {Message: "yaml: bad"}}
	if got, want := ps.Error(), "config: a: one\nconfig: b: two\nconfig: yaml: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// minimal is the smallest valid file; cases below add to it.
const minimal = `
business: {name: Acme, region: US, timezone: America/New_York}
lines:
  - number: "(555) 123-4567"
    name: Main
    channel: C0MAIN
`

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{"defaults", minimal, func(t *testing.T, c *Config) {
			l := c.Lines[0]
			if l.Number != "+15551234567" {
				t.Errorf("number = %q", l.Number)
			}
			if l.Timezone.String() != "America/New_York" {
				t.Errorf("line timezone = %v, want the business's", l.Timezone)
			}
			if l.RingTimeout != 20*time.Second || l.TextBack.Cooldown != 12*time.Hour || l.TextBack.Delay != 0 {
				t.Errorf("defaults = %v %v %v", l.RingTimeout, l.TextBack.Cooldown, l.TextBack.Delay)
			}
			if l.Hours.String() != "24/7" || !l.InHours(time.Date(2026, 1, 4, 3, 0, 0, 0, time.UTC)) {
				t.Errorf("absent hours = %v, want 24/7", l.Hours)
			}
			if c.Digest != (Digest{Weekday: time.Monday, At: TimeOfDay{8, 0}, Targets: DefaultTargets}) {
				t.Errorf("digest = %+v", c.Digest)
			}
			if c.EscalationFor(&l) != nil {
				t.Errorf("escalation = %v, want none", c.EscalationFor(&l))
			}
		}},
		{"no timezone means UTC", "business: {name: Acme, region: US}\nlines: [{number: '+15551234567', name: M, channel: C}]", func(t *testing.T, c *Config) {
			if c.Business.Timezone != time.UTC || c.Lines[0].Timezone != time.UTC {
				t.Errorf("timezone = %v / %v", c.Business.Timezone, c.Lines[0].Timezone)
			}
		}},
		{"line overrides timezone, durations with days", minimal + `    timezone: Europe/London
    hours: "24/7"
    textback: {cooldown: 1d, delay: 30s}
    ring: "555 000 1111"
    on_call: "+44 7700 900999"
    messaging_service_sid: MG0123456789abcdef0123456789ABCDEF
    escalation: []
escalation:
  - {after: 2d12h, when: overdue, notify: managers, repeat: 1d}
`, func(t *testing.T, c *Config) {
			l := &c.Lines[0]
			if l.Timezone.String() != "Europe/London" || l.TextBack.Cooldown != 24*time.Hour || l.TextBack.Delay != 30*time.Second {
				t.Errorf("line = %+v", l)
			}
			if !slices.Equal(l.Ring, []string{"+15550001111"}) || l.OnCall != "+447700900999" {
				t.Errorf("ring %v on_call %q", l.Ring, l.OnCall)
			}
			if c.Escalation[0].After != 60*time.Hour || c.Escalation[0].Repeat != 24*time.Hour {
				t.Errorf("escalation = %+v", c.Escalation)
			}
			if got := c.EscalationFor(l); got == nil || len(got) != 0 {
				t.Errorf("escalation: [] should switch escalation off, got %v", got)
			}
		}},
		{"merge keys share settings", `
business: {name: Acme, region: GB}
lines:
  - &first {number: "+441632960001", name: A, channel: C1, hours: {mon-fri: "09:00-17:00"}}
  - {<<: *first, number: "+441632960002", name: B}
`, func(t *testing.T, c *Config) {
			b := c.Lines[1]
			if b.Number != "+441632960002" || b.Name != "B" || b.Channel != "C1" || b.Hours.String() != "mon-fri 09:00-17:00" {
				t.Errorf("merged line = %+v", b)
			}
		}},
		{"categories label defaults to key", minimal + "categories:\n  other: {claim_within: 1h, contact_within: 1d}\n", func(t *testing.T, c *Config) {
			if cat, ok := c.Category("other"); !ok || cat.Label != "other" || cat.ContactWithin != 24*time.Hour {
				t.Errorf("category = %+v", cat)
			}
		}},
		{"digest at", minimal + "digest: {channel: C0D, at: \"fri 17:45\"}\n", func(t *testing.T, c *Config) {
			if c.Digest.Weekday != time.Friday || c.Digest.At != (TimeOfDay{17, 45}) || c.Digest.At.String() != "17:45" {
				t.Errorf("digest = %+v", c.Digest)
			}
		}},
		{"template categories", minimal + `categories:
  a: {claim_within: 1m, contact_within: 2m}
templates:
  - {key: t1, text: "hi {{ agent }}", categories: [a]}
  - {key: t2, text: "hi"}
`, func(t *testing.T, c *Config) {
			t1, _ := c.Template("t1")
			t2, _ := c.Template("t2")
			if !t1.Allows("a") || t1.Allows("b") || !t2.Allows("b") {
				t.Errorf("Allows wrong for %+v %+v", t1, t2)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"syntax error", "business: [", "yaml: line 1: did not find expected node content"},
		{"empty file", "", "business.name: required"},
		{"region required", "business: {name: A}\nlines: [{number: '+15551234567', name: M, channel: C}]", "business.region: required"},
		{"bad region", "business: {name: A, region: UK}", `business.region: "UK" is not a region code (ISO 3166, e.g. GB, US)`},
		{"no lines", "business: {name: A, region: US}", "lines: at least one line is required"},
		{"local-only number", minimal + "    on_call: 123-4567\n", `lines[0].on_call: "123-4567" is not a phone number`},
		{"bad ring entry", minimal + "    ring: [\"+15550001111\", nope]\n", `lines[0].ring[1]: "nope" is not a phone number`},
		{"line timezone", minimal + "    timezone: Mars/Olympus\n", `lines[0].timezone: "Mars/Olympus" is not an IANA time zone (e.g. Europe/London)`},
		{"hours not a map", minimal + "    hours: 9-5\n", `lines[0].hours: "9-5" is not "24/7", "closed" or a map of days to hours`},
		{"bad day", minimal + "    hours: {weekdays: \"09:00-17:00\"}\n", `lines[0].hours.weekdays: "weekdays" is not a day (mon…sun), a range (mon-fri) or a list (mon,wed)`},
		{"bad time", minimal + "    hours: {mon: \"09:00-25:00\"}\n", `lines[0].hours.mon: "09:00-25:00" is not a time of day`},
		{"empty range", minimal + "    hours: {mon: \"09:00-09:00\"}\n", `lines[0].hours.mon: "09:00-09:00" is empty`},
		{"triage key", minimal + "    triage: {x: viewing}\n", `lines[0].triage.x: "x" is not a single digit`},
		{"textback typo", minimal + "    textback: {in_hour: t}\n", `lines[0].textback.in_hour: unknown key (known: after_hours, cooldown, delay, in_hours)`},
		{"negative duration", minimal + "    textback: {delay: -5m}\n", `lines[0].textback.delay: "-5m" is negative`},
		{"on_call needed by escalation", minimal + "escalation: [{after: 1m, when: unclaimed, notify: on_call}]\n", `lines[0].on_call: required by escalation[0] (notify: on_call)`},
		{"escalation step incomplete", minimal + "escalation: [{when: overdue}]\n", "escalation[0].after: required"},
		{"category missing promise", minimal + "categories: {a: {label: A}}\n", "categories.a.contact_within: required"},
		{"urgent not bool", minimal + "categories: {a: {claim_within: 1m, contact_within: 1m, urgent: maybe}}\n", `categories.a.urgent: "maybe" is not true or false`},
		{"unbalanced braces", minimal + "templates: [{key: a, text: \"hi {{agent}\"}]\n", "templates[0].text: has an unmatched {{ or }}"},
		{"template key missing", minimal + "templates: [{text: hi}]\n", "templates[0].key: required"},
		{"digest without channel", minimal + "digest: {at: \"mon 08:00\"}\n", "digest.channel: required when digest is set"},
		{"repeated key", minimal + "business: {name: B}\n", "business: key is repeated"},
		{"booking link", "business: {name: A, region: US, booking_link: example.com}", `business.booking_link: "example.com" is not an http(s) URL`},
		{"limits typo", minimal + "limits: {repeat: 5m}\n", `limits.repeat: unknown key (known: repeat_reply, thread_batch)`},
		{"limits negative", minimal + "limits: {repeat_reply: -5m}\n", `limits.repeat_reply: "-5m" is negative`},
		{"outbox typo", minimal + "outbox: {sms: 5}\n", `outbox.sms: unknown key (known: chat_concurrency, retention, sms_concurrency)`},
		{"outbox concurrency", minimal + "outbox: {sms_concurrency: 0}\n", `outbox.sms_concurrency: "0" is not a whole number from 1 to 10000`},
		{"outbox retention", minimal + "outbox: {retention: 5m}\n", `outbox.retention: must be at least 24h (a done row's key keeps its work from being queued again)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problemsOf(t, tt.yaml)
			if !slices.Contains(got, tt.want) {
				t.Errorf("problems:\n%s\nwant among them: %s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(t.TempDir() + "/nope.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load(missing) = %v, want a config: error", err)
	}
}

func TestParseOutbox(t *testing.T) {
	cfg, err := Parse([]byte(minimal + "outbox: {sms_concurrency: 96, chat_concurrency: 48, retention: 72h}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Outbox{SMSConcurrency: 96, ChatConcurrency: 48, Retention: 72 * time.Hour}); cfg.Outbox != want {
		t.Errorf("outbox = %+v, want %+v", cfg.Outbox, want)
	}
}

// The digest's targets have defaults, and a file may set each.
func TestDigestTargets(t *testing.T) {
	base := "business: {name: B, region: GB}\nlines: [{number: \"+441632960001\", name: L, channel: C1}]\n"
	cfg, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Digest.Targets != DefaultTargets {
		t.Errorf("default targets = %+v", cfg.Digest.Targets)
	}
	cfg, err = Parse([]byte(base + "digest: {channel: C0D, targets: {textback_within_90s: \"98%\", time_to_claim: 5m, sla_met: 85, backlog: 3}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Targets{TextBack90s: 98, TimeToClaim: 5 * time.Minute, SLAMet: 85, ContactRate: 80, Backlog: 3}
	if cfg.Digest.Targets != want {
		t.Errorf("targets = %+v, want %+v", cfg.Digest.Targets, want)
	}
	_, err = Parse([]byte(base + "digest: {channel: C0D, targets: {contact_rate: \"180%\", backlog: none}}\n"))
	if err == nil || !strings.Contains(err.Error(), "digest.targets.contact_rate") || !strings.Contains(err.Error(), "digest.targets.backlog") {
		t.Errorf("bad targets: %v", err)
	}
}
