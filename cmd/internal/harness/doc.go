// Package harness holds what the project's own measuring commands
// (cmd/ringback-load, cmd/ringback-chaos) share: building the ringback
// binary, running `ringback serve` as a child process on 127.0.0.1,
// fresh Twilio-style SIDs and exact latency percentiles.
package harness

// The lines of ringback.example.yaml, which the commands' servers run on.
const (
	LettingsLine    = "+441632960001"
	MaintenanceLine = "+441632960002"
)
