package config

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"ringback/templates"
)

// SafetyTemplate is the key of the reply to a caller who chose an urgent
// category: a template limited to that one category, else "safety".
func (c *Config) SafetyTemplate(category string) string {
	for _, t := range c.Templates {
		if len(t.Categories) == 1 && t.Categories[0] == category {
			return t.Key
		}
	}
	return templates.FallbackSafety
}

// MissingTemplates lists the automatic replies the file gives no template
// for, each at the key that needs it: the safety text of an urgent
// category a line's caller can choose, the reply to HELP, and the
// confirmation of an opt-out in the caller's own words. None of them is an
// error: Ringback sends its built-in, business-named text instead (package
// templates' Fallback), so these are warnings for an operator who wants
// their own words. A text-back key naming no template stays an error
// (Parse): it is an explicit choice, most likely a typo, and its wording is
// the business's first message to every caller.
func (c *Config) MissingTemplates() []Problem {
	var out []Problem
	lines := map[string][]string{} // urgent category -> "lines[i].triage.d" that choose it
	for i, l := range c.Lines {
		digits := make([]string, 0, len(l.Triage))
		for d := range l.Triage {
			digits = append(digits, d)
		}
		sort.Strings(digits)
		for _, d := range digits {
			if cat, ok := c.Category(l.Triage[d]); ok && cat.Urgent {
				lines[cat.Key] = append(lines[cat.Key], fmt.Sprintf("lines[%d].triage.%s", i, d))
			}
		}
	}
	for _, cat := range c.Categories {
		if len(lines[cat.Key]) == 0 {
			continue
		}
		key := c.SafetyTemplate(cat.Key)
		if _, ok := c.Template(key); ok {
			continue
		}
		out = append(out, Problem{
			Key: "categories." + cat.Key,
			Message: fmt.Sprintf("urgent and chosen by %s, but no template %q (nor one limited to [%s]): callers who choose it get the built-in safety text",
				strings.Join(lines[cat.Key], ", "), key, cat.Key),
		})
	}
	if _, ok := c.Template(templates.FallbackHelp); !ok && len(c.Lines) > 0 {
		out = append(out, Problem{Key: "templates", Message: `no template "help": a caller who texts HELP gets the built-in help text`})
	}
	if _, ok := c.Template(templates.FallbackOptOutConfirm); !ok {
		out = append(out, Problem{Key: "templates", Message: `no template "optout_confirm": a caller who opts out in their own words gets the built-in confirmation`})
	}
	return slices.Clip(out)
}

// LoadWarnings reads the file at path for Warnings even when it has
// mistakes, so `ringback check` reports every gap in one pass; what cannot
// be read is simply left out.
func LoadWarnings(path string) []Problem {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	p := &parser{}
	cfg := p.parse(data)
	if cfg == nil {
		return nil
	}
	return cfg.Warnings()
}
