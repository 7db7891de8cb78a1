package config

import (
	"strings"
	"testing"
	"time"
)

const rotaBase = `business: {name: B, timezone: Europe/London, region: GB}
categories:
  other: {claim_within: 10m, contact_within: 30m}
escalation:
  - {after: 10m, when: unclaimed, notify: owner, ack_within: 20m}
  - {after: 30m, when: no_contact, notify: managers}
templates:
  - {key: t, text: "Hi from {{business}}"}
lines:
  - number: "+441632960001"
    name: A
    channel: C1
`

func TestRotaQueueCheckOnDuty(t *testing.T) {
	cfg, err := Parse([]byte(rotaBase + `    rota: {mon-fri: U0ALICE, sat: U0BOB}
    on_duty: S0LETTINGS
    queue_check: ["09:00"]
  - number: "+441632960002"
    name: B
    channel: C2
    rota: [U0ALICE, U0BOB]
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Lines[0], cfg.Lines[1]
	if a.Rota.ByDay[time.Wednesday] != "U0ALICE" || a.Rota.ByDay[time.Saturday] != "U0BOB" || a.Rota.ByDay[time.Sunday] != "" {
		t.Fatalf("rota by day = %v", a.Rota.ByDay)
	}
	if len(b.Rota.RoundRobin) != 2 || b.Rota.Empty() {
		t.Fatalf("round robin = %v", b.Rota.RoundRobin)
	}
	if a.OnDuty != "S0LETTINGS" || len(a.QueueChecks) != 1 || a.QueueChecks[0] != (TimeOfDay{9, 0}) {
		t.Fatalf("line A = %+v", a)
	}
	if len(b.QueueChecks) != 2 || b.QueueChecks[0] != (TimeOfDay{8, 45}) || b.QueueChecks[1] != (TimeOfDay{17, 15}) {
		t.Fatalf("default queue checks = %v", b.QueueChecks)
	}
	if cfg.Escalation[0].AckWithin != 20*time.Minute || cfg.Escalation[1].AckWithin != 15*time.Minute {
		t.Fatalf("ack_within = %v, %v", cfg.Escalation[0].AckWithin, cfg.Escalation[1].AckWithin)
	}
}

func TestRotaProblems(t *testing.T) {
	_, err := Parse([]byte(rotaBase + `    rota: {someday: U0ALICE, mon: alice}
    on_duty: "@lettings"
    queue_check: ["9am"]
`))
	for _, want := range []string{
		`lines[0].rota.someday: "someday" is not a day`,
		`lines[0].rota.mon: "alice" is not a Slack user ID`,
		`lines[0].on_duty: "@lettings" is not a Slack user`,
		`lines[0].queue_check[0]: "9am" is not HH:MM`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q: %v", want, err)
		}
	}
}

func TestDiscordSection(t *testing.T) {
	cfg, err := Parse([]byte(rotaBase + `    discord_channel: "1100000000000000001"
discord:
  guild: "1000000000000000001"
  staff_role: "1400000000000000001"
  digest_channel: "1100000000000000009"
  managers: ["1200000000000000003"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lines[0].DiscordChannel != "1100000000000000001" || cfg.Discord.DigestChannel != "1100000000000000009" || cfg.Discord.StaffRole == "" || cfg.Discord.Guild == "" {
		t.Fatalf("discord = %+v, line channel %q", cfg.Discord, cfg.Lines[0].DiscordChannel)
	}
	if !cfg.IsManager("1200000000000000003") || cfg.IsManager("1200000000000000004") || cfg.IsManager("") {
		t.Fatal("Discord managers are not managers")
	}
	_, err = Parse([]byte(rotaBase + `    discord_channel: "general"
discord: {managers: ["@boss"]}
`))
	for _, want := range []string{`lines[0].discord_channel: "general" is not a Discord channel id`, `discord.managers[0]: "@boss" is not a Discord id`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q: %v", want, err)
		}
	}
}

func TestStaffGroup(t *testing.T) {
	cfg, err := Parse([]byte("staff_group: S0STAFF\n" + rotaBase))
	if err != nil || cfg.StaffGroup != "S0STAFF" {
		t.Fatalf("staff_group = %q, %v", cfg.StaffGroup, err)
	}
	if _, err := Parse([]byte("staff_group: U0ALICE\n" + rotaBase)); err == nil || !strings.Contains(err.Error(), "staff_group: \"U0ALICE\" is not a Slack user group ID") {
		t.Fatalf("a user id accepted as a group: %v", err)
	}
}

func TestCategoryRotaContactKindsClosedDates(t *testing.T) {
	base := strings.Replace(rotaBase, "  other: {claim_within: 10m, contact_within: 30m}",
		"  other: {claim_within: 10m, contact_within: 30m, rota: [U0CARL]}\n  maintenance: {claim_within: 10m, contact_within: 30m}", 1)
	base = strings.Replace(base, "business: {name: B, timezone: Europe/London, region: GB}",
		"business: {name: B, timezone: Europe/London, region: GB, closed_dates: [\"2026-12-25\", \"2026-12-31..2027-01-01\"]}", 1)
	cfg, err := Parse([]byte(base + `    closed_dates: ["2026-12-24"]
    category_rota: {maintenance: {mon-fri: U0ALICE}}
    contact_kinds:
      vendor: {textback: {in_hours: t}, channel: C0VENDORS, discord_channel: "1100000000000000002", rota: [U0DAVE]}
  - number: "+441632960002"
    name: B
    channel: C2
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := &cfg.Lines[0], &cfg.Lines[1]
	if a.CategoryRota["maintenance"].ByDay[time.Monday] != "U0ALICE" {
		t.Fatalf("category_rota = %+v", a.CategoryRota)
	}
	if other, _ := cfg.Category("other"); len(other.Rota.RoundRobin) != 1 {
		t.Fatalf("category rota = %+v", other.Rota)
	}
	v := a.ContactKinds["vendor"]
	if v.TextBack.InHours != "t" || v.Channel != "C0VENDORS" || v.DiscordChannel == "" || v.Rota.RoundRobin[0] != "U0DAVE" {
		t.Fatalf("contact kind = %+v", v)
	}
	london, _ := time.LoadLocation("Europe/London")
	at := func(d string) time.Time { t, _ := time.ParseInLocation(time.DateTime, d, london); return t }
	for _, c := range []struct {
		line   *Line
		when   string
		closed bool
	}{
		{a, "2026-12-24 10:00:00", true}, {b, "2026-12-24 10:00:00", false},
		{a, "2026-12-25 00:30:00", true}, {b, "2026-12-25 23:59:00", true},
		{b, "2027-01-01 12:00:00", true}, {b, "2027-01-02 12:00:00", false},
	} {
		if got := c.line.ClosedOn(at(c.when)); got != c.closed {
			t.Errorf("%s closed on %s = %v", c.line.Name, c.when, got)
		}
	}
	if len(cfg.Business.ClosedDates) != 3 {
		t.Errorf("a line's date leaked into the business's: %v", cfg.Business.ClosedDates)
	}
}

func TestCategoryRotaContactKindsProblems(t *testing.T) {
	_, err := Parse([]byte(strings.Replace(rotaBase, "region: GB}", "region: GB, closed_dates: [\"25/12/2026\", \"2026-12-31..2026-12-01\"]}", 1) + `    category_rota: {plumbing: [U0ALICE]}
    contact_kinds:
      Vendor: {}
      tenant: {textback: {in_hours: nope}, channel: "#tenants"}
`))
	for _, want := range []string{
		`business.closed_dates[0]: "25/12/2026" is not a date`,
		`business.closed_dates[1]: "2026-12-31..2026-12-01" is not a date (2026-12-25) or a range of dates`,
		`lines[0].category_rota.plumbing: unknown category "plumbing"`,
		`lines[0].contact_kinds.Vendor: "Vendor" is not a contact kind`,
		`lines[0].contact_kinds.tenant.textback.in_hours: unknown template "nope"`,
		`lines[0].contact_kinds.tenant.channel: "#tenants" is not a Slack channel ID`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q: %v", want, err)
		}
	}
}

func TestRotaWarningsNameOpenDaysWithNobody(t *testing.T) {
	cfg, err := Parse([]byte(rotaBase + `    hours: {mon-fri: "09:00-17:30", sat: "10:00-14:00"}
    rota: {mon-fri: U0ALICE}
    category_rota: {other: {mon-sat: U0BOB}}
`))
	if err != nil {
		t.Fatal(err)
	}
	ws := cfg.RotaWarnings()
	if len(ws) != 1 || ws[0].String() != "lines[0].rota: nobody on sat, when the line opens: those days' cases are not assigned" {
		t.Fatalf("warnings = %v", ws)
	}
}
