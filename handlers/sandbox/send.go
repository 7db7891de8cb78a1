package sandbox

import (
	"context"
	"net/http"
)

// interactFor sends payload to Ringback for the page's request r, as Slack
// would; when Ringback cannot be reached it has written the 502 and ok is
// false.
func (s *Sandbox) interactFor(w http.ResponseWriter, r *http.Request, payload map[string]any) (res slackResult, ok bool) {
	ctx, cancel := sendContext(r)
	defer cancel()
	res, err := s.interact(ctx, payload)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return res, false
	}
	return res, true
}

// answerSent runs send for the page's request r, under the time a send may
// take, and writes what it returns; when Ringback cannot be reached it is a
// 502.
func answerSent[T any](w http.ResponseWriter, r *http.Request, send func(context.Context) (T, error)) {
	ctx, cancel := sendContext(r)
	defer cancel()
	v, err := send(ctx)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// knownUser is the sandbox user the page's request names; else it has
// written the 400 and ok is false.
// readFromUser reads the JSON request into req and finds the user named by
// *user, a field of req.
func (s *Sandbox) readFromUser(w http.ResponseWriter, r *http.Request, req any, user *string) (User, bool) {
	if !readJSON(w, r, req) {
		return User{}, false
	}
	return s.knownUser(w, *user)
}

func (s *Sandbox) knownUser(w http.ResponseWriter, id string) (User, bool) {
	u, ok := s.user(id)
	if !ok {
		writeError(w, http.StatusBadRequest, badRequest("unknown user %q", id))
	}
	return u, ok
}
