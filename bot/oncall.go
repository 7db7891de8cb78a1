package bot

import (
	"context"
	"time"

	"ringback/config"
	"ringback/store"
)

// onCallMissed reports whether r says the on-call phone did not answer a
// caller who asked for it: a <Dial> leg ended unanswered on a call Ringback
// routed to the after-hours menu, whose only <Dial> is the on-call one
// ("press 9"). Read before r's status replaces the routing status.
func (b *Bot) onCallMissed(r CallReport, call store.Call, isNew bool, line *config.Line) bool {
	return r.Dialed && r.Outcome == CallMissed && !isNew && call.Status == statusRouteAfterHours &&
		line != nil && line.OnCall != ""
}

// onCallUnanswered makes the case of a caller who pressed 9 after hours
// and reached nobody urgent: the caller said it was an emergency, so the
// case takes the urgent path (an uncategorized case gets the first urgent
// category) and on-call and managers are paged as for an urgent reply. The
// caller also gets the safety text, since the after-hours text-back only
// promises a call when the business opens.
func (b *Bot) onCallUnanswered(ctx context.Context, tx *store.Tx, caseID int64, callSID string, line *config.Line, now time.Time) error {
	c, err := tx.LockCase(ctx, caseID)
	if err != nil {
		return err
	}
	if c.Urgent || c.State == store.CaseClosed {
		return nil
	}
	c.Urgent = true
	if c.Category == "" {
		for _, cat := range b.cfg.Categories {
			if cat.Urgent {
				c.Category, c.CategorizedAt = cat.Key, &now
				break
			}
		}
	}
	// Urgent: its clock runs from the call, whatever the hours.
	if err := b.retime(ctx, tx, &c); err != nil {
		return err
	}
	if err := b.pageUrgent(ctx, tx, c, line); err != nil {
		return err
	}
	if err := tx.AddEvent(ctx, c.ID, now, "urgent", "", map[string]any{"reason": "on_call_unanswered", "category": c.Category}); err != nil {
		return err
	}
	if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryTriaged, Mention: "channel",
		Text: Plain("URGENT: caller pressed 9 for on-call after hours and nobody answered")}); err != nil {
		return err
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, c); err != nil {
		return err
	}
	if !c.Withheld() && !c.Spam {
		if err := b.autoReply(ctx, tx, c, true, c.CallerNumber, line, "safety", b.cfg.SafetyTemplate(c.Category), "safety:call:"+callSID); err != nil {
			return err
		}
	}
	return b.caseChanged(ctx, tx, c, "urgent")
}
