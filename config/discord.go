package config

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

var snowflakeYAML = regexp.MustCompile(`^[0-9]{15,21}$`)

// discord reads the optional discord section: ids are Discord snowflakes.
func (p *parser) discord(n *yaml.Node) Discord {
	var d Discord
	id := func(k string, v *yaml.Node, dst *string) {
		*dst = p.matching(k, v, snowflakeYAML, "%q is not a Discord id (15 to 21 digits)")
	}
	p.fields("discord", n, map[string]func(string, *yaml.Node){
		"guild":          func(k string, v *yaml.Node) { id(k, v, &d.Guild) },
		"staff_role":     func(k string, v *yaml.Node) { id(k, v, &d.StaffRole) },
		"digest_channel": func(k string, v *yaml.Node) { id(k, v, &d.DigestChannel) },
		"managers": func(k string, v *yaml.Node) {
			for i, item := range p.seq(k, v) {
				var m string
				id(index(k, i), item, &m)
				if m != "" {
					d.Managers = append(d.Managers, m)
				}
			}
		},
	})
	return d
}
