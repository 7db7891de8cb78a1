package bot

import (
	"context"
	"fmt"
	"sort"
	"time"

	"ringback/config"
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

// RoundUpItem is one case in the managers' round-up.
type RoundUpItem struct {
	Ref      string
	Line     string
	Category string // label; "" untriaged
	Urgent   bool
	Owner    string // user id; "" unclaimed
	Age      time.Duration
}

// roundUpLimit is how many cases one round-up lists by name.
const roundUpLimit = 20

// RoundUpText is the managers' one message per interval: every case that
// needs them, urgent first, then the oldest.
func RoundUpText(items []RoundUpItem) Text {
	noun := "cases need"
	if len(items) == 1 {
		noun = "case needs"
	}
	t := Text{Words("📣 "), Strong(fmt.Sprintf("%d %s a manager", len(items), noun)), Words(":")}
	for i, it := range items {
		if i == roundUpLimit {
			t = append(t, Wordsf("\n…and %d more: %s.", len(items)-roundUpLimit, "/callbacks overdue lists them"))
			break
		}
		t = append(t, Words("\n• "))
		if it.Urgent {
			t = append(t, Words("🚨 "))
		}
		t = append(t, Strong(it.Ref), Words(" "), Said(it.Line))
		if it.Category != "" {
			t = append(t, Words(" · "), Said(it.Category))
		}
		if it.Owner == "" {
			t = append(t, Words(" · unclaimed"))
		} else {
			t = append(t, Words(" · "), User(it.Owner), Words(", no contact yet"))
		}
		t = append(t, Words(" · "+ShortDuration(it.Age)))
	}
	return append(t, Words("\nReassign or chase them from their cards."))
}

// managerRoundUp sends the managers, at most once per interval
// (manager_batch), one message listing every case waiting for them. Cases
// that start waiting after this interval's message wait for the next.
func (b *Bot) managerRoundUp(ctx context.Context) error {
	if len(b.cfg.Managers) == 0 || len(b.chats) == 0 {
		return nil
	}
	every := b.cfg.ManagerBatch
	if every <= 0 {
		every = config.DefaultManagerBatch
	}
	now := b.clock.Now()
	slot := now.Truncate(every)
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		ids, err := tx.ManagersWaiting(ctx, 500)
		if err != nil || len(ids) == 0 {
			return err
		}
		var items []RoundUpItem
		var waiting []int64
		for _, id := range ids {
			c, err := tx.CaseByID(ctx, id)
			if err != nil {
				return err
			}
			if c.State == store.CaseClosed || c.FirstContactAt != nil && !c.Urgent {
				if err := tx.ManagersTold(ctx, id, now); err != nil { // nothing left to tell
					return err
				}
				continue
			}
			it := RoundUpItem{Ref: caseRef(c.ID), Line: c.LineNumber, Urgent: c.Urgent, Owner: c.Owner, Age: now.Sub(c.CreatedAt)}
			if line, ok := b.line(c.LineNumber); ok {
				it.Line = line.Name
			}
			if cat, ok := b.cfg.Category(c.Category); ok {
				it.Category = cat.Label
			}
			items = append(items, it)
			waiting = append(waiting, id)
		}
		if len(items) == 0 {
			return nil
		}
		sort.SliceStable(items, func(i, j int) bool {
			if items[i].Urgent != items[j].Urgent {
				return items[i].Urgent
			}
			return items[i].Age > items[j].Age
		})
		text := RoundUpText(items)
		key := fmt.Sprintf("roundup:%d", slot.Unix())
		sent := false
		for _, m := range b.cfg.Managers {
			queued, err := b.queueDM(ctx, tx, Notice{User: m, Text: text}, key)
			if err != nil {
				return err
			}
			sent = sent || queued
		}
		if !sent {
			return nil // this interval's round-up went already
		}
		for _, id := range waiting {
			if err := tx.ManagersTold(ctx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
}
