package config

import (
	"strings"
	"testing"
)

// A channel given by name (as people say it) is refused at its key with
// how to find the ID; IDs pass.
func TestChannelNamesAreRefused(t *testing.T) {
	base := "business: {name: A, region: GB}\nlines: [{number: '+441632960001', name: Lettings, channel: %s}]\ndigest: {channel: %s}\n"
	_, err := Parse([]byte(strings.NewReplacer("%s", `"#maintenance"`).Replace(base)))
	for _, want := range []string{
		`lines[0].channel: "#maintenance" is a channel name, not its ID`,
		`digest.channel: "#maintenance" is a channel name, not its ID`,
		"copy the Channel ID",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q: %v", want, err)
		}
	}
	for _, name := range []string{"maintenance", "general", "C0lettings"} {
		if _, err := Parse([]byte(strings.ReplaceAll(base, "%s", name))); err == nil || !strings.Contains(err.Error(), "is a channel name") {
			t.Errorf("channel %q accepted: %v", name, err)
		}
	}
	if _, err := Parse([]byte(strings.ReplaceAll(base, "%s", "C0LETTINGS"))); err != nil {
		t.Errorf("a channel ID refused: %v", err)
	}
	if _, err := Parse([]byte(strings.ReplaceAll(base, "%s", "G012AB3CD"))); err != nil {
		t.Errorf("a private channel's ID refused: %v", err)
	}
}
