package slack

import (
	"encoding/json"
	"net/http"
	"strings"

	"ringback/bot/internal/trim"
)

// trimBlocks is the Slack client's transport: it cuts from Slack's answers
// the messages' blocks the adapter never reads, before slack-go decodes
// them. slack-go refuses a whole answer holding a block element newer
// than itself ("unsupported block element type"), though Slack did what
// was asked, and decoding blocks is costly besides (about 8 % of a
// replica's CPU at 100 missed calls a second). chat.postMessage and
// chat.update echo the message they made: a successful answer is cut to
// the fields slack-go returns (channel, ts, text). conversations.history
// and conversations.replies are read for a message's metadata and files
// only (Find, FindEntry, FindDigestThread): every message's blocks and
// attachments go, which other apps' messages in the channel may hold
// anything in. Any other answer passes as it came.
func trimBlocks(next http.RoundTripper) http.RoundTripper {
	return trim.Transport{Next: next, For: func(r *http.Request) func([]byte) ([]byte, bool) {
		return trimmers[method(r.URL.Path)]
	}}
}

// trimmers cut the answers of the Web API methods they are named after.
var trimmers = map[string]func([]byte) ([]byte, bool){
	"chat.postMessage":      trimAnswer,
	"chat.update":           trimAnswer,
	"conversations.history": trimHistory,
	"conversations.replies": trimHistory,
}

// method is the Web API method a request's path names.
func method(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// chatAnswer is what slack-go reads of a chat.postMessage or chat.update
// answer, the echoed message aside.
type chatAnswer struct {
	OK                 bool            `json:"ok"`
	Channel            string          `json:"channel,omitempty"`
	TS                 string          `json:"ts,omitempty"`
	MessageTS          string          `json:"message_ts,omitempty"`
	ScheduledMessageID string          `json:"scheduled_message_id,omitempty"`
	Text               string          `json:"text,omitempty"`
	Warning            string          `json:"warning,omitempty"`
	ResponseMetadata   json.RawMessage `json:"response_metadata,omitempty"`
}

// trimAnswer is body without its echoed message, when body is a
// successful answer.
func trimAnswer(body []byte) ([]byte, bool) {
	var a chatAnswer
	if err := json.Unmarshal(body, &a); err != nil || !a.OK {
		return nil, false
	}
	out, err := json.Marshal(a)
	if err != nil {
		return nil, false
	}
	return out, true
}

// trimHistory is a successful history answer (body) without its messages'
// blocks and attachments.
func trimHistory(body []byte) ([]byte, bool) {
	var a map[string]json.RawMessage
	if err := json.Unmarshal(body, &a); err != nil || string(a["ok"]) != "true" {
		return nil, false
	}
	var msgs []map[string]json.RawMessage
	if err := json.Unmarshal(a["messages"], &msgs); err != nil {
		return nil, false
	}
	for _, m := range msgs {
		delete(m, "blocks")
		delete(m, "attachments")
	}
	raw, err := json.Marshal(msgs)
	if err != nil {
		return nil, false
	}
	a["messages"] = raw
	out, err := json.Marshal(a)
	if err != nil {
		return nil, false
	}
	return out, true
}
