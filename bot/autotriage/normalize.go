package autotriage

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// token is one word of a normalised text: its stem, or a clause break.
type token struct {
	stem string // "" for a break
	neg  bool   // a negation cue (no, not, never, without…)
	done bool   // a resolution cue after a problem (fixed, sorted…)
}

func (t token) isBreak() bool { return t.stem == "" }

// Apostrophes as phones type them (the iPhone's ’ by default).
var quotes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02bc", "'", "\u2032", "'", "`", "'", "\u00b4", "'")

// normalize folds case, width, accents and quotes. Transformers and
// casers keep state, so each call makes its own.
func normalize(s string) string {
	// NFKC turns full-width letters and ligatures into plain ones; accents
	// are then dropped so "café" and "cafe" match.
	unaccent := transform.Chain(norm.NFKC, norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	if out, _, err := transform.String(unaccent, s); err == nil {
		s = out
	}
	return cases.Fold().String(quotes.Replace(s))
}

// clauseBreak is punctuation that ends a clause: a negation before it does
// not reach the words after it.
func clauseBreak(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '(', ')', '[', ']', '\n', '\u2014', '\u2013', '\u2026':
		return true
	}
	return false
}

// tokenize turns text into stems and clause breaks. Stop words are left
// out, so "smell of gas" and "smells like gas" are both "smell gas".
func tokenize(text string) []token {
	var out []token
	var word strings.Builder
	prev := ""
	flush := func() {
		if word.Len() > 0 {
			w := word.String()
			out = appendWord(out, w, resolved[w] && resolvedBy[prev])
			prev = w
			word.Reset()
		}
	}
	rs := []rune(normalize(text))
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word.WriteRune(r)
		case r == '\'' && word.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			word.WriteRune(r)
		default:
			flush()
			if clauseBreak(r) {
				out = append(out, token{})
				prev = ""
			}
		}
	}
	flush()
	return out
}

// appendWord adds one written word: contractions are opened ("don't" is
// "do not"), typos mended, stop words dropped, the rest stemmed.
func appendWord(out []token, w string, done bool) []token {
	for _, part := range expand(w) {
		if fix, ok := typos[part]; ok {
			part = fix
		}
		switch {
		case breakWords[part]:
			out = append(out, token{})
		case negations[part]:
			out = append(out, token{stem: part, neg: true})
		case stopWords[part]:
		default:
			stem, ok := stems[part]
			if !ok {
				stem = english.Stem(part, true)
			}
			out = append(out, token{stem: stem, done: done})
		}
	}
	return out
}

// expand opens a contraction into its words.
func expand(w string) []string {
	if full, ok := contractions[w]; ok {
		return full
	}
	if base, ok := strings.CutSuffix(w, "n't"); ok {
		return []string{base, "not"}
	}
	if i := strings.IndexByte(w, '\''); i > 0 {
		w = w[:i] // there's, it's, we've, I'll: the word before is enough
	}
	if w == "" {
		return nil
	}
	return []string{w}
}

var contractions = map[string][]string{
	"can't": {"not"}, "cant": {"not"}, "cannot": {"not"}, "won't": {"not"}, "wont": {"not"},
	"shan't": {"not"}, "ain't": {"not"}, "dont": {"not"}, "doesnt": {"not"}, "didnt": {"not"},
	"isnt": {"not"}, "wasnt": {"not"}, "arent": {"not"}, "werent": {"not"}, "havent": {"not"},
	"hasnt": {"not"}, "hadnt": {"not"}, "couldnt": {"not"}, "wouldnt": {"not"}, "shouldnt": {"not"},
	"aint": {"not"}, "breakin": {"break", "in"},
}

// negations turn off a phrase a few words after them in the same clause.
var negations = map[string]bool{
	"no": true, "not": true, "never": true, "without": true, "nothing": true, "none": true,
	"nobody": true, "neither": true, "nor": true, "hardly": true, "false": true,
}

// resolved words after was/been/now say a problem is over: "the leak was
// fixed" (but "it needs to be fixed" is not).
var (
	resolved   = map[string]bool{"fixed": true, "sorted": true, "resolved": true, "repaired": true}
	resolvedBy = map[string]bool{"was": true, "been": true, "now": true, "got": true, "is": true, "all": true, "are": true}
)

// breakWords start a new thought: "no gas smell, just a dripping tap".
var breakWords = map[string]bool{
	"but": true, "and": true, "just": true, "however": true, "although": true, "though": true,
	"except": true, "also": true, "plus": true, "anyway": true, "because": true, "so": true, "then": true,
	"only": true, "instead": true,
}

// stopWords carry no meaning for triage. Words that do (on, off, out, in,
// up, get, through, have, any) are kept: "locked out", "turn off", "break
// in", "don't have any heating" (not "doesn't heat").
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "some": true, "my": true, "our": true,
	"your": true, "their": true, "his": true, "her": true, "its": true, "it": true, "is": true, "are": true,
	"was": true, "were": true, "be": true, "been": true, "being": true, "am": true, "i": true, "we": true,
	"you": true, "they": true, "he": true, "she": true, "me": true, "us": true, "them": true, "this": true,
	"that": true, "these": true, "those": true, "there": true, "here": true, "has": true,
	"had": true, "really": true, "very": true, "quite": true, "bit": true, "please": true, "hi": true,
	"hello": true, "hey": true, "thanks": true, "thank": true, "um": true, "uh": true, "like": true,
	"to": true, "for": true, "with": true, "at": true, "from": true, "by": true, "can": true, "could": true,
	"would": true, "will": true, "should": true, "may": true, "might": true, "do": true, "does": true,
	"did": true, "all": true, "now": true, "again": true, "too": true, "as": true,
	"about": true, "what": true, "which": true, "who": true, "whom": true, "im": true, "ive": true,
	"strong": true, "strongly": true, "definitely": true, "lot": true, "lots": true, "yes": true, "ok": true, "okay": true, "hiya": true, "think": true, "seems": true,
	"seem": true, "feel": true, "myself": true, "ourselves": true, "himself": true, "herself": true, "themselves": true, "literally": true, "totally": true, "completely": true, "fully": true,
}

// typos are common misspellings in callers' texts and transcripts.
var typos = map[string]string{
	"smel": "smell", "smelt": "smell", "smeel": "smell", "gass": "gas", "gaz": "gas",
	"leek": "leak", "leeking": "leaking", "leakin": "leaking", "lekaing": "leaking", "leacking": "leaking",
	"boilor": "boiler", "boiller": "boiler", "boier": "boiler", "biler": "boiler",
	"monoxcide": "monoxide", "monoxid": "monoxide", "monoxyde": "monoxide", "minoxide": "monoxide",
	"electricty": "electricity", "elecricity": "electricity", "electic": "electric",
	"flodded": "flooded", "floding": "flooding", "fludded": "flooded",
	"brust": "burst", "bursted": "burst", "burts": "burst",
	"veiwing": "viewing", "vewing": "viewing", "viewng": "viewing", "veiw": "view",
	"apartmnet": "apartment", "propety": "property", "proprety": "property",
	"certifcate": "certificate", "certficate": "certificate", "certicate": "certificate",
	"heatting": "heating", "heatin": "heating", "radiater": "radiator", "radiatior": "radiator",
	"tolet": "toilet", "toliet": "toilet",
	"sparkin": "sparking", "smokeing": "smoking", "plz": "please", "pls": "please",
	"emergancy": "emergency", "emergeny": "emergency", "emergecy": "emergency",
	"locket": "locked", "keyes": "keys",
}

// stems overrides the stemmer where its stem would mean something else:
// "lettings" is not "let" (as in "let me know").
var stems = map[string]string{"lettings": "lettings", "letting": "lettings"}
