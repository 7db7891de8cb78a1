package config

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

func (p *parser) managers(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	var out []string
	for i, item := range p.seq("managers", n) {
		k := index("managers", i)
		s, ok := p.str(k, item)
		if !ok {
			continue
		}
		if s == "" {
			p.add(item, k, "empty user ID")
			continue
		}
		out = append(out, s)
	}
	return out
}

var slackIDRE = regexp.MustCompile(`^[USW][A-Z0-9]{2,}$`)
