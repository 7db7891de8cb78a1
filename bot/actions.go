package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
	"ringback/templates"
)

func refuse(format string, args ...any) error { return &Refusal{Message: fmt.Sprintf(format, args...)} }

// IsManager reports whether the actor has managers' rights.
func (b *Bot) IsManager(a Actor) bool { return b.cfg.IsManager(a.ID) }

// mayWork refuses whoever is staff of no line and not a manager.
func (b *Bot) mayWork(a Actor) error { return b.may(a, "command:", nil) }

// act runs fn on case id, locked, then records the change: event, card
// refresh, timeline entry.
func (b *Bot) act(ctx context.Context, id int64, fn func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error)) (store.Case, error) {
	var out store.Case
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LockCase(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return refuse("Case %s no longer exists.", caseRef(id))
		}
		if err != nil {
			return err
		}
		now := b.clock.Now()
		entry, err := fn(tx, &c, now)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		b.setDue(&c) // claimed or released: the next deadline changes
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		if entry != nil {
			entry.CaseID, entry.At = c.ID, now
			if err := tx.AddEvent(ctx, c.ID, now, entry.Kind, entry.Actor, map[string]string{"text": entry.Text.String(), "note": entry.Quote}); err != nil {
				return err
			}
			if err := b.timeline(ctx, tx, *entry); err != nil {
				return err
			}
		}
		out = c
		return b.caseChanged(ctx, tx, c, "action")
	})
	return out, err
}

// Claim makes the actor the case's owner. The first click wins; later ones
// are refused with who owns it.
func (b *Bot) Claim(ctx context.Context, id int64, a Actor) (store.Case, error) {
	return b.actAs(ctx, id, a, ActionClaim, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		switch {
		case c.State == store.CaseClosed:
			return nil, refuse("Case %s is closed.", caseRef(c.ID))
		case c.Owner == a.ID:
			return nil, refuse("You already own case %s.", caseRef(c.ID))
		case c.Owner != "":
			return nil, &Refusal{Message: fmt.Sprintf("Case %s is already claimed.", caseRef(c.ID)), Owner: c.Owner}
		}
		c.State, c.Owner, c.AssignedBy = store.CaseClaimed, a.ID, ""
		if c.ClaimedAt == nil {
			c.ClaimedAt = &now // time to claim counts the first claim
		}
		if line, ok := b.line(c.LineNumber); ok {
			if err := b.statusText(ctx, tx, *c, line, line.StatusTexts.Claimed, "claimed:"+a.ID, b.staffVars(ctx, tx, *c, line, a), time.Time{}); err != nil {
				return nil, err
			}
		}
		return &Entry{Kind: EntryClaimed, Actor: a.ID, Text: Plain("claimed the case")}, nil
	})
}

// Release puts a claimed case back in the queue (its owner or a manager).
func (b *Bot) Release(ctx context.Context, id int64, a Actor) (store.Case, error) {
	return b.actAs(ctx, id, a, ActionRelease, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State != store.CaseClaimed {
			return nil, refuse("Case %s is not claimed.", caseRef(c.ID))
		}
		c.State, c.Owner, c.AssignedBy = store.CaseOpen, "", ""
		return &Entry{Kind: EntryReleased, Actor: a.ID, Text: Plain("released the case back to the queue")}, nil
	})
}

// Reassign gives the case to another person (managers only).
func (b *Bot) Reassign(ctx context.Context, id int64, a Actor, to string) (store.Case, error) {
	if err := b.may(a, ActionReassign, nil); err != nil {
		return store.Case{}, err
	}
	if to == "" {
		return store.Case{}, refuse("Choose someone to assign the case to.")
	}
	return b.actAs(ctx, id, a, ActionReassign, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State == store.CaseClosed {
			return nil, refuse("Case %s is closed.", caseRef(c.ID))
		}
		c.State, c.Owner, c.AssignedBy = store.CaseClaimed, to, a.ID
		if c.ClaimedAt == nil {
			c.ClaimedAt = &now
		}
		return &Entry{Kind: EntryReassign, Actor: a.ID, Text: Text{Words("assigned the case to "), User(to)}}, nil
	})
}

// mention is the neutral form of a user mention; renderers translate it.

// ReplyChoices lists the approved templates that fit the case's category,
// previewed for the actor, by category and label. Automatic texts
// (text-back, safety…) are left out. A choice that cannot be sent says why
// (Blocked): the caller cannot be texted, or the template needs a value
// Ringback does not know and has no fallback for it.
func (b *Bot) ReplyChoices(ctx context.Context, id int64, a Actor) ([]TemplateChoice, error) {
	c, err := b.store.CaseByID(ctx, id)
	if err != nil {
		return nil, err
	}
	ts, err := b.store.ApprovedTemplates(ctx)
	if err != nil {
		return nil, err
	}
	line, _ := b.line(c.LineNumber)
	vars := b.previewCallbackLink(b.staffVars(ctx, b.store, c, line, a))
	why, err := b.whyNoReply(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []TemplateChoice
	for _, t := range ts {
		if b.automaticTemplate(t.Key) || !t.Allows(c.Category) {
			continue
		}
		out = append(out, b.choice(t, vars, why))
	}
	// Grouped as the modal shows them: the case's category first, then
	// templates for any case; by label within.
	slices.SortStableFunc(out, func(x, y TemplateChoice) int {
		return cmp.Or(cmp.Compare(boolRank(x.Category == AnyCategory), boolRank(y.Category == AnyCategory)),
			cmp.Compare(x.Category, y.Category), cmp.Compare(x.Label, y.Label))
	})
	return out, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// whyNoReply is why no text can reach the case's caller ("" when one can).
func (b *Bot) whyNoReply(ctx context.Context, c store.Case) (string, error) {
	if c.Withheld() {
		return "the caller withheld their number: there is nobody to text", nil
	}
	if _, ok := b.line(c.LineNumber); !ok {
		return "the case's line is no longer configured", nil
	}
	return b.whyNotTextable(ctx, b.store, c.CallerNumber)
}

// automatic are the templates Ringback sends by itself.
var automatic = map[string]bool{"textback_day": true, "textback_night": true, "optout_confirm": true, "help": true}

// automaticTemplate reports whether key is one Ringback sends by itself:
// the fixed ones, and any a line names as a status text.
func (b *Bot) automaticTemplate(key string) bool {
	if automatic[key] {
		return true
	}
	for i := range b.cfg.Lines {
		if st := b.cfg.Lines[i].StatusTexts; st.Claimed == key || st.CallbackSoon == key {
			return true
		}
	}
	return false
}

func (b *Bot) choice(t store.Template, vars templates.Vars, why string) TemplateChoice {
	ch := TemplateChoice{Key: t.Key, Label: b.templateLabel(t.Key), Category: b.categoryLabel(t), Text: t.Text,
		Preview: templates.Preview(t.Text, vars), Blocked: why}
	if _, err := templates.Render(t.Text, vars); err != nil {
		var me *templates.MissingError
		if errors.As(err, &me) {
			ch.Missing = me.Missing
			if ch.Blocked == "" {
				ch.Blocked = missingWords(me.Missing)
			}
		} else if ch.Blocked == "" {
			ch.Blocked = strings.TrimPrefix(err.Error(), "templates: ")
		}
	}
	ch.Segments = templates.Segments(ch.Preview)
	return ch
}

// missingWords says which values a template lacks for this caller, and
// how to write it so that it never does.
func missingWords(missing []string) string {
	labels := make([]string, len(missing))
	for i, m := range missing {
		labels[i] = templates.Label(m)
	}
	return fmt.Sprintf("Ringback does not know the %s for this caller, and the template has no fallback ({{%s|…}})",
		strings.Join(labels, ", "), missing[0])
}

// templateLabel is the label the file gives key, else its words
// ("viewing_slots" → "Viewing slots").
func (b *Bot) templateLabel(key string) string {
	if t, ok := b.cfg.Template(key); ok && t.Label != "" {
		return t.Label
	}
	w := strings.ReplaceAll(key, "_", " ")
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// categoryLabel names the cases a template is for, by their categories' labels.
func (b *Bot) categoryLabel(t store.Template) string {
	if t.Categories == "" {
		return AnyCategory
	}
	var labels []string
	for _, key := range strings.Split(t.Categories, ",") {
		if cat, ok := b.cfg.Category(key); ok && cat.Label != "" {
			key = cat.Label
		}
		labels = append(labels, key)
	}
	return strings.Join(labels, ", ")
}

// PreviewReply previews one template for the case (the modal's live preview).
func (b *Bot) PreviewReply(ctx context.Context, id int64, a Actor, key string) (TemplateChoice, error) {
	c, err := b.store.CaseByID(ctx, id)
	if err != nil {
		return TemplateChoice{}, err
	}
	t, err := b.store.ApprovedTemplate(ctx, key)
	if err != nil {
		return TemplateChoice{}, refuse("Template %q is not approved.", key)
	}
	line, _ := b.line(c.LineNumber)
	why, err := b.whyNoReply(ctx, c)
	if err != nil {
		return TemplateChoice{}, err
	}
	return b.choice(t, b.previewCallbackLink(b.staffVars(ctx, b.store, c, line, a)), why), nil
}

// staffVars are the variables of a reply sent by a; q reads the caller's
// contact (the transaction when there is one: SQLite has one connection).
func (b *Bot) staffVars(ctx context.Context, q caseReader, c store.Case, line *config.Line, a Actor) templates.Vars {
	v := b.vars(ctx, q, c, line)
	if a.Name != "" {
		v["agent"] = templates.FirstName(a.Name)
	}
	return v
}

// SendReply texts the caller an approved template as the actor, now. The
// reply counts as human contact when the provider accepts it (contactSent)
// and stops counting if a receipt says it failed.
func (b *Bot) SendReply(ctx context.Context, id int64, a Actor, key string) (store.Case, error) {
	return b.sendReply(ctx, id, a, key, false)
}

// sendReply queues the reply: now, or, when later is set and the caller is
// in their quiet hours, for their window's next opening.
func (b *Bot) sendReply(ctx context.Context, id int64, a Actor, key string, later bool) (store.Case, error) {
	if err := b.outsider(a, RightOf(ActionReply, true)); err != nil {
		return store.Case{}, err
	}
	t, err := b.store.ApprovedTemplate(ctx, key)
	if err != nil || b.automaticTemplate(key) {
		return store.Case{}, refuse("Template %q is not an approved reply.", key)
	}
	return b.actAs(ctx, id, a, ActionReply, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.Withheld() {
			return nil, refuse("The caller withheld their number: there is nobody to text.")
		}
		if !t.Allows(c.Category) {
			return nil, refuse("Template %q is not for %s cases.", key, c.Category)
		}
		if why, err := b.whyNotTextable(ctx, tx, c.CallerNumber); err != nil || why != "" {
			if err != nil {
				return nil, err
			}
			return nil, refuse("Not sent: %s.", why)
		}
		line, ok := b.line(c.LineNumber)
		if !ok {
			return nil, refuse("Case %s's line is no longer configured.", caseRef(c.ID))
		}
		vars := b.staffVars(ctx, tx, *c, line, a)
		if err := b.callbackVars(ctx, tx, *c, line, t.Text, vars, now); err != nil {
			return nil, err
		}
		body, err := templates.Render(t.Text, vars)
		if err != nil {
			var me *templates.MissingError
			if errors.As(err, &me) {
				return nil, refuse("Not sent: %s. Choose another template.", missingWords(me.Missing))
			}
			return nil, err
		}
		runAt, scheduled := now, (*Entry)(nil)
		if later {
			runAt, scheduled = b.replyWindow(*c, line, a, body, now)
		}
		m, err := b.queueSMS(ctx, tx, *c, line, outgoing{Kind: "template", Body: body, TemplateKey: key, SentBy: a.ID, Scheduled: scheduled != nil},
			fmt.Sprintf("reply:%d:%s:%d", c.ID, a.ID, now.UnixNano()), runAt)
		if err != nil {
			return nil, err
		}
		// Not contact yet: it counts once Twilio accepts the text.
		if err := tx.AddEvent(ctx, c.ID, now, "reply_queued", a.ID, map[string]any{"template": key, "version": t.Version, "message_id": m.ID, "run_at": runAt}); err != nil {
			return nil, err
		}
		return scheduled, nil // the thread shows the text once Twilio accepts it
	})
}

// contacted counts a human contact attempt; the first sets the time of
// first human contact (DESIGN.md: a staff SMS or a logged callback).
func (b *Bot) contacted(c *store.Case, now time.Time) {
	c.ContactAttempts++
	if c.FirstContactAt == nil {
		c.FirstContactAt = &now
	}
}

// LogCallback records a call-back attempt.
func (b *Bot) LogCallback(ctx context.Context, id int64, a Actor, result, note string) (store.Case, error) {
	if err := b.outsider(a, RightOf(ActionLog, true)); err != nil {
		return store.Case{}, err
	}
	if !slices.Contains(CallbackResults, result) {
		return store.Case{}, refuse("Choose a result: %s.", strings.Join(CallbackResults, ", "))
	}
	return b.actAs(ctx, id, a, ActionLog, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State == store.CaseClosed {
			return nil, refuse("Case %s is closed; reopen it first.", caseRef(c.ID))
		}
		b.contacted(c, now)
		return &Entry{Kind: EntryCallback, Actor: a.ID, Text: Plain("logged a callback: " + strings.ReplaceAll(result, "_", " ")), Quote: strings.TrimSpace(note)}, nil
	})
}

// Close closes the case with an outcome and a required note.
func (b *Bot) Close(ctx context.Context, id int64, a Actor, outcome, note string) (store.Case, error) {
	if err := b.outsider(a, RightOf(ActionClose, true)); err != nil {
		return store.Case{}, err
	}
	note = strings.TrimSpace(note)
	if !slices.Contains(Outcomes, outcome) {
		return store.Case{}, refuse("Choose an outcome: %s.", strings.Join(Outcomes, ", "))
	}
	if note == "" {
		return store.Case{}, refuse("A note is required to close a case.")
	}
	return b.actAs(ctx, id, a, ActionClose, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State == store.CaseClosed {
			return nil, refuse("Case %s is already closed.", caseRef(c.ID))
		}
		b.closeCase(c, a, outcome, note, now)
		return &Entry{Kind: EntryClosed, Actor: a.ID, Text: Plain("closed the case: " + strings.ReplaceAll(outcome, "_", " ")), Quote: note}, nil
	})
}

func (b *Bot) closeCase(c *store.Case, a Actor, outcome, note string, now time.Time) {
	c.State, c.Outcome, c.CloseNote, c.ClosedBy, c.ClosedAt = store.CaseClosed, outcome, note, a.ID, &now
	if c.Owner == "" {
		c.Owner = a.ID
	}
}

// Reopen opens a closed case again, keeping its history.
func (b *Bot) Reopen(ctx context.Context, id int64, a Actor) (store.Case, error) {
	return b.actAs(ctx, id, a, ActionReopen, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State != store.CaseClosed {
			return nil, refuse("Case %s is not closed.", caseRef(c.ID))
		}
		if c.CallerNumber != "" {
			if _, err := tx.OpenCase(ctx, c.CallerNumber, c.LineNumber); err == nil {
				return nil, refuse("The caller has a newer open case on this line; work that one.")
			}
		}
		c.State, c.Owner, c.AssignedBy, c.Outcome, c.CloseNote, c.ClosedBy, c.ClosedAt = store.CaseOpen, "", "", "", "", "", nil
		// A reopened case escalates again, counted from now.
		if err := b.restartEscalation(ctx, tx, *c, now); err != nil {
			return nil, err
		}
		return &Entry{Kind: EntryReopened, Actor: a.ID, Text: Plain("reopened the case")}, nil
	})
}

// MarkSpam puts the caller on the spam list and closes the case as spam.
func (b *Bot) MarkSpam(ctx context.Context, id int64, a Actor) (store.Case, error) {
	return b.actAs(ctx, id, a, ActionSpam, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.Withheld() {
			return nil, refuse("A withheld number cannot go on the spam list.")
		}
		if err := tx.AddSpam(ctx, c.CallerNumber, a.ID, now); err != nil {
			return nil, err
		}
		c.Spam = true
		if c.State != store.CaseClosed {
			b.closeCase(c, a, "spam", "marked as spam", now)
		}
		return &Entry{Kind: EntrySpam, Actor: a.ID, Text: Plain("marked the caller as spam and closed the case")}, nil
	})
}
