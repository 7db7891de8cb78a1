package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Card is where a case's chat card lives on a platform.
type Card struct {
	CaseID    int64     `db:"case_id"`
	Platform  string    `db:"platform"`
	Channel   string    `db:"channel"`
	MessageID string    `db:"message_id"` // "" while it is being posted
	CreatedAt time.Time `db:"created_at"`
	// OutboxSeen is the newest outbox row committed when the first post was
	// reserved (ReserveCard).
	OutboxSeen int64 `db:"outbox_seen"`
}

// cardPostTimeout is how long a reservation to post a card holds before
// another worker may assume its poster died.
const cardPostTimeout = time.Minute

// CardFor returns the case's card on platform.
func (q queries) CardFor(ctx context.Context, caseID int64, platform string) (Card, error) {
	var c Card
	err := q.get(ctx, &c, `SELECT case_id, platform, channel, message_id, created_at, outbox_seen FROM cards WHERE case_id = ? AND platform = ?`, caseID, platform)
	return c, notFound(err, "store: card of case %d on %s", caseID, platform)
}

// CardSlot is where a case's card is posted from, in one statement: the
// case's line and contact (what choose the card's channel) and its card on
// platform (Platform "" when there is none yet).
type CardSlot struct {
	LineNumber string
	Contact    *Contact // nil: no known contact
	Card       Card
	// Case is the case as its card shows it (CaseForCard), read by the
	// same statement, when it was asked for (CardSlotReserving's withCase).
	Case *CardCase
	// Behind (CardSlotReserving): an earlier row of the reading row's kind
	// and case waits or runs, so this one must wait for it (a row handed
	// to a worker as it was written did not wait in line); nothing was
	// reserved.
	Behind bool
}

// CardSlot reads case id's CardSlot on platform.
func (q queries) CardSlot(ctx context.Context, caseID int64, platform string) (CardSlot, error) {
	slot, _, err := q.cardSlot(ctx, caseID, platform, "", 0, time.Time{}, false)
	return slot, err
}

// CardSlotBeginning is CardSlot for a post in the card's thread under
// key by outbox row outboxID, and when the card is posted, BeginChatPost
// of that post: begun tells that this is its first attempt, recorded now.
// On PostgreSQL one statement. When begun is false and the card is
// posted, the caller asks BeginChatPost for the earlier attempt.
func (q queries) CardSlotBeginning(ctx context.Context, caseID int64, platform, key string, outboxID int64, now time.Time) (slot CardSlot, begun bool, err error) {
	if q.d.name != "postgres" {
		if slot, err = q.CardSlot(ctx, caseID, platform); err != nil || slot.Card.MessageID == "" {
			return slot, false, err
		}
		_, begun, err = q.BeginChatPost(ctx, platform, key, outboxID, now)
		return slot, begun, err
	}
	slot, flags, err := q.cardSlotWith(ctx, `WITH begun AS (INSERT INTO chat_posts (platform, post_key, started_at, outbox_id, in_flight_at)
			SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM cards WHERE case_id = ? AND platform = ? AND message_id <> '')
			ON CONFLICT (platform, post_key) DO NOTHING RETURNING post_key) `, []string{"EXISTS (SELECT 1 FROM begun)"},
		[]any{platform, key, now.UTC(), outboxID, now.UTC(), caseID, platform}, platform, caseID, false)
	return slot, flags[0], err
}

// cardSlot reads the slot as row id of kind does (kind "": no row), with
// whether a newer row of its kind waits and, for a row, CardSlot.Behind.
func (q queries) cardSlot(ctx context.Context, caseID int64, platform, kind string, id int64, now time.Time, withCase bool) (CardSlot, bool, error) {
	flags, args := []string{newerCardRow[q.d.name]}, []any{kind, id, now.UTC()}
	if kind != "" {
		flags, args = append(flags, olderCardRow[q.d.name]), append(args, kind, id)
	}
	slot, got, err := q.cardSlotWith(ctx, "", flags, args, platform, caseID, withCase)
	slot.Behind = kind != "" && got[1]
	return slot, got[0], err
}

// newerCardRow, by dialect, tells whether a row of kind (?) enqueued after
// row id (?) for case c waits, due by now (?): one due later (a render
// queued for after an update in flight) does not stand for this one.
var newerCardRow = caseRowsByDialect("n.id > ? AND n.state = 'pending' AND n.run_at <= ?")

// olderCardRow, by dialect, tells whether a row of kind (?) enqueued before
// row id (?) for case c still waits or runs: the row reading its slot is
// not first in its case's line.
var olderCardRow = caseRowsByDialect("n.id < ? AND n.state IN ('pending', 'running')")

// newerCardRowOfCase and olderCardRowOfCase are PostgreSQL's, with the
// case as an argument (? first), for a statement that reads no case row.
var (
	newerCardRowOfCase = strings.Replace(newerCardRow[postgres.name], "n.case_id = c.id", "n.case_id = ?", 1)
	olderCardRowOfCase = strings.Replace(olderCardRow[postgres.name], "n.case_id = c.id", "n.case_id = ?", 1)
)

// caseRowsByDialect is, by dialect, whether a row n of case c and kind (?)
// matches cond, read through outbox_case.
func caseRowsByDialect(cond string) map[string]string {
	out := map[string]string{}
	for _, d := range []dialect{postgres, sqlite} {
		out[d.name] = "EXISTS (SELECT 1 FROM " + d.outboxBy("n", "outbox_case") + " WHERE n.case_id = c.id AND n.kind = ? AND " + cond + ")"
	}
	return out
}

// cardSlotWith reads case caseID's slot on platform after the WITH clause
// with (its arguments first in args), with flags, up to four boolean
// expressions (their arguments next in args), as the second result; with
// withCase, the case as its card shows it too (CardSlot.Case).
func (q queries) cardSlotWith(ctx context.Context, with string, flags []string, args []any, platform string, caseID int64, withCase bool) (CardSlot, []bool, error) {
	var row struct {
		cardCaseRow
		Channel    *string    `db:"card_channel"`
		MessageID  *string    `db:"card_message_id"`
		CreatedAt  *time.Time `db:"card_created_at"`
		OutboxSeen *int64     `db:"card_outbox_seen"`
		Flag0      bool       `db:"flag0"`
		Flag1      bool       `db:"flag1"`
		Flag2      bool       `db:"flag2"`
		Flag3      bool       `db:"flag3"`
	}
	columns := ""
	for i := range 4 {
		flag := "false"
		if i < len(flags) {
			flag = flags[i]
		}
		columns += fmt.Sprintf(", %s AS flag%d", flag, i)
	}
	read, from := `c.line_number, c.contact_id, `+contactJoinColumns, `FROM cases c LEFT JOIN contacts ct ON ct.id = c.contact_id`
	if withCase {
		read, from = cardCaseColumns, q.cardCaseFrom()
	}
	err := q.get(ctx, &row, with+`SELECT `+read+`,
			cd.channel AS card_channel, cd.message_id AS card_message_id, cd.created_at AS card_created_at, cd.outbox_seen AS card_outbox_seen`+columns+`
		`+from+`
		LEFT JOIN cards cd ON cd.case_id = c.id AND cd.platform = ?
		WHERE c.id = ?`, append(args, platform, caseID)...)
	if err != nil {
		return CardSlot{}, make([]bool, len(flags)), notFound(err, "store: case %d", caseID)
	}
	slot := CardSlot{LineNumber: row.LineNumber, Card: Card{CaseID: caseID}, Contact: row.contact(row.ContactID)}
	if withCase {
		cc := row.cardCase()
		slot.Case = &cc
	}
	if row.MessageID != nil {
		slot.Card = Card{CaseID: caseID, Platform: platform, Channel: *row.Channel, MessageID: *row.MessageID, CreatedAt: *row.CreatedAt, OutboxSeen: *row.OutboxSeen}
	}
	return slot, []bool{row.Flag0, row.Flag1, row.Flag2, row.Flag3}[:len(flags)], nil
}

// CardSlotReserving is CardSlot as card row id of kind reads it, with
// whether a row of the same kind and case enqueued after it still waits
// (newer: that row can render the latest state), and when the card is
// not posted and no newer row of the row's kind waits, ReserveCardPost of
// its first post under key, with no channel yet (SaveCardPost records the
// one it lands in): on PostgreSQL in one statement. A row behind an
// earlier one of its kind and case (CardSlot.Behind) reserves nothing. reserved and begun are
// ReserveCardPost's. The slot is read as the statement began: the card is
// as it was before any reservation of its own. withCase reads the case as
// its card shows it too (CardSlot.Case), for a row that expects to refresh
// a posted card: one statement where the slot and the case take two. It
// is not what a reserved first post shows: that renders the case as it is
// after the reservation.
func (q queries) CardSlotReserving(ctx context.Context, caseID int64, platform, kind string, id int64, key string, now time.Time, withCase bool) (slot CardSlot, newer, reserved, begun bool, err error) {
	if q.d.name != "postgres" {
		if slot, newer, err = q.cardSlot(ctx, caseID, platform, kind, id, now, withCase); err != nil || newer || slot.Behind || slot.Card.MessageID != "" {
			return slot, newer, false, false, err
		}
		reserved, begun, err = q.ReserveCardPost(ctx, caseID, platform, "", key, now)
		return slot, false, reserved, begun, err
	}
	slot, flags, err := q.cardSlotWith(ctx, `WITH reserved AS (INSERT INTO cards (case_id, platform, channel, message_id, created_at, outbox_seen)
			SELECT ?, ?, '', '', ?, `+cardSeenSQL+`
			WHERE NOT EXISTS (SELECT 1 FROM cards WHERE case_id = ? AND platform = ? AND message_id <> '')
			AND NOT `+newerCardRowOfCase+` AND NOT `+olderCardRowOfCase+` `+reserveCardConflict+` RETURNING case_id), `+begunReservedPost+` `,
		[]string{newerCardRow[q.d.name], "EXISTS (SELECT 1 FROM reserved)", "EXISTS (SELECT 1 FROM begun)", olderCardRow[q.d.name]},
		[]any{caseID, platform, now.UTC(), caseID, platform, now.UTC(), caseID, platform, caseID, kind, id, now.UTC(), caseID, kind, id, now.Add(-cardPostTimeout).UTC(),
			platform, key, now.UTC(), now.UTC(), kind, id, now.UTC(), kind, id}, platform, caseID, withCase)
	slot.Behind = flags[3]
	return slot, flags[0], flags[1], flags[2], err
}

// ReserveCard claims the right to post the case's first card on platform,
// so two workers (or replicas) never post two cards for one case. It fails
// (reserved false) while someone else's reservation is fresh or the card
// exists.
func (q queries) ReserveCard(ctx context.Context, caseID int64, platform, channel string, now time.Time) (reserved bool, err error) {
	// On PostgreSQL the insert's foreign key check waits for a transaction
	// that holds the case locked (FOR UPDATE) to end, so such a change is
	// in the card rendered after the reservation even when the row seen
	// is newer than its own (Tx.LockCaseOnce). SQLite writes one at a time.
	// Taking over a dead worker's reservation waits for nobody: it sees
	// nothing (0).
	res, err := q.exec(ctx, reserveCardSQL, reserveCardArgs(caseID, platform, channel, now)...)
	if err != nil {
		return false, fmt.Errorf("store: reserve card of case %d: %w", caseID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

const reserveCardSQL = `INSERT INTO cards (case_id, platform, channel, message_id, created_at, outbox_seen)
		VALUES (?, ?, ?, '', ?, ` + cardSeenSQL + `) ` + reserveCardConflict

// cardSeenSQL is the outbox row a card's first post, rendered after its
// reservation, shows the changes of (Card.OutboxSeen; args case id and
// platform, now): the newest row committed, but below the first of the
// case's card rows that waits unclaimed, due later. Such a row (a render
// due after a call in flight: it does not stop the reservation, see
// newerCardRow) may yet be pulled forward to stand for a change made
// after the render (Tx.EnqueueLater's Coalesce): it must not count as
// shown.
const cardSeenSQL = `COALESCE((SELECT MIN(id) - 1 FROM outbox WHERE case_id = ? AND kind = 'chat.card.' || ?
				AND state = 'pending' AND claim_seq = 0 AND run_at > ?),
			(SELECT COALESCE(MAX(id), 0) FROM outbox))`

// reserveCardConflict takes over a reservation that has lapsed (? is the
// oldest start still fresh), never a posted card.
const reserveCardConflict = `ON CONFLICT (case_id, platform) DO UPDATE SET channel = excluded.channel, created_at = excluded.created_at,
			outbox_seen = 0
		WHERE cards.message_id = '' AND cards.created_at < ?`

// begunReservedPost records the first attempt of the post of a card that
// the statement's reserved reserves (args platform, key, now, now).
const begunReservedPost = `begun AS (INSERT INTO chat_posts (platform, post_key, started_at, outbox_id, in_flight_at) SELECT ?, ?, ?, 0, ?
			WHERE EXISTS (SELECT 1 FROM reserved) ON CONFLICT (platform, post_key) DO NOTHING RETURNING post_key)`

func reserveCardArgs(caseID int64, platform, channel string, now time.Time) []any {
	return []any{caseID, platform, channel, now.UTC(), caseID, platform, now.UTC(), now.Add(-cardPostTimeout).UTC()}
}

// ReserveCardPost is ReserveCard, and when it reserves, BeginChatPost of
// the card's post under key (begun: this is its first attempt), in one
// statement on PostgreSQL.
func (q queries) ReserveCardPost(ctx context.Context, caseID int64, platform, channel, key string, now time.Time) (reserved, begun bool, err error) {
	if q.d.name != "postgres" {
		if reserved, err = q.ReserveCard(ctx, caseID, platform, channel, now); err != nil || !reserved {
			return reserved, false, err
		}
		_, begun, err = q.BeginChatPost(ctx, platform, key, 0, now)
		return reserved, begun, err
	}
	var row struct {
		Reserved bool `db:"reserved"`
		Begun    bool `db:"begun"`
	}
	err = q.get(ctx, &row, `WITH reserved AS (`+reserveCardSQL+` RETURNING case_id), `+begunReservedPost+`
		SELECT EXISTS (SELECT 1 FROM reserved) AS reserved, EXISTS (SELECT 1 FROM begun) AS begun`,
		append(reserveCardArgs(caseID, platform, channel, now), platform, key, now.UTC(), now.UTC())...)
	if err != nil {
		return false, false, fmt.Errorf("store: reserve card of case %d: %w", caseID, err)
	}
	return row.Reserved, row.Begun, nil
}

// SaveCard records the posted card's message id.
func (q queries) SaveCard(ctx context.Context, caseID int64, platform, channel, messageID string) error {
	_, err := q.exec(ctx, `UPDATE cards SET channel = ?, message_id = ? WHERE case_id = ? AND platform = ?`, channel, messageID, caseID, platform)
	if err != nil {
		return fmt.Errorf("store: save card of case %d: %w", caseID, err)
	}
	return nil
}

// UnreserveCard drops a reservation whose post failed, so a retry can post.
func (q queries) UnreserveCard(ctx context.Context, caseID int64, platform string) error {
	_, err := q.exec(ctx, `DELETE FROM cards WHERE case_id = ? AND platform = ? AND message_id = ''`, caseID, platform)
	if err != nil {
		return fmt.Errorf("store: unreserve card of case %d: %w", caseID, err)
	}
	return nil
}

// CaseByCard finds the case whose card is the message (thread replies).
func (q queries) CaseByCard(ctx context.Context, platform, channel, messageID string) (int64, error) {
	var id int64
	err := q.get(ctx, &id, `SELECT case_id FROM cards WHERE platform = ? AND channel = ? AND message_id = ?`, platform, channel, messageID)
	return id, notFound(err, "store: card %s/%s", channel, messageID)
}
