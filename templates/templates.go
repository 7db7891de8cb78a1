// Package templates owns the approved SMS texts' variables: which ones a text
// uses, filling them in for a caller (Render) or for a Slack preview (Preview),
// and how the resulting body will be encoded and billed (Segments).
//
// A variable may carry a fallback after a bar, "{{caller_name|there}}": the
// words sent when the value is unknown, so a text written that way can go
// to any caller.
package templates

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"ringback/internal/memo"
)

// Variables every template may use, in display order.
var Variables = []string{"business", "line", "caller_name", "agent", "booking_link", "case_number", "callback_number", "callback_link", "due"}

// Vars maps a variable name (without braces) to its value.
type Vars map[string]string

// ref matches one variable reference. The name may not contain braces, so in
// "{{{business}}}" the reference is the inner "{{business}}" and the outer
// braces stay literal text. Whitespace around the name is allowed, and a
// fallback after the first "|" ("{{caller_name|there}}").
var ref = regexp.MustCompile(`\{\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}\}`)

// span is one variable reference found in a text.
type span struct {
	start, end int // byte offsets of the whole "{{…}}"
	name       string
	// fallback is sent when the value is unknown; hasFallback tells
	// "{{x|}}" (an empty one, refused by Check) from "{{x}}".
	fallback    string
	hasFallback bool
}

// parse finds text's variable references. Its answer is shared: callers
// read it and never write into it (it is clipped, so an append copies).
func parse(text string) []span {
	if len(text) > maxParsedText {
		return scan(text)
	}
	if spans, ok := parsed.Get(text); ok {
		return spans
	}
	spans := slices.Clip(scan(text))
	parsed.Put(text, spans)
	return spans
}

// parsed keeps parse's answers. The approved texts are few and each
// missed call renders one twice (to plan its text-back and to queue it),
// every render reading the text five times (Check, Used, EmptyFallbacks,
// the fill): the regular expression was 3 % of a missed call's CPU. Texts
// also come from outside (a draft in a modal, an imported template), so
// the map is bounded and a long text is not kept.
var parsed = memo.New[[]span](maxParsed)

const (
	maxParsed     = 512
	maxParsedText = 2048
)

// scan is parse without the memory.
func scan(text string) []span {
	var spans []span
	for _, m := range ref.FindAllStringSubmatchIndex(text, -1) {
		s := span{start: m[0], end: m[1], name: text[m[2]:m[3]]}
		if m[4] >= 0 {
			s.fallback, s.hasFallback = strings.TrimSpace(text[m[4]:m[5]]), true
		}
		spans = append(spans, s)
	}
	return spans
}

// EmptyFallbacks lists the variables text gives an empty fallback
// ("{{caller_name|}}"), which would send "Hi ," to an unknown caller.
func EmptyFallbacks(text string) []string {
	var names []string
	for _, s := range parse(text) {
		if s.hasFallback && s.fallback == "" && !slices.Contains(names, s.name) {
			names = append(names, s.name)
		}
	}
	return names
}

// Used lists the variables text refers to, in order of first use, without duplicates.
// Unknown names are included.
func Used(text string) []string {
	var names []string
	for _, s := range parse(text) {
		if !slices.Contains(names, s.name) {
			names = append(names, s.name)
		}
	}
	return names
}

// Unknown lists variables text uses that are not in Variables, in order of first use.
func Unknown(text string) []string {
	var names []string
	for _, name := range Used(text) {
		if !slices.Contains(Variables, name) {
			names = append(names, name)
		}
	}
	return names
}

// Label is how a variable is named to staff: "caller_name" → "caller name".
func Label(name string) string {
	return strings.ReplaceAll(name, "_", " ")
}

// MissingError is returned by Render when used variables have no value, so
// the Slack modal can ask for exactly those: var me *MissingError; errors.As(err, &me).
type MissingError struct {
	Missing []string // variable names, in order of first use, each once
}

func (e *MissingError) Error() string {
	return "templates: not filled: " + braced(e.Missing)
}

// UnknownError is returned by Check and Render when a text uses variables
// that are not in Variables: such a text cannot be approved or sent.
type UnknownError struct {
	Unknown []string // variable names, in order of first use, each once
}

func (e *UnknownError) Error() string {
	return "templates: unknown variable: " + braced(e.Unknown)
}

func braced(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "{{" + n + "}}"
	}
	return strings.Join(parts, ", ")
}

// Check reports whether text is fit to approve: every variable known and no
// "{{" left unclosed, since either would reach a caller as literal braces.
func Check(text string) error {
	spans := parse(text)
	if u := Unknown(text); len(u) > 0 {
		return &UnknownError{Unknown: u}
	}
	if e := EmptyFallbacks(text); len(e) > 0 {
		return fmt.Errorf("templates: empty fallback: %s (write {{%s|there}}, or no bar)", braced(e), e[0])
	}
	prev := 0
	for _, s := range append(spans, span{start: len(text), end: len(text)}) {
		if i := strings.Index(text[prev:s.start], "{{"); i >= 0 {
			return fmt.Errorf("templates: unclosed \"{{\" at byte %d", prev+i)
		}
		prev = s.end
	}
	return nil
}

// Unbalanced reports whether text holds a "{{" or "}}" outside its
// variables, which a caller would receive as literal braces.
func Unbalanced(text string) bool {
	prev := 0
	for _, s := range append(parse(text), span{start: len(text), end: len(text)}) {
		between := text[prev:s.start]
		if strings.Contains(between, "{{") || strings.Contains(between, "}}") {
			return true
		}
		prev = s.end
	}
	return false
}

// filled reports whether v may be sent: a blank value would leave a hole
// ("Hi , …") just as an absent one would.
func filled(v string) bool {
	return strings.TrimSpace(v) != ""
}

// Render fills the variables of text from vars. Text outside "{{…}}" is kept
// exactly; values are inserted as they are (names reduced to PlainName) and
// never expanded again.
// A text that fails Check is an error (*UnknownError for unknown variables);
// a used variable that is absent, empty or blank in vars and has no
// fallback is a *MissingError naming every such variable once, so a caller
// never receives "{{…}}".
func Render(text string, vars Vars) (string, error) {
	if err := Check(text); err != nil {
		return "", err
	}
	vars = plainVars(vars)
	var missing []string
	for _, s := range parse(text) {
		if !filled(vars[s.name]) && !s.hasFallback && !slices.Contains(missing, s.name) {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		return "", &MissingError{Missing: missing}
	}
	return fill(text, func(s span) string {
		if v := vars[s.name]; filled(v) {
			return v
		}
		return s.fallback
	}), nil
}

// Preview is Render for the Slack modal: it never fails; a variable without
// a value reads as its fallback, as the caller would get it, and one with
// neither (or unknown) as "[caller name]" so staff see what is missing.
func Preview(text string, vars Vars) string {
	vars = plainVars(vars)
	return fill(text, func(s span) string {
		known := slices.Contains(Variables, s.name)
		switch v := vars[s.name]; {
		case known && filled(v):
			return v
		case known && s.fallback != "":
			return s.fallback
		}
		return "[" + Label(s.name) + "]"
	})
}

func fill(text string, value func(s span) string) string {
	var b strings.Builder
	prev := 0
	for _, s := range parse(text) {
		b.WriteString(text[prev:s.start])
		b.WriteString(value(s))
		prev = s.end
	}
	b.WriteString(text[prev:])
	return b.String()
}

// WithoutSentences is text less every sentence that uses variable name,
// for a value that cannot be had (no PUBLIC_URL, no callback link): the
// rest of an automatic text still goes out rather than none of it. A
// sentence ends at ".", "!" or "?" followed by white space, or at the end;
// a fallback ("{{name|…}}") keeps its sentence, since it says what to send
// instead. Text is returned unchanged when nothing would be left.
func WithoutSentences(text, name string) string {
	spans := parse(text)
	// inRef reports whether byte i lies inside a variable reference, where
	// a full stop ends no sentence.
	inRef := func(i int) bool {
		for _, s := range spans {
			if i >= s.start && i < s.end {
				return true
			}
		}
		return false
	}
	var kept strings.Builder
	dropped := false
	start := 0
	for i := 0; i <= len(text); i++ {
		end := i == len(text)
		if !end && (!strings.ContainsRune(".!?", rune(text[i])) || inRef(i) || i+1 >= len(text) || !isSpace(text[i+1])) {
			continue
		}
		if !end {
			i++ // the punctuation belongs to its sentence
		}
		sentence := text[start:i]
		uses := false
		for _, s := range spans {
			if s.start >= start && s.end <= i && s.name == name && !s.hasFallback {
				uses = true
			}
		}
		if uses {
			dropped = true
		} else {
			kept.WriteString(sentence)
		}
		start = i
		if end {
			break
		}
	}
	out := strings.TrimSpace(kept.String())
	if !dropped || out == "" {
		return text
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }
