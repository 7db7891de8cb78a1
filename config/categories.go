package config

import (
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// SetDefaults gives the settings c leaves zero the values Parse gives the
// keys a file leaves out: the label is the key.
func (c *Category) SetDefaults() {
	if c.Label == "" {
		c.Label = c.Key
	}
}

var categoryKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// categories reads the categories section: a map keyed by category, in
// file order.
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
			"rota": func(k string, v *yaml.Node) { c.Rota = p.rota(k, v) },
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
		c.SetDefaults()
		out = append(out, c)
	}
	return out
}

// Due is a response promise: claim and first contact within these of the
// start of a case's clock.
type Due struct {
	ClaimWithin   time.Duration
	ContactWithin time.Duration
}

// Defaults of the untriaged keys: the promise of a case nobody has
// categorised yet, so that every case is timed from its first ring.
const (
	DefaultUntriagedClaim   = 10 * time.Minute
	DefaultUntriagedContact = 30 * time.Minute
)

// SetDefaults gives a promise with neither duration the untriaged defaults.
func (d *Due) SetDefaults() {
	if *d == (Due{}) {
		*d = Due{ClaimWithin: DefaultUntriagedClaim, ContactWithin: DefaultUntriagedContact}
	}
}

// DueFor is the promise a case on l with category key ("" = none) runs on:
// the category's, or while it has none the line's untriaged policy, else
// the business's.
func (c *Config) DueFor(l *Line, category string) Due {
	if cat, ok := c.Category(category); ok {
		return Due{ClaimWithin: cat.ClaimWithin, ContactWithin: cat.ContactWithin}
	}
	if l != nil && l.Untriaged != (Due{}) {
		return l.Untriaged
	}
	d := c.Untriaged
	d.SetDefaults()
	return d
}

// due reads `untriaged: {claim_within: 10m, contact_within: 30m}` over d.
func (p *parser) due(key string, n *yaml.Node, d Due) Due {
	p.fields(key, n, map[string]func(string, *yaml.Node){
		"claim_within":   func(k string, v *yaml.Node) { d.ClaimWithin, _ = p.duration(k, v) },
		"contact_within": func(k string, v *yaml.Node) { d.ContactWithin, _ = p.duration(k, v) },
	})
	return d
}
