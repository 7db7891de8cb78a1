package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// AutoTriage is how Ringback triages a case from the caller's own words
// (an SMS that is not a menu digit, a voicemail transcript): phrases per
// category. Ringback's built-in phrases for letting and home services
// (package bot/autotriage) apply to the categories they fit unless
// Builtin is off.
type AutoTriage struct {
	// NoBuiltin turns the built-in phrases off (auto_triage.builtin: false),
	// leaving only Phrases.
	NoBuiltin bool
	// Phrases are the business's own phrases per category, in file order.
	// They add to the built-ins and win over a built-in phrase written the
	// same way.
	Phrases []CategoryPhrases
	// Ignore are phrases that never triage a case (a built-in phrase listed
	// here is switched off).
	Ignore []string
}

// CategoryPhrases are the phrases that point to one category.
type CategoryPhrases struct {
	Category string // a category key; one the file lacks is a warning
	Phrases  []string
}

// PhrasesFor lists the business's own phrases for a category.
func (a AutoTriage) PhrasesFor(category string) []string {
	var out []string
	for _, cp := range a.Phrases {
		if cp.Category == category {
			out = append(out, cp.Phrases...)
		}
	}
	return out
}

// autoTriage reads the auto_triage section.
func (p *parser) autoTriage(n *yaml.Node) AutoTriage {
	var a AutoTriage
	if n == nil {
		return a
	}
	p.fields("auto_triage", n, map[string]func(string, *yaml.Node){
		"builtin": func(k string, v *yaml.Node) {
			var on bool
			if err := v.Decode(&on); err != nil {
				p.add(v, k, "%q is not true or false", v.Value)
			}
			a.NoBuiltin = !on
		},
		"phrases": func(k string, v *yaml.Node) {
			for _, e := range p.pairs(k, v) {
				cp := CategoryPhrases{Category: e.key}
				if !isNull(e.valueRaw) {
					cp.Phrases = p.words(join(k, e.key), e.value(), "phrase")
				}
				a.Phrases = append(a.Phrases, cp)
			}
		},
		"ignore": func(k string, v *yaml.Node) { a.Ignore = p.words(k, v, "phrase") },
	})
	return a
}

// AutoTriageWarnings lists phrase rules naming a category the file does
// not have: Ringback leaves them out, most likely a typo.
func (c *Config) AutoTriageWarnings() []Problem {
	var out []Problem
	for _, cp := range c.AutoTriage.Phrases {
		if _, ok := c.Category(cp.Category); !ok {
			out = append(out, Problem{
				Key:     "auto_triage.phrases." + cp.Category,
				Message: fmt.Sprintf("no category %q: these phrases triage nothing", cp.Category),
			})
		}
	}
	return out
}

// Warnings are what `ringback check` reports without refusing the file:
// missing optional templates, phrase rules for no category.
func (c *Config) Warnings() []Problem {
	return append(append(c.MissingTemplates(), c.AutoTriageWarnings()...), c.RotaWarnings()...)
}
