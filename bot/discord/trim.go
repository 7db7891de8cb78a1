package discord

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"ringback/bot/internal/trim"
)

// trimComponents is the Discord client's transport: it cuts the messages'
// components out of the answers about channels' messages before discordgo
// decodes them. discordgo refuses a whole answer holding a component type
// newer than itself ("unknown component type"), which another bot's
// message in a channel may hold: looking for an earlier attempt's post
// (Find) then failed on every re-run, and the row went dead. Ringback
// reads a fetched message's content and embeds (its marker) and a created
// one's id, never its components. Any other answer passes as it came.
func trimComponents(next http.RoundTripper) http.RoundTripper {
	return trim.Transport{Next: next, For: func(r *http.Request) func([]byte) ([]byte, bool) {
		if aboutMessages(r.URL.Path) {
			return withoutComponents
		}
		return nil
	}}
}

// aboutMessages reports whether path is a channel's messages or one of
// them (…/channels/{id}/messages[/{id}]).
func aboutMessages(path string) bool {
	i := strings.Index(path, "/channels/")
	if i < 0 {
		return false
	}
	parts := strings.Split(strings.Trim(path[i+len("/channels/"):], "/"), "/")
	return (len(parts) == 2 || len(parts) == 3) && parts[1] == "messages"
}

// withoutComponents is body, a message or a list of them, with every
// "components" field gone, however deep (a referenced or forwarded
// message holds its own).
func withoutComponents(body []byte) ([]byte, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber() // ids and flags come back exactly
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	dropComponents(v)
	out, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return out, true
}

func dropComponents(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "components")
		for _, x := range v {
			dropComponents(x)
		}
	case []any:
		for _, x := range v {
			dropComponents(x)
		}
	}
}
