package handlers_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	"ringback/bot/discord/discordstandin"
	"ringback/handlers"
	"ringback/store"
	"ringback/store/storetest"
)

// Discord ids of the test guild.
const (
	dToken     = "discord-test-bot-token"
	dApp       = "1000000000000000009"
	dGuild     = "1000000000000000001"
	dLettings  = "1100000000000000001"
	dMaint     = "1100000000000000002"
	dDigest    = "1100000000000000009"
	dAlice     = "1200000000000000001"
	dBob       = "1200000000000000002"
	dMia       = "1200000000000000003" // a manager
	dVisitor   = "1200000000000000004"
	dStaffRole = "1400000000000000001"
)

var dNames = map[string][2]string{
	dAlice: {"alice", "Alice Jones"}, dBob: {"bob", "Bob Brown"}, dMia: {"mia", "Mia Manager"}, dVisitor: {"vic", "Vic Visitor"},
}

// discordHarness is a real Ringback HTTP server on a real store whose chat
// is Discord: Twilio and Discord are local stand-ins speaking their REST
// APIs, and interactions are signed with a key made for the test.
type discordHarness struct {
	*harness
	discord *discordstandin.Server
	adapter *rbdiscord.Adapter
	handler *handlers.Discord
	priv    ed25519.PrivateKey
	seq     int
}

func newDiscordHarness(t *testing.T, backend string, opts ...rbdiscord.Option) *discordHarness {
	t.Helper()
	cfg := loadConfig(t, filepath.Join("..", "testdata", "ringback.yaml"))
	// Until config has discord.managers, the bot learns Discord managers
	// from the managers list.
	cfg.Managers = append(cfg.Managers, dMia)
	h := newBotHarness(t, storetest.New(t, backend), cfg, rbdiscord.Platform)
	dc := discordstandin.NewServer(dToken, dApp)
	t.Cleanup(dc.Close)
	for id, n := range dNames {
		dc.AddUser(id, n[0], n[1])
	}
	opts = append([]rbdiscord.Option{rbdiscord.WithManagers(dMia), rbdiscord.WithDigestChannel(dDigest), rbdiscord.WithGuild(dGuild)}, opts...)
	adapter := rbdiscord.New(dToken, dApp, dc.URL, h.bot, map[string]string{lettings: dLettings, maint: dMaint}, quietLog, opts...)
	h.bot.RegisterChat(h.worker, adapter)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	dh, err := handlers.NewDiscord(h.bot, adapter, hex.EncodeToString(pub), quietLog)
	if err != nil {
		t.Fatal(err)
	}
	srv := handlers.New(handlers.Deps{Store: h.store, Log: quietLog})
	srv.MountDiscord(dh)
	h.serve(srv)
	t.Cleanup(dh.Wait)
	return &discordHarness{harness: h, discord: dc, adapter: adapter, handler: dh, priv: priv}
}

// eachDiscord runs fn on every backend with a fresh harness.
func eachDiscord(t *testing.T, fn func(t *testing.T, h *discordHarness), opts ...rbdiscord.Option) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) { fn(t, newDiscordHarness(t, backend, opts...)) })
	}
}

// signed posts body as Discord does: Ed25519 over timestamp + body.
func (h *discordHarness) signed(body []byte, ts time.Time, priv ed25519.PrivateKey) (int, string) {
	h.t.Helper()
	return h.do(discordRequest(h.server.URL, body, ts, priv))
}

// discordRequest is body posted to the interactions endpoint of the server
// at base as Discord would: signed at ts.
func discordRequest(base string, body []byte, ts time.Time, priv ed25519.PrivateKey) *http.Request {
	req, _ := http.NewRequest("POST", base+"/discord/interactions", strings.NewReader(string(body)))
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Timestamp", stamp)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, append([]byte(stamp), body...))))
	return req
}

// response is Discord's view of an interaction answer.
type response struct {
	Type int `json:"type"`
	Data struct {
		Content    string          `json:"content"`
		Flags      int             `json:"flags"`
		CustomID   string          `json:"custom_id"`
		Title      string          `json:"title"`
		Components json.RawMessage `json:"components"`
	} `json:"data"`
	raw string
}

func (r response) text() string { return r.raw }
func (r response) ids() []string {
	return discordstandin.CustomIDs(r.Data.Components)
}

// interact signs and posts an interaction, checks that the answer keeps
// Discord's rules, and decodes it.
func (h *discordHarness) interact(payload map[string]any) response {
	h.t.Helper()
	h.seq++
	payload["id"] = "1500000000000000" + strconv.Itoa(100+h.seq)
	payload["token"] = "token-" + strconv.Itoa(h.seq)
	payload["application_id"], payload["version"] = dApp, 1
	body, _ := json.Marshal(payload)
	code, out := h.signed(body, time.Now(), h.priv)
	if code != 200 {
		h.t.Fatalf("interaction answered %d: %s", code, out)
	}
	if probs := discordstandin.ResponseProblems([]byte(out)); len(probs) > 0 {
		h.t.Fatalf("answer breaks Discord's rules: %v\n%s", probs, out)
	}
	var r response
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		h.t.Fatalf("answer %q: %v", out, err)
	}
	r.raw = out
	return r
}

func member(userID string, roles ...string) map[string]any {
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{"user": map[string]any{"id": userID, "username": dNames[userID][0], "global_name": dNames[userID][1]}, "roles": roles}
}

// component is a MESSAGE_COMPONENT interaction from a guild channel.
func component(userID, customID, channel, messageID string, values ...string) map[string]any {
	data := map[string]any{"custom_id": customID, "component_type": 2}
	if values != nil {
		data["component_type"], data["values"] = 3, values
	}
	return map[string]any{
		"type": 3, "guild_id": dGuild, "channel_id": channel, "member": member(userID),
		"message": map[string]any{"id": messageID, "channel_id": channel}, "data": data,
	}
}

// modalSubmit is a MODAL_SUBMIT from a modal opened on an ephemeral picker.
func modalSubmit(userID, customID, channel, note string) map[string]any {
	return map[string]any{
		"type": 5, "guild_id": dGuild, "channel_id": channel, "member": member(userID),
		"message": map[string]any{"id": "1600000000000000001", "channel_id": channel, "flags": 64},
		"data": map[string]any{"custom_id": customID, "components": []any{map[string]any{
			"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "note", "value": note}},
		}}},
	}
}

func slash(userID, args string) map[string]any {
	data := map[string]any{"id": "1700000000000000001", "name": "callbacks", "type": 1}
	if args != "" {
		data["options"] = []any{map[string]any{"name": "args", "type": 3, "value": args}}
	}
	return map[string]any{"type": 2, "guild_id": dGuild, "channel_id": dLettings, "member": member(userID), "data": data}
}

// card returns the one card in channel.
// cardedCase plays a missed call on Lettings and returns its open case, the
// case's id as the buttons carry it, and its card.
func (h *discordHarness) cardedCase(sid string) (store.Case, string, discordstandin.Message) {
	h.t.Helper()
	c := h.missed(sid, caller, lettings)
	return c, strconv.FormatInt(c.ID, 10), h.card(dLettings)
}

func (h *discordHarness) card(channel string) discordstandin.Message {
	h.t.Helper()
	var cards []discordstandin.Message
	for _, m := range h.discord.Messages(channel) {
		if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "#") {
			cards = append(cards, m)
		}
	}
	if len(cards) != 1 {
		h.t.Fatalf("%d cards in %s, want exactly one: %+v", len(cards), channel, h.discord.Messages(channel))
	}
	return cards[0]
}

func (h *discordHarness) threadText(id string) string {
	h.t.Helper()
	th, ok := h.discord.Thread(id)
	if !ok {
		h.t.Fatalf("no thread on card %s", id)
	}
	var parts []string
	for _, m := range th.Messages {
		parts = append(parts, m.Content)
	}
	return strings.Join(parts, "\n")
}

func ref(id int64) string { return "#" + strconv.FormatInt(id, 10) }

func TestDiscordCaseLifecycle(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		// Missed call → one card in the line's channel, with its thread.
		c, id, card := h.cardedCase("CAd0000000000000000000000000000001")
		if text := card.Text(); !strings.Contains(text, ref(c.ID)) || !strings.Contains(text, "07700 900123") || !strings.Contains(text, "Unclaimed") {
			t.Fatalf("card text:\n%s", text)
		}
		if got := strings.Join(card.CustomIDs(), ","); got != "claim:"+id+",reply:"+id+",log_callback:"+id+",close:"+id+",spam:"+id+",reassign:"+id+",category:"+id {
			t.Fatalf("components = %s", got)
		}
		if th, ok := h.discord.Thread(card.ID); !ok || th.ParentID != dLettings || !strings.HasPrefix(th.Name, ref(c.ID)) {
			t.Fatalf("thread = %+v %v", th, ok)
		}
		if n := len(h.discord.Messages(dMaint)); n != 0 {
			t.Fatalf("%d messages in another line's channel", n)
		}

		// Claim → the same card shows the owner; the thread says who.
		if r := h.interact(component(dAlice, "claim:"+id, dLettings, card.ID)); r.Type != 6 {
			t.Fatalf("claim answered %s", r.text())
		}
		h.flush()
		card = h.card(dLettings)
		if card.Edits == 0 || !strings.Contains(card.Text(), "<@"+dAlice+">") || card.CustomIDs()[0] != "release:"+id {
			t.Fatalf("card after claim (edits %d):\n%s\n%v", card.Edits, card.Text(), card.CustomIDs())
		}
		if th := h.threadText(card.ID); !strings.Contains(th, "<@"+dAlice+"> claimed the case") {
			t.Fatalf("thread:\n%s", th)
		}

		// A second Claim → an ephemeral refusal naming the owner, pinging nobody.
		r := h.interact(component(dBob, "claim:"+id, dLettings, card.ID))
		if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(r.Data.Content, "already claimed by <@"+dAlice+">") {
			t.Fatalf("second claim answered %s", r.text())
		}
		if !strings.Contains(r.raw, `"parse":[]`) {
			t.Fatalf("refusal may ping: %s", r.raw)
		}
		if got := h.openCase(caller, lettings); got.Owner != dAlice {
			t.Fatalf("owner = %s", got.Owner)
		}

		// The caller replies "2" → thread entry, category on the card.
		h.texted(caller, lettings, "2")
		if th := h.threadText(card.ID); !strings.Contains(th, "Caller chose Maintenance") {
			t.Fatalf("thread after triage:\n%s", th)
		}
		if text := h.card(dLettings).Text(); !strings.Contains(text, "Category: Maintenance") {
			t.Fatalf("card after triage:\n%s", text)
		}

		// Reply: a template select, a preview with Send, then the SMS.
		r = h.interact(component(dAlice, "reply:"+id, dLettings, card.ID))
		if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(r.raw, `"callback_missed"`) || r.ids()[0] != "reply_pick:"+id {
			t.Fatalf("reply answered %s", r.text())
		}
		r = h.interact(component(dAlice, "reply_pick:"+id, dLettings, "1600000000000000002", "callback_missed"))
		if r.Type != 7 || !strings.Contains(r.raw, "Alice tried to call you back") || !strings.Contains(r.raw, "SMS segment") {
			t.Fatalf("preview answered %s", r.text())
		}
		send := r.ids()[len(r.ids())-1]
		if send != "reply_send:"+id+":callback_missed" {
			t.Fatalf("send button = %s", send)
		}
		if r = h.interact(component(dAlice, send, dLettings, "1600000000000000002")); r.Type != 7 || !strings.Contains(r.Data.Content, "Sending") {
			t.Fatalf("send answered %s", r.text())
		}
		h.flush()
		texts := h.textsTo(caller)
		if last := texts[len(texts)-1]; !strings.HasPrefix(last.Body, "Sorry we missed you, Alice tried to call you back") {
			t.Fatalf("texts to caller = %+v", texts)
		}
		if th := h.threadText(card.ID); !strings.Contains(th, "Alice tried to call you back") {
			t.Fatalf("reply not in thread:\n%s", th)
		}

		// /callbacks lists the case, with a link to its card.
		r = h.interact(slash(dBob, ""))
		if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(r.raw, ref(c.ID)) || !strings.Contains(r.raw, "replied") {
			t.Fatalf("/callbacks answered %s", r.text())
		}
		if link := "https://discord.com/channels/" + dGuild + "/" + dLettings + "/" + card.ID; !strings.Contains(r.raw, link) {
			t.Fatalf("/callbacks has no link to the card: %s", r.raw)
		}

		// Close: outcome select → modal with a required note → collapsed card.
		r = h.interact(component(dAlice, "close:"+id, dLettings, card.ID))
		if r.Type != 4 || r.ids()[0] != "close_pick:"+id {
			t.Fatalf("close answered %s", r.text())
		}
		r = h.interact(component(dAlice, "close_pick:"+id, dLettings, "1600000000000000001", "booked"))
		if r.Type != 9 || r.Data.CustomID != "close:"+id+":booked" || !strings.Contains(r.raw, `"required":true`) {
			t.Fatalf("outcome answered %s", r.text())
		}
		r = h.interact(modalSubmit(dAlice, "close:"+id+":booked", dLettings, "   "))
		if r.Type != 7 || !strings.Contains(r.Data.Content, "A note is required") || r.ids()[0] != "close_pick:"+id {
			t.Fatalf("blank note answered %s", r.text())
		}
		r = h.interact(modalSubmit(dAlice, "close:"+id+":booked", dLettings, "Viewing booked Thu 2pm"))
		if r.Type != 7 || !strings.Contains(r.Data.Content, "Closed") || len(r.ids()) != 0 {
			t.Fatalf("close answered %s", r.text())
		}
		h.flush()
		card = h.card(dLettings)
		if text := card.Text(); !strings.Contains(text, "closed · booked") || !strings.Contains(text, "Viewing booked Thu 2pm") || len(card.Embeds[0].Fields) != 0 {
			t.Fatalf("closed card:\n%s", text)
		}
		if ids := card.CustomIDs(); len(ids) != 1 || ids[0] != "reopen:"+id {
			t.Fatalf("closed card components = %v", ids)
		}
		if got, _ := h.store.CaseByID(t.Context(), c.ID); got.State != "closed" || got.Outcome != "booked" {
			t.Fatalf("case = %s %s", got.State, got.Outcome)
		}
		if n := len(h.discord.Messages(dLettings)); n != 1 {
			t.Fatalf("%d messages in the channel, want the one card", n)
		}
	})
}

func TestDiscordRefusesForgedAndStaleRequests(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c, _, card := h.cardedCase("CAd2")
		p := component(dAlice, "claim:"+strconv.FormatInt(c.ID, 10), dLettings, card.ID)
		p["id"], p["token"], p["application_id"], p["version"] = "1500000000000000001", "tok", dApp, 1
		body, _ := json.Marshal(p)

		_, other, _ := ed25519.GenerateKey(nil)
		if code, _ := h.signed(body, time.Now(), other); code != http.StatusUnauthorized {
			t.Errorf("forged: %d", code)
		}
		if code, _ := h.signed(body, time.Now().Add(-6*time.Minute), h.priv); code != http.StatusUnauthorized {
			t.Errorf("six minutes old: %d", code)
		}
		if code, _ := h.signed(body, time.Now().Add(6*time.Minute), h.priv); code != http.StatusUnauthorized {
			t.Errorf("six minutes ahead: %d", code)
		}
		req, _ := http.NewRequest("POST", h.server.URL+"/discord/interactions", strings.NewReader(string(body)))
		if code, _ := h.do(req); code != http.StatusUnauthorized {
			t.Errorf("unsigned: %d", code)
		}
		// A body changed after signing.
		req, _ = http.NewRequest("POST", h.server.URL+"/discord/interactions", strings.NewReader(strings.Replace(string(body), dAlice, dBob, 1)))
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Signature-Timestamp", stamp)
		req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(h.priv, append([]byte(stamp), body...))))
		if code, _ := h.do(req); code != http.StatusUnauthorized {
			t.Errorf("tampered: %d", code)
		}
		h.flush()
		if got := h.openCase(caller, lettings); got.Owner != "" {
			t.Fatal("a refused request claimed the case")
		}
		if now := h.card(dLettings); now.Edits != card.Edits {
			t.Fatal("a refused request changed the card")
		}

		// Discord's endpoint check: PING → PONG.
		if code, out := h.signed([]byte(`{"id":"1","application_id":"`+dApp+`","type":1,"token":"t","version":1}`), time.Now(), h.priv); code != 200 || strings.TrimSpace(out) != `{"type":1}` {
			t.Fatalf("ping: %d %s", code, out)
		}
		// A good request works once; its replay is refused.
		stampAt := time.Now()
		if code, _ := h.signed(body, stampAt, h.priv); code != 200 {
			t.Fatalf("good request: %d", code)
		}
		if code, _ := h.signed(body, stampAt, h.priv); code != http.StatusUnauthorized {
			t.Errorf("replay: %d", code)
		}
	})
}

func TestDiscordCallerTextCannotPing(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		h.missed("CAd3", caller, lettings)
		h.texted(caller, lettings, "Call me after 5 @everyone <@123> @here <@&456> **now**")
		card := h.card(dLettings)
		th, _ := h.discord.Thread(card.ID)
		var got *discordstandin.Message
		for i, m := range th.Messages {
			if strings.Contains(m.Content, "Call me after 5") {
				got = &th.Messages[i]
			}
		}
		if got == nil {
			t.Fatalf("caller's text not in the thread: %+v", th.Messages)
		}
		for _, bad := range []string{"@everyone", "@here", "<@123>", "<@&456>", "**now**"} {
			if strings.Contains(got.Content, bad) {
				t.Errorf("thread entry carries %q live: %q", bad, got.Content)
			}
		}
		if !strings.Contains(got.Content, "@\u200beveryone") || !strings.Contains(got.Content, "<\u200b@123") {
			t.Errorf("thread entry lost the caller's words: %q", got.Content)
		}
		am := got.AllowedMentions
		if am == nil || am.Parse == nil || len(am.Parse) != 0 || len(am.Users) != 0 || len(am.Roles) != 0 {
			t.Fatalf("allowed_mentions = %+v", am)
		}
		if !strings.Contains(string(got.JSON), `"parse":[]`) {
			t.Fatalf("allowed_mentions must say parse: [] explicitly: %s", got.JSON)
		}
	})
}

func TestDiscordRateLimitDelaysTheCard(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		h.discord.FailNext(discordstandin.RouteCreateMessage, 1, http.StatusTooManyRequests, 30)
		h.missed("CAd4", caller, lettings)
		if n := len(h.discord.Messages(dLettings)); n != 0 {
			t.Fatalf("card posted through a 429: %d", n)
		}
		h.clock.Advance(29 * time.Second)
		h.flush()
		if n := len(h.discord.Messages(dLettings)); n != 0 {
			t.Fatal("card posted before retry_after")
		}
		h.clock.Advance(time.Second)
		h.flush()
		card := h.card(dLettings) // exactly one
		if _, ok := h.discord.Thread(card.ID); !ok {
			t.Fatal("no thread on the card posted after the retry")
		}
		if n := h.discord.Calls(discordstandin.RouteCreateMessage); n < 2 {
			t.Fatalf("%d posts", n)
		}
	})
}

func TestDiscordMissingAccessIsRecordedAndRetried(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		h.discord.DenyChannel(dLettings)
		c := h.missed("CAd5", caller, lettings)
		events, _ := h.store.EventsForCase(t.Context(), c.ID)
		found := 0
		for _, e := range events {
			if e.Kind == "chat_failed" && strings.Contains(e.Data, "give the bot access") && strings.Contains(e.Data, dLettings) {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("%d chat_failed events: %+v", found, events)
		}
		h.discord.AllowChannel(dLettings)
		h.clock.Advance(2 * time.Second)
		h.flush()
		h.card(dLettings) // arrives once the bot has access
		events, _ = h.store.EventsForCase(t.Context(), c.ID)
		for _, e := range events {
			if e.Kind == "side_effect_failed" {
				t.Fatalf("the card row went dead: %+v", e)
			}
		}
	})
}

func TestDiscordManagerReassigns(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, card := h.cardedCase("CAd6")
		pick := func(userID string) response {
			p := component(userID, "reassign:"+id, dLettings, card.ID, dBob)
			p["data"].(map[string]any)["component_type"] = 5
			return h.interact(p)
		}
		if r := pick(dAlice); r.Type != 4 || !strings.Contains(r.Data.Content, "Only managers") {
			t.Fatalf("staff reassigning answered %s", r.text())
		}
		if r := pick(dMia); r.Type != 6 {
			t.Fatalf("manager reassigning answered %s", r.text())
		}
		h.flush()
		if got := h.openCase(caller, lettings); got.Owner != dBob || got.AssignedBy != dMia {
			t.Fatalf("owner %q assigned by %q", got.Owner, got.AssignedBy)
		}
		if text := h.card(dLettings).Text(); !strings.Contains(text, "<@"+dBob+"> (assigned by <@"+dMia+">)") {
			t.Fatalf("card:\n%s", text)
		}
		// The assignee is pinged in the thread; the manager who clicked is not.
		th, _ := h.discord.Thread(card.ID)
		last := th.Messages[len(th.Messages)-1]
		if !strings.Contains(last.Content, "assigned the case to <@"+dBob+">") || len(last.AllowedMentions.Users) != 1 || last.AllowedMentions.Users[0] != dBob {
			t.Fatalf("reassign entry = %q %+v", last.Content, last.AllowedMentions)
		}
	})
}

func TestDiscordSlashCommandVerbs(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		h.missed("CAd7", caller, lettings)
		for args, want := range map[string]string{
			"help":               "/callbacks args:mine",
			"bogus":              "/callbacks args:mine",
			"mine":               "Your callbacks",
			"overdue":            "Overdue callbacks",
			"line maintenance":   "Open callbacks on Maintenance",
			"line nowhere":       "No line called",
			"stats":              "Callback stats",
			"templates":          "callback_missed",
			"optout 07700900555": "Only managers",
		} {
			r := h.interact(slash(dAlice, args))
			if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(r.raw, want) {
				t.Errorf("/callbacks %s: %s lacks %q", args, r.raw, want)
			}
		}
		if r := h.interact(slash(dMia, "optout 07700 900555")); !strings.Contains(r.Data.Content, "+447700900555 is opted out") {
			t.Fatalf("manager optout: %s", r.raw)
		}
		if err := h.adapter.RegisterCommands(t.Context()); err != nil {
			t.Fatal(err)
		}
		cmds := h.discord.Commands(dGuild)
		if len(cmds) != 1 || cmds[0].Name != "callbacks" || len(cmds[0].Options) != 1 || cmds[0].Options[0].Name != "args" || cmds[0].Options[0].Required {
			t.Fatalf("registered commands = %+v", cmds)
		}
	})
}

func TestDiscordDeferredAnswers(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c, id, card := h.cardedCase("CAd8")
		h.handler.SetDeferAfter(0)

		// A slow command: "thinking…" at once, the queue through @original.
		r := h.interact(slash(dBob, ""))
		if r.Type != 5 || r.Data.Flags != 64 {
			t.Fatalf("deferred command answered %s", r.text())
		}
		h.handler.Wait()
		ws := h.discord.Webhooks("token-" + strconv.Itoa(h.seq))
		if len(ws) != 1 || ws[0].MessageID != "@original" || !strings.Contains(ws[0].Text(), ref(c.ID)) {
			t.Fatalf("@original edits = %+v", ws)
		}

		// A slow click: acknowledged, and a refusal comes as an ephemeral follow-up.
		if r := h.interact(component(dAlice, "claim:"+id, dLettings, card.ID)); r.Type != 6 {
			t.Fatalf("deferred claim answered %s", r.text())
		}
		h.handler.Wait()
		if r := h.interact(component(dBob, "claim:"+id, dLettings, card.ID)); r.Type != 6 {
			t.Fatalf("deferred second claim answered %s", r.text())
		}
		h.handler.Wait()
		ws = h.discord.Webhooks("token-" + strconv.Itoa(h.seq))
		if len(ws) != 1 || ws[0].MessageID != "" || ws[0].Flags != 64 || !strings.Contains(ws[0].Content, "already claimed by <@"+dAlice+">") {
			t.Fatalf("follow-ups = %+v", ws)
		}
		if got := h.openCase(caller, lettings); got.Owner != dAlice {
			t.Fatalf("owner = %s", got.Owner)
		}
	})
}

func TestDiscordStaffRole(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, card := h.cardedCase("CAd9")
		if r := h.interact(component(dVisitor, "claim:"+id, dLettings, card.ID)); r.Type != 4 || !strings.Contains(r.Data.Content, "Only staff") {
			t.Fatalf("claim without the staff role answered %s", r.text())
		}
		if r := h.interact(component(dVisitor, "close:"+id, dLettings, card.ID)); r.Type != 4 || !strings.Contains(r.Data.Content, "Only staff") {
			t.Fatalf("close without the staff role answered %s", r.text())
		}
		p := component(dAlice, "claim:"+id, dLettings, card.ID)
		p["member"] = member(dAlice, dStaffRole)
		if r := h.interact(p); r.Type != 6 {
			t.Fatalf("claim with the staff role answered %s", r.text())
		}
		if got := h.openCase(caller, lettings); got.Owner != dAlice {
			t.Fatalf("owner = %q", got.Owner)
		}
	}, rbdiscord.WithStaffRole(dStaffRole))
}

func TestDiscordRemindersDigestAndSpam(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c, id, card := h.cardedCase("CAd10")
		h.interact(component(dAlice, "claim:"+id, dLettings, card.ID))
		h.flush()

		// 30 minutes without contact: the owner is asked by DM.
		h.clock.Advance(31 * time.Minute)
		if err := h.bot.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		h.flush()
		dms := h.discord.DMs(dAlice)
		if len(dms) != 1 || strings.Join(dms[0].CustomIDs(), ",") != "still_on_it:"+id+",release:"+id || !strings.Contains(dms[0].Content, "/channels/"+dGuild+"/"+dLettings+"/"+card.ID) {
			t.Fatalf("DMs to alice = %+v", dms)
		}
		dm := map[string]any{
			"type": 3, "channel_id": "1800000000000000001", "user": map[string]any{"id": dAlice, "username": "alice"},
			"message": map[string]any{"id": "1800000000000000002", "channel_id": "1800000000000000001"},
			"data":    map[string]any{"custom_id": "still_on_it:" + id, "component_type": 2},
		}
		if r := h.interact(dm); r.Type != 7 || !strings.Contains(r.Data.Content, "stays yours") || len(r.ids()) != 0 {
			t.Fatalf("still on it answered %s", r.text())
		}
		// The weekly digest (due since 08:00 this Monday) went to the digest channel.
		var digest bool
		for _, m := range h.discord.Messages(dDigest) {
			digest = digest || strings.Contains(m.Text(), "Weekly digest")
		}
		if !digest {
			t.Fatalf("digest channel: %+v", h.discord.Messages(dDigest))
		}

		// Spam is for managers; it asks first; confirming closes the case.
		for _, step := range []string{"spam:", "spam_confirm:"} {
			if r := h.interact(component(dAlice, step+id, dLettings, card.ID)); !strings.Contains(r.Data.Content, "Only managers") || len(r.ids()) != 0 {
				t.Fatalf("staff's %s answered %s", step, r.text())
			}
		}
		r := h.interact(component(dMia, "spam:"+id, dLettings, card.ID))
		if r.Type != 4 || r.ids()[0] != "spam_confirm:"+id {
			t.Fatalf("spam answered %s", r.text())
		}
		if got := h.openCase(caller, lettings); got.Spam {
			t.Fatal("spam without confirmation")
		}
		if r := h.interact(component(dMia, "spam_confirm:"+id, dLettings, "1600000000000000003")); r.Type != 7 || !strings.Contains(r.Data.Content, "spam") {
			t.Fatalf("spam confirm answered %s", r.text())
		}
		if got, _ := h.store.CaseByID(t.Context(), c.ID); got.State != "closed" || !got.Spam {
			t.Fatalf("case = %s spam %v", got.State, got.Spam)
		}
	})
}

func TestDiscordDeletedCardIsPostedAgain(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c := h.missed("CAd11", caller, lettings)
		old := h.card(dLettings)
		h.discord.DeleteMessage(dLettings, old.ID)
		if _, err := h.bot.Claim(t.Context(), c.ID, bot.Actor{ID: dAlice, Name: "Alice Jones", Staff: true}); err != nil {
			t.Fatal(err)
		}
		h.flush()
		card := h.card(dLettings)
		if card.ID == old.ID || !strings.Contains(card.Text(), "<@"+dAlice+">") {
			t.Fatalf("card after deletion: %s %s", card.ID, card.Text())
		}
		// Later entries go to the new card's thread.
		h.texted(caller, lettings, "hello again")
		if th := h.threadText(card.ID); !strings.Contains(th, "hello again") {
			t.Fatalf("new card's thread:\n%s", th)
		}
	})
}

func TestDiscordLogCallback(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c, id, card := h.cardedCase("CAd12")
		r := h.interact(component(dAlice, "log_callback:"+id, dLettings, card.ID))
		if r.Type != 4 || r.Data.Flags != 64 || r.ids()[0] != "log_pick:"+id || !strings.Contains(r.raw, `"left_voicemail"`) {
			t.Fatalf("log callback answered %s", r.text())
		}
		r = h.interact(component(dAlice, "log_pick:"+id, dLettings, "1600000000000000001", "left_voicemail"))
		if r.Type != 9 || r.Data.CustomID != "log_callback:"+id+":left_voicemail" {
			t.Fatalf("result answered %s", r.text())
		}
		r = h.interact(modalSubmit(dAlice, "log_callback:"+id+":left_voicemail", dLettings, "Left a message @here"))
		if r.Type != 7 || !strings.Contains(r.Data.Content, "Logged") {
			t.Fatalf("log submit answered %s", r.text())
		}
		h.flush()
		if th := h.threadText(card.ID); !strings.Contains(th, "<@"+dAlice+"> logged a callback: left voicemail\n> Left a message @\u200bhere") {
			t.Fatalf("thread:\n%q", th)
		}
		got, _ := h.store.CaseByID(t.Context(), c.ID)
		if got.ContactAttempts != 1 || got.FirstContactAt == nil {
			t.Fatalf("contact attempts %d, first contact %v", got.ContactAttempts, got.FirstContactAt)
		}
	})
}

func TestDiscordModalIsNeverDeferred(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		h.missed("CAd13", caller, lettings)
		id := strconv.FormatInt(h.openCase(caller, lettings).ID, 10)
		h.handler.SetDeferAfter(0)
		if r := h.interact(component(dAlice, "close_pick:"+id, dLettings, "1600000000000000001", "resolved")); r.Type != 9 {
			t.Fatalf("outcome answered %s", r.text())
		}
	})
}

// Discord: the preview in quiet hours offers "Send at 08:00" beside "Send
// now", and the first queues the text for then.
func TestDiscordReplyInQuietHoursCanWaitForTheCallersWindow(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c := h.floridaAfterEight("CAq0000000000000000000000000000003")
		card := h.card(dLettings)
		id := strconv.FormatInt(c.ID, 10)
		h.interact(component(dAlice, "reply:"+id, dLettings, card.ID))
		r := h.interact(component(dAlice, "reply_pick:"+id, dLettings, "1600000000000000002", "callback_missed"))
		if !strings.Contains(r.Data.Content, "It is **20:30** for the caller") || !slices.Contains(r.ids(), "reply_later:"+id+":callback_missed") ||
			!slices.Contains(r.ids(), "reply_send:"+id+":callback_missed") || !strings.Contains(r.raw, `"Send at 08:00"`) || !strings.Contains(r.raw, `"Send now"`) {
			t.Fatalf("preview in quiet hours answered %s", r.raw)
		}
		r = h.interact(component(dAlice, "reply_later:"+id+":callback_missed", dLettings, "1600000000000000002"))
		if r.Type != 7 || !strings.Contains(r.Data.Content, "at 08:00, the caller's time") {
			t.Fatalf("send at 08:00 answered %s", r.text())
		}
		h.heldUntil(miamiOpens)
	})
}

func TestDiscordReplayIsRefusedByEveryReplica(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, _ := h.cardedCase("CAd0000000000000000000000000000r01")
		p := component(dAlice, "reply_send:"+id+":callback_missed", dLettings, "1600000000000000002")
		p["id"], p["token"], p["application_id"], p["version"] = "1500000000000000001", "tok", dApp, 1
		body, _ := json.Marshal(p)
		replica := h.replica(func(srv *handlers.Server, log *slog.Logger) {
			d, err := handlers.NewDiscord(h.bot, h.adapter, hex.EncodeToString(h.priv.Public().(ed25519.PublicKey)), log)
			if err != nil {
				t.Fatal(err)
			}
			srv.MountDiscord(d)
			t.Cleanup(d.Wait)
		})
		stamp := time.Now()
		h.replays(func(base string) *http.Request { return discordRequest(base, body, stamp, h.priv) }, "X-Signature-Ed25519", "", replica)
	})
}

func TestDiscordWhoMaySeeAndDoWhat(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, card := h.cardedCase("CAdacc1")
		// Neither the pickers nor a forged modal submission open for who
		// is not staff, and no refusal shows the caller.
		for _, p := range []map[string]any{
			component(dVisitor, "log_pick:"+id, dLettings, "1600000000000000001", "reached"),
			component(dVisitor, "close_pick:"+id, dLettings, "1600000000000000001", "booked"),
			component(dVisitor, "reply_pick:"+id, dLettings, "1600000000000000001", "callback_missed"),
			component(dVisitor, "spam:"+id, dLettings, card.ID),
			modalSubmit(dVisitor, "close:"+id+":booked", dLettings, "done"),
			modalSubmit(dVisitor, "log_callback:"+id+":reached", dLettings, "done"),
			slash(dVisitor, ""), slash(dVisitor, "stats"), slash(dVisitor, "templates"), slash(dVisitor, "line Lettings"),
		} {
			r := h.interact(p)
			if r.Type == 9 || !strings.Contains(r.Data.Content, "Only staff") || revealsCaller(r.raw) || len(r.ids()) != 0 {
				t.Errorf("%v by a visitor answered %s", p["data"], r.text())
			}
		}
		if got := h.openCase(caller, lettings); got.State != "open" || got.ContactAttempts != 0 {
			t.Fatalf("a visitor changed the case: %+v", got)
		}
		// Staff (the role) may; Spam stays for managers.
		staff := func(p map[string]any) map[string]any { p["member"] = member(dAlice, dStaffRole); return p }
		if r := h.interact(staff(component(dAlice, "log_pick:"+id, dLettings, "1600000000000000001", "reached"))); r.Type != 9 {
			t.Fatalf("staff's log pick answered %s", r.text())
		}
		if r := h.interact(staff(component(dAlice, "spam:"+id, dLettings, card.ID))); !strings.Contains(r.Data.Content, "Only managers") {
			t.Fatalf("staff's spam answered %s", r.text())
		}
	}, rbdiscord.WithStaffRole(dStaffRole))
}

// A reply that cannot go says why, and Send is there but disabled: here
// the caller opted out after the card was posted.
func TestDiscordReplyToAnOptedOutCallerHasSendDisabled(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, card := h.cardedCase("CAdoptout000000000000000000000001")
		if r := h.interact(slash(dMia, "optout "+caller)); !strings.Contains(r.Data.Content, "is opted out") {
			t.Fatalf("manager optout: %s", r.raw)
		}
		h.interact(component(dAlice, "reply:"+id, dLettings, card.ID))
		r := h.interact(component(dAlice, "reply_pick:"+id, dLettings, "1600000000000000002", "callback_missed"))
		if !strings.Contains(r.raw, "Cannot be sent:** the caller opted out of texts") {
			t.Fatalf("the preview does not say why: %s", r.raw)
		}
		if !strings.Contains(r.raw, `"disabled":true,"custom_id":"reply_send:`+id+`:callback_missed"`) {
			t.Fatalf("Send is not there disabled: %s", r.raw)
		}
	})
}
