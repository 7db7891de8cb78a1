package autotriage_test

import (
	"testing"

	"ringback/bot/autotriage"
)

func TestMatchReadsWhatCallersWrite(t *testing.T) {
	m := autotriage.New(designCategories, autotriage.Rules{Builtin: true})
	for _, tc := range []struct {
		text, category string
		urgent         bool
	}{
		{"there's a smell of gas in the kitchen", "urgent", true},
		{"THERE’S A SMELL OF GAS", "urgent", true},    // curly apostrophe, capitals
		{"ｓｍｅｌｌ ｏｆ ｇａｓ", "urgent", true},              // full-width
		{"the pipe is leaking", "maintenance", false}, // leaking → leak
		{"the pipes leaked", "maintenance", false},    // leaked → leak
		{"it smelled of gas", "urgent", true},         // smelled → smell
		{"no smell of gas, just a dripping tap", "maintenance", false},
		{"there is NO gas smell", "", false},
		{"I don’t think it’s a gas leak", "", false},                         // don’t → do not
		{"the gas isn't leaking", "maintenance", false},                      // "gas + leak" with "not" between: not urgent
		{"not sure if it's gas but something smells of gas", "urgent", true}, // a hedge, not a negation
		{"no smell of gas but the socket is sparking", "urgent", true},       // "but" ends the negation
		{"we have no heating", "urgent", true},                               // a phrase that starts with "no"
		{"the gas leak was fixed yesterday", "", false},
		{"please fix the gas leak", "urgent", true},
		{"I need the gas safety certificate", "compliance", false}, // longer phrase wins over "gas"
		{"the smoke alarm keeps beeping", "maintenance", false},
		{"Is the flat still available?", "viewing", false},
		{"let me know", "", false},
		{"", "", false},
	} {
		got, ok := m.Match(tc.text)
		if ok != (tc.category != "") || got.Category != tc.category || got.Urgent != tc.urgent {
			t.Errorf("%q: %+v (ok=%v), want %q urgent=%v", tc.text, got, ok, tc.category, tc.urgent)
		}
	}
}

// A business's own phrases add to the built-ins and win over them where
// written the same way; ignore switches a built-in off; without built-ins
// only the business's phrases count.
func TestRulesExtendAndOverride(t *testing.T) {
	rules := autotriage.Rules{
		Builtin: true,
		Phrases: map[string][]string{"maintenance": {"smoke alarm going off"}, "urgent": {"ceiling + crack"}, "nosuch": {"x"}},
		Ignore:  []string{"fire"},
	}
	m := autotriage.New(designCategories, rules)
	for text, want := range map[string]string{
		"smoke alarm going off again":          "maintenance", // moved from urgent
		"big crack in the ceiling":             "urgent",      // added
		"the fire in the lounge":               "",            // "fire" ignored
		"there's a smell of gas":               "urgent",      // built-ins still there
		"is the flat still available for rent": "viewing",
	} {
		got, _ := m.Match(text)
		if got.Category != want {
			t.Errorf("%q: %q, want %q", text, got.Category, want)
		}
	}
	only := autotriage.New(designCategories, autotriage.Rules{Phrases: map[string][]string{"urgent": {"sewage"}}})
	if got, _ := only.Match("there's a smell of gas"); got.Category != "" {
		t.Errorf("without built-ins: %+v", got)
	}
	if got, _ := only.Match("Sewage in the garden"); !got.Urgent || got.Phrase != "sewage" {
		t.Errorf("own phrase: %+v", got)
	}
}

// Built-in phrase sets land on the categories they fit by name or flag,
// and on none that does not.
func TestBuiltinKind(t *testing.T) {
	for c, want := range map[autotriage.Category]string{
		{Key: "urgent", Urgent: true}:                        "urgent",
		{Key: "emergency", Label: "Emergency", Urgent: true}: "urgent",
		{Key: "viewing", Label: "Viewing / lettings"}:        "viewing",
		{Key: "leasing"}:                   "viewing",
		{Key: "repairs", Label: "Repairs"}: "maintenance",
		{Key: "compliance"}:                "compliance",
		{Key: "quote", Label: "Quotes"}:    "quote",
		{Key: "billing", Label: "Billing"}: "",
	} {
		if got := autotriage.BuiltinKind(c); got != want {
			t.Errorf("%+v: %q, want %q", c, got, want)
		}
	}
	home := autotriage.New([]autotriage.Category{{Key: "quote", Label: "Quotes"}, {Key: "repairs"}, {Key: "emergency", Urgent: true}}, autotriage.Rules{Builtin: true})
	for text, want := range map[string]string{
		"can I get a quote for a new boiler": "quote",
		"the outlet in the kitchen is dead":  "repairs",
		"water pouring from the ceiling":     "emergency",
	} {
		if got, _ := home.Match(text); got.Category != want {
			t.Errorf("home services %q: %q, want %q", text, got.Category, want)
		}
	}
}

// Bots are built and texts matched on many goroutines at once (webhooks,
// workers, tests in parallel): normalising must share no state.
func TestMatchIsSafeForConcurrentUse(t *testing.T) {
	m := autotriage.New(designCategories, autotriage.Rules{Builtin: true})
	done := make(chan bool)
	for range 8 {
		go func() {
			other := autotriage.New(designCategories, autotriage.Rules{Builtin: true})
			got, _ := m.Match("Ｔｈｅｒｅ’ｓ ａ ｓｍｅｌｌ ｏｆ ｇａｓ, café")
			again, _ := other.Match("no smell of gas, just a dripping tap")
			done <- got.Urgent && again.Category == "maintenance"
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("a concurrent match went wrong")
		}
	}
}
