package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ringback/bot/slack/slackstandin"
	"ringback/sms/twiliostandin"
)

const (
	checkAccount = "AC0123456789abcdef0123456789abcdef"
	checkToken   = "0123456789abcdef0123456789abcdef"
	checkPublic  = "https://ringback.example.com"
)

// productionEnv is what serve needs in production (a fresh SQLite file
// for the database), with extra on top.
func productionEnv(t *testing.T, extra map[string]string) map[string]string {
	env := map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-check",
		"SLACK_SIGNING_SECRET": "0123456789abcdef",
		"TWILIO_ACCOUNT_SID":   checkAccount,
		"TWILIO_AUTH_TOKEN":    checkToken,
		"PUBLIC_URL":           checkPublic,
		"DATABASE_URL":         "sqlite:" + filepath.Join(t.TempDir(), "ringback.db"),
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func runCheck(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(append([]string{"check"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// What breaks production offline: a channel given by name, a staff phone
// that is no number, and no Slack, Twilio or PUBLIC_URL for serve.
func TestCheckCatchesWhatBreaksProduction(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "channel: C0MAINT", `channel: "#maintenance"`, 1)
	cfg = strings.Replace(cfg, `ring: ["+447700900001"`, `ring: ["12345", "+447700900001"`, 1)
	if cfg == string(data) || !strings.Contains(cfg, `"12345"`) {
		t.Fatal("the test config did not change as meant")
	}
	path := filepath.Join(t.TempDir(), "ringback.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCheck(t, map[string]string{"RINGBACK_CONFIG": path})
	if code != ExitFailure || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1", code, out)
	}
	for _, want := range []string{
		`lines[1].channel: "#maintenance" is a channel name, not its ID`,
		`ring[0]: "12345" is not a phone number`,
		"SLACK_BOT_TOKEN: unset (and no DISCORD_BOT_TOKEN): serve has no chat",
		"TWILIO_ACCOUNT_SID: unset (and TWILIO_AUTH_TOKEN)",
		"PUBLIC_URL: unset: Twilio's webhooks and signatures need",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check output lacks %q:\n%s", want, errOut)
		}
	}
}

// --online against the stand-ins: a channel the bot is not in and a number
// whose webhooks point elsewhere are reported with their fix; once set up,
// check passes.
func TestCheckOnline(t *testing.T) {
	slack := slackstandin.NewServer("xoxb-check")
	t.Cleanup(slack.Close)
	slack.AddChannel("C0MAINT", "maintenance")
	slack.AddChannel("C0LETTINGS", "lettings")
	slack.AddChannel("C0DIGEST", "digest")
	slack.SetBotMember("C0MAINT", false)
	twilio := twiliostandin.NewServer(checkAccount, checkToken)
	t.Cleanup(twilio.Close)
	twilio.AddIncomingNumber(twiliostandin.IncomingNumber{
		PhoneNumber: "+441632960001", Voice: true, SMS: true,
		VoiceURL:       checkPublic + "/twilio/voice",
		SMSURL:         checkPublic + "/twilio/sms#rc=3&rp=ct,rt,5xx",
		StatusCallback: checkPublic + "/twilio/voice/status",
	})
	twilio.AddIncomingNumber(twiliostandin.IncomingNumber{
		PhoneNumber: "+441632960002", Voice: true, SMS: false,
		VoiceURL:       "https://old-pbx.example.net/voice",
		SMSURL:         checkPublic + "/twilio/sms",
		StatusCallback: "",
	})
	env := productionEnv(t, map[string]string{
		"RINGBACK_CONFIG": filepath.Join("..", "testdata", "ringback.yaml"),
		"SLACK_API_URL":   slack.URL,
		"TWILIO_API_URL":  twilio.URL,
	})

	// Offline, the file and environment are fine.
	if code, out, errOut := runCheck(t, env); code != ExitOK || !strings.Contains(out, "ok (2 lines") {
		t.Fatalf("offline check: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut := runCheck(t, env, "--online")
	if code != ExitFailure || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1", code, out)
	}
	for _, want := range []string{
		"4 problem(s)",
		"lines[1].channel: the bot (@ringback) is not a member of #maintenance (C0MAINT), so its posts there fail: in #maintenance type /invite @ringback",
		`lines[1].number: +441632960002 (Maintenance): Twilio's voice URL (A call comes in) is "https://old-pbx.example.net/voice", so Ringback never hears of it: set it to https://ringback.example.com/twilio/voice (POST)`,
		"lines[1].number: +441632960002 (Maintenance): Twilio's status callback (Call status changes) is unset",
		"lines[1].number: +441632960002 (Maintenance) cannot send or receive SMS on Twilio",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check --online output lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "+441632960001") || strings.Contains(errOut, "C0LETTINGS") || strings.Contains(errOut, "C0DIGEST") {
		t.Errorf("check --online reports a line that is set up:\n%s", errOut)
	}

	// A number not on the account, and a wrong token.
	env["RINGBACK_CONFIG"] = writeConfigWith(t, "+441632960002", "+441632960009")
	if _, _, errOut := runCheck(t, env, "--online"); !strings.Contains(errOut, "lines[1].number: +441632960009 (Maintenance) is not a number on the Twilio account "+checkAccount) {
		t.Errorf("a number not on the account:\n%s", errOut)
	}
	env["TWILIO_AUTH_TOKEN"] = "ffffffffffffffffffffffffffffffff"
	env["SLACK_BOT_TOKEN"] = "xoxb-wrong"
	_, _, errOut = runCheck(t, env, "--online")
	for _, want := range []string{"SLACK_BOT_TOKEN: Slack refused it", "TWILIO_AUTH_TOKEN: Twilio refused the account " + checkAccount} {
		if !strings.Contains(errOut, want) {
			t.Errorf("wrong tokens: output lacks %q:\n%s", want, errOut)
		}
	}

	// Set up as the problems say: check passes.
	slack.SetBotMember("C0MAINT", true)
	twilio2 := twiliostandin.NewServer(checkAccount, checkToken)
	t.Cleanup(twilio2.Close)
	for _, n := range []string{"+441632960001", "+441632960002"} {
		twilio2.AddIncomingNumber(twiliostandin.IncomingNumber{PhoneNumber: n, Voice: true, SMS: true,
			VoiceURL: checkPublic + "/twilio/voice", SMSURL: checkPublic + "/twilio/sms", StatusCallback: checkPublic + "/twilio/voice/status"})
	}
	env = productionEnv(t, map[string]string{
		"RINGBACK_CONFIG": filepath.Join("..", "testdata", "ringback.yaml"),
		"SLACK_API_URL":   slack.URL,
		"TWILIO_API_URL":  twilio2.URL,
	})
	if code, out, errOut := runCheck(t, env, "--online"); code != ExitOK || !strings.Contains(out, "Slack and Twilio agree") {
		t.Errorf("check --online on a set-up account: exit %d\n%s%s", code, out, errOut)
	}
}

// writeConfigWith is the tests' config with the number old replaced by new.
func writeConfigWith(t *testing.T, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ringback.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), old, new)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
