// Package autotriage reads what a caller said (an SMS in their own words, a
// voicemail transcript) and finds the category it belongs to: phrase rules
// per category, matched on normalised text (case, Unicode quotes and widths,
// accents, punctuation, word endings, stop words), with a negation window so
// that "no smell of gas" does not count as a smell of gas. It knows no
// store, chat platform or phone provider.
package autotriage

import (
	"strings"
)

// Category is a triage class a business configured.
type Category struct {
	Key    string
	Label  string
	Urgent bool
}

// Rules are a business's own phrase rules.
type Rules struct {
	// Builtin adds the built-in phrases of each kind (urgent safety,
	// viewing/lettings, maintenance, compliance, quotes) to the category
	// they fit; see BuiltinKind.
	Builtin bool
	// Phrases are more phrases per category key. They win over a built-in
	// phrase written the same way, so a business can move one.
	Phrases map[string][]string
	// Ignore are phrases that never triage a case; a built-in phrase
	// listed here is switched off.
	Ignore []string
}

// Match is what a text was triaged as, and why.
type Match struct {
	Category string // key
	Urgent   bool
	Phrase   string // the rule's phrase as written, e.g. "smell of gas"
}

// negationWindow is how many words before a phrase a negation reaches.
const negationWindow = 3

// resolvedWindow is how many words after a phrase "was fixed" reaches.
const resolvedWindow = 3

type rule struct {
	category string // "" ignores
	urgent   bool
	phrase   string
	stems    []string
	near     bool // "gas + smell": the words in any order, close together in one clause
	own      bool // the business's, not built-in
}

// nearWindow is how close together the words of a "+" rule must be.
const nearWindow = 6

// Matcher triages texts by a fixed set of rules; it is safe for concurrent use.
type Matcher struct {
	rules   []rule
	byFirst map[string][]int // first stem -> rules in order, for phrases in sequence
}

// New compiles rules for the given categories. Rules naming no category in
// cats are left out (config warns about them).
func New(cats []Category, r Rules) *Matcher {
	m := &Matcher{byFirst: map[string][]int{}}
	add := func(cat Category, phrase string, own bool) {
		r := rule{category: cat.Key, urgent: cat.Urgent, phrase: phrase, own: own}
		if strings.Contains(phrase, "+") {
			r.near = true
			for _, part := range strings.Split(phrase, "+") {
				r.stems = append(r.stems, compile(part)...)
			}
		} else {
			r.stems = compile(phrase)
		}
		if len(r.stems) == 0 {
			return
		}
		if !r.near {
			m.byFirst[r.stems[0]] = append(m.byFirst[r.stems[0]], len(m.rules))
		}
		m.rules = append(m.rules, r)
	}
	for _, p := range r.Ignore {
		add(Category{}, p, true)
	}
	for _, c := range cats {
		for _, p := range r.Phrases[c.Key] {
			add(c, p, true)
		}
	}
	if r.Builtin {
		for _, p := range builtin["ignore"] {
			add(Category{}, p, false)
		}
		used := map[string]bool{}
		for _, c := range cats {
			kind := BuiltinKind(c)
			if kind == "" || used[kind] {
				continue
			}
			used[kind] = true
			for _, p := range builtin[kind] {
				add(c, p, false)
			}
		}
	}
	return m
}

// compile normalises a phrase as texts are; a phrase may not span clauses.
func compile(phrase string) []string {
	var stems []string
	for _, t := range tokenize(phrase) {
		if !t.isBreak() {
			stems = append(stems, t.stem)
		}
	}
	return stems
}

// Empty reports whether the matcher has no rule that can triage.
func (m *Matcher) Empty() bool {
	for _, r := range m.rules {
		if r.category != "" {
			return false
		}
	}
	return true
}

// Match triages text. An urgent phrase that is not negated (or said to be
// fixed) wins at once; otherwise the category with the most phrases (the
// earliest on a tie). ok is false when nothing in text points to a category.
func (m *Matcher) Match(text string) (Match, bool) {
	if m == nil || text == "" {
		return Match{}, false
	}
	toks := tokenize(text)
	var hits []hit
	owned := make([]bool, len(toks)) // words of a phrase of two or more words
	for i := 0; i < len(toks); {
		r := m.longest(toks, i)
		if r == nil {
			i++
			continue
		}
		n := len(r.stems)
		if n > 1 {
			for k := i; k < i+n; k++ {
				owned[k] = true
			}
		}
		if h, ok := judge(toks, r, i, i+n); ok {
			if h.urgent {
				return h.Match, true
			}
			hits = append(hits, h)
		}
		i += n
	}
	for k := range m.rules {
		r := &m.rules[k]
		if !r.near {
			continue
		}
		if from, to, ok := near(toks, owned, r.stems); ok {
			if h, ok := judge(toks, r, from, to); ok {
				if h.urgent {
					return h.Match, true
				}
				hits = append(hits, hit{Match: h.Match, at: from})
			}
		}
	}
	return decide(hits)
}

type hit struct {
	Match
	urgent bool
	at     int
}

// judge says what rule r found at toks[from:to] counts for. Negation and
// "was fixed" speak to whether a danger is there now; the other categories
// are topics, which "I never got the gas certificate" still is.
func judge(toks []token, r *rule, from, to int) (hit, bool) {
	switch {
	case r.category == "":
		return hit{}, false
	case r.urgent:
		if negated(toks, from) || (r.near && negatedWithin(toks, from, to)) || resolvedAfter(toks, to) {
			return hit{}, false
		}
		return hit{Match: Match{Category: r.category, Urgent: true, Phrase: r.phrase}, urgent: true}, true
	}
	return hit{Match: Match{Category: r.category, Phrase: r.phrase}, at: from}, true
}

// decide picks the category with the most hits, the earliest on a tie.
func decide(hits []hit) (Match, bool) {
	count := map[string]int{}
	first := map[string]int{}
	for _, h := range hits {
		if _, ok := first[h.Category]; !ok || h.at < first[h.Category] {
			first[h.Category] = h.at
		}
		count[h.Category]++
	}
	var best *hit
	for i := range hits {
		h := &hits[i]
		if h.at != first[h.Category] {
			continue
		}
		if best == nil || count[h.Category] > count[best.Category] ||
			(count[h.Category] == count[best.Category] && h.at < best.at) {
			best = h
		}
	}
	if best == nil {
		return Match{}, false
	}
	return best.Match, true
}

// near finds the words of a "+" rule within nearWindow of each other in one
// clause, in any order, among words no longer phrase has taken.
func near(toks []token, owned []bool, stems []string) (from, to int, ok bool) {
	start := 0
	for i := 0; i <= len(toks); i++ {
		if i < len(toks) && !toks[i].isBreak() {
			continue
		}
		if f, t, ok := nearIn(toks, owned, stems, start, i); ok {
			return f, t, true
		}
		start = i + 1
	}
	return 0, 0, false
}

func nearIn(toks []token, owned []bool, stems []string, start, end int) (int, int, bool) {
	for a := start; a < end; a++ {
		b := min(end, a+nearWindow)
		found := 0
		last := a
		for _, s := range stems {
			for k := a; k < b; k++ {
				if toks[k].stem == s && !owned[k] {
					found++
					last = max(last, k)
					break
				}
			}
		}
		if found == len(stems) && toks[a].stem != "" && contains(stems, toks[a].stem) {
			return a, last + 1, true
		}
	}
	return 0, 0, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// negatedWithin reports a negation between the words of a match: "the gas
// is not leaking" for "gas + leak".
func negatedWithin(toks []token, from, to int) bool {
	for k := from + 1; k < to; k++ {
		if toks[k].neg && !hedge(toks, k) {
			return true
		}
	}
	return false
}

// longest finds the longest rule whose stems start at toks[i]; on equal
// length an ignore, then the business's own rule, wins.
func (m *Matcher) longest(toks []token, i int) *rule {
	if toks[i].done {
		return nil // "was fixed" is no request to fix
	}
	var best *rule
	for _, k := range m.byFirst[toks[i].stem] {
		r := &m.rules[k]
		if !matchAt(toks, i, r.stems) {
			continue
		}
		switch {
		case best == nil, len(r.stems) > len(best.stems):
			best = r
		case len(r.stems) == len(best.stems) && better(r, best):
			best = r
		}
	}
	return best
}

func better(r, than *rule) bool {
	if (r.category == "") != (than.category == "") {
		return r.category == ""
	}
	return r.own && !than.own
}

func matchAt(toks []token, i int, stems []string) bool {
	if i+len(stems) > len(toks) {
		return false
	}
	for k, s := range stems {
		if toks[i+k].stem != s {
			return false
		}
	}
	return true
}

// negated reports whether a negation cue stands within the window before
// toks[i], in the same clause. A phrase that itself starts with a negation
// ("no heat") is negated only by another one before it.
func negated(toks []token, i int) bool {
	for k, seen := i-1, 0; k >= 0 && seen < negationWindow; k-- {
		t := toks[k]
		if t.isBreak() {
			return false
		}
		if t.neg && !hedge(toks, k) {
			return true
		}
		seen++
	}
	return false
}

// hedge reports whether the negation at toks[k] only hedges ("not sure",
// "don't know", "no idea"): a caller unsure whether it is gas still
// smells something.
func hedge(toks []token, k int) bool {
	if k+1 >= len(toks) {
		return false
	}
	switch toks[k+1].stem {
	case "sure", "know", "certain", "idea":
		return true
	}
	return false
}

// resolvedAfter reports whether "was fixed" and the like follows a phrase
// ending before toks[j], in the same clause.
func resolvedAfter(toks []token, j int) bool {
	for k := j; k < len(toks) && k < j+resolvedWindow; k++ {
		if toks[k].isBreak() {
			return false
		}
		if toks[k].done {
			return true
		}
	}
	return false
}

// BuiltinKind names the built-in phrase set a category gets: "urgent" for
// an urgent category; else by the words of its key and label, e.g.
// "viewing" for viewing, lettings or leasing, "maintenance" for
// maintenance or repairs, "compliance" for compliance or certificates,
// "quote" for quotes, estimates or sales; "" when none fits.
func BuiltinKind(c Category) string {
	if c.Urgent {
		return "urgent"
	}
	words := strings.FieldsFunc(strings.ToLower(c.Key+" "+c.Label), func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	})
	for _, kind := range []string{"compliance", "maintenance", "viewing", "quote"} {
		for _, w := range words {
			for _, alias := range kindWords[kind] {
				if w == alias {
					return kind
				}
			}
		}
	}
	return ""
}

var kindWords = map[string][]string{
	"viewing":     {"viewing", "viewings", "view", "lettings", "letting", "leasing", "lease", "rentals", "rental", "enquiry", "enquiries", "applicants", "applications", "prospects"},
	"maintenance": {"maintenance", "repair", "repairs", "plumbing", "fault", "faults", "fix", "fixes"},
	"compliance":  {"compliance", "certificate", "certificates", "certification", "inspections", "inspection", "legal"},
	"quote":       {"quote", "quotes", "estimate", "estimates", "sales", "booking", "bookings", "pricing"},
}

// BuiltinPhrases lists the built-in phrases of a kind (see BuiltinKind).
func BuiltinPhrases(kind string) []string { return builtin[kind] }
