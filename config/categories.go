package config

import (
	"regexp"

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
