package twiliostandin

import (
	"fmt"
	"net/http"
	"strings"
)

// IncomingNumber is a phone number on the account, as Twilio's
// IncomingPhoneNumbers resource describes it (api.v2010.account.incoming_phone_number).
type IncomingNumber struct {
	SID            string // PN…; made up when empty
	PhoneNumber    string // E.164
	Voice, SMS     bool   // capabilities
	VoiceURL       string
	SMSURL         string
	StatusCallback string // the voice status callback
}

// AddIncomingNumber puts a number on the account for the
// IncomingPhoneNumbers list.
func (s *Server) AddIncomingNumber(n IncomingNumber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n.SID == "" {
		n.SID = fmt.Sprintf("PN%032x", len(s.numbers)+1)
	}
	s.numbers = append(s.numbers, n)
}

// accountJSON serves GET /2010-04-01/Accounts/{Sid}.json: the account's
// status, which Ringback's check reads to prove the credentials.
func (s *Server) accountJSON(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	sid, ok := strings.CutSuffix(r.PathValue("AccountFile"), ".json")
	if !ok {
		notFound(w, r)
		return
	}
	r.SetPathValue("AccountSid", sid)
	if !s.account(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sid":               s.accountSID,
		"owner_account_sid": s.accountSID,
		"friendly_name":     "Ringback test account",
		"status":            "active",
		"type":              "Full",
		"date_created":      "Mon, 02 Nov 2026 09:00:00 +0000",
		"date_updated":      "Mon, 02 Nov 2026 09:00:00 +0000",
		"uri":               "/2010-04-01/Accounts/" + s.accountSID + ".json",
	})
}

// incomingNumbersJSON serves the IncomingPhoneNumbers list, filtered by
// PhoneNumber as Twilio's is.
func (s *Server) incomingNumbersJSON(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		// Buying numbers is not part of the stand-in.
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if !s.account(w, r) {
		return
	}
	q := r.URL.Query()
	pageSize, page, ok := pageQuery(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	var match []IncomingNumber
	for _, n := range s.numbers {
		if q.Has("PhoneNumber") && n.PhoneNumber != q.Get("PhoneNumber") {
			continue
		}
		match = append(match, n)
	}
	s.mu.Unlock()
	items, meta := pageOf(r, match, page, pageSize, func(n IncomingNumber) incomingNumberJSON { return s.numberResource(n) })
	writeJSON(w, http.StatusOK, struct {
		IncomingPhoneNumbers []incomingNumberJSON `json:"incoming_phone_numbers"`
		pageJSON
	}{items, meta})
}

type incomingNumberJSON struct {
	Sid                  string          `json:"sid"`
	AccountSid           string          `json:"account_sid"`
	PhoneNumber          string          `json:"phone_number"`
	FriendlyName         string          `json:"friendly_name"`
	Capabilities         map[string]bool `json:"capabilities"`
	VoiceURL             string          `json:"voice_url"`
	VoiceMethod          string          `json:"voice_method"`
	SMSURL               string          `json:"sms_url"`
	SMSMethod            string          `json:"sms_method"`
	StatusCallback       string          `json:"status_callback"`
	StatusCallbackMethod string          `json:"status_callback_method"`
	Status               string          `json:"status"`
	APIVersion           string          `json:"api_version"`
	URI                  string          `json:"uri"`
}

func (s *Server) numberResource(n IncomingNumber) incomingNumberJSON {
	return incomingNumberJSON{
		Sid: n.SID, AccountSid: s.accountSID, PhoneNumber: n.PhoneNumber, FriendlyName: n.PhoneNumber,
		Capabilities: map[string]bool{"voice": n.Voice, "sms": n.SMS, "mms": n.SMS, "fax": false},
		VoiceURL:     n.VoiceURL, VoiceMethod: "POST", SMSURL: n.SMSURL, SMSMethod: "POST",
		StatusCallback: n.StatusCallback, StatusCallbackMethod: "POST",
		Status: "in-use", APIVersion: "2010-04-01",
		URI: "/2010-04-01/Accounts/" + s.accountSID + "/IncomingPhoneNumbers/" + n.SID + ".json",
	}
}
