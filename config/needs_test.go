package config_test

import (
	"strings"
	"testing"

	"ringback/config"
)

func TestMissingTemplatesAcceptsACategorySafetyTemplate(t *testing.T) {
	base := `business: {name: Acme Homes, timezone: Europe/London, region: GB}
lines:
  - {number: "+441632960001", name: Lettings, channel: C1, triage: {"1": repairs, "9": emergency}}
categories:
  repairs:   {label: Repairs, claim_within: 1h, contact_within: 2h}
  emergency: {label: Emergency, claim_within: 2m, contact_within: 5m, urgent: true}
  fire:      {label: Fire, claim_within: 2m, contact_within: 5m, urgent: true}
templates:
  - {key: help, text: "{{business}}: reply 1 or 9."}
  - {key: optout_confirm, text: "{{business}}: no more texts."}
`
	cfg, err := config.Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	ps := cfg.MissingTemplates()
	// fire is urgent but no line offers it: no caller can choose it.
	if len(ps) != 1 || ps[0].Key != "categories.emergency" || !strings.Contains(ps[0].Message, `"safety"`) {
		t.Fatalf("missing = %v", ps)
	}
	cfg, err = config.Parse([]byte(base + `  - {key: emergency_advice, categories: [emergency], text: "{{business}}: call 999."}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ps := cfg.MissingTemplates(); len(ps) != 0 {
		t.Fatalf("a template limited to the category is its safety text, yet: %v", ps)
	}
	if got := cfg.SafetyTemplate("emergency"); got != "emergency_advice" {
		t.Fatalf("SafetyTemplate = %q", got)
	}
}
