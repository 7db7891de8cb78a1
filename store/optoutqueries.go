package store

import (
	"context"
	"fmt"
	"time"
)

// Decisions staff take on a possible opt-out.
const (
	OptOutConfirmed = "opt_out"
	OptOutDismissed = "not_opt_out"
)

// OptOutQuery is a caller's text that may be a request to stop texting,
// waiting for staff to decide (Decision "") or decided.
type OptOutQuery struct {
	MessageID int64  `db:"message_id"` // the caller's text
	CaseID    int64  `db:"case_id"`
	Phrase    string `db:"phrase"`
	// Body is the caller's text itself (read from messages).
	Body    string    `db:"body"`
	AskedAt time.Time `db:"asked_at"`
	// Decision is "" until someone decides: OptOutConfirmed or
	// OptOutDismissed, by DecidedBy at DecidedAt.
	Decision  string     `db:"decision"`
	DecidedBy string     `db:"decided_by"`
	DecidedAt *time.Time `db:"decided_at"`
}

// AskOptOut records that the text q.MessageID may be an opt-out; asking
// twice about one text changes nothing.
func (q queries) AskOptOut(ctx context.Context, oq OptOutQuery) error {
	_, err := q.exec(ctx, `INSERT INTO optout_queries (message_id, case_id, phrase, asked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id) DO NOTHING`, oq.MessageID, oq.CaseID, oq.Phrase, oq.AskedAt.UTC())
	if err != nil {
		return fmt.Errorf("store: ask about opt-out of message %d: %w", oq.MessageID, err)
	}
	return nil
}

// OpenOptOutQuery returns the case's latest undecided possible opt-out
// (ErrNotFound when there is none).
func (q queries) OpenOptOutQuery(ctx context.Context, caseID int64) (OptOutQuery, error) {
	var oq OptOutQuery
	err := q.get(ctx, &oq, `SELECT o.message_id, o.case_id, o.phrase, m.body, o.asked_at, o.decision, o.decided_by, o.decided_at
		FROM optout_queries o JOIN messages m ON m.id = o.message_id
		WHERE o.case_id = ? AND o.decision = '' ORDER BY o.asked_at DESC, o.message_id DESC LIMIT 1`, caseID)
	return oq, notFound(err, "store: open opt-out query of case %d", caseID)
}

// DecideOptOut settles every undecided possible opt-out of the case;
// decided is how many there were (0: someone decided first).
func (q queries) DecideOptOut(ctx context.Context, caseID int64, decision, by string, now time.Time) (decided int64, err error) {
	res, err := q.exec(ctx, `UPDATE optout_queries SET decision = ?, decided_by = ?, decided_at = ? WHERE case_id = ? AND decision = ''`,
		decision, by, now.UTC(), caseID)
	if err != nil {
		return 0, fmt.Errorf("store: decide opt-out of case %d: %w", caseID, err)
	}
	return res.RowsAffected()
}
