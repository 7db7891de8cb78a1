package templates

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// nameVariables are filled from people's names (a contact's, a staff
// member's chat display name), which anyone can set to anything. An
// approved text must stay the approved text, so these values are reduced to
// a plain name (PlainName) whoever fills them.
var nameVariables = []string{"caller_name", "agent"}

// maxNameRunes bounds a name in a text: longer is no name.
const maxNameRunes = 40

// PlainName reduces a person's name to words of letters: compatibility
// forms folded (NFKC: a no-break space is a space, full-width letters are
// letters), apostrophes and hyphens kept inside a word, everything else
// (digits, punctuation, links, symbols, control and format characters) a
// word break, runs of breaks one space, at most maxNameRunes runes of whole
// words. "" when no letter is left. Bytes that are not UTF-8 are word
// breaks before folding: NFKC passes the mark after such a byte through
// unfolded, so a second PlainName would fold it (U+0341 to U+0301).
func PlainName(name string) string {
	name = norm.NFKC.String(strings.ToValidUTF8(name, " "))
	words := strings.FieldsFunc(name, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsMark(r) || inWord(r))
	})
	var out []rune
	for _, w := range words {
		w = strings.Trim(w, "'’-")
		if w == "" {
			continue
		}
		n := len(out) + len([]rune(w))
		if len(out) > 0 {
			n++
		}
		if n > maxNameRunes {
			break
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, []rune(w)...)
	}
	return string(out)
}

func inWord(r rune) bool { return r == '\'' || r == '’' || r == '-' }

// FirstName is the first word of a person's plain name ("Alice" for
// "Alice\u00a0Jones"); "" when the name has no letters.
func FirstName(full string) string {
	first, _, _ := strings.Cut(PlainName(full), " ")
	return first
}

// plainVars returns vars with its name variables reduced to plain names.
func plainVars(vars Vars) Vars {
	out := make(Vars, len(vars))
	for k, v := range vars {
		if slices.Contains(nameVariables, k) {
			v = PlainName(v)
		}
		out[k] = v
	}
	return out
}
