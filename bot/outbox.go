package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ringback/store"
)

// Perform carries out one outbox row's side effect. Its error decides what
// happens next: nil → done; RetryAfter → again after the delay the remote
// asked for; Permanent → dead at once; any other → retried with backoff
// until the row's attempts run out, then dead.
type Perform func(ctx context.Context, it store.OutboxItem) error

// RetryAfterError asks for another attempt after a delay chosen by the
// remote (Slack's and Twilio's Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err to be retried after d.
func RetryAfter(d time.Duration, err error) error { return &RetryAfterError{After: d, Err: err} }

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (an invalid number, a
// revoked token): the row goes dead at once.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Backoff is the wait before retry number attempt (1-based): attempt⁴
// seconds, ±10 % so that rows failing together do not retry together.
func Backoff(attempt int) time.Duration {
	base := math.Pow(float64(attempt), 4)
	jitter := 0.9 + 0.2*rand.Float64()
	return time.Duration(base * jitter * float64(time.Second))
}

// Worker performs outbox rows. Several workers (replicas) may run against
// one PostgreSQL database; on SQLite there is one process.
type Worker struct {
	store       *store.Store
	clock       Clock
	id          string
	performers  map[string]Perform
	concurrency int
	lease       time.Duration
	poll        time.Duration
	log         *slog.Logger
	// OnDead is told when a row goes dead, so the cause can be recorded
	// where people look (the case's timeline).
	OnDead func(ctx context.Context, it store.OutboxItem, err error)
	// OnStart, when set, is called as a row starts (benchmarks measure the
	// commit → start latency with it).
	OnStart func(it store.OutboxItem, at time.Time)

	slots chan struct{}
	wg    sync.WaitGroup
}

// NewWorker returns a worker identified by id (unique per process).
func NewWorker(s *store.Store, clock Clock, id string, log *slog.Logger) *Worker {
	return &Worker{
		store:       s,
		clock:       clock,
		id:          id,
		performers:  map[string]Perform{},
		concurrency: 32,
		lease:       2 * time.Minute,
		poll:        2 * time.Second,
		log:         log,
	}
}

// Handle registers the performer of a kind of row.
func (w *Worker) Handle(kind string, p Perform) { w.performers[kind] = p }

// SetConcurrency sets how many rows run at once.
func (w *Worker) SetConcurrency(n int) { w.concurrency = max(1, n) }

var (
	outboxPerformed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringback_outbox_performed_total",
		Help: "Outbox rows performed, by kind and result (done, retry, dead).",
	}, []string{"kind", "result"})
	outboxDelay = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ringback_outbox_start_delay_seconds",
		Help:    "Time from a row becoming due to a worker starting it.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"kind"})
)

// Collectors are the worker's Prometheus metrics, for registration.
func OutboxCollectors() []prometheus.Collector {
	return []prometheus.Collector{outboxPerformed, outboxDelay}
}

// Run performs rows as they fall due until ctx ends, then waits for the rows
// already started to finish (graceful drain).
func (w *Worker) Run(ctx context.Context) error {
	w.slots = make(chan struct{}, w.concurrency)
	freed := make(chan struct{}, 1)
	signal := w.store.OutboxSignal()
	jumped := jumps(w.clock)
	timer := time.NewTimer(0)
	defer timer.Stop()
	defer w.wg.Wait()
	for {
		claimed, err := w.dispatch(ctx, freed)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("outbox claim failed", "error", err)
		}
		wait := w.poll
		if claimed > 0 && len(w.slots) < cap(w.slots) {
			wait = 0 // there may be more due rows than one claim took
		} else if next, err := w.store.NextOutboxRun(ctx); err == nil && !next.IsZero() {
			if d := next.Sub(w.clock.Now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-signal:
		case <-freed:
		case <-jumped:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// dispatch claims as many due rows as there are free slots and starts them.
func (w *Worker) dispatch(ctx context.Context, freed chan struct{}) (int, error) {
	free := cap(w.slots) - len(w.slots)
	if free == 0 || ctx.Err() != nil {
		return 0, nil
	}
	now := w.clock.Now()
	items, err := w.store.ClaimOutbox(ctx, w.id, now, w.lease, free)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		w.slots <- struct{}{}
		w.wg.Add(1)
		go func() {
			defer func() {
				<-w.slots
				w.wg.Done()
				select {
				case freed <- struct{}{}:
				default:
				}
			}()
			// A shutdown lets rows already started finish.
			w.perform(context.WithoutCancel(ctx), it)
		}()
	}
	return len(items), nil
}

// RunDue performs every row due now, one pass, and returns how many it
// performed. Tests and tools use it instead of Run.
func (w *Worker) RunDue(ctx context.Context) (int, error) {
	total := 0
	for {
		items, err := w.store.ClaimOutbox(ctx, w.id, w.clock.Now(), w.lease, 100)
		if err != nil {
			return total, err
		}
		if len(items) == 0 {
			return total, nil
		}
		for _, it := range items {
			w.perform(ctx, it)
		}
		total += len(items)
	}
}

func (w *Worker) perform(ctx context.Context, it store.OutboxItem) {
	start := w.clock.Now()
	if w.OnStart != nil {
		w.OnStart(it, time.Now())
	}
	outboxDelay.WithLabelValues(it.Kind).Observe(max(0, start.Sub(it.UpdatedAt).Seconds()))
	p, ok := w.performers[it.Kind]
	var err error
	if !ok {
		err = Permanent(fmt.Errorf("bot: no performer for outbox kind %q", it.Kind))
	} else {
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = p(pctx, it)
		cancel()
	}
	now := w.clock.Now()
	log := w.log.With("outbox_id", it.ID, "kind", it.Kind, "attempt", it.Attempts)
	var ra *RetryAfterError
	switch {
	case err == nil:
		outboxPerformed.WithLabelValues(it.Kind, "done").Inc()
		if cerr := w.store.CompleteOutbox(ctx, it.ID, w.id, now); cerr != nil {
			log.Error("outbox complete failed", "error", cerr)
		}
		return
	case IsPermanent(err) || it.Attempts >= it.MaxAttempts:
		outboxPerformed.WithLabelValues(it.Kind, "dead").Inc()
		log.Error("outbox row dead", "error", err)
		if kerr := w.store.KillOutbox(ctx, it.ID, w.id, now, err.Error()); kerr != nil {
			log.Error("outbox kill failed", "error", kerr)
		}
		if w.OnDead != nil {
			w.OnDead(ctx, it, err)
		}
		return
	case errors.As(err, &ra):
		outboxPerformed.WithLabelValues(it.Kind, "retry").Inc()
		log.Warn("outbox retry requested by remote", "error", err, "retry_in_ms", ra.After.Milliseconds())
		if rerr := w.store.RetryOutbox(ctx, it.ID, w.id, now.Add(ra.After), now, err.Error()); rerr != nil {
			log.Error("outbox retry failed", "error", rerr)
		}
	default:
		outboxPerformed.WithLabelValues(it.Kind, "retry").Inc()
		d := Backoff(it.Attempts)
		log.Warn("outbox attempt failed", "error", err, "retry_in_ms", d.Milliseconds())
		if rerr := w.store.RetryOutbox(ctx, it.ID, w.id, now.Add(d), now, err.Error()); rerr != nil {
			log.Error("outbox retry failed", "error", rerr)
		}
	}
}

// outboxRows reports the outbox's rows by state at each scrape, so a dead
// row (a side effect that gave up) shows on a dashboard, not only in a log.
type outboxRows struct {
	store *store.Store
	desc  *prometheus.Desc
}

// OutboxRowsCollector is a Prometheus collector of the outbox's size by state.
func OutboxRowsCollector(s *store.Store) prometheus.Collector {
	return &outboxRows{store: s, desc: prometheus.NewDesc("ringback_outbox_rows", "Outbox rows by state (pending, running, done, dead).", []string{"state"}, nil)}
}

func (c *outboxRows) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxRows) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.OutboxCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}

// Pause holds every call to a remote after it answered 429: its limits are
// per app and method, and hammering on only makes them longer. Performers
// ask Held before calling and Note the error they got.
type Pause struct {
	clock Clock
	name  string
	mu    sync.Mutex
	until time.Time
}

// NewPause returns an open gate for the remote called name.
func NewPause(clock Clock, name string) *Pause { return &Pause{clock: clock, name: name} }

// Held returns a retry error while the pause lasts, nil otherwise.
func (p *Pause) Held() error {
	p.mu.Lock()
	until := p.until
	p.mu.Unlock()
	if wait := until.Sub(p.clock.Now()); wait > 0 {
		return RetryAfter(wait, fmt.Errorf("%s: rate limited", p.name))
	}
	return nil
}

// Note extends the pause when err asks to retry after a delay, and returns err.
func (p *Pause) Note(err error) error {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		p.mu.Lock()
		if until := p.clock.Now().Add(ra.After); until.After(p.until) {
			p.until = until
		}
		p.mu.Unlock()
	}
	return err
}

// ChatFailed puts a chat failure people must fix (the bot cannot post in a
// channel) on the case's timeline, once: every row of the case fails the
// same way until someone fixes the channel.
func (b *Bot) ChatFailed(ctx context.Context, caseID int64, platform, channel, fix string, err error) {
	told, herr := b.store.HasEvent(ctx, caseID, "chat_failed", `"platform":"`+platform+`"`)
	if herr != nil || told {
		return
	}
	if aerr := b.store.AddEvent(ctx, caseID, b.clock.Now(), "chat_failed", "", map[string]string{
		"platform": platform, "channel": channel, "error": err.Error(), "fix": fix,
	}); aerr != nil {
		b.log.Error("recording a chat failure failed", "platform", platform, "error", aerr)
	}
}
