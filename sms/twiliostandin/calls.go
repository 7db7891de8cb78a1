package twiliostandin

// SetCallStatus moves call sid to status with the given duration, as Twilio's
// record changes when a call in progress ends. It reports whether the call
// exists.
func (s *Server) SetCallStatus(sid, status string, duration int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.calls {
		if s.calls[i].SID == sid {
			s.calls[i].Status, s.calls[i].Duration = status, duration
			return true
		}
	}
	return false
}
