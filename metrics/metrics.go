// Package metrics owns Ringback's Prometheus families other than the
// outbox's and the spool's: HTTP requests, signature failures, leadership,
// the case backlog, escalations, SMS results, chat API errors and the build.
// A Set belongs to one process (or one test): the packages that count take
// it from their Deps, and a nil *Set counts nothing.
package metrics

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Set is one process's families.
type Set struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	signatures    *prometheus.CounterVec
	leader        prometheus.Gauge
	casesOpen     *prometheus.GaugeVec
	casesUnclaim  *prometheus.GaugeVec
	casesOverdue  *prometheus.GaugeVec
	escalations   *prometheus.CounterVec
	sms           *prometheus.CounterVec
	chatErrors    *prometheus.CounterVec
	chatRateLimit *prometheus.CounterVec
	build         *prometheus.GaugeVec
}

// New returns a Set with the build's info already set.
func New() *Set {
	m := &Set{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringback_http_requests_total",
			Help: "HTTP requests by route (the pattern served, \"unmatched\" for none) and status code.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ringback_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		signatures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringback_webhook_signature_failures_total",
			Help: "Requests refused because their signature was missing, wrong, stale or replayed, by source (twilio, calls, slack, discord).",
		}, []string{"source"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ringback_leader",
			Help: "1 while this replica holds the leader lease and runs the timers.",
		}),
		casesOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringback_cases_open",
			Help: "Cases not closed, by line; set by the leader (other replicas export none).",
		}, []string{"line"}),
		casesUnclaim: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringback_cases_unclaimed",
			Help: "Open cases nobody owns, by line; set by the leader.",
		}, []string{"line"}),
		casesOverdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringback_cases_overdue",
			Help: "Open cases past their due time without human contact, by line; set by the leader.",
		}, []string{"line"}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringback_escalations_total",
			Help: "Escalation steps fired, by level (the step's position in the policy, from 1) and whom they notified.",
		}, []string{"level", "notify"}),
		sms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringback_sms_results_total",
			Help: "Outgoing texts by outcome: accepted, failed, canceled, retry (the provider failed for now) and the receipts delivered, undelivered.",
		}, []string{"outcome"}),
		chatErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringback_chat_api_errors_total",
			Help: "Chat platform API calls that failed (rate limits included), by platform.",
		}, []string{"platform"}),
		chatRateLimit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringback_chat_rate_limited_total",
			Help: "Chat platform API calls answered with a rate limit (429, Retry-After), by platform.",
		}, []string{"platform"}),
		build: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringback_build_info",
			Help: "Always 1: the running binary's module version, VCS revision and Go version.",
		}, []string{"version", "revision", "go_version"}),
	}
	// Known label values start at 0, so a rate() over them works from the
	// first scrape and alerts need no absent().
	for _, o := range SMSOutcomes {
		m.sms.WithLabelValues(o)
	}
	for _, src := range []string{"twilio", "calls", "slack", "discord"} {
		m.signatures.WithLabelValues(src)
	}
	version, revision := buildVersion()
	m.build.WithLabelValues(version, revision, runtime.Version()).Set(1)
	return m
}

// buildVersion reads the module version and VCS revision stamped by go build.
func buildVersion() (version, revision string) {
	version, revision = "(devel)", "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, revision
	}
	if info.Main.Version != "" {
		version = info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return version, revision
}

// Collectors are the families to register.
func (m *Set) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.requests, m.latency, m.signatures, m.leader, m.casesOpen, m.casesUnclaim, m.casesOverdue,
		m.escalations, m.sms, m.chatErrors, m.chatRateLimit, m.build,
	}
}

// Request counts one HTTP request answered.
func (m *Set) Request(route string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
}

// SignatureFailed counts a request refused for its signature.
func (m *Set) SignatureFailed(source string) {
	if m == nil {
		return
	}
	m.signatures.WithLabelValues(source).Inc()
}

// Leading sets whether this replica leads.
func (m *Set) Leading(yes bool) {
	if m == nil {
		return
	}
	v := 0.0
	if yes {
		v = 1
	}
	m.leader.Set(v)
}

// CaseCount is one line's backlog.
type CaseCount struct {
	Line                     string
	Open, Unclaimed, Overdue int
}

// Cases replaces the backlog gauges with counts (lines absent from counts
// are dropped); nil counts clears them, as a replica that stops leading does.
func (m *Set) Cases(counts []CaseCount) {
	if m == nil {
		return
	}
	m.casesOpen.Reset()
	m.casesUnclaim.Reset()
	m.casesOverdue.Reset()
	for _, c := range counts {
		m.casesOpen.WithLabelValues(c.Line).Set(float64(c.Open))
		m.casesUnclaim.WithLabelValues(c.Line).Set(float64(c.Unclaimed))
		m.casesOverdue.WithLabelValues(c.Line).Set(float64(c.Overdue))
	}
}

// Escalated counts an escalation step fired.
func (m *Set) Escalated(level int, notify string) {
	if m == nil {
		return
	}
	m.escalations.WithLabelValues(strconv.Itoa(level), notify).Inc()
}

// SMSOutcomes are the outcomes ringback_sms_results_total counts.
var SMSOutcomes = []string{"accepted", "failed", "canceled", "retry", "delivered", "undelivered"}

// SMS counts an outgoing text's result.
func (m *Set) SMS(outcome string) {
	if m == nil {
		return
	}
	m.sms.WithLabelValues(outcome).Inc()
}

// ChatPlatform starts a platform's chat counters at 0.
func (m *Set) ChatPlatform(platform string) {
	if m == nil {
		return
	}
	m.chatErrors.WithLabelValues(platform)
	m.chatRateLimit.WithLabelValues(platform)
}

// ChatError counts a failed chat API call; rateLimited when the platform
// said to slow down.
func (m *Set) ChatError(platform string, rateLimited bool) {
	if m == nil {
		return
	}
	m.chatErrors.WithLabelValues(platform).Inc()
	if rateLimited {
		m.chatRateLimit.WithLabelValues(platform).Inc()
	}
}
