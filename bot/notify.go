package bot

import (
	"context"
	"fmt"

	"ringback/store"
)

// Outbox kinds of notifications (+ "." + platform).
const (
	KindDM   = "chat.dm"
	KindPost = "chat.post"
)

func (b *Bot) notifyUser(ctx context.Context, tx *store.Tx, n Notice, key string) error {
	_, err := b.queueDM(ctx, tx, n, key)
	return err
}

func (b *Bot) post(ctx context.Context, tx *store.Tx, p Post, key string) error {
	_, err := b.queuePost(ctx, tx, p, key)
	return err
}

// queueDM queues n on every chat, once for key; queued is false when it
// was queued before.
func (b *Bot) queueDM(ctx context.Context, tx *store.Tx, n Notice, key string) (queued bool, err error) {
	return b.queueOnChats(ctx, tx, KindDM, func(chat string) string { return fmt.Sprintf("dm:%s:%s:%s", chat, n.User, key) }, n, n.CaseID)
}

// queuePost queues p on every chat, once for key (nothing without a
// channel); queued is false when it was queued before.
func (b *Bot) queuePost(ctx context.Context, tx *store.Tx, p Post, key string) (queued bool, err error) {
	if p.Channel == "" {
		return false, nil
	}
	return b.queueOnChats(ctx, tx, KindPost, func(chat string) string { return fmt.Sprintf("post:%s:%s", chat, key) }, p, p.CaseID)
}

func (b *Bot) queueOnChats(ctx context.Context, tx *store.Tx, kind string, dedupe func(chat string) string, payload any, caseID int64) (queued bool, err error) {
	for _, chat := range b.chats {
		_, inserted, err := tx.Enqueue(ctx, store.NewOutbox{
			Kind: kind + "." + chat, DedupeKey: dedupe(chat), Payload: payload, CaseID: caseID,
		}, b.clock.Now())
		if err != nil {
			return false, err
		}
		queued = queued || inserted
	}
	return queued, nil
}

// page texts the line's on-call phone about an urgent or neglected case.
func (b *Bot) page(ctx context.Context, tx *store.Tx, c store.Case, text, key string) error {
	line, ok := b.line(c.LineNumber)
	if !ok || line.OnCall == "" {
		return nil
	}
	now := b.clock.Now()
	m := store.Message{
		CaseID: &c.ID, Direction: store.Outbound, Kind: "page", LineNumber: line.Number, CallerNumber: line.OnCall,
		Body: text, Status: "pending", CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tx.InsertMessage(ctx, &m); err != nil {
		return err
	}
	_, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: KindSMS, DedupeKey: "page:" + key, Payload: SMSJob{MessageID: m.ID}, CaseID: c.ID}, now)
	return err
}
