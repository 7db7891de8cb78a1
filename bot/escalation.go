package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ringback/config"
	"ringback/store"
)

// Due times and escalation.
//
// Every case is timed from its first missed call: its clock starts then,
// or for a non-urgent case on a line that does not escalate after hours,
// at the line's next opening. Its promise is its category's (claim_within,
// contact_within) or, while it has none, the line's untriaged one. The
// first `unclaimed` step of the policy fires when the claim is due; the
// other steps fire `after` past the clock's start (`overdue` ones past the
// due time). A case's schedule is one row, its next step, re-timed when
// its category or urgency changes.

// clockStart is when a case's clocks start for a round begun at base.
func (b *Bot) clockStart(c store.Case, line *config.Line, base time.Time) time.Time {
	if line == nil || line.Escalates(c.Urgent) {
		return base
	}
	if open := line.NextOpening(base); !open.IsZero() {
		return open
	}
	return base // a line that never opens: time it from the call
}

// deadlines are when a case must be claimed and first contacted, and when
// its clock started.
func (b *Bot) deadlines(c store.Case, line *config.Line) (start, claim, contact time.Time) {
	start = b.clockStart(c, line, c.CreatedAt)
	due := b.cfg.DueFor(line, c.Category)
	return start, start.Add(due.ClaimWithin), start.Add(due.ContactWithin)
}

// setDue gives c its due time: when it must next be acted on. The
// callback slot the caller picked, while it is open; else unclaimed, the
// claim deadline (or the contact one, if earlier); claimed, the contact
// deadline. Spam has none. Closing forgets the slot: a reopened case is
// timed afresh.
func (b *Bot) setDue(c *store.Case) {
	if c.State == store.CaseClosed {
		c.CallbackAt = nil
	}
	if c.Spam {
		c.DueAt = nil
		return
	}
	if c.CallbackAt != nil {
		due := *c.CallbackAt
		c.DueAt = &due
		return
	}
	line, _ := b.line(c.LineNumber)
	_, claim, contact := b.deadlines(*c, line)
	due := contact
	if c.Owner == "" && claim.Before(contact) {
		due = claim
	}
	c.DueAt = &due
}

// startEscalation writes a new case's schedule: the line's policy, copied
// so that it stays the case's whatever the config says later, from the
// first missed call.
func (b *Bot) startEscalation(ctx context.Context, tx *store.Tx, c store.Case) error {
	if c.Spam {
		return nil
	}
	line, ok := b.line(c.LineNumber)
	if !ok {
		return nil
	}
	policy := b.cfg.EscalationFor(line)
	e := store.Escalation{CaseID: c.ID, Policy: encodePolicy(policy), Base: c.CreatedAt, RepeatStep: -1}
	b.plan(&e, policy, c, line)
	if e.Next() == nil {
		return nil // no policy: nothing to time
	}
	return tx.SaveEscalation(ctx, e, b.clock.Now())
}

// restartEscalation starts the case's next round at now (an owner who did
// not answer, a reopen), on the policy it opened with.
func (b *Bot) restartEscalation(ctx context.Context, tx *store.Tx, c store.Case, now time.Time) error {
	if c.Spam {
		return nil
	}
	line, ok := b.line(c.LineNumber)
	if !ok {
		return nil
	}
	e, err := tx.LockEscalation(ctx, c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = store.Escalation{CaseID: c.ID, Policy: encodePolicy(b.cfg.EscalationFor(line)), Round: -1}
	case err != nil:
		return err
	}
	policy := b.policy(e, line)
	e.Round++
	e.Base, e.Step, e.Fired, e.Passed = now, 0, 0, 0
	e.RepeatStep, e.RepeatN, e.RepeatAt = -1, 0, nil
	e.AckOwner, e.AckStep, e.AckAt = "", 0, nil
	b.plan(&e, policy, c, line)
	return tx.SaveEscalation(ctx, e, now)
}

// lockedEscalation is the case's escalation row, locked, and its line; ok
// is false when it has none or its line is no longer configured.
func (b *Bot) lockedEscalation(ctx context.Context, tx *store.Tx, c store.Case) (store.Escalation, *config.Line, bool, error) {
	e, err := tx.LockEscalation(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return e, nil, false, nil
	}
	if err != nil {
		return e, nil, false, err
	}
	line, ok := b.line(c.LineNumber)
	return e, line, ok, nil
}

// retime re-plans the case's next step after its category, urgency or
// owner changed, and sets its due time.
func (b *Bot) retime(ctx context.Context, tx *store.Tx, c *store.Case) error {
	b.setDue(c)
	if c.Spam {
		return nil
	}
	e, line, ok, err := b.lockedEscalation(ctx, tx, *c)
	if !ok || err != nil {
		return err
	}
	before := e.StepAt
	b.plan(&e, b.policy(e, line), *c, line)
	if timeEqual(before, e.StepAt) {
		return nil
	}
	return tx.SaveEscalation(ctx, e, b.clock.Now())
}

func timeEqual(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// plan makes e's next step the earliest due of the steps not done this
// round (fired or passed), and times it. Steps beyond the 63rd are never
// timed: the masks have 63 bits.
func (b *Bot) plan(e *store.Escalation, policy []config.EscalationStep, c store.Case, line *config.Line) {
	e.StepAt = nil
	for i := range min(len(policy), 63) {
		if (e.Fired|e.Passed)&(1<<i) != 0 {
			continue
		}
		at := b.stepTime(c, line, policy, i, e.Base)
		if e.StepAt == nil || at.Before(*e.StepAt) {
			e.Step, e.StepAt = i, &at
		}
	}
}

// stepTime is when step i of a round begun at base is due: the first
// unclaimed step at the claim deadline, later unclaimed ones as far after
// it as the policy spaces them, any other step `after` past the clock's
// start.
func (b *Bot) stepTime(c store.Case, line *config.Line, policy []config.EscalationStep, i int, base time.Time) time.Time {
	start := b.clockStart(c, line, base)
	step := policy[i]
	if step.When != "unclaimed" {
		return start.Add(step.After)
	}
	first := step.After
	for _, s := range policy {
		if s.When == "unclaimed" {
			first = s.After
			break
		}
	}
	claim := start.Add(b.cfg.DueFor(line, c.Category).ClaimWithin)
	return claim.Add(max(0, step.After-first))
}

// policy is the policy a case's row runs on: its own copy, or for a row
// without one (carried over from before copies), the line's in the config.
func (b *Bot) policy(e store.Escalation, line *config.Line) []config.EscalationStep {
	if p, ok := decodePolicy(e.Policy); ok {
		return p
	}
	return b.cfg.EscalationFor(line)
}

func encodePolicy(steps []config.EscalationStep) string {
	out := make([]policyStep, len(steps))
	for i, s := range steps {
		out[i] = encodeStep(s)
	}
	raw, _ := json.Marshal(out) // strings only: cannot fail
	return string(raw)
}

// decodePolicy reads a row's copy; false when it has none or it is unreadable.
func decodePolicy(raw string) ([]config.EscalationStep, bool) {
	var ps []policyStep
	if raw == "" || json.Unmarshal([]byte(raw), &ps) != nil {
		return nil, false
	}
	out := make([]config.EscalationStep, len(ps))
	for i, p := range ps {
		s, ok := decodeStep(p)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// policyStep is an escalation step as a row keeps it.
type policyStep struct {
	After     string `json:"after"`
	When      string `json:"when"`
	Notify    string `json:"notify"`
	Repeat    string `json:"repeat,omitempty"`
	AckWithin string `json:"ack_within,omitempty"`
}

func encodeStep(s config.EscalationStep) policyStep {
	p := policyStep{After: s.After.String(), When: s.When, Notify: s.Notify}
	if s.Repeat > 0 {
		p.Repeat = s.Repeat.String()
	}
	if s.AckWithin > 0 {
		p.AckWithin = s.AckWithin.String()
	}
	return p
}

// decodeStep reads one step of a row's copy.
func decodeStep(p policyStep) (config.EscalationStep, bool) {
	s := config.EscalationStep{When: p.When, Notify: p.Notify}
	var err error
	if s.After, err = time.ParseDuration(p.After); err != nil {
		return config.EscalationStep{}, false
	}
	for _, d := range []struct {
		text string
		to   *time.Duration
	}{{p.Repeat, &s.Repeat}, {p.AckWithin, &s.AckWithin}} {
		if d.text == "" {
			continue
		}
		if *d.to, err = time.ParseDuration(d.text); err != nil {
			return config.EscalationStep{}, false
		}
	}
	return s, true
}

// RunEscalations fires every case's due escalation. Each case is decided
// in a transaction of its own with the case locked: steps fired
// (notifications queued with them) or passed because their condition
// cleared. A case whose row fails for any reason but an unreachable store
// is logged and its escalation stopped (store.SkipEscalation): one bad row
// must not stop every case's timers.
func (b *Bot) RunEscalations(ctx context.Context) (fired int, err error) {
	for {
		due, err := b.store.DueEscalations(ctx, b.clock.Now(), 100)
		if err != nil || len(due) == 0 {
			return fired, err
		}
		for _, id := range due {
			n, err := b.escalate(ctx, id)
			if err != nil {
				if ctx.Err() != nil || store.IsUnavailable(err) {
					return fired, err // tried again on the next tick, unchanged
				}
				b.log.Error("escalation skipped: it failed to fire", "case_id", id, "error", err)
				if err := b.store.SkipEscalation(ctx, id, b.clock.Now()); err != nil {
					return fired, err
				}
				continue
			}
			fired += n
		}
	}
}

// escalate fires whatever of case id's escalation is due: the owner's
// unanswered reminder, the repeating step, the next steps in turn.
func (b *Bot) escalate(ctx context.Context, id int64) (fired int, err error) {
	type firedStep struct {
		level  int
		notify string
	}
	var steps []firedStep // counted once committed
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		fired, steps = 0, nil
		c, err := tx.LockCase(ctx, id)
		if err != nil {
			return err
		}
		e, err := tx.LockEscalation(ctx, id)
		if err != nil {
			return err
		}
		now := b.clock.Now()
		due := func(t *time.Time) bool { return t != nil && !now.Before(*t) }
		if e.Next() == nil || !due(e.Next()) {
			return nil // another leader got there first
		}
		line, ok := b.line(c.LineNumber)
		if !ok || c.State == store.CaseClosed {
			e.StepAt, e.RepeatAt, e.AckAt = nil, nil, nil
			return tx.SaveEscalation(ctx, e, now)
		}
		policy := b.policy(e, line)
		if due(e.AckAt) {
			restarted, err := b.ownerSilent(ctx, tx, e, c, now)
			if err != nil || restarted {
				if restarted {
					fired++
				}
				return err
			}
			e.AckOwner, e.AckAt = "", nil
		}
		if due(e.RepeatAt) {
			if e.RepeatStep < 0 || e.RepeatStep >= len(policy) {
				e.RepeatStep, e.RepeatAt = -1, nil
			} else {
				step := policy[e.RepeatStep]
				hold, later := b.condition(c, step, now)
				switch {
				case hold:
					e.RepeatN++
					if err := b.fire(ctx, tx, &c, line, &e, e.RepeatStep, e.RepeatN, step, now); err != nil {
						return err
					}
					fired++
					steps = append(steps, firedStep{e.RepeatStep + 1, step.Notify})
					at := now.Add(step.Repeat)
					e.RepeatAt = &at
				case !later.IsZero():
					e.RepeatAt = &later
				default:
					e.RepeatStep, e.RepeatAt = -1, nil
				}
			}
		}
		for due(e.StepAt) {
			if e.Step >= len(policy) { // a row carried over from a longer policy
				e.StepAt = nil
				break
			}
			i, step := e.Step, policy[e.Step]
			hold, later := b.condition(c, step, now)
			if !hold && !later.IsZero() {
				e.StepAt = &later
				break
			}
			if hold {
				if err := b.fire(ctx, tx, &c, line, &e, i, 0, step, now); err != nil {
					return err
				}
				fired++
				steps = append(steps, firedStep{i + 1, step.Notify})
				e.Fired |= 1 << i
				if step.Repeat > 0 {
					at := now.Add(step.Repeat)
					e.RepeatStep, e.RepeatN, e.RepeatAt = i, 0, &at
				}
			} else {
				e.Passed |= 1 << i
			}
			b.plan(&e, policy, c, line)
		}
		return tx.SaveEscalation(ctx, e, now)
	})
	if err == nil {
		for _, f := range steps {
			b.metrics.Escalated(f.level, f.notify)
		}
	}
	return fired, err
}

// condition reports whether the step's condition holds now; when it does
// not yet but may later (a due time still ahead), later is when to look again.
func (b *Bot) condition(c store.Case, step config.EscalationStep, now time.Time) (hold bool, later time.Time) {
	if c.State == store.CaseClosed {
		return false, time.Time{}
	}
	switch step.When {
	case "unclaimed":
		return c.Owner == "", time.Time{}
	case "no_contact":
		if c.FirstContactAt != nil {
			return false, time.Time{}
		}
		// The caller picked when to be called: until then no contact is
		// what they asked for, and the step's clock runs from the slot.
		if c.CallbackAt != nil {
			if at := c.CallbackAt.Add(step.After); now.Before(at) {
				return false, at
			}
		}
		return true, time.Time{}
	case "overdue":
		if c.FirstContactAt != nil {
			return false, time.Time{}
		}
		if c.DueAt == nil {
			return false, now.Add(step.After) // not triaged yet: look again
		}
		if at := c.DueAt.Add(step.After); now.Before(at) {
			return false, at
		}
		return true, time.Time{}
	}
	return false, time.Time{}
}

// notifyWords say what an escalation step did, for the card's line.
var notifyWords = map[string]string{
	"channel":  "channel reminded",
	"owner":    "owner reminded",
	"managers": "managers told",
	"on_call":  "on-call phone paged",
}

// escalationWords is the card's escalation line: the latest step, in
// words ("" when the case has not escalated or its state moved on).
func (b *Bot) escalationWords(ctx context.Context, c store.Case) (string, error) {
	if c.EscalationLevel == 0 || c.State == store.CaseClosed {
		return "", nil
	}
	e, err := b.store.LatestEvent(ctx, c.ID, "escalated")
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var d struct{ When, Notify, Did string }
	if json.Unmarshal([]byte(e.Data), &d) != nil || whenWords[d.When] == "" {
		return "", nil
	}
	did := d.Did
	if did == "" {
		did = d.Notify
	}
	return fmt.Sprintf("%s, %s at %s", whenWords[d.When], notifyWords[did], e.At.In(b.cfg.Business.Timezone).Format("15:04")), nil
}

var whenWords = map[string]string{
	"unclaimed":  "still unclaimed",
	"no_contact": "no contact with the caller yet",
	"overdue":    "overdue",
}

// fire sends one escalation step's notifications (the i-th of the
// policy, its repeat-th repeat) and raises the card's level.
func (b *Bot) fire(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, e *store.Escalation, i, repeat int, step config.EscalationStep, now time.Time) error {
	level := i + 1
	c.EscalationLevel = max(c.EscalationLevel, level)
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, *c); err != nil {
		return err
	}
	notify := step.Notify
	if notify == "owner" && c.Owner == "" {
		notify = "channel" // nobody owns it: the channel is the owner
	}
	if notify == "on_call" && (line.OnCall == "" || !line.Pages(c.Urgent)) {
		notify = "channel"
	}
	if err := tx.AddEvent(ctx, c.ID, now, "escalated", "", map[string]any{
		"level": level, "step": i, "round": e.Round, "repeat": repeat, "when": step.When, "notify": step.Notify, "did": notify,
	}); err != nil {
		return err
	}
	what := fmt.Sprintf("%s %s after %s", caseRef(c.ID), whenWords[step.When], ShortDuration(now.Sub(c.CreatedAt)))
	key := fmt.Sprintf("esc:%d:%d:%d:%d", c.ID, i, e.Round, repeat)
	// Every step of a round edits one thread entry in place: the thread
	// shows where escalation stands, not a post per step. Only the first
	// post notifies; a step that needs a person tells them directly.
	entry := Entry{CaseID: c.ID, Kind: EntryReminder, Key: fmt.Sprintf("escalation:%d:%d", c.ID, e.Round), Edit: true}
	var err error
	switch notify {
	case "channel":
		mention := "here"
		if line.OnDuty != "" {
			mention = line.OnDuty
		}
		entry.Text, entry.Mention = Plainf("⏰ %s. Who can take it? (escalation level %d)", what, level), mention
	case "owner":
		err = b.notifyUser(ctx, tx, Notice{User: c.Owner, CaseID: c.ID, Confirm: true,
			Text: Plainf("⏰ Your case %s: %s. Are you still on it? If you do not answer within %s it goes back to the queue.", caseRef(c.ID), whenWords[step.When], ShortDuration(step.AckWithin))}, key)
		at := now.Add(step.AckWithin)
		e.AckOwner, e.AckStep, e.AckAt = c.Owner, i, &at
		// The owner has a DM: the entry names them without a ping.
		entry.Text = Plainf("⏰ %s: reminded the owner by DM (escalation level %d)", what, level)
	case "managers":
		if e.ManagersAt == nil {
			e.ManagersAt = &now
		}
		entry.Text = Plainf("📣 %s: managers told in their next round-up (escalation level %d)", what, level)
	case "on_call":
		err = b.page(ctx, tx, *c, b.pageText(*c, line, whenWords[step.When]+" after "+ShortDuration(now.Sub(c.CreatedAt))), key)
		entry.Text = Plainf("📟 %s: on-call phone paged (escalation level %d)", what, level)
	}
	if err == nil {
		err = b.timeline(ctx, tx, entry)
	}
	if err != nil {
		return err
	}
	return b.caseChanged(ctx, tx, *c, "escalated")
}

// alertManagers DMs every manager and posts in the digest channel.
func (b *Bot) alertManagers(ctx context.Context, tx *store.Tx, c store.Case, text Text, key string) error {
	for _, m := range b.cfg.Managers {
		if err := b.notifyUser(ctx, tx, Notice{User: m, CaseID: c.ID, Text: text}, key); err != nil {
			return err
		}
	}
	return b.post(ctx, tx, Post{Channel: b.cfg.Digest.Channel, Text: text, CaseID: c.ID}, key)
}

// ownerSilent: an owner did not answer a reminder in time. The case goes
// back to the queue and escalation starts over, as after an unconfirmed
// acknowledgement. restarted is false when the case is no longer theirs.
func (b *Bot) ownerSilent(ctx context.Context, tx *store.Tx, e store.Escalation, c store.Case, now time.Time) (restarted bool, err error) {
	if c.Owner != e.AckOwner {
		return false, nil
	}
	c.State, c.Owner, c.AssignedBy, c.EscalationLevel, c.UpdatedAt = store.CaseOpen, "", "", 0, now
	b.setDue(&c)
	if err := tx.UpdateCase(ctx, c); err != nil {
		return false, err
	}
	if err := tx.AddEvent(ctx, c.ID, now, "auto_released", "", map[string]any{"owner": e.AckOwner, "round": e.Round}); err != nil {
		return false, err
	}
	if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryReleased, Text: Text{User(e.AckOwner), Words(" did not confirm: the case is back in the queue")}, Mention: "here"}); err != nil {
		return false, err
	}
	if err := b.restartEscalation(ctx, tx, c, now); err != nil {
		return false, err
	}
	return true, b.caseChanged(ctx, tx, c, "auto_released")
}

// StillOnIt is the owner's answer to a reminder: the case stays theirs.
func (b *Bot) StillOnIt(ctx context.Context, id int64, a Actor) (store.Case, error) {
	return b.actAs(ctx, id, a, ActionStillOnIt, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State == store.CaseClosed {
			return nil, refuse("Case %s is closed already.", caseRef(c.ID))
		}
		if c.Owner != a.ID {
			return nil, refuse("Case %s is no longer yours.", caseRef(c.ID))
		}
		e, err := tx.LockEscalation(ctx, c.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err != nil || e.AckAt == nil || e.AckOwner != a.ID {
			return nil, refuse("Noted; there was no reminder waiting.")
		}
		e.AckOwner, e.AckAt = "", nil
		if err := tx.SaveEscalation(ctx, e, now); err != nil {
			return nil, err
		}
		return &Entry{Kind: EntryClaimed, Actor: a.ID, Text: Plain("is still on it")}, nil
	})
}

// rearmNoContact puts back the no-contact and overdue steps of the case's
// current round that were passed because contact seemed made. They keep
// their time: one already due fires at the next pass.
func (b *Bot) rearmNoContact(ctx context.Context, tx *store.Tx, c store.Case, now time.Time) error {
	if c.State == store.CaseClosed {
		return nil
	}
	e, line, ok, err := b.lockedEscalation(ctx, tx, c)
	if !ok || err != nil {
		return err
	}
	policy := b.policy(e, line)
	passed := e.Passed
	for i := range min(len(policy), 63) {
		if policy[i].When == "no_contact" || policy[i].When == "overdue" {
			e.Passed &^= 1 << i
		}
	}
	if e.Passed == passed {
		return nil
	}
	b.plan(&e, policy, c, line)
	return tx.SaveEscalation(ctx, e, now)
}

// pageUrgent alerts at once when a case turns urgent: the on-call phone,
// and (through the triage entry) the channel; managers hear in their next
// round-up, urgent cases first.
func (b *Bot) pageUrgent(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line) error {
	now := b.clock.Now()
	if err := tx.NeedManagers(ctx, c.ID, now); err != nil {
		return err
	}
	if err := b.page(ctx, tx, c, b.pageText(c, line, "needs a call back now"), fmt.Sprintf("urgent:%d", c.ID)); err != nil {
		return err
	}
	return tx.AddEvent(ctx, c.ID, now, "paged", "", map[string]any{"managers": len(b.cfg.Managers), "on_call": line.OnCall != ""})
}

// pageText is the on-call SMS: whoever reads it on a phone can call back
// without opening the chat: the caller's number, the line, the category.
func (b *Bot) pageText(c store.Case, line *config.Line, why string) string {
	caller := "number withheld"
	if !c.Withheld() {
		caller = config.Format(c.CallerNumber, b.cfg.Business.Region)
	}
	category := "not triaged"
	if cat, ok := b.cfg.Category(c.Category); ok {
		category = cat.Label
	}
	urgent := ""
	if c.Urgent {
		urgent = " URGENT"
	}
	return fmt.Sprintf("%s%s: %s, caller %s, %s line, %s: %s. Open %s to take it.",
		b.cfg.Business.Name, urgent, caseRef(c.ID), caller, line.Name, category, why, b.chatNames())
}
