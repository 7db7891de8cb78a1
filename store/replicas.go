package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// notifyChannel is the channel replicas of one store wake each other on;
// a schema other than public gets a channel of its own (channelOf), so
// stores sharing a database do not wake each other.
const notifyChannel = "ringback_outbox"

// notifyGap is the least time between two NOTIFYs of one store: work
// enqueued meanwhile goes out in one notice. This replica's own workers
// are woken at once; only the others wait up to this long.
const notifyGap = 20 * time.Millisecond

// Presence words: a notice saying only one of them wakes nobody. A
// replica says hello when it starts listening (or listens again after a
// lost connection), and everyone who hears it answers here; each then
// says here every presenceEvery.
const (
	sayHello = "+hello"
	sayHere  = "+here"
)

// Default presence timing: a replica counts as listening for presenceTTL
// after it last spoke, three of its here's.
const (
	presenceEvery = 10 * time.Second
	presenceTTL   = 3*presenceEvery + presenceEvery/2
)

// presence knows whether another replica listens for this store's
// notices. A NOTIFY wakes only listeners, and costs a statement and a lock
// on PostgreSQL's notify queue at its commit, so a replica that hears
// nobody else sends none. Notices are only a shortcut: a replica that
// misses one finds the work at its next poll.
type presence struct {
	every, ttl atomic.Int64 // time.Duration
	// listening: this store listens, so it hears the others; a store that
	// does not (a command run once) cannot know and always notifies.
	listening atomic.Bool
	heard     atomic.Int64 // UnixNano of the last notice of another replica
	// closed: the store is closing, so a notice still under way fails
	// for that, not for anything to warn about.
	closed atomic.Bool

	channelOnce sync.Once
	channel     string
}

func newPresence() *presence {
	p := &presence{}
	p.every.Store(int64(presenceEvery))
	p.ttl.Store(int64(presenceTTL))
	return p
}

// othersListen reports whether a NOTIFY sent now may wake anyone.
func (p *presence) othersListen(now time.Time) bool {
	if !p.listening.Load() {
		return true
	}
	h := p.heard.Load()
	return h != 0 && now.Sub(time.Unix(0, h)) < time.Duration(p.ttl.Load())
}

// channelOf names the notify channel of a store whose tables live in
// schema. Channel names are identifiers (at most 63 bytes): a long schema
// name is hashed.
func channelOf(schema string) string {
	if schema == "" || schema == "public" {
		return notifyChannel
	}
	c := notifyChannel + ":" + schema
	if len(c) > 63 {
		sum := sha256.Sum256([]byte(schema))
		c = notifyChannel + ":" + hex.EncodeToString(sum[:12])
	}
	return c
}

// channel is this store's notify channel, read once from the connection's
// current schema (a failed read keeps the default: replicas in another
// schema then share it, which only wakes them for nothing).
func (s *Store) channel(ctx context.Context) string {
	s.presence.channelOnce.Do(func() {
		var schema string
		if err := s.db.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
			slog.Warn("outbox notify channel: schema not read; using the default", "error", err)
		}
		s.presence.channel = channelOf(schema)
	})
	return s.presence.channel
}

// wake tells this process's workers, and (PostgreSQL) the other replicas',
// that lanes got work due at the times given.
func (s *Store) wake(lanes map[string]time.Time) {
	s.signals.local(lanes)
	s.notifyReplicas(lanes)
}

// notifyReplicas has the notifier NOTIFY other replicas of lanes, outside
// any transaction; what comes while one is in flight or within notifyGap
// of the last goes out in the next one. Nothing goes when no other
// replica listens.
func (s *Store) notifyReplicas(lanes map[string]time.Time) {
	if s.d.name != "postgres" || !s.presence.othersListen(time.Now()) {
		return
	}
	s.notifyOnce.Do(func() {
		s.notifyCh = make(chan struct{}, 1)
		s.notifyWakes = map[string]time.Time{}
		done := make(chan struct{})
		s.signals.onClose(func() { close(done) })
		go func() {
			for {
				select {
				case <-done:
					return
				case <-s.notifyCh:
				}
				s.notifyMu.Lock()
				payload := notice(s.instance, s.notifyWakes)
				s.notifyWakes = map[string]time.Time{}
				s.notifyMu.Unlock()
				s.notified()
				s.sendNotice(payload, "outbox notify failed; other replicas will poll")
				select {
				case <-done:
					return
				case <-time.After(notifyGap):
				}
			}
		}()
	})
	s.notifyMu.Lock()
	addWakes(s.notifyWakes, lanes)
	s.notifyMu.Unlock()
	select {
	case s.notifyCh <- struct{}{}:
	default:
	}
}

// say tells the other replicas that this one listens (word: sayHello or
// sayHere). It runs in the background: the listener must not wait on it.
func (s *Store) say(word string) {
	go s.sendNotice(s.instance+" "+word, "outbox presence notice failed; other replicas may not wake this one")
}

// sendNotice NOTIFYs the store's channel of payload, outside any
// transaction, and logs failed (with the error) when that fails for
// another reason than the store closing.
func (s *Store) sendNotice(payload, failed string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, s.channel(ctx), payload); err != nil && !s.presence.closed.Load() {
		slog.Warn(failed, "error", err)
	}
}

// notice is a NOTIFY's payload: the sender, then each lane with when its
// work falls due (Unix milliseconds).
func notice(instance string, lanes map[string]time.Time) string {
	var b strings.Builder
	b.WriteString(instance)
	for lane, at := range lanes {
		fmt.Fprintf(&b, " %s=%d", lane, at.UnixMilli())
	}
	return b.String()
}

// parseNotice reads a notice: its sender, the lanes it names and the
// presence word it says, if any; a part it cannot read counts as work on
// any lane, due now.
func parseNotice(payload string) (instance string, lanes map[string]time.Time, word string) {
	fields := strings.Fields(payload)
	if len(fields) == 0 {
		return "", map[string]time.Time{AnyLane: time.Now()}, ""
	}
	lanes = map[string]time.Time{}
	for _, f := range fields[1:] {
		if f == sayHello || f == sayHere {
			word = f
			continue
		}
		lane, ms, ok := strings.Cut(f, "=")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil {
			lanes[AnyLane] = time.Now()
			continue
		}
		addWakes(lanes, map[string]time.Time{lane: time.UnixMilli(n).UTC()})
	}
	if len(fields) == 1 {
		lanes[AnyLane] = time.Now() // an older replica's notice names no lane
	}
	return fields[0], lanes, word
}

// OutboxSignal delivers a value soon after any commit that enqueued work:
// from this process at once, and on PostgreSQL from other replicas through
// LISTEN/NOTIFY. Workers still poll slowly in case a signal is missed.
// OutboxWakes says which lanes got work meanwhile.
func (s *Store) OutboxSignal() <-chan struct{} {
	s.signals.mu.Lock()
	defer s.signals.mu.Unlock()
	if s.d.name == "postgres" && s.signals.listening == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		channel := s.channel(ctx)
		cancel()
		l := pq.NewListener(s.dsn, 10*time.Millisecond, time.Minute, nil)
		if err := l.Listen(channel); err != nil {
			slog.Warn("outbox listen failed; workers fall back to polling", "error", err)
		} else {
			done := make(chan struct{})
			s.signals.listening = l
			s.presence.listening.Store(true)
			s.say(sayHello)
			go s.listen(l, done)
			s.signals.stop = append(s.signals.stop, func() { close(done); l.Close() })
		}
	}
	return s.signals.ch
}

// listen wakes this replica's workers on the other replicas' notices,
// keeps track of who listens, and says here every presence interval.
func (s *Store) listen(l *pq.Listener, done <-chan struct{}) {
	here := time.NewTicker(time.Duration(s.presence.every.Load()))
	defer here.Stop()
	for {
		select {
		case <-done:
			return
		case <-here.C:
			s.say(sayHere)
		case n, ok := <-l.Notify:
			if !ok {
				return
			}
			if n == nil {
				// The connection was re-established: something may have
				// been missed (a hello among it), so look at every lane and
				// say hello again.
				s.signals.local(map[string]time.Time{AnyLane: time.Now()})
				s.say(sayHello)
				continue
			}
			from, lanes, word := parseNotice(n.Extra)
			if from == s.instance {
				continue // our own: the commit already woke us
			}
			s.presence.heard.Store(time.Now().UnixNano())
			if word == sayHello {
				s.say(sayHere)
			}
			if len(lanes) > 0 {
				s.signals.local(lanes)
			}
		}
	}
}

// OutboxWakes returns the lanes that got work since it was last called,
// each with when its earliest new row falls due on the bot's clock; the
// lane AnyLane means any lane may have.
func (s *Store) OutboxWakes() map[string]time.Time { return s.signals.take() }
