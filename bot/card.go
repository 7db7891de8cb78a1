package bot

import (
	"context"

	"ringback/config"
	"ringback/store"
)

// Card builds the card of case id as of now.
func (b *Bot) Card(ctx context.Context, id int64) (Card, error) {
	return b.cardOf(ctx, id, nil)
}

// cardOf builds the card of case id from read, the case as its card shows
// it read already, or (nil) as of now.
func (b *Bot) cardOf(ctx context.Context, id int64, read *store.CardCase) (Card, error) {
	if read == nil {
		cc, err := b.store.CaseForCard(ctx, id)
		if err != nil {
			return Card{}, err
		}
		read = &cc
	}
	cc := *read
	var err error
	k := b.card(cc, cc.Replied)
	if cc.LastReply != nil {
		k.LastReply = deliveryWords(*cc.LastReply)
	}
	k.AutoTriaged = autoTriaged(cc.Case, cc.Triaged)
	if k.Escalation, err = b.escalationWords(ctx, cc.Case); err != nil {
		return Card{}, err
	}
	if cc.Callback != nil {
		p := b.callbackPick(*cc.Callback)
		k.Callback = &CallbackRequest{Slot: p.Slot, Category: p.CategoryLabel, Note: p.Note}
	}
	k.CallbackLinked = cc.CallbackLinked
	return k, nil
}

// cardFrame is as much of case id's card as its slot tells: its line and
// contact, which choose the card's channel before the card is rendered.
// Built by card itself, so that the channel is chosen as for the card.
func (b *Bot) cardFrame(id int64, slot store.CardSlot) Card {
	c := store.CardCase{Case: store.Case{ID: id, LineNumber: slot.LineNumber, State: store.CaseOpen}, Contact: slot.Contact}
	if slot.Contact != nil {
		c.ContactID = &slot.Contact.ID
	}
	return b.card(c, false)
}

func (b *Bot) card(cc store.CardCase, replied bool) Card {
	c := cc.Case
	now := b.clock.Now()
	line, _ := b.line(c.LineNumber)
	k := Card{
		CaseID: c.ID, Ref: caseRef(c.ID), State: c.State, Urgent: c.Urgent, Spam: c.Spam,
		LineNumber: c.LineNumber, FirstCall: c.CreatedAt, LastCall: c.LastCallAt, AfterHours: c.AfterHours,
		Calls: c.CallCount, Origin: c.Origin, TextBack: textBackWords(c.TextbackStatus), Category: c.Category,
		Owner: c.Owner, AssignedBy: c.AssignedBy, DueAt: c.DueAt, VoicemailURL: c.VoicemailURL, Transcript: c.Transcript,
		EscalationLevel: c.EscalationLevel, CallerReplied: replied, Outcome: c.Outcome, CloseNote: c.CloseNote,
		ClosedBy: c.ClosedBy, ClosedAt: c.ClosedAt, Now: now,
	}
	if line != nil {
		k.Line, k.Channel = line.Name, line.Channel
	}
	if cat, ok := b.cfg.Category(c.Category); ok {
		k.CategoryLabel = cat.Label
	}
	k.Overdue = c.State != store.CaseClosed && c.DueAt != nil && now.After(*c.DueAt) && c.FirstContactAt == nil
	if c.State != store.CaseClosed && c.DueAt != nil {
		if start, _, _ := b.deadlines(c, line); start.After(c.CreatedAt) {
			k.Opens = &start
		}
	}
	k.Caller = Caller{E164: c.CallerNumber, Withheld: c.Withheld()}
	if !c.Withheld() {
		k.Caller.Number = config.Format(c.CallerNumber, b.cfg.Business.Region)
	}
	if ct := cc.Contact; ct != nil {
		k.Caller.Name, k.Caller.Kind, k.Caller.Property, k.Caller.Unit = ct.Name, ct.Kind, ct.Property, ct.Unit
		if line != nil {
			routeCard(&k, line)
		}
	}
	if c.FirstContactAt != nil {
		d := c.FirstContactAt.Sub(c.CreatedAt)
		k.FirstContact = &d
	}
	k.Actions = b.actions(c)
	for _, cat := range b.cfg.Categories {
		k.Categories = append(k.Categories, CategoryOption{Key: cat.Key, Label: cat.Label})
	}
	askOnCard(c, cc.PossibleOptOut, &k)
	return k
}

// actions are the buttons case c's card offers now; the Discord panel of
// /callbacks mine offers the same, so a click there is a click on the card.
func (b *Bot) actions(c store.Case) []string {
	var actions []string
	switch c.State {
	case store.CaseOpen:
		actions = []string{ActionClaim, ActionReply, ActionLog, ActionClose, ActionSpam, ActionReassign, ActionCategory}
	case store.CaseClaimed:
		actions = []string{ActionRelease, ActionReply, ActionLog, ActionClose, ActionSpam, ActionReassign, ActionCategory}
	case store.CaseClosed:
		actions = []string{ActionReopen}
	}
	if c.Withheld() {
		actions = without(actions, ActionReply, ActionSpam)
	}
	if len(b.cfg.Categories) == 0 {
		actions = without(actions, ActionCategory)
	}
	return actions
}

func without(list []string, drop ...string) []string {
	var out []string
next:
	for _, a := range list {
		for _, d := range drop {
			if a == d {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// textBackWords turns a stored text-back status into words for people.
// A text-back waiting in Ringback's outbox is pending on its case (the
// message's own state, SMSPending). Once the provider has the text it is
// "sent", whatever step of sending it reports (smsOnItsWay), until it
// arrives or fails: those steps come a second apart and staff act on none
// of them, so a receipt for one changes nothing on the card
// (receiptOnCase).
func textBackWords(s string) string {
	switch st := SMSState(s); {
	case s == "":
		return "not sent"
	case st == SMSPending || st == SMSScheduled:
		return "queued"
	case smsOnItsWay(st):
		return "sent"
	case smsArrived(st):
		return "delivered"
	}
	return s
}
