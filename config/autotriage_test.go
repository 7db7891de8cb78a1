package config_test

import (
	"slices"
	"strings"
	"testing"

	"ringback/config"
)

const autoTriageBase = `business: {name: Acme Homes, timezone: Europe/London, region: GB}
lines:
  - {number: "+441632960001", name: Lettings, channel: C1}
categories:
  repairs:   {label: Repairs, claim_within: 1h, contact_within: 2h}
  emergency: {label: Emergency, claim_within: 2m, contact_within: 5m, urgent: true}
`

// auto_triage reads the built-in switch, phrases per category in file
// order, and ignored phrases; a phrase rule for no category is a warning,
// not a refusal.
func TestAutoTriageIsReadAndAnUnknownCategoryWarns(t *testing.T) {
	cfg, err := config.Parse([]byte(autoTriageBase))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AutoTriage.NoBuiltin || len(cfg.AutoTriage.Phrases) != 0 {
		t.Fatalf("default: %+v, want the built-ins on and no phrases", cfg.AutoTriage)
	}
	cfg, err = config.Parse([]byte(autoTriageBase + `auto_triage:
  builtin: false
  phrases:
    emergency: ["sewage", "ceiling + crack"]
    repairs: [squeaky door]
    repiars: [hinge]
  ignore: [fire]
`))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.AutoTriage
	if !a.NoBuiltin || !slices.Equal(a.PhrasesFor("emergency"), []string{"sewage", "ceiling + crack"}) ||
		!slices.Equal(a.PhrasesFor("repairs"), []string{"squeaky door"}) || !slices.Equal(a.Ignore, []string{"fire"}) {
		t.Fatalf("auto_triage = %+v", a)
	}
	ws := cfg.AutoTriageWarnings()
	if len(ws) != 1 || ws[0].Key != "auto_triage.phrases.repiars" || !strings.Contains(ws[0].Message, `no category "repiars"`) {
		t.Fatalf("warnings = %v", ws)
	}
	if !slices.Contains(cfg.Warnings(), ws[0]) {
		t.Fatalf("Warnings() lacks %v", ws[0])
	}
}

func TestAutoTriageMistakesAreProblems(t *testing.T) {
	_, err := config.Parse([]byte(autoTriageBase + `auto_triage:
  builtin: maybe
  phrases: {repairs: ["", ok]}
  words: [x]
`))
	for _, want := range []string{
		`auto_triage.builtin: "maybe" is not true or false`,
		`auto_triage.phrases.repairs[0]: empty phrase`,
		`auto_triage.words: unknown key`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
