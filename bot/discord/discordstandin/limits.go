package discordstandin

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Discord's documented limits on what a message or modal may hold. The
// stand-in refuses a payload over any of them as Discord does (400, code
// 50035), and render tests check golden files with the same code.
const (
	MaxContent          = 2000
	MaxNonce            = 25 // a message nonce, string or integer
	MaxEmbeds           = 10
	MaxEmbedTotal       = 6000
	MaxEmbedTitle       = 256
	MaxEmbedDescription = 4096
	MaxEmbedFields      = 25
	MaxFieldName        = 256
	MaxFieldValue       = 1024
	MaxFooter           = 2048
	MaxRows             = 5
	MaxButtonsPerRow    = 5
	MaxCustomID         = 100
	MaxButtonLabel      = 80
	MaxSelectOptions    = 25
	MaxOptionText       = 100 // label, value, description
	MaxPlaceholder      = 150
	MaxModalTitle       = 45
	MaxInputLabel       = 45
)

type payload struct {
	Content         *string          `json:"content"`
	Embeds          []embed          `json:"embeds"`
	Components      []component      `json:"components"`
	AllowedMentions *allowedMentions `json:"allowed_mentions"`
	Title           *string          `json:"title"`
	CustomID        *string          `json:"custom_id"`
	Nonce           json.RawMessage  `json:"nonce"`
}

// nonceLen is a nonce's length as Discord counts it: a string's characters,
// an integer's digits.
func nonceLen(raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return runes(s)
	}
	return len(strings.TrimSpace(string(raw)))
}

type embed struct {
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Fields      []field `json:"fields"`
	Footer      *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Author *struct {
		Name string `json:"name"`
	} `json:"author"`
}

type field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type component struct {
	Type        int         `json:"type"`
	Components  []component `json:"components"`
	CustomID    string      `json:"custom_id"`
	Label       string      `json:"label"`
	Style       int         `json:"style"`
	URL         string      `json:"url"`
	Placeholder string      `json:"placeholder"`
	Options     []struct {
		Label       string `json:"label"`
		Value       string `json:"value"`
		Description string `json:"description"`
	} `json:"options"`
}

type allowedMentions struct {
	Parse []string `json:"parse"`
	Users []string `json:"users"`
	Roles []string `json:"roles"`
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// parsePayload reads a payload to check; one that is not a JSON object has
// that as its one problem.
func parsePayload(raw []byte) (payload, []string) {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, []string{"not a JSON object: " + err.Error()}
	}
	return p, nil
}

// MessageProblems lists what in a message payload (create, edit, an
// interaction's message response) breaks Discord's limits; nil when none.
func MessageProblems(raw []byte) []string {
	p, probs := parsePayload(raw)
	if probs != nil {
		return probs
	}
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if n := nonceLen(p.Nonce); n > MaxNonce {
		bad("nonce has %d characters, limit %d", n, MaxNonce)
	}
	if p.Content != nil && runes(*p.Content) > MaxContent {
		bad("content has %d characters, limit %d", runes(*p.Content), MaxContent)
	}
	if len(p.Embeds) > MaxEmbeds {
		bad("%d embeds, limit %d", len(p.Embeds), MaxEmbeds)
	}
	total := 0
	for i, e := range p.Embeds {
		n := runes(e.Title) + runes(e.Description)
		if runes(e.Title) > MaxEmbedTitle {
			bad("embeds[%d].title has %d characters, limit %d", i, runes(e.Title), MaxEmbedTitle)
		}
		if runes(e.Description) > MaxEmbedDescription {
			bad("embeds[%d].description has %d characters, limit %d", i, runes(e.Description), MaxEmbedDescription)
		}
		if len(e.Fields) > MaxEmbedFields {
			bad("embeds[%d] has %d fields, limit %d", i, len(e.Fields), MaxEmbedFields)
		}
		for j, f := range e.Fields {
			if f.Name == "" || f.Value == "" {
				bad("embeds[%d].fields[%d] has an empty name or value", i, j)
			}
			if runes(f.Name) > MaxFieldName {
				bad("embeds[%d].fields[%d].name has %d characters, limit %d", i, j, runes(f.Name), MaxFieldName)
			}
			if runes(f.Value) > MaxFieldValue {
				bad("embeds[%d].fields[%d].value has %d characters, limit %d", i, j, runes(f.Value), MaxFieldValue)
			}
			n += runes(f.Name) + runes(f.Value)
		}
		if e.Footer != nil {
			if runes(e.Footer.Text) > MaxFooter {
				bad("embeds[%d].footer has %d characters, limit %d", i, runes(e.Footer.Text), MaxFooter)
			}
			n += runes(e.Footer.Text)
		}
		if e.Author != nil {
			n += runes(e.Author.Name)
		}
		total += n
	}
	if total > MaxEmbedTotal {
		bad("embeds hold %d characters in all, limit %d", total, MaxEmbedTotal)
	}
	probs = append(probs, componentProblems(p.Components, false)...)
	if am := p.AllowedMentions; am != nil {
		for _, t := range am.Parse {
			if (t == "users" && len(am.Users) > 0) || (t == "roles" && len(am.Roles) > 0) {
				bad("allowed_mentions parses %s and lists them too", t)
			}
		}
	}
	return probs
}

// ModalProblems lists what in a modal (an interaction's type 9 data)
// breaks Discord's limits; nil when none.
func ModalProblems(raw []byte) []string {
	p, probs := parsePayload(raw)
	if probs != nil {
		return probs
	}
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if p.Title == nil || *p.Title == "" || runes(*p.Title) > MaxModalTitle {
		bad("a modal needs a title of 1 to %d characters", MaxModalTitle)
	}
	if p.CustomID == nil || *p.CustomID == "" || len(*p.CustomID) > MaxCustomID {
		bad("a modal needs a custom_id of 1 to %d characters", MaxCustomID)
	}
	if len(p.Components) == 0 {
		bad("a modal needs at least one row")
	}
	return append(probs, componentProblems(p.Components, true)...)
}

func componentProblems(rows []component, modal bool) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(rows) > MaxRows {
		bad("%d action rows, limit %d", len(rows), MaxRows)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if r.Type != 1 {
			bad("components[%d] is type %d, not an action row", i, r.Type)
			continue
		}
		if len(r.Components) == 0 {
			bad("components[%d] is an empty row", i)
		}
		buttons, others := 0, 0
		for j, c := range r.Components {
			where := fmt.Sprintf("components[%d].components[%d]", i, j)
			if c.CustomID != "" {
				if len(c.CustomID) > MaxCustomID {
					bad("%s.custom_id has %d characters, limit %d", where, len(c.CustomID), MaxCustomID)
				}
				if seen[c.CustomID] {
					bad("%s.custom_id %q is used twice", where, c.CustomID)
				}
				seen[c.CustomID] = true
			}
			switch c.Type {
			case 2: // button
				buttons++
				if modal {
					bad("%s: modals hold only text inputs", where)
				}
				if runes(c.Label) > MaxButtonLabel {
					bad("%s.label has %d characters, limit %d", where, runes(c.Label), MaxButtonLabel)
				}
				if (c.Style == 5) != (c.URL != "") || (c.Style != 5 && c.CustomID == "") {
					bad("%s: a link button has a url and no custom_id; others a custom_id", where)
				}
			case 3, 5, 6, 7, 8: // selects
				others++
				if modal {
					bad("%s: modals hold only text inputs", where)
				}
				if c.CustomID == "" {
					bad("%s: a select needs a custom_id", where)
				}
				if runes(c.Placeholder) > MaxPlaceholder {
					bad("%s.placeholder has %d characters, limit %d", where, runes(c.Placeholder), MaxPlaceholder)
				}
				if c.Type == 3 && (len(c.Options) == 0 || len(c.Options) > MaxSelectOptions) {
					bad("%s has %d options, want 1 to %d", where, len(c.Options), MaxSelectOptions)
				}
				for k, o := range c.Options {
					if o.Label == "" || runes(o.Label) > MaxOptionText || o.Value == "" || runes(o.Value) > MaxOptionText || runes(o.Description) > MaxOptionText {
						bad("%s.options[%d]: label and value need 1 to %d characters, description at most %[3]d", where, k, MaxOptionText)
					}
				}
			case 4: // text input
				others++
				if !modal {
					bad("%s: text inputs belong in modals", where)
				}
				if c.Label == "" || runes(c.Label) > MaxInputLabel {
					bad("%s.label needs 1 to %d characters", where, MaxInputLabel)
				}
				if c.CustomID == "" {
					bad("%s: a text input needs a custom_id", where)
				}
			default:
				bad("%s has unknown type %d", where, c.Type)
			}
		}
		if buttons > MaxButtonsPerRow {
			bad("components[%d] has %d buttons, limit %d", i, buttons, MaxButtonsPerRow)
		}
		if others > 0 && len(r.Components) > 1 {
			bad("components[%d]: a select or text input must be alone in its row", i)
		}
	}
	return probs
}
