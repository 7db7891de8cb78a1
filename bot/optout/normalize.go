package optout

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold turns full-width and other compatibility forms into plain letters
// (ＳＴＯＰ → STOP) and drops accents (envíes → envies, más → mas). A chain
// keeps state while it runs, so each call makes its own: texts are read
// by many requests at once.
func fold() transform.Transformer {
	return transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// apostrophes join a word's parts (don’t → dont): the iPhone's curly one and
// its look-alikes as well as the ASCII one.
var apostrophes = map[rune]bool{'\'': true, '’': true, '‘': true, 'ʼ': true, '`': true, '´': true, '′': true, 'ʹ': true, '‛': true}

// clauseBreaks end a clause: "Stop. I found a flat" is two.
var clauseBreaks = map[rune]bool{'.': true, '!': true, '?': true, ';': true, ':': true, ',': true, '\n': true, '…': true, '—': true, '–': true, '¿': true, '¡': true, '(': true, ')': true}

// spelling maps texting shorthand and contractions to the words the rules
// are written in.
var spelling = map[string]string{
	"dont": "do not", "doesnt": "does not", "didnt": "did not", "wont": "will not", "cant": "can not", "cannot": "can not",
	"shouldnt": "should not", "isnt": "is not", "arent": "are not", "wouldnt": "would not", "couldnt": "could not", "aint": "am not",
	"im": "i am", "ill": "i will", "ive": "i have", "id": "i would", "youre": "you are", "theres": "there is", "its": "it is",
	"pls": "please", "plz": "please", "plse": "please", "pleas": "please", "plez": "please",
	"txt": "text", "txts": "texts", "txting": "texting", "tx": "text", "msg": "message", "msgs": "messages", "msging": "messaging",
	"u": "you", "ur": "your", "r": "are", "thx": "thanks", "thanx": "thanks", "ty": "thanks", "k": "ok", "okay": "ok",
	"optout": "opt out", "unsub": "unsubscribe", "stopall": "stop all", "unsuscribe": "unsubscribe", "unsubcribe": "unsubscribe",
	"unsubscibe": "unsubscribe", "stp": "stop", "stopp": "stop", "sotp": "stop", "stoo": "stop",
	"porfa": "por favor", "porfavor": "por favor", "xfa": "por favor", "msjs": "mensajes", "msj": "mensaje", "mensages": "mensajes",
}

// Normalize is text as the rules read it: lower case, accents and
// compatibility forms folded, apostrophes joined, shorthand spelled out,
// words separated by one space and clauses by " | ".
func Normalize(s string) string {
	folded, _, err := transform.String(fold(), s)
	if err != nil {
		folded = s
	}
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() == 0 {
			return
		}
		w := word.String()
		word.Reset()
		if full, ok := spelling[w]; ok {
			w = full
		}
		out = append(out, w)
	}
	clause := func() {
		flush()
		if len(out) > 0 && out[len(out)-1] != "|" {
			out = append(out, "|")
		}
	}
	for _, r := range strings.ToLower(folded) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word.WriteRune(r)
		case apostrophes[r]:
			// part of the word: don't → dont
		case clauseBreaks[r], r == '-' && word.Len() == 0:
			clause() // "STOP - not interested"; but opt-out is one word
		default:
			flush()
		}
	}
	flush()
	if len(out) > 0 && out[len(out)-1] == "|" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, " ")
}
