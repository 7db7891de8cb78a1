package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"ringback/bot/optout"
	"ringback/config"
	"ringback/store"
)

// OptOutConfirmWithin is how soon after the caller's request the one
// confirmation text must leave (47 CFR 64.1200(a)(12)): later, none is sent.
const OptOutConfirmWithin = 5 * time.Minute

// Thread entry kinds of a possible opt-out.
const (
	EntryOptOutAsked     = "optout_asked"
	EntryOptOutDismissed = "optout_dismissed"
)

// Sources of an opt-out in the ledger.
const (
	OptOutKeyword = "keyword"        // a keyword the provider answers itself (STOP)
	OptOutPlain   = "plain_language" // other words the classifier recognised
	OptOutStaff   = "staff"          // staff confirmed a possible opt-out
	OptOutManual  = "manual"         // a manager's /callbacks optout
)

// optOutRequest is a caller's request to stop texting, as received.
type optOutRequest struct {
	Caller  string
	Source  string
	Phrase  string // the words that made it one
	Quote   string // the caller's text, for the thread ("" for a keyword)
	By      string // the person who decided it ("" for the caller's own words)
	Message int64  // the caller's text (0: none)
	Case    store.Case
	HasCase bool
	Line    *config.Line
	At      time.Time // when the caller's text arrived
	// Confirm asks for the one confirmation: the provider sends its own for
	// its keywords.
	Confirm bool
}

// optOut records an opt-out across every line; a request the provider did
// not recognise gets one confirmation, if it can leave within
// OptOutConfirmWithin of the request.
func (b *Bot) optOut(ctx context.Context, tx *store.Tx, r optOutRequest) error {
	now := b.clock.Now()
	lineNumber := r.Case.LineNumber
	if r.Line != nil {
		lineNumber = r.Line.Number
	}
	added, err := tx.AddOptOut(ctx, store.OptOutEntry{
		Number: r.Caller, Source: r.Source, LineNumber: lineNumber, Phrase: r.Phrase, AddedBy: r.By, CreatedAt: now,
	})
	if err != nil {
		return err
	}
	deadline := r.At.Add(OptOutConfirmWithin)
	confirm := r.Confirm && added && r.Line != nil
	if r.HasCase {
		if err := b.caseEvent(ctx, tx, r.Case, now, "opted_out", map[string]any{"source": r.Source, "phrase": r.Phrase, "by": r.By}); err != nil {
			return err
		}
		e := Entry{CaseID: r.Case.ID, Kind: EntryOptOut, Text: Plain("Caller opted out of texts (every line)"), Quote: r.Quote}
		if r.By != "" {
			words := "confirmed the opt-out: no more texts to this caller on any line"
			if confirm && now.After(deadline) {
				words += "; no confirmation text, as the caller wrote more than 5 minutes ago"
			}
			e = Entry{CaseID: r.Case.ID, Kind: EntryOptOut, Actor: r.By, Text: Plain(words), Quote: r.Quote}
		}
		if err := b.timeline(ctx, tx, e); err != nil {
			return err
		}
	}
	if !confirm || now.After(deadline) {
		return nil
	}
	return b.autoReplyWith(ctx, tx, r.Case, r.HasCase, r.Caller, r.Line, "optout_confirm", "optout_confirm",
		"optout_confirm:"+strconv.FormatInt(r.Message, 10), outgoing{NotAfter: deadline})
}

// askOptOut flags the case's card: the caller's text msg may be a request
// to stop texting, and staff decide. Nothing is stopped meanwhile.
func (b *Bot) askOptOut(ctx context.Context, tx *store.Tx, c store.Case, msg store.Message, v optout.Result) error {
	if out, err := tx.IsOptedOut(ctx, c.CallerNumber); err != nil || out {
		return err // nothing to ask of a caller who opted out already
	}
	if err := tx.AskOptOut(ctx, store.OptOutQuery{MessageID: msg.ID, CaseID: c.ID, Phrase: v.Phrase, AskedAt: msg.CreatedAt}); err != nil {
		return err
	}
	if err := tx.AddEvent(ctx, c.ID, msg.CreatedAt, "optout_asked", "", map[string]any{"message_id": msg.ID, "phrase": v.Phrase}); err != nil {
		return err
	}
	return b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryOptOutAsked, Text: Text{
		Strong("Possible opt-out — confirm?"), Words(" The caller's text may ask for no more texts (“"), Said(v.Phrase),
		Words("”). Texts still go out until someone chooses "),
		Strong("Opt out"), Words(" or "), Strong("Not an opt-out"), Words(" on the card."),
	}})
}

// DecideOptOut is staff answering the card's possible opt-out: isOptOut
// opts the caller out on every line (the Opt out button); otherwise texts
// go on and the card stops asking (Not an opt-out). The first answer wins.
func (b *Bot) DecideOptOut(ctx context.Context, id int64, a Actor, isOptOut bool) (store.Case, error) {
	decision := store.OptOutDismissed
	if isOptOut {
		decision = store.OptOutConfirmed
	}
	if err := b.mayWork(a); err != nil {
		return store.Case{}, err
	}
	return b.act(ctx, id, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		q, err := tx.OpenOptOutQuery(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, refuse("Case %s has no possible opt-out to decide: someone decided already.", caseRef(c.ID))
		}
		if err != nil {
			return nil, err
		}
		if _, err := tx.DecideOptOut(ctx, c.ID, decision, a.ID, now); err != nil {
			return nil, err
		}
		if decision == store.OptOutDismissed {
			return &Entry{Kind: EntryOptOutDismissed, Actor: a.ID, Text: Plain("marked the caller's text as not an opt-out: texts go on"), Quote: q.Body}, nil
		}
		if c.Withheld() {
			return nil, refuse("The caller withheld their number: there is nothing to opt out.")
		}
		line, _ := b.line(c.LineNumber)
		return nil, b.optOut(ctx, tx, optOutRequest{
			Caller: c.CallerNumber, Source: OptOutStaff, Phrase: q.Phrase, Quote: q.Body, By: a.ID, Message: q.MessageID,
			Case: *c, HasCase: true, Line: line, At: q.AskedAt, Confirm: true,
		})
	})
}

// optOutWords describe a ledger row's source for people.
func optOutWords(e store.OptOutEntry) Text {
	var t Text
	switch {
	case e.Source == OptOutKeyword:
		t = Text{Words("replied "), Code(strings.ToUpper(e.Phrase))}
	case e.Source == OptOutPlain:
		t = Text{Words("asked in their own words ("), Said(e.Phrase), Words(")")}
	case e.Source == OptOutStaff:
		t = Text{Words("confirmed by "), User(e.AddedBy)}
		if e.Phrase != "" {
			t = append(t, Words(" ("), Said(e.Phrase), Words(")"))
		}
	case e.Source == OptOutManual && e.AddedBy != "":
		t = Text{Words("opted out by "), User(e.AddedBy)}
	case e.Source == OptOutManual:
		t = Text{Words("opted out by a manager")}
	case strings.HasPrefix(e.Source, "provider_"):
		t = Text{Wordsf("Twilio reports the number unsubscribed (error %s)", strings.TrimPrefix(e.Source, "provider_"))}
	default:
		t = Text{Said(e.Source)}
	}
	return t
}

// optOutsLimit is how many ledger rows /callbacks optouts lists.
const optOutsLimit = 50

// OptOutsCommand is /callbacks optouts: the ledger, newest first, with
// where each opt-out came from and when.
func (b *Bot) OptOutsCommand(ctx context.Context, a Actor) (Text, error) {
	if err := b.mayWork(a); err != nil {
		return nil, err
	}
	entries, total, err := b.store.OptOuts(ctx, optOutsLimit)
	if err != nil {
		return nil, err
	}
	if total == 0 {
		return Plain("No opt-outs: Ringback may text every caller."), nil
	}
	out := Text{Strong("Opted out of texts"), Wordsf(" — %d number%s, every line, newest first\n", total, plural(total))}
	for _, e := range entries {
		number := config.Format(e.Number, b.cfg.Business.Region)
		out = append(out, Words("• "), Said(number), Words(" — "))
		out = append(out, optOutWords(e)...)
		if line, ok := b.line(e.LineNumber); ok {
			out = append(out, Words(" on "), Said(line.Name))
		}
		out = append(out, Words(" · "), At(e.CreatedAt, TimeWhen), Words("\n"))
	}
	if total > len(entries) {
		out = append(out, Wordsf("…and %d older. ", total-len(entries)))
	}
	out = append(out, Words("Managers: "), Code("optin NUMBER"), Words(" lifts one."))
	return out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// askOnCard puts an undecided possible opt-out (its text, "" when none)
// on an open case's card, with the two buttons that decide it first.
func askOnCard(c store.Case, possible string, k *Card) {
	if c.State == store.CaseClosed || possible == "" {
		return
	}
	k.PossibleOptOut = possible
	k.Actions = append([]string{ActionOptOut, ActionNotOptOut}, k.Actions...)
}
