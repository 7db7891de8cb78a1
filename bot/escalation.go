package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"ringback/config"
	"ringback/store"
)

// scheduleEscalations writes the case's escalation policy as durable rows,
// counted from base (the first missed call, or the moment an unanswered
// owner reminder or a reopen put the case back in the queue). Each row
// keeps a copy of its step: the policy is the line's when the case opens,
// and stays that one for the case's life, whatever the config says later.
func (b *Bot) scheduleEscalations(ctx context.Context, tx *store.Tx, c store.Case, round int, base time.Time) error {
	if c.Spam {
		return nil
	}
	policy, err := b.casePolicy(ctx, tx, c)
	if err != nil {
		return err
	}
	for i, step := range policy {
		err := tx.ScheduleEscalation(ctx, store.Escalation{
			CaseID: c.ID, Kind: store.EscalationStep, Step: i, Round: round, FireAt: base.Add(step.After),
			PolicyStep: encodeStep(step),
		}, b.clock.Now())
		if err != nil {
			return err
		}
	}
	return nil
}

// casePolicy is the escalation policy a case runs on: the steps copied onto
// its rows when it opened, or, for a case without them (a new case, or one
// scheduled before steps were copied), the line's policy in the config.
func (b *Bot) casePolicy(ctx context.Context, tx *store.Tx, c store.Case) ([]config.EscalationStep, error) {
	rows, err := tx.EscalationsForCase(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var policy []config.EscalationStep
	for _, e := range rows {
		if e.Kind != store.EscalationStep || e.Round != 0 || e.RepeatN != 0 {
			continue
		}
		step, ok := decodeStep(e.PolicyStep)
		if !ok || e.Step != len(policy) {
			policy = nil
			break
		}
		policy = append(policy, step)
	}
	if policy != nil {
		return policy, nil
	}
	line, ok := b.line(c.LineNumber)
	if !ok {
		return nil, nil
	}
	return b.cfg.EscalationFor(line), nil
}

// rowStep is the step a scheduled row fires: its own copy, or for a row
// scheduled before copies were kept, the step at its index in the config.
func (b *Bot) rowStep(e store.Escalation, line *config.Line) (config.EscalationStep, bool) {
	if step, ok := decodeStep(e.PolicyStep); ok {
		return step, true
	}
	policy := b.cfg.EscalationFor(line)
	if e.Step >= len(policy) {
		return config.EscalationStep{}, false
	}
	return policy[e.Step], true
}

// policyStep is an escalation step as a row keeps it.
type policyStep struct {
	After     string `json:"after"`
	When      string `json:"when"`
	Notify    string `json:"notify"`
	Repeat    string `json:"repeat,omitempty"`
	AckWithin string `json:"ack_within,omitempty"`
}

func encodeStep(s config.EscalationStep) string {
	p := policyStep{After: s.After.String(), When: s.When, Notify: s.Notify}
	if s.Repeat > 0 {
		p.Repeat = s.Repeat.String()
	}
	if s.AckWithin > 0 {
		p.AckWithin = s.AckWithin.String()
	}
	raw, _ := json.Marshal(p) // strings only: cannot fail
	return string(raw)
}

// decodeStep reads a row's copy; false when it has none.
func decodeStep(raw string) (config.EscalationStep, bool) {
	var p policyStep
	if raw == "" || json.Unmarshal([]byte(raw), &p) != nil {
		return config.EscalationStep{}, false
	}
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

// RunEscalations fires every due escalation row. Each row is decided in a
// transaction of its own with the case locked: fired (notifications queued
// with it) or canceled because its condition cleared. A row that fails for
// any reason but an unreachable store is logged and skipped for good
// (store.SkipEscalation): one bad row must not stop every case's timers.
func (b *Bot) RunEscalations(ctx context.Context) (fired int, err error) {
	for {
		due, err := b.store.DueEscalations(ctx, b.clock.Now(), 100)
		if err != nil || len(due) == 0 {
			return fired, err
		}
		for _, id := range due {
			ok, err := b.escalate(ctx, id)
			if err != nil {
				if ctx.Err() != nil || store.IsUnavailable(err) {
					return fired, err // tried again on the next tick, unchanged
				}
				b.log.Error("escalation skipped: it failed to fire", "escalation_id", id, "error", err)
				if err := b.store.SkipEscalation(ctx, id, b.clock.Now()); err != nil {
					return fired, err
				}
				continue
			}
			if ok {
				fired++
			}
		}
	}
}

func (b *Bot) escalate(ctx context.Context, id int64) (fired bool, err error) {
	var level int // of a step fired, counted once committed
	var notify string
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		fired, level = false, 0
		e, err := tx.LockEscalation(ctx, id)
		if err != nil || e.State != "pending" {
			return err
		}
		now := b.clock.Now()
		c, err := tx.LockCase(ctx, e.CaseID)
		if err != nil {
			return err
		}
		if e.Kind == store.EscalationOwnerAck {
			fired, err = b.ownerSilent(ctx, tx, e, c, now)
			return err
		}
		line, ok := b.line(c.LineNumber)
		if !ok {
			return tx.SetEscalation(ctx, e.ID, "canceled", e.FireAt, now)
		}
		step, ok := b.rowStep(e, line)
		if !ok {
			return tx.SetEscalation(ctx, e.ID, "canceled", e.FireAt, now)
		}
		hold, later := b.condition(c, step, now)
		switch {
		case !hold && !later.IsZero():
			return tx.SetEscalation(ctx, e.ID, "pending", later, now)
		case !hold:
			return tx.SetEscalation(ctx, e.ID, "canceled", e.FireAt, now)
		}
		if err := tx.SetEscalation(ctx, e.ID, "fired", e.FireAt, now); err != nil {
			return err
		}
		fired, level, notify = true, e.Step+1, step.Notify
		return b.fire(ctx, tx, c, line, e, step, now)
	})
	if err == nil && level > 0 {
		b.metrics.Escalated(level, notify)
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
		return c.FirstContactAt == nil, time.Time{}
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

var whenWords = map[string]string{
	"unclaimed":  "still unclaimed",
	"no_contact": "no contact with the caller yet",
	"overdue":    "overdue",
}

// fire sends one escalation step's notifications and raises the card's level.
func (b *Bot) fire(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, e store.Escalation, step config.EscalationStep, now time.Time) error {
	level := e.Step + 1
	c.EscalationLevel = max(c.EscalationLevel, level)
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, c); err != nil {
		return err
	}
	if err := tx.AddEvent(ctx, c.ID, now, "escalated", "", map[string]any{
		"level": level, "step": e.Step, "round": e.Round, "repeat": e.RepeatN, "when": step.When, "notify": step.Notify,
	}); err != nil {
		return err
	}
	what := fmt.Sprintf("%s %s after %s", caseRef(c.ID), whenWords[step.When], ShortDuration(now.Sub(c.CreatedAt)))
	key := fmt.Sprintf("esc:%d:%d:%d:%d", c.ID, e.Step, e.Round, e.RepeatN)
	notify := step.Notify
	if notify == "owner" && c.Owner == "" {
		notify = "channel" // nobody owns it: the channel is the owner
	}
	if notify == "on_call" && line.OnCall == "" {
		notify = "channel"
	}
	var err error
	switch notify {
	case "channel":
		mention := "here"
		if line.OnDuty != "" {
			mention = line.OnDuty
		}
		err = b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryReminder, Text: Plain("⏰ " + what + ". Who can take it?"), Mention: mention})
	case "owner":
		err = b.notifyUser(ctx, tx, Notice{User: c.Owner, CaseID: c.ID, Confirm: true,
			Text: Plainf("⏰ Your case %s: %s. Are you still on it? If you do not answer within %s it goes back to the queue.", caseRef(c.ID), whenWords[step.When], ShortDuration(step.AckWithin))}, key)
		if err == nil {
			err = tx.ScheduleEscalation(ctx, store.Escalation{
				CaseID: c.ID, Kind: store.EscalationOwnerAck, Step: e.Step, Round: e.Round, RepeatN: e.RepeatN,
				Owner: c.Owner, FireAt: now.Add(step.AckWithin), PolicyStep: encodeStep(step),
			}, now)
		}
		if err == nil {
			err = b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryReminder, Text: Text{Words("⏰ " + what + ": reminded "), User(c.Owner)}})
		}
	case "managers":
		err = b.alertManagers(ctx, tx, c, Plain("📣 Escalation: "+what+" ("+line.Name+")."), key)
		if err == nil {
			err = b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryReminder, Text: Plain("📣 " + what + ": managers alerted")})
		}
	case "on_call":
		err = b.page(ctx, tx, c, fmt.Sprintf("%s: %s on the %s line. Open %s to take it.", b.cfg.Business.Name, what, line.Name, b.chatNames()), key)
		if err == nil {
			err = b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryReminder, Text: Plain("📟 " + what + ": on-call phone paged")})
		}
	}
	if err != nil {
		return err
	}
	if step.Repeat > 0 {
		if err := tx.ScheduleEscalation(ctx, store.Escalation{
			CaseID: c.ID, Kind: store.EscalationStep, Step: e.Step, Round: e.Round, RepeatN: e.RepeatN + 1, FireAt: now.Add(step.Repeat),
			PolicyStep: encodeStep(step),
		}, now); err != nil {
			return err
		}
	}
	return b.caseChanged(ctx, tx, c, "escalated")
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
// acknowledgement.
func (b *Bot) ownerSilent(ctx context.Context, tx *store.Tx, e store.Escalation, c store.Case, now time.Time) (bool, error) {
	if c.State == store.CaseClosed || c.Owner != e.Owner {
		return false, tx.SetEscalation(ctx, e.ID, "canceled", e.FireAt, now)
	}
	if err := tx.SetEscalation(ctx, e.ID, "fired", e.FireAt, now); err != nil {
		return false, err
	}
	if _, err := tx.CancelEscalations(ctx, c.ID, store.EscalationStep, "", now); err != nil {
		return false, err
	}
	c.State, c.Owner, c.AssignedBy, c.EscalationLevel, c.UpdatedAt = store.CaseOpen, "", "", 0, now
	if err := tx.UpdateCase(ctx, c); err != nil {
		return false, err
	}
	if err := tx.AddEvent(ctx, c.ID, now, "auto_released", "", map[string]any{"owner": e.Owner, "round": e.Round}); err != nil {
		return false, err
	}
	if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryReleased, Text: Text{User(e.Owner), Words(" did not confirm: the case is back in the queue")}, Mention: "here"}); err != nil {
		return false, err
	}
	if err := b.scheduleEscalations(ctx, tx, c, e.Round+1, now); err != nil {
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
		n, err := tx.CancelEscalations(ctx, c.ID, store.EscalationOwnerAck, a.ID, now)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, refuse("Noted; there was no reminder waiting.")
		}
		return &Entry{Kind: EntryClaimed, Actor: a.ID, Text: Plain("is still on it")}, nil
	})
}

// pageUrgent alerts at once when a case turns urgent: managers by DM, the
// on-call phone, and (through the triage entry) the channel.
func (b *Bot) pageUrgent(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line) error {
	key := fmt.Sprintf("urgent:%d", c.ID)
	text := Plainf("🚨 Urgent: %s on the %s line needs a call back now.", caseRef(c.ID), line.Name)
	if err := b.alertManagers(ctx, tx, c, text, key); err != nil {
		return err
	}
	if err := b.page(ctx, tx, c, fmt.Sprintf("%s URGENT: %s on the %s line needs a call back now.", b.cfg.Business.Name, caseRef(c.ID), line.Name), key); err != nil {
		return err
	}
	return tx.AddEvent(ctx, c.ID, b.clock.Now(), "paged", "", map[string]any{"managers": len(b.cfg.Managers), "on_call": line.OnCall != ""})
}
