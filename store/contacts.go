package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Contact is a known caller (tenant, owner, vendor, prospect), imported from
// the property-management system.
type Contact struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	Kind      string    `db:"kind"`
	Property  string    `db:"property"`
	Unit      string    `db:"unit"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// ContactByNumber returns the contact who owns number.
func (q queries) ContactByNumber(ctx context.Context, number string) (Contact, error) {
	var c Contact
	err := q.get(ctx, &c, `SELECT c.id, c.name, c.kind, c.property, c.unit, c.created_at, c.updated_at
		FROM contacts c JOIN contact_numbers n ON n.contact_id = c.id WHERE n.number = ?`, number)
	return c, notFound(err, "store: contact of %s", number)
}

// ContactByID returns contact id.
func (q queries) ContactByID(ctx context.Context, id int64) (Contact, error) {
	var c Contact
	err := q.get(ctx, &c, `SELECT id, name, kind, property, unit, created_at, updated_at FROM contacts WHERE id = ?`, id)
	return c, notFound(err, "store: contact %d", id)
}

// ContactNumbers lists a contact's numbers.
func (q queries) ContactNumbers(ctx context.Context, id int64) ([]string, error) {
	var ns []string
	if err := q.selectAll(ctx, &ns, `SELECT number FROM contact_numbers WHERE contact_id = ? ORDER BY number`, id); err != nil {
		return nil, fmt.Errorf("store: numbers of contact %d: %w", id, err)
	}
	return ns, nil
}

// UpsertContact is MergeContact for callers that need no report.
func (q queries) UpsertContact(ctx context.Context, c Contact, numbers []string, now time.Time) (id int64, created bool, err error) {
	m, err := q.MergeContact(ctx, c, numbers, now)
	return m.ID, m.Created, err
}

// ContactMerge is what MergeContact did with one contact.
type ContactMerge struct {
	ID      int64
	Created bool
	// Conflicts say, in words, what was not applied because it would
	// rename a contact that existed before this import or take a number
	// from another contact.
	Conflicts []string
}

// MergeContact merges c into the contact that already owns one of numbers,
// or creates it. start is when the import began: a contact created before
// it is someone people know, and is never renamed (a different name is a
// conflict), nor does another contact's number move to it; its empty or
// changed kind, property and unit take c's non-empty values. A contact the
// same import created takes the later row's name, as one file's rows
// sharing a number are one person.
func (q queries) MergeContact(ctx context.Context, c Contact, numbers []string, start time.Time) (ContactMerge, error) {
	start = start.UTC().Truncate(time.Microsecond) // as both databases keep it
	var m ContactMerge
	owners := map[string]Contact{}
	for _, n := range numbers {
		existing, err := q.ContactByNumber(ctx, n)
		switch {
		case err == nil:
			owners[n] = existing
			if m.ID == 0 {
				m.ID = existing.ID
			}
		case !isNotFound(err):
			return ContactMerge{}, err
		}
	}
	if m.ID != 0 {
		var existing Contact
		for _, n := range numbers {
			if o, ok := owners[n]; ok && o.ID == m.ID {
				existing = o
				break
			}
		}
		switch known := existing.CreatedAt.Before(start); {
		case !known:
			merge(&existing.Name, c.Name)
		case c.Name != "" && !sameName(existing.Name, c.Name):
			m.Conflicts = append(m.Conflicts, fmt.Sprintf("contact %q (%s) not renamed to %q", existing.Name, firstOwned(numbers, owners, m.ID), c.Name))
		}
		merge(&existing.Kind, c.Kind)
		merge(&existing.Property, c.Property)
		merge(&existing.Unit, c.Unit)
		if _, err := q.exec(ctx, `UPDATE contacts SET name = ?, kind = ?, property = ?, unit = ?, updated_at = ? WHERE id = ?`,
			existing.Name, existing.Kind, existing.Property, existing.Unit, start, m.ID); err != nil {
			return ContactMerge{}, fmt.Errorf("store: update contact %d: %w", m.ID, err)
		}
	} else {
		if err := q.get(ctx, &m.ID, `INSERT INTO contacts (name, kind, property, unit, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Name, c.Kind, c.Property, c.Unit, start, start); err != nil {
			return ContactMerge{}, fmt.Errorf("store: insert contact: %w", err)
		}
		m.Created = true
	}
	for _, n := range numbers {
		if o, ok := owners[n]; ok && o.ID != m.ID && o.CreatedAt.Before(start) {
			m.Conflicts = append(m.Conflicts, fmt.Sprintf("%s belongs to %q: left with them", n, o.Name))
			continue
		}
		if _, err := q.exec(ctx, `INSERT INTO contact_numbers (number, contact_id) VALUES (?, ?)
			ON CONFLICT (number) DO UPDATE SET contact_id = excluded.contact_id`, n, m.ID); err != nil {
			return ContactMerge{}, fmt.Errorf("store: contact number %s: %w", n, err)
		}
	}
	return m, nil
}

// sameName compares names as people read them: case and spacing aside.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// firstOwned is the first of numbers that contact id owns.
func firstOwned(numbers []string, owners map[string]Contact, id int64) string {
	for _, n := range numbers {
		if owners[n].ID == id {
			return n
		}
	}
	return ""
}

func merge(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// callerLockClass is the first key of callers' advisory locks, so they
// cannot meet another use of advisory locks.
const callerLockClass = 0x52424301

// LockCaller holds number's lock until the transaction ends: two calls from
// one caller (on two lines, on two replicas) then decide one after the
// other, and the second sees the first's text-back under the cooldown.
// SQLite needs none: its transactions take the one write lock up front.
func (tx *Tx) LockCaller(ctx context.Context, number string) error {
	if tx.d.name != "postgres" || tx.callers[number] {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(?))`, callerLockClass, number); err != nil {
		return fmt.Errorf("store: lock caller %s: %w", number, err)
	}
	tx.holdsCaller(number)
	return nil
}

// holdsCaller notes that the transaction holds number's lock.
func (tx *Tx) holdsCaller(number string) {
	if tx.callers == nil {
		tx.callers = map[string]bool{}
	}
	tx.callers[number] = true
}

// CallerFacts is what the store knows of a caller's number when a case
// opens, read in one statement: who it is, whether it may be texted, when
// it was last texted back, and the generation of the approved templates.
type CallerFacts struct {
	Contact      *Contact  // nil: an unknown caller
	Spam         bool      // on the spam list
	OptedOut     bool      // asked for no more texts
	Untextable   string    // why the number cannot receive SMS ("" when it can)
	LastTextBack time.Time // the last automatic text-back not refused (zero: never)
	// Templates is the approved templates' generation, for
	// ApprovedTemplateAt: the cache is checked at no extra cost.
	Templates int64
	// IDs are drawn for a new case and its text-back when asked
	// (NewCaseFacts, PostgreSQL): they can then be written at the commit.
	IDs NewCaseIDs
	// BeforeLock: read by the statement that took the caller's lock, so as
	// things were before it (ReadCallReport): a text-back decided on
	// LastTextBack is checked at the commit (GuardTextBack).
	BeforeLock bool
}

// GuardTextBack fails the commit, so that the report runs again, if a
// text-back to caller other than message own is committed by then that
// was created after since: the decision to text caller was made on facts
// read before the caller's lock (BeforeLock), and another call's
// statement holding the lock may have texted them meanwhile. Checked in
// the statement making the transaction's writes: on PostgreSQL first in
// it, after taking the caller's lock (ringback_caller_texted, migration
// 40), so that a transaction that read nothing first still commits in
// that one statement, and fails with ErrChangedMeanwhile; on SQLite, whose
// transaction holds the one write lock, with ErrDuplicate.
func (tx *Tx) GuardTextBack(caller string, since time.Time, own int64) {
	if tx.d.name == "postgres" {
		tx.later = append(tx.later, laterWrite{table: "messages", guard: true,
			what: "a text-back to " + caller + " written meanwhile", query: `SELECT 1 WHERE NOT ringback_caller_texted(?, ?, ?, ?)`,
			args: []any{callerLockClass, caller, since.UTC(), own}})
		return
	}
	tx.FailCommitIf("messages", `SELECT 1 FROM messages WHERE caller_number = ? AND kind = 'textback' AND direction = 'out'
		AND status NOT IN ('failed', 'canceled') AND created_at > ? AND id <> ?`,
		[]any{caller, since.UTC(), own}, fmt.Errorf("store: a text-back to %s written meanwhile: %w", caller, ErrDuplicate))
}

// NewCaseIDs are ids drawn from their tables' sequences before the rows are
// written (zero: none drawn; SQLite numbers rows as it writes them).
type NewCaseIDs struct{ Case, Message int64 }

// CallerFacts reads the facts of number. The last text-back is read as of
// the statement's start: a caller's lock (LockCaller) taken before it
// makes it current.
func (q queries) CallerFacts(ctx context.Context, number string) (CallerFacts, error) {
	return q.callerFacts(ctx, number, false)
}

// NewCaseFacts is CallerFacts for a case about to open: on PostgreSQL the
// same statement draws the ids of the case and of its text-back (IDs), so
// that both are written at the commit (InsertCaseLater, InsertMessage with
// the id set) instead of a statement each.
func (tx *Tx) NewCaseFacts(ctx context.Context, number string) (CallerFacts, error) {
	return tx.callerFacts(ctx, number, tx.d.name == "postgres")
}

func (q queries) callerFacts(ctx context.Context, number string, drawIDs bool) (CallerFacts, error) {
	ids := `0 AS case_id, 0 AS message_id`
	if drawIDs {
		ids = `nextval('cases_id_seq') AS case_id, nextval('messages_id_seq') AS message_id`
	}
	var row callerFactsRow
	err := q.get(ctx, &row, `SELECT `+q.d.callerFactsColumns()+`, `+ids+`
		FROM (SELECT 1 AS one) one `+callerFactsJoins, append(callerFactsColumnArgs(number), number)...)
	if err != nil {
		return CallerFacts{}, fmt.Errorf("store: facts of %s: %w", number, err)
	}
	return row.facts(), nil
}

// callerFactsColumns are CallerFacts' columns but the ids, from
// callerFactsJoins (its one argument the number), with
// callerFactsColumnArgs. The last text-back is in seconds
// since 1970, not a timestamp: SQLite gives a subquery's value no column
// type, so a timestamp would come back as text.
func (d dialect) callerFactsColumns() string {
	return `ct.id AS contact_id, ct.name, ct.kind, ct.property, ct.unit,
			EXISTS (SELECT 1 FROM spam_numbers WHERE number = ?) AS spam,
			EXISTS (SELECT 1 FROM opt_outs WHERE number = ?) AS opted_out,
			COALESCE((SELECT reason FROM untextable_numbers WHERE number = ?), '') AS untextable,
			(SELECT ` + d.epoch("created_at") + ` FROM messages
				WHERE caller_number = ? AND kind = 'textback' AND direction = 'out' AND status NOT IN ('failed', 'canceled')
				ORDER BY created_at DESC LIMIT 1) AS last_textback,
			(` + approvedGeneration + `) AS templates`
}

const callerFactsJoins = `LEFT JOIN contact_numbers n ON n.number = ? LEFT JOIN contacts ct ON ct.id = n.contact_id`

func callerFactsColumnArgs(number string) []any { return []any{number, number, number, number} }

type callerFactsRow struct {
	ContactID    *int64   `db:"contact_id"`
	Name         *string  `db:"name"`
	Kind         *string  `db:"kind"`
	Property     *string  `db:"property"`
	Unit         *string  `db:"unit"`
	Spam         bool     `db:"spam"`
	OptedOut     bool     `db:"opted_out"`
	Untextable   string   `db:"untextable"`
	LastTextBack *float64 `db:"last_textback"`
	Templates    int64    `db:"templates"`
	CaseID       int64    `db:"case_id"`
	MessageID    int64    `db:"message_id"`
}

func (row callerFactsRow) facts() CallerFacts {
	f := CallerFacts{Spam: row.Spam, OptedOut: row.OptedOut, Untextable: row.Untextable, Templates: row.Templates,
		IDs: NewCaseIDs{Case: row.CaseID, Message: row.MessageID}}
	if row.ContactID != nil {
		f.Contact = &Contact{ID: *row.ContactID, Name: deref(row.Name), Kind: deref(row.Kind), Property: deref(row.Property), Unit: deref(row.Unit)}
	}
	if row.LastTextBack != nil {
		sec := *row.LastTextBack
		f.LastTextBack = time.Unix(0, int64(sec*1e9)).UTC().Round(time.Millisecond)
	}
	return f
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// contactJoin is a case's contact read through LEFT JOIN contacts ct
// (contactJoinColumns): every column NULL when it has none.
type contactJoin struct {
	ContactName     *string `db:"contact_name"`
	ContactKind     *string `db:"contact_kind"`
	ContactProperty *string `db:"contact_property"`
	ContactUnit     *string `db:"contact_unit"`
}

const contactJoinColumns = `ct.name AS contact_name, ct.kind AS contact_kind, ct.property AS contact_property, ct.unit AS contact_unit`

// contact is the joined contact, whose id is id (nil: none).
func (j contactJoin) contact(id *int64) *Contact {
	if id == nil || j.ContactName == nil {
		return nil
	}
	return &Contact{ID: *id, Name: *j.ContactName, Kind: deref(j.ContactKind), Property: deref(j.ContactProperty), Unit: deref(j.ContactUnit)}
}
