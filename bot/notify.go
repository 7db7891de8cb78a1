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
	for _, chat := range b.chats {
		_, _, err := tx.Enqueue(ctx, store.NewOutbox{
			Kind: KindDM + "." + chat, DedupeKey: fmt.Sprintf("dm:%s:%s:%s", chat, n.User, key), Payload: n, CaseID: n.CaseID,
		}, b.clock.Now())
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *Bot) post(ctx context.Context, tx *store.Tx, p Post, key string) error {
	if p.Channel == "" {
		return nil
	}
	for _, chat := range b.chats {
		_, _, err := tx.Enqueue(ctx, store.NewOutbox{
			Kind: KindPost + "." + chat, DedupeKey: fmt.Sprintf("post:%s:%s", chat, key), Payload: p, CaseID: p.CaseID,
		}, b.clock.Now())
		if err != nil {
			return err
		}
	}
	return nil
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
