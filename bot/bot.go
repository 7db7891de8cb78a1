package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"ringback/bot/autotriage"
	"ringback/config"
	"ringback/internal/memo"
	"ringback/metrics"
	"ringback/store"
	"ringback/templates"
)

// ErrBadInput means a webhook carried something that cannot be a call or a
// message (a number that is no number); handlers answer 400.
var ErrBadInput = errors.New("bot: bad input")

// Bot decides what each event means for cases and what must happen next.
type Bot struct {
	store     *store.Store
	cfg       *config.Config
	clock     Clock
	log       *slog.Logger
	publicURL string
	texter    Texter
	chats     []string
	// smsPause holds texts while the provider is failing or rate-limiting:
	// one probe a second finds its end, instead of every queued text
	// spending an attempt on it.
	smsPause *Pause
	// worker is the local worker (Register), to which a text due now is
	// handed as it is written, and a held first card as its text-back's
	// outcome pulls it forward (Worker.Handoff).
	worker  atomic.Pointer[Worker]
	pruning pruning
	triager *autotriage.Matcher // reads callers' own words; see autotriage.go
	metrics *metrics.Set        // nil: nothing counted
	// getenv reads webhook signing secrets; webhookClient sends webhooks.
	getenv        func(string) string
	webhookClient *http.Client
	// accepted keeps the texts this process recorded as taken by the
	// provider, by SID, as last written, so that their receipts (one to
	// three a text) apply without reading the text first. The write is
	// conditional on the text being as kept (store.Tx.UpdateMessageAsRead):
	// an entry another replica or a failure made stale costs the read it
	// saved, never a wrong write.
	accepted *memo.Map[store.Message]
	// openCases keeps, by line and caller, when this process last left the
	// caller's case open on the line (opened, or called again), so that
	// their next call reads with the locking read at once: the read as
	// read would only find the open case, and the call be read again
	// (ReportCall). It picks the read, nothing else: an entry made stale
	// (the case closed, here or on another replica) costs the transaction
	// that read saves, never a wrong write.
	openCases *memo.Map[time.Time]
}

// openCaseHints is how many callers openCases keeps; openCaseFor is how
// long an entry is believed: a caller calls again within minutes or hours,
// and a case is seldom closed sooner.
const (
	openCaseHints = 20000
	openCaseFor   = time.Hour
)

// acceptedTexts is how many texts accepted keeps: well over the texts a
// replica sends in the minutes in which their receipts come.
const acceptedTexts = 20000

// Deps is what the bot is built from.
type Deps struct {
	Store  *store.Store
	Config *config.Config
	Clock  Clock
	Log    *slog.Logger
	// PublicURL is where Twilio sends delivery receipts (StatusCallback).
	PublicURL string
	// Texter sends SMS; nil leaves texts queued until one is configured.
	Texter Texter
	// Chats names the chat platforms that show cards ("slack", "discord").
	Chats []string
	// Metrics counts escalations, texts, chat errors and the backlog; nil: none.
	Metrics *metrics.Set
	// Getenv reads the webhook secrets named in the config (nil: os.Getenv).
	Getenv func(string) string
}

// New returns a bot.
func New(d Deps) *Bot {
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Config != nil {
		d.Config.Defaults() // a Config built in Go runs as a parsed one would
	}
	if d.Store != nil && d.Config != nil {
		// Without a subscription no event is ever sent: events are
		// written as handed over, rather than each marked so after.
		d.Store.WriteEventsHandedOver(len(d.Config.Webhooks) == 0)
	}
	return &Bot{
		store: d.Store, cfg: d.Config, clock: d.Clock, log: d.Log, publicURL: d.PublicURL, texter: d.Texter, chats: d.Chats,
		smsPause: NewPause(d.Clock, "sms"), triager: newTriager(d.Config), metrics: d.Metrics,
		getenv: d.Getenv, webhookClient: &http.Client{Timeout: webhookTimeout},
		accepted: memo.New[store.Message](acceptedTexts), openCases: memo.New[time.Time](openCaseHints),
	}
}

// Config is the business configuration the bot runs with.
func (b *Bot) Config() *config.Config { return b.cfg }

// Clock is the bot's clock.
func (b *Bot) Clock() Clock { return b.clock }

// Store is the bot's store.
func (b *Bot) Store() *store.Store { return b.store }

// SyncTemplates makes the config file's texts the approved versions in the
// store, where staff replies and managers' edits also live. A template
// managers edited in chat keeps the store's text: a differing file text is
// logged as a warning (and `ringback check` lists it), never applied.
func (b *Bot) SyncTemplates(ctx context.Context) error {
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		for _, t := range b.cfg.Templates {
			r, err := tx.SyncConfigTemplate(ctx, t.Key, t.Text, t.Categories, b.clock.Now())
			if err != nil {
				return err
			}
			switch {
			case r.Applied:
				b.log.Info("template synced from config", "template", t.Key)
			case r.Differs != nil:
				b.log.Warn("template in ringback.yaml differs from the one managers edited in chat; the chat version stays in use",
					"template", t.Key, "version", r.Differs.Version, "edited_by", r.Differs.CreatedBy,
					"fix", "copy the chat text into ringback.yaml, or edit it again with /callbacks templates add")
			}
		}
		return nil
	})
}

// Register adds the bot's outbox performers to w.
func (b *Bot) Register(w *Worker) {
	w.Handle(KindSMS, b.performSMS)
	w.HoldLane(store.LaneSMS, b.smsPause)
	if b.texter != nil {
		// A text that goes now records its start with its claim; its
		// message comes with it (performSMS).
		w.startSends = KindSMS
	}
	b.worker.Store(w)
	w.Handle(KindWebhook, b.performWebhook)
	w.Handle(KindCallbackReminder, b.performCallbackReminder)
	w.OnDead = b.outboxDead
}

// vars are the template variables known for a case without a person acting.
func (b *Bot) vars(ctx context.Context, q caseReader, c store.Case, line *config.Line) templates.Vars {
	v := templates.Vars{
		"business":     b.cfg.Business.Name,
		"booking_link": b.cfg.Business.BookingLink,
		"case_number":  "#" + strconv.FormatInt(c.ID, 10),
	}
	if line != nil {
		v["line"] = line.Name
		v["callback_number"] = config.Format(line.Number, b.cfg.Business.Region)
		if now := b.clock.Now(); !c.CreatedAt.IsZero() && !c.Spam {
			switch {
			case c.CallbackAt != nil && c.CallbackAt.After(now):
				// The slot the caller picked is the promise, to the minute.
				v["due"] = slotWords(*c.CallbackAt, now, line.Timezone)
			case c.CallbackAt != nil:
				v["due"] = dueWords(*c.CallbackAt, now, line.Timezone)
			default:
				_, _, due := b.deadlines(c, line)
				v["due"] = dueWords(due, now, line.Timezone)
			}
		}
	}
	if c.ContactID != nil {
		if ct, err := q.ContactByID(ctx, *c.ContactID); err == nil {
			v["caller_name"] = templates.FirstName(ct.Name)
		}
	}
	return v
}

// caseReader is what vars needs: a store or a transaction.
type caseReader interface {
	ContactByID(ctx context.Context, id int64) (store.Contact, error)
}

// line returns the configured line for an E.164 number.
func (b *Bot) line(number string) (*config.Line, bool) { return b.cfg.LineByNumber(number) }

func caseRef(id int64) string { return fmt.Sprintf("#%d", id) }
