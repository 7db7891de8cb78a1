package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Webhook is one outbound webhook subscription (Standard Webhooks 1.0).
type Webhook struct {
	Name string
	URL  string
	// SecretEnv names the environment variable holding the signing secret
	// (whsec_…); PreviousSecretEnv, during a rotation, the old one: both
	// sign every message until it is removed.
	SecretEnv, PreviousSecretEnv string
	Events                       []string // event types sent; empty = all
	Lines                        []string // E.164 numbers of the lines whose cases are sent; empty = all
}

// WebhookEventTypes are the event types a subscription can ask for.
var WebhookEventTypes = []string{
	"case.opened", "case.updated", "case.claimed", "case.released", "case.contacted",
	"case.closed", "case.reopened", "sms.received", "callback.scheduled", "optout.changed",
}

// Wants reports whether the subscription takes events of type on line.
func (w Webhook) Wants(eventType, line string) bool {
	return (len(w.Events) == 0 || slices.Contains(w.Events, eventType)) &&
		(len(w.Lines) == 0 || slices.Contains(w.Lines, line))
}

// Webhook returns the subscription called name.
func (c *Config) Webhook(name string) (Webhook, bool) {
	for _, w := range c.Webhooks {
		if w.Name == name {
			return w, true
		}
	}
	return Webhook{}, false
}

var (
	webhookNameYAML = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	envNameYAML     = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

// WebhookURLAllowed reports whether u may receive webhooks: https, or http
// to a loopback address (tests, the demo). Caller numbers travel in them.
func WebhookURLAllowed(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil {
		return false
	}
	if p.Scheme == "https" {
		return true
	}
	if p.Scheme != "http" {
		return false
	}
	host := p.Hostname()
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// webhooks reads the optional webhooks list; lines must name configured lines.
func (p *parser) webhooks(n *yaml.Node, cfg *Config) []Webhook {
	if n == nil {
		return nil
	}
	var out []Webhook
	seen := map[string]bool{}
	for i, item := range p.seq("webhooks", n) {
		key := index("webhooks", i)
		var w Webhook
		p.fields(key, item, map[string]func(string, *yaml.Node){
			"name": func(k string, v *yaml.Node) {
				w.Name = p.matching(k, v, webhookNameYAML, "%q is not a webhook name (lower-case letters, digits, - and _)")
				if w.Name != "" && seen[w.Name] {
					p.add(v, k, "webhook %q is defined twice", w.Name)
				}
				seen[w.Name] = true
			},
			"url": func(k string, v *yaml.Node) {
				if s, ok := p.str(k, v); ok {
					if !WebhookURLAllowed(s) {
						p.add(v, k, "%q must be an https URL (http only to localhost)", s)
					}
					w.URL = s
				}
			},
			"secret_env": func(k string, v *yaml.Node) {
				w.SecretEnv = p.matching(k, v, envNameYAML, "%q is not an environment variable name")
			},
			"previous_secret_env": func(k string, v *yaml.Node) {
				w.PreviousSecretEnv = p.matching(k, v, envNameYAML, "%q is not an environment variable name")
			},
			"events": func(k string, v *yaml.Node) {
				for j, e := range p.words(k, v, "event type") {
					if !slices.Contains(WebhookEventTypes, e) {
						p.add(v, index(k, j), "%q is not an event type (known: %v)", e, WebhookEventTypes)
						continue
					}
					w.Events = append(w.Events, e)
				}
			},
			"lines": func(k string, v *yaml.Node) {
				for j, item := range p.seq(k, v) {
					num := p.phone(index(k, j), item, cfg.Business.Region)
					if num == "" {
						continue
					}
					if !slices.ContainsFunc(cfg.Lines, func(l Line) bool { return l.Number == num }) {
						p.add(item, index(k, j), "%s is not one of the lines", num)
						continue
					}
					w.Lines = append(w.Lines, num)
				}
			},
		})
		if w.Name == "" && !p.has(join(key, "name")) {
			p.add(item, key, "a webhook needs a name")
		}
		if w.URL == "" && !p.has(join(key, "url")) {
			p.add(item, join(key, "url"), "required")
		}
		if w.SecretEnv == "" && !p.has(join(key, "secret_env")) {
			p.add(item, join(key, "secret_env"), "required: the environment variable holding the whsec_ secret")
		}
		out = append(out, w)
	}
	return out
}

// WebhookSecretProblems checks that each subscription's secrets are set in
// the environment and are whsec_ secrets (base64 after the prefix).
func (c *Config) WebhookSecretProblems(getenv func(string) string) []Problem {
	var ps []Problem
	for i, w := range c.Webhooks {
		for _, env := range []string{w.SecretEnv, w.PreviousSecretEnv} {
			if env == "" {
				continue
			}
			key := index("webhooks", i)
			v := getenv(env)
			if v == "" {
				ps = append(ps, Problem{Key: key, Message: fmt.Sprintf("webhook %s: %s is not set", w.Name, env)})
				continue
			}
			raw, ok := strings.CutPrefix(v, "whsec_")
			if k, err := base64.StdEncoding.DecodeString(raw); !ok || err != nil || len(k) < 24 {
				ps = append(ps, Problem{Key: key, Message: fmt.Sprintf("webhook %s: %s must be whsec_ followed by at least 24 base64-encoded bytes", w.Name, env)})
			}
		}
	}
	return ps
}
