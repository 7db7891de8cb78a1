package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// staffGroup reads staff_group: a Slack user group ID.
func (p *parser) staffGroup(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	g, ok := p.str("staff_group", n)
	if !ok {
		return ""
	}
	if !slackIDRE.MatchString(g) || g[0] != 'S' {
		p.add(n, "staff_group", "%q is not a Slack user group ID (S…)", g)
		return ""
	}
	return g
}

// managers reads the managers section: Slack user IDs.
func (p *parser) managers(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	return p.words("managers", n, "user ID")
}

// words reads a list of non-empty values; what names one in the problem.
func (p *parser) words(key string, n *yaml.Node, what string) []string {
	var out []string
	for i, item := range p.seq(key, n) {
		k := index(key, i)
		s, ok := p.str(k, item)
		if !ok {
			continue
		}
		if s == "" {
			p.add(item, k, "empty %s", what)
			continue
		}
		out = append(out, s)
	}
	return out
}

var slackIDRE = regexp.MustCompile(`^[USW][A-Z0-9]{2,}$`)

// categoryRota reads a line's category_rota: category key to a rota (by
// weekday or round-robin, as rota).
func (p *parser) categoryRota(key string, n *yaml.Node, cfg *Config) map[string]Rota {
	out := map[string]Rota{}
	for _, e := range p.pairs(key, n) {
		k := join(key, e.key)
		if _, known := cfg.Category(e.key); !known {
			p.add(e.keyNode, k, "unknown category %q", e.key)
			continue
		}
		out[e.key] = p.rota(k, e.value())
	}
	return out
}

// templateKey reads a template key that must name one of cfg's templates
// ("" is allowed: no text in that period).
func (p *parser) templateKey(key string, n *yaml.Node, cfg *Config) string {
	s, ok := p.str(key, n)
	if ok && s != "" {
		if _, known := cfg.Template(s); !known {
			p.add(n, key, "unknown template %q", s)
		}
	}
	return s
}

var contactKindRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// contactKinds reads a line's contact_kinds: contact kind (as imported with
// `import contacts --kind`) to its text-back templates, channels and rota.
func (p *parser) contactKinds(key string, n *yaml.Node, cfg *Config) map[string]KindRoute {
	out := map[string]KindRoute{}
	for _, e := range p.pairs(key, n) {
		path := join(key, e.key)
		if !contactKindRE.MatchString(e.key) {
			p.add(e.keyNode, path, "%q is not a contact kind (lower-case letters, digits, _ and -)", e.key)
			continue
		}
		var r KindRoute
		p.fields(path, e.value(), map[string]func(string, *yaml.Node){
			"textback": func(k string, v *yaml.Node) {
				p.fields(k, v, map[string]func(string, *yaml.Node){
					"in_hours":    func(k string, v *yaml.Node) { r.TextBack.InHours = p.templateKey(k, v, cfg) },
					"after_hours": func(k string, v *yaml.Node) { r.TextBack.AfterHours = p.templateKey(k, v, cfg) },
				})
			},
			"channel": func(k string, v *yaml.Node) {
				r.Channel = p.matching(k, v, channelIDRE, "%q is not a Slack channel ID (C… or G…)")
			},
			"discord_channel": func(k string, v *yaml.Node) {
				r.DiscordChannel = p.matching(k, v, snowflakeYAML, "%q is not a Discord channel id (15 to 21 digits)")
			},
			"rota": func(k string, v *yaml.Node) { r.Rota = p.rota(k, v) },
		})
		out[e.key] = r
	}
	return out
}

var channelIDRE = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// RotaWarnings names the days a line opens on which a by-weekday rota
// names nobody: the cases of those days wait unassigned for whoever claims
// them, which may be intended (a round-robin or the channel covers them)
// but is more often a day left out.
func (c *Config) RotaWarnings() []Problem {
	var out []Problem
	check := func(key string, l *Line, r Rota) {
		if len(r.ByDay) == 0 {
			return
		}
		var gaps []string
		for d := time.Sunday; d <= time.Saturday; d++ {
			if l.Hours.OpensOn(d) && r.ByDay[d] == "" {
				gaps = append(gaps, dayNames[d])
			}
		}
		if len(gaps) > 0 {
			out = append(out, Problem{Key: key, Message: fmt.Sprintf("nobody on %s, when the line opens: those days' cases are not assigned", strings.Join(gaps, ", "))})
		}
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		path := fmt.Sprintf("lines[%d]", i)
		check(path+".rota", l, l.Rota)
		for _, cat := range c.Categories {
			if r, ok := l.CategoryRota[cat.Key]; ok {
				check(path+".category_rota."+cat.Key, l, r)
			}
		}
		kinds := make([]string, 0, len(l.ContactKinds))
		for k := range l.ContactKinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			check(path+".contact_kinds."+k+".rota", l, l.ContactKinds[k].Rota)
		}
	}
	return out
}
