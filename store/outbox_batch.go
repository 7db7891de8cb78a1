package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// EnqueueBatched queues n as part of a batch: the rows of n's kind and case
// whose dedupe keys start with prefix. While the batch's latest row was
// never handed to a worker, merge folds n into its payload instead (ok:
// false when that row will take no more, say it is long enough). A new row
// runs no sooner than interval after the latest one was due, so a flood
// (a caller texting forty times a minute) becomes one row per interval, not
// one per event.
func (q queries) EnqueueBatched(ctx context.Context, n NewOutbox, prefix string, interval time.Duration, now time.Time,
	merge func(payload string) (merged any, ok bool)) error {
	lock := ""
	if q.d.name == "postgres" {
		lock = " FOR UPDATE" // a replica batching the same case waits for this one
	}
	var last []OutboxItem
	err := q.selectAll(ctx, &last, `SELECT `+outboxColumns+` FROM `+q.d.outboxBy("", "outbox_case")+`
		WHERE case_id = ? AND kind = ? AND dedupe_key LIKE ? ESCAPE '\' ORDER BY id DESC LIMIT 1`+lock,
		n.CaseID, n.Kind, likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("store: batch %s: %w", n.Kind, err)
	}
	if len(last) == 1 {
		it := last[0]
		if it.State == OutboxPending && it.ClaimSeq == 0 {
			if merged, ok := merge(it.Payload); ok {
				payload, err := json.Marshal(merged)
				if err != nil {
					return fmt.Errorf("store: batch %s: payload: %w", n.Kind, err)
				}
				res, err := q.exec(ctx, `UPDATE outbox SET payload = ?, updated_at = ?
					WHERE id = ? AND state = 'pending' AND claim_seq = 0`, string(payload), now.UTC(), it.ID)
				if err != nil {
					return fmt.Errorf("store: batch %s: merge: %w", n.Kind, err)
				}
				if done, err := affected(res); err != nil || done {
					return err
				}
				// Claimed meanwhile: it runs as it was; n gets a row of its own.
			}
		}
		if next := it.RunAt.Add(interval); next.After(now) && next.After(n.RunAt) {
			n.RunAt = next
		}
	}
	_, _, err = q.Enqueue(ctx, n, now)
	return err
}

// likePrefix is a LIKE pattern matching strings that start with s.
func likePrefix(s string) string {
	r := make([]rune, 0, len(s)+1)
	for _, c := range s {
		if c == '%' || c == '_' || c == '\\' {
			r = append(r, '\\')
		}
		r = append(r, c)
	}
	return string(append(r, '%'))
}
