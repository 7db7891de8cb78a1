package handlers

import (
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/time/rate"

	"ringback/bot"
)

// The caller's callback picker, GET and POST /c/{token}: a page served to
// a phone, no login, no JavaScript. The token in the path is the
// capability; the page shows the business's name and the choices, never
// the caller's number, name or case.

// MountCallbacks serves the callback picker. publicURL is PUBLIC_URL: a
// POST whose Origin is neither it nor the page's own host is refused.
func (s *Server) MountCallbacks(b *bot.Bot, publicURL string, now func() time.Time) {
	s.picker = &picker{
		bot: b, log: s.log, origin: originOf(publicURL),
		perToken: newLimiter(now, pickerTokenRate, pickerTokenBurst),
		perIP:    newLimiter(now, pickerIPRate, pickerIPBurst),
	}
	s.mount(partCallbacks)
}

// Rate limits of the picker. A caller needs a handful of requests; the
// per-address limit is higher because a mobile network puts many phones
// behind one address.
const (
	pickerTokenRate  = 20.0 / 60 // requests a second, per link
	pickerTokenBurst = 20
	pickerIPRate     = 60.0 / 60 // per client address
	pickerIPBurst    = 60
)

// FrameCallbacksInPage lets pages of Ringback's own origin show the picker
// in a frame: the demo's sandbox shows it on its phone. Production never
// calls it, and the picker may be framed by no page at all there.
func (s *Server) FrameCallbacksInPage() {
	if s.picker != nil {
		s.picker.frameSelf = true
	}
}

type picker struct {
	bot      *bot.Bot
	log      *slog.Logger
	origin   string // scheme://host of PUBLIC_URL ("" when unset)
	perToken *limiter
	perIP    *limiter
	// frameSelf allows frames of the page's own origin (the demo).
	frameSelf bool
}

// loggedPath is the path as logged: a picker's token never reaches the
// logs, any more than a bearer token would.
func loggedPath(p string) string {
	if strings.HasPrefix(p, "/c/") {
		return "/c/…"
	}
	return p
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// sameOrigin reports whether a POST comes from the picker's own page: no
// Origin (older browsers, privacy settings), PUBLIC_URL's, or the host
// the request was made to.
func (p *picker) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if o == "null" {
		return false
	}
	if p.origin != "" && strings.EqualFold(o, p.origin) {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// allowed applies the rate limits; over them it has answered 429.
func (p *picker) allowed(w http.ResponseWriter, r *http.Request, words *pickerWords) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	// Keyed by the token's hash: the limiter's memory holds no token.
	if p.perIP.allow(ip) && p.perToken.allow(bot.CallbackTokenHash(r.PathValue("token"))) {
		return true
	}
	w.Header().Set("Retry-After", "60")
	p.message(w, http.StatusTooManyRequests, words, words.TooMany)
	return false
}

func (p *picker) get(w http.ResponseWriter, r *http.Request) {
	words := wordsFor(r)
	if !p.allowed(w, r, words) {
		return
	}
	page, err := p.bot.CallbackPage(r.Context(), r.PathValue("token"))
	if err != nil {
		p.failed(w, words, err)
		return
	}
	p.form(w, http.StatusOK, words, r.PathValue("token"), page, "", formValues{})
}

func (p *picker) post(w http.ResponseWriter, r *http.Request) {
	words := wordsFor(r)
	if !p.allowed(w, r, words) {
		return
	}
	if !p.sameOrigin(r) {
		p.message(w, http.StatusForbidden, words, words.Unknown)
		return
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			p.message(w, http.StatusRequestEntityTooLarge, words, words.Error)
			return
		}
		p.message(w, http.StatusBadRequest, words, words.Error)
		return
	}
	token := r.PathValue("token")
	v := formValues{Slot: r.PostForm.Get("slot"), Category: r.PostForm.Get("category"), Note: r.PostForm.Get("note")}
	secs, err := strconv.ParseInt(v.Slot, 10, 64)
	if err != nil {
		p.again(w, r, words, token, http.StatusBadRequest, words.ChooseTime, v)
		return
	}
	pick, err := p.bot.PickCallback(r.Context(), token, time.Unix(secs, 0), v.Category, v.Note)
	switch {
	case errors.Is(err, bot.ErrCallbackSlot), errors.Is(err, bot.ErrCallbackFull):
		p.again(w, r, words, token, http.StatusConflict, words.Taken, v)
		return
	case errors.Is(err, bot.ErrCallbackCategory):
		p.again(w, r, words, token, http.StatusBadRequest, words.Error, v)
		return
	case err != nil:
		p.failed(w, words, err)
		return
	}
	p.render(w, http.StatusOK, words, pageData{Words: words, Business: p.bot.Config().Business.Name, Done: true,
		Current: words.pick(&pick), Token: token})
}

// again shows the form once more, with the caller's choices and why the
// pick was not taken.
func (p *picker) again(w http.ResponseWriter, r *http.Request, words *pickerWords, token string, status int, problem string, v formValues) {
	page, err := p.bot.CallbackPage(r.Context(), token)
	if err != nil {
		p.failed(w, words, err)
		return
	}
	p.form(w, status, words, token, page, problem, v)
}

// failed answers a link that opens no picker, or an error of ours. Unknown
// and expired links differ only in their words: neither tells whether a
// case exists.
func (p *picker) failed(w http.ResponseWriter, words *pickerWords, err error) {
	switch {
	case errors.Is(err, bot.ErrCallbackUnknown):
		p.message(w, http.StatusNotFound, words, words.Unknown)
	case errors.Is(err, bot.ErrCallbackExpired):
		p.message(w, http.StatusGone, words, words.Expired)
	case errors.Is(err, bot.ErrCallbackUsed):
		p.message(w, http.StatusGone, words, words.Used)
	default:
		p.log.Error("callback picker failed", "error", err)
		p.message(w, http.StatusInternalServerError, words, words.Error)
	}
}

// formValues are the caller's choices, kept when the form comes back.
type formValues struct{ Slot, Category, Note string }

func (p *picker) form(w http.ResponseWriter, status int, words *pickerWords, token string, page bot.CallbackPage, problem string, v formValues) {
	d := pageData{Words: words, Business: page.Business, Token: token, Problem: problem, Note: v.Note,
		NoteMax: page.NoteMax, Current: words.pick(page.Current)}
	selected := v.Slot
	if selected == "" && page.Current != nil {
		selected = strconv.FormatInt(page.Current.Slot.Unix(), 10)
	}
	for _, s := range page.Slots {
		local := s.In(page.Location)
		day := words.day(local)
		if len(d.Days) == 0 || d.Days[len(d.Days)-1].Label != day {
			d.Days = append(d.Days, slotDay{Label: day})
		}
		value := strconv.FormatInt(s.Unix(), 10)
		last := &d.Days[len(d.Days)-1]
		last.Slots = append(last.Slots, slotChoice{Value: value, Label: local.Format("15:04"), Checked: value == selected,
			ID: "s" + value})
	}
	category := v.Category
	if category == "" && page.Current != nil {
		category = page.Current.Category
	}
	for _, c := range page.Categories {
		d.Categories = append(d.Categories, categoryChoice{Key: c.Key, Label: c.Label, Selected: c.Key == category})
	}
	p.render(w, status, words, d)
}

func (p *picker) message(w http.ResponseWriter, status int, words *pickerWords, text string) {
	p.render(w, status, words, pageData{Words: words, Message: text})
}

func (p *picker) render(w http.ResponseWriter, status int, words *pickerWords, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The path is the capability: it goes to no other site. Not
	// "no-referrer", under which browsers send the page's own POST with
	// "Origin: null", which sameOrigin rightly refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	ancestors := "'none'"
	if p.frameSelf {
		ancestors = "'self'"
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors "+ancestors+"; base-uri 'none'")
	h.Set("Content-Language", words.Lang)
	w.WriteHeader(status)
	if err := pickerPage.Execute(w, d); err != nil {
		p.log.Warn("callback picker: page not written", "error", err)
	}
}

type pageData struct {
	*Words
	Business   string
	Token      string
	Message    string // a page with only this to say
	Problem    string // why the pick was not taken
	Done       bool
	Current    string // the pick so far, in words
	Days       []slotDay
	Categories []categoryChoice
	Note       string
	NoteMax    int
}

// Words is pickerWords under the name the template reads.
type Words = pickerWords

type slotDay struct {
	Label string
	Slots []slotChoice
}

type slotChoice struct {
	ID, Value, Label string
	Checked          bool
}

type categoryChoice struct {
	Key, Label string
	Selected   bool
}

// pickerPage is the one template of every picker page. Sized for a 320 px
// screen: one column, 16 px text, targets at least 44 px high; colours
// meet WCAG AA contrast; every control has a label; focus is visible.
var pickerPage = template.Must(template.New("picker").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{if .Business}}{{.Business}} · {{end}}{{.Title}}</title>
<style>
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
main{max-width:32rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.5rem 0}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend{font-weight:600;margin-bottom:.25rem}
.day{margin:0 0 .75rem}
.slots{display:flex;flex-wrap:wrap;gap:.5rem}
.slot{display:inline-flex;align-items:center;gap:.35rem;min-height:44px;padding:0 .75rem;border:1px solid #595959;border-radius:6px}
label{display:block}
select,textarea{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;border:1px solid #595959;border-radius:6px;min-height:44px;margin:.25rem 0 1rem}
button{font:inherit;font-weight:600;min-height:44px;width:100%;border:0;border-radius:6px;background:#0b57d0;color:#fff}
:focus-visible{outline:3px solid #b3261e;outline-offset:2px}
.problem{border-left:4px solid #b3261e;padding:.25rem .75rem;background:#fdecea}
.current,.hint{color:#3d3d3d}
</style>
</head>
<body>
<main>
{{if .Business}}<h1>{{.Business}}</h1>{{end}}
{{if .Message}}<p role="status">{{.Message}}</p>
{{else if .Done}}<p role="status">{{.DoneText}} <strong>{{.Current}}</strong></p>
<p>{{.DoneChange}}</p>
{{else}}<p>{{.Intro}}</p>
{{if .Current}}<p class="current">{{.CurrentText}} <strong>{{.Current}}</strong></p>{{end}}
{{if .Problem}}<p class="problem" role="alert">{{.Problem}}</p>{{end}}
{{if .Days}}<form method="post" action="/c/{{.Token}}">
<fieldset>
<legend>{{.Time}}</legend>
{{range .Days}}<fieldset class="day"><legend>{{.Label}}</legend><div class="slots">
{{range .Slots}}<label class="slot" for="{{.ID}}"><input type="radio" id="{{.ID}}" name="slot" value="{{.Value}}" required{{if .Checked}} checked{{end}}> {{.Label}}</label>
{{end}}</div></fieldset>
{{end}}</fieldset>
{{if .Categories}}<label for="category">{{.About}}</label>
<select id="category" name="category">
<option value="">{{.NotSure}}</option>
{{range .Categories}}<option value="{{.Key}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>
{{end}}</select>{{end}}
<label for="note">{{.NoteLabel}}</label>
<textarea id="note" name="note" rows="3" maxlength="{{.NoteMax}}" aria-describedby="note-hint">{{.Note}}</textarea>
<p class="hint" id="note-hint">{{.NoteHint}}</p>
<button type="submit">{{.Submit}}</button>
</form>
{{else}}<p>{{.NoSlots}}</p>{{end}}
<p class="hint">{{.Emergency}}</p>
{{end}}
</main>
</body>
</html>
`))

// limiter is a token bucket per key (golang.org/x/time/rate): rate a
// second, up to burst. Keys idle long enough to have refilled are
// forgotten, so the map stays small.
type limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	rate    rate.Limit
	burst   int
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(now func() time.Time, perSecond float64, burst int) *limiter {
	return &limiter{now: now, rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.buckets) > 10000 {
		full := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
		for k, b := range l.buckets {
			if now.Sub(b.seen) > full {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// pickerWords are the picker's words in one language. To add a language,
// add its table to pickerLanguages.
type pickerWords struct {
	Lang                                      string
	Title, Intro, Time, About, NotSure        string
	NoteLabel, NoteHint, Submit, CurrentText  string
	DoneText, DoneChange, NoSlots, Emergency  string
	Unknown, Expired, Used, Taken, ChooseTime string
	TooMany, Error                            string
	Weekdays                                  [7]string  // Sunday first, as time.Weekday
	Months                                    [12]string // January first
}

var pickerLanguages = []*pickerWords{
	{
		Lang: "en", Title: "Choose a callback time",
		Intro:       "Choose when we should call you back.",
		Time:        "When should we call?",
		About:       "What is it about?",
		NotSure:     "Not sure / something else",
		NoteLabel:   "Anything we should know? (optional)",
		NoteHint:    "A few words, no personal details needed.",
		Submit:      "Request this callback",
		CurrentText: "Your callback so far:",
		DoneText:    "Thank you. We'll call you back:",
		DoneChange:  "We've sent you a text to confirm. To change the time, open the same link again.",
		NoSlots:     "There are no callback times left in the next few days. Please call us instead.",
		Emergency:   "In an emergency, please phone us or the emergency services now.",
		Unknown:     "Sorry, this link is not valid. Please call us or reply to our text.",
		Expired:     "Sorry, this link has expired. Please call us or reply to our text.",
		Used:        "This callback request can no longer be changed. Please call us or reply to our text.",
		Taken:       "Sorry, that time is no longer available. Please choose another.",
		ChooseTime:  "Please choose a time.",
		TooMany:     "Too many attempts. Please wait a minute and try again.",
		Error:       "Sorry, something went wrong. Please try again in a moment.",
		Weekdays:    [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
		Months:      [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	},
	{
		Lang: "es", Title: "Elija una hora para que le llamemos",
		Intro:       "Elija cuándo quiere que le devolvamos la llamada.",
		Time:        "¿Cuándo le llamamos?",
		About:       "¿De qué se trata?",
		NotSure:     "No estoy seguro / otra cosa",
		NoteLabel:   "¿Algo que debamos saber? (opcional)",
		NoteHint:    "Unas palabras; no hace falta dar datos personales.",
		Submit:      "Solicitar esta llamada",
		CurrentText: "Su llamada solicitada:",
		DoneText:    "Gracias. Le llamaremos:",
		DoneChange:  "Le hemos enviado un SMS de confirmación. Para cambiar la hora, abra el mismo enlace.",
		NoSlots:     "No quedan horas disponibles en los próximos días. Por favor, llámenos.",
		Emergency:   "En caso de emergencia, llámenos o llame a los servicios de emergencia ahora.",
		Unknown:     "Lo sentimos, este enlace no es válido. Llámenos o responda a nuestro SMS.",
		Expired:     "Lo sentimos, este enlace ha caducado. Llámenos o responda a nuestro SMS.",
		Used:        "Esta solicitud ya no se puede cambiar. Llámenos o responda a nuestro SMS.",
		Taken:       "Lo sentimos, esa hora ya no está disponible. Elija otra.",
		ChooseTime:  "Elija una hora, por favor.",
		TooMany:     "Demasiados intentos. Espere un minuto y vuelva a intentarlo.",
		Error:       "Lo sentimos, algo ha fallado. Vuelva a intentarlo en un momento.",
		Weekdays:    [7]string{"dom", "lun", "mar", "mié", "jue", "vie", "sáb"},
		Months:      [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"},
	},
}

var pickerMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(pickerLanguages))
	for i, w := range pickerLanguages {
		tags[i] = language.Make(w.Lang)
	}
	return language.NewMatcher(tags)
}()

// wordsFor picks the language of the request's Accept-Language; English
// when none of ours is asked for.
func wordsFor(r *http.Request) *pickerWords {
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, conf := pickerMatcher.Match(tags...)
	if conf == language.No {
		return pickerLanguages[0]
	}
	return pickerLanguages[i]
}

// day names a local date: "Tue 17 Nov".
func (w *pickerWords) day(t time.Time) string {
	return w.Weekdays[t.Weekday()] + " " + strconv.Itoa(t.Day()) + " " + w.Months[t.Month()-1]
}

// pick words a pick: "Tue 17 Nov 14:30 — Maintenance" ("" for none).
func (w *pickerWords) pick(c *bot.CallbackPick) string {
	if c == nil {
		return ""
	}
	s := w.day(c.Slot) + " " + c.Slot.Format("15:04")
	if c.CategoryLabel != "" {
		s += " — " + c.CategoryLabel
	}
	return s
}
