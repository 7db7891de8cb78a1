package harness

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"
)

func TestCaseOfCard(t *testing.T) {
	blocks, _ := json.Marshal([]slack.Block{slack.NewActionBlock("case:42")})
	if id := CaseOfCard(blocks, nil); id != 42 {
		t.Errorf("from blocks: %d", id)
	}
	md := json.RawMessage(`{"event_type":"ringback_case","event_payload":{"case_id":7}}`)
	if id := CaseOfCard(nil, md); id != 7 {
		t.Errorf("from metadata: %d", id)
	}
	if id := CaseOfCard(json.RawMessage(`[{"type":"section","block_id":"queue"}]`), nil); id != 0 {
		t.Errorf("a queue post is a card of %d", id)
	}
}
