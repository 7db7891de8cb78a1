package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ringback/store"
)

// Perform carries out one outbox row's side effect. Its error decides what
// happens next: nil → done; RetryAfter → again after the delay the remote
// asked for; Permanent → dead at once; any other → retried with backoff
// until the row's attempts run out, then dead.
type Perform func(ctx context.Context, it store.OutboxItem) error

// Backoff is the wait before retry number attempt (1-based): attempt⁴
// seconds, at most MaxBackoff, ±10 % so that rows failing together do not
// retry together.
func Backoff(attempt int) time.Duration { return backoff(attempt, MaxBackoff) }

// MaxBackoff caps the wait between two attempts of a row: an outage of a few
// minutes must not leave rows waiting a quarter of an hour after it ends.
const MaxBackoff = 2 * time.Minute

// MaxOrderedBackoff caps it for rows that hold the rows of their case behind
// them (a card's renders, a thread's entries): a case's card must not stall
// for minutes behind one unlucky attempt.
const MaxOrderedBackoff = 20 * time.Second

// retryIn is the wait before a failed row's next attempt, now. A text to
// a caller is worth most in its first minute, so a text retries after a
// tenth of its age (at least 1 s, at most MaxBackoff): a ten-second Twilio
// outage costs a text-back about a second after it ends, however many
// attempts crashed replicas spent on it; texts get more attempts
// (store.SMSMaxAttempts), so they still outlast an outage of twenty minutes.
func retryIn(it store.OutboxItem, now time.Time) time.Duration {
	switch {
	case it.Lane == store.LaneSMS:
		age := max(0, now.Sub(it.CreatedAt))
		d := min(max(age/10, time.Second), MaxBackoff)
		return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
	case store.OutboxOrdered(it.Kind):
		return backoff(it.Attempts, MaxOrderedBackoff)
	}
	return Backoff(it.Attempts)
}

func backoff(attempt int, most time.Duration) time.Duration {
	base := min(math.Pow(float64(attempt), 4), most.Seconds())
	jitter := 0.9 + 0.2*rand.Float64()
	return time.Duration(base * jitter * float64(time.Second))
}

// DefaultLease is how long a claim on a row lasts, on the database's clock,
// without a heartbeat: a replica that dies leaves its rows to the others
// after at most this long. Heartbeats renew it every third of it.
const DefaultLease = 8 * time.Second

// performTimeout bounds one attempt of a side effect.
const performTimeout = time.Minute

// Default sizes of the lanes' worker pools. A lane runs at most
// concurrency / latency rows a second: Twilio answers in ~100 ms and Slack
// in ~150 ms, and a missed call makes one text and two or three chat rows
// (a card and its thread entry; a refresh when someone acts), so these
// carry ~640 texts and ~1,700 chat rows a second per platform: 500 calls a
// second and more. 64 chat rows at once capped a deployment at ~140-210
// calls a second, 32 rows of each at ~58. A slot waiting on a remote holds
// no database connection, only a goroutine. The rest pool takes every
// lane that has no pool of its own.
var defaultLanes = map[string]int{store.LaneSMS: 64, store.LaneSlack: 256, store.LaneDiscord: 256, LaneRest: 8}

// LaneRest names the pool of every lane without a pool of its own
// (webhooks, DMs, digests), for SetLane.
const LaneRest = ""

// Worker performs outbox rows, in one pool of goroutines per lane (remote),
// so a slow or rate-limited remote holds up only its own rows. Several
// workers (replicas) may run against one PostgreSQL database; on SQLite
// there is one process.
type Worker struct {
	store      *store.Store
	clock      Clock
	id         string
	performers map[string]Perform
	lanes      map[string]int // lane → concurrency; LaneRest for the rest
	lease      time.Duration
	poll       time.Duration
	log        *slog.Logger
	// OnDead is told when a row goes dead, so the cause can be recorded
	// where people look (the case's timeline).
	OnDead func(ctx context.Context, it store.OutboxItem, err error)
	// OnStart, when set, is called as a row starts (benchmarks measure the
	// commit → start latency with it).
	OnStart func(it store.OutboxItem, at time.Time)
	// startSends is the kind of text rows whose claim records their send
	// start (store.OutboxClaim.StartSends; "" for none).
	startSends string

	wg        sync.WaitGroup
	completer *batcher[completed]
	beater    *batcher[bool] // of w.lease
	nextLook  time.Time      // when Run next asks the database about every lane

	notesMu sync.Mutex
	notes   map[string]time.Time // lane → a row of it due then (see note)
	// held: lane → the pause its performers hold its rows by (HoldLane).
	held map[string]*Pause

	// What Handoff needs of a running Run: its pools, its context and the
	// channel that tells it a slot was freed (running false: none).
	runMu   sync.Mutex
	running bool
	runCtx  context.Context
	live    []*pool
	freed   chan struct{}
}

// batcher runs one statement for the rows that ask for it alongside each
// other: the first to ask runs it, and the rows asking while it runs go
// together in the next (at most maxBatch a statement), which the oldest of
// them runs, under its own context: a statement that outlived its asker's
// deadline fails its own batch only, not every batch after it. No timer
// waits. After an outage a claim fills a lane's slots at once, so their
// rows' heartbeats fall due together, and rows finish together.
type batcher[R any] struct {
	run func(ctx context.Context, items []store.OutboxItem) (map[int64]R, error)
	// gather, when set, is how long the first to ask waits for others
	// before the first statement (work no one waits on: heartbeats).
	gather time.Duration
	// flushes is how many statements run at once (at least one).
	flushes int
	mu      sync.Mutex
	queue   []*batched[R]
	running int // askers leading a statement
}

type batched[R any] struct {
	it  store.OutboxItem
	res chan batchResult[R]
	// lead tells a waiting asker to run a statement (its own row first);
	// led: it runs one, so no other statement takes its row.
	lead chan struct{}
	led  bool
}

type batchResult[R any] struct {
	r   R
	err error
}

// maxBatch bounds the rows one statement of a batcher takes.
const maxBatch = 100

// do runs the statement for it with whichever rows ask alongside it.
func (b *batcher[R]) do(ctx context.Context, it store.OutboxItem) (R, error) {
	me := &batched[R]{it: it, res: make(chan batchResult[R], 1), lead: make(chan struct{}, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, me)
	first := b.running < max(b.flushes, 1)
	if first {
		b.running++
		me.led = true
	}
	b.mu.Unlock()
	if !first {
		select {
		case r := <-me.res:
			return r.r, r.err
		case <-me.lead:
		}
	} else if b.gather > 0 {
		time.Sleep(b.gather)
	}
	b.flush(ctx, me)
	r := <-me.res
	return r.r, r.err
}

// flush runs one statement for me and the oldest rows no other statement
// leads, then hands the next to the oldest still waiting.
func (b *batcher[R]) flush(ctx context.Context, me *batched[R]) {
	b.mu.Lock()
	batch := []*batched[R]{me}
	rest := b.queue[:0]
	for _, q := range b.queue {
		switch {
		case q == me:
		case !q.led && len(batch) < maxBatch:
			batch = append(batch, q)
		default:
			rest = append(rest, q)
		}
	}
	clear(b.queue[len(rest):])
	b.queue = rest
	b.mu.Unlock()
	items := make([]store.OutboxItem, len(batch))
	for i, q := range batch {
		items[i] = q.it
	}
	rs, err := b.run(ctx, items)
	for _, q := range batch {
		q.res <- batchResult[R]{r: rs[q.it.ID], err: err}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range b.queue {
		if !q.led {
			q.led = true
			q.lead <- struct{}{}
			return
		}
	}
	b.running--
}

// completed is what marking a row done came to: held, its claim was still
// current; behind, a row of its case may wait behind it.
type completed struct{ held, behind bool }

// completeFunc marks a performed row done under its claim (completed).
type completeFunc func(context.Context, store.OutboxItem) (held, behind bool, err error)

// newCompleter marks rows done in batches (CompleteOutboxBatch). A row's
// slot is held until its mark is in, as before.
func newCompleter(s *store.Store, clock Clock) *batcher[completed] {
	return &batcher[completed]{run: func(ctx context.Context, items []store.OutboxItem) (map[int64]completed, error) {
		held, behind, err := s.CompleteOutboxBatch(ctx, items, clock.Now())
		rs := make(map[int64]completed, len(items))
		for _, it := range items {
			rs[it.ID] = completed{held: held[it.ID], behind: behind[it.ID]}
		}
		return rs, err
	}}
}

// complete marks it done with whichever rows finish alongside it.
func (w *Worker) complete(ctx context.Context, it store.OutboxItem) (held, behind bool, err error) {
	r, err := w.completer.do(ctx, it)
	return r.held, r.behind, err
}

// beatGather is how long a heartbeat waits for the others falling due
// with it (on the same grid, see hold): a statement takes microseconds on
// SQLite, over before the next timer has fired.
const beatGather = 2 * time.Millisecond

// beatFlushes is how many heartbeat statements a worker runs at once: a
// lane's worth of rows is several batches, and one waiting for a
// connection must not hold the others' beats past their lease.
const beatFlushes = 4

// newBeater renews claims in batches (ExtendOutboxBatch): the heartbeats
// of a backlog's rows, claimed together, cost a statement a batch rather
// than a row.
func newBeater(s *store.Store, lease time.Duration) *batcher[bool] {
	return &batcher[bool]{gather: beatGather, flushes: beatFlushes, run: func(ctx context.Context, items []store.OutboxItem) (map[int64]bool, error) {
		return s.ExtendOutboxBatch(ctx, items, lease)
	}}
}

// NewWorker returns a worker identified by id (unique per process).
func NewWorker(s *store.Store, clock Clock, id string, log *slog.Logger) *Worker {
	return &Worker{
		store:      s,
		clock:      clock,
		id:         id,
		performers: map[string]Perform{},
		lanes:      maps.Clone(defaultLanes),
		lease:      DefaultLease,
		poll:       2 * time.Second,
		log:        log,
		completer:  newCompleter(s, clock),
		beater:     newBeater(s, DefaultLease),
		notes:      map[string]time.Time{},
	}
}

// Handle registers the performer of a kind of row.
func (w *Worker) Handle(kind string, p Perform) { w.performers[kind] = p }

// Handles reports whether the worker performs rows of kind (a row is
// handed only to a worker that does).
func (w *Worker) Handles(kind string) bool {
	_, ok := w.performers[kind]
	return ok
}

// SetConcurrency sets how many rows of each lane run at once.
func (w *Worker) SetConcurrency(n int) {
	for lane := range w.lanes {
		w.lanes[lane] = max(1, n)
	}
}

// SetLane sets how many rows of a lane (store.LaneSMS, store.LaneSlack…)
// run at once; a lane without a pool of its own shares the rest pool.
func (w *Worker) SetLane(lane string, concurrency int) { w.lanes[lane] = max(1, concurrency) }

// Concurrency is how many rows of lane run at once.
func (w *Worker) Concurrency(lane string) int {
	if n, ok := w.lanes[lane]; ok {
		return n
	}
	return w.lanes[LaneRest]
}

// HoldLane has the worker claim no row of lane while pause holds: its
// performers would only put each row back to wait (a statement to claim
// it and one to put it back, for every row due, each time). The rows are
// claimed once it ends. Set before Run.
func (w *Worker) HoldLane(lane string, pause *Pause) {
	if w.held == nil {
		w.held = map[string]*Pause{}
	}
	w.held[lane] = pause
}

// heldFor is how long the pool's rows are held (HoldLane): 0 when they
// are not.
func (w *Worker) heldFor(p *pool, now time.Time) time.Duration {
	if len(p.lanes) != 1 {
		return 0
	}
	if pause, ok := w.held[p.lanes[0]]; ok {
		return max(0, pause.Until().Sub(now))
	}
	return 0
}

// SetLease sets how long a claim lasts without a heartbeat.
func (w *Worker) SetLease(d time.Duration) {
	w.lease = max(d, 30*time.Millisecond)
	w.beater = newBeater(w.store, w.lease)
}

var (
	outboxPerformed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringback_outbox_performed_total",
		Help: "Outbox rows performed, by kind and result (done, retry, snoozed, dead; lost: the claim was taken over before the row was marked).",
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

// pool runs the rows of some lanes, with its own slots, and remembers what
// the worker knows of those rows between looks at the database.
type pool struct {
	name          string
	lanes, except []string
	slots         chan struct{}

	due     bool      // rows may be due now: claim when a slot is free
	next    time.Time // the earliest row known to fall due later (bot clock); zero: none
	claimed time.Time // when the pool last claimed (wall clock)
	// claims counts the pool's claim statements as they begin and as they
	// end, for endWatch.
	claims atomic.Uint64
}

// endWatch tells whether a claim of a row's pool began or ended while the
// statement ending the row ran. Such a claim may have skipped the next row
// of the row's case, as not first in line (the row still ran as it
// looked), while the end, reading before that row was written, did not
// see it waiting: without a claim after the end, that row would wait for
// the next poll.
type endWatch struct {
	claims *atomic.Uint64 // nil: no pool runs the row (RunDue)
	from   uint64
}

// watchEnd starts an endWatch for a row of lane, just before the statement
// ending it.
func (w *Worker) watchEnd(lane string) endWatch {
	w.runMu.Lock()
	defer w.runMu.Unlock()
	for _, p := range w.live {
		if p.serves(lane) {
			return endWatch{claims: &p.claims, from: p.claims.Load()}
		}
	}
	return endWatch{}
}

// overlapped reports whether a claim began or ended since the watch began.
func (e endWatch) overlapped() bool { return e.claims != nil && e.claims.Load() != e.from }

// serves reports whether the pool runs lane's rows.
func (p *pool) serves(lane string) bool {
	if lane == store.AnyLane {
		return true
	}
	if p.lanes != nil {
		return slices.Contains(p.lanes, lane)
	}
	return !slices.Contains(p.except, lane)
}

// texts reports whether the pool runs only texts to callers: its claims
// wait for a connection as texts (store.Texts).
func (p *pool) texts() bool {
	return len(p.lanes) == 1 && p.lanes[0] == store.LaneSMS
}

// expect notes that the pool has rows due at (bot clock).
func (p *pool) expect(at, now time.Time) {
	switch {
	case !at.After(now):
		p.due = true
	case p.next.IsZero() || at.Before(p.next):
		p.next = at
	}
}

func (w *Worker) pools() []*pool {
	var named []string
	for lane := range w.lanes {
		if lane != LaneRest {
			named = append(named, lane)
		}
	}
	// The texts' pool first: a round claims for its pools one after the
	// other, and a chat lane's claim waiting behind the chat backlog's
	// statements held the texts' claim back with it.
	slices.Sort(named)
	if i := slices.Index(named, store.LaneSMS); i > 0 {
		named = slices.Insert(slices.Delete(named, i, i+1), 0, store.LaneSMS)
	}
	var ps []*pool
	for _, lane := range named {
		ps = append(ps, &pool{name: lane, lanes: []string{lane}, slots: make(chan struct{}, w.lanes[lane])})
	}
	rest := w.lanes[LaneRest]
	if rest == 0 {
		rest = defaultLanes[LaneRest]
	}
	return append(ps, &pool{name: "rest", except: named, slots: make(chan struct{}, rest)})
}

// claimGap is the least time between two claims of a busy pool: rows
// that fall due meanwhile are claimed together, in one statement, instead
// of one claim per row. An idle pool claims at once.
const claimGap = 10 * time.Millisecond

// Run performs rows as they fall due until ctx ends, then waits for the rows
// already started to finish (graceful drain). The worker asks the database
// about every lane at once only now and then (w.poll, a lease that lapses,
// the clock jumping); between those looks, commits tell it which lanes got
// work and when it falls due, so a freed slot or a new row costs no query
// but the claim itself.
func (w *Worker) Run(ctx context.Context) error {
	pools := w.pools()
	freed := make(chan struct{}, 1)
	signal := w.store.OutboxSignal()
	jumped := jumps(w.clock)
	timer := time.NewTimer(0)
	defer timer.Stop()
	defer w.wg.Wait()
	w.runMu.Lock()
	w.running, w.runCtx, w.live, w.freed = true, ctx, pools, freed
	w.runMu.Unlock()
	defer func() {
		// Before the wait: no row is handed over once the drain begins.
		w.runMu.Lock()
		w.running = false
		w.runMu.Unlock()
	}()
	look := true
	failures := 0
	for {
		wait, err := w.round(ctx, pools, freed, &look)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			// The database is away (a restart, a network blip): try again
			// soon, backing off to half a second (the rows due pile up
			// meanwhile: each second more is a second more for them),
			// and never give up.
			failures++
			look = true
			wait = min(w.poll, 500*time.Millisecond, 25*time.Millisecond<<min(failures, 10))
			w.log.Warn("outbox claim failed", "error", err, "retry_in_ms", wait.Milliseconds())
		default:
			failures = 0
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-signal:
		case <-freed:
		case <-jumped:
			look = true
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

// round claims and starts the due rows of every pool with free slots, and
// says how long to wait before looking again: until a known row falls due,
// a claim lapses or the next poll. A pool with due rows and no free slot
// waits for one (freed); rows due but held behind an earlier row of their
// case come when that row is settled.
func (w *Worker) round(ctx context.Context, pools []*pool, freed chan struct{}, look *bool) (time.Duration, error) {
	wakes := w.store.OutboxWakes()
	w.notesMu.Lock()
	for lane, at := range w.notes {
		if was, ok := wakes[lane]; !ok || at.Before(was) {
			wakes[lane] = at
		}
	}
	clear(w.notes)
	w.notesMu.Unlock()
	if _, any := wakes[store.AnyLane]; any || *look || !time.Now().Before(w.nextLook) {
		if err := w.lookAll(ctx, pools); err != nil {
			return 0, err
		}
		*look = false
	}
	now := w.clock.Now()
	for lane, at := range wakes {
		for _, p := range pools {
			if p.serves(lane) {
				p.expect(at, now)
			}
		}
	}
	wait := max(0, time.Until(w.nextLook))
	for _, p := range pools {
		if !p.next.IsZero() && !p.next.After(now) {
			p.due, p.next = true, time.Time{}
		}
		if !p.next.IsZero() {
			wait = min(wait, p.next.Sub(now))
		}
		free := cap(p.slots) - len(p.slots)
		if !p.due || free == 0 {
			continue
		}
		if held := w.heldFor(p, now); held > 0 {
			wait = min(wait, held)
			continue
		}
		if gap := claimGap - time.Since(p.claimed); gap > 0 && free < cap(p.slots) {
			wait = min(wait, gap)
			continue
		}
		n, err := w.dispatch(ctx, p, freed, free)
		if err != nil {
			return 0, err
		}
		p.claimed = time.Now()
		if n < free {
			p.due = false // the claim took every row due now
		}
	}
	return wait, nil
}

// lookAll asks the database what every lane holds: which pools have rows
// due, which have rows ahead, and when the first lease of a running row
// lapses (its worker may have died), so that row is taken at once then.
func (w *Worker) lookAll(ctx context.Context, pools []*pool) error {
	if slices.ContainsFunc(pools, (*pool).texts) {
		// What it finds decides whether texts are due: it waits for a
		// connection as the texts' claim does.
		ctx = store.Texts(ctx)
	}
	lanes, err := w.store.OutboxLanes(ctx)
	if err != nil {
		return err
	}
	now := w.clock.Now()
	w.nextLook = time.Now().Add(w.poll)
	for _, p := range pools {
		p.due, p.next = false, time.Time{}
		for lane, st := range lanes {
			if !p.serves(lane) {
				continue
			}
			if !st.NextRun.IsZero() {
				p.expect(st.NextRun, now)
			}
			if st.Leased {
				if st.LeaseEnds > 0 {
					if lapse := time.Now().Add(st.LeaseEnds + 10*time.Millisecond); lapse.Before(w.nextLook) {
						w.nextLook = lapse
					}
				} else {
					p.due = true
				}
			}
		}
	}
	return nil
}

// note tells the Run loop that lane has a row due at (bot clock): one this
// worker put back to wait, or one that waited behind a row it settled.
func (w *Worker) note(lane string, at time.Time) {
	w.notesMu.Lock()
	if was, ok := w.notes[lane]; !ok || at.Before(was) {
		w.notes[lane] = at
	}
	w.notesMu.Unlock()
}

// dispatch claims up to free due rows of the pool's lanes, one statement,
// and starts them.
func (w *Worker) dispatch(ctx context.Context, p *pool, freed chan struct{}, free int) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	p.claims.Add(1)
	if p.texts() {
		ctx = store.Texts(ctx)
	}
	items, err := w.store.ClaimOutbox(ctx, w.claim(store.OutboxClaim{Limit: free, Lanes: p.lanes, ExceptLanes: p.except}))
	p.claims.Add(1)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		p.slots <- struct{}{}
		w.wg.Add(1)
		go func() {
			defer func() {
				<-p.slots
				w.wg.Done()
				select {
				case freed <- struct{}{}:
				default:
				}
			}()
			// A shutdown lets rows already started finish.
			w.run(context.WithoutCancel(ctx), it)
		}()
	}
	return len(items), nil
}

// Handoff reserves a slot of lane's pool for a row about to be written
// (store.NewOutbox.Handoff), so the row runs as soon as its transaction
// commits, with no claim statement and no wait for the Run loop; prepare,
// when set, completes the item before it runs. nil when no slot is free or
// the worker is not running: the row is then written to be claimed.
func (w *Worker) Handoff(lane string, prepare func(*store.OutboxItem)) *store.OutboxHandoff {
	return w.handoff(lane, prepare, false)
}

// HandoffSpare is Handoff for a row that may wait its turn (a card's
// refresh): only while a quarter of the pool's slots are free. A pool
// near its limit has rows waiting to be claimed, oldest first; a row
// handed the slot one of them frees would overtake them (a case's first
// card behind the refreshes of others).
func (w *Worker) HandoffSpare(lane string) *store.OutboxHandoff {
	return w.handoff(lane, nil, true)
}

// handoff reserves the slot: with spare, only while a quarter of the
// pool's slots are free; else while one is.
func (w *Worker) handoff(lane string, prepare func(*store.OutboxItem), spare bool) *store.OutboxHandoff {
	w.runMu.Lock()
	defer w.runMu.Unlock()
	if !w.running || w.runCtx.Err() != nil {
		return nil
	}
	i := slices.IndexFunc(w.live, func(p *pool) bool { return p.serves(lane) })
	if i < 0 {
		return nil
	}
	p := w.live[i]
	if spare && cap(p.slots)-len(p.slots) < max(1, cap(p.slots)/4) {
		return nil
	}
	select {
	case p.slots <- struct{}{}:
	default:
		return nil
	}
	// Counted now, so that a drain waits for the row whose transaction is
	// under way.
	w.wg.Add(1)
	ctx, freed := w.runCtx, w.freed
	release := func() {
		<-p.slots
		w.wg.Done()
		select {
		case freed <- struct{}{}:
		default:
		}
	}
	return &store.OutboxHandoff{Worker: w.id, Lease: w.lease, Cancel: release,
		Start: func(it store.OutboxItem) {
			if prepare != nil {
				prepare(&it)
			}
			go func() {
				defer release()
				// A shutdown lets rows already started finish.
				w.run(context.WithoutCancel(ctx), it)
			}()
		}}
}

// claim is c made by this worker now.
func (w *Worker) claim(c store.OutboxClaim) store.OutboxClaim {
	c.Worker, c.Now, c.Lease = w.id, w.clock.Now(), w.lease
	lane := store.OutboxLane(w.startSends)
	if w.startSends != "" && (len(c.Lanes) == 0 || slices.Contains(c.Lanes, lane)) && !slices.Contains(c.ExceptLanes, lane) {
		// The wall clock, not the bot's: FindSMS compares it with the
		// provider's timestamps.
		c.StartSends, c.SendStartAt = w.startSends, time.Now().UTC().Truncate(time.Microsecond)
	}
	return c
}

// RunDue performs every row due now, one pass, and returns how many it
// performed. Tests and tools use it instead of Run. The rows of one claim
// that succeed are marked done together, in one statement.
func (w *Worker) RunDue(ctx context.Context) (int, error) {
	total := 0
	for {
		items, err := w.store.ClaimOutbox(ctx, w.claim(store.OutboxClaim{Limit: 100}))
		if err != nil {
			return total, err
		}
		if len(items) == 0 {
			return total, nil
		}
		var done []store.OutboxItem
		for _, it := range items {
			if unmarked, _ := w.perform(ctx, it, nil); unmarked {
				done = append(done, it)
			}
		}
		if len(done) > 0 {
			held, behind := map[int64]bool{}, map[int64]bool{}
			w.mark(ctx, w.log, "done", func(c context.Context) (bool, error) {
				var err error
				held, behind, err = w.store.CompleteOutboxBatch(c, done, w.clock.Now())
				return true, err
			})
			for _, it := range done {
				w.completed(it, held[it.ID], behind[it.ID])
			}
		}
		total += len(items)
	}
}

var (
	errClaimLost   = errors.New("bot: the outbox row was claimed by another worker")
	errClaimLapsed = errors.New("bot: the outbox row's claim lapsed (no heartbeat reached the database)")
)

// hold keeps a claim alive with heartbeats while its row runs. Its ctx ends
// when the claim is lost or is about to lapse, so that the side effect
// stops before another worker may start it again.
type hold struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	mu     sync.Mutex
	until  time.Time   // local (monotonic) estimate of the lease's end
	beat   *time.Timer // the next heartbeat; nil once stopped or lost
}

// hold beats every third of the lease, from a timer rather than a
// goroutine of its own: most rows end long before their first beat, and a
// goroutine started and stopped per row woke an idle CPU twice.
func (w *Worker) hold(ctx context.Context, it store.OutboxItem, claimedAt time.Time) *hold {
	h := &hold{until: claimedAt.Add(w.lease)}
	h.ctx, h.cancel = context.WithCancelCause(ctx)
	every := w.lease / 3
	var beat func(due time.Time)
	beat = func(due time.Time) {
		sent := time.Now()
		// Before the rows waiting to start (store.Foreground): a beat
		// that misses its lease stops a side effect half done, to run it
		// again elsewhere.
		hctx, cancel := context.WithTimeout(store.Foreground(ctx), every)
		held, err := w.beater.do(hctx, it)
		cancel()
		if err != nil {
			w.log.Warn("outbox heartbeat failed", "outbox_id", it.ID, "kind", it.Kind, "error", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		switch {
		case err == nil && held:
			h.until = sent.Add(w.lease)
		case err == nil:
			h.cancel(errClaimLost)
			h.beat = nil
		default:
			if time.Until(h.until) < every {
				h.cancel(errClaimLapsed)
			}
		}
		if h.beat == nil {
			return
		}
		// As a ticker: the next beat a period after this one was due.
		next := due.Add(every)
		h.beat = time.AfterFunc(time.Until(next), func() { beat(next) })
	}
	// On a grid of an eighth of the period (a little early, never late):
	// the rows started within one eighth beat at the same moments, so
	// their beats go in one statement (w.beater).
	first := time.Now().Add(every).Truncate(max(every/8, time.Millisecond))
	h.mu.Lock()
	h.beat = time.AfterFunc(time.Until(first), func() { beat(first) })
	h.mu.Unlock()
	return h
}

func (h *hold) stop() {
	h.mu.Lock()
	if h.beat != nil {
		h.beat.Stop()
		h.beat = nil
	}
	h.mu.Unlock()
	h.cancel(nil)
}

// run performs it in the slot the caller holds, then, in the same slot,
// each row that the statement ending the one before claimed for this
// worker (store.OutboxPass): a case's thread entry waiting for its card.
func (w *Worker) run(ctx context.Context, it store.OutboxItem) {
	for next := &it; next != nil; {
		_, next = w.perform(ctx, *next, w.complete)
	}
}

// passing is what a performer may ask the statement ending its row to
// claim the case's next row with, for this worker (claimed.pass); nil
// once the worker drains, which starts no row.
func (w *Worker) passing() *store.OutboxPass {
	w.runMu.Lock()
	defer w.runMu.Unlock()
	if !w.running || w.runCtx.Err() != nil {
		return nil
	}
	return &store.OutboxPass{Worker: w.id, Lease: w.lease}
}

// perform runs one row and settles it. complete marks a row done; nil
// leaves that to the caller, told so by the result (true: done, unmarked).
// next is a row the row's end claimed for this worker, to run next in the
// same slot (only with complete: run).
func (w *Worker) perform(ctx context.Context, it store.OutboxItem, complete completeFunc) (unmarked bool, next *store.OutboxItem) {
	if it.Lane == store.LaneSMS {
		// A caller waits on it: its statements go before the chat
		// backlog's (store.Texts).
		ctx = store.Texts(ctx)
	}
	h := w.hold(ctx, it, time.Now())
	defer h.stop()
	start := w.clock.Now()
	if w.OnStart != nil {
		w.OnStart(it, time.Now())
	}
	outboxDelay.WithLabelValues(it.Kind).Observe(max(0, start.Sub(it.RunAt).Seconds()))
	p, ok := w.performers[it.Kind]
	var err error
	if !ok {
		err = Permanent(fmt.Errorf("bot: no performer for outbox kind %q", it.Kind))
	} else {
		pctx, cancel := context.WithTimeout(h.ctx, performTimeout)
		c := &claimed{it: it, now: w.clock.Now, waiting: true}
		if store.OutboxOrdered(it.Kind) {
			c.watch = func() endWatch { return w.watchEnd(it.Lane) }
		}
		if complete != nil {
			c.pass = w.passing()
		}
		err = p(context.WithValue(pctx, claimedKey{}, c), it)
		cancel()
		if err == nil && c.done {
			// Marked done in the performer's own transaction, which committed.
			if (c.next != nil || !c.waiting) && !c.end.overlapped() {
				// The case's next row is this worker's already (its end
				// lets the rows behind it run), or none waits: no claim
				// need look for one.
				outboxPerformed.WithLabelValues(it.Kind, "done").Inc()
				return false, c.next
			}
			w.completed(it, true, true)
			return false, c.next
		}
		if cause := context.Cause(h.ctx); cause != nil && err != nil {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
	}
	return w.settle(ctx, it, err, complete), nil
}

// claimed is the row a performer runs, in its ctx, so the transaction
// that records the side effect can mark the row done as well, and, given
// pass, claim the case's next row for the worker (next).
type claimed struct {
	it   store.OutboxItem
	now  func() time.Time
	done bool
	pass *store.OutboxPass
	next *store.OutboxItem
	// waiting is false when the row's end found no row of its case
	// waiting for it (store.Passed.Waiting).
	waiting bool
	// watch starts end, for a row of an ordered kind (nil otherwise).
	watch func() endWatch
	end   endWatch
}

// endsAt is the time the statement ending the row records, asked for just
// before that statement runs: the end is watched from then on (endWatch).
func (c *claimed) endsAt() time.Time {
	if c.watch != nil {
		c.end = c.watch()
	}
	return c.now()
}

// passOn is the pass asking for the case's next row of kind, with the
// kinds whose rows wait behind this one; nil when the worker gave none.
func (c *claimed) passOn(kind string, behind ...string) *store.OutboxPass {
	if c.pass == nil {
		return nil
	}
	return &store.OutboxPass{Worker: c.pass.Worker, Lease: c.pass.Lease, Kind: kind, Behind: behind}
}

// passed notes what the statement ending the row did (store.Passed).
func (c *claimed) passed(pd store.Passed) {
	c.done, c.next, c.waiting = pd.Done, pd.Next, pd.Waiting
}

type claimedKey struct{}

// completeInTx marks the outbox row that ctx's performer runs done inside
// tx, the transaction recording its side effect: the row needs no
// statement and no commit of its own afterwards. Call it last in the
// transaction; the mark counts only if the performer then returns nil (so
// the transaction committed). A claim taken over meanwhile leaves the row
// alone and the worker reports it lost. Outside a worker it does nothing.
func completeInTx(ctx context.Context, tx *store.Tx) error {
	c, ok := ctx.Value(claimedKey{}).(*claimed)
	if !ok {
		return nil
	}
	return tx.CompleteOutboxLater(ctx, c.it, c.endsAt(), func(held bool) { c.done = held })
}

// settle records what came of a row's attempt, under its claim (a row
// done with no complete is the caller's to mark: settle says so).
func (w *Worker) settle(ctx context.Context, it store.OutboxItem, err error, complete completeFunc) bool {
	now := w.clock.Now()
	log := w.log.With("outbox_id", it.ID, "kind", it.Kind, "attempt", it.Attempts)
	result := func(r string, held bool) {
		if !held {
			r = "lost"
		}
		outboxPerformed.WithLabelValues(it.Kind, r).Inc()
	}
	var ra *RetryAfterError
	switch {
	case err == nil && complete == nil:
		return true
	case err == nil:
		behind := true
		var end endWatch
		if store.OutboxOrdered(it.Kind) {
			end = w.watchEnd(it.Lane)
		}
		held := w.mark(ctx, log, "done", func(c context.Context) (bool, error) {
			held, b, err := complete(c, it)
			behind = b
			return held, err
		})
		w.completed(it, held, behind || end.overlapped())
	case errors.Is(err, errClaimLost):
		result("lost", false)
		log.Warn("outbox row taken over by another worker", "error", err)
	case IsPermanent(err) || (it.Attempts >= it.MaxAttempts && !errors.As(err, &ra)):
		log.Error("outbox row dead", "error", err)
		held := w.mark(ctx, log, "dead", func(c context.Context) (bool, error) { return w.store.KillOutbox(c, it, now, err.Error()) })
		result("dead", held)
		if held && w.OnDead != nil {
			w.OnDead(ctx, it, err)
		}
	case errors.As(err, &ra):
		// Waiting is not failing: a remote's Retry-After, a rate-limit pause
		// or a row this one must follow costs no attempt.
		log.Info("outbox row snoozed", "error", err, "retry_in_ms", ra.After.Milliseconds())
		result("snoozed", w.mark(ctx, log, "snoozed", func(c context.Context) (bool, error) {
			return w.store.SnoozeOutbox(c, it, now.Add(ra.After), now, err.Error())
		}))
		w.note(it.Lane, now.Add(ra.After))
	default:
		d := retryIn(it, now)
		log.Warn("outbox attempt failed", "error", err, "retry_in_ms", d.Milliseconds())
		result("retry", w.mark(ctx, log, "retry", func(c context.Context) (bool, error) {
			return w.store.RetryOutbox(c, it, now.Add(d), now, err.Error())
		}))
		w.note(it.Lane, now.Add(d))
	}
	if err != nil && store.OutboxOrdered(it.Kind) {
		w.note(it.Lane, now) // the case's next row may run now
	}
	return false
}

// completed counts a row done (or lost, when its claim was taken over
// before it was marked), and lets the case's next row run.
//
// behind: a row of its case may wait behind it, for a claim to take now.
func (w *Worker) completed(it store.OutboxItem, held, behind bool) {
	r := "done"
	if !held {
		r = "lost"
	}
	outboxPerformed.WithLabelValues(it.Kind, r).Inc()
	if store.OutboxOrdered(it.Kind) && (behind || !held) {
		w.note(it.Lane, w.clock.Now())
	}
}

// mark runs op, which settles the row under its claim, again with a short
// backoff while the database fails, for as long as a lease: a row that was
// performed but never marked would run a second time. It reports whether
// the claim was still the worker's.
func (w *Worker) mark(ctx context.Context, log *slog.Logger, what string, op func(context.Context) (bool, error)) bool {
	give := time.Now().Add(w.lease)
	delay := 20 * time.Millisecond
	// Before the rows waiting to start (store.Foreground): a mark that
	// times out runs a side effect already done again.
	fctx := store.Foreground(ctx)
	for {
		c, cancel := context.WithTimeout(fctx, max(w.lease/3, time.Second))
		held, err := op(c)
		cancel()
		if err == nil {
			if !held {
				log.Warn("outbox row's claim was taken over before it was marked", "mark", what)
			}
			return held
		}
		if time.Now().Add(delay).After(give) || ctx.Err() != nil {
			log.Error("outbox row not marked; it runs again once its claim lapses", "mark", what, "error", err)
			return false
		}
		log.Warn("marking outbox row failed; trying again", "mark", what, "error", err, "retry_in_ms", delay.Milliseconds())
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// OutboxRows reports the outbox's rows by state, so a dead row (a side
// effect that gave up) shows on a dashboard, not only in a log. A scrape
// reads what the last Refresh counted and sends no statement: on
// SQLite's one connection a scrape's queries stalled every webhook behind
// them, and a scrape's time stays that of rendering a few gauges whatever
// the store holds or does.
type OutboxRows struct {
	store        *store.Store
	clock        Clock
	desc, oldest *prometheus.Desc

	mu     sync.Mutex
	counts map[string]int       // by state; nil until the first Refresh
	due    map[string]time.Time // by kind, when its oldest due row became due
}

// OutboxRowsEvery is how often each replica recounts the outbox for
// /metrics: two statements on partial indexes, whatever the history.
const OutboxRowsEvery = 5 * time.Second

// OutboxRowsCollector is a Prometheus collector of the outbox's rows still
// to settle and dead, by state. Done rows are history, pruned on a
// schedule and counted by ringback_outbox_performed_total: counting them
// would read the whole table.
// Beside them it reports, by kind, how long the oldest row due has waited
// for a worker (a kind with nothing due is left out, but texts: 0), aged
// to the scrape's time. It reports nothing until its first Refresh.
func OutboxRowsCollector(s *store.Store, clock Clock) *OutboxRows {
	return &OutboxRows{store: s, clock: clock,
		desc:   prometheus.NewDesc("ringback_outbox_rows", "Outbox rows by state (pending, running, dead).", []string{"state"}, nil),
		oldest: prometheus.NewDesc("ringback_outbox_oldest_due_seconds", "How long the oldest outbox row due has waited for a worker, by kind.", []string{"kind"}, nil)}
}

// Refresh counts the outbox's rows for the next scrapes; on an error the
// scrapes keep the last counts.
func (c *OutboxRows) Refresh(ctx context.Context) error {
	counts, err := c.store.OutboxBacklog(ctx)
	if err != nil {
		return err
	}
	due, err := c.store.OldestDueOutbox(ctx, c.clock.Now())
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.counts, c.due = counts, due
	c.mu.Unlock()
	return nil
}

func (c *OutboxRows) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.oldest }

func (c *OutboxRows) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	counts, due := c.counts, c.due
	c.mu.Unlock()
	if counts == nil {
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
	now := c.clock.Now()
	if _, ok := due[KindSMS]; !ok {
		// Texts always have a figure, 0 when none waits, to alert on.
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, 0, KindSMS)
	}
	for kind, at := range due {
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, max(0, now.Sub(at).Seconds()), kind)
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

// Until is when the pause ends (bot clock); past or zero when it holds
// nothing.
func (p *Pause) Until() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.until
}

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
