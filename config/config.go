// Package config owns Ringback's settings: the environment (secrets, addresses)
// and the business file ringback.yaml (lines, hours, categories, escalation,
// templates), read and validated once at start. It also owns the two rules
// every other package relies on: phone numbers are E.164 inside Ringback, and
// business hours are wall-clock times in a line's IANA time zone.
//
// Nothing here is global: callers pass a *Config so tests can build their own.
package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Problem is one mistake in the configuration, at a key path such as
// "lines[1].hours.mon-fri".
type Problem struct{ Key, Message string }

func (p Problem) String() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// Problems is every mistake found, so an operator can fix a file in one pass.
// It is the error Load and Parse return.
type Problems []Problem

// Error puts one problem per line, each prefixed "config: ".
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("config: ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Config is the validated ringback.yaml. Phone numbers in it are E.164 and
// every cross-reference (triage to category, text-back to template) resolves.
type Config struct {
	Business   Business
	Managers   []string // Slack user IDs
	Digest     Digest
	Lines      []Line
	Categories []Category // in file order, which is the order staff see them
	Escalation []EscalationStep
	Templates  []Template
	Discord    Discord
	// AutoTriage triages cases from what callers say (auto_triage).
	AutoTriage AutoTriage
	// StaffGroup is a Slack user group (S…) whose members work cases
	// besides the members of the lines' channels ("": none).
	StaffGroup string
	Limits     Limits
	// Outbox sizes the side effects' workers (outbox).
	Outbox Outbox
	// Untriaged is the promise of a case without a category (untriaged),
	// for lines without their own.
	Untriaged Due
	// ManagerBatch is how often managers get the one message listing the
	// cases that need them (manager_batch, default 30m).
	ManagerBatch time.Duration
	// Webhooks are the outbound webhook subscriptions.
	Webhooks []Webhook

	defaulted bool // Parse or Defaults gave it its defaults
}

// Business is who the texts speak for and how local numbers are read.
// Discord holds the settings of the Discord adapter (all optional).
type Discord struct {
	Guild         string   // staff only in this server; /callbacks registered here
	StaffRole     string   // "" = every member of the server is staff
	DigestChannel string   // weekly digest and manager alerts
	Managers      []string // Discord user ids with managers' rights
}

type Business struct {
	Name        string
	Timezone    *time.Location // default for lines; UTC when absent
	Region      string         // ISO 3166 region for reading local numbers, e.g. "GB"
	BookingLink string
	QuietHours  QuietHours // default for lines
	// ClosedDates are days (YYYY-MM-DD, local) every line is closed:
	// holidays (closed_dates).
	ClosedDates []string
}

// Digest is where and when the weekly digest is posted, in the business's
// time zone. An empty Channel means no digest.
type Digest struct {
	Channel string
	Weekday time.Weekday // from at: "mon 08:00" (default Monday 08:00)
	At      TimeOfDay
	// Targets are what the digest's headline figures are held to.
	Targets Targets
}

// Targets are the digest's goals (digest.targets); percents are 0–100.
// The zero value of each reads as its default (DefaultTargets).
type Targets struct {
	TextBack90s float64       // text-back within 90 s, at least (default 95)
	TimeToClaim time.Duration // median time to claim, at most (default 10m)
	SLAMet      float64       // cases contacted within their category's contact_within, at least (default 90)
	ContactRate float64       // at least (default 80)
	Backlog     int           // cases open at the week's end, at most (default 10)
}

// DefaultTargets are the targets of a file that sets none.
var DefaultTargets = Targets{TextBack90s: 95, TimeToClaim: 10 * time.Minute, SLAMet: 90, ContactRate: 80, Backlog: 10}

// TimeOfDay is a wall-clock time.
type TimeOfDay struct{ Hour, Minute int }

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Line is one published phone number and how its missed calls are handled.
type Line struct {
	Number              string // E.164
	Name                string
	Channel             string
	Timezone            *time.Location // the line's own timezone: or Business.Timezone
	Hours               Hours
	Triage              map[string]string // reply digit -> category key
	TextBack            TextBack
	Ring                []string      // E.164, staff phones rung before voicemail
	RingTimeout         time.Duration // default 20s
	OnCall              string        // E.164, optional after-hours target
	MessagingServiceSID string        // optional Twilio Messaging Service (MG + 32 hex)
	// Escalation overrides the global policy when not nil; an explicit
	// empty list (escalation: []) turns escalation off for the line.
	Escalation []EscalationStep
	// OnDuty is the Slack user (U…) or user group (S…) mentioned in the
	// line's channel reminders; "" mentions @here.
	OnDuty string
	// DiscordChannel is the Discord channel id of the line's cards ("": none).
	DiscordChannel string
	// Rota pre-assigns the line's new cases ("owner of the day").
	Rota Rota
	// CategoryRota is the owner of the day per category on this line
	// (category_rota), before the category's own rota and Rota.
	CategoryRota map[string]Rota
	// ContactKinds route known callers by their kind (tenant, vendor…):
	// their own text-back, channel and rota (contact_kinds).
	ContactKinds map[string]KindRoute
	// QueueChecks are the local times of the daily queue post (default
	// 08:45 and 17:15; an empty list turns it off).
	QueueChecks []TimeOfDay
	// QuietHours is the line's own window, or Business.QuietHours.
	QuietHours QuietHours
	// ClosedDates are the local days (YYYY-MM-DD, sorted) the line is
	// closed: the business's closed dates and the line's own.
	ClosedDates []string
	// Untriaged is the line's promise for cases without a category; zero:
	// the config's.
	Untriaged Due
	// EscalateAfterHours says which cases run their clocks while the line
	// is closed (UrgentOnly or AllCases; "" is UrgentOnly); the others
	// start them at the next opening.
	EscalateAfterHours string
	// OnCallPages says which cases an escalation step may page the on-call
	// phone for (UrgentOnly or AllCases; "" is UrgentOnly); for the others
	// the step reminds the channel instead.
	OnCallPages string
	// StatusTexts are the approved templates that tell the caller where
	// their request stands (status_texts); off unless set.
	StatusTexts StatusTexts
	// Callback sizes the line's callback picker (callback).
	Callback Callback
}

// StatusTexts name the templates of the texts that keep a caller informed;
// an empty key sends nothing at that change.
type StatusTexts struct {
	// Claimed goes when somebody takes the case: "{{agent}} from
	// {{business}} has your request and will call you by {{due}}".
	Claimed string
	// CallbackSoon goes Callback.RemindBefore ahead of the slot a caller
	// picked, when the owner (or the channel) is reminded: "{{business}}
	// here: we'll call you at {{due}} as you asked". No {{agent}}: nobody
	// acts at that moment.
	CallbackSoon string
}

// Rota assigns new cases: a fixed person per weekday, or round-robin
// among a list. The zero Rota assigns nobody.
type Rota struct {
	ByDay      map[time.Weekday]string
	RoundRobin []string
}

// KindRoute is how a line treats callers of one contact kind; empty fields
// keep the line's own setting.
type KindRoute struct {
	TextBack       TextBack // only InHours/AfterHours are read
	Channel        string
	DiscordChannel string
	Rota           Rota
}

// Empty reports whether the rota assigns nobody.
func (r Rota) Empty() bool { return len(r.ByDay) == 0 && len(r.RoundRobin) == 0 }

// TextBack says which template answers a missed call. An empty key means no
// text-back in that period.
type TextBack struct {
	InHours, AfterHours string        // template keys
	Cooldown            time.Duration // no second text-back to a caller within this; default 12h
	Delay               time.Duration // wait before texting, so a quick call-back can win; default 0
}

// Category is a triage class and the response it promises.
type Category struct {
	Key           string
	Label         string
	ClaimWithin   time.Duration
	ContactWithin time.Duration
	Urgent        bool
	// Rota is the category's owner of the day on every line that has no
	// category_rota of its own for it.
	Rota Rota
}

// EscalationStep fires once per case (or every Repeat) After the case's first
// missed call while its condition When still holds.
type EscalationStep struct {
	After  time.Duration
	When   string        // "unclaimed" | "no_contact" | "overdue"
	Notify string        // "channel" | "owner" | "managers" | "on_call"
	Repeat time.Duration // 0 = once
	// AckWithin is how long an owner has to answer an owner reminder
	// ("Still on it") before the case returns to the queue; default 15m.
	AckWithin time.Duration
}

// Template is an approved SMS text. Variables are written {{name}}; see
// package templates.
type Template struct {
	Key string
	// Label is how staff see it in the Reply modal ("Viewing slots"); ""
	// reads the key.
	Label      string
	Text       string
	Categories []string // empty = any category
}

// Allows reports whether staff may send t on a case of the given category.
func (t *Template) Allows(category string) bool {
	if len(t.Categories) == 0 {
		return true
	}
	for _, c := range t.Categories {
		if c == category {
			return true
		}
	}
	return false
}

// Load reads and validates the file at path. When the file has mistakes the
// error is Problems, listing all of them.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data)
}

// Parse validates a ringback.yaml held in memory; see Load.
func Parse(data []byte) (*Config, error) {
	p := &parser{}
	cfg := p.parse(data)
	if len(p.probs) > 0 {
		return nil, p.sorted()
	}
	cfg.defaulted = true
	return cfg, nil
}

// Defaults gives every setting a Config built in Go leaves zero the value
// Parse gives a key the file leaves out (cooldown, ring timeout, queue
// checks, time zones, labels…; see the SetDefaults methods), so that a
// test's Config behaves as a parsed one. Zero reads as not set: a Config
// built in Go cannot turn the cooldown off. A Config from Parse or Load
// already has its defaults and is left as it is, so its "cooldown: 0s"
// stays off. Defaults returns c.
func (c *Config) Defaults() *Config {
	if c.defaulted {
		return c
	}
	c.defaulted = true
	c.Business.SetDefaults()
	c.Digest.SetDefaults()
	c.Limits.SetDefaults()
	c.Outbox.SetDefaults()
	c.Untriaged.SetDefaults()
	if c.ManagerBatch == 0 {
		c.ManagerBatch = DefaultManagerBatch
	}
	for i := range c.Categories {
		c.Categories[i].SetDefaults()
	}
	for i := range c.Escalation {
		c.Escalation[i].SetDefaults()
	}
	for i := range c.Lines {
		c.Lines[i].SetDefaults(c.Business)
	}
	return c
}

// LineByNumber finds the line published as e164.
func (c *Config) LineByNumber(e164 string) (*Line, bool) {
	return find(c.Lines, func(l *Line) bool { return l.Number == e164 })
}

// LineByName finds a line by name, ignoring case, as staff type it.
func (c *Config) LineByName(name string) (*Line, bool) {
	name = strings.TrimSpace(name)
	return find(c.Lines, func(l *Line) bool { return strings.EqualFold(l.Name, name) })
}

// Category finds a category by key.
func (c *Config) Category(key string) (*Category, bool) {
	return find(c.Categories, func(cat *Category) bool { return cat.Key == key })
}

// CategoryByName finds a category by key or label, ignoring case, as staff
// type it.
func (c *Config) CategoryByName(name string) (*Category, bool) {
	name = strings.TrimSpace(name)
	return find(c.Categories, func(cat *Category) bool {
		return strings.EqualFold(cat.Key, name) || strings.EqualFold(cat.Label, name)
	})
}

// Template finds a template by key.
func (c *Config) Template(key string) (*Template, bool) {
	return find(c.Templates, func(t *Template) bool { return t.Key == key })
}

// find is the first item that is, in place.
func find[T any](items []T, is func(*T) bool) (*T, bool) {
	for i := range items {
		if is(&items[i]) {
			return &items[i], true
		}
	}
	return nil, false
}

// IsManager reports whether the Slack user may use the manager verbs.
func (c *Config) IsManager(userID string) bool {
	return userID != "" && (slices.Contains(c.Managers, userID) || slices.Contains(c.Discord.Managers, userID))
}

// EscalationFor returns the policy that applies to cases on l: the line's own
// when it has one, the global one otherwise.
func (c *Config) EscalationFor(l *Line) []EscalationStep {
	if l != nil && l.Escalation != nil {
		return l.Escalation
	}
	return c.Escalation
}

// Normalize reads a phone number as dialled in the business's region and
// returns it in E.164.
func (c *Config) Normalize(raw string) (string, error) {
	return Normalize(raw, c.Business.Region)
}
