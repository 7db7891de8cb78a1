package handlers

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ringback/bot"
)

// Fuzz targets for every reader of outside input in this package; their
// seed corpora are under testdata/fuzz.

var fuzzNow = time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)

// storable fails t unless every s is what both stores keep unchanged.
func storable(t *testing.T, what string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("%s: %q is not storable", what, s)
		}
	}
}

// signedForm is a body as a signed webhook handler sees it: parsed and
// cleaned, or false when it is no form.
func signedForm(body string) (url.Values, bool) {
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, false
	}
	return cleanForm(form), true
}

func FuzzTwilioCall(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		form, ok := signedForm(body)
		if !ok {
			return
		}
		r, err := twilioCall(form)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("refusal %v is not a bad request", err)
			}
			return
		}
		if r.Duration < 0 || r.Duration > bot.MaxCallSeconds {
			t.Fatalf("duration %d out of bounds", r.Duration)
		}
		if r.Status == "" {
			t.Fatal("a report without a status")
		}
		storable(t, "call", r.SID, r.From, r.To, r.Status)
		at, _ := bot.ReportedTime(r.StartedAt, fuzzNow)
		if at.After(fuzzNow.Add(bot.MaxClockAhead)) || at.Before(fuzzNow.Add(-bot.MaxReportAge)) {
			t.Fatalf("start %s believed", at)
		}
	})
}

func FuzzTwilioSMS(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		form, ok := signedForm(body)
		if !ok {
			return
		}
		in := twilioSMS(form)
		if len(in.MediaURLs) > maxMedia {
			t.Fatalf("%d media read", len(in.MediaURLs))
		}
		storable(t, "sms", append([]string{in.SID, in.From, in.To, in.Body}, in.MediaURLs...)...)
	})
}

func FuzzGenericCall(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := genericCall(body)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("refusal %v is not a bad request", err)
			}
			return
		}
		if !strings.HasPrefix(r.SID, "generic:") || r.SID == "generic:" || r.To == "" {
			t.Fatalf("report %+v lacks its keys", r)
		}
		storable(t, "generic call", r.SID, r.From, r.To, r.Status, r.VoicemailURL, r.Transcript)
	})
}

func FuzzVerifySignature(f *testing.F) {
	const secret = "fuzz-secret"
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if VerifySignature(secret, header, body, fuzzNow) == nil && !strings.Contains(header, mac(secret, signedAt(header), body)) {
			t.Fatalf("header %q accepted without the body's signature", header)
		}
		if err := VerifySignature(secret, SignGeneric(secret, body, fuzzNow), body, fuzzNow); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
	})
}

// signedAt is the t= of a signature header.
func signedAt(header string) string {
	ts := ""
	for _, part := range strings.Split(header, ",") {
		if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
			ts = v
		}
	}
	return ts
}
