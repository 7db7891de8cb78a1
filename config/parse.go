package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The file is walked as a yaml.Node tree rather than decoded into structs so
// that every problem gets a key path, unknown keys are caught at any depth,
// categories keep their file order, and one mistake does not hide the next.

// parser collects problems while it builds a Config.
type parser struct {
	probs Problems
	at    []int // source line of each problem, to list them in file order
}

func (p *parser) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.probs = append(p.probs, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	p.at = append(p.at, line)
}

// sorted returns the problems in the order their keys appear in the file.
func (p *parser) sorted() Problems {
	idx := make([]int, len(p.probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p.at[idx[a]] < p.at[idx[b]] })
	out := make(Problems, len(idx))
	for i, j := range idx {
		out[i] = p.probs[j]
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

type pair struct {
	key      string
	keyNode  *yaml.Node
	valueRaw *yaml.Node
}

func (e pair) value() *yaml.Node { return resolve(e.valueRaw) }

// pairs lists a mapping's entries in file order. YAML merge keys (<<: *anchor)
// are expanded so operators can share settings between lines with anchors.
func (p *parser) pairs(path string, n *yaml.Node) []pair {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "must be a map of keys to values")
		return nil
	}
	var out, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			src := resolve(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, m := range src.Content {
					merged = append(merged, p.pairs(path, m)...)
				}
			} else {
				merged = append(merged, p.pairs(path, src)...)
			}
			continue
		}
		key := strings.TrimSpace(k.Value)
		if seen[key] {
			p.add(k, join(path, key), "key is repeated")
			continue
		}
		seen[key] = true
		out = append(out, pair{key, k, v})
	}
	for _, m := range merged {
		if !seen[m.key] {
			seen[m.key] = true
			out = append(out, m)
		}
	}
	return out
}

// fields walks a mapping with a fixed set of keys: each present, non-empty
// key's handler runs with its full path; any other key is a problem (typo
// protection). It returns the entries it walked.
func (p *parser) fields(path string, n *yaml.Node, handlers map[string]func(key string, v *yaml.Node)) []pair {
	pairs := p.pairs(path, n)
	for _, e := range pairs {
		h, ok := handlers[e.key]
		if !ok {
			known := make([]string, 0, len(handlers))
			for k := range handlers {
				known = append(known, k)
			}
			sort.Strings(known)
			p.add(e.keyNode, join(path, e.key), "unknown key (known: %s)", strings.Join(known, ", "))
			continue
		}
		if isNull(e.valueRaw) {
			continue
		}
		h(join(path, e.key), e.value())
	}
	return pairs
}

// str reads a single scalar value, trimmed.
func (p *parser) str(key string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.add(n, key, "must be a single value, not a list or map")
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// seq returns the items of a list; a lone value is read as a list of one.
func (p *parser) seq(key string, n *yaml.Node) []*yaml.Node {
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = resolve(c)
		}
		return out
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	}
	p.add(n, key, "must be a list")
	return nil
}

func (p *parser) duration(key string, n *yaml.Node) (time.Duration, bool) {
	s, ok := p.str(key, n)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		p.add(n, key, "%s", err)
		return 0, false
	}
	return d, true
}

func (p *parser) phone(key string, n *yaml.Node, region string) string {
	s, ok := p.str(key, n)
	if !ok {
		return ""
	}
	e164, ok := normalize(s, region)
	if !ok {
		p.add(n, key, "%s", notPhone(s))
	}
	return e164
}

func (p *parser) location(key string, n *yaml.Node) *time.Location {
	s, ok := p.str(key, n)
	if !ok || s == "" {
		return nil
	}
	// "Local" would make hours depend on the server's clock settings.
	loc, err := time.LoadLocation(s)
	if err != nil || s == "Local" {
		p.add(n, key, "%q is not an IANA time zone (e.g. Europe/London)", s)
		return nil
	}
	return loc
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parse builds the Config from data, recording problems on p.
func (p *parser) parse(data []byte) *Config {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.add(nil, "", "%s", err)
		return nil
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	sections := map[string]*yaml.Node{}
	keep := func(key string, v *yaml.Node) { sections[key] = v }
	top := p.fields("", root, map[string]func(string, *yaml.Node){
		"business": keep, "managers": keep, "digest": keep, "lines": keep,
		"categories": keep, "escalation": keep, "templates": keep, "discord": keep, "staff_group": keep,
	})
	// "required" problems of a section are placed at its key's line, before
	// the problems inside it.
	var businessKey *yaml.Node
	for _, e := range top {
		if e.key == "business" {
			businessKey = e.keyNode
		}
	}

	// Sections are read in dependency order, not file order: lines refer to
	// categories, templates and the business's region and time zone.
	cfg := &Config{}
	cfg.Business = p.business(businessKey, sections["business"])
	cfg.Categories = p.categories(sections["categories"])
	cfg.Templates = p.templates(sections["templates"], cfg)
	if n := sections["escalation"]; n != nil {
		cfg.Escalation = p.escalation("escalation", n)
	}
	cfg.Lines = p.lines(root, sections["lines"], cfg)
	cfg.Managers = p.managers(sections["managers"])
	cfg.Digest = p.digest(sections["digest"])
	cfg.Discord = p.discord(sections["discord"])
	if n := sections["staff_group"]; n != nil {
		if g, ok := p.str("staff_group", n); ok {
			if !slackIDRE.MatchString(g) || g[0] != 'S' {
				p.add(n, "staff_group", "%q is not a Slack user group ID (S…)", g)
			} else {
				cfg.StaffGroup = g
			}
		}
	}
	return cfg
}

var snowflakeYAML = regexp.MustCompile(`^[0-9]{15,21}$`)

// discord reads the optional discord section: ids are Discord snowflakes.
func (p *parser) discord(n *yaml.Node) Discord {
	var d Discord
	id := func(k string, v *yaml.Node, dst *string) {
		s, ok := p.str(k, v)
		if ok && !snowflakeYAML.MatchString(s) {
			p.add(v, k, "%q is not a Discord id (15 to 21 digits)", s)
			return
		}
		*dst = s
	}
	p.fields("discord", n, map[string]func(string, *yaml.Node){
		"guild":          func(k string, v *yaml.Node) { id(k, v, &d.Guild) },
		"staff_role":     func(k string, v *yaml.Node) { id(k, v, &d.StaffRole) },
		"digest_channel": func(k string, v *yaml.Node) { id(k, v, &d.DigestChannel) },
		"managers": func(k string, v *yaml.Node) {
			for i, item := range p.seq(k, v) {
				var m string
				id(index(k, i), item, &m)
				if m != "" {
					d.Managers = append(d.Managers, m)
				}
			}
		},
	})
	return d
}

// business reads the business section; key is its key node, nil if absent.
func (p *parser) business(key, n *yaml.Node) Business {
	b := Business{Timezone: time.UTC}
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

// has reports whether a problem was already recorded at key.
func (p *parser) has(key string) bool {
	for _, pr := range p.probs {
		if pr.Key == key {
			return true
		}
	}
	return false
}

var categoryKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (p *parser) categories(n *yaml.Node) []Category {
	var out []Category
	for _, e := range p.pairs("categories", n) {
		path := join("categories", e.key)
		c := Category{Key: e.key}
		if !categoryKeyRE.MatchString(e.key) {
			p.add(e.keyNode, path, "%q is not a key (letters, digits, _ and -)", e.key)
		}
		var claim, contact bool
		p.fields(path, e.value(), map[string]func(string, *yaml.Node){
			"label": func(k string, v *yaml.Node) { c.Label, _ = p.str(k, v) },
			"claim_within": func(k string, v *yaml.Node) {
				c.ClaimWithin, _ = p.duration(k, v)
				claim = true
			},
			"contact_within": func(k string, v *yaml.Node) {
				c.ContactWithin, _ = p.duration(k, v)
				contact = true
			},
			"urgent": func(k string, v *yaml.Node) {
				if err := v.Decode(&c.Urgent); err != nil {
					p.add(v, k, "%q is not true or false", v.Value)
				}
			},
		})
		// Every category states its promise: due times and the overdue
		// escalation are computed from these.
		if !claim {
			p.add(e.keyNode, join(path, "claim_within"), "required")
		}
		if !contact {
			p.add(e.keyNode, join(path, "contact_within"), "required")
		}
		if c.Label == "" {
			c.Label = c.Key
		}
		out = append(out, c)
	}
	return out
}

var (
	variableRE  = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
	knownWhen   = []string{"unclaimed", "no_contact", "overdue"}
	knownNotify = []string{"channel", "owner", "managers", "on_call"}
)

func (p *parser) templates(n *yaml.Node, cfg *Config) []Template {
	if n == nil {
		return nil
	}
	var out []Template
	first := map[string]int{}
	for i, item := range p.seq("templates", n) {
		path := index("templates", i)
		t := Template{}
		var textNode *yaml.Node
		p.fields(path, item, map[string]func(string, *yaml.Node){
			"key": func(k string, v *yaml.Node) {
				t.Key, _ = p.str(k, v)
				if j, dup := first[t.Key]; dup && t.Key != "" {
					p.add(v, k, "%q is also templates[%d]", t.Key, j)
				} else if t.Key != "" {
					first[t.Key] = i
				}
			},
			"text": func(k string, v *yaml.Node) {
				t.Text, _ = p.str(k, v)
				textNode = v
			},
			"categories": func(k string, v *yaml.Node) {
				for j, c := range p.seq(k, v) {
					ck := index(k, j)
					s, ok := p.str(ck, c)
					if !ok {
						continue
					}
					if _, known := cfg.Category(s); !known {
						p.add(c, ck, "unknown category %q", s)
					}
					t.Categories = append(t.Categories, s)
				}
			},
		})
		if t.Key == "" {
			p.add(item, join(path, "key"), "required")
		}
		if t.Text == "" {
			p.add(item, join(path, "text"), "required")
		} else {
			p.templateText(join(path, "text"), textNode, t.Text, cfg)
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) templateText(key string, n *yaml.Node, text string, cfg *Config) {
	known := TemplateVariables()
	for _, m := range variableRE.FindAllStringSubmatch(text, -1) {
		name := m[1]
		if !slices.Contains(known, name) {
			p.add(n, key, "unknown variable {{%s}} (known: %s)", name, strings.Join(known, ", "))
			continue
		}
		if name == "booking_link" && cfg.Business.BookingLink == "" {
			p.add(n, key, "uses {{booking_link}} but business.booking_link is not set")
		}
	}
	rest := variableRE.ReplaceAllString(text, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		p.add(n, key, "has an unmatched {{ or }}")
	}
}

// escalation reads a list of steps. The result is non-nil even when empty so
// that a line's "escalation: []" can switch escalation off.
func (p *parser) escalation(path string, n *yaml.Node) []EscalationStep {
	out := []EscalationStep{}
	for i, item := range p.seq(path, n) {
		sp := index(path, i)
		var s EscalationStep
		var hasAfter bool
		p.fields(sp, item, map[string]func(string, *yaml.Node){
			"after": func(k string, v *yaml.Node) { s.After, hasAfter = p.duration(k, v) },
			"when": func(k string, v *yaml.Node) {
				var ok bool
				if s.When, ok = p.str(k, v); ok && !slices.Contains(knownWhen, s.When) {
					p.add(v, k, "%q is not one of %s", s.When, strings.Join(knownWhen, ", "))
				}
			},
			"notify": func(k string, v *yaml.Node) {
				var ok bool
				if s.Notify, ok = p.str(k, v); ok && !slices.Contains(knownNotify, s.Notify) {
					p.add(v, k, "%q is not one of %s", s.Notify, strings.Join(knownNotify, ", "))
				}
			},
			"repeat":     func(k string, v *yaml.Node) { s.Repeat, _ = p.duration(k, v) },
			"ack_within": func(k string, v *yaml.Node) { s.AckWithin, _ = p.duration(k, v) },
		})
		if s.AckWithin == 0 {
			s.AckWithin = 15 * time.Minute
		}
		if !hasAfter && !p.has(join(sp, "after")) {
			p.add(item, join(sp, "after"), "required")
		}
		if s.When == "" && !p.has(join(sp, "when")) {
			p.add(item, join(sp, "when"), "required")
		}
		if s.Notify == "" && !p.has(join(sp, "notify")) {
			p.add(item, join(sp, "notify"), "required")
		}
		out = append(out, s)
	}
	return out
}

var (
	digitRE     = regexp.MustCompile(`^[0-9]$`)
	messagingRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// Twilio's <Dial timeout> accepts 5 to 600 seconds.
const (
	minRingTimeout = 5 * time.Second
	maxRingTimeout = 600 * time.Second
)

func (p *parser) lines(root, n *yaml.Node, cfg *Config) []Line {
	items := []*yaml.Node(nil)
	if n != nil {
		items = p.seq("lines", n)
	}
	if len(items) == 0 && !p.has("lines") {
		where := n
		if where == nil {
			where = root
		}
		p.add(where, "lines", "at least one line is required")
	}
	numbers := map[string]int{}
	names := map[string]int{}
	var out []Line
	for i, item := range items {
		path := index("lines", i)
		l := p.line(path, item, cfg)
		if l.Number != "" {
			if j, dup := numbers[l.Number]; dup {
				p.add(item, join(path, "number"), "%q is also lines[%d].number", l.Number, j)
			} else {
				numbers[l.Number] = i
			}
		}
		if l.Name != "" {
			lower := strings.ToLower(l.Name)
			if j, dup := names[lower]; dup {
				p.add(item, join(path, "name"), "%q is also lines[%d].name", l.Name, j)
			} else {
				names[lower] = i
			}
		}
		out = append(out, l)
	}
	return out
}

func (p *parser) line(path string, n *yaml.Node, cfg *Config) Line {
	region := cfg.Business.Region
	l := Line{
		Timezone:    cfg.Business.Timezone,
		RingTimeout: 20 * time.Second,
		TextBack:    TextBack{Cooldown: 12 * time.Hour},
	}
	var escalationNode *yaml.Node
	p.fields(path, n, map[string]func(string, *yaml.Node){
		"number":  func(k string, v *yaml.Node) { l.Number = p.phone(k, v, region) },
		"name":    func(k string, v *yaml.Node) { l.Name, _ = p.str(k, v) },
		"channel": func(k string, v *yaml.Node) { l.Channel, _ = p.str(k, v) },
		"timezone": func(k string, v *yaml.Node) {
			if loc := p.location(k, v); loc != nil {
				l.Timezone = loc
			}
		},
		"hours": func(k string, v *yaml.Node) { l.Hours = p.hours(k, v) },
		"triage": func(k string, v *yaml.Node) {
			l.Triage = map[string]string{}
			for _, e := range p.pairs(k, v) {
				tk := join(k, e.key)
				if !digitRE.MatchString(e.key) {
					p.add(e.keyNode, tk, "%q is not a single digit", e.key)
					continue
				}
				cat, ok := p.str(tk, e.value())
				if !ok {
					continue
				}
				if _, known := cfg.Category(cat); !known {
					p.add(e.value(), tk, "unknown category %q", cat)
				}
				l.Triage[e.key] = cat
			}
		},
		"textback": func(k string, v *yaml.Node) {
			template := func(k string, v *yaml.Node) string {
				s, ok := p.str(k, v)
				if ok && s != "" {
					if _, known := cfg.Template(s); !known {
						p.add(v, k, "unknown template %q", s)
					}
				}
				return s
			}
			p.fields(k, v, map[string]func(string, *yaml.Node){
				"in_hours":    func(k string, v *yaml.Node) { l.TextBack.InHours = template(k, v) },
				"after_hours": func(k string, v *yaml.Node) { l.TextBack.AfterHours = template(k, v) },
				"cooldown": func(k string, v *yaml.Node) {
					if d, ok := p.duration(k, v); ok {
						l.TextBack.Cooldown = d
					}
				},
				"delay": func(k string, v *yaml.Node) { l.TextBack.Delay, _ = p.duration(k, v) },
			})
		},
		"ring": func(k string, v *yaml.Node) {
			for j, item := range p.seq(k, v) {
				if e164 := p.phone(index(k, j), item, region); e164 != "" {
					l.Ring = append(l.Ring, e164)
				}
			}
		},
		"ring_timeout": func(k string, v *yaml.Node) {
			d, ok := p.duration(k, v)
			if !ok {
				return
			}
			if d < minRingTimeout || d > maxRingTimeout {
				p.add(v, k, "%s is outside %s to %s (Twilio's limits)", d, minRingTimeout, maxRingTimeout)
				return
			}
			l.RingTimeout = d
		},
		"on_call": func(k string, v *yaml.Node) { l.OnCall = p.phone(k, v, region) },
		"messaging_service_sid": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if ok && !messagingRE.MatchString(s) {
				p.add(v, k, "%q is not a Messaging Service SID (MG and 32 hex digits)", s)
				return
			}
			l.MessagingServiceSID = s
		},
		"escalation": func(k string, v *yaml.Node) {
			escalationNode = v
			l.Escalation = p.escalation(k, v)
		},
		"on_duty": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if ok && !slackIDRE.MatchString(s) {
				p.add(v, k, "%q is not a Slack user (U…) or user group (S…) ID", s)
				return
			}
			l.OnDuty = s
		},
		"rota": func(k string, v *yaml.Node) { l.Rota = p.rota(k, v) },
		"discord_channel": func(k string, v *yaml.Node) {
			s, ok := p.str(k, v)
			if ok && !snowflakeYAML.MatchString(s) {
				p.add(v, k, "%q is not a Discord channel id (15 to 21 digits)", s)
				return
			}
			l.DiscordChannel = s
		},
		"queue_check": func(k string, v *yaml.Node) {
			l.QueueChecks = []TimeOfDay{}
			for j, item := range p.seq(k, v) {
				s, ok := p.str(index(k, j), item)
				if !ok {
					continue
				}
				t, ok := parseTimeOfDay(s)
				if !ok {
					p.add(item, index(k, j), "%q is not HH:MM", s)
					continue
				}
				l.QueueChecks = append(l.QueueChecks, t)
			}
		},
	})
	if l.QueueChecks == nil {
		l.QueueChecks = []TimeOfDay{{8, 45}, {17, 15}}
	}
	for _, req := range []struct{ key, value string }{
		{"number", l.Number}, {"name", l.Name}, {"channel", l.Channel},
	} {
		if req.value == "" && !p.has(join(path, req.key)) {
			p.add(n, join(path, req.key), "required")
		}
	}
	if l.OnCall == "" && !p.has(join(path, "on_call")) {
		for i, s := range cfg.EscalationFor(&l) {
			if s.Notify == "on_call" {
				where, from := escalationNode, join(path, "escalation")
				if l.Escalation == nil {
					where, from = n, "escalation"
				}
				p.add(where, join(path, "on_call"), "required by %s[%d] (notify: on_call)", from, i)
				break
			}
		}
	}
	return l
}

func (p *parser) hours(key string, n *yaml.Node) Hours {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(strings.TrimSpace(n.Value)) {
		case "24/7":
			return Hours{}
		case "closed":
			return Hours{set: true}
		}
		p.add(n, key, `%q is not "24/7", "closed" or a map of days to hours`, n.Value)
		return Hours{}
	}
	pairs := p.pairs(key, n)
	entries := make([]hoursEntry, 0, len(pairs))
	valid := make([]pair, 0, len(pairs))
	for _, e := range pairs {
		s, ok := p.str(join(key, e.key), e.value())
		if !ok {
			continue
		}
		entries = append(entries, hoursEntry{e.key, s})
		valid = append(valid, e)
	}
	return parseHours(entries, func(i int, msg string) {
		p.add(valid[i].keyNode, join(key, valid[i].key), "%s", msg)
	})
}

func (p *parser) managers(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	var out []string
	for i, item := range p.seq("managers", n) {
		k := index("managers", i)
		s, ok := p.str(k, item)
		if !ok {
			continue
		}
		if s == "" {
			p.add(item, k, "empty user ID")
			continue
		}
		out = append(out, s)
	}
	return out
}

var digestAtRE = regexp.MustCompile(`^([A-Za-z]+)\s+(\d{1,2}):(\d{2})$`)

func (p *parser) digest(n *yaml.Node) Digest {
	d := Digest{Weekday: time.Monday, At: TimeOfDay{Hour: 8}}
	if n == nil {
		return d
	}
	p.fields("digest", n, map[string]func(string, *yaml.Node){
		"channel": func(k string, v *yaml.Node) { d.Channel, _ = p.str(k, v) },
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

var slackIDRE = regexp.MustCompile(`^[USW][A-Z0-9]{2,}$`)

// rota reads `rota: {mon-fri: U1, sat: U2}` (by weekday) or
// `rota: [U1, U2, U3]` (round-robin).
func (p *parser) rota(key string, n *yaml.Node) Rota {
	var r Rota
	if resolve(n).Kind == yaml.SequenceNode {
		for i, item := range p.seq(key, n) {
			if s, ok := p.str(index(key, i), item); ok {
				if !slackIDRE.MatchString(s) || s[0] == 'S' {
					p.add(item, index(key, i), "%q is not a Slack user ID (U…)", s)
					continue
				}
				r.RoundRobin = append(r.RoundRobin, s)
			}
		}
		return r
	}
	r.ByDay = map[time.Weekday]string{}
	for _, e := range p.pairs(key, n) {
		k := join(key, e.key)
		days, ok := parseDays(e.key)
		if !ok {
			p.add(e.keyNode, k, "%q is not a day or range of days (mon, mon-fri, sat,sun)", e.key)
			continue
		}
		s, ok := p.str(k, e.value())
		if !ok {
			continue
		}
		if !slackIDRE.MatchString(s) || s[0] == 'S' {
			p.add(e.value(), k, "%q is not a Slack user ID (U…)", s)
			continue
		}
		for _, d := range days {
			if _, dup := r.ByDay[d]; dup {
				p.add(e.keyNode, k, "%s is in the rota twice", d)
			}
			r.ByDay[d] = s
		}
	}
	return r
}

// parseTimeOfDay reads "HH:MM".
func parseTimeOfDay(s string) (TimeOfDay, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return TimeOfDay{}, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return TimeOfDay{}, false
	}
	return TimeOfDay{hh, mm}, true
}
