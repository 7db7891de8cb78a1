package bot

import (
	"fmt"
	"time"
)

// The phone menu: what a caller hears and what happens next. The bot
// decides it; handlers render it in the provider's markup (TwiML).

// VoicePlan is what to do with a call, in order: say something (a menu
// when MenuKey is set), ring people, take a voicemail, hang up.
type VoicePlan struct {
	Say string
	// MenuKey is the key that chooses the menu's option while Say plays;
	// the answer comes back to MenuChoice.
	MenuKey string
	Ring    []string      // numbers rung together
	RingFor time.Duration // how long they ring before the call counts as missed
	// Voicemail says VoicemailPrompt and records a message (after Ring:
	// only when nobody answered, see AfterDial).
	Voicemail bool
	HangUp    bool
}

// VoicemailPrompt asks the caller to leave a message.
const VoicemailPrompt = "Sorry we missed you. Please leave a message after the tone, and we will call you back."

// onCallKey is the key an after-hours caller presses for the on-call phone.
const onCallKey = "9"

// defaultRingFor is how long staff phones ring when the line sets no ring timeout.
const defaultRingFor = 20 * time.Second

// Answer is the plan for a call that starts ringing: ring staff in hours
// (voicemail if the line has no ring list), the after-hours greeting with
// the on-call key when there is an on-call phone, else voicemail.
func (r VoiceRoute) Answer() VoicePlan {
	switch {
	case r.Line == nil:
		return VoicePlan{Voicemail: true}
	case r.InHours && len(r.Line.Ring) > 0:
		return r.ring(r.Line.Ring)
	case r.InHours:
		return VoicePlan{Voicemail: true}
	}
	greeting := fmt.Sprintf("You have reached %s, %s. We are closed right now.", r.Business, r.Line.Name)
	if r.Line.OnCall == "" {
		return VoicePlan{Say: greeting, Voicemail: true}
	}
	return VoicePlan{Say: greeting + " If this is an emergency, press " + onCallKey + " now.", MenuKey: onCallKey, Voicemail: true}
}

// MenuChoice is the plan once an after-hours caller pressed keys (or none):
// the on-call key connects them, anything else goes to voicemail.
func (r VoiceRoute) MenuChoice(digits string) VoicePlan {
	if digits == onCallKey && r.Line != nil && r.Line.OnCall != "" {
		p := r.ring([]string{r.Line.OnCall})
		p.Say = "Connecting you to the on-call team."
		return p
	}
	return VoicePlan{Voicemail: true}
}

func (r VoiceRoute) ring(numbers []string) VoicePlan {
	p := VoicePlan{Ring: numbers, RingFor: defaultRingFor}
	if r.Line != nil && r.Line.RingTimeout > 0 {
		p.RingFor = r.Line.RingTimeout
	}
	return p
}

// AfterDial is the plan once the people rung stopped ringing: voicemail if
// nobody answered, else nothing more.
func AfterDial(outcome CallOutcome) VoicePlan {
	if outcome == CallMissed {
		return VoicePlan{Voicemail: true}
	}
	return VoicePlan{}
}

// VoicemailTaken is the plan once the caller left a message.
func VoicemailTaken() VoicePlan {
	return VoicePlan{Say: "Thank you. Goodbye.", HangUp: true}
}
