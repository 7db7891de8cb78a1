package store

import (
	"context"
	"fmt"
	"time"
)

// Escalation is a case's escalation schedule as one row: the policy it
// runs on, its next step and when that is due, the step repeating and the
// owner's answer awaited. The bot decides every time; the store keeps them
// and FireAt, the earliest, for the timer loop.
type Escalation struct {
	CaseID int64 `db:"case_id"`
	// Policy is the case's policy as the bot encoded it when the case
	// opened; "" = the line's policy in the config.
	Policy string `db:"policy"`
	// Round counts restarts (an owner who did not answer, a reopen).
	Round int `db:"round"`
	// Base is when the round's clock started (before business hours).
	Base time.Time `db:"base"`
	// Step is the index of the next step (the earliest due of those not
	// done); StepAt when it is due (nil: none left).
	Step   int        `db:"step"`
	StepAt *time.Time `db:"step_at"`
	// Fired has bit i set when step i fired this round; Passed when it
	// was passed because its condition had cleared.
	Fired  int64 `db:"fired"`
	Passed int64 `db:"passed"`
	// RepeatStep is the step repeating (-1: none), RepeatN its repeats so
	// far, RepeatAt the next one.
	RepeatStep int        `db:"repeat_step"`
	RepeatN    int        `db:"repeat_n"`
	RepeatAt   *time.Time `db:"repeat_at"`
	// AckOwner is who must answer a reminder ("Still on it") by AckAt,
	// reminded by step AckStep.
	AckOwner string     `db:"ack_owner"`
	AckStep  int        `db:"ack_step"`
	AckAt    *time.Time `db:"ack_at"`
	FireAt   *time.Time `db:"fire_at"`
	// ManagersAt is when the case began to wait for the managers' next
	// round-up; nil: nothing to tell them.
	ManagersAt *time.Time `db:"managers_at"`
	UpdatedAt  time.Time  `db:"updated_at"`
}

// Next is the earliest of the row's times, nil when nothing is pending.
func (e Escalation) Next() *time.Time {
	var next *time.Time
	for _, t := range []*time.Time{e.StepAt, e.RepeatAt, e.AckAt} {
		if t != nil && (next == nil || t.Before(*next)) {
			next = t
		}
	}
	return next
}

const escalationColumns = `case_id, policy, round, base, step, step_at, fired, passed, repeat_step, repeat_n, repeat_at,
	ack_owner, ack_step, ack_at, fire_at, managers_at, updated_at`

// SaveEscalation writes the case's row, inserted or replaced whole, with
// fire_at its earliest time; in a transaction, at its commit.
func (q queries) SaveEscalation(ctx context.Context, e Escalation, now time.Time) error {
	return q.writeLater(ctx, laterWrite{table: "case_escalations", what: fmt.Sprintf("save escalation of case %d", e.CaseID),
		query: `INSERT INTO case_escalations (` + escalationColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id) DO UPDATE SET policy = excluded.policy, round = excluded.round, base = excluded.base,
			step = excluded.step, step_at = excluded.step_at, fired = excluded.fired, passed = excluded.passed,
			repeat_step = excluded.repeat_step, repeat_n = excluded.repeat_n, repeat_at = excluded.repeat_at,
			ack_owner = excluded.ack_owner, ack_step = excluded.ack_step, ack_at = excluded.ack_at,
			fire_at = excluded.fire_at, managers_at = excluded.managers_at, updated_at = excluded.updated_at`,
		args: []any{e.CaseID, e.Policy, e.Round, e.Base.UTC(), e.Step, utcp(e.StepAt), e.Fired, e.Passed, e.RepeatStep, e.RepeatN, utcp(e.RepeatAt),
			e.AckOwner, e.AckStep, utcp(e.AckAt), utcp(e.Next()), utcp(e.ManagersAt), now.UTC()}})
}

// DueEscalations lists the cases whose escalation has something due,
// oldest first. Ids only: a row that cannot be read whole fails on its
// own, when it is locked, instead of failing the list for every case.
func (q queries) DueEscalations(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := q.selectAll(ctx, &ids, `SELECT case_id FROM case_escalations
		WHERE fire_at IS NOT NULL AND fire_at <= ? ORDER BY fire_at, case_id LIMIT ?`, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due escalations: %w", err)
	}
	return ids, nil
}

// SkipEscalation stops a case's escalation that failed to fire, touching no
// other column (its own may be what cannot be read), so that it is not
// tried again.
func (q queries) SkipEscalation(ctx context.Context, caseID int64, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE case_escalations SET fire_at = NULL, updated_at = ? WHERE case_id = ?`, now.UTC(), caseID)
	if err != nil {
		return fmt.Errorf("store: skip escalation of case %d: %w", caseID, err)
	}
	return nil
}

// LockEscalation returns the case's row locked for the transaction
// (ErrNotFound: the case has none). Lock the case first.
func (q queries) LockEscalation(ctx context.Context, caseID int64) (Escalation, error) {
	var e Escalation
	err := q.get(ctx, &e, `SELECT `+escalationColumns+` FROM case_escalations WHERE case_id = ?`+q.d.forUpdate, caseID)
	return e, notFound(err, "store: escalation of case %d", caseID)
}

// EscalationOf returns the case's row, unlocked.
func (q queries) EscalationOf(ctx context.Context, caseID int64) (Escalation, error) {
	var e Escalation
	err := q.get(ctx, &e, `SELECT `+escalationColumns+` FROM case_escalations WHERE case_id = ?`, caseID)
	return e, notFound(err, "store: escalation of case %d", caseID)
}

// NeedManagers puts the case in the managers' next round-up, waiting since
// now unless it waits already; a case without a row (a line without
// escalation) gets one with nothing to fire.
func (q queries) NeedManagers(ctx context.Context, caseID int64, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO case_escalations (case_id, base, repeat_step, managers_at, updated_at)
		VALUES (?, ?, -1, ?, ?)
		ON CONFLICT (case_id) DO UPDATE SET managers_at = COALESCE(case_escalations.managers_at, excluded.managers_at),
			updated_at = excluded.updated_at`, caseID, now.UTC(), now.UTC(), now.UTC())
	if err != nil {
		return fmt.Errorf("store: case %d needs managers: %w", caseID, err)
	}
	return nil
}

// ManagersWaiting lists the cases waiting for the managers' round-up,
// longest waiting first.
func (q queries) ManagersWaiting(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	err := q.selectAll(ctx, &ids, `SELECT case_id FROM case_escalations WHERE managers_at IS NOT NULL
		ORDER BY managers_at, case_id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: cases waiting for managers: %w", err)
	}
	return ids, nil
}

// ManagersTold takes the case out of the round-up: its managers heard.
func (q queries) ManagersTold(ctx context.Context, caseID int64, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE case_escalations SET managers_at = NULL, updated_at = ? WHERE case_id = ?`, now.UTC(), caseID)
	if err != nil {
		return fmt.Errorf("store: managers told of case %d: %w", caseID, err)
	}
	return nil
}
