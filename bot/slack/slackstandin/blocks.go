package slackstandin

import (
	"bytes"
	"encoding/json"
)

// BlockTexts returns every "text" string in a Block Kit JSON document
// (message blocks, a view) in document order: section text, button labels,
// option labels. Assertions on it don't depend on how the JSON was escaped.
func BlockTexts(raw json.RawMessage) []string { return collect(raw, "text") }

// ActionIDs returns every "action_id" in a Block Kit JSON document in
// document order: which buttons and inputs a card or modal offers.
func ActionIDs(raw json.RawMessage) []string { return collect(raw, "action_id") }

// collect streams the tokens rather than unmarshalling, because a map would
// lose the order of keys within an object.
func collect(raw json.RawMessage, key string) []string {
	type frame struct {
		object    bool
		expectKey bool
		lastKey   string
	}
	var (
		out   []string
		stack []*frame
	)
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top != nil && top.object && top.expectKey {
				top.lastKey, top.expectKey = t, false
				continue
			}
			if top != nil && top.object && top.lastKey == key {
				out = append(out, t)
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
