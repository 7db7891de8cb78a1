package bot_test

import (
	"reflect"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
)

func TestPhoneMenu(t *testing.T) {
	staffed := &config.Line{Name: "Lettings", Number: lettingsNum, Ring: []string{"+447700900001", "+447700900002"}, RingTimeout: 25 * time.Second, OnCall: "+447700900999"}
	bare := &config.Line{Name: "Sales", Number: "+441632960002"}
	open := bot.VoiceRoute{Line: staffed, InHours: true, Business: "Northside"}
	closed := bot.VoiceRoute{Line: staffed, Business: "Northside"}
	for name, tc := range map[string]struct{ got, want bot.VoicePlan }{
		"in hours: ring the staff": {open.Answer(), bot.VoicePlan{Ring: staffed.Ring, RingFor: 25 * time.Second}},
		"in hours, nobody to ring": {bot.VoiceRoute{Line: bare, InHours: true}.Answer(), bot.VoicePlan{Voicemail: true}},
		"after hours: the on-call key": {closed.Answer(), bot.VoicePlan{
			Say: "You have reached Northside, Lettings. We are closed right now. If this is an emergency, press 9 now.", MenuKey: "9", Voicemail: true}},
		"after hours, no on-call phone": {bot.VoiceRoute{Line: bare, Business: "Northside"}.Answer(), bot.VoicePlan{
			Say: "You have reached Northside, Sales. We are closed right now.", Voicemail: true}},
		"no such line":             {bot.VoiceRoute{}.Answer(), bot.VoicePlan{Voicemail: true}},
		"pressed 9":                {closed.MenuChoice("9"), bot.VoicePlan{Say: "Connecting you to the on-call team.", Ring: []string{"+447700900999"}, RingFor: 25 * time.Second}},
		"pressed 9, no on-call":    {bot.VoiceRoute{Line: bare}.MenuChoice("9"), bot.VoicePlan{Voicemail: true}},
		"pressed another key":      {closed.MenuChoice("1"), bot.VoicePlan{Voicemail: true}},
		"pressed nothing":          {closed.MenuChoice(""), bot.VoicePlan{Voicemail: true}},
		"default ring time":        {bot.VoiceRoute{Line: &config.Line{Ring: []string{"+447700900001"}}, InHours: true}.Answer(), bot.VoicePlan{Ring: []string{"+447700900001"}, RingFor: 20 * time.Second}},
		"nobody answered the ring": {bot.AfterDial(bot.CallMissed), bot.VoicePlan{Voicemail: true}},
		"someone answered":         {bot.AfterDial(bot.CallAnswered), bot.VoicePlan{}},
		"message left":             {bot.VoicemailTaken(), bot.VoicePlan{Say: "Thank you. Goodbye.", HangUp: true}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: plan %+v, want %+v", name, tc.got, tc.want)
		}
	}
}
