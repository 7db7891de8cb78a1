package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The weekly digest and /callbacks stats read a period's raw facts here, in
// four range queries on indexes; the bot computes the KPIs from them in Go. Nothing here does date arithmetic in SQL: SQLite keeps times as
// text, so times are only compared with bound time.Time parameters and come
// back as rows.

// KPICall is one routed inbound call, answered or missed.
type KPICall struct {
	LineNumber string
	Missed     bool
	AfterHours bool
	StartedAt  time.Time
}

// KPICase is one case created in the period, with what its KPIs need from
// its messages.
type KPICase struct {
	ID              int64
	LineNumber      string
	Category        string
	Spam            bool
	Outcome         string
	TextbackStatus  string
	ContactAttempts int
	CreatedAt       time.Time
	CategorizedAt   *time.Time
	ClaimedAt       *time.Time
	FirstContactAt  *time.Time
	ClosedAt        *time.Time
	// TextBacks counts the case's automatic text-back rows (one, by the
	// outbox's dedupe key), and TextBacksWithdrawn those canceled before
	// Twilio accepted them (the number opted out or became untextable while
	// a delayed text waited).
	TextBacks          int
	TextBacksWithdrawn int
	// TextBackAcceptedAt is when Twilio first accepted a text-back (nil: never).
	TextBackAcceptedAt *time.Time
	// CallerTexted: the caller sent at least one SMS on the case.
	CallerTexted bool
	// Linked: a text to the caller carried a callback picker link;
	// Picked: the caller picked a callback slot with one, PickedSlot.
	Linked, Picked bool
	PickedSlot     *time.Time
}

// KPIScheduledCallback is a callback slot a caller picked (their latest
// pick) that falls in the period, whatever period its case was opened in,
// with the case's logged callback attempts.
type KPIScheduledCallback struct {
	CaseID     int64
	LineNumber string
	Slot       time.Time
	Spam       bool
	Outcome    string
	ClosedAt   *time.Time
	Attempts   []time.Time // logged callbacks (Log callback), any result
}

// KPIActivity is something that happened on a case of the period, at any
// time: a call attached to it ("call"), an SMS from the caller ("text"), or
// an escalation ("escalated", Data is the event's JSON).
type KPIActivity struct {
	CaseID int64
	Kind   string
	At     time.Time
	Data   string
}

// Activity kinds.
const (
	KPIActivityCall      = "call"
	KPIActivityText      = "text"
	KPIActivityEscalated = "escalated"
)

// KPIBacklog is the cases of one line open at an instant, and the oldest
// one's creation.
type KPIBacklog struct {
	LineNumber string
	Open       int
	Oldest     time.Time
}

// KPIData is what the KPIs of [From, To) are computed from.
type KPIData struct {
	Calls    []KPICall     // routed calls started in the period
	Cases    []KPICase     // cases created in the period
	Activity []KPIActivity // calls, caller texts and escalations of those cases
	Backlog  []KPIBacklog  // per line: cases created before To and not closed at To
	// Scheduled are the callback slots in the period that callers picked.
	Scheduled []KPIScheduledCallback
}

// KPIData reads the raw facts for the KPIs of [from, to).
func (q queries) KPIData(ctx context.Context, from, to time.Time) (KPIData, error) {
	from, to = from.UTC(), to.UTC()
	var d KPIData

	// Unrouted calls (to a number that is no configured line) open no case
	// and belong to no line's figures.
	var calls []kpiCallRow
	if err := q.selectAll(ctx, &calls, `
		SELECT line_number, missed, after_hours, started_at FROM calls
		WHERE started_at >= ? AND started_at < ? AND routed`, from, to); err != nil {
		return KPIData{}, fmt.Errorf("store: kpi calls: %w", err)
	}
	d.Calls = make([]KPICall, len(calls))
	for i, c := range calls {
		d.Calls[i] = KPICall{LineNumber: c.LineNumber, Missed: c.Missed, AfterHours: c.AfterHours, StartedAt: c.StartedAt.t()}
	}

	var cases []kpiCaseRow
	if err := q.selectAll(ctx, &cases, `
		SELECT id, line_number, category, spam, outcome, textback_status, contact_attempts,
			created_at, categorized_at, claimed_at, first_contact_at, closed_at
		FROM cases
		WHERE created_at >= ? AND created_at < ?
		ORDER BY created_at, id`, from, to); err != nil {
		return KPIData{}, fmt.Errorf("store: kpi cases: %w", err)
	}
	d.Cases = make([]KPICase, len(cases))
	byID := make(map[int64]*KPICase, len(cases))
	for i, c := range cases {
		d.Cases[i] = KPICase{
			ID: c.ID, LineNumber: c.LineNumber, Category: c.Category, Spam: c.Spam, Outcome: c.Outcome,
			TextbackStatus: c.TextbackStatus, ContactAttempts: c.ContactAttempts,
			CreatedAt: c.CreatedAt.t(), CategorizedAt: c.CategorizedAt.ptr(), ClaimedAt: c.ClaimedAt.ptr(),
			FirstContactAt: c.FirstContactAt.ptr(), ClosedAt: c.ClosedAt.ptr(),
		}
		byID[c.ID] = &d.Cases[i]
	}

	// Calls, texts and escalations of those cases, by case_id range: the
	// indexes calls_case, messages_case and events_case lead with case_id,
	// and ids follow creation closely, so the range holds little else; rows
	// of cases outside the period are dropped below.
	var acts []kpiActivityRow
	if len(cases) > 0 {
		lo, hi := cases[0].ID, cases[0].ID
		for _, c := range cases {
			lo, hi = min(lo, c.ID), max(hi, c.ID)
		}
		if err := q.selectAll(ctx, &acts, `
			SELECT case_id, 'call' AS kind, started_at AS at, '' AS data
			FROM calls WHERE case_id BETWEEN ? AND ?
			UNION ALL
			SELECT case_id, CASE WHEN direction = 'in' THEN 'text' ELSE 'textback' END,
				CASE WHEN direction = 'in' THEN created_at ELSE accepted_at END, status
			FROM messages WHERE case_id BETWEEN ? AND ?
				AND (direction = 'in' OR (direction = 'out' AND kind = 'textback'))
			UNION ALL
			SELECT case_id, 'escalated', at, data
			FROM events WHERE case_id BETWEEN ? AND ? AND kind = 'escalated'
			UNION ALL
			SELECT case_id, 'linked', MIN(created_at), '' FROM callback_links WHERE case_id BETWEEN ? AND ? GROUP BY case_id
			UNION ALL
			SELECT case_id, 'picked', slot_at, '' FROM callback_requests WHERE case_id BETWEEN ? AND ?`,
			lo, hi, lo, hi, lo, hi, lo, hi, lo, hi); err != nil {
			return KPIData{}, fmt.Errorf("store: kpi activity: %w", err)
		}
	}
	d.Activity = make([]KPIActivity, 0, len(acts))
	for _, a := range acts {
		c := byID[a.CaseID]
		if c == nil {
			continue // a case of another period, or created since the first read
		}
		switch a.Kind {
		case "textback":
			c.TextBacks++
			if !a.At.valid && a.Data == "canceled" {
				c.TextBacksWithdrawn++
			}
			if at := a.At.ptr(); at != nil && (c.TextBackAcceptedAt == nil || at.Before(*c.TextBackAcceptedAt)) {
				c.TextBackAcceptedAt = at
			}
			continue
		case "linked":
			c.Linked = true
			continue
		case "picked":
			c.Picked, c.PickedSlot = true, a.At.ptr()
			continue
		case KPIActivityText:
			c.CallerTexted = true
		}
		d.Activity = append(d.Activity, KPIActivity{CaseID: a.CaseID, Kind: a.Kind, At: a.At.t(), Data: a.Data})
	}

	// Open at To: still open now (the cases_queue partial index), or closed
	// at or after To. A reopened case has lost its earlier closed_at, so a
	// past week's backlog counts it only if it is open now.
	var backlog []kpiBacklogRow
	if err := q.selectAll(ctx, &backlog, `
		SELECT line_number, COUNT(*) AS open_cases, MIN(created_at) AS oldest FROM (
			SELECT line_number, created_at FROM cases WHERE state <> 'closed' AND created_at < ?
			UNION ALL
			SELECT line_number, created_at FROM cases WHERE state = 'closed' AND closed_at >= ? AND created_at < ?
		) b
		GROUP BY line_number
		ORDER BY line_number`, to, to, to); err != nil {
		return KPIData{}, fmt.Errorf("store: kpi backlog: %w", err)
	}
	d.Backlog = make([]KPIBacklog, len(backlog))
	for i, b := range backlog {
		d.Backlog[i] = KPIBacklog{LineNumber: b.LineNumber, Open: b.Open, Oldest: b.Oldest.t()}
	}
	var err error
	if d.Scheduled, err = q.kpiScheduled(ctx, from, to); err != nil {
		return KPIData{}, err
	}
	return d, nil
}

// kpiScheduled reads the callback slots in [from, to) and the logged
// callbacks of their cases (by case_id range, as the activity above).
func (q queries) kpiScheduled(ctx context.Context, from, to time.Time) ([]KPIScheduledCallback, error) {
	var rows []struct {
		CaseID     int64  `db:"case_id"`
		LineNumber string `db:"line_number"`
		Slot       dbTime `db:"slot_at"`
		Spam       bool   `db:"spam"`
		Outcome    string `db:"outcome"`
		ClosedAt   dbTime `db:"closed_at"`
	}
	if err := q.selectAll(ctx, &rows, `
		SELECT r.case_id, r.line_number, r.slot_at, c.spam, c.outcome, c.closed_at
		FROM callback_requests r JOIN cases c ON c.id = r.case_id
		WHERE r.slot_at >= ? AND r.slot_at < ?
		ORDER BY r.slot_at, r.case_id`, from, to); err != nil {
		return nil, fmt.Errorf("store: kpi scheduled callbacks: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]KPIScheduledCallback, len(rows))
	byID := make(map[int64]*KPIScheduledCallback, len(rows))
	lo, hi := rows[0].CaseID, rows[0].CaseID
	for i, r := range rows {
		out[i] = KPIScheduledCallback{CaseID: r.CaseID, LineNumber: r.LineNumber, Slot: r.Slot.t(), Spam: r.Spam,
			Outcome: r.Outcome, ClosedAt: r.ClosedAt.ptr()}
		byID[r.CaseID] = &out[i]
		lo, hi = min(lo, r.CaseID), max(hi, r.CaseID)
	}
	var attempts []struct {
		CaseID int64  `db:"case_id"`
		At     dbTime `db:"at"`
	}
	if err := q.selectAll(ctx, &attempts, `SELECT case_id, at FROM events
		WHERE case_id BETWEEN ? AND ? AND kind = 'callback' ORDER BY at`, lo, hi); err != nil {
		return nil, fmt.Errorf("store: kpi logged callbacks: %w", err)
	}
	for _, a := range attempts {
		if s := byID[a.CaseID]; s != nil {
			s.Attempts = append(s.Attempts, a.At.t())
		}
	}
	return out, nil
}

type kpiCallRow struct {
	LineNumber string `db:"line_number"`
	Missed     bool   `db:"missed"`
	AfterHours bool   `db:"after_hours"`
	StartedAt  dbTime `db:"started_at"`
}

type kpiCaseRow struct {
	ID              int64  `db:"id"`
	LineNumber      string `db:"line_number"`
	Category        string `db:"category"`
	Spam            bool   `db:"spam"`
	Outcome         string `db:"outcome"`
	TextbackStatus  string `db:"textback_status"`
	ContactAttempts int    `db:"contact_attempts"`
	CreatedAt       dbTime `db:"created_at"`
	CategorizedAt   dbTime `db:"categorized_at"`
	ClaimedAt       dbTime `db:"claimed_at"`
	FirstContactAt  dbTime `db:"first_contact_at"`
	ClosedAt        dbTime `db:"closed_at"`
}

type kpiActivityRow struct {
	CaseID int64  `db:"case_id"`
	Kind   string `db:"kind"`
	At     dbTime `db:"at"`
	Data   string `db:"data"`
}

type kpiBacklogRow struct {
	LineNumber string `db:"line_number"`
	Open       int    `db:"open_cases"`
	Oldest     dbTime `db:"oldest"`
}

// dbTime scans a timestamp that may be NULL. SQLite hands back text rather
// than time.Time for expressions (MIN(…), UNION columns) because they carry
// no declared column type, so text in the driver's formats is parsed here.
type dbTime struct {
	time  time.Time
	valid bool
}

// dbTimeFormats are the layouts modernc.org/sqlite writes and reads;
// "_time_format=sqlite" writes the first.
var dbTimeFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	*t = dbTime{}
	switch v := v.(type) {
	case nil:
		return nil
	case time.Time:
		t.time, t.valid = v.UTC(), true
		return nil
	case []byte:
		return t.parse(string(v))
	case string:
		return t.parse(v)
	}
	return fmt.Errorf("store: cannot read %T as a time", v)
}

func (t *dbTime) parse(s string) error {
	ts, z := strings.CutSuffix(strings.TrimSpace(s), "Z")
	for _, f := range dbTimeFormats {
		var (
			p   time.Time
			err error
		)
		if z || strings.HasSuffix(f, "07:00") {
			p, err = time.Parse(f, ts)
		} else {
			p, err = time.ParseInLocation(f, ts, time.UTC)
		}
		if err == nil {
			t.time, t.valid = p.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("store: cannot read %q as a time", s)
}

func (t dbTime) t() time.Time { return t.time }

func (t dbTime) ptr() *time.Time {
	if !t.valid {
		return nil
	}
	v := t.time
	return &v
}
