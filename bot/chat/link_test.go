package chat_test

import (
	"testing"

	"ringback/bot/chat"
)

func TestSafeURLTakesOnlyPlainWebLinks(t *testing.T) {
	good := []string{
		"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
		"http://pbx.example.com/vm/12.mp3?sig=a&b=c",
	}
	for _, u := range good {
		if got := chat.SafeURL(u); got != u {
			t.Errorf("SafeURL(%q) = %q, want it unchanged", u, got)
		}
	}
	bad := []string{
		"!channel", "<!channel>", "javascript:alert(1)", "JavaScript://x%0aalert(1)",
		"https://evil|Download voicemail (secure)", "https://evil.example/a|Download",
		"https://evil.example/x>y", "https://x.example/[a](b)", "HTTPS://x.example/",
		"data:text/html,hi", "https:///no-host", "https://user:pw@x.example/", "ftp://x.example/",
		"https://x.example/a b", "https://x.example/\n<!here>", "",
	}
	for _, u := range bad {
		if got := chat.SafeURL(u); got != "" {
			t.Errorf("SafeURL(%q) = %q, want refused", u, got)
		}
	}
}
