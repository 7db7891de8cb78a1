package chat

import (
	"net/url"
	"strings"
)

// SafeURL returns u when it is an absolute http(s) URL with a host that
// cannot break out of a Slack or Discord link (no label separator, no
// brackets, no spaces or control characters), else "". Renderers show a
// link only for what it returns and always write the label themselves, so
// a voicemail URL from a phone system can neither ping (`!channel`), nor
// run (`javascript:`), nor forge its label (`https://x|Download`).
func SafeURL(u string) string {
	if strings.ContainsFunc(u, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("|<>()[]`\"\\", r)
	}) {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil || p.Opaque != "" {
		return ""
	}
	// The scheme must be written in lower case exactly as checked: a link
	// shown is the link followed.
	if !strings.HasPrefix(u, p.Scheme+"://") {
		return ""
	}
	return u
}
