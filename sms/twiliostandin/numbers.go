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
		"auth_token":        nil, // Twilio shows it to the console only
		"subresource_uris": map[string]string{
			"incoming_phone_numbers": "/2010-04-01/Accounts/" + s.accountSID + "/IncomingPhoneNumbers.json",
			"calls":                  "/2010-04-01/Accounts/" + s.accountSID + "/Calls.json",
			"messages":               "/2010-04-01/Accounts/" + s.accountSID + "/Messages.json",
		},
	})
}

// incomingNumbersJSON serves the IncomingPhoneNumbers list, filtered by
// PhoneNumber as Twilio's is.
func (s *Server) incomingNumbersJSON(w http.ResponseWriter, r *http.Request) {
	// Buying numbers is not part of the stand-in.
	q, pageSize, page, ok := s.listRequest(w, r)
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
	items, meta := pageOf(r, match, page, pageSize, s.numberResource)
	writeJSON(w, http.StatusOK, struct {
		IncomingPhoneNumbers []map[string]any `json:"incoming_phone_numbers"`
		pageJSON
	}{items, meta})
}

// numberResource is api.v2010.account.incoming_phone_number: every field
// the spec lists, nil where it is nullable and the stand-in has nothing.
func (s *Server) numberResource(n IncomingNumber) map[string]any {
	orNil := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	return map[string]any{
		"sid": n.SID, "account_sid": s.accountSID, "phone_number": n.PhoneNumber, "friendly_name": n.PhoneNumber,
		"capabilities": map[string]bool{"voice": n.Voice, "sms": n.SMS, "mms": n.SMS, "fax": false},
		"voice_url":    orNil(n.VoiceURL), "voice_method": "POST", "voice_fallback_url": nil, "voice_fallback_method": "POST",
		"voice_caller_id_lookup": false, "voice_application_sid": nil, "voice_receive_mode": "voice",
		"sms_url": orNil(n.SMSURL), "sms_method": "POST", "sms_fallback_url": nil, "sms_fallback_method": "POST",
		"sms_application_sid": nil, "status_callback": orNil(n.StatusCallback), "status_callback_method": "POST",
		"address_sid": nil, "address_requirements": "none", "beta": false, "identity_sid": nil, "trunk_sid": nil,
		"emergency_status": "Inactive", "emergency_address_sid": nil, "emergency_address_status": "unregistered",
		"bundle_sid": nil, "origin": "twilio", "status": "in-use", "type": "local", "api_version": "2010-04-01",
		"date_created": "Mon, 02 Nov 2026 09:00:00 +0000", "date_updated": "Mon, 02 Nov 2026 09:00:00 +0000",
		"uri": "/2010-04-01/Accounts/" + s.accountSID + "/IncomingPhoneNumbers/" + n.SID + ".json",
	}
}
