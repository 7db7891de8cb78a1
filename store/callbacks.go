package store

import (
	"context"
	"fmt"
	"time"
)

// CallbackLink is a caller's link to the callback picker, known only by
// the hash of its token.
type CallbackLink struct {
	ID        int64      `db:"id"`
	CaseID    int64      `db:"case_id"`
	Hash      string     `db:"token_hash"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	Picks     int        `db:"picks"`
	UsedAt    *time.Time `db:"used_at"`
}

const callbackLinkColumns = `id, case_id, token_hash, created_at, expires_at, picks, used_at`

// InsertCallbackLink records a new link; in a transaction, at its commit.
// A token hash already used is an error: 128 random bits do not collide,
// so a repeat is a bug upstream.
func (q queries) InsertCallbackLink(ctx context.Context, l CallbackLink) error {
	return q.writeLater(ctx, laterWrite{table: "callback_links", what: fmt.Sprintf("insert callback link of case %d", l.CaseID),
		query: `INSERT INTO callback_links (case_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		args:  []any{l.CaseID, l.Hash, l.CreatedAt.UTC(), l.ExpiresAt.UTC()}})
}

// CallbackLinkByHash returns the link whose token hashes to hash; locked
// when q is a transaction on PostgreSQL, so that two picks through one
// link are decided one after the other.
func (q queries) CallbackLinkByHash(ctx context.Context, hash string) (CallbackLink, error) {
	var l CallbackLink
	lock := ""
	if q.tx != nil {
		lock = q.d.forUpdate
	}
	err := q.get(ctx, &l, `SELECT `+callbackLinkColumns+` FROM callback_links WHERE token_hash = ?`+lock, hash)
	return l, notFound(err, "store: callback link")
}

// UseCallbackLink counts one pick made through link id at now.
func (q queries) UseCallbackLink(ctx context.Context, id int64, now time.Time) error {
	if _, err := q.exec(ctx, `UPDATE callback_links SET picks = picks + 1, used_at = ? WHERE id = ?`, now.UTC(), id); err != nil {
		return fmt.Errorf("store: use callback link %d: %w", id, err)
	}
	return nil
}

// CallbackRequest is the callback a caller asked for on a case.
type CallbackRequest struct {
	CaseID     int64     `db:"case_id"`
	LineNumber string    `db:"line_number"`
	SlotAt     time.Time `db:"slot_at"`
	Seat       *int      `db:"seat"`
	Category   string    `db:"category"`
	Note       string    `db:"note"`
	Picks      int       `db:"picks"`
	PickedAt   time.Time `db:"picked_at"`
}

const callbackRequestColumns = `case_id, line_number, slot_at, seat, category, note, picks, picked_at`

// CallbackRequestFor returns case id's requested callback (ErrNotFound: none).
func (q queries) CallbackRequestFor(ctx context.Context, caseID int64) (CallbackRequest, error) {
	var r CallbackRequest
	err := q.get(ctx, &r, `SELECT `+callbackRequestColumns+` FROM callback_requests WHERE case_id = ?`, caseID)
	r.SlotAt = r.SlotAt.UTC()
	return r, notFound(err, "store: callback request of case %d", caseID)
}

// ErrSlotFull means every place of a callback slot is taken.
var ErrSlotFull = fmt.Errorf("store: callback slot full")

// SaveCallbackRequest writes r as the case's requested callback, replacing
// the one it had. With capacity > 0 it takes the first free place of the
// slot, or fails with ErrSlotFull and writes nothing; 0 is no limit. The
// seats' unique index decides between two picks of the last place.
func (tx *Tx) SaveCallbackRequest(ctx context.Context, r *CallbackRequest, capacity int) error {
	if _, err := tx.exec(ctx, `DELETE FROM callback_requests WHERE case_id = ?`, r.CaseID); err != nil {
		return fmt.Errorf("store: save callback request of case %d: %w", r.CaseID, err)
	}
	seats := []*int{nil}
	if capacity > 0 {
		// A closed case no longer holds its place.
		if _, err := tx.exec(ctx, `UPDATE callback_requests SET seat = NULL
			WHERE line_number = ? AND slot_at = ? AND seat IS NOT NULL
			AND case_id IN (SELECT id FROM cases WHERE state = 'closed')`, r.LineNumber, r.SlotAt.UTC()); err != nil {
			return fmt.Errorf("store: save callback request of case %d: %w", r.CaseID, err)
		}
		seats = seats[:0]
		for i := range capacity {
			seats = append(seats, &i)
		}
	}
	for _, seat := range seats {
		var ok []int64
		err := tx.selectAll(ctx, &ok, `INSERT INTO callback_requests (`+callbackRequestColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING case_id`,
			r.CaseID, r.LineNumber, r.SlotAt.UTC(), seat, r.Category, r.Note, r.Picks, r.PickedAt.UTC())
		if err != nil {
			return fmt.Errorf("store: save callback request of case %d: %w", r.CaseID, err)
		}
		if len(ok) > 0 {
			r.Seat = seat
			return nil
		}
	}
	return fmt.Errorf("store: callback slot %s on %s: %w", r.SlotAt.UTC().Format(time.RFC3339), r.LineNumber, ErrSlotFull)
}

// CallbackSlotsTaken counts the callbacks requested on line in [from, to)
// by slot, leaving out case except's own and those of closed cases.
func (q queries) CallbackSlotsTaken(ctx context.Context, line string, from, to time.Time, except int64) (map[time.Time]int, error) {
	var rows []struct {
		SlotAt time.Time `db:"slot_at"`
		N      int       `db:"n"`
	}
	err := q.selectAll(ctx, &rows, `SELECT r.slot_at, COUNT(*) AS n FROM callback_requests r JOIN cases c ON c.id = r.case_id
		WHERE r.line_number = ? AND r.slot_at >= ? AND r.slot_at < ? AND r.case_id <> ? AND c.state <> 'closed'
		GROUP BY r.slot_at`, line, from.UTC(), to.UTC(), except)
	if err != nil {
		return nil, fmt.Errorf("store: callback slots taken on %s: %w", line, err)
	}
	out := make(map[time.Time]int, len(rows))
	for _, r := range rows {
		out[r.SlotAt.UTC()] = r.N
	}
	return out, nil
}
