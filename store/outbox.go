package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Outbox states.
const (
	OutboxPending = "pending"
	OutboxRunning = "running"
	OutboxDone    = "done"
	OutboxDead    = "dead"
)

// DefaultMaxAttempts is how often an outbox row is tried before it is dead.
const DefaultMaxAttempts = 10

// SMSMaxAttempts is how often a text is tried: more than other rows, as its
// first attempts come seconds apart (see bot's retry schedule).
const SMSMaxAttempts = 70

// OutboxItem is one side effect to perform (an SMS, a chat post or update).
type OutboxItem struct {
	ID          int64     `db:"id"`
	Kind        string    `db:"kind"`
	DedupeKey   string    `db:"dedupe_key"`
	Payload     string    `db:"payload"` // JSON
	CaseID      *int64    `db:"case_id"`
	State       string    `db:"state"`
	Attempts    int       `db:"attempts"`
	MaxAttempts int       `db:"max_attempts"`
	RunAt       time.Time `db:"run_at"`
	LockedBy    string    `db:"locked_by"`
	// ClaimSeq fences the claim this row was handed out under: settling it
	// (complete, retry, snooze, kill) needs the same number, so a worker
	// whose claim lapsed and was taken over cannot touch it.
	ClaimSeq  int64     `db:"claim_seq"`
	Lane      string    `db:"lane"`
	LastError string    `db:"last_error"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
	// Sending is a text row's message as the claim that started its send
	// read it (OutboxClaim.StartSends); nil otherwise.
	Sending *MessageSending `db:"-"`
	// Posting is a thread post's first attempt, recorded by the statement
	// that passed the row on (OutboxPass.Begin); nil otherwise.
	Posting *ChatPosting `db:"-"`
}

// ChatPosting is a post in Card's thread whose first attempt is recorded
// under Key: the worker may call out at once.
type ChatPosting struct {
	Key  string
	Card Card
}

// MessageSending is a text to send as MessageToSend reads it, its send
// start recorded.
type MessageSending struct {
	Message    Message
	OptedOut   bool
	Untextable string
	StartAt    time.Time // the start recorded for this attempt
}

// ClaimLapsed is the last error of a row claimed again after its claim
// lapsed: its worker died or lost the database mid-run, and what it was
// doing with a remote may still land (OutboxItem.Lapsed).
const ClaimLapsed = "claim lapsed: its worker stopped mid-run"

// Lapsed reports whether the row's previous claim lapsed rather than
// ended: the worker that held it may have made a remote call whose
// effect lands later, after this run's.
func (it OutboxItem) Lapsed() bool { return it.LastError == ClaimLapsed }

// Decode unmarshals the row's JSON payload into v.
func (it OutboxItem) Decode(v any) error {
	if err := json.Unmarshal([]byte(it.Payload), v); err != nil {
		return fmt.Errorf("store: outbox %d %s payload: %w", it.ID, it.Kind, err)
	}
	return nil
}

// NewOutbox describes work to enqueue.
type NewOutbox struct {
	Kind        string
	DedupeKey   string // unique forever: a second row with the same key is dropped
	Payload     any    // marshalled to JSON
	CaseID      int64  // 0 when the work belongs to no case
	RunAt       time.Time
	MaxAttempts int // 0 = DefaultMaxAttempts
	// Coalesce (EnqueueLater only): when a row of the same kind and case
	// still waits unclaimed, that row does this one's work instead, due no
	// later than this one; none is written. For work that is the same
	// whenever it runs, such as rendering a case's card from its state. A
	// card row its card was first rendered after (Card.OutboxSeen) is
	// pulled forward but does not stand for the change: this row is
	// written as well.
	Coalesce bool
	// Handoff (EnqueueLater only, a row due now): a worker with a free
	// slot takes the row as it is written, instead of claiming it after the
	// commit. A coalescing row hands over the waiting row it pulls forward
	// instead, when that row is the first of its case's line (no earlier
	// row of its kind and case is pending or running); else the row is
	// claimed as any other. A plain row written handed has not waited in
	// its case's line: the performer of an ordered kind checks it
	// (CardSlot.Behind) and puts the row back to wait.
	Handoff *OutboxHandoff
}

// OutboxHandoff hands a row to the local worker that reserved a slot for
// it: the row is written claimed by that worker (running, its first
// attempt and claim, leased on the database's clock from the write), so
// no claim statement takes it and no other worker can; Start gets the row
// after the commit. Should the process die before the row is performed,
// its lease lapses and another worker claims it, as any claimed row.
// Cancel is called instead when the row is not written: the transaction
// rolled back, or a row with its dedupe key existed already.
type OutboxHandoff struct {
	Worker string
	Lease  time.Duration
	Start  func(OutboxItem)
	Cancel func()
}

// handoffs are a transaction's rows handed to a worker: their ids once
// written (0: not written), or the waiting row a coalescing one handed
// over instead (pulled), started or cancelled after the transaction.
type handoff struct {
	row    outboxRow
	id     int64
	pulled *OutboxItem
}

const outboxColumns = `id, kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, locked_by, claim_seq, lane, last_error, created_at, updated_at`

// Outbox lanes: each remote has its own workers, so a slow or rate-limited
// one never holds up the others (texts never wait behind chat).
const (
	LaneSMS     = "sms"
	LaneSlack   = "slack"
	LaneDiscord = "discord"
	LaneOther   = "other"
)

// OutboxLane is the lane of a kind of row: "sms" for sms.*, the platform for
// chat.<what>.<platform>, "other" for the rest.
func OutboxLane(kind string) string {
	if strings.HasPrefix(kind, "sms.") {
		return LaneSMS
	}
	if parts := strings.Split(kind, "."); len(parts) >= 3 && parts[0] == "chat" && parts[len(parts)-1] != "" {
		return parts[len(parts)-1]
	}
	return LaneOther
}

// OutboxOrdered reports whether rows of kind run one at a time per case, in
// the order they were written (a case's card renders and thread entries).
func OutboxOrdered(kind string) bool {
	return strings.HasPrefix(kind, "chat.thread.") || strings.HasPrefix(kind, "chat.card.")
}

// orderedKindSQL is OutboxOrdered in SQL, of an outbox row's kind.
const orderedKindSQL = "(kind LIKE 'chat.thread.%' OR kind LIKE 'chat.card.%')"

// Enqueue writes an outbox row, normally inside the transaction of the change
// that caused it. A row whose dedupe key exists already is not written again:
// inserted is false and id is 0.
func (q queries) Enqueue(ctx context.Context, n NewOutbox, now time.Time) (id int64, inserted bool, err error) {
	r, err := newOutboxRow(n, now)
	if err != nil {
		return 0, false, err
	}
	inserted, err = q.insertID(ctx, &id, `
		INSERT INTO outbox (`+outboxInsertColumns+`)
		VALUES (`+outboxInsertValues+`)
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING id`, r.args()...)
	if err != nil {
		return 0, false, fmt.Errorf("store: enqueue %s %q: %w", n.Kind, n.DedupeKey, err)
	}
	if !inserted {
		return 0, false, nil
	}
	q.woken(map[string]time.Time{r.lane: r.runAt})
	return id, true, nil
}

// EnqueueLater queues n with the transaction: the rows wait, and are
// written together in one statement (on PostgreSQL, the same statement as
// the transaction's events) before the commit or before the transaction
// next names the outbox. For rows whose id and dedupe outcome the caller
// does not need: a card refresh, a thread entry, a text-back.
func (tx *Tx) EnqueueLater(n NewOutbox, now time.Time) error {
	r, err := newOutboxRow(n, now)
	if err != nil {
		if n.Handoff != nil {
			n.Handoff.Cancel()
		}
		return err
	}
	if h := n.Handoff; h != nil {
		if r.runAt.After(r.now) {
			h.Cancel() // a row that waits is claimed when it is due
		} else {
			r.handoff = h
			tx.handoffs = append(tx.handoffs, &handoff{row: r})
		}
	}
	tx.outbox = append(tx.outbox, r)
	return nil
}

// handedWritten records the ids of the handed rows among written, rows
// of rows, and returns the rest, whose workers a commit wakes. A thread
// entry of a case whose card row this transaction handed over wakes
// nobody: it waits for that card, whose worker claims it next.
func (tx *Tx) handedWritten(written []laneDue, rows []outboxRow) []laneDue {
	if tx == nil || len(tx.handoffs) == 0 {
		return written
	}
	var behind map[string]bool // dedupe keys of entries behind a handed card
	for _, h := range tx.handoffs {
		if h.pulled == nil || !strings.HasPrefix(h.pulled.Kind, "chat.card.") {
			continue
		}
		for _, r := range rows {
			if r.caseID != nil && *r.caseID == *h.pulled.CaseID && r.kind == "chat.thread."+h.pulled.Lane {
				if behind == nil {
					behind = map[string]bool{}
				}
				behind[r.dedupeKey] = true
			}
		}
	}
	rest := written[:0:0]
	for _, w := range written {
		if w.State != OutboxRunning {
			if !behind[w.DedupeKey] {
				rest = append(rest, w)
			}
			continue
		}
		for _, h := range tx.handoffs {
			if h.row.dedupeKey == w.DedupeKey && h.id == 0 {
				h.id = w.ID
			}
		}
	}
	return rest
}

// settleHandoffs starts the handed rows written, once the transaction
// committed, and cancels the rest (committed false: none was written).
func (tx *Tx) settleHandoffs(committed bool) {
	for _, h := range tx.handoffs {
		if committed && h.pulled != nil {
			h.row.handoff.Start(*h.pulled)
			continue
		}
		if !committed || h.id == 0 {
			h.row.handoff.Cancel()
			continue
		}
		r := h.row
		h.row.handoff.Start(OutboxItem{ID: h.id, Kind: r.kind, DedupeKey: r.dedupeKey, Payload: r.payload, CaseID: r.caseID,
			State: OutboxRunning, Attempts: 1, MaxAttempts: r.maxAttempts, RunAt: r.runAt, LockedBy: r.handoff.Worker,
			ClaimSeq: 1, Lane: r.lane, CreatedAt: r.now, UpdatedAt: r.now})
	}
	tx.handoffs = nil
}

// coalesceOutbox hands each coalescing row to a row of its kind and case
// that still waits unclaimed, pulling that row's due time forward to the
// new one's when it is later, and returns the rows left to write. On
// PostgreSQL the update holds the waiting row, which a claim skips while
// it is locked, so the row runs after this transaction commits and sees
// its change.
func (q queries) coalesceOutbox(ctx context.Context, rows []outboxRow) ([]outboxRow, error) {
	left, coalescing := coalescingRows(rows)
	for _, r := range coalescing {
		if r.handoff != nil {
			handed, err := q.handOverWaiting(ctx, r)
			if err != nil {
				return nil, err
			}
			if handed {
				continue
			}
			r.handoff = nil // written to be claimed, as flushAsOne writes it: the handoff is cancelled
		}
		var waiting []laneDue
		if err := q.selectAll(ctx, &waiting, pullForwardSQL+pulledSQL, r.runAt, r.runAt, r.now, *r.caseID, r.kind); err != nil {
			return nil, fmt.Errorf("store: enqueue %s %q: a waiting row: %w", r.kind, r.dedupeKey, err)
		}
		q.wokenBy(waiting)
		if !slices.ContainsFunc(waiting, func(w laneDue) bool { return w.Unseen }) {
			left = append(left, r)
		}
	}
	return left, nil
}

// handOverWaiting hands coalescing row r's waiting row to r's worker when
// it is the first of its case's line (handOverSQL), and says whether it did.
func (q queries) handOverWaiting(ctx context.Context, r outboxRow) (bool, error) {
	var its []OutboxItem
	query, args := q.d.handOver(r)
	if err := q.selectAll(ctx, &its, query+` RETURNING `+outboxColumns, args...); err != nil {
		return false, fmt.Errorf("store: enqueue %s %q: hand the waiting row over: %w", r.kind, r.dedupeKey, err)
	}
	if len(its) == 0 {
		return false, nil
	}
	q.tx.handedPulled(r, its[0])
	return true, nil
}

// handedPulled records that coalescing row r handed over the waiting row
// it.
func (tx *Tx) handedPulled(r outboxRow, it OutboxItem) {
	for _, h := range tx.handoffs {
		if h.row.dedupeKey == r.dedupeKey && h.pulled == nil {
			h.pulled = &it
			return
		}
	}
}

// handOver is the statement that claims coalescing row r's waiting row for
// r's worker, pulled forward to r's due time, when no earlier row of its
// kind and case is pending or running (then it is next in its case's line,
// and the claim's ordering lets it run): as a claim would, it counts an
// attempt and takes the next claim, leased on the database's clock. On
// PostgreSQL a concurrent claim that took the row first leaves it alone
// (the row is no longer pending when this statement gets to it).
func (d dialect) handOver(r outboxRow) (string, []any) {
	return `UPDATE outbox SET run_at = CASE WHEN run_at > ? THEN ? ELSE run_at END, updated_at = ?, ` + d.claimSet() + `
		WHERE ` + firstInLineSQL + ` AND state = 'pending' AND claim_seq = 0 AND ` + unseenSQL,
		[]any{r.runAt, r.runAt, r.now, r.handoff.Worker, r.handoff.Lease.Seconds(), *r.caseID, r.kind, int64(0)}
}

// claimSet is the SET clause of a claim (worker, then the lease in
// seconds): its next attempt and claim, leased on the database's clock.
func (d dialect) claimSet() string {
	return `state = 'running', attempts = attempts + 1, claim_seq = claim_seq + 1, locked_by = ?, lease_until = ` + d.dbNowPlus()
}

// firstInLineSQL picks the oldest pending or running row of a case and
// kind but one (case_id, kind, the id left out): the next in its case's
// line, which the claim's ordering lets run.
const firstInLineSQL = `id = (SELECT id FROM outbox WHERE case_id = ? AND kind = ? AND state IN ('pending', 'running') AND id <> ?
			ORDER BY id LIMIT 1)`

// pullForwardSQL brings a coalescing row's waiting row of its kind and case
// forward to the new row's due time (run_at, run_at, updated_at, case_id,
// kind).
const pullForwardSQL = `UPDATE outbox SET run_at = CASE WHEN run_at > ? THEN ? ELSE run_at END, updated_at = ?
			WHERE case_id = ? AND kind = ? AND state = 'pending' AND claim_seq = 0`

// pulledSQL is what pullForwardSQL returns of each row it pulls: its lane
// and due time, and whether it can stand for the change (unseenSQL).
const pulledSQL = ` RETURNING lane, run_at, ` + unseenSQL + ` AS unseen`

// unseenSQL tells whether an outbox row (of a card's kind: its lane is the
// card's platform) is newer than what its case's card was first rendered
// after (Card.OutboxSeen). A waiting row no newer, such as a render queued
// for after a call in flight before the card was reserved, is skipped as
// shown when it runs (bot's card): pulled forward, it runs sooner, but a
// change it stood for would never be shown; the change is written as a
// row of its own instead.
const unseenSQL = `outbox.id > COALESCE((SELECT cd.outbox_seen FROM cards cd WHERE cd.case_id = outbox.case_id AND cd.platform = outbox.lane), 0)`

// coalescingRows splits rows into those written as they are and the
// coalescing ones, one per kind and case (it stands for the others).
func coalescingRows(rows []outboxRow) (plain, coalescing []outboxRow) {
	type group struct {
		caseID int64
		kind   string
	}
	seen := map[group]bool{}
	for _, r := range rows {
		if !r.coalesce {
			plain = append(plain, r)
			continue
		}
		if g := (group{*r.caseID, r.kind}); !seen[g] {
			seen[g] = true
			coalescing = append(coalescing, r)
		}
	}
	return plain, coalescing
}

// outboxRowsPerStatement keeps a batch's parameters far below SQLite's
// limit.
const outboxRowsPerStatement = 100

// outboxInsert is the statement writing rows, returning the lane and due
// time of each row written (a row whose dedupe key exists is not), and its
// id, dedupe key and state (a handed row's is running).
func (d dialect) outboxInsert(rows []outboxRow) (string, []any) {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO outbox (` + outboxInsertColumns + `) VALUES `)
	args := make([]any, 0, 11*len(rows))
	for i, r := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		if r.handoff != nil {
			sb.WriteString("(" + outboxHandedValues + d.dbNowPlus() + ")")
			args = append(args, r.args()...)
			args = append(args, r.handoff.Worker, r.handoff.Lease.Seconds())
			continue
		}
		sb.WriteString("(" + outboxInsertValues + ")")
		args = append(args, r.args()...)
	}
	sb.WriteString(` ON CONFLICT (dedupe_key) DO NOTHING RETURNING ` + outboxWrittenColumns)
	return sb.String(), args
}

// outboxWrittenColumns are what an outbox insert returns (laneDue).
const outboxWrittenColumns = `lane, run_at, id, dedupe_key, state`

// insertOutbox runs query, an outboxInsert, and wakes the lanes of the rows
// it wrote at the commit.
func (q queries) insertOutbox(ctx context.Context, query string, args []any, rows []outboxRow) error {
	var written []laneDue
	if err := q.selectAll(ctx, &written, query, args...); err != nil {
		return fmt.Errorf("store: enqueue %s %q and %d more: %w", rows[0].kind, rows[0].dedupeKey, len(rows)-1, err)
	}
	q.wokenBy(q.tx.handedWritten(written, rows))
	return nil
}

// laneDue is a row written or pulled forward, as RETURNING lane, run_at
// gives it: which lane's workers to wake, for when. A written row also
// gives its id, dedupe key and state.
type laneDue struct {
	Lane      string    `db:"lane"`
	RunAt     time.Time `db:"run_at"`
	ID        int64     `db:"id"`
	DedupeKey string    `db:"dedupe_key"`
	State     string    `db:"state"`
	Unseen    bool      `db:"unseen"` // a pulled row's (pulledSQL)
}

// wokenBy is woken for rows: each lane at its earliest due time.
func (q queries) wokenBy(rows []laneDue) {
	lanes := map[string]time.Time{}
	for _, r := range rows {
		if was, ok := lanes[r.Lane]; !ok || r.RunAt.Before(was) {
			lanes[r.Lane] = r.RunAt
		}
	}
	q.woken(lanes)
}

// woken notes lanes that got work: at the commit of the transaction, or now
// outside one.
func (q queries) woken(lanes map[string]time.Time) {
	if len(lanes) == 0 {
		return
	}
	if q.tx != nil {
		if q.tx.wakes == nil {
			q.tx.wakes = map[string]time.Time{}
		}
		addWakes(q.tx.wakes, lanes)
		return
	}
	q.s.wake(lanes)
}

// outboxRow is a row Enqueue or EnqueueLater writes, its values resolved.
type outboxRow struct {
	kind, dedupeKey, payload, lane string
	caseID                         *int64
	coalesce                       bool
	maxAttempts                    int
	runAt, now                     time.Time
	handoff                        *OutboxHandoff
}

const (
	outboxInsertColumns = `kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, lane, created_at, updated_at,
		locked_by, claim_seq, lease_until`
	outboxInsertValues = `?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, '', 0, NULL`
	// outboxHandedValues, then dialect.dbNowPlus, write a handed row,
	// claimed (OutboxHandoff): its args are outboxRow.args, the worker and
	// the lease in seconds.
	outboxHandedValues = `?, ?, ?, ?, 'running', 1, ?, ?, ?, ?, ?, ?, 1, `
)

func newOutboxRow(n NewOutbox, now time.Time) (outboxRow, error) {
	payload, err := json.Marshal(n.Payload)
	if err != nil {
		return outboxRow{}, fmt.Errorf("store: enqueue %s: payload: %w", n.Kind, err)
	}
	r := outboxRow{kind: n.Kind, dedupeKey: n.DedupeKey, payload: string(payload), lane: OutboxLane(n.Kind),
		maxAttempts: n.MaxAttempts, runAt: n.RunAt.UTC(), now: now.UTC()}
	if r.maxAttempts <= 0 {
		r.maxAttempts = DefaultMaxAttempts
		if r.lane == LaneSMS {
			r.maxAttempts = SMSMaxAttempts
		}
	}
	if n.RunAt.IsZero() {
		r.runAt = r.now
	}
	if n.CaseID != 0 {
		r.caseID = &n.CaseID
		r.coalesce = n.Coalesce
	}
	return r, nil
}

// args are r's values in outboxInsertValues' order.
func (r outboxRow) args() []any {
	return []any{r.kind, r.dedupeKey, r.payload, r.caseID, r.maxAttempts, r.runAt, r.lane, r.now, r.now}
}

// OutboxClaim asks for due rows.
type OutboxClaim struct {
	Worker string
	// Now is the bot's clock: pending rows whose run_at has come are due.
	Now time.Time
	// Lease is how long the claim lasts on the database's clock unless a
	// heartbeat extends it.
	Lease time.Duration
	Limit int
	// Lanes, when set, limits the claim to those lanes; ExceptLanes leaves
	// those out (the pool that takes every lane without one of its own).
	Lanes, ExceptLanes []string
	// StartSends, when set, is the kind of text rows (their payload names
	// message_id) whose text goes as soon as claimed unless the payload
	// says scheduled or not_after: on PostgreSQL the claim records their
	// send start at SendStartAt (MessageToSend's) and hands each its
	// message (OutboxItem.Sending), in the same statement.
	StartSends  string
	SendStartAt time.Time
}

// ClaimOutbox hands up to c.Limit due rows to c.Worker: pending rows whose
// run_at has come (bot clock) and running rows whose lease lapsed on the
// database's clock (their worker died or lost touch). Each claim takes the
// row's next ClaimSeq and counts an attempt. A case's thread entries go one
// at a time, in the order they were written, so its chat thread reads as it
// happened; so do its card refreshes, so an older render never lands after a
// newer one. A thread entry whose case has no card on its platform yet
// waits, unclaimed and spending no attempt, while a card row of that case
// and platform is to run: it would only race that row to post the card.
// The worker that settles the card row claims the entries next. Due rows
// go oldest first, whenever each became due: after an outage every held row
// is due at about the same moment, and the callers who waited longest are
// texted first.
//
// The cost stays that of the rows taken, whatever waits: the rows come in
// id order from outbox_lane_active (only active rows, lane by lane), and
// the card check is a scalar subquery probed per row on outbox_case
// (a card row's kind is chat.card.<lane>), not an EXISTS that PostgreSQL
// would hash over every active card row of a backlog first.
func (s *Store) ClaimOutbox(ctx context.Context, c OutboxClaim) ([]OutboxItem, error) {
	lanes, args := laneFilter(c.Lanes, c.ExceptLanes)
	args = append([]any{c.Worker, c.Lease.Seconds(), c.Now.UTC(), c.Now.UTC()}, args...)
	limit := "?"
	if s.d.name == "postgres" {
		args = append(args, c.Limit)
	} else {
		// SQLite plans a LIMIT parameter's value into the statement and
		// prepares it again whenever the value changes: a worker claiming
		// as many rows as it has free slots prepared its claim anew almost
		// every time, at ~4 times the claim's own cost (8 % of the CPU of a
		// load run). One statement per limit is prepared once.
		limit = strconv.Itoa(max(c.Limit, 0))
	}
	// A claim lost with the database leaves its row to be claimed again,
	// as one whose worker died: it need not wait for the WAL flush, unless
	// it records that texts' sends begin.
	lazy := s.d.lazyCommit
	if c.StartSends != "" {
		lazy = ""
	}
	claim := `
		UPDATE outbox SET ` + s.d.claimSet() + `, updated_at = ?,
			last_error = CASE WHEN state = 'running' THEN '` + ClaimLapsed + `' ELSE last_error END
		WHERE id IN (
			SELECT id FROM ` + s.d.outboxBy("o", "outbox_lane_active") + `
			WHERE state IN ('pending', 'running')
			AND ((state = 'pending' AND run_at <= ?) OR (state = 'running' AND lease_until < ` + s.d.dbNow() + `))` + lanes + `
			AND NOT (` + orderedKindSQL + ` AND EXISTS (
				SELECT 1 FROM outbox e WHERE e.case_id = o.case_id AND e.kind = o.kind AND e.id < o.id
				AND e.state IN ('pending', 'running')))
			AND NOT (kind LIKE 'chat.thread.%' AND (
				SELECT 1 FROM outbox c WHERE c.case_id = o.case_id AND c.kind = 'chat.card.' || o.lane
				AND c.state IN ('pending', 'running') LIMIT 1) IS NOT NULL
				AND (SELECT 1 FROM cards d WHERE d.case_id = o.case_id AND d.platform = o.lane AND d.message_id <> '' LIMIT 1) IS NULL)
			ORDER BY id
			LIMIT ` + limit + s.d.lockSkip + `
		)` + lazy + `
		RETURNING ` + outboxColumns
	var items []OutboxItem
	var err error
	if c.StartSends != "" && s.d.name == "postgres" {
		items, err = s.claimStartingSends(ctx, claim, args, c.StartSends, c.SendStartAt)
	} else {
		err = s.selectAll(ctx, &items, claim, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	// RETURNING keeps no order: hand rows out oldest first, as picked.
	slices.SortFunc(items, func(a, b OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return items, nil
}

// claimStartingSends runs claim, and in the same statement records the
// send start of the claimed text rows of kind that go at once and reads
// their messages (OutboxClaim.StartSends).
func (s *Store) claimStartingSends(ctx context.Context, claim string, args []any, kind string, at time.Time) ([]OutboxItem, error) {
	var rows []struct {
		OutboxItem
		Started    bool    `db:"started"`
		M          Message `db:"m"`
		OptedOut   bool    `db:"m_opted_out"`
		Untextable string  `db:"m_untextable"`
	}
	// The payload is read only for rows of kind, which the bot writes as
	// JSON: scheduled and not_after appear only when set.
	const sending = `CASE WHEN c.kind = ? AND (c.payload::jsonb->>'scheduled') IS NULL AND (c.payload::jsonb->>'not_after') IS NULL
		THEN (c.payload::jsonb->>'message_id')::bigint END`
	err := s.selectAll(ctx, &rows, `WITH claimed AS (`+claim+`),
		started AS (UPDATE messages SET send_started_at = COALESCE(send_started_at, ?)
			FROM claimed c WHERE messages.id = `+sending+`
			RETURNING c.id AS outbox_id, `+prefixed("messages", messageColumns)+`, `+messageFacts+`)
		SELECT c.*, s.outbox_id IS NOT NULL AS started, `+messageColumnsFrom("s", "m.")+`,
			COALESCE(s.opted_out, false) AS m_opted_out, COALESCE(s.untextable, '') AS m_untextable
		FROM claimed c LEFT JOIN started s ON s.outbox_id = c.id`, append(args, at.UTC(), kind)...)
	if err != nil {
		return nil, err
	}
	items := make([]OutboxItem, len(rows))
	for i, r := range rows {
		items[i] = r.OutboxItem
		if r.Started {
			items[i].Sending = &MessageSending{Message: r.M, OptedOut: r.OptedOut, Untextable: r.Untextable, StartAt: at.UTC()}
		}
	}
	return items, nil
}

// laneFilter is the SQL (starting with AND) and arguments that keep a query
// to lanes, or away from except.
func laneFilter(lanes, except []string) (string, []any) {
	var sql string
	var args []any
	add := func(op string, names []string) {
		if len(names) == 0 {
			return
		}
		sql += op + "(?" + strings.Repeat(", ?", len(names)-1) + ")"
		for _, n := range names {
			args = append(args, n)
		}
	}
	add(" AND lane IN ", lanes)
	add(" AND lane NOT IN ", except)
	return sql, args
}

// underClaims is the condition matching each of items under the claim it
// was handed out under, and args followed by its arguments.
func underClaims(items []OutboxItem, args ...any) (string, []any) {
	claims := make([]string, len(items))
	for i, it := range items {
		claims[i] = "(id = ? AND claim_seq = ?)"
		args = append(args, it.ID, it.ClaimSeq)
	}
	return "(" + strings.Join(claims, " OR ") + ")", args
}

// ExtendOutboxBatch renews the claims on items for lease from now on the
// database's clock, in one statement (the heartbeats falling due together
// while their side effects run): held lists the ids whose claim was still
// the worker's.
func (s *Store) ExtendOutboxBatch(ctx context.Context, items []OutboxItem, lease time.Duration) (held map[int64]bool, err error) {
	held = make(map[int64]bool, len(items))
	if len(items) == 0 {
		return held, nil
	}
	claims, args := underClaims(items, lease.Seconds())
	var ids []int64
	err = s.selectAll(ctx, &ids, `UPDATE outbox SET lease_until = `+s.d.dbNowPlus()+`
		WHERE state = 'running' AND `+claims+` RETURNING id`, args...)
	if err != nil {
		if len(items) == 1 {
			return nil, fmt.Errorf("store: extend outbox %d claim: %w", items[0].ID, err)
		}
		return nil, fmt.Errorf("store: extend %d outbox claims: %w", len(items), err)
	}
	for _, id := range ids {
		held[id] = true
	}
	return held, nil
}

// CompleteOutbox marks a claimed row done. done is false, and nothing
// changes, when the claim it was handed out under is no longer current.
// On a Tx it commits with the change the side effect recorded: one commit
// instead of two.
func (q queries) CompleteOutbox(ctx context.Context, it OutboxItem, now time.Time) (done bool, err error) {
	return q.settleOutbox(ctx, it, OutboxDone, now, "")
}

// CompleteOutboxLater marks a claimed row done at the commit of the
// transaction that recorded its side effect (on PostgreSQL, in the
// statement that writes the transaction's events and outbox rows), under
// the claim it was handed out under; held is told before the commit
// whether that claim was still current.
func (tx *Tx) CompleteOutboxLater(ctx context.Context, it OutboxItem, now time.Time, held func(bool)) error {
	return tx.writeLater(ctx, laterWrite{table: "outbox", what: fmt.Sprintf("mark outbox %d done", it.ID),
		query: settleOutboxSQL + tx.d.lazyCommit, args: []any{OutboxDone, "", now.UTC(), it.ID, it.ClaimSeq},
		counted: func(n int64) { held(n == 1) }})
}

// CompleteOutboxBatch marks claimed rows done in one statement, each under
// the claim it was handed out under: held lists the ids marked; a row whose
// claim is no longer current is left alone, as CompleteOutbox would.
// behind lists those of a case's card or thread with a row of the case
// waiting in their lane, which their end lets run: on PostgreSQL as the
// statement saw it (a row committed after it wakes its worker itself; one
// that worker's claim skipped while this end ran is the worker's to see:
// bot's endWatch), so an end with none behind needs no claim to look; on
// SQLite every such row, unlooked.
func (q queries) CompleteOutboxBatch(ctx context.Context, items []OutboxItem, now time.Time) (held, behind map[int64]bool, err error) {
	held, behind = make(map[int64]bool, len(items)), map[int64]bool{}
	if len(items) == 0 {
		return held, behind, nil
	}
	claims, args := underClaims(items, now.UTC())
	waits := orderedKindSQL
	if q.d.name == "postgres" {
		waits = "CASE WHEN " + orderedKindSQL + ` THEN EXISTS (SELECT 1 FROM outbox w
			WHERE w.case_id = outbox.case_id AND w.lane = outbox.lane AND w.state = 'pending') ELSE false END`
	}
	var rows []struct {
		ID     int64 `db:"id"`
		Behind bool  `db:"behind"`
	}
	err = q.selectAll(ctx, &rows, `
		UPDATE outbox SET state = 'done', last_error = '', locked_by = '', lease_until = NULL, updated_at = ?
		WHERE state = 'running' AND `+claims+q.d.lazyCommit+`
		RETURNING id, `+waits+` AS behind`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: mark %d outbox rows done: %w", len(items), err)
	}
	for _, r := range rows {
		held[r.ID] = true
		if r.Behind {
			behind[r.ID] = true
		}
	}
	return held, behind, nil
}

// RetryOutbox puts a claimed row back to wait until runAt, noting why it
// failed; the attempt it used stays counted.
func (s *Store) RetryOutbox(ctx context.Context, it OutboxItem, runAt, now time.Time, reason string) (held bool, err error) {
	res, err := s.exec(ctx, `
		UPDATE outbox SET state = 'pending', run_at = ?, last_error = ?, locked_by = '', lease_until = NULL, updated_at = ?
		WHERE id = ? AND state = 'running' AND claim_seq = ?`,
		runAt.UTC(), truncate(reason, 2000), now.UTC(), it.ID, it.ClaimSeq)
	if err != nil {
		return false, fmt.Errorf("store: retry outbox %d: %w", it.ID, err)
	}
	return affected(res)
}

// SnoozeOutbox puts a claimed row back to wait until runAt without spending
// an attempt: it waited (a remote's Retry-After, a rate-limit pause, another
// row it must follow), it did not fail.
func (s *Store) SnoozeOutbox(ctx context.Context, it OutboxItem, runAt, now time.Time, reason string) (held bool, err error) {
	res, err := s.exec(ctx, `
		UPDATE outbox SET state = 'pending', attempts = attempts - 1, run_at = ?, last_error = ?, locked_by = '', lease_until = NULL, updated_at = ?
		WHERE id = ? AND state = 'running' AND claim_seq = ?`,
		runAt.UTC(), truncate(reason, 2000), now.UTC(), it.ID, it.ClaimSeq)
	if err != nil {
		return false, fmt.Errorf("store: snooze outbox %d: %w", it.ID, err)
	}
	return affected(res)
}

// KillOutbox marks a claimed row dead: it stays visible, it is never retried.
func (s *Store) KillOutbox(ctx context.Context, it OutboxItem, now time.Time, reason string) (dead bool, err error) {
	return s.settleOutbox(ctx, it, OutboxDead, now, reason)
}

// settleOutboxSQL ends a claimed row in a state with a reason (state,
// last_error, updated_at), under the claim it was handed out under (id,
// claim_seq): no row changes when that claim is no longer current. A row
// marked done commits lazily (dialect.lazyCommit): if the mark is lost,
// the row runs again, which every row's work is built for.
const settleOutboxSQL = `UPDATE outbox SET state = ?, last_error = ?, locked_by = '', lease_until = NULL, updated_at = ?
		WHERE id = ? AND state = 'running' AND claim_seq = ?`

func (q queries) settleOutbox(ctx context.Context, it OutboxItem, state string, now time.Time, reason string) (bool, error) {
	query := settleOutboxSQL
	if state == OutboxDone {
		query += q.d.lazyCommit
	}
	res, err := q.exec(ctx, query, state, truncate(reason, 2000), now.UTC(), it.ID, it.ClaimSeq)
	if err != nil {
		return false, fmt.Errorf("store: mark outbox %d %s: %w", it.ID, state, err)
	}
	return affected(res)
}

func affected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: rows affected: %w", err)
	}
	return n == 1, nil
}

// dbNow is the database's own clock in SQL: leases are measured on it, so
// replicas agree and a moved bot clock cannot end them. SQLite runs in this
// process and reads its wall clock; its text format is fixed so that it
// compares as text.
func (d dialect) dbNow() string {
	if d.name == "postgres" {
		return "now()"
	}
	return "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"
}

// dbNowPlus is dbNow plus a bind parameter of seconds.
func (d dialect) dbNowPlus() string {
	if d.name == "postgres" {
		return "now() + make_interval(secs => CAST(? AS DOUBLE PRECISION))"
	}
	return "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', printf('%+.3f seconds', ?))"
}

// OutboxByKey returns the row with that dedupe key.
func (q queries) OutboxByKey(ctx context.Context, key string) (OutboxItem, error) {
	var it OutboxItem
	err := q.get(ctx, &it, `SELECT `+outboxColumns+` FROM outbox WHERE dedupe_key = ?`, key)
	return it, notFound(err, "store: outbox %q", key)
}

// CaseOutbox lists case caseID's rows of kind, newest first (outbox_case,
// done rows included until pruned).
func (q queries) CaseOutbox(ctx context.Context, caseID int64, kind string) ([]OutboxItem, error) {
	var items []OutboxItem
	err := q.selectAll(ctx, &items, `SELECT `+outboxColumns+` FROM outbox WHERE case_id = ? AND kind = ? ORDER BY id DESC`, caseID, kind)
	if err != nil {
		return nil, fmt.Errorf("store: outbox of case %d, %s: %w", caseID, kind, err)
	}
	return items, nil
}

// OutboxByState lists rows in a state, oldest first.
func (q queries) OutboxByState(ctx context.Context, state string, limit int) ([]OutboxItem, error) {
	var items []OutboxItem
	err := q.selectAll(ctx, &items, `SELECT `+outboxColumns+` FROM outbox WHERE state = ? ORDER BY id LIMIT ?`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("store: outbox by state %s: %w", state, err)
	}
	return items, nil
}

// OutboxCounts counts rows by state, for /metrics and health.
func (q queries) OutboxCounts(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := q.selectAll(ctx, &rows, `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`); err != nil {
		return nil, fmt.Errorf("store: outbox counts: %w", err)
	}
	m := map[string]int{OutboxPending: 0, OutboxRunning: 0, OutboxDone: 0, OutboxDead: 0}
	for _, r := range rows {
		m[r.State] = r.N
	}
	return m, nil
}

// OutboxWake says when a lane next has something to claim.
type OutboxWake struct {
	// NextRun is when the lane's earliest pending row falls due, on the
	// bot's clock (zero: none).
	NextRun time.Time
	// LeaseEnds is how long until the earliest lease of the lane's running
	// rows lapses, on the database's clock (its worker may have died);
	// negative when it has lapsed. Leased is false when no row runs.
	LeaseEnds time.Duration
	Leased    bool
}

// runningRows picks the running rows through outbox_lane_active (pending
// and running rows; no index holds the running alone): SQLite uses a
// partial index only for a query that repeats its condition.
const runningRows = "state IN ('pending', 'running') AND state = 'running'"

// OutboxLanes reports, for every lane with waiting or running rows, when it
// next has something to claim: one query, however many lanes.
func (q queries) OutboxLanes(ctx context.Context) (map[string]OutboxWake, error) {
	var rows []struct {
		Lane      string   `db:"lane"`
		NextRun   *float64 `db:"next_run"`
		LeaseEnds *float64 `db:"lease_ends"`
	}
	// Two halves, each on its state's partial index: done history is never read.
	err := q.selectAll(ctx, &rows, `SELECT lane, MIN(next_run) AS next_run, MIN(lease_ends) AS lease_ends FROM (
		SELECT lane, MIN(`+q.d.epoch("run_at")+`) AS next_run, NULL AS lease_ends
		FROM outbox WHERE state = 'pending' GROUP BY lane
		UNION ALL
		SELECT lane, NULL, MIN(`+q.d.epoch("lease_until")+`) - `+q.d.epoch(q.d.dbNow())+`
		FROM outbox WHERE `+runningRows+` GROUP BY lane) w GROUP BY lane`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox lanes: %w", err)
	}
	lanes := make(map[string]OutboxWake, len(rows))
	for _, r := range rows {
		var w OutboxWake
		if r.NextRun != nil {
			// Rounded up to the millisecond (SQLite's precision): never
			// before the row is due.
			w.NextRun = time.UnixMilli(int64(math.Ceil(*r.NextRun * 1e3))).UTC()
		}
		if r.LeaseEnds != nil {
			w.LeaseEnds, w.Leased = time.Duration(*r.LeaseEnds*float64(time.Second)), true
		}
		lanes[r.Lane] = w
	}
	return lanes, nil
}

// OutboxBusy reports whether any row is running or pending and due at now
// (bot clock), in one read: two reads could each miss a row moving between
// the states they look at.
func (q queries) OutboxBusy(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := q.get(ctx, &n, `SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'running') AND (state = 'running' OR run_at <= ?)`, now.UTC())
	if err != nil {
		return false, fmt.Errorf("store: outbox busy: %w", err)
	}
	return n > 0, nil
}

// NextOutboxRun is when the earliest pending row falls due (zero: none).
func (q queries) NextOutboxRun(ctx context.Context) (time.Time, error) {
	var ts []time.Time
	err := q.selectAll(ctx, &ts, `SELECT run_at FROM outbox WHERE state = 'pending' ORDER BY run_at LIMIT 1`)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next outbox run: %w", err)
	}
	if len(ts) == 0 {
		return time.Time{}, nil
	}
	return ts[0], nil
}

// CancelOutbox stops a row that has not started yet (a delayed text-back
// whose caller was answered meanwhile). canceled is false when the row ran
// already or is running.
func (q queries) CancelOutbox(ctx context.Context, key string, now time.Time, reason string) (canceled bool, err error) {
	res, err := q.exec(ctx, `UPDATE outbox SET state = 'done', last_error = ?, updated_at = ? WHERE dedupe_key = ? AND state = 'pending'`,
		"canceled: "+reason, now.UTC(), key)
	if err != nil {
		return false, fmt.Errorf("store: cancel outbox %q: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// pruneBatch is how many rows one prune statement deletes: a short
// statement at a time, so webhooks (on SQLite, waiting for the one
// connection) never wait behind a long delete.
const pruneBatch = 2000

// PruneOutbox deletes done rows last changed before before, oldest first,
// a batch at a time; dead rows stay until a person has looked at them.
// Digests stay too (one row a week): the scheduler enqueues a week's
// digest all through the next week, and its row's dedupe key is what
// keeps it from being posted again.
//
// No index holds done rows by age (one did, outbox_done, and every row
// wrote an entry into it as it finished, a twentieth of the index entries
// of a missed call, for a prune an hour): the rows are read in id order,
// below the first row created at or after before (outboxCreatedFrom). A
// row last changed before the cutoff was created before it too, so the
// bound misses none; one whose id is out of step with its creation (the
// clocks of replicas a little apart) waits for the next prune.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	below, err := s.outboxCreatedFrom(ctx, before)
	if err != nil {
		return 0, err
	}
	return s.deleteInBatches(ctx, "outbox", `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox WHERE id < ? AND state = 'done' AND updated_at < ? AND kind NOT LIKE 'chat.digest.%'
		ORDER BY id LIMIT ?)`, below, before.UTC())
}

// outboxCreatedFrom is the lowest id from which the outbox's rows were
// created at or after at, found by bisecting the ids (rows are numbered as
// they are created): a read of one row on the primary key per halving, so
// that a prune reads none of the rows it keeps.
func (s *Store) outboxCreatedFrom(ctx context.Context, at time.Time) (int64, error) {
	var last *int64
	if err := s.get(ctx, &last, `SELECT MAX(id) FROM outbox`); err != nil {
		return 0, fmt.Errorf("store: prune outbox: last id: %w", err)
	}
	if last == nil {
		return 0, nil
	}
	// From 0, not the first id: a probe reads the first row at or after
	// its id, so the ids before the first cost one probe at most.
	lo, hi := int64(0), *last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		var rows []struct {
			ID        int64     `db:"id"`
			CreatedAt time.Time `db:"created_at"`
		}
		if err := s.selectAll(ctx, &rows, `SELECT id, created_at FROM outbox WHERE id >= ? ORDER BY id LIMIT 1`, mid); err != nil {
			return 0, fmt.Errorf("store: prune outbox: row at %d: %w", mid, err)
		}
		if len(rows) == 0 || !rows[0].CreatedAt.Before(at) {
			hi = mid
		} else {
			lo = rows[0].ID + 1
		}
	}
	return lo, nil
}

// deleteInBatches runs query, a DELETE of at most pruneBatch rows (its last
// argument, added here), until a run deletes fewer; what names the table
// in errors.
func (s *Store) deleteInBatches(ctx context.Context, what, query string, args ...any) (int64, error) {
	args = append(args, pruneBatch)
	var total int64
	for {
		res, err := s.exec(ctx, query, args...)
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// OutboxBacklog counts the rows still to settle (pending, running) and the
// dead ones, for /metrics: each count reads only a partial index of rows
// in that state (the running ones, the index of active rows), so a scrape
// costs the same however much done history the table holds (done rows are
// counted by ringback_outbox_performed_total).
func (q queries) OutboxBacklog(ctx context.Context) (map[string]int, error) {
	var r struct {
		Pending int `db:"pending"`
		Running int `db:"running"`
		Dead    int `db:"dead"`
	}
	err := q.get(ctx, &r, `SELECT
		(SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS pending,
		(SELECT COUNT(*) FROM outbox WHERE `+runningRows+`) AS running,
		(SELECT COUNT(*) FROM outbox WHERE state = 'dead') AS dead`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox backlog: %w", err)
	}
	return map[string]int{OutboxPending: r.Pending, OutboxRunning: r.Running, OutboxDead: r.Dead}, nil
}

// OldestDueOutbox returns, by kind, when the oldest pending row due at now
// became due: how long a side effect has been waiting for a worker.
func (q queries) OldestDueOutbox(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	var rows []struct {
		Kind string `db:"kind"`
		At   dbTime `db:"at"`
	}
	if err := q.selectAll(ctx, &rows, `SELECT kind, MIN(run_at) AS at FROM outbox
		WHERE state = 'pending' AND run_at <= ? GROUP BY kind`, now.UTC()); err != nil {
		return nil, fmt.Errorf("store: oldest due outbox rows: %w", err)
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		if r.At.valid {
			out[r.Kind] = r.At.time
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cutting may split a UTF-8 sequence; drop the broken tail.
	return strings.ToValidUTF8(s[:n], "")
}

// RequeueDead puts dead rows back to run now with fresh attempts, after
// someone fixed their cause (invited the bot, renewed a token). ids limits
// it to those rows; none requeues every dead row.
func (s *Store) RequeueDead(ctx context.Context, now time.Time, ids ...int64) (int64, error) {
	query := `UPDATE outbox SET state = 'pending', attempts = 0, run_at = ?, locked_by = '', lease_until = NULL, updated_at = ? WHERE state = 'dead'`
	args := []any{now.UTC(), now.UTC()}
	if len(ids) > 0 {
		query += ` AND id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("store: requeue dead outbox rows: %w", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		s.wake(map[string]time.Time{AnyLane: now})
	}
	return n, nil
}

// ReleaseOutboxClaims hands back at once the running rows of the workers
// whose names start with seat: processes known to be gone, which left them
// running. "" is every worker: an embedded SQLite store, which one process
// works alone, as it starts. A replica restarted in its seat (Spool.HoldSeat
// proves its predecessor gone) passes that seat. Each row is claimed again
// under a new claim, which fences off anything the dead process had left.
// Their chat calls stay in flight (chat_posts.in_flight_at): a request the
// dead process had sent may still be performed (a platform slow to answer
// performs it after the connection closed): the rows say their claim
// lapsed (OutboxItem.Lapsed), as a lease's lapse would.
func (s *Store) ReleaseOutboxClaims(ctx context.Context, seat string) (int64, error) {
	res, err := s.exec(ctx, `UPDATE outbox SET state = 'pending', locked_by = '', lease_until = NULL, last_error = '`+ClaimLapsed+`'
		WHERE `+runningRows+` AND substr(locked_by, 1, ?) = ?`, len(seat), seat)
	if err != nil {
		return 0, fmt.Errorf("store: release outbox claims of %q: %w", seat, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
