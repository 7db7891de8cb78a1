package config

import (
	"strings"
	"testing"
)

// status_texts names the approved template a claim sends; a key that names
// no template is a problem, and a line without the key sends nothing.
func TestParseStatusTexts(t *testing.T) {
	const base = `
business: {name: Acme, region: GB, timezone: Europe/London}
templates:
  - {key: status_claimed, text: "{{agent}} from {{business}} has your request and will call you by {{due}}."}
lines:
  - number: "+441632960001"
    name: Lettings
    channel: C0LETTINGS
    status_texts: {claimed: %s}
  - number: "+441632960002"
    name: Maintenance
    channel: C0MAINT
`
	c, err := Parse([]byte(strings.Replace(base, "%s", "status_claimed", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Lines[0].StatusTexts.Claimed; got != "status_claimed" {
		t.Errorf("lettings claimed = %q", got)
	}
	if got := c.Lines[1].StatusTexts; got != (StatusTexts{}) {
		t.Errorf("maintenance status texts = %+v, want none", got)
	}
	_, err = Parse([]byte(strings.Replace(base, "%s", "status_claimd", 1)))
	if err == nil || !strings.Contains(err.Error(), `lines[0].status_texts.claimed: unknown template "status_claimd"`) {
		t.Fatalf("a misspelt template: %v", err)
	}
}
