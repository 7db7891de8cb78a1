package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Case states.
const (
	CaseOpen    = "open"
	CaseClaimed = "claimed"
	CaseClosed  = "closed"
)

// Case is the task a missed call (or a text) opens: one per open (caller, line).
type Case struct {
	ID              int64      `db:"id"`
	LineNumber      string     `db:"line_number"`
	CallerNumber    string     `db:"caller_number"`
	State           string     `db:"state"`
	Origin          string     `db:"origin"`
	Category        string     `db:"category"`
	CategorizedAt   *time.Time `db:"categorized_at"`
	Urgent          bool       `db:"urgent"`
	Spam            bool       `db:"spam"`
	AfterHours      bool       `db:"after_hours"`
	ContactID       *int64     `db:"contact_id"`
	Owner           string     `db:"owner"`
	AssignedBy      string     `db:"assigned_by"`
	ClaimedAt       *time.Time `db:"claimed_at"`
	FirstContactAt  *time.Time `db:"first_contact_at"`
	ContactAttempts int        `db:"contact_attempts"`
	DueAt           *time.Time `db:"due_at"`
	CallCount       int        `db:"call_count"`
	LastCallAt      *time.Time `db:"last_call_at"`
	TextbackStatus  string     `db:"textback_status"`
	EscalationLevel int        `db:"escalation_level"`
	VoicemailURL    string     `db:"voicemail_url"`
	Transcript      string     `db:"transcript"`
	Outcome         string     `db:"outcome"`
	CloseNote       string     `db:"close_note"`
	ClosedBy        string     `db:"closed_by"`
	ClosedAt        *time.Time `db:"closed_at"`
	PreviousCaseID  *int64     `db:"previous_case_id"`
	// CallbackAt is the callback slot the caller picked, while the case is
	// open: its due time (nil: none).
	CallbackAt *time.Time `db:"callback_at"`
	CreatedAt  time.Time  `db:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at"`
}

// Withheld reports whether the caller hid their number.
func (c Case) Withheld() bool { return c.CallerNumber == "" }

const caseColumns = `id, line_number, caller_number, state, origin, category, categorized_at, urgent, spam,
	after_hours, contact_id, owner, assigned_by, claimed_at, first_contact_at, contact_attempts, due_at,
	call_count, last_call_at, textback_status, escalation_level, voicemail_url, transcript, outcome,
	close_note, closed_by, closed_at, previous_case_id, callback_at, created_at, updated_at`

// caseInsertColumns are a new case's columns but its id, in insertArgs'
// order.
const caseInsertColumns = `line_number, caller_number, state, origin, category, categorized_at, urgent, spam,
	after_hours, contact_id, owner, assigned_by, claimed_at, first_contact_at, contact_attempts, due_at,
	call_count, last_call_at, textback_status, escalation_level, voicemail_url, transcript, outcome,
	close_note, closed_by, closed_at, previous_case_id, created_at, updated_at`

// insertArgs are c's values of caseInsertColumns.
func (c Case) insertArgs() []any {
	return []any{c.LineNumber, c.CallerNumber, c.State, c.Origin, c.Category, utcp(c.CategorizedAt), c.Urgent, c.Spam,
		c.AfterHours, c.ContactID, c.Owner, c.AssignedBy, utcp(c.ClaimedAt), utcp(c.FirstContactAt), c.ContactAttempts, utcp(c.DueAt),
		c.CallCount, utcp(c.LastCallAt), c.TextbackStatus, c.EscalationLevel, c.VoicemailURL, c.Transcript, c.Outcome,
		c.CloseNote, c.ClosedBy, utcp(c.ClosedAt), c.PreviousCaseID, c.CreatedAt.UTC(), c.UpdatedAt.UTC()}
}

// InsertCase writes a new case and sets its ID; a new case has no
// callback slot yet (CallbackAt is not written). When the caller already has
// an open case on the line (a concurrent webhook won the race), nothing is
// written and inserted is false.
func (q queries) InsertCase(ctx context.Context, c *Case) (inserted bool, err error) {
	inserted, err = q.insertID(ctx, &c.ID, `
		INSERT INTO cases (`+caseInsertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (caller_number, line_number) WHERE state <> 'closed' AND caller_number <> '' DO NOTHING
		RETURNING id`, c.insertArgs()...)
	if err != nil {
		return false, fmt.Errorf("store: insert case: %w", err)
	}
	if inserted {
		q.holds(c.ID)
	}
	return inserted, nil
}

// InsertCaseLater writes a new case whose id was drawn beforehand
// (NewCaseFacts) at the commit of the transaction, with its events and
// outbox rows: one statement on PostgreSQL. When another call from the
// same number opened a case on the line meanwhile, the commit fails with
// ErrDuplicate and the transaction is to run again (it then finds that
// case).
func (tx *Tx) InsertCaseLater(ctx context.Context, c Case) error {
	if c.ID == 0 {
		return fmt.Errorf("store: insert case later: no id drawn")
	}
	tx.holds(c.ID)
	return tx.writeLater(ctx, laterWrite{table: "cases", unique: true, what: fmt.Sprintf("insert case %d", c.ID), query: `
		INSERT INTO cases (id, ` + caseInsertColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: append([]any{c.ID}, c.insertArgs()...)})
}

// holds notes that the transaction has case id locked (or created).
func (q queries) holds(id int64) {
	if q.tx == nil {
		return
	}
	if q.tx.locked == nil {
		q.tx.locked = map[int64]bool{}
	}
	q.tx.locked[id] = true
}

// LockCaseOnce locks case id for the rest of the transaction unless it
// holds it already. Every transaction that queues a card refresh does: a
// card's first post then waits for it (ReserveCard), which is what lets a
// refresh that is not newer than the post be skipped.
func (tx *Tx) LockCaseOnce(ctx context.Context, id int64) error {
	if tx.d.name != "postgres" || tx.locked[id] {
		return nil // SQLite: the transaction holds the only write lock
	}
	_, err := tx.LockCase(ctx, id)
	return err
}

// UpdateCase writes every mutable field of c.
func (q queries) UpdateCase(ctx context.Context, c Case) error {
	_, err := q.exec(ctx, `
		UPDATE cases SET state = ?, category = ?, categorized_at = ?, urgent = ?, spam = ?, contact_id = ?,
			owner = ?, assigned_by = ?, claimed_at = ?, first_contact_at = ?, contact_attempts = ?, due_at = ?,
			call_count = ?, last_call_at = ?, textback_status = ?, escalation_level = ?, voicemail_url = ?,
			transcript = ?, outcome = ?, close_note = ?, closed_by = ?, closed_at = ?, callback_at = ?, updated_at = ?
		WHERE id = ?`,
		c.State, c.Category, utcp(c.CategorizedAt), c.Urgent, c.Spam, c.ContactID,
		c.Owner, c.AssignedBy, utcp(c.ClaimedAt), utcp(c.FirstContactAt), c.ContactAttempts, utcp(c.DueAt),
		c.CallCount, utcp(c.LastCallAt), c.TextbackStatus, c.EscalationLevel, c.VoicemailURL,
		c.Transcript, c.Outcome, c.CloseNote, c.ClosedBy, utcp(c.ClosedAt), utcp(c.CallbackAt), c.UpdatedAt.UTC(),
		c.ID)
	if err != nil {
		return fmt.Errorf("store: update case %d: %w", c.ID, err)
	}
	return nil
}

// TouchCaseLater marks case #id changed at now, giving it textbackStatus
// when that is not nil, at the commit of the transaction (with its events
// and outbox rows: one statement on PostgreSQL); the case counts as locked
// by the transaction (LockCaseOnce), as the statement locks it till the
// commit.
func (tx *Tx) TouchCaseLater(ctx context.Context, id int64, textbackStatus *string, now time.Time) error {
	return tx.caseLater(ctx, id, "touch", `textback_status = COALESCE(?, textback_status), updated_at = ?`, textbackStatus, now.UTC())
}

// MarkTextbackLater gives case #id textbackStatus when that is not nil, at
// the commit of the transaction, and locks the case as TouchCaseLater does,
// but leaves its change time: for what only its card shows (a receipt
// moving its texts on), which the read API neither shows nor should make a
// sync fetch again. The update changes no indexed column, so PostgreSQL
// writes it beside the row (HOT) with no new index entry.
func (tx *Tx) MarkTextbackLater(ctx context.Context, id int64, textbackStatus *string) error {
	return tx.caseLater(ctx, id, "mark text-back of", `textback_status = COALESCE(?, textback_status)`, textbackStatus)
}

// caseLater writes set (with args) to case #id at the commit, locking it
// till then.
func (tx *Tx) caseLater(ctx context.Context, id int64, what, set string, args ...any) error {
	tx.holds(id)
	// The row is locked FOR UPDATE, as LockCase locks it: an UPDATE alone
	// takes a lock that a card's reservation (its foreign key check, FOR
	// KEY SHARE) does not wait for, and the card would be rendered without
	// this change while the refresh it queues is skipped as seen.
	return tx.writeLater(ctx, laterWrite{table: "cases", lock: true, what: fmt.Sprintf("%s case %d", what, id),
		query: `UPDATE cases SET ` + set + `
			WHERE id = (SELECT id FROM cases WHERE id = ?` + tx.d.forUpdate + `)`,
		args: append(args, id)})
}

// CaseByID returns case #id.
func (q queries) CaseByID(ctx context.Context, id int64) (Case, error) {
	var c Case
	err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, id)
	return c, notFound(err, "store: case %d", id)
}

// CardCase is a case with what its card shows beside it.
type CardCase struct {
	Case
	Contact *Contact // nil: no known contact
	// PossibleOptOut is the text of the case's undecided possible opt-out
	// ("" when none).
	PossibleOptOut string
	// Triaged is the data of the case's latest "triaged" event ("" when
	// none).
	Triaged string
	// Callback is the callback the caller picked (nil when none).
	Callback *CallbackRequest
	// CallbackLinked: a text to the caller carried a callback picker link.
	CallbackLinked bool
	// Replied: the caller texted on this case.
	Replied bool
	// LastReply is the case's latest staff reply (a template text) as far
	// as its card tells its fate: status and problem (nil: none sent).
	LastReply *Message
}

// CaseForCard returns case #id with its contact, its undecided possible
// opt-out and its latest triage, in one statement.
func (q queries) CaseForCard(ctx context.Context, id int64) (CardCase, error) {
	var row cardCaseRow
	err := q.get(ctx, &row, `SELECT `+cardCaseColumns+` `+q.cardCaseFrom()+` WHERE c.id = ?`, id)
	if err != nil {
		return CardCase{}, notFound(err, "store: case %d", id)
	}
	return row.cardCase(), nil
}

// cardCaseColumns are what a CardCase is read from (cardCaseRow), from
// cardCaseFrom's tables.
var cardCaseColumns = prefixed("c", caseColumns) + `, ` + contactJoinColumns + `,
			(SELECT m.body FROM optout_queries o JOIN messages m ON m.id = o.message_id
				WHERE o.case_id = c.id AND o.decision = '' ORDER BY o.asked_at DESC, o.message_id DESC LIMIT 1) AS possible_optout,
			(SELECT e.data FROM events e WHERE e.case_id = c.id AND e.kind = 'triaged' ORDER BY e.id DESC LIMIT 1) AS triaged,
			cb.slot_at AS cb_slot_at, cb.category AS cb_category, cb.note AS cb_note,
			EXISTS (SELECT 1 FROM callback_links l WHERE l.case_id = c.id) AS cb_linked,
			EXISTS (SELECT 1 FROM messages i WHERE i.case_id = c.id AND i.direction = 'in') AS replied,
			r.status AS reply_status, r.problem AS reply_problem`

// cardCaseFrom is the FROM clause cardCaseColumns read: the case c, its
// contact ct, its callback cb and its latest staff reply r.
func (q queries) cardCaseFrom() string {
	return `FROM cases c LEFT JOIN contacts ct ON ct.id = c.contact_id
		LEFT JOIN callback_requests cb ON cb.case_id = c.id AND c.callback_at IS NOT NULL
		` + lastReplyJoin[q.d.name]
}

// cardCaseRow is a row of cardCaseColumns.
type cardCaseRow struct {
	Case
	contactJoin
	PossibleOptOut *string    `db:"possible_optout"`
	Triaged        *string    `db:"triaged"`
	CallbackSlot   *time.Time `db:"cb_slot_at"`
	CallbackCat    *string    `db:"cb_category"`
	CallbackNote   *string    `db:"cb_note"`
	CallbackLinked bool       `db:"cb_linked"`
	Replied        bool       `db:"replied"`
	ReplyStatus    *string    `db:"reply_status"`
	ReplyProblem   *string    `db:"reply_problem"`
}

func (row cardCaseRow) cardCase() CardCase {
	cc := CardCase{Case: row.Case, PossibleOptOut: deref(row.PossibleOptOut), Triaged: deref(row.Triaged), CallbackLinked: row.CallbackLinked,
		Replied: row.Replied}
	if row.ReplyStatus != nil {
		cc.LastReply = &Message{Direction: Outbound, Kind: "template", Status: *row.ReplyStatus, Problem: deref(row.ReplyProblem)}
	}
	if row.CallbackSlot != nil {
		cc.Callback = &CallbackRequest{CaseID: row.ID, LineNumber: row.LineNumber, SlotAt: row.CallbackSlot.UTC(),
			Category: deref(row.CallbackCat), Note: deref(row.CallbackNote)}
	}
	cc.Contact = row.contact(row.ContactID)
	return cc
}

// lastReplyJoin joins a case c's latest staff reply r, through the
// messages of the case (messages_case). PostgreSQL could plan a join on
// the reply's id as a hash join over every message: 0.47 ms a card in one
// load run at a few thousand messages (0.09 ms in another), growing with
// the table; LATERAL reads the case's own. SQLite has no LATERAL and
// looks the id up.
var lastReplyJoin = map[string]string{
	"postgres": `LEFT JOIN LATERAL (SELECT o.status, o.problem FROM messages o WHERE o.case_id = c.id AND o.direction = 'out' AND o.kind = 'template'
			ORDER BY o.created_at DESC, o.id DESC LIMIT 1) r ON true`,
	"sqlite": `LEFT JOIN messages r ON r.id = (SELECT o.id FROM messages o WHERE o.case_id = c.id AND o.direction = 'out' AND o.kind = 'template'
			ORDER BY o.created_at DESC, o.id DESC LIMIT 1)`,
}

// prefixed qualifies every column of a column list with table alias t.
func prefixed(t, columns string) string {
	return t + "." + strings.ReplaceAll(strings.Join(strings.Fields(columns), " "), ", ", ", "+t+".")
}

// LockCase returns case #id locked until the transaction ends, so that two
// changes to one case (a click and a text) never overwrite each other.
func (q queries) LockCase(ctx context.Context, id int64) (Case, error) {
	var c Case
	err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases WHERE id = ?`+q.d.forUpdate, id)
	if err == nil {
		q.holds(c.ID)
	}
	return c, notFound(err, "store: case %d", id)
}

// OpenCase returns the caller's open case on the line, locked.
func (q queries) OpenCase(ctx context.Context, caller, line string) (Case, error) {
	var c Case
	err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases
		WHERE caller_number = ? AND line_number = ? AND state <> 'closed'`+q.d.forUpdate, caller, line)
	if err == nil {
		q.holds(c.ID)
	}
	return c, notFound(err, "store: open case of %s on %s", caller, line)
}

// CallerCase returns the caller's open case on the line, or when none is
// open their latest one, locked: one statement where a new case would ask
// for both. open tells which it is.
func (q queries) CallerCase(ctx context.Context, caller, line string) (c Case, open bool, err error) {
	return q.callerCase(ctx, caller, line, "")
}

// callerCase is CallerCase with filter, a condition of its own (with its
// arguments), added to the statement's.
func (q queries) callerCase(ctx context.Context, caller, line, filter string, args ...any) (c Case, open bool, err error) {
	err = q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases
		WHERE caller_number = ? AND line_number = ?`+filter+`
		ORDER BY CASE WHEN state <> 'closed' THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1`+q.d.forUpdate,
		append([]any{caller, line}, args...)...)
	if err == nil {
		q.holds(c.ID)
	}
	return c, err == nil && c.State != CaseClosed, notFound(err, "store: case of %s on %s", caller, line)
}

// CallerCaseFacts is what a missed call from caller on line needs to
// open a case, in one statement on PostgreSQL: the caller's open case on
// the line, locked (nil when none is open), else the id of their latest
// case there (nil: none) and NewCaseFacts, with the ids of the new case
// and its text-back drawn. An open case is read whole by a statement of
// its own (a repeat call). Take the caller's lock before it where it is
// needed (LockCaller): the facts are read as of its start.
func (tx *Tx) CallerCaseFacts(ctx context.Context, caller, line string) (open *Case, previous *int64, facts CallerFacts, err error) {
	if tx.d.name != "postgres" {
		c, isOpen, err := tx.CallerCase(ctx, caller, line)
		switch {
		case err == nil && isOpen:
			return &c, nil, CallerFacts{}, nil
		case err == nil:
			previous = &c.ID
		case !errors.Is(err, ErrNotFound):
			return nil, nil, CallerFacts{}, err
		}
		facts, err = tx.NewCaseFacts(ctx, caller)
		return nil, previous, facts, err
	}
	var row struct {
		callerFactsRow
		FoundID    *int64  `db:"found_id"`
		FoundState *string `db:"found_state"`
	}
	// The ids are drawn only for a case that opens: a repeat call's would
	// leave a gap in the case numbers people see.
	const opens = `cs.state IS NULL OR cs.state = 'closed'`
	err = tx.get(ctx, &row, `SELECT `+tx.d.callerFactsColumns()+`,
			CASE WHEN `+opens+` THEN nextval('cases_id_seq') ELSE 0 END AS case_id,
			CASE WHEN `+opens+` THEN nextval('messages_id_seq') ELSE 0 END AS message_id,
			cs.id AS found_id, cs.state AS found_state
		FROM (SELECT 1 AS one) one `+callerFactsJoins+`
		LEFT JOIN LATERAL (SELECT id, state FROM cases WHERE caller_number = ? AND line_number = ?
			ORDER BY CASE WHEN state <> 'closed' THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1 FOR UPDATE) cs ON true`,
		append(callerFactsColumnArgs(caller), caller, caller, line)...)
	if err != nil {
		return nil, nil, CallerFacts{}, fmt.Errorf("store: case and facts of %s on %s: %w", caller, line, err)
	}
	if row.FoundID != nil {
		tx.holds(*row.FoundID)
		if *row.FoundState != CaseClosed {
			c, err := tx.CaseByID(ctx, *row.FoundID)
			return &c, nil, CallerFacts{}, err
		}
	}
	return nil, row.FoundID, row.facts(), nil
}

// LatestOpenCase returns the caller's most recent open case on any line, locked.
func (q queries) LatestOpenCase(ctx context.Context, caller string) (Case, error) {
	var c Case
	err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases
		WHERE caller_number = ? AND state <> 'closed'
		ORDER BY created_at DESC, id DESC LIMIT 1`+q.d.forUpdate, caller)
	if err == nil {
		q.holds(c.ID)
	}
	return c, notFound(err, "store: open case of %s", caller)
}

// LatestCase returns the caller's most recent case on the line, any state.
func (q queries) LatestCase(ctx context.Context, caller, line string) (Case, error) {
	var c Case
	err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases
		WHERE caller_number = ? AND line_number = ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, caller, line)
	return c, notFound(err, "store: latest case of %s on %s", caller, line)
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// QueueFilter narrows the open queue.
type QueueFilter struct {
	Owner     string    // only cases owned by this user
	Line      string    // only this line's number
	OverdueAt time.Time // when set: only cases due before it with no contact yet
	Unclaimed bool      // only cases nobody owns
	Limit     int       // rows to return (0: 25)
	CardsOn   string    // platform whose card location to join ("slack")
	NoSpam    bool      // leave spam cases out
}

// QueueRow is one open case in the queue.
type QueueRow struct {
	Case
	ContactName   *string `db:"contact_name"`
	CallerReplied bool    `db:"caller_replied"`
	CardChannel   *string `db:"card_channel"`
	CardMessage   *string `db:"card_message"`
}

func (f QueueFilter) where() (string, []any) {
	w := []string{"c.state <> 'closed'"}
	var args []any
	if f.Owner != "" {
		w = append(w, "c.owner = ?")
		args = append(args, f.Owner)
	}
	if f.Line != "" {
		w = append(w, "c.line_number = ?")
		args = append(args, f.Line)
	}
	if !f.OverdueAt.IsZero() {
		w = append(w, "c.due_at < ? AND c.first_contact_at IS NULL")
		args = append(args, f.OverdueAt.UTC())
	}
	if f.Unclaimed {
		w = append(w, "c.owner = ''")
	}
	if f.NoSpam {
		w = append(w, "NOT c.spam")
	}
	return strings.Join(w, " AND "), args
}

// OpenQueue lists open cases, oldest first (a case with a picked callback
// slot at its slot), and how many match in all.
func (q queries) OpenQueue(ctx context.Context, f QueueFilter) ([]QueueRow, int, error) {
	where, args := f.where()
	var total int
	if err := q.get(ctx, &total, `SELECT COUNT(*) FROM cases c WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("store: count queue: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 25
	}
	cols := prefixed("c", caseColumns)
	var rows []QueueRow
	err := q.selectAll(ctx, &rows, `
		SELECT `+cols+`, ct.name AS contact_name,
			EXISTS (SELECT 1 FROM messages m WHERE m.case_id = c.id AND m.direction = 'in') AS caller_replied,
			cd.channel AS card_channel, cd.message_id AS card_message
		FROM cases c
		LEFT JOIN contacts ct ON ct.id = c.contact_id
		LEFT JOIN cards cd ON cd.case_id = c.id AND cd.platform = ?
		WHERE `+where+`
		ORDER BY COALESCE(c.callback_at, c.created_at), c.id
		LIMIT ?`, append(append([]any{f.CardsOn}, args...), limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: queue: %w", err)
	}
	return rows, total, nil
}
