package chat

// Notice is a direct message to one person about a case.
type Notice struct {
	User   string `json:"user"`
	CaseID int64  `json:"case_id"`
	Text   Text   `json:"text"`
	// Confirm asks the owner to answer "Still on it" or "Release".
	Confirm bool `json:"confirm,omitempty"`
}

// Post is a message to a channel that is not a case's thread (the digest
// channel, a line's daily queue check).
type Post struct {
	Channel string `json:"channel"`
	Text    Text   `json:"text"`
	CaseID  int64  `json:"case_id,omitempty"`
	// Handover, when set, is the shift handover Text says in full:
	// platforms lay it out as sections.
	Handover *Handover `json:"handover,omitempty"`
}
