package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	rbslack "ringback/bot/slack"
	"ringback/config"
	"ringback/sms"
)

// checkSlackOnline asks Slack whether the token works and the bot is a
// member of every channel Ringback posts in.
func checkSlackOnline(ctx context.Context, r *checkReport, env config.Env, cfg *config.Config) {
	if env.SlackBotToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	keys := map[string][]string{} // channel ID → the config keys naming it
	var channels []string
	add := func(id, key string) {
		if id == "" {
			return
		}
		if _, ok := keys[id]; !ok {
			channels = append(channels, id)
		}
		keys[id] = append(keys[id], key)
	}
	for i, l := range cfg.Lines {
		add(l.Channel, fmt.Sprintf("lines[%d].channel", i))
	}
	add(cfg.Digest.Channel, "digest.channel")

	who, states, err := rbslack.Inspect(ctx, env.SlackBotToken, env.SlackAPIURL, channels)
	if err != nil {
		if who.UserID == "" { // auth.test itself failed
			r.problem("SLACK_BOT_TOKEN", "Slack refused it (%v): copy the Bot User OAuth Token (xoxb-…) again from the app's OAuth & Permissions page, and reinstall the app if it was revoked", err)
			return
		}
		r.problem("SLACK_BOT_TOKEN", "%v", err)
	}
	for _, st := range states {
		key := strings.Join(keys[st.ID], ", ")
		switch {
		case !st.Found:
			r.problem(key, "Slack has no channel %s the bot can see: check the ID (channel details → the ID at the bottom), or for a private channel invite the bot first (/invite @%s)", st.ID, who.User)
		case st.Archived:
			r.problem(key, "#%s (%s) is archived: unarchive it or choose another channel", st.Name, st.ID)
		case !st.Member:
			r.problem(key, "the bot (@%s) is not a member of #%s (%s), so its posts there fail: in #%s type /invite @%s", who.User, st.Name, st.ID, st.Name, who.User)
		}
	}
}

// checkTwilioOnline asks Twilio whether the credentials open the account
// and each line's number is on it, takes SMS, and sends its calls, texts
// and call status to PUBLIC_URL.
func checkTwilioOnline(ctx context.Context, r *checkReport, env config.Env, cfg *config.Config) {
	if env.TwilioAccountSID == "" || env.TwilioAuthToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := sms.New(env.TwilioAccountSID, env.TwilioAuthToken, env.TwilioAPIURL)
	acct, err := c.Account(ctx)
	if err != nil {
		r.problem("TWILIO_AUTH_TOKEN", "Twilio refused the account %s with this token (%v): copy the Account SID and Auth Token again from the Twilio console's Account Info", env.TwilioAccountSID, err)
		return
	}
	if acct.Status != "active" {
		r.problem("TWILIO_ACCOUNT_SID", "the Twilio account %s is %s: Twilio takes no calls or texts for it; reactivate it in the console", acct.SID, acct.Status)
	}
	want := []struct{ what, path, console string }{
		{"voice URL (A call comes in)", "/twilio/voice", "Voice Configuration → A call comes in"},
		{"SMS URL (A message comes in)", "/twilio/sms", "Messaging Configuration → A message comes in"},
		{"status callback (Call status changes)", "/twilio/voice/status", "Voice Configuration → Call status changes"},
	}
	for i, l := range cfg.Lines {
		key := fmt.Sprintf("lines[%d].number", i)
		n, ok, err := c.IncomingNumber(ctx, l.Number)
		switch {
		case err != nil:
			r.problem(key, "%s: Twilio did not answer (%v)", l.Number, err)
			continue
		case !ok:
			r.problem(key, "%s (%s) is not a number on the Twilio account %s: buy or port it into this account, or correct the number", l.Number, l.Name, env.TwilioAccountSID)
			continue
		}
		if !n.Voice {
			r.problem(key, "%s (%s) cannot take calls on Twilio: use a voice-capable number", l.Number, l.Name)
		}
		if !n.SMS {
			r.problem(key, "%s (%s) cannot send or receive SMS on Twilio: text-backs and callers' replies need an SMS-capable number", l.Number, l.Name)
		}
		if env.PublicURL == "" {
			continue
		}
		got := []string{n.VoiceURL, n.SMSURL, n.StatusCallback}
		for j, w := range want {
			if !sameEndpoint(got[j], env.PublicURL+w.path) {
				is := "unset"
				if got[j] != "" {
					is = fmt.Sprintf("%q", got[j])
				}
				r.problem(key, "%s (%s): Twilio's %s is %s, so Ringback never hears of it: set it to %s%s (POST) in the Twilio console, Phone Numbers → %s → %s", l.Number, l.Name, w.what, is, env.PublicURL, w.path, l.Number, w.console)
			}
		}
	}
}

// sameEndpoint: got is the URL want, up to the retry-policy fragment
// (#rc=…) or query Twilio keeps on it, and a trailing slash.
func sameEndpoint(got, want string) bool {
	g, err := url.Parse(got)
	if err != nil || got == "" {
		return false
	}
	w, err := url.Parse(want)
	if err != nil {
		return false
	}
	return strings.EqualFold(g.Scheme, w.Scheme) && strings.EqualFold(g.Host, w.Host) &&
		strings.TrimSuffix(g.Path, "/") == strings.TrimSuffix(w.Path, "/")
}
