package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ringback/bot/slack/slackstandin"
)

// What Slack puts in every request it sends an app.
const (
	teamDomain        = "ringback-sandbox"
	verificationToken = "sandbox-verification-token" // Slack's deprecated per-app token; Ringback checks signatures
	requiredField     = "Please complete this required field."
)

// slackResult is what Ringback answered to a request the sandbox sent as
// Slack, for the page.
type slackResult struct {
	Status    int               `json:"status"`             // Ringback's HTTP status
	Response  json.RawMessage   `json:"response,omitempty"` // its JSON answer, as Slack would get it
	Errors    map[string]string `json:"errors,omitempty"`   // a modal's field errors
	Closed    bool              `json:"closed,omitempty"`   // the modal closed, as Slack closes it
	TriggerID string            `json:"trigger_id,omitempty"`
}

// postSlack sends form to Ringback as Slack does: form-encoded, signed
// with the signing secret over "v0:timestamp:body". The timestamp is the
// wall clock's, as Slack's is: the demo clock may be days ahead.
func (s *Sandbox) postSlack(ctx context.Context, path string, form url.Values) (int, []byte, error) {
	return s.postSlackBody(ctx, path, "application/x-www-form-urlencoded", form.Encode())
}

// postSlackBody is postSlack for a body already encoded: the Events API's
// JSON.
func (s *Sandbox) postSlackBody(ctx context.Context, path, contentType, body string) (int, []byte, error) {
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(s.opt.SigningSecret))
	fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opt.BaseURL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("sandbox: slack request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	res, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sandbox: post %s: %w", path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("sandbox: read answer of %s: %w", path, err)
	}
	return res.StatusCode, out, nil
}

// interact posts an interaction payload to /slack/interactions.
func (s *Sandbox) interact(ctx context.Context, payload map[string]any) (slackResult, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return slackResult{}, fmt.Errorf("sandbox: encode payload: %w", err)
	}
	status, body, err := s.postSlack(ctx, "/slack/interactions", url.Values{"payload": {string(raw)}})
	if err != nil {
		return slackResult{}, err
	}
	res := slackResult{Status: status}
	if t := strings.TrimSpace(string(body)); t != "" && json.Valid(body) {
		res.Response = json.RawMessage(t)
	}
	return res, nil
}

// sendContext keeps a request to Ringback going when the page stops
// waiting: Slack does not take back a click either.
func sendContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
}

func (s *Sandbox) slackUser(u User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": slackstandin.TeamID}
}

func slackTeam() map[string]any {
	return map[string]any{"id": slackstandin.TeamID, "domain": teamDomain}
}

// newTrigger makes a trigger_id, remembering whose click it was so that a
// modal opened with it shows for that person.
func (s *Sandbox) newTrigger(user string) string {
	id := fmt.Sprintf("%d.%d.%s", time.Now().Unix(), s.nextSeq(), randomHex(16))
	s.mu.Lock()
	s.triggers[id] = user
	s.mu.Unlock()
	return id
}

func actionTS() string {
	now := time.Now()
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

// responseURL is where Slack lets an app answer a click or command later.
func (s *Sandbox) responseURL(user, channel string) string {
	return fmt.Sprintf("%s/sandbox/slack/response/%s/%s/%d", s.opt.BaseURL, user, channel, s.nextSeq())
}

func (s *Sandbox) channelName(id string) string {
	for _, l := range s.opt.Config.Lines {
		if l.Channel == id {
			return channelName(l.Name)
		}
	}
	if id == s.opt.Config.Digest.Channel {
		return "managers-digest"
	}
	if strings.HasPrefix(id, "D") {
		return "directmessage"
	}
	return strings.ToLower(id)
}

// --- clicks on messages ---

type actionRequest struct {
	User     string `json:"user"`
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	BlockID  string `json:"block_id"`
	ActionID string `json:"action_id"`
	Value    string `json:"value"` // the button's value, or the chosen option
	// Type and Text describe the element as the page showed it, for a
	// click on a message that changed meanwhile (see staleAction).
	Type string `json:"type"`
	Text string `json:"text"`
}

// apiAction sends the block_actions payload of a click on a message's
// button or select, built from the message as the Slack stand-in holds it.
func (s *Sandbox) apiAction(w http.ResponseWriter, r *http.Request) {
	var req actionRequest
	u, ok := s.readFromUser(w, r, &req, &req.User)
	if !ok {
		return
	}
	msg, ok := s.slack.Message(req.Channel, req.TS)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("no message %s in %s", req.TS, req.Channel))
		return
	}
	var action map[string]any
	if el, err := findElement(msg.Blocks, req.BlockID, req.ActionID); err == nil {
		action, err = actionOf(el, req.BlockID, req.Value)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
	} else if action, err = staleAction(req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	// A click on a message means no modal is in front of it any more.
	s.dismissViews(u.ID)
	trigger := s.newTrigger(u.ID)
	message := map[string]any{
		"type": "message", "subtype": "bot_message", "text": msg.Text, "ts": msg.TS, "user": msg.User,
		"bot_id": slackstandin.BotID, "app_id": slackstandin.AppID, "team": slackstandin.TeamID, "blocks": msg.Blocks,
	}
	if msg.ThreadTS != "" {
		message["thread_ts"] = msg.ThreadTS
	}
	payload := map[string]any{
		"type": "block_actions", "user": s.slackUser(u), "api_app_id": slackstandin.AppID, "token": verificationToken,
		"container":  map[string]any{"type": "message", "message_ts": msg.TS, "channel_id": req.Channel, "is_ephemeral": false},
		"trigger_id": trigger, "team": slackTeam(), "enterprise": nil, "is_enterprise_install": false,
		"channel": map[string]any{"id": req.Channel, "name": s.channelName(req.Channel)},
		"message": message, "state": map[string]any{"values": map[string]any{}},
		"response_url": s.responseURL(u.ID, req.Channel),
		"actions":      []any{action},
	}
	res, ok := s.interactFor(w, r, payload)
	if !ok {
		return
	}
	res.TriggerID = trigger
	s.hub.notify()
	writeJSON(w, http.StatusOK, res)
}

// block is the part of a Block Kit block the sandbox reads.
type block struct {
	Type           string           `json:"type"`
	BlockID        string           `json:"block_id"`
	Elements       []map[string]any `json:"elements"`
	Accessory      map[string]any   `json:"accessory"`
	Element        map[string]any   `json:"element"`
	Optional       bool             `json:"optional"`
	DispatchAction bool             `json:"dispatch_action"`
}

func parseBlocks(raw json.RawMessage) ([]block, error) {
	var blocks []block
	if len(raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, fmt.Errorf("sandbox: blocks: %w", err)
	}
	return blocks, nil
}

// findElement finds the interactive element blockID/actionID in blocks.
func findElement(raw json.RawMessage, blockID, actionID string) (map[string]any, error) {
	blocks, err := parseBlocks(raw)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if b.BlockID != blockID {
			continue
		}
		candidates := append([]map[string]any{}, b.Elements...)
		if b.Accessory != nil {
			candidates = append(candidates, b.Accessory)
		}
		if b.Element != nil {
			candidates = append(candidates, b.Element)
		}
		for _, el := range candidates {
			if str(el["action_id"]) == actionID {
				return el, nil
			}
		}
	}
	return nil, badRequest("no element %s in block %s", actionID, blockID)
}

// actionOf is the "actions" entry Slack sends for a click on el.
func actionOf(el map[string]any, blockID, chosen string) (map[string]any, error) {
	a := map[string]any{"action_id": el["action_id"], "block_id": blockID, "type": el["type"], "action_ts": actionTS()}
	switch str(el["type"]) {
	case "button":
		a["text"] = el["text"]
		if v, ok := el["value"]; ok {
			a["value"] = v
		}
		if st, ok := el["style"]; ok {
			a["style"] = st
		}
	case "users_select", "conversations_select", "channels_select":
		if chosen == "" {
			return nil, badRequest("choose someone or something in %s", str(el["action_id"]))
		}
		a[pickedKey[str(el["type"])]] = chosen
		for _, k := range []string{"initial_user", "initial_conversation", "initial_channel", "placeholder"} {
			if v, ok := el[k]; ok {
				a[k] = v
			}
		}
	case "static_select", "overflow":
		opt := findOption(el, chosen)
		if opt == nil {
			return nil, badRequest("%q is not an option of %s", chosen, str(el["action_id"]))
		}
		a["selected_option"] = opt
		if p, ok := el["placeholder"]; ok {
			a["placeholder"] = p
		}
	default:
		return nil, badRequest("the sandbox cannot click a %s", str(el["type"]))
	}
	return a, nil
}

// pickedKey is where Slack puts what was picked in a users, conversations
// or channels select.
var pickedKey = map[string]string{
	"users_select":         "selected_user",
	"conversations_select": "selected_conversation",
	"channels_select":      "selected_channel",
}

// staleAction is the action of a click on a button the message no longer
// has: another person's click changed the card while this one was on its
// way. Slack sends such clicks as the clicker's screen showed them, and
// Ringback must settle the race (the Claim race), so the sandbox does too.
func staleAction(req actionRequest) (map[string]any, error) {
	a := map[string]any{"action_id": req.ActionID, "block_id": req.BlockID, "type": req.Type, "action_ts": actionTS()}
	text := map[string]any{"type": "plain_text", "text": req.Text, "emoji": true}
	switch req.Type {
	case "button":
		a["text"], a["value"] = text, req.Value
	case "static_select", "overflow":
		a["selected_option"] = map[string]any{"text": text, "value": req.Value}
	case "users_select", "conversations_select", "channels_select":
		a[pickedKey[req.Type]] = req.Value
	default:
		return nil, badRequest("no element %s in block %s", req.ActionID, req.BlockID)
	}
	return a, nil
}

// findOption returns the option of a select whose value is value, as Slack
// echoes it (text and value).
func findOption(el map[string]any, value string) map[string]any {
	var opts []any
	if o, ok := el["options"].([]any); ok {
		opts = append(opts, o...)
	}
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				if o, ok := gm["options"].([]any); ok {
					opts = append(opts, o...)
				}
			}
		}
	}
	for _, o := range opts {
		om, ok := o.(map[string]any)
		if ok && str(om["value"]) == value {
			out := map[string]any{"text": om["text"], "value": om["value"]}
			if d, ok := om["description"]; ok {
				out["description"] = d
			}
			return out
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// --- /callbacks ---

type commandRequest struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
	Command string `json:"command"` // default /callbacks
	Text    string `json:"text"`
}

// ephemeral is a message only one person sees: a slash command's answer,
// a response_url post or a chat.postEphemeral.
type ephemeral struct {
	Channel string          `json:"channel"`
	User    string          `json:"user"`
	TS      string          `json:"ts"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
	Source  string          `json:"source"`          // ephemeral | command | response_url
	Typed   string          `json:"typed,omitempty"` // the command as typed
}

// apiCommand sends the slash command as Slack does and keeps the answer,
// shown only to whoever typed it.
func (s *Sandbox) apiCommand(w http.ResponseWriter, r *http.Request) {
	var req commandRequest
	u, ok := s.readFromUser(w, r, &req, &req.User)
	if !ok {
		return
	}
	if req.Command == "" {
		req.Command = "/callbacks"
	}
	if req.Channel == "" {
		writeError(w, http.StatusBadRequest, badRequest("a command is typed in a channel"))
		return
	}
	text := strings.TrimSpace(req.Text)
	form := url.Values{
		"token": {verificationToken}, "team_id": {slackstandin.TeamID}, "team_domain": {teamDomain},
		"channel_id": {req.Channel}, "channel_name": {s.channelName(req.Channel)},
		"user_id": {u.ID}, "user_name": {u.Name}, "command": {req.Command}, "text": {text},
		"api_app_id": {slackstandin.AppID}, "is_enterprise_install": {"false"},
		"response_url": {s.responseURL(u.ID, req.Channel)}, "trigger_id": {s.newTrigger(u.ID)},
	}
	ctx, cancel := sendContext(r)
	defer cancel()
	status, body, err := s.postSlack(ctx, "/slack/commands", form)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	e := ephemeral{Channel: req.Channel, User: u.ID, TS: s.slackTS(), Source: "command", Typed: strings.TrimSpace(req.Command + " " + text)}
	var msg struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	switch {
	case status != http.StatusOK:
		e.Text = fmt.Sprintf("%s failed with the error \"http_service_error\" (Ringback answered %d)", req.Command, status)
	case len(strings.TrimSpace(string(body))) == 0:
		e.Text = "" // an empty 200 shows nothing, as in Slack
	case json.Unmarshal(body, &msg) != nil:
		e.Text = strings.TrimSpace(string(body)) // a plain-text answer is shown as it is
	default:
		e.Text, e.Blocks = msg.Text, msg.Blocks
		if string(e.Blocks) == "null" {
			e.Blocks = nil
		}
	}
	if e.Text != "" || e.Blocks != nil {
		s.mu.Lock()
		s.answers = append(s.answers, e)
		s.mu.Unlock()
	}
	s.hub.notify()
	res := slackResult{Status: status}
	if json.Valid(body) && len(body) > 0 {
		res.Response = json.RawMessage(body)
	}
	writeJSON(w, http.StatusOK, res)
}

// serveResponseURL takes what an app posts to a response_url: Slack shows it to
// the person who clicked or typed.
func (s *Sandbox) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &msg) != nil {
		writeError(w, http.StatusBadRequest, badRequest("invalid_payload"))
		return
	}
	s.mu.Lock()
	s.answers = append(s.answers, ephemeral{Channel: r.PathValue("channel"), User: r.PathValue("user"), TS: s.slackTSLocked(), Text: msg.Text, Blocks: msg.Blocks, Source: "response_url"})
	s.mu.Unlock()
	s.hub.notify()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// slackTS is a Slack-style timestamp of the demo clock, to order sandbox
// messages among the stand-in's.
func (s *Sandbox) slackTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slackTSLocked()
}

func (s *Sandbox) slackTSLocked() string {
	now := s.opt.Clock.Now()
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

type homeRequest struct {
	User string `json:"user"`
}

// apiHome: the user opens Ringback's App Home tab. Slack sends the Events
// API's app_home_opened; Ringback answers by publishing the view
// (views.publish), which the page then shows.
func (s *Sandbox) apiHome(w http.ResponseWriter, r *http.Request) {
	var req homeRequest
	u, ok := s.readFromUser(w, r, &req, &req.User)
	if !ok {
		return
	}
	stamp := actionTS()
	ev := map[string]any{
		"token": verificationToken, "team_id": slackstandin.TeamID, "api_app_id": slackstandin.AppID,
		"type": "event_callback", "event_id": "Ev" + strings.ToUpper(randomHex(16)), "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "app_home_opened", "user": u.ID, "channel": s.slack.DM(u.ID), "tab": "home", "event_ts": stamp},
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	answerSent(w, r, func(ctx context.Context) (slackResult, error) {
		status, _, err := s.postSlackBody(ctx, "/slack/events", "application/json", string(raw))
		return slackResult{Status: status}, err
	})
}
