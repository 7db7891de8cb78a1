package config

import (
	"ringback/templates"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// templates reads the templates section: keys unique, texts checked.
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
			"label": func(k string, v *yaml.Node) { t.Label, _ = p.str(k, v) },
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

// templateText checks a text by the grammar of package templates, the one
// staff replies are rendered with.
func (p *parser) templateText(key string, n *yaml.Node, text string, cfg *Config) {
	for _, name := range templates.Used(text) {
		if !slices.Contains(templates.Variables, name) {
			p.add(n, key, "unknown variable {{%s}} (known: %s)", name, strings.Join(templates.Variables, ", "))
			continue
		}
		if name == "booking_link" && cfg.Business.BookingLink == "" {
			p.add(n, key, "uses {{booking_link}} but business.booking_link is not set")
		}
	}
	for _, name := range templates.EmptyFallbacks(text) {
		p.add(n, key, "{{%s|}} has an empty fallback (write {{%s|there}}, or no bar)", name, name)
	}
	if templates.Unbalanced(text) {
		p.add(n, key, "has an unmatched {{ or }}")
	}
}
