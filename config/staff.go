package config

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

// staffGroup reads staff_group: a Slack user group ID.
func (p *parser) staffGroup(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	g, ok := p.str("staff_group", n)
	if !ok {
		return ""
	}
	if !slackIDRE.MatchString(g) || g[0] != 'S' {
		p.add(n, "staff_group", "%q is not a Slack user group ID (S…)", g)
		return ""
	}
	return g
}

// managers reads the managers section: Slack user IDs.
func (p *parser) managers(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	return p.words("managers", n, "user ID")
}

// words reads a list of non-empty values; what names one in the problem.
func (p *parser) words(key string, n *yaml.Node, what string) []string {
	var out []string
	for i, item := range p.seq(key, n) {
		k := index(key, i)
		s, ok := p.str(k, item)
		if !ok {
			continue
		}
		if s == "" {
			p.add(item, k, "empty %s", what)
			continue
		}
		out = append(out, s)
	}
	return out
}

var slackIDRE = regexp.MustCompile(`^[USW][A-Z0-9]{2,}$`)
