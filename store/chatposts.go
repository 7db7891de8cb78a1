package store

import (
	"context"
	"fmt"
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

// SaveCardPostDone is SaveCardPost for a card whose post is outbox row
// it's last step, marking the row done under its claim with it in one
// statement on PostgreSQL. done tells whether the row was marked; when
// not, the caller marks it (and learns then whether its claim held). The
// post and the card are saved either way. SQLite leaves the row to the
// caller: a transaction of its own would cost more than the worker's
// completion, which marks rows done several at a time.
func (q queries) SaveCardPostDone(ctx context.Context, platform, key string, caseID int64, channel, messageID string, it OutboxItem, now time.Time) (done bool, err error) {
	if q.d.name != "postgres" {
		return false, q.SaveCardPost(ctx, platform, key, caseID, channel, messageID)
	}
	res, err := q.exec(ctx, `WITH saved_post AS (`+saveChatPostSQL+`),
		saved_card AS (UPDATE cards SET channel = ?, message_id = ? WHERE case_id = ? AND platform = ?) `+settleOutboxSQL+q.d.lazyCommit,
		channel, messageID, platform, key, channel, messageID, caseID, platform, OutboxDone, "", now.UTC(), it.ID, it.ClaimSeq)
	if err != nil {
		return false, fmt.Errorf("store: save card post %s on %s, outbox %d done: %w", key, platform, it.ID, err)
	}
	return affected(res)
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
