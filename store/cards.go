package store

import (
	"context"
	"fmt"
	"time"
)

// Card is where a case's chat card lives on a platform.
type Card struct {
	CaseID    int64     `db:"case_id"`
	Platform  string    `db:"platform"`
	Channel   string    `db:"channel"`
	MessageID string    `db:"message_id"` // "" while it is being posted
	CreatedAt time.Time `db:"created_at"`
}

// cardPostTimeout is how long a reservation to post a card holds before
// another worker may assume its poster died.
const cardPostTimeout = time.Minute

// CardFor returns the case's card on platform.
func (q queries) CardFor(ctx context.Context, caseID int64, platform string) (Card, error) {
	var c Card
	err := q.get(ctx, &c, `SELECT case_id, platform, channel, message_id, created_at FROM cards WHERE case_id = ? AND platform = ?`, caseID, platform)
	return c, notFound(err, "store: card of case %d on %s", caseID, platform)
}

// ReserveCard claims the right to post the case's first card on platform,
// so two workers (or replicas) never post two cards for one case. It fails
// (reserved false) while someone else's reservation is fresh or the card
// exists.
func (q queries) ReserveCard(ctx context.Context, caseID int64, platform, channel string, now time.Time) (reserved bool, err error) {
	res, err := q.exec(ctx, `INSERT INTO cards (case_id, platform, channel, message_id, created_at) VALUES (?, ?, ?, '', ?)
		ON CONFLICT (case_id, platform) DO UPDATE SET channel = excluded.channel, created_at = excluded.created_at
		WHERE cards.message_id = '' AND cards.created_at < ?`,
		caseID, platform, channel, now.UTC(), now.Add(-cardPostTimeout).UTC())
	if err != nil {
		return false, fmt.Errorf("store: reserve card of case %d: %w", caseID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
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
