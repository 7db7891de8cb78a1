package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ringback/store"
)

// ReceiptAsker asks the provider where a text stands, in a receipt's words;
// ErrTextUnknown when the provider has no such text.
type ReceiptAsker interface {
	AskReceipt(ctx context.Context, sid string) (SMSReceipt, error)
}

// ErrTextUnknown is a ReceiptAsker's answer about a text the provider has
// no record of (deleted, or another account's).
var ErrTextUnknown = errors.New("bot: the provider knows no such text")

// ReceiptsWatermark names the watermark row of AskReceipts: texts accepted
// before it have been asked about.
const ReceiptsWatermark = "text_receipts"

const (
	// receiptGrace is how long a text may wait for its final receipt
	// before the provider is asked: receipts come within seconds, a slow
	// carrier's within minutes.
	receiptGrace = 10 * time.Minute
	// receiptsMaxLookBack bounds the texts a pass asks about after an
	// outage (or on a fresh install, which asks about none older).
	receiptsMaxLookBack = 24 * time.Hour
	// receiptsPerPass bounds the provider requests of one pass; the next
	// pass goes on where it stopped.
	receiptsPerPass = 200
)

// AskReceipts asks the provider about each text accepted since the
// watermark and more than receiptGrace ago whose status is still not final
// (its final receipt was lost, or never sent), and records what it answers
// as that receipt would have: the card, the thread and a failure's
// consequences follow as they do for a receipt. Each text is asked about
// once; a text still "sent" at the carrier stays so. The watermark moves to
// the last text asked about, or to the end of the window when the pass
// reached it. A request that failed for now ends the pass, and the next
// one asks again; a text the provider knows nothing of is passed over.
// asked counts the answers, moved those that moved the text on and were
// recorded as its receipt.
func (b *Bot) AskReceipts(ctx context.Context, asker ReceiptAsker) (asked, moved int, err error) {
	now := b.clock.Now()
	until := now.Add(-receiptGrace)
	since, err := b.store.Watermark(ctx, ReceiptsWatermark)
	switch {
	case errors.Is(err, store.ErrNotFound):
		since = until
	case err != nil:
		return 0, 0, fmt.Errorf("bot: ask receipts: %w", err)
	case since.Before(until.Add(-receiptsMaxLookBack)):
		b.log.Warn("ask receipts: the last pass is more than 24 h old; older texts are not asked about", "watermark", since)
		since = until.Add(-receiptsMaxLookBack)
	}
	if !since.Before(until) {
		return 0, 0, b.store.SetWatermark(ctx, ReceiptsWatermark, since, now)
	}
	texts, err := b.store.TextsAwaitingReceipt(ctx, since, until, receiptsPerPass)
	if err != nil {
		return 0, 0, fmt.Errorf("bot: ask receipts: %w", err)
	}
	mark := until
	if len(texts) == receiptsPerPass {
		// Texts accepted at the last one's instant may be left out: the
		// next pass starts there (asking that one again costs a request).
		mark = *texts[len(texts)-1].AcceptedAt
	}
	for _, m := range texts {
		r, aerr := asker.AskReceipt(ctx, *m.SID)
		if errors.Is(aerr, ErrTextUnknown) {
			// Asking again would not tell either, and must not hold up
			// the texts after it.
			b.log.Warn("ask receipts: the provider cannot say where a text stands", "message_id", m.ID, "error", aerr)
			continue
		}
		if aerr != nil {
			mark, err = *m.AcceptedAt, fmt.Errorf("bot: ask receipts: text %d: %w", m.ID, aerr)
			break
		}
		asked++
		if !receiptAdvances(SMSState(m.Status), r.State) {
			continue // the answer says nothing the text does not
		}
		if _, serr := b.SMSStatus(ctx, r); serr != nil {
			mark, err = *m.AcceptedAt, fmt.Errorf("bot: ask receipts: text %d: %w", m.ID, serr)
			break
		}
		moved++
		b.log.Info("a text's receipt never came: the provider says where it stands", "message_id", m.ID, "was", m.Status, "now", r.State)
	}
	if werr := b.store.SetWatermark(ctx, ReceiptsWatermark, mark, now); werr != nil && err == nil {
		err = fmt.Errorf("bot: ask receipts: %w", werr)
	}
	return asked, moved, err
}
