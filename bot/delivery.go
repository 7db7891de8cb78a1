package bot

import (
	"context"
	"fmt"
	"time"

	"ringback/config"
	"ringback/store"
)

// Delivery truth: what a receipt on an outgoing text means for its case.
// Staff see a reply's fate on the card and on the reply's own thread entry
// (edited in place); a failed reply is no human contact, so the case's first
// contact is withdrawn and its no-contact escalation runs again.

// smsFailed reports a state in which the text did not reach the caller.
func smsFailed(s SMSState) bool { return s == SMSUndelivered || s == SMSFailed }

// smsArrived reports a state in which the caller's phone has the text.
func smsArrived(s SMSState) bool { return s == SMSDelivered || s == SMSRead }

// smsOnItsWay reports a state in which the provider has the text and it
// has neither arrived nor failed: the steps it reports on the way are
// shown as one, "sent".
func smsOnItsWay(s SMSState) bool {
	return s == SMSAccepted || s == SMSQueued || s == SMSSending || s == SMSSent
}

// receiptAdvances reports whether a receipt moves a text from one state to
// the next: never backwards (a late "sent" after "delivered"), never out of
// a final state (a "delivered" after "undelivered"), except that a
// delivered text may be read; a repeated receipt changes nothing.
func receiptAdvances(from, to SMSState) bool {
	switch {
	case to == "" || to == from || statusRank(to) < statusRank(from):
		return false
	case statusRank(from) == statusRank(SMSDelivered):
		return from == SMSDelivered && to == SMSRead
	}
	return true
}

// keepEarlyReceipt keeps a receipt whose message's SID is not recorded
// yet, unless the one kept already is further along (receipts arrive in
// any order: "sent" after "undelivered" must not lose the failure).
func (b *Bot) keepEarlyReceipt(ctx context.Context, tx *store.Tx, r SMSReceipt, now time.Time) error {
	if r.State == "" {
		return nil
	}
	kept, ok, err := tx.TakeReceipt(ctx, r.SID)
	if err != nil {
		return err
	}
	if ok && !receiptAdvances(SMSState(kept.Status), r.State) {
		return tx.KeepReceipt(ctx, kept)
	}
	return tx.KeepReceipt(ctx, store.Receipt{SID: r.SID, Status: string(r.State), Problem: string(r.Problem), ErrorCode: r.Code, ReceivedAt: now})
}

// failureWords are why a text failed and what to do instead, in words staff
// act on.
var failureWords = map[SMSProblem]string{
	SMSProblemUnreachable:        "the phone is off or out of coverage. Call instead",
	SMSProblemUnknownNumber:      "the number is unknown or no longer in service. Check the number, or call",
	SMSProblemNotTextable:        "the number is a landline. Call instead; Ringback will not text it again",
	SMSProblemFiltered:           "the carrier filtered it as spam. Managers have been told; call instead",
	SMSProblemUnsubscribed:       "the caller has opted out of texts. Call instead",
	SMSProblemSenderUnregistered: "our number is not registered for business texting. The operator has been told; call instead",
	SMSProblemOther:              "the carrier could not deliver it. Call instead",
}

// deliveryWords is where an outgoing text stands, for the card and its
// thread entry.
func deliveryWords(m store.Message) string {
	s := SMSState(m.Status)
	switch {
	case smsArrived(s):
		return "✓ delivered"
	case smsFailed(s):
		why, ok := failureWords[SMSProblem(m.Problem)]
		if !ok {
			why = failureWords[SMSProblemOther]
		}
		return "❌ not delivered: " + why + "."
	case smsOnItsWay(s):
		return "sent"
	case s == SMSCanceled:
		return "not sent"
	}
	return "sending…"
}

// smsEntryKey names the thread entry of an outgoing text, so that its
// receipts can edit it.
func smsEntryKey(m store.Message) string { return fmt.Sprintf("sms:%d", m.ID) }

// smsEntry is the thread entry of an outgoing text: what it was, where it
// stands once that is known for good, and its words.
func smsEntry(m store.Message) Entry {
	text := smsWords(m.Kind)
	if s := SMSState(m.Status); smsArrived(s) || smsFailed(s) {
		text += " · " + deliveryWords(m)
	}
	return Entry{Kind: EntrySMSOut, Key: smsEntryKey(m), Actor: m.SentBy, Text: Plain(text), Quote: maskCallbackLinks(m.Body)}
}

// contactSent counts a staff reply the provider accepted as a human
// contact attempt (DESIGN.md), and the first one as first contact.
func (b *Bot) contactSent(ctx context.Context, tx *store.Tx, m store.Message, now time.Time) error {
	if m.Kind != "template" || m.CaseID == nil || smsFailed(SMSState(m.Status)) {
		return nil
	}
	c, err := tx.LockCase(ctx, *m.CaseID)
	if err != nil {
		return err
	}
	b.contacted(&c, now)
	return tx.UpdateCase(ctx, c)
}

// receiptOnCase puts what a receipt taught on message m's case: the
// text-back status, the text's thread entry and the card; for a failed
// staff reply it withdraws the contact and tells whoever must act. before
// is m as it was; m has a case.
func (b *Bot) receiptOnCase(ctx context.Context, tx *store.Tx, before, m store.Message, now time.Time) error {
	failed := smsFailed(SMSState(m.Status)) && !smsFailed(SMSState(before.Status))
	reply := m.Kind == "template"
	// A staff reply's entry gets its ✓; a text-back's delivery is on the
	// card already, and its entry changes only when it failed.
	arrived := reply && smsArrived(SMSState(m.Status)) && !smsArrived(SMSState(before.Status))
	if m.Kind != "textback" && !reply && !failed && !arrived {
		return nil
	}
	if !failed {
		// The card is rendered again only when it would show something
		// else: not for a "sent" after "queued", nor "read" after
		// "delivered" (a refresh is a card row and a call to each chat,
		// for a step Twilio reports on nearly every text). Such a step
		// leaves the case as it is too: its text-back status reads the
		// same on the card, and rewriting the case (a new row version
		// and an entry in each of its indexes) would show nobody
		// anything.
		shows := cardShowsReceipt(before, m)
		if !shows && !arrived {
			return nil
		}
		// Nothing here reads the case: its text-back status is written
		// with the commit (no statement of its own). Its change time
		// stays: the read API shows neither a text's status nor its card.
		var status *string
		if m.Kind == "textback" {
			s := textBackStatus(m)
			status = &s
		}
		if err := tx.MarkTextbackLater(ctx, *m.CaseID, status); err != nil {
			return err
		}
		if arrived {
			e := smsEntry(m)
			e.CaseID, e.Edit = *m.CaseID, true
			if err := b.timeline(ctx, tx, e); err != nil {
				return err
			}
		}
		if !shows {
			return nil
		}
		return b.caseChanged(ctx, tx, store.Case{ID: *m.CaseID}, "sms_status")
	}
	// A failure may take back a contact and tell managers: it reads the
	// case, locked.
	c, err := tx.LockCase(ctx, *m.CaseID)
	if err != nil {
		return err
	}
	if m.Kind == "textback" {
		c.TextbackStatus = textBackStatus(m)
	}
	if reply && failed && before.AcceptedAt != nil {
		if err := b.withdrawContact(ctx, tx, &c, m, now); err != nil {
			return err
		}
	}
	e := smsEntry(m)
	e.CaseID, e.Edit = c.ID, true
	if err := b.timeline(ctx, tx, e); err != nil {
		return err
	}
	if err := b.failureNotices(ctx, tx, c, m); err != nil {
		return err
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, c); err != nil {
		return err
	}
	return b.caseChanged(ctx, tx, c, "sms_status")
}

// cardShowsReceipt reports whether text m's card reads differently now
// that a receipt moved it on from before: its text-back's words, or for a
// staff reply the words of the card's last reply.
func cardShowsReceipt(before, m store.Message) bool {
	if m.Kind == "textback" {
		return textBackWords(textBackStatus(before)) != textBackWords(textBackStatus(m))
	}
	return deliveryWords(before) != deliveryWords(m)
}

// withdrawContact takes back the contact a failed reply counted: the first
// contact becomes the next real one (or none), and when none is left the
// no-contact escalation runs again on its original clock.
func (b *Bot) withdrawContact(ctx context.Context, tx *store.Tx, c *store.Case, m store.Message, now time.Time) error {
	c.ContactAttempts = max(0, c.ContactAttempts-1)
	had := c.FirstContactAt != nil
	first, err := tx.FirstHumanContact(ctx, c.ID)
	if err != nil {
		return err
	}
	c.FirstContactAt = first
	if err := tx.AddEvent(ctx, c.ID, now, "contact_withdrawn", m.SentBy, map[string]any{"message_id": m.ID, "problem": m.Problem, "code": m.ErrorCode}); err != nil {
		return err
	}
	if !had || first != nil {
		return nil
	}
	return b.rearmNoContact(ctx, tx, *c, now)
}

// failureNotices tells the people who must act on a failure that is not the
// case's alone: managers of carrier filtering (once a case), the operator
// of a line whose number may not text (once a line).
func (b *Bot) failureNotices(ctx context.Context, tx *store.Tx, c store.Case, m store.Message) error {
	line, _ := b.line(m.LineNumber)
	name, number := m.LineNumber, config.Format(m.LineNumber, b.cfg.Business.Region)
	if line != nil {
		name = line.Name
	}
	switch SMSProblem(m.Problem) {
	case SMSProblemFiltered:
		text := Plainf("📵 A text to the caller of %s (%s line) was filtered by the carrier as spam and not delivered. Check the wording of the templates staff use; repeated filtering can block the line's texts.", caseRef(c.ID), name)
		return b.alertManagers(ctx, tx, c, text, fmt.Sprintf("filtered:%d", c.ID))
	case SMSProblemSenderUnregistered:
		text := Plainf("⚠️ Texts from the %s line (%s) are refused: the number is not registered for business texting. No text from this line reaches anyone until the operator registers it with the SMS provider; call callers back instead.", name, number)
		first, err := b.noticeOnce(ctx, tx, text, "sender_unregistered:"+m.LineNumber)
		if err != nil || !first {
			return err
		}
		b.log.Error("bot: the line's number is not registered for business texting; every text from it fails",
			"line_number", m.LineNumber, "error_code", m.ErrorCode, "case_id", c.ID,
			"fix", "register the number with the SMS provider (US A2P 10DLC campaign or toll-free verification)")
	}
	return nil
}

// noticeOnce posts a notice for managers, once for key: in the digest
// channel, else by DM to each manager. first is false when it was posted
// before; true also when there is nobody in chat to tell.
func (b *Bot) noticeOnce(ctx context.Context, tx *store.Tx, text Text, key string) (first bool, err error) {
	if len(b.chats) == 0 || b.cfg.Digest.Channel == "" && len(b.cfg.Managers) == 0 {
		return true, nil
	}
	if b.cfg.Digest.Channel != "" {
		return b.queuePost(ctx, tx, Post{Channel: b.cfg.Digest.Channel, Text: text}, key)
	}
	for _, u := range b.cfg.Managers {
		queued, err := b.queueDM(ctx, tx, Notice{User: u, Text: text}, key)
		if err != nil {
			return false, err
		}
		first = first || queued
	}
	return first, nil
}
