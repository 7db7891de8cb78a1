package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ChatPost is a chat post whose attempt began: the record that lets a re-run
// after a crash find the message instead of posting it twice.
type ChatPost struct {
	Platform  string    `db:"platform"`
	Key       string    `db:"post_key"`
	StartedAt time.Time `db:"started_at"`
	Channel   string    `db:"channel"`
	MessageID string    `db:"message_id"` // "" while the outcome is unknown
	// InFlightAt is when the latest attempt called out, while it has not
	// answered: its post may still land.
	InFlightAt *time.Time `db:"in_flight_at"`
}

// ChatPostFor returns the post's record (ErrNotFound before any attempt).
func (q queries) ChatPostFor(ctx context.Context, platform, key string) (ChatPost, error) {
	var p ChatPost
	err := q.get(ctx, &p, `SELECT platform, post_key, started_at, channel, message_id, in_flight_at FROM chat_posts WHERE platform = ? AND post_key = ?`, platform, key)
	return p, notFound(err, "store: chat post %s on %s", key, platform)
}

// StartChatPost records that an attempt of outbox row outboxID to post is
// about to call out. The first attempt's start stays: the platform is
// searched from it.
func (q queries) StartChatPost(ctx context.Context, platform, key string, outboxID int64, now time.Time) error {
	_, _, err := q.BeginChatPost(ctx, platform, key, outboxID, now)
	return err
}

// BeginChatPost is StartChatPost that tells whether this is the first
// attempt (started) and, when it is not, returns the earlier attempt's
// record: a first attempt costs one statement.
func (q queries) BeginChatPost(ctx context.Context, platform, key string, outboxID int64, now time.Time) (prev ChatPost, started bool, err error) {
	var keys []string
	err = q.selectAll(ctx, &keys, `INSERT INTO chat_posts (platform, post_key, started_at, outbox_id, in_flight_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (platform, post_key) DO NOTHING RETURNING post_key`, platform, key, now.UTC(), outboxID, now.UTC())
	if err != nil {
		return ChatPost{}, false, fmt.Errorf("store: start chat post %s on %s: %w", key, platform, err)
	}
	if len(keys) == 1 {
		return ChatPost{}, true, nil
	}
	prev, err = q.ChatPostFor(ctx, platform, key)
	return prev, false, err
}

// CallingChatPost records that a later attempt calls out now, the platform
// having shown no post of the earlier ones.
func (q queries) CallingChatPost(ctx context.Context, platform, key string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE chat_posts SET in_flight_at = ? WHERE platform = ? AND post_key = ?`, now.UTC(), platform, key)
	if err != nil {
		return fmt.Errorf("store: chat post %s on %s calls out: %w", key, platform, err)
	}
	return nil
}

// AnsweredChatPost records that the latest attempt's call answered without
// a post it could save (an error): nothing of it is still on its way.
func (q queries) AnsweredChatPost(ctx context.Context, platform, key string) error {
	_, err := q.exec(ctx, `UPDATE chat_posts SET in_flight_at = NULL WHERE platform = ? AND post_key = ? AND message_id = ''`, platform, key)
	if err != nil {
		return fmt.Errorf("store: chat post %s on %s answered: %w", key, platform, err)
	}
	return nil
}

// saveChatPostSQL records where a post landed (channel, message id) for
// its platform and key; its attempt is no longer in flight.
const saveChatPostSQL = `UPDATE chat_posts SET channel = ?, message_id = ?, in_flight_at = NULL WHERE platform = ? AND post_key = ?`

// SaveChatPost records where the post landed.
func (q queries) SaveChatPost(ctx context.Context, platform, key, channel, messageID string) error {
	_, err := q.exec(ctx, saveChatPostSQL, channel, messageID, platform, key)
	if err != nil {
		return fmt.Errorf("store: save chat post %s on %s: %w", key, platform, err)
	}
	return nil
}

// SaveCardPost is SaveChatPost for the post of case caseID's card under
// key, recording too that the card is that message (SaveCard): on
// PostgreSQL in one statement.
func (q queries) SaveCardPost(ctx context.Context, platform, key string, caseID int64, channel, messageID string) error {
	if q.d.name != "postgres" {
		if err := q.SaveChatPost(ctx, platform, key, channel, messageID); err != nil {
			return err
		}
		return q.SaveCard(ctx, caseID, platform, channel, messageID)
	}
	_, err := q.exec(ctx, `WITH saved_post AS (`+saveChatPostSQL+`)
		UPDATE cards SET channel = ?, message_id = ? WHERE case_id = ? AND platform = ?`,
		channel, messageID, platform, key, channel, messageID, caseID, platform)
	if err != nil {
		return fmt.Errorf("store: save card post %s on %s: %w", key, platform, err)
	}
	return nil
}

// SaveChatPostDone is SaveChatPost for a post that is outbox row it's last
// step, marking the row done under its claim with it: on PostgreSQL in one
// statement, on SQLite in one transaction. done is false, and the row left
// alone, when the claim is no longer current; the post is saved either way.
func (q queries) SaveChatPostDone(ctx context.Context, platform, key, channel, messageID string, it OutboxItem, now time.Time) (done bool, err error) {
	if q.d.name != "postgres" {
		both := func(tx *Tx) error {
			if err := tx.SaveChatPost(ctx, platform, key, channel, messageID); err != nil {
				return err
			}
			done, err = tx.CompleteOutbox(ctx, it, now)
			return err
		}
		if q.tx != nil {
			return done, both(q.tx)
		}
		return done, q.s.InTx(ctx, both)
	}
	res, err := q.exec(ctx, `WITH saved_post AS (`+saveChatPostSQL+`) `+settleOutboxSQL+q.d.lazyCommit,
		channel, messageID, platform, key, OutboxDone, "", now.UTC(), it.ID, it.ClaimSeq)
	if err != nil {
		return false, fmt.Errorf("store: save chat post %s on %s, outbox %d done: %w", key, platform, it.ID, err)
	}
	return affected(res)
}

// SaveChatPostPassing is SaveChatPostDone for a case's thread entry that,
// on PostgreSQL and with pass set, passes the case's next row on in the
// same statement, as SaveCardPostPassing does. SQLite saves and marks as
// SaveChatPostDone, passes nothing and reports rows waiting.
func (q queries) SaveChatPostPassing(ctx context.Context, platform, key, channel, messageID string, it OutboxItem, now time.Time, pass *OutboxPass) (Passed, error) {
	if q.d.name != "postgres" || pass == nil || it.CaseID == nil {
		done, err := q.SaveChatPostDone(ctx, platform, key, channel, messageID, it, now)
		return Passed{Done: done, Waiting: true}, err
	}
	pd, err := q.passing(ctx, `WITH saved_post AS (`+saveChatPostSQL+`)`, []any{channel, messageID, platform, key}, it, *it.CaseID, now, pass)
	if err != nil {
		return Passed{}, fmt.Errorf("store: save chat post %s on %s, outbox %d done: %w", key, platform, it.ID, err)
	}
	return pd, nil
}

// SaveCardPostDone is SaveCardPost for a card whose post is outbox row
// it's last step, marking the row done under its claim with it in one
// statement on PostgreSQL. done tells whether the row was marked; when
// not, the caller marks it (and learns then whether its claim held). The
// post and the card are saved either way. SQLite leaves the row to the
// caller: a transaction of its own would cost more than the worker's
// completion, which marks rows done several at a time.
func (q queries) SaveCardPostDone(ctx context.Context, platform, key string, caseID int64, channel, messageID string, it OutboxItem, now time.Time) (done bool, err error) {
	pd, err := q.SaveCardPostPassing(ctx, platform, key, caseID, channel, messageID, it, now, nil)
	return pd.Done, err
}

// OutboxPass asks the statement that ends a case's ordered row (a card,
// a thread entry) to claim the case's next row of Kind for Worker, leased
// for Lease on the database's clock, as a claim would: the worker runs it
// in the slot the ended row frees, with no claim statement. Behind are the
// kinds whose rows of the case wait for the ended one, which the statement
// reports (Passed.Waiting).
type OutboxPass struct {
	Worker string
	Lease  time.Duration
	Kind   string
	Behind []string
	// Begin, when set, also records in the same statement the first
	// attempt of the post the passed row makes in a card's thread
	// (BeginChatPost), so that its worker calls out with no statement of
	// its own (OutboxItem.Posting). The record comes before a side
	// effect: a statement that makes it commits synchronously.
	Begin *PassBegin
}

// PassBegin says which post a passed row makes: on Platform, in Card's
// thread, under Prefix + its payload's KeyField (Prefix + the row's id
// when that is empty); none when its payload's SkipField is true (an
// edit, which posts nothing new). Only the row's first attempt is
// recorded: a key taken already is left to the worker, as BeginChatPost
// leaves an earlier attempt.
type PassBegin struct {
	Platform            string
	Card                Card
	Prefix              string
	KeyField, SkipField string
}

// Passed is what a statement ending a row under an OutboxPass did: Done,
// the row marked done under its claim; Next, the case's row it claimed for
// the worker (nil: none); Waiting, whether other rows of the case of the
// pass's Behind kinds are still to run, as of the statement (false: the
// end of the row lets nothing else run, and no claim need look).
type Passed struct {
	Done    bool
	Next    *OutboxItem
	Waiting bool
}

// SaveCardPostPassing is SaveCardPostDone that, on PostgreSQL and with
// pass set, also claims in the same statement the case's oldest row of
// pass.Kind but it (its first thread entry, which waited for this card)
// when it is pending and due, no earlier row of its kind and case is to
// run, and the card's row was marked done under its claim (Passed).
func (q queries) SaveCardPostPassing(ctx context.Context, platform, key string, caseID int64, channel, messageID string, it OutboxItem, now time.Time, pass *OutboxPass) (Passed, error) {
	if q.d.name != "postgres" {
		return Passed{Waiting: true}, q.SaveCardPost(ctx, platform, key, caseID, channel, messageID)
	}
	args := []any{channel, messageID, platform, key, channel, messageID, caseID, platform}
	with := `WITH saved_post AS (` + saveChatPostSQL + `),
		saved_card AS (UPDATE cards SET channel = ?, message_id = ? WHERE case_id = ? AND platform = ?)`
	if pass == nil {
		res, err := q.exec(ctx, with+` `+settleOutboxSQL+q.d.lazyCommit, append(args, OutboxDone, "", now.UTC(), it.ID, it.ClaimSeq)...)
		if err != nil {
			return Passed{}, fmt.Errorf("store: save card post %s on %s, outbox %d done: %w", key, platform, it.ID, err)
		}
		done, err := affected(res)
		return Passed{Done: done, Waiting: true}, err
	}
	pd, err := q.passing(ctx, with, args, it, caseID, now, pass)
	if err != nil {
		return Passed{}, fmt.Errorf("store: save card post %s on %s, outbox %d done: %w", key, platform, it.ID, err)
	}
	return pd, nil
}

// passing runs with (WITH clauses, args their arguments), then marks it
// done under its claim and passes the case's next row on (OutboxPass), in
// one PostgreSQL statement. Rows of the case that commit while it runs
// are not seen; their commits wake the workers themselves.
func (q queries) passing(ctx context.Context, with string, args []any, it OutboxItem, caseID int64, now time.Time, pass *OutboxPass) (Passed, error) {
	behind := "?" + strings.Repeat(", ?", max(len(pass.Behind), 1)-1)
	args = append(args, OutboxDone, "", now.UTC(), it.ID, it.ClaimSeq,
		pass.Worker, pass.Lease.Seconds(), now.UTC(), caseID, pass.Kind, it.ID, now.UTC())
	begun, begunKey := "", "NULL::text"
	if b := pass.Begin; b != nil {
		// The settle's lazy commit is undone (this set_config runs after
		// the settle's: the insert reads the row the settle let pass), as
		// the attempt's record must be on disk before the post is made.
		begun = `, begun AS (INSERT INTO chat_posts (platform, post_key, started_at, outbox_id, in_flight_at)
			SELECT ?, ? || COALESCE(NULLIF(p.payload::jsonb ->> CAST(? AS text), ''), p.id::text), ?, p.id, ? FROM passed p
			WHERE NOT COALESCE((p.payload::jsonb ->> CAST(? AS text))::boolean, false)
			ON CONFLICT (platform, post_key) DO NOTHING RETURNING post_key)`
		begunKey = `(SELECT post_key FROM begun WHERE set_config('synchronous_commit', 'on', true) IS NOT NULL)`
		args = append(args, b.Platform, b.Prefix, b.KeyField, now.UTC(), now.UTC(), b.SkipField)
	}
	args = append(args, caseID, it.ID)
	if len(pass.Behind) == 0 {
		args = append(args, "")
	}
	for _, k := range pass.Behind {
		args = append(args, k)
	}
	var rows []struct {
		Settled  int64   `db:"settled"`
		Waiting  bool    `db:"waiting"`
		BegunKey *string `db:"begun_key"`
		passedRow
	}
	err := q.selectAll(ctx, &rows, with+`, settled AS (`+settleOutboxSQL+q.d.lazyCommit+` RETURNING 1),
		passed AS (UPDATE outbox SET `+q.d.claimSet()+`, updated_at = ?
			WHERE `+firstInLineSQL+` AND state = 'pending' AND run_at <= ? AND EXISTS (SELECT 1 FROM settled)
			RETURNING `+outboxColumns+`)`+begun+`
		SELECT (SELECT COUNT(*) FROM settled) AS settled,
			EXISTS (SELECT 1 FROM outbox w WHERE w.case_id = ? AND w.id <> ? AND w.state IN ('pending', 'running')
				AND w.kind IN (`+behind+`) AND w.id NOT IN (SELECT id FROM passed)) AS waiting,
			`+begunKey+` AS begun_key,
			p.* FROM (SELECT 1) AS one LEFT JOIN passed p ON true`, args...)
	if err != nil {
		return Passed{}, err
	}
	if len(rows) != 1 {
		return Passed{}, fmt.Errorf("%d rows back", len(rows))
	}
	pd := Passed{Done: rows[0].Settled == 1, Next: rows[0].item(), Waiting: rows[0].Waiting}
	if k := rows[0].BegunKey; k != nil && pd.Next != nil {
		pd.Next.Posting = &ChatPosting{Key: *k, Card: pass.Begin.Card}
	}
	return pd, nil
}

// passedRow is an outbox row a statement may not have claimed (NULLs).
type passedRow struct {
	ID          *int64     `db:"id"`
	Kind        *string    `db:"kind"`
	DedupeKey   *string    `db:"dedupe_key"`
	Payload     *string    `db:"payload"`
	CaseID      *int64     `db:"case_id"`
	State       *string    `db:"state"`
	Attempts    *int       `db:"attempts"`
	MaxAttempts *int       `db:"max_attempts"`
	RunAt       *time.Time `db:"run_at"`
	LockedBy    *string    `db:"locked_by"`
	ClaimSeq    *int64     `db:"claim_seq"`
	Lane        *string    `db:"lane"`
	LastError   *string    `db:"last_error"`
	CreatedAt   *time.Time `db:"created_at"`
	UpdatedAt   *time.Time `db:"updated_at"`
}

// item is the row claimed, nil when none was.
func (p passedRow) item() *OutboxItem {
	if p.ID == nil {
		return nil
	}
	return &OutboxItem{ID: *p.ID, Kind: deref(p.Kind), DedupeKey: deref(p.DedupeKey), Payload: deref(p.Payload), CaseID: p.CaseID,
		State: deref(p.State), Attempts: derefInt(p.Attempts), MaxAttempts: derefInt(p.MaxAttempts), RunAt: derefTime(p.RunAt),
		LockedBy: deref(p.LockedBy), ClaimSeq: derefInt(p.ClaimSeq), Lane: deref(p.Lane), LastError: deref(p.LastError),
		CreatedAt: derefTime(p.CreatedAt), UpdatedAt: derefTime(p.UpdatedAt)}
}

func derefInt[T int | int64](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}

func derefTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

// ForgetChatPost drops the record of an attempt the platform refused (a
// rate limit, a channel the bot cannot post in): nothing reached it, so
// the next attempt need not search for it.
func (q queries) ForgetChatPost(ctx context.Context, platform, key string) error {
	_, err := q.exec(ctx, `DELETE FROM chat_posts WHERE platform = ? AND post_key = ? AND message_id = ''`, platform, key)
	if err != nil {
		return fmt.Errorf("store: forget chat post %s on %s: %w", key, platform, err)
	}
	return nil
}

// PruneChatPosts deletes the records of posts begun before before whose
// outbox row is done or gone: nothing will run them again. A dead row's
// record stays, as a person may requeue the row.
func (s *Store) PruneChatPosts(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM chat_posts WHERE started_at < ?
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = chat_posts.outbox_id AND o.state <> 'done')`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: prune chat posts: %w", err)
	}
	return res.RowsAffected()
}
