package handlers_test

import (
	"net/url"

	"ringback/bot"
	"ringback/sms"
)

func signFor(fullURL string, form url.Values) string { return sms.Sign(authToken, fullURL, form) }

func reconcileLister(h *harness) bot.CallLister {
	return sms.NewTexter(sms.New(accountSID, authToken, h.twilio.URL))
}
