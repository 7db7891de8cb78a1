package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"ringback/bot"
	rbslack "ringback/bot/slack"
)

// Slack translates Slack's interactions, slash commands and events into the
// bot's verbs. The same dispatcher serves HTTP mode (signed endpoints) and
// Socket Mode.
type Slack struct {
	bot     *bot.Bot
	adapter *rbslack.Adapter
	log     *slog.Logger
	// async runs work that may outlast Slack's 3-second acknowledgement.
	async func(func(ctx context.Context))
	// work bounds the Socket Mode requests handled at once.
	work chan struct{}
}

// NewSlack returns the dispatcher.
func NewSlack(b *bot.Bot, a *rbslack.Adapter, log *slog.Logger) *Slack {
	s := &Slack{bot: b, adapter: a, log: log, work: make(chan struct{}, maxSocketWork)}
	s.async = func(f func(ctx context.Context)) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f(ctx)
		}()
	}
	return s
}

// SetAsync replaces how slow work is run after acknowledging (tests run it
// inline so they can assert on its effects).
func (s *Slack) SetAsync(f func(func(ctx context.Context))) { s.async = f }

// MountSlack adds the signed HTTP endpoints.
func (srv *Server) MountSlack(s *Slack, signingSecret string) {
	srv.slack, srv.slackV = s, &slackVerifier{secret: signingSecret, log: srv.log, replays: replayGuard{store: srv.store}}
	srv.mount(partSlack)
}

// slackVerifier checks Slack's signature over the raw body, the 5-minute
// window, and refuses a request seen before (a replay).
type slackVerifier struct {
	secret  string
	log     *slog.Logger
	replays replayGuard
}

func (v *slackVerifier) wrap(h func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := ReadBody(w, r)
		if !ok {
			return
		}
		if v.secret == "" {
			v.log.Error("slack request refused: SLACK_SIGNING_SECRET is not set")
			http.Error(w, "signatures cannot be checked", http.StatusForbidden)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, v.secret)
		if err == nil {
			sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			signatureRefused(r, "slack")
			v.log.Info("slack request refused", "path", r.URL.Path, "reason", err.Error())
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if !v.first(w, r) {
			return
		}
		h(w, r, body)
	})
}

// first remembers a verified request for the window in which its
// signature is valid, and refuses it when it was seen before.
func (v *slackVerifier) first(w http.ResponseWriter, r *http.Request) bool {
	sig, _ := strings.CutPrefix(r.Header.Get("X-Slack-Signature"), "v0=")
	key := replayKey(rbslack.Platform, sig, r.Header.Get("X-Slack-Request-Timestamp"))
	fresh, err := v.replays.first(r.Context(), key, time.Now(), 6*time.Minute)
	switch {
	case err != nil:
		v.log.Error("slack request refused: replay record unavailable", "path", r.URL.Path, "error", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
	case !fresh:
		signatureRefused(r, "slack")
		v.log.Info("slack request refused: replayed", "path", r.URL.Path)
		http.Error(w, "replayed request", http.StatusUnauthorized)
	}
	return err == nil && fresh
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if v == nil {
		return
	}
	json.NewEncoder(w).Encode(v)
}

func (s *Slack) httpInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "missing payload", http.StatusBadRequest)
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return
	}
	resp := s.Interaction(r.Context(), cb)
	writeJSON(w, resp)
}

func (s *Slack) httpCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	cmd := slack.SlashCommand{
		Command: form.Get("command"), Text: form.Get("text"), UserID: form.Get("user_id"), UserName: form.Get("user_name"),
		ChannelID: form.Get("channel_id"), TeamID: form.Get("team_id"), TriggerID: form.Get("trigger_id"), ResponseURL: form.Get("response_url"),
	}
	if cmd.UserID == "" {
		http.Error(w, "missing user_id", http.StatusBadRequest)
		return
	}
	writeJSON(w, s.Command(r.Context(), cmd))
}

func (s *Slack) httpEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		var ch slackevents.ChallengeResponse
		json.Unmarshal(body, &ch)
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(ch.Challenge))
		return
	}
	s.Event(ev)
	w.WriteHeader(http.StatusOK)
}

// Event handles an Events API event (App Home opened).
func (s *Slack) Event(ev slackevents.EventsAPIEvent) {
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && home.Tab == "home" {
		s.async(func(ctx context.Context) {
			if err := s.adapter.PublishHome(ctx, home.User); err != nil {
				s.log.Warn("slack: app home not published", "error", err)
			}
		})
	}
}

// Interaction handles a click or a modal submission and returns the body
// of Slack's acknowledgement (nil: empty).
func (s *Slack) Interaction(ctx context.Context, cb slack.InteractionCallback) any {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		if len(cb.ActionCallback.BlockActions) == 0 {
			return nil
		}
		s.blockAction(ctx, cb, cb.ActionCallback.BlockActions[0])
	case slack.InteractionTypeViewSubmission:
		return s.viewSubmission(ctx, cb)
	}
	return nil
}

func (s *Slack) actor(ctx context.Context, u slack.User) bot.Actor {
	return s.adapter.Actor(ctx, u.ID, u.Name)
}

// refusal shows a bot refusal to the person who clicked; other errors are
// logged and shown as a failure.
func (s *Slack) refusal(channel, user string, err error) {
	text := rbslack.Mrkdwn(s.words(err))
	if channel == "" {
		return
	}
	s.async(func(ctx context.Context) { s.adapter.Ephemeral(ctx, channel, user, text) })
}

// words is what the person who was refused reads; errors that are not
// refusals are logged and read as a failure.
func (s *Slack) words(err error) bot.Text {
	var r *bot.Refusal
	if errors.As(err, &r) {
		return r.Text()
	}
	s.log.Error("slack action failed", "error", err)
	return bot.Failure
}

func (s *Slack) blockAction(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) {
	if cb.View.ID != "" && cb.View.CallbackID == rbslack.ModalReply && act.ActionID == rbslack.BlockTemplate {
		s.replyPreview(ctx, cb, act.SelectedOption.Value)
		return
	}
	value := act.Value
	if value == "" {
		value = strings.TrimPrefix(act.BlockID, "case:") // selects carry no value
	}
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		s.log.Info("slack action without a case", "action_id", act.ActionID)
		return
	}
	a := s.actor(ctx, cb.User)
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	if err := s.bot.May(ctx, a, act.ActionID, id); err != nil {
		s.refusal(channel, cb.User.ID, err)
		return
	}
	switch act.ActionID {
	case bot.ActionClaim:
		_, err = s.bot.Claim(ctx, id, a)
	case bot.ActionRelease:
		_, err = s.bot.Release(ctx, id, a)
	case bot.ActionReopen:
		_, err = s.bot.Reopen(ctx, id, a)
	case bot.ActionReassign:
		_, err = s.bot.Reassign(ctx, id, a, act.SelectedUser)
	case bot.ActionCategory:
		_, err = s.bot.SetCategory(ctx, id, a, act.SelectedOption.Value)
	case rbslack.ActionStillOnIt:
		_, err = s.bot.StillOnIt(ctx, id, a)
		if err == nil {
			s.async(func(ctx context.Context) {
				s.adapter.Ephemeral(ctx, channel, cb.User.ID, "Thanks: the case stays yours.")
			})
		}
	case bot.ActionSpam:
		_, err = s.bot.MarkSpam(ctx, id, a)
	case bot.ActionOptOut, bot.ActionNotOptOut:
		_, err = s.bot.DecideOptOut(ctx, id, a, act.ActionID == bot.ActionOptOut)
	case bot.ActionReply, bot.ActionLog, bot.ActionClose:
		err = s.openModal(ctx, cb.TriggerID, id, a, act.ActionID)
	default:
		s.log.Info("slack: unknown action", "action_id", act.ActionID)
		return
	}
	if err != nil {
		s.refusal(channel, cb.User.ID, err)
	}
}

func (s *Slack) openModal(ctx context.Context, trigger string, id int64, a bot.Actor, action string) error {
	if err := s.bot.MayWork(a); err != nil {
		return err
	}
	card, err := s.bot.Card(ctx, id)
	if err != nil {
		return err
	}
	var v slack.ModalViewRequest
	switch action {
	case bot.ActionReply:
		choices, timing, err := s.replyChoices(ctx, id, a)
		if err != nil {
			return err
		}
		v = rbslack.ReplyModal(card, choices, "", timing)
	case bot.ActionLog:
		v = rbslack.LogModal(card)
	case bot.ActionClose:
		v = rbslack.CloseModal(card)
	}
	return s.adapter.OpenModal(ctx, trigger, v)
}

// replyChoices are what the Reply modal offers: the templates, and when
// the caller is in their quiet hours, the choice of when to send.
func (s *Slack) replyChoices(ctx context.Context, id int64, a bot.Actor) ([]bot.TemplateChoice, bot.ReplyTiming, error) {
	choices, err := s.bot.ReplyChoices(ctx, id, a)
	if err != nil {
		return nil, bot.ReplyTiming{}, err
	}
	timing, err := s.bot.ReplyTiming(ctx, id)
	return choices, timing, err
}

func (s *Slack) replyPreview(ctx context.Context, cb slack.InteractionCallback, key string) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return
	}
	a := s.actor(ctx, cb.User)
	if err := s.bot.May(ctx, a, bot.ActionReply, id); err != nil {
		return
	}
	card, err := s.bot.Card(ctx, id)
	if err != nil {
		s.log.Warn("slack: preview failed", "error", err)
		return
	}
	choices, timing, err := s.replyChoices(ctx, id, a)
	if err != nil {
		s.log.Warn("slack: preview failed", "error", err)
		return
	}
	if err := s.adapter.UpdateModal(ctx, cb.View.ID, cb.View.Hash, rbslack.ReplyModal(card, choices, key, timing)); err != nil {
		s.log.Warn("slack: preview failed", "error", err)
	}
}

// viewSubmission handles a modal's submit. Refusals come back as field
// errors in the modal, which stays open.
func (s *Slack) viewSubmission(ctx context.Context, cb slack.InteractionCallback) any {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil
	}
	a := s.actor(ctx, cb.User)
	values := cb.View.State.Values
	selected := func(block string) string { return values[block][block].SelectedOption.Value }
	text := func(block string) string { return values[block][block].Value }
	var field string
	switch cb.View.CallbackID {
	case rbslack.ModalReply:
		field = rbslack.BlockTemplate
		if selected(rbslack.BlockWhen) == bot.ReplyLater {
			_, err = s.bot.ScheduleReply(ctx, id, a, selected(rbslack.BlockTemplate))
		} else {
			_, err = s.bot.SendReply(ctx, id, a, selected(rbslack.BlockTemplate))
		}
	case rbslack.ModalLog:
		field = rbslack.BlockResult
		_, err = s.bot.LogCallback(ctx, id, a, selected(rbslack.BlockResult), text(rbslack.BlockNote))
	case rbslack.ModalClose:
		field = rbslack.BlockNote
		if selected(rbslack.BlockOutcome) == "" {
			field = rbslack.BlockOutcome
		}
		_, err = s.bot.Close(ctx, id, a, selected(rbslack.BlockOutcome), text(rbslack.BlockNote))
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	// Field errors are plain text: the refusal's words, without mentions.
	msg := bot.Failure.String()
	var r *bot.Refusal
	if errors.As(err, &r) {
		msg = r.Message
	} else {
		s.log.Error("slack modal submission failed", "callback_id", cb.View.CallbackID, "error", err)
	}
	return slack.NewErrorsViewSubmissionResponse(map[string]string{field: msg})
}

// Command answers /callbacks; the reply is shown only to whoever typed it.
func (s *Slack) Command(ctx context.Context, cmd slack.SlashCommand) *slack.Msg {
	a := s.actor(ctx, slack.User{ID: cmd.UserID, Name: cmd.UserName})
	r, err := s.bot.Command(ctx, bot.Invoker{Actor: a, Platform: rbslack.Platform}, cmd.Text)
	if err != nil {
		s.log.Error("slack command failed", "error", err)
		r = bot.Reply{Text: bot.Failure}
	}
	msg := &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: rbslack.Mrkdwn(r.Text)}
	if r.Queue != nil {
		msg.Text = fmt.Sprintf("%s: %d", r.Queue.Title, r.Queue.Total)
		msg.Blocks = slack.Blocks{BlockSet: rbslack.QueueBlocks(*r.Queue, s.adapter.Permalink)}
	}
	return msg
}
