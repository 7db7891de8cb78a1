package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"

	"github.com/twilio/twilio-go/client"
)

// ValidateSignature checks X-Twilio-Signature for a form-encoded webhook:
// fullURL is PUBLIC_URL+path(+query), form the POSTed parameters. It uses
// twilio-go's RequestValidator, which also accepts the URL with or without
// its default port. An empty auth token or signature never validates, so a
// missing TWILIO_AUTH_TOKEN cannot turn into "anyone may post".
//
// Like twilio-go, only the first value of a repeated parameter counts;
// Twilio's webhooks do not repeat parameters.
func ValidateSignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	v := client.NewRequestValidator(authToken)
	return v.Validate(fullURL, params, signature)
}

// Sign computes the signature Twilio would send for a POST of form to
// fullURL (for the stand-in, the demo sandbox and tests): base64 of
// HMAC-SHA1, keyed by the auth token, over the URL followed by each
// parameter's name and first value in name order. twilio-go does not export
// this computation, hence the few lines here.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		mac.Write([]byte(k))
		mac.Write([]byte(form[k][0]))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
