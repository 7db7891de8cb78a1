package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"ringback/clean"
	"ringback/config"
	"ringback/store"
	"ringback/templates"
)

// The callback picker: a text-back may carry {{callback_link}}, a link to
// a page (handlers/callback.go) where the caller picks a callback slot in
// the line's open hours, says what it is about and adds a short note.
//
// A link is a random token of 128 bits in the URL; only its SHA-256 is
// stored, with its case. It opens that one case's picker, nothing else,
// until it expires, the case closes or it has made CallbackMaxPicks picks.

// Why a link opens no picker; the page words each for the caller without
// saying which case, if any, it was for.
var (
	ErrCallbackUnknown = errors.New("bot: callback link unknown")
	ErrCallbackExpired = errors.New("bot: callback link expired")
	ErrCallbackUsed    = errors.New("bot: callback link used up")
)

// Why a pick is refused; the caller may pick again.
var (
	ErrCallbackSlot     = errors.New("bot: callback slot not offered")
	ErrCallbackFull     = errors.New("bot: callback slot just taken")
	ErrCallbackCategory = errors.New("bot: callback category not the line's")
)

// CallbackNoteMax bounds the caller's note, in characters: it is shown
// on the card in one line.
const CallbackNoteMax = 280

// CallbackMaxPicks is how many picks one link may make: enough to change
// one's mind, not enough to churn a team's schedule.
const CallbackMaxPicks = 5

// callbackTokenBytes is the token's randomness: 128 bits, 22 characters.
const callbackTokenBytes = 16

// newCallbackToken returns a fresh token and the hash it is stored by.
func newCallbackToken() (token, hash string) {
	var raw [callbackTokenBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	return token, CallbackTokenHash(token)
}

// CallbackTokenHash is how a token is stored and looked up.
func CallbackTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// callbackLinkRE finds a picker link's token in a text.
var callbackLinkRE = regexp.MustCompile(`/c/[A-Za-z0-9_-]{22}`)

// maskCallbackLinks hides the tokens of the links in a text shown to
// staff: the link is the caller's to use, not the team's.
func maskCallbackLinks(s string) string { return callbackLinkRE.ReplaceAllString(s, "/c/…") }

// wellFormedToken reports whether token could be one newCallbackToken
// made: anything else is unknown without asking the database.
func wellFormedToken(token string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(raw) == callbackTokenBytes
}

// callbackVars gives vars a callback link for text when text uses one:
// a new link of case c, written in tx, so that the text that carries it
// is written in the same transaction and a re-run of its outbox row
// sends the same link. Without PUBLIC_URL there is no link to give, and
// Render reports the variable missing.
func (b *Bot) callbackVars(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, text string, vars templates.Vars, now time.Time) error {
	if b.publicURL == "" || !slices.Contains(templates.Used(text), "callback_link") {
		return nil
	}
	token, hash := newCallbackToken()
	l := store.CallbackLink{CaseID: c.ID, Hash: hash, CreatedAt: now, ExpiresAt: now.Add(line.Callback.Expires)}
	if err := tx.InsertCallbackLink(ctx, l); err != nil {
		return err
	}
	vars["callback_link"] = b.publicURL + "/c/" + token
	return nil
}

// linkless is text as an automatic text is sent: without PUBLIC_URL there
// is no picker link to give, so the sentences that carry
// {{callback_link}} are left out and the rest still goes to the caller
// (`ringback check` reports PUBLIC_URL unset).
func (b *Bot) linkless(text string) string {
	if b.publicURL != "" {
		return text
	}
	return templates.WithoutSentences(text, "callback_link")
}

// previewCallbackLink is what a preview, or a check that a text can be
// filled, shows for the link a send would make.
func (b *Bot) previewCallbackLink(vars templates.Vars) templates.Vars {
	if b.publicURL != "" {
		vars["callback_link"] = b.publicURL + "/c/…"
	}
	return vars
}

// CallbackPage is what the picker page shows: the business's name and the
// choices, nothing about the caller.
type CallbackPage struct {
	Business   string
	Location   *time.Location // the line's: slots are shown in it
	Slots      []time.Time    // free slots, in order
	Categories []CategoryOption
	// Current is the caller's pick so far (nil: none).
	Current *CallbackPick
	NoteMax int
}

// CallbackPick is a caller's requested callback.
type CallbackPick struct {
	Slot          time.Time
	Category      string
	CategoryLabel string
	Note          string
}

// callbackCategories are the categories a caller may choose on line's
// picker: its triage menu's, in digit order, or every category when it
// has none. Urgent ones are left out: an emergency is no callback to book
// for later, and the page tells the caller to phone instead.
func (b *Bot) callbackCategories(line *config.Line) []CategoryOption {
	var keys []string
	if len(line.Triage) > 0 {
		digits := make([]string, 0, len(line.Triage))
		for d := range line.Triage {
			digits = append(digits, d)
		}
		slices.Sort(digits)
		for _, d := range digits {
			if k := line.Triage[d]; !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	} else {
		for _, c := range b.cfg.Categories {
			keys = append(keys, c.Key)
		}
	}
	var out []CategoryOption
	for _, k := range keys {
		if cat, ok := b.cfg.Category(k); ok && !cat.Urgent {
			out = append(out, CategoryOption{Key: cat.Key, Label: cat.Label})
		}
	}
	return out
}

// callbackLink finds the link of token and checks that it still opens a
// picker; q is the store, or a transaction that then holds the link.
func (b *Bot) callbackLink(ctx context.Context, q interface {
	CallbackLinkByHash(context.Context, string) (store.CallbackLink, error)
}, token string, now time.Time) (store.CallbackLink, error) {
	if !wellFormedToken(token) {
		return store.CallbackLink{}, ErrCallbackUnknown
	}
	l, err := q.CallbackLinkByHash(ctx, CallbackTokenHash(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return l, ErrCallbackUnknown
	case err != nil:
		return l, err
	case !now.Before(l.ExpiresAt):
		return l, ErrCallbackExpired
	case l.Picks >= CallbackMaxPicks:
		return l, ErrCallbackUsed
	}
	return l, nil
}

// openForCallback checks that case c can still take a pick on its line.
func (b *Bot) openForCallback(c store.Case) (*config.Line, error) {
	if c.State == store.CaseClosed || c.Spam {
		return nil, ErrCallbackUsed
	}
	line, ok := b.line(c.LineNumber)
	if !ok {
		return nil, ErrCallbackExpired
	}
	return line, nil
}

// freeSlots are line's slots at now less those its capacity has filled
// with other cases' picks.
func (b *Bot) freeSlots(ctx context.Context, q interface {
	CallbackSlotsTaken(context.Context, string, time.Time, time.Time, int64) (map[time.Time]int, error)
}, line *config.Line, caseID int64, now time.Time) ([]time.Time, error) {
	slots := line.CallbackSlots(now)
	if line.Callback.Capacity <= 0 || len(slots) == 0 {
		return slots, nil
	}
	taken, err := q.CallbackSlotsTaken(ctx, line.Number, slots[0], slots[len(slots)-1].Add(time.Second), caseID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slots, func(s time.Time) bool { return taken[s.UTC()] >= line.Callback.Capacity }), nil
}

// CallbackPage is the picker of the link token, as of now.
func (b *Bot) CallbackPage(ctx context.Context, token string) (CallbackPage, error) {
	now := b.clock.Now()
	l, err := b.callbackLink(ctx, b.store, token, now)
	if err != nil {
		return CallbackPage{}, err
	}
	c, err := b.store.CaseByID(ctx, l.CaseID)
	if err != nil {
		return CallbackPage{}, err
	}
	line, err := b.openForCallback(c)
	if err != nil {
		return CallbackPage{}, err
	}
	slots, err := b.freeSlots(ctx, b.store, line, c.ID, now)
	if err != nil {
		return CallbackPage{}, err
	}
	p := CallbackPage{Business: b.cfg.Business.Name, Location: lineZone(line), Slots: slots,
		Categories: b.callbackCategories(line), NoteMax: CallbackNoteMax}
	r, err := b.store.CallbackRequestFor(ctx, c.ID)
	switch {
	case err == nil:
		p.Current = b.callbackPick(r)
	case !errors.Is(err, store.ErrNotFound):
		return CallbackPage{}, err
	}
	return p, nil
}

func (b *Bot) callbackPick(r store.CallbackRequest) *CallbackPick {
	p := &CallbackPick{Slot: r.SlotAt, Category: r.Category, Note: r.Note}
	if line, ok := b.line(r.LineNumber); ok {
		p.Slot = r.SlotAt.In(lineZone(line))
	}
	if cat, ok := b.cfg.Category(r.Category); ok {
		p.CategoryLabel = cat.Label
	}
	return p
}

// CallbackNote is a caller's note as it is kept: valid text on one line,
// spaces collapsed, at most CallbackNoteMax characters.
func CallbackNote(note string) string {
	note = strings.Join(strings.Fields(clean.Text(note)), " ")
	if utf8.RuneCountInString(note) > CallbackNoteMax {
		note = string([]rune(note)[:CallbackNoteMax])
	}
	return note
}

// PickCallback applies a caller's pick through the link token: the slot
// (one the page offers now), the category (one of the line's on the page,
// or "" to leave the case's) and a note. In one transaction the case gets
// the slot as its due time and the category, its timeline the request, the
// card a refresh, the caller one confirmation text and the owner (or the
// channel) a reminder before the slot. The same pick sent twice changes
// nothing and texts once; a different one replaces it.
func (b *Bot) PickCallback(ctx context.Context, token string, slot time.Time, category, note string) (CallbackPick, error) {
	note = CallbackNote(note)
	var out CallbackPick
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		now := b.clock.Now()
		l, err := b.callbackLink(ctx, tx, token, now)
		if err != nil {
			return err
		}
		c, err := tx.LockCase(ctx, l.CaseID)
		if err != nil {
			return err
		}
		line, err := b.openForCallback(c)
		if err != nil {
			return err
		}
		var cat *config.Category
		if category != "" {
			if !slices.ContainsFunc(b.callbackCategories(line), func(o CategoryOption) bool { return o.Key == category }) {
				return ErrCallbackCategory
			}
			cat, _ = b.cfg.Category(category)
		}
		prev, err := tx.CallbackRequestFor(ctx, c.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && prev.SlotAt.Equal(slot) && prev.Category == category && prev.Note == note {
			out = *b.callbackPick(prev)
			return nil // a double submit: done already
		}
		slots, err := b.freeSlots(ctx, tx, line, c.ID, now)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(slots, slot.Equal) {
			return ErrCallbackSlot
		}
		r := store.CallbackRequest{CaseID: c.ID, LineNumber: line.Number, SlotAt: slot, Category: category,
			Note: note, Picks: prev.Picks + 1, PickedAt: now}
		if err := tx.SaveCallbackRequest(ctx, &r, line.Callback.Capacity); err != nil {
			if errors.Is(err, store.ErrSlotFull) {
				return ErrCallbackFull
			}
			return err
		}
		if err := tx.UseCallbackLink(ctx, l.ID, now); err != nil {
			return err
		}
		out = *b.callbackPick(r)
		words := callbackWords(out)
		if cat != nil && cat.Key != c.Category {
			e := Entry{Text: Plain("Caller chose " + cat.Label + " on the callback page")}
			if err := b.setCategory(ctx, tx, &c, line, cat, now, "caller", map[string]any{"source": "callback_page"}, e); err != nil {
				return err
			}
		}
		// The caller's chosen time is when the case must be acted on,
		// whatever staff do to it before (setDue keeps it).
		c.CallbackAt, c.UpdatedAt = &r.SlotAt, now
		b.setDue(&c)
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, c.ID, now, "callback_requested", "", map[string]any{
			"slot": r.SlotAt, "category": category, "note": note, "pick": r.Picks, "seat": r.Seat,
		}); err != nil {
			return err
		}
		e := Entry{CaseID: c.ID, Kind: EntryCallback, Text: Plain("📅 " + words), Quote: note}
		if prev.Picks > 0 {
			e.Text = Plain("📅 Caller changed the callback: " + strings.TrimPrefix(words, "Callback requested "))
		}
		if err := b.timeline(ctx, tx, e); err != nil {
			return err
		}
		if err := b.confirmCallback(ctx, tx, c, line, r, now); err != nil {
			return err
		}
		if err := b.queueCallbackReminder(ctx, tx, c, line, r.SlotAt, now); err != nil {
			return err
		}
		return b.caseChanged(ctx, tx, c, "callback_requested")
	})
	return out, err
}

// callbackWords is the card's and thread's line for a pick, in the line's
// time: "Callback requested Tue 14:30 — Maintenance". The note, the
// caller's own words, is added by the renderer, escaped.
func callbackWords(p CallbackPick) string {
	s := "Callback requested " + p.Slot.Format("Mon 15:04")
	if p.CategoryLabel != "" {
		s += " — " + p.CategoryLabel
	}
	return s
}

// confirmCallback queues the one confirmation text of a pick (keyed by
// the pick's number, so a re-run of the transaction's effects sends it
// once), unless the caller may no longer be texted.
func (b *Bot) confirmCallback(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, r store.CallbackRequest, now time.Time) error {
	if why, err := b.whyNotTextable(ctx, tx, c.CallerNumber); err != nil || why != "" {
		if err != nil {
			return err
		}
		return tx.AddEvent(ctx, c.ID, now, "callback_confirm_skipped", "", map[string]string{"reason": why})
	}
	when := r.SlotAt.In(lineZone(line)).Format("Mon 2 Jan at 15:04")
	body := fmt.Sprintf("%s: thanks, we'll call you back on %s. To change the time, use the same link.", b.cfg.Business.Name, when)
	_, err := b.queueSMS(ctx, tx, c, line, outgoing{Kind: "callback_confirm", Body: body},
		fmt.Sprintf("callback_confirm:%d:%d", c.ID, r.Picks), now)
	return err
}

// lineZone is the zone line's hours are read in.
func lineZone(line *config.Line) *time.Location {
	if line == nil || line.Timezone == nil {
		return time.UTC
	}
	return line.Timezone
}

// KindCallbackReminder is the outbox kind of the reminder before a picked
// callback slot.
const KindCallbackReminder = "callback.remind"

// callbackReminderJob is the reminder's payload: the slot it was queued
// for, so that a reminder of a slot the caller has since changed does
// nothing.
type callbackReminderJob struct {
	CaseID int64     `json:"case_id"`
	Slot   time.Time `json:"slot"`
}

// queueCallbackReminder times the reminder of slot: Callback.RemindBefore
// ahead of it, on the outbox's clock, once per case and slot.
func (b *Bot) queueCallbackReminder(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, slot, now time.Time) error {
	return tx.EnqueueLater(store.NewOutbox{
		Kind: KindCallbackReminder, DedupeKey: fmt.Sprintf("callback_remind:%d:%d", c.ID, slot.Unix()),
		Payload: callbackReminderJob{CaseID: c.ID, Slot: slot.UTC()}, CaseID: c.ID,
		RunAt: slot.Add(-line.Callback.RemindBefore),
	}, now)
}

// performCallbackReminder tells the case's owner by DM, or the line's
// channel when nobody owns it, that the caller expects a call soon;
// nothing when the case closed or the caller picked another slot.
func (b *Bot) performCallbackReminder(ctx context.Context, it store.OutboxItem) error {
	var job callbackReminderJob
	if err := it.Decode(&job); err != nil {
		return Permanent(err)
	}
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LockCase(ctx, job.CaseID)
		if err != nil {
			return err
		}
		r, err := tx.CallbackRequestFor(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		line, ok := b.line(c.LineNumber)
		if !ok || c.State == store.CaseClosed || !r.SlotAt.Equal(job.Slot) {
			return nil
		}
		now := b.clock.Now()
		pick := b.callbackPick(r)
		what := fmt.Sprintf("⏰ %s: the caller expects a call at %s", caseRef(c.ID), pick.Slot.Format("15:04"))
		key := fmt.Sprintf("callback_remind:%d:%d", c.ID, job.Slot.Unix())
		entry := Entry{CaseID: c.ID, Kind: EntryReminder, Text: Plain(what), Quote: r.Note}
		if c.Owner != "" {
			if err := b.notifyUser(ctx, tx, Notice{User: c.Owner, CaseID: c.ID, Text: Plain(what + " (" + callbackWords(*pick) + ")")}, key); err != nil {
				return err
			}
			entry.Text = Plain(what + ": reminded the owner by DM")
		} else {
			entry.Mention = "here"
			if line.OnDuty != "" {
				entry.Mention = line.OnDuty
			}
			entry.Text = Plain(what + ". Who can take it?")
		}
		if err := tx.AddEvent(ctx, c.ID, now, "callback_reminded", "", map[string]any{"slot": r.SlotAt, "owner": c.Owner}); err != nil {
			return err
		}
		// The caller hears the call is coming, if the line says so; not
		// once the slot has passed (a reminder run late).
		if err := b.statusText(ctx, tx, c, line, line.StatusTexts.CallbackSoon,
			fmt.Sprintf("callback_soon:%d", job.Slot.Unix()), b.vars(ctx, tx, c, line), r.SlotAt); err != nil {
			return err
		}
		if err := b.timeline(ctx, tx, entry); err != nil {
			return err
		}
		// The row is done in the same commit: a process that dies after the
		// reminder is recorded cannot run it again (a second thread entry).
		return completeInTx(ctx, tx)
	})
}
