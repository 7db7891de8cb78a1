package templates

import "strings"

// Fallback keys: the automatic replies Ringback sends on its own (a caller's
// urgent digit, HELP, a plain-language opt-out). A business that wrote no
// template for one still gets a text naming it, so a missing template never
// leaves a caller in danger unanswered.
const (
	FallbackSafety        = "safety"
	FallbackHelp          = "help"
	FallbackOptOutConfirm = "optout_confirm"
)

// FallbackKeys lists the keys Fallback has a text for.
var FallbackKeys = []string{FallbackSafety, FallbackHelp, FallbackOptOutConfirm}

// HasFallback reports whether key has a built-in text.
func HasFallback(key string) bool {
	switch key {
	case FallbackSafety, FallbackHelp, FallbackOptOutConfirm:
		return true
	}
	return false
}

// FallbackFacts is what a built-in text says besides the variables it
// leaves to Render: the emergency number of the business's region and the
// line's reply menu ("reply 1 Viewing, 2 Maintenance").
type FallbackFacts struct {
	Region string // ISO 3166, e.g. "GB"
	Menu   string // "" when the line has no triage digits
}

// Fallback returns the built-in text for key, with variables ({{business}},
// {{line}}, {{callback_number}}) left for Render; ok is false for keys that
// have none.
func Fallback(key string, f FallbackFacts) (text string, ok bool) {
	switch key {
	case FallbackSafety:
		return "{{business}}: if anyone is in danger, call " + EmergencyNumber(f.Region) +
			" now. If you smell gas, get everyone out and do not use switches or flames. We have marked your message urgent and will call you back as soon as we can.", true
	case FallbackHelp:
		menu := strings.TrimSpace(f.Menu)
		if menu == "" {
			menu = "reply with your message and we will call you back"
		}
		return "{{business}} ({{line}}): " + menu + ". Call us on {{callback_number}}. Reply STOP to stop texts.", true
	case FallbackOptOutConfirm:
		return "{{business}}: you won't get any more texts from us. Reply START to opt back in.", true
	}
	return "", false
}

// EmergencyNumber is the number to call for police, fire or ambulance in
// region; 112 reaches the emergency services from mobiles in most other
// countries, so an unknown region is told to use the emergency services.
func EmergencyNumber(region string) string {
	switch strings.ToUpper(region) {
	case "GB", "IM", "JE", "GG", "HK", "MY":
		return "999"
	case "US", "CA", "PR", "MX":
		return "911"
	case "AU":
		return "000"
	case "NZ":
		return "111"
	case "IE", "FR", "DE", "ES", "IT", "NL", "BE", "PT", "AT", "SE", "DK", "FI", "NO", "PL", "CH":
		return "112"
	}
	return "the emergency services"
}
