package harness

import (
	"encoding/json"
	"strconv"
	"strings"
)

// CaseOfCard is the case a top-level Slack message is the card of: the
// actions block's id "case:<id>", or message metadata naming a case_id;
// 0 for any other message.
func CaseOfCard(blocks, metadata json.RawMessage) int64 {
	var bs []struct {
		BlockID string `json:"block_id"`
	}
	if json.Unmarshal(blocks, &bs) == nil {
		for _, b := range bs {
			if s, ok := strings.CutPrefix(b.BlockID, "case:"); ok {
				if id, err := strconv.ParseInt(s, 10, 64); err == nil {
					return id
				}
			}
		}
	}
	var md struct {
		Payload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(metadata, &md) == nil {
		switch id := md.Payload["case_id"].(type) {
		case float64:
			return int64(id)
		case string:
			n, _ := strconv.ParseInt(id, 10, 64)
			return n
		}
	}
	return 0
}

// KeyOfPost is the name Ringback gave a post in its metadata ("" when none).
func KeyOfPost(metadata json.RawMessage) string {
	var md struct {
		Payload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(metadata, &md) != nil {
		return ""
	}
	k, _ := md.Payload["key"].(string)
	return k
}
