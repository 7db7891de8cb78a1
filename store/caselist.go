package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CaseListFilter narrows a page of cases for the read API. Every field is
// optional; pages walk case ids upwards from After.
type CaseListFilter struct {
	State        string    // open | claimed | closed
	Line         string    // the line's number
	Category     string    // the category key
	Owner        string    // the owner's user id
	UpdatedSince time.Time // only cases changed at or after this
	After        int64     // the last id of the previous page (0: from the start)
	Limit        int       // rows per page, 1–200 (0: 50)
}

// CaseListRow is a case with its caller's contact name, if known.
type CaseListRow struct {
	Case
	ContactName *string `db:"contact_name"`
}

// CasePage returns the cases matching f with ids above f.After, by id, and
// whether more follow. Keyed on the id (which never changes), a walk from
// the first page to the last returns each matching case once, whatever is
// updated meanwhile.
func (q queries) CasePage(ctx context.Context, f CaseListFilter) ([]CaseListRow, bool, error) {
	w := []string{"c.id > ?"}
	args := []any{f.After}
	for _, cond := range []struct {
		col, val string
	}{{"c.state", f.State}, {"c.line_number", f.Line}, {"c.category", f.Category}, {"c.owner", f.Owner}} {
		if cond.val != "" {
			w = append(w, cond.col+" = ?")
			args = append(args, cond.val)
		}
	}
	if !f.UpdatedSince.IsZero() {
		w = append(w, "c.updated_at >= ?")
		args = append(args, f.UpdatedSince.UTC())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	var rows []CaseListRow
	err := q.selectAll(ctx, &rows, `SELECT `+prefixed("c", caseColumns)+`, ct.name AS contact_name
		FROM cases c LEFT JOIN contacts ct ON ct.id = c.contact_id
		WHERE `+strings.Join(w, " AND ")+` ORDER BY c.id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: page of cases: %w", err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	return rows, more, nil
}
