package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"ringback/bot/discord/discordstandin"
	"ringback/bot/slack/slackstandin"
	"ringback/sms/twiliostandin"
	"ringback/store"
)

// staffReply plays a missed call from number on Lettings and Alice's reply
// to it, and returns the case and the reply as Twilio holds it.
func (h *harness) staffReply(callSID, number string) (store.Case, twiliostandin.SentMessage) {
	h.t.Helper()
	h.missedCall(callSID, number, lettings)
	h.flush()
	c := h.openCase(number, lettings)
	return c, h.replyOn(c)
}

// replyOn sends Alice's reply on case c and returns it as Twilio holds it.
func (h *harness) replyOn(c store.Case) twiliostandin.SentMessage {
	h.t.Helper()
	h.clock.Advance(time.Minute)
	if _, err := h.bot.SendReply(context.Background(), c.ID, aliceActor(), "callback_missed"); err != nil {
		h.t.Fatal(err)
	}
	h.flush()
	texts := h.textsTo(c.CallerNumber)
	if len(texts) == 0 || !strings.Contains(texts[len(texts)-1].Body, "Alice tried to call you back") {
		h.t.Fatalf("texts to %s = %+v", c.CallerNumber, texts)
	}
	return texts[len(texts)-1]
}

// receipt has Twilio post the message's status callback to Ringback, signed.
func (h *harness) receipt(sid, status string, code int) {
	h.t.Helper()
	if err := h.twilio.Deliver(sid, status, code); err != nil {
		h.t.Fatal(err)
	}
	h.flush()
}

// replyEntries are the thread entries that quote Alice's reply.
func replyEntries(h *harness, channel string) []string {
	var out []string
	for _, top := range h.slack.Messages(channel) {
		if top.ThreadTS != "" {
			continue
		}
		for _, m := range h.slack.Thread(channel, top.TS)[1:] {
			if strings.Contains(m.Text, "Alice tried to call you back") {
				out = append(out, m.Text)
			}
		}
	}
	return out
}

// A reply the carrier could not deliver (30003) shows as failed, with what
// to do, on the card and on the reply's own thread entry; it is no contact,
// so the no-contact escalation the reply had stopped fires after all.
func TestUndeliveredReplyShowsFailedAndIsNoContact(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, sent := h.staffReply("CAdl0000000000000000000000000001", caller)
		if got, _ := h.store.CaseByID(t.Context(), c.ID); got.FirstContactAt == nil {
			t.Fatal("an accepted reply is not counted as contact")
		}
		// Past the 30-minute no-contact step: the reply seemed to be contact.
		h.clock.Advance(30 * time.Minute)
		if _, err := h.bot.RunEscalations(t.Context()); err != nil {
			t.Fatal(err)
		}
		h.flush()
		if _, thread := cardAndThread(h, "C0LETTINGS"); strings.Contains(thread, "no contact with the caller yet") {
			t.Fatalf("escalated for no contact before the receipt:\n%s", thread)
		}

		h.receipt(sent.SID, "undelivered", 30003)
		card, _ := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(card, "Last reply") || !strings.Contains(card, "not delivered: the phone is off or out of coverage. Call instead") {
			t.Fatalf("card does not show the failed reply:\n%s", card)
		}
		entries := replyEntries(h, "C0LETTINGS")
		if len(entries) != 1 || !strings.Contains(entries[0], "Reply sent · ❌ not delivered: the phone is off or out of coverage. Call instead") {
			t.Fatalf("reply entries (edited in place, one) = %q", entries)
		}
		got, _ := h.store.CaseByID(t.Context(), c.ID)
		if got.FirstContactAt != nil || got.ContactAttempts != 0 {
			t.Fatalf("a failed reply still counts: first contact %v, attempts %d", got.FirstContactAt, got.ContactAttempts)
		}

		// The no-contact step runs again on its own clock: due, so it fires.
		if fired, err := h.bot.RunEscalations(t.Context()); err != nil || fired == 0 {
			t.Fatalf("no-contact escalation after the failed reply: fired %d, %v", fired, err)
		}
		h.flush()
		if _, thread := cardAndThread(h, "C0LETTINGS"); !strings.Contains(thread, "no contact with the caller yet") {
			t.Fatalf("no no-contact escalation in the thread:\n%s", thread)
		}
	})
}

// A delivered reply shows ✓ on the card and its entry; receipts arriving
// late or out of order never move it back.
func TestDeliveredReplyShowsTickAndStays(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, sent := h.staffReply("CAdl0000000000000000000000000002", caller)
		h.receipt(sent.SID, "delivered", 0)
		h.receipt(sent.SID, "sent", 0)
		h.receipt(sent.SID, "undelivered", 30003)
		card, _ := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(card, "✓ delivered") || strings.Contains(card, "not delivered") {
			t.Fatalf("card:\n%s", card)
		}
		entries := replyEntries(h, "C0LETTINGS")
		if len(entries) != 1 || !strings.Contains(entries[0], "Reply sent · ✓ delivered") {
			t.Fatalf("reply entries = %q", entries)
		}
		got, _ := h.store.CaseByID(t.Context(), c.ID)
		if got.FirstContactAt == nil || got.ContactAttempts != 1 {
			t.Fatalf("a delivered reply lost its contact: %v, %d", got.FirstContactAt, got.ContactAttempts)
		}
	})
}

// Carrier filtering (30007) is the managers' to fix: they are told once,
// however many receipts and replies fail so.
func TestFilteredReplyAlertsManagersOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, sent := h.staffReply("CAdl0000000000000000000000000003", caller)
		h.receipt(sent.SID, "undelivered", 30007)
		h.receipt(sent.SID, "undelivered", 30007) // Twilio retries callbacks
		again := h.replyOn(c)
		h.receipt(again.SID, "undelivered", 30007)
		dms := h.slack.Messages(h.slack.DM("U0MANAGER1"))
		if len(dms) != 1 || !strings.Contains(dms[0].Text, "filtered by the carrier") {
			t.Fatalf("manager DMs = %+v", dms)
		}
		if card, _ := cardAndThread(h, "C0LETTINGS"); !strings.Contains(card, "filtered it as spam. Managers have been told") {
			t.Fatalf("card:\n%s", card)
		}
	})
}

// Every failure says what it means and what to do; a landline is never
// texted again, and an unregistered sender is the operator's to fix, told
// once a line, not once a text.
func TestFailedReplyReasons(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		for i, tc := range []struct {
			code int
			want string
		}{
			{30005, "the number is unknown or no longer in service"},
			{30006, "the number is a landline. Call instead; Ringback will not text it again"},
			{21610, "the caller has opted out of texts"},
			{30034, "our number is not registered for business texting. The operator has been told"},
			{30032, "our number is not registered for business texting"},
		} {
			number := "+4477009002" + string(rune('1'+i)) + "0"
			c, sent := h.staffReply("CAdl00000000000000000000000001"+string(rune('0'+i))+"0", number)
			h.receipt(sent.SID, "undelivered", tc.code)
			k, err := h.bot.Card(t.Context(), c.ID)
			if err != nil || !strings.Contains(k.LastReply, tc.want) {
				t.Fatalf("%d: card's last reply = %q (%v), want %q", tc.code, k.LastReply, err, tc.want)
			}
			if tc.code == 30006 {
				if _, err := h.bot.SendReply(t.Context(), c.ID, aliceActor(), "callback_missed"); err == nil {
					t.Fatal("a landline was texted again")
				}
			}
		}
		notices := slices.DeleteFunc(h.slack.Messages("C0DIGEST"), func(m slackstandin.Message) bool {
			return !strings.Contains(m.Text, "not registered for business texting")
		})
		if len(notices) != 1 {
			t.Fatalf("operator notices in the digest channel = %+v, want one for the line", notices)
		}
	})
}

// Receipts may beat Twilio's answer to the send, and each other: a "sent"
// that arrives after "undelivered" must not hide the failure while both
// wait for the reply's SID.
func TestEarlyReceiptsOutOfOrderKeepTheFailure(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, _, _ := h.slackCase("CAdl0000000000000000000000000009")
		h.twilio.OnMessage(func(m twiliostandin.SentMessage) {
			if !strings.Contains(m.Body, "Alice tried to call you back") {
				return
			}
			for _, r := range []struct {
				status string
				code   int
			}{{"undelivered", 30003}, {"sent", 0}} {
				if err := h.twilio.Deliver(m.SID, r.status, r.code); err != nil {
					t.Errorf("early %s receipt: %v", r.status, err)
				}
			}
		})
		h.replyOn(c)
		k, err := h.bot.Card(t.Context(), c.ID)
		if err != nil || !strings.Contains(k.LastReply, "not delivered: the phone is off") {
			t.Fatalf("card's last reply = %q (%v)", k.LastReply, err)
		}
		if got, _ := h.store.CaseByID(t.Context(), c.ID); got.FirstContactAt != nil || got.ContactAttempts != 0 {
			t.Fatalf("a reply that failed before Twilio answered counts as contact: %v, %d", got.FirstContactAt, got.ContactAttempts)
		}
		if entries := replyEntries(h, "C0LETTINGS"); len(entries) != 1 || !strings.Contains(entries[0], "not delivered") {
			t.Fatalf("reply entries = %q", entries)
		}
	})
}

// On Discord too, the reply's thread message is edited in place.
func TestDiscordUndeliveredReplyEditsItsThreadMessage(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c, _, card := h.cardedCase("CAdl0000000000000000000000000010")
		sent := h.replyOn(c)
		h.receipt(sent.SID, "undelivered", 30003)
		th, _ := h.discord.Thread(card.ID)
		var entries []discordstandin.Message
		for _, m := range th.Messages {
			if strings.Contains(m.Content, "Alice tried to call you back") {
				entries = append(entries, m)
			}
		}
		if len(entries) != 1 || entries[0].Edits != 1 || !strings.Contains(entries[0].Content, "Reply sent · ❌ not delivered: the phone is off or out of coverage. Call instead") {
			t.Fatalf("reply entries = %+v", entries)
		}
		if k := h.card(dLettings); !strings.Contains(string(k.JSON), "not delivered") {
			t.Fatalf("card = %s", k.JSON)
		}
	})
}

// A text's receipts apply to it as this replica kept it when Twilio took
// it, without reading it first (TestDeliveryReceiptStatements counts the
// read saved). When the text moved on since — another replica recorded a
// receipt, or a failure was recorded here under the SID's lock — the
// receipt's write finds it changed, and the receipt reads the text and
// decides on what it reads: a failed text stays failed.
func TestReceiptAppliesToTheTextAsItIsNow(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		status := func(sid string) string {
			t.Helper()
			m, err := h.store.ReadMessageBySID(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			return m.Status
		}

		// Another replica took Twilio's "sent" for it.
		from := "+447700900131"
		h.missed("CA"+strings.Repeat("0", 29)+"131", from, lettings)
		sid := h.textsTo(from)[0].SID
		if _, err := h.store.DB().ExecContext(ctx, h.store.DB().Rebind(`UPDATE messages SET status = 'sent' WHERE sid = ?`), sid); err != nil {
			t.Fatal(err)
		}
		h.receipt(sid, "delivered", 0)
		if got := status(sid); got != "delivered" {
			t.Errorf("a text sent elsewhere, then delivered: %q, want delivered", got)
		}
		if c := h.openCase(from, lettings); c.TextbackStatus != "delivered" {
			t.Errorf("its case's text-back: %q, want delivered", c.TextbackStatus)
		}

		// Failed here, then a late "delivered" (receipts come in any order).
		from = "+447700900132"
		h.missed("CA"+strings.Repeat("0", 29)+"132", from, lettings)
		sid = h.textsTo(from)[0].SID
		h.receipt(sid, "undelivered", 30003)
		h.receipt(sid, "delivered", 0)
		if got := status(sid); got != "undelivered" {
			t.Errorf("a text undelivered, then reported delivered: %q, want undelivered", got)
		}
		if c := h.openCase(from, lettings); !strings.HasPrefix(c.TextbackStatus, "undelivered") {
			t.Errorf("its case's text-back: %q, want undelivered", c.TextbackStatus)
		}
	})
}

// Twilio reports nearly every text "sent" a moment after taking it, then
// "delivered". The card says "sent" from the moment Twilio has the text, so
// the "sent" receipt records the step and changes nothing on the card: no
// card refresh, no Slack call (before: a chat.update and its outbox row per
// text, a third of the Slack calls a missed call made). The delivery, which
// staff see, refreshes the card; so does a failure. A staff reply's card
// line reads the same way.
func TestSentReceiptLeavesTheCardAsItIs(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.missed("CAse0000000000000000000000000001", caller, lettings)
		h.flush()
		card, _ := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(card, "*Text-back*\nsent") {
			t.Fatalf("the card does not say the text-back is sent once Twilio took it:\n%s", card)
		}
		texts := h.textsTo(caller)
		updates := h.slack.Calls("chat.update")
		rows := len(cardRows(t, h, c.ID))
		taken := h.openCase(caller, lettings)
		h.clock.Advance(time.Minute)
		h.receipt(texts[0].SID, "sent", 0)
		if m, err := h.store.ReadMessageBySID(t.Context(), texts[0].SID); err != nil || m.Status != "sent" {
			t.Errorf("after the sent receipt the text is %q (%v), want sent", m.Status, err)
		}
		// Nor does it change the case: the read API's sync (updated_since)
		// does not fetch it again for a step nobody sees.
		if got := h.openCase(caller, lettings); !got.UpdatedAt.Equal(taken.UpdatedAt) || got.TextbackStatus != "sent" {
			t.Errorf("after the sent receipt the case changed at %v (before %v), text-back %q: want it as it was",
				got.UpdatedAt, taken.UpdatedAt, got.TextbackStatus)
		}
		if n := h.slack.Calls("chat.update") - updates; n != 0 {
			t.Errorf("the sent receipt updated the card %d times, want none: it reads the same", n)
		}
		if n := len(cardRows(t, h, c.ID)) - rows; n != 0 {
			t.Errorf("the sent receipt queued %d card refreshes, want none", n)
		}

		h.receipt(texts[0].SID, "delivered", 0)
		if n := h.slack.Calls("chat.update") - updates; n != 1 {
			t.Errorf("the delivered receipt updated the card %d times, want once", n)
		}
		if card, _ = cardAndThread(h, "C0LETTINGS"); !strings.Contains(card, "*Text-back*\ndelivered") {
			t.Errorf("the card does not show the delivery:\n%s", card)
		}
		if got := h.openCase(caller, lettings); got.TextbackStatus != "delivered" || !got.UpdatedAt.Equal(taken.UpdatedAt) {
			t.Errorf("after the delivery the case's text-back is %q, changed at %v: want delivered, changed at %v as before (the read API shows neither)",
				got.TextbackStatus, got.UpdatedAt, taken.UpdatedAt)
		}

		// A staff reply: Twilio has it ("sent" on the card), its "sent"
		// receipt changes nothing there, its delivery shows ✓.
		reply := h.replyOn(h.openCase(caller, lettings))
		if card, _ = cardAndThread(h, "C0LETTINGS"); !strings.Contains(card, "sent") || strings.Contains(card, "sending…") {
			t.Errorf("the card does not show the reply sent once Twilio took it:\n%s", card)
		}
		updates = h.slack.Calls("chat.update")
		h.receipt(reply.SID, "sent", 0)
		if n := h.slack.Calls("chat.update") - updates; n != 0 {
			t.Errorf("the reply's sent receipt made %d Slack updates, want none", n)
		}
		h.receipt(reply.SID, "delivered", 0)
		if card, _ = cardAndThread(h, "C0LETTINGS"); !strings.Contains(card, "✓ delivered") {
			t.Errorf("the card does not show the reply delivered:\n%s", card)
		}
	})
}

// cardRows are case id's card rows on Slack in the outbox, done or not.
func cardRows(t *testing.T, h *harness, id int64) []store.OutboxItem {
	t.Helper()
	rows, err := h.store.CaseOutbox(t.Context(), id, "chat.card.slack")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
