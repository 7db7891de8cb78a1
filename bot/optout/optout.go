// Package optout reads a caller's text for a request to stop texting, as
// the FCC's 2024 revocation rule (FCC 24-24; 47 CFR 64.1200(a)(10)–(12))
// wants it read: the per-se words (stop, quit, end, revoke, opt out,
// cancel, unsubscribe) in a short reply in any position and case, and any
// other wording a reasonable person would take for one, English or
// Spanish. The same words inside a sentence about something else ("stop
// by the office", "cancel my viewing") are not a request; what a machine
// cannot tell is Ambiguous, for staff to decide. It knows no store and no
// platform.
package optout

import (
	"regexp"
	"slices"
	"strings"
)

// Outcome is what a text is, as far as opting out goes.
type Outcome string

// The three outcomes.
const (
	Not       Outcome = "not"       // not a request to stop
	Ambiguous Outcome = "ambiguous" // maybe: staff confirm
	OptOut    Outcome = "opt_out"   // a request to stop texting
)

// Result is a text's outcome and the words that decided it (normalised:
// "stop", "do not text me"); Phrase is "" for Not.
type Result struct {
	Outcome Outcome
	Phrase  string
}

// perSe are the FCC's per-se words and their common Spanish forms. A
// strong one standing in a clause of its own opts out even beside other
// sentences; a weak one ("end", "para" = for, "baja" = low) only when the
// whole text is a short reply.
var perSe = map[string]strength{
	"stop": strong, "unsubscribe": strong, "revoke": strong, "optout": strong,
	"cancel": medium, "quit": weak, "end": weak,
	"para": weak, "parar": weak, "pare": weak, "paren": weak, "alto": weak, "basta": weak, "baja": weak, "cancelar": medium,
	"detener": weak, "detente": weak, "nomas": weak,
}

type strength int

const (
	weak strength = iota + 1 // 0: not a per-se word
	medium
	strong
)

// fillers are words a short reply wraps a per-se word in ("STOP please",
// "I want to opt out", "stop it now", "para ya por favor").
var fillers = set(`please thanks thank you ok yes yeah yea sure just already now right away immediately asap again
	i said say saying we want would like to can could will do am is are be it this that them these those all
	everything me us my our your number phone the of for good forever ever anymore more any seriously hey hi hello
	sir maam mam lol omg god oh guys man dude bro really just and now pls sending send receiving getting get texts text
	messages message texting messaging sms mms calls contact contacting these them spam oh wait hereby consent
	por favor gracias ya ahora todo todos quiero me de mi numero mensajes mensaje textos sms si ok bueno hola senor
	senora el la los las ahorita inmediatamente mas nos ustedes usted`)

// messaging are words that make a per-se word about texts ("stop the
// texts", "cancel the messages").
var messaging = set(`text texts texting texted message messages messaging sms mms contact contacting contacted notifications
	notification alerts alert reminders reminder spam spamming marketing promotions promos updates emails emailing
	subscription service this that it them these those everything mensajes mensaje textos`)

// objects start a noun phrase after a per-se word: what is stopped,
// ended or cancelled is then named.
var objects = set(`the a an my our his her their your these those this that its su mi la el los las un una`)

// prepositions after a per-se word make it about a place, a time or
// another thing: "stop by", "end up", "cancel for tomorrow".
var prepositions = set(`by in at round around over off up into on of for to with from when if before after until till
	unless because then so while early late soon first en por con de`)

// nounMarkers before a per-se word make it a noun: "the end of the month",
// "the bus stop".
var nounMarkers = set(`the a an this next last first bus full dead tail week rear back front each every his her our
	their your my whose la el una un su mi`)

// negations before a per-se word: "the leak will not stop", "no para".
var negations = set(`not never no nunca`)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// phrase is a wording that decides a text on its own.
type phrase struct {
	re      *regexp.Regexp
	outcome Outcome
}

func rule(outcome Outcome, pattern string) phrase {
	return phrase{regexp.MustCompile(`\b(?:` + pattern + `)\b`), outcome}
}

const (
	msgNoun = `texts?|texting|messages?|messaging|sms|text messages|notifications|alerts|reminders|spam|marketing`
	toMe    = `me|us|this number|my number|my phone|again|anymore|any more|ever again`
)

// optOutPhrases are reasonable wordings of "stop texting me", checked on
// the whole text.
var optOutPhrases = []phrase{
	rule(OptOut, `(stop|quit|cease|end|enough) (with )?(the |your |these |those |all |all the |all these |any )?(sending( me| us)? )?(`+msgNoun+`|contacting( me| us)?|bothering me|harassing me|spamming( me)?)`),
	rule(OptOut, `(stop|quit|cease) (sending|send) (me|us|this number)`),
	rule(OptOut, `no more (`+msgNoun+`|text messages|contact)`),
	rule(OptOut, `(do not|never) (ever )?(text|message|sms|contact|email|bother|spam) (`+toMe+`)`),
	rule(OptOut, `(i|we) (do not|no longer) want (to (get|receive) )?(any |your |these |those )?(more )?(`+msgNoun+`|them|these|this)`),
	rule(OptOut, `(i|we) (do not|no longer) want to be (texted|messaged|contacted)`),
	rule(OptOut, `(do not|no longer) (want|wish) to (receive|get) (any |your )?(more )?(`+msgNoun+`)`),
	rule(OptOut, `(take|remove|delete|drop|erase|scratch|get) (me|us|my number|this number|my phone number|my details)( off| from| out of)? (of )?(your |the |this |ur |all |all your |these )?((text|texting|sms|mailing|contact|marketing|call|calling|messaging|phone) )?(list|lists|database|system|records|contacts)`),
	rule(OptOut, `(delete|lose|forget|remove|erase) (my|this) (phone )?number`),
	rule(OptOut, `leave (me|us) alone`),
	rule(OptOut, `(unsubscribe|opt out|optout|opt me out|take me off|remove me) (of |from )?(all|everything|texts|messages|this|these|your texts|your messages|the texts|sms)`),
	rule(OptOut, `(opt|sign) (me|us) (out|off)`),
	rule(OptOut, `revoke (my )?(consent|permission)`),
	rule(OptOut, `(i|we) (do not|no longer) consent`),
	rule(OptOut, `enough (`+msgNoun+`)`),
	// Spanish.
	rule(OptOut, `no (me |nos )?(envie|envies|envien|mande|mandes|manden|escriba|escribas|escriban|contacte|contactes|contacten|texteen|textees)( mas)?( mensajes| textos| sms)?`),
	rule(OptOut, `no (quiero|queremos) (recibir |mas |recibir mas )+(mensajes|textos|sms)`),
	rule(OptOut, `no mas (mensajes|textos|sms)`),
	rule(OptOut, `(deja|dejen|dejar|deje|dejes) de (enviar|mandar|escribir|contactar|textear)(me|nos)?`),
	rule(OptOut, `(dar|darme|dame|denme|deme|darnos|dennos) de baja`),
	rule(OptOut, `(quita|quiten|quitar|quitame|quitenme|saca|saquen|sacar|sacame|saquenme|borra|borren|borrar|borrame|borrenme|elimina|eliminen|eliminar|eliminenme)( me| nos)? de (la |su |tu |esta )?lista( de (mensajes|contactos|sms|textos))?( \||$)`),
	rule(OptOut, `(borren|borrar|borra|eliminen|eliminar|elimina) mi numero`),
	rule(OptOut, `(dejame|dejenme|dejanos|dejennos) en paz`),
}

// after an opt-out wording, a time limits it: "don't text me after 9"
// asks for something staff must read.
var limited = regexp.MustCompile(`^ ?((me|us|this number) )?(after|before|until|till|at night|on (the )?weekends?|during|between|late|early|in the (morning|evening)|despues|antes|hasta|por la noche)\b`)

// undone are the words before an opt-out wording that undo it: "do not
// stop texting me"; and before a "stop…" wording, a caller speaking of
// themself: "I will stop texting you".
var (
	undone    = regexp.MustCompile(`\b(do not|does not|never|not|will not|no) $`)
	ownAction = regexp.MustCompile(`\b(i|we|i will|we will|i am going to|we are going to|i shall) $`)
	stopping  = regexp.MustCompile(`^(stop|quit|cease|end)\b`)
)

// ambiguousPhrases may be a request to stop: staff decide.
var ambiguousPhrases = []phrase{
	rule(Ambiguous, `wrong (number|person|phone|no)|numero equivocado|equivocado|equivocada`),
	rule(Ambiguous, `not interested|no longer interested|no me interesa|no estoy interesad[oa]|no gracias no`),
	rule(Ambiguous, `(stop|quit) calling|(do not|never) call (me|us|this number)|no (me )?llamen|no (me )?llames`),
	rule(Ambiguous, `not (text|message|contact) (me|us)`),
	rule(Ambiguous, `go away|(fuck|piss|bugger|sod|f) off|shut up|get lost|this is spam|^spam$|scam`),
	rule(Ambiguous, `block(ing)? (you|this|your)|(will|going to|gonna) block|report (you|this)`),
	rule(Ambiguous, `how did you get (my|this) number|who gave you (my|this) number|(do not|never) gave you (my|this) number`),
	rule(Ambiguous, `^(remove|take) (me|us)( off)?$|^enough$|^no more$|^(i am|we are) done$`),
}

// wantsTexts undoes a call-only ambiguity: "don't call me, text me instead".
var wantsTexts = regexp.MustCompile(`\btext (me|us) (instead|only|please)\b|\b(prefer|rather) (to )?text\b|\btext only\b|\bjust text\b`)

// callOnly are ambiguous wordings about calls rather than texts.
var callOnly = regexp.MustCompile(`calling|call (me|us|this number)|llamen|llames`)

// otherLists are lists a caller may ask to leave; textLists are the ones
// for texts ("your list", "your mailing list").
var (
	otherLists = regexp.MustCompile(`\b(?:remove|take|delete|drop|get) (?:me|us)(?: off| from| out of)? (?:of )?(?:the |your |my |this |that )?([a-z]+) list\b|lista de espera`)
	textLists  = set(`text texting sms mailing contact marketing call calling messaging phone your the my this that ur all de`)
)

// otherList reports whether text asks to leave a list that is not for
// texts: "remove me from the waiting list".
func otherList(text string) bool {
	for _, m := range otherLists.FindAllStringSubmatch(text, -1) {
		if m[1] == "" || !textLists[m[1]] {
			return true
		}
	}
	return false
}

// Classify reads a caller's text.
func Classify(body string) Result {
	text := Normalize(body)
	if text == "" {
		return Result{Outcome: Not}
	}
	// "opt out" is one per-se word: join it so it is read as one.
	text = joinOptOut.ReplaceAllString(text, "optout")
	text = strings.ReplaceAll(text, "no mas", "nomas")
	if r, ok := matchOptOut(unjoin(text)); ok {
		return r
	}
	clauses := strings.Split(text, " | ")
	best := Result{Outcome: Not}
	substantive := 0
	for _, c := range clauses {
		if !allFillers(strings.Fields(c)) {
			substantive++
		}
	}
	for _, c := range clauses {
		r := perSeClause(strings.Fields(c), len(clauses), substantive)
		if rank(r.Outcome) > rank(best.Outcome) {
			best = r
		}
	}
	if best.Outcome == OptOut {
		return best
	}
	plain := unjoin(text)
	if best.Outcome == Not {
		for _, p := range ambiguousPhrases {
			m := p.re.FindString(plain)
			if m == "" {
				continue
			}
			if callOnly.MatchString(m) && wantsTexts.MatchString(plain) {
				continue
			}
			return Result{Outcome: Ambiguous, Phrase: m}
		}
		if m := bareRemove.FindString(plain); m != "" && !otherList(plain) {
			return Result{Outcome: Ambiguous, Phrase: m}
		}
	}
	return best
}

var (
	joinOptOut = regexp.MustCompile(`\bopt out\b`)
	bareRemove = regexp.MustCompile(`\b(remove|take) (me|us) (off|from)\b`)
	joined     = strings.NewReplacer("optout", "opt out", "nomas", "no mas") // built once, not per text
)

func unjoin(text string) string {
	return joined.Replace(text)
}

// matchOptOut finds an opt-out wording that nothing before it undoes; one
// a time limits is Ambiguous.
func matchOptOut(text string) (Result, bool) {
	if otherList(text) {
		// "remove me from the waiting list": only a texting list opts out.
		text = otherLists.ReplaceAllStringFunc(text, func(m string) string {
			if otherList(m) {
				return ""
			}
			return m
		})
	}
	for _, p := range optOutPhrases {
		for _, loc := range p.re.FindAllStringIndex(text, -1) {
			m := text[loc[0]:loc[1]]
			if undone.MatchString(text[:loc[0]]) || stopping.MatchString(m) && ownAction.MatchString(text[:loc[0]]) {
				continue
			}
			if limited.MatchString(text[loc[1]:]) {
				return Result{Outcome: Ambiguous, Phrase: m}, true
			}
			return Result{Outcome: OptOut, Phrase: m}, true
		}
	}
	return Result{}, false
}

// perSeClause reads the per-se words of one clause. clauses is how many
// the text has, substantive how many say more than fillers.
func perSeClause(words []string, clauses, substantive int) Result {
	best := Result{Outcome: Not}
	for i, w := range words {
		s, ok := perSe[w]
		if !ok || aboutSomethingElse(words, i) {
			continue
		}
		shown := w
		switch w {
		case "optout":
			shown = "opt out"
		case "nomas":
			shown = "no mas"
		}
		var out Outcome
		switch {
		case allFillers(words) && (clauses == 1 || substantive == 0):
			out = OptOut // the whole text is the request: "STOP please"
		case allFillers(words) && s == strong:
			out = OptOut // "Stop. I found a flat elsewhere."
		case allFillers(words) || s >= medium:
			out = Ambiguous // "Cancel. See you Tuesday", "I told you to stop"
		default:
			out = Not // "end" or "para" inside a sentence is an ordinary word
		}
		if rank(out) > rank(best.Outcome) {
			best = Result{Outcome: out, Phrase: shown}
		}
	}
	return best
}

// aboutSomethingElse reports whether the per-se word at i is used about
// something other than texts: negated, a noun, or followed by what it
// stops, ends or cancels.
func aboutSomethingElse(words []string, i int) bool {
	if i > 0 {
		prev := words[i-1]
		if (prev == "ever" || prev == "even" || prev == "really" || prev == "just") && i > 1 {
			prev = words[i-2]
		}
		if negations[prev] || nounMarkers[prev] || ownAction.MatchString(strings.Join(words[max(0, i-3):i], " ")+" ") {
			return true // "will not stop", "the end", "I will stop texting you"
		}
	}
	j := i + 1
	for j < len(words) && (words[j] == "please" || words[j] == "now" || words[j] == "por" || words[j] == "favor") {
		j++
	}
	if j >= len(words) {
		return false
	}
	next := words[j]
	rest := words[j+1:]
	mentionsTexts := slices.ContainsFunc(rest[:min(3, len(rest))], func(w string) bool { return messaging[w] || w == "me" || w == "us" })
	switch {
	case perSe[next] != 0:
		return false // "stop stop", "STOP END"
	case messaging[next] || next == "me" || next == "us" || next == "all" || next == "everything":
		return false
	case next == "sending" || next == "send" || next == "contacting":
		return !mentionsTexts && !(len(rest) > 0 && fillers[rest[0]])
	case prepositions[next], objects[next]:
		if next == "this" || next == "that" || next == "it" {
			return len(rest) > 0 && !allFillers(rest[:1])
		}
		return !mentionsTexts
	case strings.HasSuffix(next, "ing"):
		return true // "stop leaking", "quit working"
	case fillers[next]:
		return false
	}
	return true // "cancel tomorrow", "end lease"
}

func allFillers(words []string) bool {
	for _, w := range words {
		if !fillers[w] && perSe[w] == 0 {
			return false
		}
	}
	return true
}

func rank(o Outcome) int {
	switch o {
	case OptOut:
		return 2
	case Ambiguous:
		return 1
	}
	return 0
}
