package bot

import (
	"context"
	"time"

	"ringback/metrics"
	"ringback/store"
)

// receiptOutcome is what a receipt for m counts as in the SMS results:
// "delivered" or "undelivered" for a final receipt that moves m, else "".
func receiptOutcome(m store.Message, r SMSReceipt) string {
	switch {
	case !receiptAdvances(SMSState(m.Status), r.State):
		return ""
	case smsArrived(r.State):
		return "delivered"
	case smsFailed(r.State):
		return "undelivered"
	}
	return ""
}

// BacklogEvery is how often the leader recounts the open cases by line for
// /metrics: a scrape reads gauges and never queries the store.
const BacklogEvery = 15 * time.Second

// RefreshBacklog recounts the open, unclaimed and overdue cases of every
// line into the metrics' gauges (a line without open cases shows 0).
func (b *Bot) RefreshBacklog(ctx context.Context) error {
	if b.metrics == nil {
		return nil
	}
	rows, err := b.store.BacklogByLine(ctx, b.clock.Now())
	if err != nil {
		return err
	}
	byNumber := map[string]metrics.CaseCount{}
	for _, l := range b.cfg.Lines {
		byNumber[l.Number] = metrics.CaseCount{Line: l.Name}
	}
	for _, r := range rows {
		c, ok := byNumber[r.LineNumber]
		if !ok {
			c.Line = r.LineNumber // a line since removed from the config
		}
		c.Open, c.Unclaimed, c.Overdue = r.Open, r.Unclaimed, r.Overdue
		byNumber[r.LineNumber] = c
	}
	counts := make([]metrics.CaseCount, 0, len(byNumber))
	for _, c := range byNumber {
		counts = append(counts, c)
	}
	b.metrics.Cases(counts)
	return nil
}

// RunBacklog refreshes the backlog gauges every interval while ctx lives
// (the leader's term) and clears them when it ends, so that only the
// leader exports them and a sum over replicas counts each case once.
func (b *Bot) RunBacklog(ctx context.Context, every time.Duration) {
	if b.metrics == nil {
		return
	}
	defer b.metrics.Cases(nil)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := b.RefreshBacklog(ctx); err != nil && ctx.Err() == nil {
			b.log.Info("backlog gauges not refreshed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
