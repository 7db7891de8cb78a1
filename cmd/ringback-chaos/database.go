package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	_ "github.com/lib/pq" // PostgreSQL driver: the run's own database
)

// database reads what the verdict needs from the run's database.
type database struct{ db *sql.DB }

func openDatabase(url string) (*database, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	db.SetMaxOpenConns(2)
	return &database{db: db}, nil
}

func (d *database) close() { d.db.Close() }

// query runs q and hands each row's Scan to row; what names the query in
// its error.
func (d *database) query(ctx context.Context, what, q string, row func(scan func(dest ...any) error) error, args ...any) error {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("chaos: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
	}
	return rows.Err()
}

// unsettled counts outbox rows by kind that are neither done nor dead.
func (d *database) unsettled(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := d.query(ctx, "count unsettled outbox rows", `SELECT kind, COUNT(*) FROM outbox WHERE state NOT IN ('done', 'dead') GROUP BY kind`, func(scan func(...any) error) error {
		var k string
		var n int
		if err := scan(&k, &n); err != nil {
			return err
		}
		out[k] = n
		return nil
	})
	return out, err
}

// dead lists the outbox rows that gave up.
func (d *database) dead(ctx context.Context) ([]deadRow, error) {
	var out []deadRow
	err := d.query(ctx, "list dead outbox rows", `SELECT kind, payload FROM outbox WHERE state = 'dead' ORDER BY id`, func(scan func(...any) error) error {
		var k, payload string
		if err := scan(&k, &payload); err != nil {
			return err
		}
		var e struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal([]byte(payload), &e)
		out = append(out, deadRow{kind: k, entryKind: e.Kind})
		return nil
	})
	return out, err
}

// cases maps every case to its caller and line.
func (d *database) cases(ctx context.Context) (map[int64]pair, error) {
	out := map[int64]pair{}
	err := d.query(ctx, "list cases", `SELECT id, caller_number, line_number FROM cases`, func(scan func(...any) error) error {
		var id int64
		var p pair
		if err := scan(&id, &p.caller, &p.line); err != nil {
			return err
		}
		out[id] = p
		return nil
	})
	return out, err
}

// texts maps the SID of every text Ringback sent to how it stands.
func (d *database) texts(ctx context.Context) (map[string]storedText, error) {
	out := map[string]storedText{}
	err := d.query(ctx, "list texts", `SELECT sid, kind, status, COALESCE(case_id, 0) FROM messages WHERE direction = 'out' AND sid IS NOT NULL`,
		func(scan func(...any) error) error {
			var sid string
			var t storedText
			if err := scan(&sid, &t.kind, &t.status, &t.caseID); err != nil {
				return err
			}
			out[sid] = t
			return nil
		})
	return out, err
}

// caseTrail is what case id's text-back and outbox rows became, one line
// each, oldest row first: what a stale card's case did, for the report.
func (d *database) caseTrail(ctx context.Context, id int64) ([]string, error) {
	var lines []string
	err := d.query(ctx, "read a case's text-back", `SELECT c.textback_status, COALESCE(m.status, ''), COALESCE(m.sid, ''), COALESCE(m.updated_at::text, '')
		FROM cases c LEFT JOIN messages m ON m.case_id = c.id AND m.kind = 'textback' WHERE c.id = $1`, func(scan func(...any) error) error {
		var caseSays, status, sid, at string
		if err := scan(&caseSays, &status, &sid, &at); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("case says text-back %q; the text %s is %q (updated %s)", caseSays, sid, status, at))
		return nil
	}, id)
	if err != nil {
		return nil, err
	}
	err = d.query(ctx, "read a case's cards", `SELECT cd.platform, cd.message_id, cd.created_at::text, cd.outbox_seen,
			COALESCE(p.started_at::text, ''), COALESCE(p.in_flight_at::text, '')
		FROM cards cd LEFT JOIN chat_posts p ON p.platform = cd.platform AND p.post_key = 'card:' || cd.case_id
		WHERE cd.case_id = $1 ORDER BY cd.platform`, func(scan func(...any) error) error {
		var platform, message, created, started, inFlight string
		var seen int64
		if err := scan(&platform, &message, &created, &seen, &started, &inFlight); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s card %s reserved %s, rows up to %d seen; its post begun %s, in flight since %q", platform, message, created, seen, started, inFlight))
		return nil
	}, id)
	if err != nil {
		return nil, err
	}
	err = d.query(ctx, "list a case's outbox rows", `SELECT id, kind, state, attempts, dedupe_key, created_at::text, updated_at::text, last_error
		FROM outbox WHERE case_id = $1 ORDER BY id`, func(scan func(...any) error) error {
		var id int64
		var attempts int
		var kind, state, key, created, updated, lastErr string
		if err := scan(&id, &kind, &state, &attempts, &key, &created, &updated, &lastErr); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("row %d %s %s after %d attempts, %s, created %s, updated %s %q", id, kind, state, attempts, key, created, updated, lastErr))
		return nil
	}, id)
	return lines, err
}
