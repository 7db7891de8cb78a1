package store

import (
	"context"
	"fmt"
	"time"
)

// The weekly digest adds to the KPIs (kpi.go) what managers read by person
// and by day: the period's cases as each member of staff worked them, the
// oldest cases still open at the period's end, and the raw times of missed
// calls and first contacts, which the bot buckets into days in the business's
// time zone (SQL cannot do that on both engines).

// DigestCase is one case created in the period, as the per-staff table reads it.
type DigestCase struct {
	ID             int64
	LineNumber     string
	Owner          string
	ClosedBy       string
	Outcome        string
	Closed         bool
	CreatedAt      time.Time
	FirstContactAt *time.Time
}

// DigestClaim is how many of the period's cases one person claimed.
type DigestClaim struct {
	Actor string `db:"actor"`
	Cases int    `db:"cases"`
}

// DigestData is what the digest adds to the KPIs of [From, To).
type DigestData struct {
	Cases  []DigestCase  // created in the period
	Claims []DigestClaim // per person, distinct cases of the period claimed
	// Oldest are the cases open at To (created before it and not closed
	// before it), oldest first.
	Oldest []QueueRow
	// MissedAt are the starts of the routed missed calls of the period;
	// ContactedAt the first human contacts made in the period, whenever the
	// case was opened.
	MissedAt    []time.Time
	ContactedAt []time.Time
}

// DigestData reads the digest's facts for [from, to). line, when not "",
// keeps one line's number only; oldest is how many open cases to list.
func (q queries) DigestData(ctx context.Context, from, to time.Time, line string, oldest int) (DigestData, error) {
	from, to = from.UTC(), to.UTC()
	var d DigestData
	onLine := func(col string, args ...any) (string, []any) {
		if line == "" {
			return "", args
		}
		return " AND " + col + " = ?", append(args, line)
	}

	where, args := onLine("line_number", from, to)
	var cases []digestCaseRow
	if err := q.selectAll(ctx, &cases, `
		SELECT id, line_number, owner, closed_by, outcome, state, created_at, first_contact_at
		FROM cases WHERE created_at >= ? AND created_at < ?`+where+`
		ORDER BY created_at, id`, args...); err != nil {
		return DigestData{}, fmt.Errorf("store: digest cases: %w", err)
	}
	d.Cases = make([]DigestCase, len(cases))
	for i, c := range cases {
		d.Cases[i] = DigestCase{
			ID: c.ID, LineNumber: c.LineNumber, Owner: c.Owner, ClosedBy: c.ClosedBy, Outcome: c.Outcome,
			Closed: c.State == CaseClosed, CreatedAt: c.CreatedAt.t(), FirstContactAt: c.FirstContactAt.ptr(),
		}
	}

	// A person who claimed, released and claimed again counts the case once.
	where, args = onLine("c.line_number", from, to)
	if err := q.selectAll(ctx, &d.Claims, `
		SELECT e.actor AS actor, COUNT(DISTINCT e.case_id) AS cases
		FROM cases c JOIN events e ON e.case_id = c.id
		WHERE c.created_at >= ? AND c.created_at < ? AND e.kind = 'claimed' AND e.actor <> ''`+where+`
		GROUP BY e.actor
		ORDER BY e.actor`, args...); err != nil {
		return DigestData{}, fmt.Errorf("store: digest claims: %w", err)
	}

	// Open at To, as the KPIs' backlog counts it: open now (the cases_queue
	// partial index, in order), or closed at or after To. Each half is cut
	// to the limit before the two are merged.
	if oldest > 0 {
		openWhere, openArgs := onLine("line_number", to)
		closedWhere, closedArgs := onLine("line_number", to, to)
		args := append(append(append(openArgs, oldest), closedArgs...), oldest)
		cols := prefixed("c", caseColumns)
		if err := q.selectAll(ctx, &d.Oldest, `
			SELECT `+cols+`, ct.name AS contact_name,
				EXISTS (SELECT 1 FROM messages m WHERE m.case_id = c.id AND m.direction = 'in') AS caller_replied,
				NULL AS card_channel, NULL AS card_message
			FROM cases c
			LEFT JOIN contacts ct ON ct.id = c.contact_id
			WHERE c.id IN (
				SELECT id FROM (SELECT id FROM cases WHERE state <> 'closed' AND created_at < ?`+openWhere+`
					ORDER BY created_at, id LIMIT ?) o
				UNION ALL
				SELECT id FROM (SELECT id FROM cases WHERE state = 'closed' AND closed_at >= ? AND created_at < ?`+closedWhere+`
					ORDER BY created_at, id LIMIT ?) cl)
			ORDER BY c.created_at, c.id
			LIMIT ?`, append(args, oldest)...); err != nil {
			return DigestData{}, fmt.Errorf("store: digest oldest open cases: %w", err)
		}
	}

	var times []dbTime
	where, args = onLine("line_number", from, to)
	if err := q.selectAll(ctx, &times, `
		SELECT started_at FROM calls
		WHERE started_at >= ? AND started_at < ? AND routed AND missed`+where+`
		ORDER BY started_at`, args...); err != nil {
		return DigestData{}, fmt.Errorf("store: digest missed calls: %w", err)
	}
	d.MissedAt = make([]time.Time, len(times))
	for i, t := range times {
		d.MissedAt[i] = t.t()
	}

	times = nil
	if err := q.selectAll(ctx, &times, `
		SELECT first_contact_at FROM cases
		WHERE first_contact_at >= ? AND first_contact_at < ?`+where+`
		ORDER BY first_contact_at`, args...); err != nil {
		return DigestData{}, fmt.Errorf("store: digest first contacts: %w", err)
	}
	d.ContactedAt = make([]time.Time, len(times))
	for i, t := range times {
		d.ContactedAt[i] = t.t()
	}
	return d, nil
}

type digestCaseRow struct {
	ID             int64  `db:"id"`
	LineNumber     string `db:"line_number"`
	Owner          string `db:"owner"`
	ClosedBy       string `db:"closed_by"`
	Outcome        string `db:"outcome"`
	State          string `db:"state"`
	CreatedAt      dbTime `db:"created_at"`
	FirstContactAt dbTime `db:"first_contact_at"`
}
