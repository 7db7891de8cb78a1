package discord

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// A post's nonce dedupes a second create for a few minutes only, and a
// message read back carries no nonce. So every post also carries its key
// for good: a marker of invisible characters (default-ignorable code
// points, which Discord keeps and clients do not draw) at the end of its
// content, or of its first embed's description when it has no content.
// A re-run after the nonce's window finds the post by it (Find).

// markerDigits spell the marker: two bits each.
var markerDigits = [4]rune{'\u200b', '\u200c', '\u2060', '\u2062'}

// markerStart opens a marker, after a space: a URL the message ends with
// stops there, not in the marker.
const markerStart = " \u2063"

// markerBits is how much of the key's hash the marker holds.
const markerBits = 48

// markerLen is a marker's length in runes.
const markerLen = 2 + markerBits/2

// marker is key's marker ("" for no key).
func marker(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	var b strings.Builder
	b.WriteString(markerStart)
	for i := range markerBits / 2 {
		b.WriteRune(markerDigits[(sum[i/4]>>(6-2*(i%4)))&3])
	}
	return b.String()
}

// mark puts key's marker in msg, within Discord's limits.
func mark(msg *discordgo.MessageSend, key string) {
	m := marker(key)
	switch {
	case m == "" || marked(&discordgo.Message{Content: msg.Content, Embeds: msg.Embeds}, key):
		// none, or there already (the same message sent again)
	case msg.Content != "" || len(msg.Embeds) == 0:
		msg.Content = withMarker(msg.Content, m, 2000)
	default:
		msg.Embeds[0].Description = withMarker(msg.Embeds[0].Description, m, 4096)
	}
}

func withMarker(s, m string, limit int) string {
	if utf8.RuneCountInString(s)+markerLen > limit {
		s = clip(s, limit-markerLen)
	}
	return s + m
}

// marked reports whether m carries key's marker.
func marked(m *discordgo.Message, key string) bool {
	mk := marker(key)
	if strings.Contains(m.Content, mk) {
		return true
	}
	for _, e := range m.Embeds {
		if strings.Contains(e.Description, mk) {
			return true
		}
	}
	return false
}

// discordEpoch is when snowflakes start (2015-01-01, in ms).
const discordEpoch = 1420070400000

// snowflakeAt is the smallest snowflake of t: messages after it were
// created at t or later.
func snowflakeAt(t time.Time) string {
	ms := max(t.UnixMilli()-discordEpoch, 0)
	return strconv.FormatInt(ms<<22, 10)
}
