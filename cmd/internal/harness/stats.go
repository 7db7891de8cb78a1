package harness

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"
)

// NewSID is prefix and 32 random hex digits, as Twilio's SIDs.
func NewSID(prefix string) string { return prefix + RandomHex(32) }

// RandomHex is n random hex digits (n even).
func RandomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Summary describes a set of latency samples.
type Summary struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summarize sorts samples in place and takes exact nearest-rank percentiles.
func Summarize(samples []time.Duration) Summary {
	slices.Sort(samples)
	s := Summary{N: len(samples)}
	if len(samples) > 0 {
		s.P50 = Percentile(samples, 50)
		s.P90 = Percentile(samples, 90)
		s.P99 = Percentile(samples, 99)
		s.Max = samples[len(samples)-1]
	}
	return s
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of sorted,
// non-empty samples: the smallest sample with at least p % of the samples at
// or below it. Integer arithmetic keeps the rank exact.
func Percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ⌈p·n/100⌉
	return sorted[min(max(rank, 1), len(sorted))-1]
}
