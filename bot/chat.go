package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"ringback/store"
)

// clockSkew widens the search for an earlier attempt's post: the
// platform's clock and ours need not agree.
const clockSkew = 5 * time.Minute

// postInFlight is how long a chat call may still land after it began:
// longer than the chat clients' timeout (20 s), with room for a slow answer.
const postInFlight = 30 * time.Second

// cardWait is how soon a row comes back when another worker holds the
// card's reservation, at the soonest; cardWaitMax at the latest.
const (
	cardWait    = 500 * time.Millisecond
	cardWaitMax = 10 * time.Second
)

// digestJob is the outbox payload of a digest: the scheduler's DigestJob,
// and the part left to do. The thread (every table, the CSV) is a row of
// its own, queued with the record of the post it answers (Top), so a
// failed upload is retried without posting the digest a second time.
type digestJob struct {
	DigestJob
	Thread bool        `json:"thread,omitempty"`
	Top    *MessageRef `json:"top,omitempty"`
	// Chart marks a row queued by a version that shared the chart after
	// the post; the post now shows it, so such a row has nothing to do.
	Chart bool `json:"chart,omitempty"`
}

// chatPerformer performs one platform's outbox rows.
type chatPerformer struct {
	b     *Bot
	chat  Chat
	name  string
	pause *Pause
}

// RegisterChat adds the performers of chat's outbox rows to w. The kinds
// are KindCard, KindThread, KindEntryAgain, KindDM, KindPost and
// KindDigest + "." + platform. A 429 pauses this platform only.
func (b *Bot) RegisterChat(w *Worker, chat Chat) {
	p := &chatPerformer{b: b, chat: chat, name: chat.Platform(), pause: NewPause(b.clock, chat.Platform())}
	b.metrics.ChatPlatform(p.name)
	w.HoldLane(store.OutboxLane(KindCard+"."+p.name), p.pause)
	w.Handle(KindCard+"."+p.name, p.held(p.card))
	w.Handle(KindThread+"."+p.name, p.held(p.entry))
	w.Handle(KindEntryAgain+"."+p.name, p.held(p.entryAgain))
	w.Handle(KindDM+"."+p.name, p.held(p.dm))
	w.Handle(KindPost+"."+p.name, p.held(p.post))
	w.Handle(KindDigest+"."+p.name, p.held(p.digest))
}

// held holds the platform's rows while its rate limit lasts.
func (p *chatPerformer) held(fn Perform) Perform {
	return func(ctx context.Context, it store.OutboxItem) error {
		if err := p.pause.Held(); err != nil {
			return err
		}
		return fn(ctx, it)
	}
}

// remote notes a platform's answer: a rate limit pauses the platform.
func (p *chatPerformer) remote(err error) error {
	if err != nil {
		var ra *RetryAfterError
		p.b.metrics.ChatError(p.name, errors.As(err, &ra))
	}
	return p.pause.Note(err)
}

// failed logs a channel people must fix and, for a case's card or thread,
// records it on the case once.
func (p *chatPerformer) failed(ctx context.Context, caseID int64, err error) error {
	var ce *ChannelError
	if errors.As(err, &ce) {
		p.b.log.Error("bot: the bot cannot post in a channel", "platform", p.name, "channel", ce.Channel, "fix", ce.Fix, "case_id", caseID, "error", err)
		if caseID != 0 {
			p.b.ChatFailed(ctx, caseID, p.name, ce.Channel, ce.Fix, err)
		}
	}
	return err
}

// card posts the case's card, or refreshes it in place. A card not posted
// yet is reserved by the statement that reads its slot.
func (p *chatPerformer) card(ctx context.Context, it store.OutboxItem) error {
	var job CardJob
	if err := it.Decode(&job); err != nil {
		return Permanent(err)
	}
	if it.Lapsed() {
		// The worker before this run died mid-run: an update it had sent
		// may land after this run's, and nothing else follows it.
		p.renderAfterInFlight(ctx, job.CaseID)
	}
	key := fmt.Sprintf("card:%d", job.CaseID)
	// A refresh reads the case it renders with the card's slot, in one
	// statement; a first post renders the case after its reservation.
	refresh := job.Why != cardOpened
	slot, newer, reserved, begun, err := p.b.store.CardSlotReserving(ctx, job.CaseID, p.name, it.Kind, it.ID, key, p.b.clock.Now(), refresh)
	if err != nil {
		return err
	}
	if slot.Behind {
		// Handed over as it was written, it skipped the line its claim
		// would have kept: it goes back to wait behind the earlier row,
		// so that a case's card edits still land one at a time, in order.
		return RetryAfter(0, fmt.Errorf("bot: the %s card of case %d has an earlier row to render first", p.name, job.CaseID))
	}
	if existing := slot.Card; existing.MessageID != "" && it.ID <= existing.OutboxSeen {
		return nil // the card was first rendered after this change: it shows it
	}
	if newer {
		return nil // a later refresh will render the latest state
	}
	if reserved {
		channel, err := p.cardChannel(job.CaseID, slot)
		if err != nil || channel == "" {
			return p.unreserve(ctx, job.CaseID, err)
		}
		_, err = p.postReserved(ctx, job.CaseID, channel, key, begun, true)
		return err
	}
	if slot.Card.MessageID == "" {
		return p.postingElsewhere(job.CaseID, slot.Card.CreatedAt)
	}
	_, _, err = p.syncSlot(ctx, job.CaseID, slot, true)
	return err
}

// renderAfterInFlight queues a render of case caseID's card for when an
// update that got no answer can no longer land: the platform may perform
// it after the newer renders that follow (a request it took before the
// client gave up), and the card would keep what it showed then.
func (p *chatPerformer) renderAfterInFlight(ctx context.Context, caseID int64) {
	p.afterInFlight(ctx, KindCard, caseID, fmt.Sprintf("card:%s:%d:after", p.name, caseID),
		CardJob{CaseID: caseID, Why: "after_unanswered_update"},
		"bot: no render queued after an unanswered card update; the card may show an older state until the case changes")
}

// afterInFlight queues a row of kind (+ "." + platform) for case caseID,
// its dedupe key key plus a nonce, to run once a request that got no
// answer can no longer land (postInFlight); lost says what not queueing it
// costs, logged with attrs.
func (p *chatPerformer) afterInFlight(ctx context.Context, kind string, caseID int64, key string, payload any, lost string, attrs ...any) {
	now := p.b.clock.Now()
	_, _, err := p.b.store.Enqueue(ctx, store.NewOutbox{
		Kind:      kind + "." + p.name,
		DedupeKey: key + ":" + newNonce(),
		Payload:   payload,
		CaseID:    caseID,
		RunAt:     now.Add(postInFlight),
	}, now)
	if err != nil {
		p.b.log.Warn(lost, append([]any{"platform", p.name, "case_id", caseID, "error", err}, attrs...)...)
	}
}

// postingElsewhere is the answer to a card reserved by another worker at
// reserved (zero: not known). A post takes a moment, so a fresh
// reservation is asked about again soon; one held long is a post that
// hangs or a worker that died (its reservation lapses after a minute), and
// is asked about again after half its age, up to cardWaitMax: every ask is
// a claim and a statement putting the row back, and after a crash of a
// replica that held many, they crowded out the texts.
func (p *chatPerformer) postingElsewhere(caseID int64, reserved time.Time) error {
	wait := cardWait
	if !reserved.IsZero() {
		wait = min(max(cardWait, p.b.clock.Now().Sub(reserved)/2), cardWaitMax)
	}
	return RetryAfter(wait, fmt.Errorf("bot: the %s card of case %d is being posted by another worker", p.name, caseID))
}

// syncSlot makes sure case caseID's card exists, from its slot as
// CardSlot read it, posting it if need be, and when update is set
// refreshes it; it returns where the card is, and false when this platform
// shows no card for the case's line. A reservation row makes sure only one
// worker at a time posts a case's first card. With update it runs for the
// card's own row, and a post is that row's last step.
func (p *chatPerformer) syncSlot(ctx context.Context, caseID int64, slot store.CardSlot, update bool) (MessageRef, bool, error) {
	if existing := slot.Card; existing.MessageID != "" {
		at := MessageRef{Channel: existing.Channel, ID: existing.MessageID}
		if !update {
			return at, true, nil
		}
		card, err := p.b.cardOf(ctx, caseID, slot.Case)
		if err != nil {
			return MessageRef{}, false, err
		}
		uerr := p.remote(p.chat.UpdateCard(ctx, at, card))
		if uerr != nil && !answered(uerr) {
			p.renderAfterInFlight(ctx, caseID)
		}
		if !errors.Is(uerr, ErrMessageGone) {
			return at, true, p.failed(ctx, caseID, uerr)
		}
		// Someone deleted the card: post it again, so the case keeps a
		// card; the row then points at the new message. The old message
		// names the new post, so a re-run finds it rather than post a third.
		p.b.log.Info("bot: the card was deleted; posting it again", "platform", p.name, "case_id", caseID, "channel", at.Channel)
		ref, err := p.postCard(ctx, caseID, at.Channel, card, fmt.Sprintf("card:%d:%s", caseID, at.ID), false, update)
		if err != nil {
			return MessageRef{}, true, p.failed(ctx, caseID, err)
		}
		return ref, true, nil
	}
	key := fmt.Sprintf("card:%d", caseID)
	channel, err := p.cardChannel(caseID, slot)
	if err != nil || channel == "" {
		return MessageRef{}, false, err
	}
	// The post's first attempt is recorded with the reservation.
	reserved, begun, err := p.b.store.ReserveCardPost(ctx, caseID, p.name, channel, key, p.b.clock.Now())
	if err != nil {
		return MessageRef{}, false, err
	}
	if !reserved {
		// Another worker is posting the first card; come back after it.
		return MessageRef{}, false, p.postingElsewhere(caseID, slot.Card.CreatedAt)
	}
	ref, err := p.postReserved(ctx, caseID, channel, key, begun, update)
	return ref, err == nil, err
}

// cardChannel is where case caseID's card goes on this platform, from its
// slot: "" when its line lives on other platforms only.
func (p *chatPerformer) cardChannel(caseID int64, slot store.CardSlot) (string, error) {
	channel, err := p.chat.CardChannel(p.b.cardFrame(caseID, slot))
	if err == nil && channel == "" {
		p.b.log.Debug("bot: no channel for the case's line on this platform; no card", "platform", p.name, "case_id", caseID)
	}
	return channel, err
}

// postReserved posts the first card of case caseID in channel, reserved
// by this worker, under key (begun: its first attempt is recorded
// already), and returns where it is. A failure releases the reservation.
func (p *chatPerformer) postReserved(ctx context.Context, caseID int64, channel, key string, begun, update bool) (MessageRef, error) {
	// Rendered after the reservation, so that it shows every change up to
	// the row the reservation saw: refreshes no newer are skipped (card).
	card, err := p.b.Card(ctx, caseID)
	var ref MessageRef
	if err == nil {
		ref, err = p.postCard(ctx, caseID, channel, card, key, begun, update)
	}
	if err != nil {
		return MessageRef{}, p.unreserve(ctx, caseID, err)
	}
	return ref, nil
}

// unreserve releases case caseID's card reservation on this platform after
// err (nil: the platform shows no card for the case's line) and returns
// err, as failed reports it.
func (p *chatPerformer) unreserve(ctx context.Context, caseID int64, err error) error {
	if uerr := p.b.store.UnreserveCard(ctx, caseID, p.name); uerr != nil {
		p.b.log.Error("bot: card reservation not released", "platform", p.name, "case_id", caseID, "error", uerr)
	}
	if err != nil {
		return p.failed(ctx, caseID, err)
	}
	return nil
}

// postCard posts case caseID's card once under key, and records it as the
// case's card; begun: its first attempt is recorded already; last: the
// post is the row's last step (a card row's, not a thread entry's that
// found no card).
func (p *chatPerformer) postCard(ctx context.Context, caseID int64, channel string, card Card, key string, begun, last bool) (MessageRef, error) {
	return p.postOnce(ctx, once{key: key, card: caseID, begun: begun, last: last,
		find: func(since time.Time) (MessageRef, bool, error) { return p.chat.Find(ctx, channel, key, since) },
		post: func() (MessageRef, error) { return p.chat.PostCard(ctx, channel, card, key) },
		// An earlier attempt's card shows the case as it was then; the rows
		// that changed it since may have been skipped for this one.
		adopted: func(ref MessageRef) error { return p.remote(p.chat.UpdateCard(ctx, ref, card)) }})
}

// once is a post made at most once: key names it on the platform, find
// looks there for an earlier attempt's post, post makes it. then, when set,
// runs in the transaction that records the post (what the post triggers).
type once struct {
	key    string
	outbox int64 // the row making the post; 0 for a card (its rows share it)
	card   int64 // the case whose card the post is (0: not a card)
	find   func(since time.Time) (MessageRef, bool, error)
	post   func() (MessageRef, error)
	then   func(tx *store.Tx, ref MessageRef) error
	// last says the post is the row's last step: the transaction recording
	// it marks the row done too.
	last bool
	// begun: this first attempt was recorded already (a card's with its
	// reservation, ReserveCardPost; a thread entry's with the card's slot,
	// CardSlotBeginning, or by the statement that passed its row on).
	begun bool
	// thread is the card in whose thread the post goes (nil: none).
	thread *MessageRef
	// adopted, when set, brings an earlier attempt's post up to date
	// before it is adopted as this one (a card: rendered now).
	adopted func(ref MessageRef) error
}

// adopt brings an earlier attempt's post at ref up to date, if o says how.
func (o once) adopt(ref MessageRef) error {
	if o.adopted == nil {
		return nil
	}
	return o.adopted(ref)
}

// postOnce makes the post o names at most once. Before calling out it
// records that an attempt began; a re-run after an attempt whose outcome
// was not saved (the process died, the answer timed out) first asks the
// platform for the post and adopts it.
func (p *chatPerformer) postOnce(ctx context.Context, o once) (MessageRef, error) {
	var prev store.ChatPost
	first := true // o.begun: recorded already
	if !o.begun {
		var err error
		if prev, first, err = p.b.store.BeginChatPost(ctx, p.name, o.key, o.outbox, p.b.clock.Now()); err != nil {
			return MessageRef{}, err
		}
	}
	switch {
	case first:
	case prev.MessageID != "":
		ref := MessageRef{Channel: prev.Channel, ID: prev.MessageID}
		if err := o.adopt(ref); err != nil {
			return MessageRef{}, err
		}
		if o.card != 0 {
			// Posted and recorded, and the process died before the card was.
			return ref, p.b.store.SaveCard(ctx, o.card, p.name, ref.Channel, ref.ID)
		}
		return ref, nil
	default:
		if prev.InFlightAt != nil && !p.dedupes(*prev.InFlightAt) {
			// An earlier attempt called out and never answered: its worker
			// lost its claim while the call was on its way, or died. Until
			// no client could still be waiting for that call, its post may
			// land after a search: wait, do not post a second copy.
			if wait := prev.InFlightAt.Add(postInFlight).Sub(p.b.clock.Now()); wait > 0 {
				return MessageRef{}, RetryAfter(wait, fmt.Errorf("bot: an earlier attempt's %s post on %s may still land", o.key, p.name))
			}
		}
		ref, found, ferr := o.find(prev.StartedAt.Add(-clockSkew))
		if ferr != nil {
			return MessageRef{}, p.remote(ferr)
		}
		if found {
			p.b.log.Info("bot: an earlier attempt's post found on the platform; adopted", "platform", p.name, "post", o.key, "channel", ref.Channel)
			if err := o.adopt(ref); err != nil {
				return MessageRef{}, err
			}
			return ref, p.record(ctx, o, ref)
		}
		if err := p.b.store.CallingChatPost(ctx, p.name, o.key, p.b.clock.Now()); err != nil {
			return MessageRef{}, err
		}
	}
	ref, err := o.post()
	if err != nil {
		if first && refused(err) {
			// The only attempt never reached the channel: the next one
			// need not search for it (a 429 storm costs no extra reads).
			if ferr := p.b.store.ForgetChatPost(ctx, p.name, o.key); ferr != nil {
				p.b.log.Warn("bot: a refused post's attempt not forgotten", "platform", p.name, "post", o.key, "error", ferr)
			}
		} else if !answered(err) {
			// Timed out or cut off on the way: the post may still land.
		} else if aerr := p.b.store.AnsweredChatPost(ctx, p.name, o.key); aerr != nil {
			// The next attempt waits out postInFlight before it searches.
			p.b.log.Warn("bot: a failed post's answer not recorded", "platform", p.name, "post", o.key, "error", aerr)
		}
		return MessageRef{}, p.remote(err)
	}
	return ref, p.record(ctx, o, ref)
}

// record saves where the post landed, with what it triggers in the same
// transaction. Its error fails the row: the re-run finds the post (or its
// record) and records again.
func (p *chatPerformer) record(ctx context.Context, o once, ref MessageRef) error {
	c, inWorker := ctx.Value(claimedKey{}).(*claimed)
	if o.card != 0 {
		if inWorker && o.last {
			// The card and the row's end together, in one statement on
			// PostgreSQL: the case's thread entries, which wait for the
			// row, may start at once.
			// Its first thread entry, waiting for it, goes next in this
			// slot, with no claim.
			thread := KindThread + "." + p.name
			pass := p.beginningIn(c.passOn(thread, KindCard+"."+p.name, thread), ref, o.card)
			pd, err := p.b.store.SaveCardPostPassing(ctx, p.name, o.key, o.card, ref.Channel, ref.ID, c.it, c.endsAt(), pass)
			c.passed(pd)
			return err
		}
		return p.b.store.SaveCardPost(ctx, p.name, o.key, o.card, ref.Channel, ref.ID)
	}
	if o.then == nil && !o.last {
		return p.b.store.SaveChatPost(ctx, p.name, o.key, ref.Channel, ref.ID)
	}
	if inWorker && o.then == nil {
		// The post and the row's end together, without a transaction
		// of their own on PostgreSQL.
		var pass *store.OutboxPass
		if thread := KindThread + "." + p.name; c.it.Kind == thread {
			// The case's next entry, waiting for this one, goes next
			// in this slot, with no claim.
			pass = c.passOn(thread, thread)
			if o.thread != nil && c.it.CaseID != nil {
				pass = p.beginningIn(pass, *o.thread, *c.it.CaseID)
			}
		}
		pd, err := p.b.store.SaveChatPostPassing(ctx, p.name, o.key, ref.Channel, ref.ID, c.it, c.endsAt(), pass)
		c.passed(pd)
		return err
	}
	return p.b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SaveChatPost(ctx, p.name, o.key, ref.Channel, ref.ID); err != nil {
			return err
		}
		if o.then != nil {
			if err := o.then(tx, ref); err != nil {
				return err
			}
		}
		if o.last {
			return completeInTx(ctx, tx)
		}
		return nil
	})
}

// entryKeyPrefix, followed by an entry's Key (its row's id when it has
// none), names a thread entry's post.
const entryKeyPrefix = "entry:"

// beginningIn asks pass to record the first attempt of the thread entry
// it passes on, in the thread of case caseID's card at card, as entry
// would (store.PassBegin): the entry's worker then posts with no
// statement before it. The fields named are chat.Entry's JSON.
func (p *chatPerformer) beginningIn(pass *store.OutboxPass, card MessageRef, caseID int64) *store.OutboxPass {
	if pass != nil {
		pass.Begin = &store.PassBegin{Platform: p.name, Prefix: entryKeyPrefix, KeyField: "key", SkipField: "edit",
			Card: store.Card{CaseID: caseID, Platform: p.name, Channel: card.Channel, MessageID: card.ID}}
	}
	return pass
}

// dedupes reports whether a post now of a key first sent at sent returns
// that first post rather than a copy (chat.IdempotentPoster).
func (p *chatPerformer) dedupes(sent time.Time) bool {
	ip, ok := p.chat.(IdempotentPoster)
	return ok && p.b.clock.Now().Sub(sent) < ip.PostsDedupedFor()
}

// answered reports an error the platform itself returned, so the call is
// over; a timeout or a broken connection leaves it possibly on its way.
func answered(err error) bool {
	var ne net.Error
	var ue *url.Error
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.As(err, &ne) && !errors.As(err, &ue)
}

// refused reports an answer saying the platform made no post: a rate
// limit, a channel the bot cannot use, a request it will never accept.
func refused(err error) bool {
	var ra *RetryAfterError
	return errors.As(err, &ra) || errors.Is(err, ErrChannelUnavailable) || IsPermanent(err)
}

// entry posts a timeline entry in the card's thread; an edit replaces the
// words of the entry it names.
func (p *chatPerformer) entry(ctx context.Context, it store.OutboxItem) error {
	var e Entry
	if err := it.Decode(&e); err != nil {
		return Permanent(err)
	}
	key := fmt.Sprintf("%s%d", entryKeyPrefix, it.ID)
	if e.Key != "" {
		key = entryKeyPrefix + e.Key
	}
	var slot store.CardSlot
	var begun bool
	var err error
	switch {
	case e.Edit:
		slot, err = p.b.store.CardSlot(ctx, e.CaseID, p.name)
	case it.Posting != nil && it.Posting.Key == key && it.Posting.Card.CaseID == e.CaseID:
		// Passed on by the statement that ended the row before it, which
		// recorded this post's first attempt too.
		slot, begun = store.CardSlot{Card: it.Posting.Card}, true
	default:
		// The post's first attempt is recorded as the slot is read, when
		// the card is there.
		slot, begun, err = p.b.store.CardSlotBeginning(ctx, e.CaseID, p.name, key, it.ID, p.b.clock.Now())
	}
	if err != nil {
		return err
	}
	// An entry never goes to the channel on its own: if the card is not
	// there yet, post it first rather than wait for its own row.
	card, ok, err := p.syncSlot(ctx, e.CaseID, slot, false)
	if err != nil || !ok {
		return err // !ok: no card on this platform, so no thread
	}
	if e.Edit {
		if it.Lapsed() {
			// The worker before this run died mid-run: its edit may land
			// after this run's, or after a later edit's.
			p.editAfterInFlight(ctx, e)
		}
		return p.failed(ctx, e.CaseID, p.editEntry(ctx, it, card, key, e))
	}
	_, err = p.postOnce(ctx, once{key: key, outbox: it.ID, last: true, begun: begun, thread: &card,
		find: func(since time.Time) (MessageRef, bool, error) { return p.chat.FindEntry(ctx, card, key, since) },
		post: func() (MessageRef, error) { return p.chat.PostEntry(ctx, card, e, key) }})
	return p.failed(ctx, e.CaseID, err)
}

// editEntry gives the entry named key e's words. Thread rows of a case run
// in order, so the entry's own row is done: posted (edit it), or given up
// (post e in its place, once). An edit is idempotent: a re-run repeats it.
func (p *chatPerformer) editEntry(ctx context.Context, it store.OutboxItem, card MessageRef, key string, e Entry) error {
	prev, err := p.b.store.ChatPostFor(ctx, p.name, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && prev.MessageID != "" {
		err := p.updateEntry(ctx, MessageRef{Channel: prev.Channel, ID: prev.MessageID}, e)
		if errors.Is(err, ErrMessageGone) {
			p.b.log.Info("bot: an edited thread entry was deleted; left so", "platform", p.name, "post", key)
			return nil
		}
		return err
	}
	adopted := false
	ref, err := p.postOnce(ctx, once{key: key, outbox: it.ID,
		find: func(since time.Time) (MessageRef, bool, error) {
			ref, found, err := p.chat.FindEntry(ctx, card, key, since)
			adopted = found
			return ref, found, err
		},
		post: func() (MessageRef, error) { return p.chat.PostEntry(ctx, card, e, key) }})
	if err != nil || !adopted {
		return err
	}
	return p.updateEntry(ctx, ref, e) // the found post has the old words
}

// KindEntryAgain is the outbox kind (+ "." + platform) that gives an
// edited thread entry its latest words again once an edit that got no
// answer can no longer land. Not ordered with the case's thread rows: it
// waits 30 s and must not hold them.
const KindEntryAgain = "chat.entryagain"

// updateEntry gives the entry at ref e's words; one that got no answer
// may still be performed after the edits that follow it, so the latest
// words are given again once it can no longer land.
func (p *chatPerformer) updateEntry(ctx context.Context, ref MessageRef, e Entry) error {
	err := p.remote(p.chat.UpdateEntry(ctx, ref, e))
	if err != nil && !answered(err) {
		p.editAfterInFlight(ctx, e)
	}
	return err
}

// editAfterInFlight queues, for when an edit of the entry e names can no
// longer land, a row that gives it its latest words (entryAgain).
func (p *chatPerformer) editAfterInFlight(ctx context.Context, e Entry) {
	p.afterInFlight(ctx, KindEntryAgain, e.CaseID, fmt.Sprintf("entryagain:%s:%d:%s", p.name, e.CaseID, e.Key),
		Entry{CaseID: e.CaseID, Key: e.Key},
		"bot: nothing queued to edit a thread entry again after an unanswered edit; it may show older words", "post", e.Key)
}

// entryAgain gives the thread entry a row names the words of the case's
// latest thread row for it: the last edit, else the entry itself. When
// that row is still to run, its edit lands after any held one; an entry
// never posted has nothing to correct.
func (p *chatPerformer) entryAgain(ctx context.Context, it store.OutboxItem) error {
	var want Entry
	if err := it.Decode(&want); err != nil {
		return Permanent(err)
	}
	if it.Lapsed() {
		p.editAfterInFlight(ctx, want) // as for an edit's own row
	}
	post, err := p.b.store.ChatPostFor(ctx, p.name, entryKeyPrefix+want.Key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && post.MessageID == "") {
		return nil
	}
	if err != nil {
		return err
	}
	rows, err := p.b.store.CaseOutbox(ctx, want.CaseID, KindThread+"."+p.name)
	if err != nil {
		return err
	}
	for _, row := range rows {
		var e Entry
		if row.Decode(&e) != nil || e.Key != want.Key {
			continue
		}
		if row.State == store.OutboxPending || row.State == store.OutboxRunning {
			return nil
		}
		err := p.updateEntry(ctx, MessageRef{Channel: post.Channel, ID: post.MessageID}, e)
		if errors.Is(err, ErrMessageGone) {
			return nil
		}
		return p.failed(ctx, want.CaseID, err)
	}
	return nil
}

// inChannel is a top-level post in channel made at most once by row it.
func (p *chatPerformer) inChannel(ctx context.Context, it store.OutboxItem, key, channel string, post func() (MessageRef, error)) once {
	return once{key: key, outbox: it.ID, post: post,
		find: func(since time.Time) (MessageRef, bool, error) { return p.chat.Find(ctx, channel, key, since) }}
}

// dm sends a direct message (reminders, alerts), linked to the case's
// card, to each person it goes to on this platform, each once.
func (p *chatPerformer) dm(ctx context.Context, it store.OutboxItem) error {
	var n Notice
	if err := it.Decode(&n); err != nil {
		return Permanent(err)
	}
	var card MessageRef
	if c, err := p.b.store.CardFor(ctx, n.CaseID, p.name); err == nil {
		card = MessageRef{Channel: c.Channel, ID: c.MessageID}
	}
	channels, err := p.chat.DMChannels(ctx, n)
	if err != nil {
		return p.remote(err)
	}
	for _, ch := range channels {
		key := fmt.Sprintf("dm:%d:%s", it.ID, ch)
		if _, err := p.postOnce(ctx, p.inChannel(ctx, it, key, ch, func() (MessageRef, error) { return p.chat.DM(ctx, ch, n, card, key) })); err != nil {
			return err
		}
	}
	return nil
}

// post posts a message to a channel (queue checks, manager alerts), once.
func (p *chatPerformer) post(ctx context.Context, it store.OutboxItem) error {
	var m Post
	if err := it.Decode(&m); err != nil {
		return Permanent(err)
	}
	ch := p.chat.PostChannel(m)
	if ch == "" {
		return nil // not this platform's to post
	}
	key := fmt.Sprintf("post:%d", it.ID)
	_, err := p.postOnce(ctx, p.inChannel(ctx, it, key, ch, func() (MessageRef, error) { return p.chat.Post(ctx, ch, m, key) }))
	return p.failed(ctx, 0, err)
}

// digest posts the weekly digest, once, and queues its thread in the
// transaction that records the post: a crash between the two can neither
// lose the thread nor post the digest twice. The thread's row carries the
// same job, marked Thread, with where the post is.
func (p *chatPerformer) digest(ctx context.Context, it store.OutboxItem) error {
	var job digestJob
	if err := it.Decode(&job); err != nil {
		return Permanent(err)
	}
	channel, thread := p.chat.DigestChannel()
	if channel == "" || job.Chart {
		return nil // no digest on this platform; or an old chart row, shown by the post now
	}
	d, err := p.b.digestFor(ctx, job.DigestJob, p.name)
	if err != nil {
		return err
	}
	if job.Thread {
		if job.Top == nil {
			return Permanent(fmt.Errorf("bot: digest thread row %d names no post", it.ID))
		}
		top, key := *job.Top, fmt.Sprintf("digest-thread:%d", it.ID)
		_, err := p.postOnce(ctx, once{key: key, outbox: it.ID,
			find: func(since time.Time) (MessageRef, bool, error) {
				return p.chat.FindDigestThread(ctx, top, d, key, since)
			},
			post: func() (MessageRef, error) { return p.chat.PostDigestThread(ctx, top, d, key) }})
		return p.failed(ctx, 0, err)
	}
	key := fmt.Sprintf("digest:%d", it.ID)
	o := p.inChannel(ctx, it, key, channel, func() (MessageRef, error) { return p.chat.PostDigest(ctx, channel, job.DigestJob, d, key) })
	if thread {
		o.then = func(tx *store.Tx, ref MessageRef) error {
			next := digestJob{DigestJob: job.DigestJob, Thread: true, Top: &ref}
			_, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: it.Kind, DedupeKey: it.DedupeKey + ":thread", Payload: next}, p.b.clock.Now())
			return err
		}
	}
	_, err = p.postOnce(ctx, o)
	return p.failed(ctx, 0, err)
}

// digestFor builds the digest a job asks for, with where the oldest cases'
// cards are on platform.
func (b *Bot) digestFor(ctx context.Context, job DigestJob, platform string) (Digest, error) {
	p := Period(job)
	// The scheduler names the week ("2026-W46"); people read its dates too.
	if w, err := ISOWeek(job.Label, job.To, b.cfg.Business.Timezone); err == nil && w.From.Equal(job.From) && w.To.Equal(job.To) {
		p.Label = w.Label
	}
	d, err := b.Digest(ctx, p, "")
	if err != nil {
		return Digest{}, err
	}
	b.cardLinks(ctx, &d, platform)
	return d, nil
}

// cardLinks fills in where the digest's oldest cases' cards are.
func (b *Bot) cardLinks(ctx context.Context, d *Digest, platform string) {
	for i, it := range d.Oldest {
		if c, err := b.store.CardFor(ctx, it.CaseID, platform); err == nil {
			d.Oldest[i].CardChannel, d.Oldest[i].CardMessage = c.Channel, c.MessageID
		}
	}
}

// PostDigest posts d and its thread on chat at once, outside the outbox:
// `ringback digest --post`, where a person waits for the answer.
func (b *Bot) PostDigest(ctx context.Context, chat Chat, d Digest) error {
	channel, thread := chat.DigestChannel()
	if channel == "" {
		return fmt.Errorf("bot: no %s digest channel is configured (digest.channel)", chat.Platform())
	}
	b.cardLinks(ctx, &d, chat.Platform())
	top, err := chat.PostDigest(ctx, channel, DigestJob{From: d.From, To: d.To, Label: d.Label}, d, "")
	if err != nil || !thread {
		return err
	}
	_, err = chat.PostDigestThread(ctx, top, d, "")
	return err
}
