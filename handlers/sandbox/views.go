package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"ringback/bot/slack/slackstandin"
)

// Modals: the sandbox shows the views the bot opened for the person who
// clicked, and sends their selects and submissions back as Slack does.

type viewRequest struct {
	User     string `json:"user"`
	ViewID   string `json:"view_id"`
	BlockID  string `json:"block_id"`
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
	// Values are the modal's inputs as the page holds them: block id →
	// action id → typed text, or the chosen option's value.
	Values map[string]map[string]string `json:"values"`
}

// openView finds a modal the Slack stand-in holds for the user.
func (s *Sandbox) openView(userID, viewID string) (User, slackstandin.View, error) {
	u, ok := s.user(userID)
	if !ok {
		return User{}, slackstandin.View{}, badRequest("unknown user %q", userID)
	}
	for _, v := range s.slack.Views() {
		if v.ID != viewID {
			continue
		}
		if v.Method == "views.publish" {
			// A Home tab is open for the user it was published to.
			if v.UserID != u.ID {
				return User{}, slackstandin.View{}, &apiError{status: http.StatusConflict, msg: "this Home tab is not " + u.RealName + "'s"}
			}
			return u, v, nil
		}
		s.mu.Lock()
		owner, gone := s.triggers[v.TriggerID], s.dismissed[v.ID]
		s.mu.Unlock()
		if owner != u.ID || gone {
			return User{}, slackstandin.View{}, &apiError{status: http.StatusConflict, msg: "this modal is not open for " + u.RealName}
		}
		return u, v, nil
	}
	return User{}, slackstandin.View{}, &apiError{status: http.StatusNotFound, msg: "no modal " + viewID}
}

// viewState builds state.values exactly as Slack sends them, from the
// modal's input blocks and what the page holds; missing lists the required
// inputs left empty.
func viewState(viewJSON json.RawMessage, values map[string]map[string]string) (map[string]any, map[string]string, error) {
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(viewJSON, &v); err != nil {
		return nil, nil, fmt.Errorf("sandbox: view: %w", err)
	}
	blocks, err := parseBlocks(v.Blocks)
	if err != nil {
		return nil, nil, err
	}
	state, missing := map[string]any{}, map[string]string{}
	for _, b := range blocks {
		if b.Type != "input" || b.Element == nil {
			continue
		}
		aid := str(b.Element["action_id"])
		raw := strings.TrimRight(values[b.BlockID][aid], "\r\n")
		entry := map[string]any{"type": b.Element["type"]}
		switch str(b.Element["type"]) {
		case "static_select", "radio_buttons":
			entry["selected_option"] = nil
			if raw != "" {
				opt := findOption(b.Element, raw)
				if opt == nil {
					return nil, nil, badRequest("%q is not an option of %s", raw, b.BlockID)
				}
				entry["selected_option"] = opt
			}
		case "plain_text_input":
			entry["value"] = nil
			if raw != "" {
				entry["value"] = raw
			}
		case "users_select", "conversations_select", "channels_select":
			key := pickedKey[str(b.Element["type"])]
			entry[key] = nil
			if raw != "" {
				entry[key] = raw
			}
		default:
			continue // Ringback's modals use no other inputs
		}
		if raw == "" && !b.Optional {
			missing[b.BlockID] = requiredField
		}
		state[b.BlockID] = map[string]any{aid: entry}
	}
	return map[string]any{"values": state}, missing, nil
}

// viewPayload is the view as Slack sends it back to the app: what the app
// sent plus Slack's own fields and the current state.
// interactWithView sends the interaction payload that build makes around
// the view as Slack sends it (with state), as interactFor does.
func (s *Sandbox) interactWithView(w http.ResponseWriter, r *http.Request, v slackstandin.View, state map[string]any, build func(view map[string]any) map[string]any) (slackResult, bool) {
	view, err := viewPayload(v, state)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return slackResult{}, false
	}
	return s.interactFor(w, r, build(view))
}

func viewPayload(v slackstandin.View, state map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if err := json.Unmarshal(v.JSON, &out); err != nil {
		return nil, fmt.Errorf("sandbox: view %s: %w", v.ID, err)
	}
	for k, val := range map[string]any{
		"id": v.ID, "team_id": slackstandin.TeamID, "state": state, "hash": v.Hash, "root_view_id": v.ID,
		"previous_view_id": nil, "app_id": slackstandin.AppID, "app_installed_team_id": slackstandin.TeamID,
		"bot_id": slackstandin.BotID, "external_id": v.ExternalID, "callback_id": v.CallbackID, "private_metadata": v.PrivateMetadata,
	} {
		out[k] = val
	}
	for k, def := range map[string]any{"clear_on_close": false, "notify_on_close": false, "close": nil, "submit": nil} {
		if _, ok := out[k]; !ok {
			out[k] = def
		}
	}
	return out, nil
}

// readViewRequest reads the page's request about a modal and finds the
// modal, open for its user; else it has written the 400 and ok is false.
func (s *Sandbox) readViewRequest(w http.ResponseWriter, r *http.Request) (req viewRequest, u User, v slackstandin.View, ok bool) {
	if !readJSON(w, r, &req) {
		return req, u, v, false
	}
	u, v, err := s.openView(req.User, req.ViewID)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return req, u, v, false
	}
	return req, u, v, true
}

// apiViewAction sends block_actions for a select in a modal (the Reply
// modal's template, whose dispatch_action makes the bot update the preview).
func (s *Sandbox) apiViewAction(w http.ResponseWriter, r *http.Request) {
	req, u, v, ok := s.readViewRequest(w, r)
	if !ok {
		return
	}
	if req.Values == nil {
		req.Values = map[string]map[string]string{}
	}
	if req.Values[req.BlockID] == nil {
		req.Values[req.BlockID] = map[string]string{}
	}
	req.Values[req.BlockID][req.ActionID] = req.Value
	state, _, err := viewState(v.JSON, req.Values)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	var viewDoc struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	_ = json.Unmarshal(v.JSON, &viewDoc)
	el, err := findElement(viewDoc.Blocks, req.BlockID, req.ActionID)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	action, err := actionOf(el, req.BlockID, req.Value)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	res, ok := s.interactWithView(w, r, v, state, func(view map[string]any) map[string]any {
		return map[string]any{
			"type": "block_actions", "user": s.slackUser(u), "api_app_id": slackstandin.AppID, "token": verificationToken,
			"container":  map[string]any{"type": "view", "view_id": v.ID},
			"trigger_id": s.newTrigger(u.ID), "team": slackTeam(), "enterprise": nil, "is_enterprise_install": false,
			"view": view, "actions": []any{action},
		}
	})
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// apiViewSubmit sends view_submission. Like Slack, it refuses to send a
// modal whose required inputs are empty; Ringback's field errors come back
// for the page to show, and on success the modal closes.
func (s *Sandbox) apiViewSubmit(w http.ResponseWriter, r *http.Request) {
	req, u, v, ok := s.readViewRequest(w, r)
	if !ok {
		return
	}
	state, missing, err := viewState(v.JSON, req.Values)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusOK, slackResult{Errors: missing})
		return
	}
	res, ok := s.interactWithView(w, r, v, state, func(view map[string]any) map[string]any {
		return map[string]any{
			"type": "view_submission", "team": slackTeam(), "user": s.slackUser(u), "api_app_id": slackstandin.AppID,
			"token": verificationToken, "trigger_id": s.newTrigger(u.ID), "view": view, "response_urls": []any{},
			"enterprise": nil, "is_enterprise_install": false,
		}
	})
	if !ok {
		return
	}
	var answer struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if res.Response != nil {
		_ = json.Unmarshal(res.Response, &answer)
	}
	switch {
	case res.Status != http.StatusOK:
		// Slack keeps the modal open and says it could not reach the app.
		res.Errors = map[string]string{"": fmt.Sprintf("We had some trouble connecting (Ringback answered %d). Try again?", res.Status)}
	case answer.ResponseAction == "errors":
		res.Errors = answer.Errors
	case answer.ResponseAction == "update" || answer.ResponseAction == "push":
		// Ringback's modals never answer so; the modal stays as it is.
	default:
		s.dismissViews(u.ID)
		res.Closed = true
	}
	s.hub.notify()
	writeJSON(w, http.StatusOK, res)
}

// apiViewClose is Cancel: Slack tells the app only when it asked
// (notify_on_close), which Ringback does not.
func (s *Sandbox) apiViewClose(w http.ResponseWriter, r *http.Request) {
	var req viewRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.mu.Lock()
	s.dismissed[req.ViewID] = true
	s.mu.Unlock()
	s.hub.notify()
	writeJSON(w, http.StatusOK, map[string]bool{"closed": true})
}

// dismissViews closes every modal open for user.
func (s *Sandbox) dismissViews(user string) {
	views := s.slack.Views()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range views {
		if s.triggers[v.TriggerID] == user {
			s.dismissed[v.ID] = true
		}
	}
}

// currentView is the modal open for user: the last one opened with their
// trigger and not closed since.
func (s *Sandbox) currentView(user string) (slackstandin.View, bool) {
	views := s.slack.Views()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(views) - 1; i >= 0; i-- {
		v := views[i]
		if v.Method == "views.publish" || s.dismissed[v.ID] || s.triggers[v.TriggerID] != user {
			continue
		}
		return v, true
	}
	return slackstandin.View{}, false
}

// homeView is the Home tab Ringback last published for user.
func (s *Sandbox) homeView(user string) (slackstandin.View, bool) {
	views := s.slack.Views()
	for i := len(views) - 1; i >= 0; i-- {
		if v := views[i]; v.Method == "views.publish" && v.UserID == user {
			return v, true
		}
	}
	return slackstandin.View{}, false
}
