// Package harness holds what the project's own measuring commands
// (cmd/ringback-load, cmd/ringback-chaos) share: building the ringback
// binary, running `ringback serve` as a child process on 127.0.0.1,
// fresh Twilio-style SIDs and exact latency percentiles.
package harness
