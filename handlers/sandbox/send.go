package sandbox

import "net/http"

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
