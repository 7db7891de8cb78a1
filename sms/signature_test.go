package sms_test

import (
	"net/url"
	"testing"

	"ringback/sms"
)

// Twilio's published example: auth token "12345" and this URL.
const (
	vectorToken = "12345"
	vectorURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
)

// vectorForm is the example's parameters (twilio-python's
// tests/unit/test_request_validator.py, Twilio's docs on webhook security).
func vectorForm() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

func TestSignatureMatchesTwiliosPublishedVectors(t *testing.T) {
	t.Parallel()
	const want = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	if got := sms.Sign(vectorToken, vectorURL, vectorForm()); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	if !sms.ValidateSignature(vectorToken, vectorURL, vectorForm(), want) {
		t.Error("ValidateSignature rejected Twilio's example")
	}

	// twilio-go's client/request_validator_test.go adds two parameters, one a
	// prefix of the other, which checks the sort order.
	form := vectorForm()
	form.Set("ReasonConferenceEnded", "test")
	form.Set("Reason", "Participant")
	const goWant = "vOEb5UThFn24KEfnOFLQY2AE5FY="
	if got := sms.Sign(vectorToken, vectorURL, form); got != goWant {
		t.Errorf("Sign = %q, want %q", got, goWant)
	}
	if !sms.ValidateSignature(vectorToken, vectorURL, form, goWant) {
		t.Error("ValidateSignature rejected twilio-go's example")
	}
	// Twilio may sign with or without the default port.
	if !sms.ValidateSignature(vectorToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", form, goWant) {
		t.Error("ValidateSignature rejected the URL with its default port")
	}
}

func TestSignatureRefusesWhatWasNotSigned(t *testing.T) {
	t.Parallel()
	sig := sms.Sign(vectorToken, vectorURL, vectorForm())

	tampered := vectorForm()
	tampered.Set("Digits", "9999")
	added := vectorForm()
	added.Set("MessageStatus", "delivered")
	removed := vectorForm()
	removed.Del("Caller")

	cases := []struct {
		name, token, url string
		form             url.Values
		sig              string
	}{
		{"tampered param", vectorToken, vectorURL, tampered, sig},
		{"added param", vectorToken, vectorURL, added, sig},
		{"removed param", vectorToken, vectorURL, removed, sig},
		{"wrong URL", vectorToken, "https://mycompany.com/myapp.php?foo=1&bar=3", vectorForm(), sig},
		{"wrong host", vectorToken, "https://evil.example/myapp.php?foo=1&bar=2", vectorForm(), sig},
		{"http for https", vectorToken, "http://mycompany.com/myapp.php?foo=1&bar=2", vectorForm(), sig},
		{"wrong token", "54321", vectorURL, vectorForm(), sig},
		{"empty token", "", vectorURL, vectorForm(), sms.Sign("", vectorURL, vectorForm())},
		{"no signature", vectorToken, vectorURL, vectorForm(), ""},
		{"garbage signature", vectorToken, vectorURL, vectorForm(), "not base64!"},
	}
	for _, tc := range cases {
		if sms.ValidateSignature(tc.token, tc.url, tc.form, tc.sig) {
			t.Errorf("%s: ValidateSignature accepted it", tc.name)
		}
	}
}

func TestSignValidateRoundTrip(t *testing.T) {
	t.Parallel()
	const token = "f00dcafe0123456789abcdef01234567"
	forms := []url.Values{
		{},
		{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "MessageStatus": {"delivered"}},
		{"Body": {"Stop texting me 🙏 & thanks = ok?"}, "From": {"+447700900123"}, "To": {"+441632960001"}},
		{"ErrorCode": {"30006"}, "MessageStatus": {"undelivered"}, "Empty": {""}},
	}
	urls := []string{
		"https://ringback.example/twilio/sms/status",
		"https://ringback.example/twilio/sms?line=lettings&x=%2B1",
		"http://127.0.0.1:8080/twilio/sms/status",
	}
	for _, u := range urls {
		for _, f := range forms {
			sig := sms.Sign(token, u, f)
			if !sms.ValidateSignature(token, u, f, sig) {
				t.Errorf("round trip failed for %s %v", u, f)
			}
		}
	}
}
