package handlers

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
)

// Discord translates Discord's interactions (button clicks, selects, modal
// submissions, /callbacks) into the bot's verbs. Discord posts each one to
// the interactions endpoint and waits up to 3 seconds for the answer in the
// HTTP response; work that takes longer is acknowledged with a deferred
// answer and finished through the interaction's webhook.
type Discord struct {
	bot     *bot.Bot
	adapter *rbdiscord.Adapter
	key     ed25519.PublicKey
	log     *slog.Logger
	now     func() time.Time
	// deferAfter is how long a request may work before Discord gets a
	// deferred answer; Discord's own limit is 3 s, network included.
	deferAfter time.Duration

	replays replayGuard
	wg      sync.WaitGroup
}

// maxSkew is how far a request's signed timestamp may be from now.
const maxSkew = 5 * time.Minute

// NewDiscord returns the dispatcher. publicKey is the application's public
// key as the developer portal shows it (DISCORD_PUBLIC_KEY, hex).
func NewDiscord(b *bot.Bot, a *rbdiscord.Adapter, publicKey string, log *slog.Logger) (*Discord, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(publicKey))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("handlers: DISCORD_PUBLIC_KEY is not a hex Ed25519 public key (%d bytes)", len(raw))
	}
	return &Discord{
		bot: b, adapter: a, key: ed25519.PublicKey(raw), log: log, now: time.Now,
		deferAfter: 2 * time.Second,
	}, nil
}

// SetDeferAfter changes how long a request works before it is deferred
// (tests use 0 to exercise the deferred path).
func (d *Discord) SetDeferAfter(t time.Duration) { d.deferAfter = t }

// Wait blocks until work that outlived its request has finished (shutdown,
// tests).
func (d *Discord) Wait() { d.wg.Wait() }

// MountDiscord adds the signed interactions endpoint.
func (srv *Server) MountDiscord(d *Discord) {
	srv.discord = d
	d.replays.store = srv.store
	srv.mount(partDiscord)
}

func (d *Discord) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := ReadBody(w, r)
	if !ok {
		return
	}
	if why := d.verify(r, body); why != "" {
		code := http.StatusUnauthorized
		if why == whyUnchecked {
			code = http.StatusServiceUnavailable
		} else {
			signatureRefused(r, "discord")
		}
		d.log.Info("discord request refused", "reason", why)
		http.Error(w, "invalid request signature", code)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	if i.Type == discordgo.InteractionPing {
		writeInteraction(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	d.adapter.NoteGuild(i.GuildID)
	d.answer(w, r, &i)
}

// verify checks the Ed25519 signature over timestamp + raw body, the
// timestamp's age, and that the request was not seen before (a replay);
// it returns why a request is refused, "" when it is good.
func (d *Discord) verify(r *http.Request, body []byte) string {
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !discordgo.VerifyInteraction(r, d.key) {
		return "bad signature"
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-Signature-Timestamp"), 10, 64)
	if err != nil {
		return "bad timestamp"
	}
	now := d.now()
	if skew := now.Sub(time.Unix(ts, 0)); skew > maxSkew || skew < -maxSkew {
		return "stale timestamp"
	}
	key := replayKey(rbdiscord.Platform, r.Header.Get("X-Signature-Ed25519"), r.Header.Get("X-Signature-Timestamp"))
	fresh, err := d.replays.first(r.Context(), key, now, maxSkew+time.Minute)
	switch {
	case err != nil:
		d.log.Error("discord: replay record unavailable", "error", err)
		return whyUnchecked
	case !fresh:
		return "replayed"
	}
	return ""
}

// whyUnchecked is verify's answer when the replay record cannot be read.
const whyUnchecked = "replay record unavailable"

// answer runs the interaction and writes its response; past deferAfter it
// writes a deferred response instead and finishes through the webhook.
func (d *Discord) answer(w http.ResponseWriter, r *http.Request, i *discordgo.Interaction) {
	if opensModal(i) {
		// A modal must be the first answer, and opening one reads one row:
		// answer at once, never deferred.
		writeInteraction(w, d.Interaction(r.Context(), i))
		return
	}
	done := make(chan *discordgo.InteractionResponse, 1)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		// The work outlives the request when deferred: it must not be
		// canceled with it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		defer cancel()
		done <- d.Interaction(ctx, i)
	}()
	if d.deferAfter > 0 {
		timer := time.NewTimer(d.deferAfter)
		defer timer.Stop()
		select {
		case resp := <-done:
			writeInteraction(w, resp)
			return
		case <-timer.C:
		}
	}
	deferred := discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	if i.Type == discordgo.InteractionApplicationCommand {
		deferred = discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}
	}
	writeInteraction(w, &deferred)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		resp := <-done
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.finish(ctx, i, resp); err != nil {
			d.log.Error("discord: deferred answer not delivered", "type", i.Type, "error", err)
		}
	}()
}

// opensModal reports the selects whose answer is a modal (the result of a
// callback, the outcome of a close).
func opensModal(i *discordgo.Interaction) bool {
	if i.Type != discordgo.InteractionMessageComponent {
		return false
	}
	action, _, _, _ := rbdiscord.ParseCustomID(i.MessageComponentData().CustomID)
	return action == rbdiscord.ActionLogPick || action == rbdiscord.ActionClosePick
}

// finish delivers a response that came after a deferred one.
func (d *Discord) finish(ctx context.Context, i *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	switch {
	case resp.Type == discordgo.InteractionResponseDeferredMessageUpdate || resp.Data == nil:
		return nil
	case resp.Type == discordgo.InteractionResponseModal:
		return errors.New("a modal cannot follow a deferred answer")
	case i.Type == discordgo.InteractionApplicationCommand, resp.Type == discordgo.InteractionResponseUpdateMessage:
		// The deferred command answer, or the component's message.
		return d.adapter.EditOriginal(ctx, i.AppID, i.Token, resp.Data)
	}
	return d.adapter.Followup(ctx, i.AppID, i.Token, resp.Data)
}

// Interaction handles a signed interaction and returns Discord's response.
func (d *Discord) Interaction(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		return d.command(ctx, i)
	case discordgo.InteractionMessageComponent:
		return d.component(ctx, i)
	case discordgo.InteractionModalSubmit:
		return d.modal(ctx, i)
	}
	return reply(rbdiscord.Say("Ringback does not handle this kind of interaction."))
}

// writeInteraction writes an interaction response as the HTTP answer.
func writeInteraction(w http.ResponseWriter, resp *discordgo.InteractionResponse) {
	raw, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "cannot encode the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

func reply(data *discordgo.InteractionResponseData) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}
}

// update replaces the message a component is on. Its flags are left out:
// an update keeps the message's own (ephemeral stays ephemeral).
func update(data *discordgo.InteractionResponseData) *discordgo.InteractionResponse {
	data.Flags = 0
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage, Data: data}
}

var acknowledged = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}

// words is what the person who was refused reads; errors that are not
// refusals are logged and read as a failure.
func (d *Discord) words(err error) bot.Text {
	var r *bot.Refusal
	if errors.As(err, &r) {
		return r.Text()
	}
	d.log.Error("discord interaction failed", "error", err)
	return bot.Failure
}

// warning is words for a refusal heading a message that stays usable (the
// panel), marked as the pickers mark theirs.
func (d *Discord) warning(err error) bot.Text {
	return append(bot.Text{bot.Words("⚠️ ")}, d.words(err)...)
}

// ack answers a card action: nothing to show when it worked (the card is
// edited through the outbox), the refusal to the clicker when not.
func (d *Discord) ack(err error) *discordgo.InteractionResponse {
	if err == nil {
		return acknowledged
	}
	return reply(rbdiscord.SayText(d.words(err)))
}

func (d *Discord) component(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	data := i.MessageComponentData()
	if data.CustomID == rbdiscord.ActionMineRefresh {
		return d.panel(ctx, i, nil)
	}
	action, id, extra, ok := rbdiscord.ParseCustomID(data.CustomID)
	if !ok {
		d.log.Info("discord: component without a case", "custom_id", data.CustomID)
		return acknowledged
	}
	a := d.adapter.Actor(i)
	if err := d.bot.May(ctx, a, rbdiscord.TableAction(action), id); err != nil {
		if action == bot.ActionRelease && fromPanel(i) {
			return d.panel(ctx, i, d.warning(err))
		}
		return d.ack(err)
	}
	value := ""
	if len(data.Values) > 0 {
		value = data.Values[0]
	}
	var err error
	switch action {
	case bot.ActionClaim:
		_, err = d.bot.Claim(ctx, id, a)
	case bot.ActionReopen:
		_, err = d.bot.Reopen(ctx, id, a)
	case bot.ActionReassign:
		_, err = d.bot.Reassign(ctx, id, a, value)
	case bot.ActionCategory:
		_, err = d.bot.SetCategory(ctx, id, a, value)
	case bot.ActionRelease:
		_, err = d.bot.Release(ctx, id, a)
		if fromPanel(i) {
			// The case leaves the panel: its answer is the panel as it is now.
			note := bot.Plainf("Released #%d back to the queue.", id)
			if err != nil {
				note = d.warning(err)
			}
			return d.panel(ctx, i, note)
		}
		if err == nil && i.GuildID == "" {
			// From a reminder DM: the DM says what happened.
			return update(rbdiscord.Done(fmt.Sprintf("Released #%d back to the queue.", id)))
		}
	case rbdiscord.ActionStillOnIt:
		if _, err = d.bot.StillOnIt(ctx, id, a); err == nil {
			return update(rbdiscord.Done("Thanks: the case stays yours."))
		}
	case bot.ActionOptOut, bot.ActionNotOptOut:
		_, err = d.bot.DecideOptOut(ctx, id, a, action == bot.ActionOptOut)
	case bot.ActionSpam:
		return d.step(ctx, id, a, func(k bot.Card) *discordgo.InteractionResponseData { return rbdiscord.SpamConfirm(k) })
	case rbdiscord.ActionSpamConfirm:
		if _, err = d.bot.MarkSpam(ctx, id, a); err == nil {
			return update(rbdiscord.Done(fmt.Sprintf("#%d is closed as spam and the number is on the spam list.", id)))
		}
		return update(rbdiscord.DoneText(d.words(err)))
	case bot.ActionReply:
		return d.replyPicker(ctx, id, a, "", nil, reply)
	case rbdiscord.ActionReplyPick:
		return d.replyPicker(ctx, id, a, value, nil, update)
	case rbdiscord.ActionReplySend:
		if _, err = d.bot.SendReply(ctx, id, a, extra); err == nil {
			return update(rbdiscord.Done(fmt.Sprintf("Sending %s to the caller. It shows in the case's thread once Twilio accepts it.", strings.ReplaceAll(extra, "_", " "))))
		}
		return d.replyPicker(ctx, id, a, extra, d.words(err), update)
	case rbdiscord.ActionReplyLater:
		var timing bot.ReplyTiming
		if timing, err = d.bot.ReplyTiming(ctx, id); err == nil {
			_, err = d.bot.ScheduleReply(ctx, id, a, extra)
		}
		if err == nil {
			when := "now: it is within their hours"
			if timing.Quiet {
				when = "at " + timing.SendAt.Format("15:04") + ", the caller's time"
			}
			return update(rbdiscord.Done(fmt.Sprintf("Sending %s to the caller %s. The case's thread shows it.", strings.ReplaceAll(extra, "_", " "), when)))
		}
		return d.replyPicker(ctx, id, a, extra, d.words(err), update)
	case bot.ActionLog:
		return d.step(ctx, id, a, func(k bot.Card) *discordgo.InteractionResponseData { return rbdiscord.LogPicker(k, nil) })
	case rbdiscord.ActionLogPick:
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: rbdiscord.LogModal(id, value)}
	case bot.ActionClose:
		return d.step(ctx, id, a, func(k bot.Card) *discordgo.InteractionResponseData { return rbdiscord.ClosePicker(k, nil) })
	case rbdiscord.ActionClosePick:
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: rbdiscord.CloseModal(id, "#"+strconv.FormatInt(id, 10), value)}
	default:
		d.log.Info("discord: unknown action", "custom_id", data.CustomID)
		return acknowledged
	}
	return d.ack(err)
}

// fromPanel reports a click on the /callbacks mine panel: of the messages
// carrying case buttons, only the panel is ephemeral (the card and a
// reminder DM are not; the pickers carry no Release).
func fromPanel(i *discordgo.Interaction) bool {
	return i.Message != nil && i.Message.Flags&discordgo.MessageFlagsEphemeral != 0
}

// panel answers a click on the /callbacks mine panel by updating it in
// place with the person's cases as they are now, note above them; someone
// who may no longer see the queue reads why, and no case.
func (d *Discord) panel(ctx context.Context, i *discordgo.Interaction, note bot.Text) *discordgo.InteractionResponse {
	v, err := d.bot.Queue(ctx, bot.QueueRequest{Mine: true, Actor: d.adapter.Actor(i), Platform: rbdiscord.Platform, Limit: rbdiscord.PanelCases})
	if err != nil {
		return update(rbdiscord.DoneText(d.words(err)))
	}
	return update(rbdiscord.MinePanel(v, note, d.adapter.CardLink))
}

// step opens an ephemeral step (picker, confirmation) for staff.
func (d *Discord) step(ctx context.Context, id int64, a bot.Actor, render func(bot.Card) *discordgo.InteractionResponseData) *discordgo.InteractionResponse {
	if err := d.bot.MayWork(a); err != nil {
		return d.ack(err)
	}
	k, err := d.bot.Card(ctx, id)
	if err != nil {
		return d.ack(err)
	}
	return reply(render(k))
}

// replyPicker shows (as a new ephemeral message, or updating the picker)
// the approved templates for the case, with the selected one previewed.
func (d *Discord) replyPicker(ctx context.Context, id int64, a bot.Actor, selected string, note bot.Text, as func(*discordgo.InteractionResponseData) *discordgo.InteractionResponse) *discordgo.InteractionResponse {
	if err := d.bot.MayWork(a); err != nil {
		return d.ack(err)
	}
	k, err := d.bot.Card(ctx, id)
	if err != nil {
		return d.ack(err)
	}
	choices, err := d.bot.ReplyChoices(ctx, id, a)
	if err != nil {
		return d.ack(err)
	}
	timing, err := d.bot.ReplyTiming(ctx, id)
	if err != nil {
		return d.ack(err)
	}
	return as(rbdiscord.ReplyPicker(k, choices, selected, note, timing))
}

// modal handles Log callback's and Close's submissions. The picker message
// the modal came from is updated: with the result, or with the refusal
// above the picker again, so the person can try once more.
func (d *Discord) modal(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	data := i.ModalSubmitData()
	action, id, extra, ok := rbdiscord.ParseCustomID(data.CustomID)
	if !ok {
		return acknowledged
	}
	a := d.adapter.Actor(i)
	if err := d.bot.May(ctx, a, action, id); err != nil {
		return reply(rbdiscord.SayText(d.words(err))) // the refusal alone, no card
	}
	note := modalValue(data.Components, rbdiscord.InputNote)
	// A modal opened from a component may update that component's
	// message; one opened otherwise may only answer anew.
	as := update
	if i.Message == nil {
		as = reply
	}
	var err error
	var again func(bot.Card, bot.Text) *discordgo.InteractionResponseData
	switch action {
	case bot.ActionLog:
		_, err = d.bot.LogCallback(ctx, id, a, extra, note)
		if err == nil {
			return as(rbdiscord.Done(fmt.Sprintf("Logged on #%d: %s.", id, strings.ReplaceAll(extra, "_", " "))))
		}
		again = rbdiscord.LogPicker
	case bot.ActionClose:
		_, err = d.bot.Close(ctx, id, a, extra, note)
		if err == nil {
			return as(rbdiscord.Done(fmt.Sprintf("Closed #%d: %s.", id, strings.ReplaceAll(extra, "_", " "))))
		}
		again = rbdiscord.ClosePicker
	default:
		return acknowledged
	}
	words := d.words(err)
	k, cerr := d.bot.Card(ctx, id)
	if cerr != nil {
		return as(rbdiscord.DoneText(words))
	}
	return as(again(k, words))
}

// modalValue finds a text input's value in a modal submission.
func modalValue(rows []discordgo.MessageComponent, customID string) string {
	for _, c := range rows {
		switch v := c.(type) {
		case *discordgo.ActionsRow:
			if s := modalValue(v.Components, customID); s != "" {
				return s
			}
		case *discordgo.TextInput:
			if v.CustomID == customID {
				return v.Value
			}
		}
	}
	return ""
}

// command answers /callbacks [args]; the answer is ephemeral.
func (d *Discord) command(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	data := i.ApplicationCommandData()
	if data.Name != "callbacks" {
		return reply(rbdiscord.Say("Unknown command."))
	}
	args := ""
	if o := data.GetOption("args"); o != nil && o.Type == discordgo.ApplicationCommandOptionString {
		args = o.StringValue()
	}
	r, err := d.bot.Command(ctx, bot.Invoker{Actor: d.adapter.Actor(i), Platform: rbdiscord.Platform, QueueLimit: 25}, args)
	switch {
	case err != nil:
		return reply(rbdiscord.SayText(d.words(err)))
	case r.Queue != nil && r.Queue.Mine:
		return reply(rbdiscord.MinePanel(*r.Queue, nil, d.adapter.CardLink))
	case r.Queue != nil:
		return reply(rbdiscord.QueueMessage(*r.Queue, d.adapter.CardLink))
	}
	return reply(rbdiscord.SayText(r.Text))
}
