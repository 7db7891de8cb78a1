package bot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/sms"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

// receiver is a webhook endpoint that checks every message as the Standard
// Webhooks 1.0 specification says a receiver should, written from the spec
// and sharing nothing with the sender.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	secrets []string // whsec_… the receiver knows; a message verifies with any
	answer  int      // status to answer with; 0 = 204
	refused int      // messages answered with an error status
	got     []received
	sigs    []int // how many signatures each accepted message carried
}

type received struct {
	ID      string // webhook-id
	Type    string
	CaseID  int64
	Outcome string
	Open    *int64 // seconds_open
	// CallbackAt and Slot: the case's callback_at, the event's detail.slot.
	CallbackAt, Slot *time.Time
}

func newReceiver(t *testing.T, secrets ...string) *receiver {
	r := &receiver{t: t, secrets: secrets}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// verify checks a message: all three headers, a timestamp within five
// minutes of now, and a v1 signature among the space-separated list that is
// the base64 HMAC-SHA256, keyed with the base64-decoded secret after
// "whsec_", of "{id}.{timestamp}.{body}".
func verify(secrets []string, h http.Header, body []byte, now time.Time) (sigs int, ok bool) {
	id, ts, sigHeader := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigHeader == "" {
		return 0, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return 0, false
	}
	content := id + "." + ts + "." + string(body)
	fields := strings.Fields(sigHeader)
	for _, secret := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			continue
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(content))
		want := m.Sum(nil)
		for _, f := range fields {
			version, sig, found := strings.Cut(f, ",")
			if !found || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(sig)
			if err == nil && hmac.Equal(got, want) {
				return len(fields), true
			}
		}
	}
	return len(fields), false
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answer != 0 {
		r.refused++
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(r.answer)
		return
	}
	sigs, ok := verify(r.secrets, req.Header, body, time.Now())
	if !ok {
		r.t.Errorf("message %s failed verification: signature %q", req.Header.Get("webhook-id"), req.Header.Get("webhook-signature"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var env struct {
		Type    string `json:"type"`
		Version int    `json:"version"`
		ID      string `json:"id"`
		Data    struct {
			Case struct {
				ID           int64      `json:"id"`
				CallerNumber string     `json:"caller_number"`
				Outcome      string     `json:"outcome"`
				SecondsOpen  *int64     `json:"seconds_open"`
				CallbackAt   *time.Time `json:"callback_at"`
			} `json:"case"`
			Event struct {
				Detail struct {
					Slot *time.Time `json:"slot"`
				} `json:"detail"`
			} `json:"event"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Version != 1 || env.ID != req.Header.Get("webhook-id") {
		r.t.Errorf("envelope %s: %v %+v", body, err, env)
	}
	if env.Type != "webhook.test" && env.Data.Case.CallerNumber == "" {
		r.t.Errorf("no caller number in %s", body)
	}
	r.got = append(r.got, received{ID: env.ID, Type: env.Type, CaseID: env.Data.Case.ID, Outcome: env.Data.Case.Outcome, Open: env.Data.Case.SecondsOpen,
		CallbackAt: env.Data.Case.CallbackAt, Slot: env.Data.Event.Detail.Slot})
	r.sigs = append(r.sigs, sigs)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) set(answer int, secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = answer
	if len(secrets) > 0 {
		r.secrets = secrets
	}
}

func (r *receiver) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

const (
	secretOld = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretNew = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// webhookFixture is the usual fixture with one subscription, "crm", to r.
func webhookFixture(t *testing.T, s *store.Store, r *receiver, env map[string]string) *fixture {
	t.Helper()
	return webhookFixtureWith(t, s, r, env, "", nil)
}

// webhookFixtureWith is webhookFixture with PUBLIC_URL publicURL and the
// config changed by edit first.
func webhookFixtureWith(t *testing.T, s *store.Store, r *receiver, env map[string]string, publicURL string, edit func(*config.Config)) *fixture {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Webhooks = []config.Webhook{{Name: "crm", URL: r.srv.URL + "/hooks", SecretEnv: "CRM_SECRET"}}
	if edit != nil {
		edit(cfg)
	}
	tw := twiliostandin.NewServer(testAccount, testToken)
	t.Cleanup(tw.Close)
	clock := bot.NewManualClock(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC))
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: quiet, Texter: sms.NewTexter(sms.New(testAccount, testToken, tw.URL)),
		Chats: []string{"slack"}, Getenv: func(k string) string { return env[k] }, PublicURL: publicURL})
	if err := b.SyncTemplates(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := bot.NewWorker(s, clock, "w", quiet)
	b.Register(w)
	return &fixture{bot: b, store: s, clock: clock, worker: w, twilio: tw}
}

// pump hands events to the webhooks and runs due outbox rows, moving the
// clock on between rounds, until nothing is left to do.
func (f *fixture) pump(t *testing.T, rounds int) {
	t.Helper()
	ctx := context.Background()
	for range rounds {
		if _, err := f.bot.FanOutWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
	}
}

// wantWebhooks checks that the receiver got each webhook-worthy event of
// the cases once, in the order of each case's trail.
func wantWebhooks(t *testing.T, f *fixture, r *receiver, types map[int64][]string) {
	t.Helper()
	got := r.messages()
	seen := map[string]bool{}
	perCase := map[int64][]string{}
	lastID := map[int64]int64{}
	for _, m := range got {
		if seen[m.ID] {
			t.Errorf("%s delivered twice", m.ID)
		}
		seen[m.ID] = true
		n, _ := strconv.ParseInt(strings.TrimPrefix(m.ID, "evt_"), 10, 64)
		if n < lastID[m.CaseID] {
			t.Errorf("case %d: %s after evt_%d", m.CaseID, m.ID, lastID[m.CaseID])
		}
		lastID[m.CaseID] = n
		perCase[m.CaseID] = append(perCase[m.CaseID], m.Type)
	}
	for id, want := range types {
		if strings.Join(perCase[id], " ") != strings.Join(want, " ") {
			t.Errorf("case %d got %v, want %v", id, perCase[id], want)
		}
	}
}

// A case's whole life reaches the receiver, each message verified, once and
// in order.
func TestWebhooksFollowACaseLife(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := newReceiver(t, secretOld)
		f := webhookFixture(t, s, r, map[string]string{"CRM_SECRET": secretOld})
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM1", From: callerNum, To: lettingsNum, Body: "2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 1)
		if _, err := f.bot.SendReply(ctx, c.ID, alice, "callback_missed"); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 1)
		if _, err := f.bot.LogCallback(ctx, c.ID, alice, "no_answer", "rang twice"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.Close(ctx, c.ID, alice, "booked", "Viewing Thursday 2pm"); err != nil {
			t.Fatal(err)
		}
		// A manager's opt-out and opt-in reach the trail of the caller's
		// latest case, so they are sent too.
		for _, cmd := range []string{"optout " + callerNum, "optin " + callerNum} {
			if _, err := f.bot.Command(ctx, bot.Invoker{Actor: manager, Platform: "slack"}, cmd); err != nil {
				t.Fatal(err)
			}
		}
		f.pump(t, 3)
		wantWebhooks(t, f, r, map[int64][]string{c.ID: {
			"case.opened", "sms.received", "case.updated", "case.claimed", "case.contacted", "case.contacted", "case.closed",
			"optout.changed", "optout.changed",
		}})
		for _, m := range r.messages() {
			if m.Type == "case.closed" && (m.Outcome != "booked" || m.Open == nil || *m.Open != 120) {
				t.Errorf("case.closed = %+v", m)
			}
		}
		ds, err := f.store.WebhookDeliveriesOf(ctx, "crm")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.State != store.WebhookDelivered || d.Attempts != 1 || d.LastStatus != http.StatusNoContent {
				t.Errorf("delivery = %+v", d)
			}
		}
	})
}

// The receiver answers 503 for a while: once it is back, every event of
// both cases arrives once, in order per case.
func TestWebhooksOutlastAReceiverOutage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := newReceiver(t, secretOld)
		f := webhookFixture(t, s, r, map[string]string{"CRM_SECRET": secretOld})
		r.set(http.StatusServiceUnavailable)
		a := f.missed(t, "CA1", callerNum)
		f.pump(t, 1)
		b := f.missed(t, "CA2", "+447700900456")
		for _, id := range []int64{a.ID, b.ID} {
			if _, err := f.bot.Claim(ctx, id, alice); err != nil {
				t.Fatal(err)
			}
		}
		f.pump(t, 2)
		if _, err := f.bot.Release(ctx, a.ID, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.Close(ctx, b.ID, alice, "spam", "robocall"); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 5)
		if len(r.messages()) != 0 || r.refused == 0 {
			t.Fatalf("during the outage: %d accepted, %d refused", len(r.messages()), r.refused)
		}
		// Back up: a new event is due at once, but its case's earlier
		// messages, still backing off, go first.
		r.set(0)
		if _, err := f.bot.Claim(ctx, a.ID, bob); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 40)
		wantWebhooks(t, f, r, map[int64][]string{
			a.ID: {"case.opened", "case.claimed", "case.released", "case.claimed"},
			b.ID: {"case.opened", "case.claimed", "case.closed"},
		})
	})
}

// During a rotation every message carries both signatures, so a receiver
// with either secret accepts it.
func TestWebhooksSignWithBothSecretsDuringRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := newReceiver(t, secretOld)
		env := map[string]string{"CRM_SECRET": secretOld}
		f := webhookFixture(t, s, r, env)
		c := f.missed(t, "CA1", callerNum)
		f.pump(t, 1)

		// The operator sets the new secret and keeps the old one as previous.
		env["CRM_SECRET"], env["CRM_SECRET_OLD"] = secretNew, secretOld
		f.bot.Config().Webhooks[0].PreviousSecretEnv = "CRM_SECRET_OLD"
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 1) // the receiver still knows only the old secret
		r.set(0, secretNew)
		if _, err := f.bot.Release(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 1) // and now only the new one
		// The rotation ends: the old secret is gone.
		f.bot.Config().Webhooks[0].PreviousSecretEnv = ""
		if _, err := f.bot.Claim(ctx, c.ID, bob); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 1)
		wantWebhooks(t, f, r, map[int64][]string{c.ID: {"case.opened", "case.claimed", "case.released", "case.claimed"}})
		r.mu.Lock()
		sigs := fmt.Sprint(r.sigs)
		r.mu.Unlock()
		if sigs != "[1 2 2 1]" {
			t.Fatalf("signatures per message = %s, want [1 2 2 1]", sigs)
		}
	})
}

// 410 Gone disables the subscription: nothing more is queued for it until
// an operator enables it again; a test message is signed like the rest.
func TestWebhooksGoneDisablesTheSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := newReceiver(t, secretOld)
		f := webhookFixture(t, s, r, map[string]string{"CRM_SECRET": secretOld})
		r.set(http.StatusGone)
		c := f.missed(t, "CA1", callerNum)
		f.pump(t, 2)
		states, err := f.store.WebhookSubscriptionStates(ctx)
		if err != nil || states["crm"].DisabledAt == nil {
			t.Fatalf("states = %+v %v", states, err)
		}
		r.set(0)
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.pump(t, 2)
		if n := len(r.messages()); n != 0 {
			t.Fatalf("%d messages to a disabled subscription", n)
		}
		if ok, err := f.store.EnableWebhookSubscription(ctx, "crm"); !ok || err != nil {
			t.Fatalf("enable: %v %v", ok, err)
		}
		if _, err := f.bot.TestWebhook(ctx, "crm"); err != nil {
			t.Fatal(err)
		}
		if n, err := f.bot.ReplayWebhooks(ctx, "crm", c.CreatedAt); err != nil || n != 2 {
			t.Fatalf("replay queued %d: %v", n, err)
		}
		f.pump(t, 2)
		got := r.messages()
		var types []string
		for _, m := range got {
			types = append(types, m.Type)
		}
		slices.Sort(types)
		if strings.Join(types, " ") != "case.claimed case.opened webhook.test" {
			t.Fatalf("after enabling: %+v", got)
		}
	})
}

// A caller's pick on the callback picker reaches the business's systems as
// callback.scheduled, with the slot on the case and in the event; picking
// again sends another.
func TestWebhookCallbackScheduled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := newReceiver(t, secretOld)
		f := webhookFixtureWith(t, s, r, map[string]string{"CRM_SECRET": secretOld}, testPublicURL, func(cfg *config.Config) {
			for i := range cfg.Templates {
				if cfg.Templates[i].Key == "textback_day" {
					cfg.Templates[i].Text = "Sorry we missed you. Pick a time: {{callback_link}}"
				}
			}
		})
		c, tok := f.linkOf(t, "CA1", callerNum)
		first, second := time.Date(2026, 11, 17, 14, 30, 0, 0, time.UTC), time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
		for _, slot := range []time.Time{first, second} {
			if _, err := f.bot.PickCallback(ctx, tok, slot, "maintenance", "tap"); err != nil {
				t.Fatal(err)
			}
			f.pump(t, 1)
		}
		f.pump(t, 2)
		wantWebhooks(t, f, r, map[int64][]string{c.ID: {"case.opened", "case.updated", "callback.scheduled", "callback.scheduled"}})
		var slots []time.Time
		for _, m := range r.messages() {
			if m.Type != "callback.scheduled" {
				continue
			}
			if m.Slot == nil || m.CallbackAt == nil || !m.Slot.Equal(*m.CallbackAt) {
				t.Fatalf("callback.scheduled: slot %v, case callback_at %v", m.Slot, m.CallbackAt)
			}
			slots = append(slots, *m.Slot)
		}
		if len(slots) != 2 || !slots[0].Equal(first) || !slots[1].Equal(second) {
			t.Errorf("slots sent %v, want %v then %v", slots, first, second)
		}
	})
}

// Events of a time without subscriptions are never sent, and cost nothing
// after they are written: a missed call handled while no subscription is
// configured leaves no event for the fan-out, which then writes nothing
// (before, every event was written unsent and rewritten, indexes and all,
// by a sweep once a second). A subscription added later (the server
// restarted with it) gets the events from then on only.
func TestEventsWithoutSubscriptionsAreNeverSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := newReceiver(t, secretOld)
		before := webhookFixtureWith(t, s, r, nil, "", func(c *config.Config) { c.Webhooks = nil })
		old := before.missed(t, "CA1", callerNum)
		var unsent int
		if err := s.DB().Get(&unsent, `SELECT COUNT(*) FROM events WHERE webhooked_at IS NULL`); err != nil {
			t.Fatal(err)
		}
		if unsent != 0 {
			t.Errorf("%d events of the call are waiting for the fan-out with no subscription configured", unsent)
		}
		counter := s.CountStatements()
		if _, err := before.bot.FanOutWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		if n := counter.Total("UPDATE events"); n != 0 {
			t.Errorf("the fan-out without subscriptions updated events %d times, want none:\n%s", n, strings.Join(counter.Sequence(), "\n"))
		}
		s.CountStatements()

		// Restarted with a subscription: the new case's events are sent,
		// none of the old one's.
		f := webhookFixture(t, s, r, map[string]string{"CRM_SECRET": secretOld})
		c := f.missed(t, "CA2", "+447700900333")
		f.pump(t, 2)
		wantWebhooks(t, f, r, map[int64][]string{c.ID: {"case.opened"}})
		for _, m := range r.messages() {
			if m.CaseID == old.ID {
				t.Errorf("%s of case %d, from before the subscription, was sent", m.Type, old.ID)
			}
		}
	})
}
