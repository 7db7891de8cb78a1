package store

import (
	"context"
	"fmt"
	"time"
)

// Escalation kinds.
const (
	EscalationStep     = "step"
	EscalationOwnerAck = "owner_ack"
)

// Escalation is one scheduled escalation step (or an owner's awaited
// answer) of a case.
type Escalation struct {
	ID        int64     `db:"id"`
	CaseID    int64     `db:"case_id"`
	Kind      string    `db:"kind"`
	Step      int       `db:"step"`
	Round     int       `db:"round"`
	RepeatN   int       `db:"repeat_n"`
	Owner     string    `db:"owner"`
	FireAt    time.Time `db:"fire_at"`
	State     string    `db:"state"`
	UpdatedAt time.Time `db:"updated_at"`
	// PolicyStep is the policy step the row was scheduled from, as the bot
	// encoded it; "" on rows scheduled before it was kept.
	PolicyStep string `db:"policy_step"`
}

const escalationColumns = `id, case_id, kind, step, round, repeat_n, owner, fire_at, state, updated_at, policy_step`

// ScheduleEscalation adds a pending row; one already scheduled for the same
// (case, kind, step, round, repeat) is left alone.
func (q queries) ScheduleEscalation(ctx context.Context, e Escalation, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO escalations (case_id, kind, step, round, repeat_n, owner, fire_at, state, updated_at, policy_step)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (case_id, kind, step, round, repeat_n) DO NOTHING`,
		e.CaseID, e.Kind, e.Step, e.Round, e.RepeatN, e.Owner, e.FireAt.UTC(), now.UTC(), e.PolicyStep)
	if err != nil {
		return fmt.Errorf("store: schedule escalation of case %d: %w", e.CaseID, err)
	}
	return nil
}

// DueEscalations lists the ids of pending rows whose time has come, oldest
// first. Ids only: a row that cannot be read whole fails on its own, when it
// is locked, instead of failing the list for every case.
func (q queries) DueEscalations(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := q.selectAll(ctx, &ids, `SELECT id FROM escalations
		WHERE state = 'pending' AND fire_at <= ? ORDER BY fire_at, id LIMIT ?`, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due escalations: %w", err)
	}
	return ids, nil
}

// SkipEscalation cancels a row that failed to fire, touching no other
// column (its own may be what cannot be read), so that it is not tried again.
func (q queries) SkipEscalation(ctx context.Context, id int64, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE escalations SET state = 'canceled', updated_at = ? WHERE id = ? AND state = 'pending'`, now.UTC(), id)
	if err != nil {
		return fmt.Errorf("store: skip escalation %d: %w", id, err)
	}
	return nil
}

// LockEscalation returns row id locked for the transaction.
func (q queries) LockEscalation(ctx context.Context, id int64) (Escalation, error) {
	var e Escalation
	err := q.get(ctx, &e, `SELECT `+escalationColumns+` FROM escalations WHERE id = ?`+q.d.forUpdate, id)
	return e, notFound(err, "store: escalation %d", id)
}

// SetEscalation moves a row to state (fired, canceled) or to a new time.
func (q queries) SetEscalation(ctx context.Context, id int64, state string, fireAt, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE escalations SET state = ?, fire_at = ?, updated_at = ? WHERE id = ?`, state, fireAt.UTC(), now.UTC(), id)
	if err != nil {
		return fmt.Errorf("store: update escalation %d: %w", id, err)
	}
	return nil
}

// CancelEscalations cancels a case's pending rows of kind ("" = every kind);
// owner, when set, limits it to rows awaiting that owner.
func (q queries) CancelEscalations(ctx context.Context, caseID int64, kind, owner string, now time.Time) (int64, error) {
	query := `UPDATE escalations SET state = 'canceled', updated_at = ? WHERE case_id = ? AND state = 'pending'`
	args := []any{now.UTC(), caseID}
	if kind != "" {
		query += ` AND kind = ?`
		args = append(args, kind)
	}
	if owner != "" {
		query += ` AND owner = ?`
		args = append(args, owner)
	}
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("store: cancel escalations of case %d: %w", caseID, err)
	}
	return res.RowsAffected()
}

// EscalationsForCase lists a case's schedule.
func (q queries) EscalationsForCase(ctx context.Context, caseID int64) ([]Escalation, error) {
	var es []Escalation
	err := q.selectAll(ctx, &es, `SELECT `+escalationColumns+` FROM escalations WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: escalations of case %d: %w", caseID, err)
	}
	return es, nil
}
