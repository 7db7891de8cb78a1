package config

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The file is walked as a yaml.Node tree rather than decoded into structs so
// that every problem gets a key path, unknown keys are caught at any depth,
// categories keep their file order, and one mistake does not hide the next.

// parser collects problems while it builds a Config.
type parser struct {
	probs Problems
	at    []int // source line of each problem, to list them in file order
}

func (p *parser) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.probs = append(p.probs, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	p.at = append(p.at, line)
}

// sorted returns the problems in the order their keys appear in the file.
func (p *parser) sorted() Problems {
	idx := make([]int, len(p.probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p.at[idx[a]] < p.at[idx[b]] })
	out := make(Problems, len(idx))
	for i, j := range idx {
		out[i] = p.probs[j]
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

type pair struct {
	key      string
	keyNode  *yaml.Node
	valueRaw *yaml.Node
}

func (e pair) value() *yaml.Node { return resolve(e.valueRaw) }

// pairs lists a mapping's entries in file order. YAML merge keys (<<: *anchor)
// are expanded so operators can share settings between lines with anchors.
func (p *parser) pairs(path string, n *yaml.Node) []pair {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "must be a map of keys to values")
		return nil
	}
	var out, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			src := resolve(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, m := range src.Content {
					merged = append(merged, p.pairs(path, m)...)
				}
			} else {
				merged = append(merged, p.pairs(path, src)...)
			}
			continue
		}
		key := strings.TrimSpace(k.Value)
		if seen[key] {
			p.add(k, join(path, key), "key is repeated")
			continue
		}
		seen[key] = true
		out = append(out, pair{key, k, v})
	}
	for _, m := range merged {
		if !seen[m.key] {
			seen[m.key] = true
			out = append(out, m)
		}
	}
	return out
}

// fields walks a mapping with a fixed set of keys: each present, non-empty
// key's handler runs with its full path; any other key is a problem (typo
// protection). It returns the entries it walked.
func (p *parser) fields(path string, n *yaml.Node, handlers map[string]func(key string, v *yaml.Node)) []pair {
	pairs := p.pairs(path, n)
	for _, e := range pairs {
		h, ok := handlers[e.key]
		if !ok {
			known := make([]string, 0, len(handlers))
			for k := range handlers {
				known = append(known, k)
			}
			sort.Strings(known)
			p.add(e.keyNode, join(path, e.key), "unknown key (known: %s)", strings.Join(known, ", "))
			continue
		}
		if isNull(e.valueRaw) {
			continue
		}
		h(join(path, e.key), e.value())
	}
	return pairs
}

// str reads a single scalar value, trimmed.
func (p *parser) str(key string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.add(n, key, "must be a single value, not a list or map")
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// seq returns the items of a list; a lone value is read as a list of one.
func (p *parser) seq(key string, n *yaml.Node) []*yaml.Node {
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = resolve(c)
		}
		return out
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	}
	p.add(n, key, "must be a list")
	return nil
}

// matching reads a single value that must match re; format, given the
// value, says what it should be. It returns "" for a value that does not.
func (p *parser) matching(key string, n *yaml.Node, re *regexp.Regexp, format string) string {
	s, ok := p.str(key, n)
	if ok && !re.MatchString(s) {
		p.add(n, key, format, s)
		return ""
	}
	return s
}

func (p *parser) duration(key string, n *yaml.Node) (time.Duration, bool) {
	s, ok := p.str(key, n)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		p.add(n, key, "%s", err)
		return 0, false
	}
	return d, true
}

func (p *parser) phone(key string, n *yaml.Node, region string) string {
	s, ok := p.str(key, n)
	if !ok {
		return ""
	}
	e164, ok := normalize(s, region)
	if !ok {
		p.add(n, key, "%s", notPhone(s))
	}
	return e164
}

// slackChannelRE is a Slack channel ID: C… (public) or G… (older private
// channels), upper-case letters and digits. Channel names are lower-case,
// so a name never passes.
var slackChannelRE = regexp.MustCompile(`^[CG][A-Z0-9]*$`)

// slackChannel reads a Slack channel ID. A channel's name is the common
// mistake: Ringback posts by ID, and the Web API refuses names.
func (p *parser) slackChannel(key string, n *yaml.Node) string {
	s, ok := p.str(key, n)
	if !ok || s == "" || slackChannelRE.MatchString(s) {
		return s
	}
	p.add(n, key, "%q is a channel name, not its ID: Ringback needs the channel ID (C…); in Slack open the channel's details and copy the Channel ID at the bottom", s)
	return ""
}

func (p *parser) location(key string, n *yaml.Node) *time.Location {
	s, ok := p.str(key, n)
	if !ok || s == "" {
		return nil
	}
	// "Local" would make hours depend on the server's clock settings.
	loc, err := time.LoadLocation(s)
	if err != nil || s == "Local" {
		p.add(n, key, "%q is not an IANA time zone (e.g. Europe/London)", s)
		return nil
	}
	return loc
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parse builds the Config from data, recording problems on p.
func (p *parser) parse(data []byte) *Config {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.add(nil, "", "%s", err)
		return nil
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	sections := map[string]*yaml.Node{}
	keep := func(key string, v *yaml.Node) { sections[key] = v }
	top := p.fields("", root, map[string]func(string, *yaml.Node){
		"business": keep, "managers": keep, "digest": keep, "lines": keep,
		"categories": keep, "escalation": keep, "templates": keep, "discord": keep, "staff_group": keep,
		"limits":        keep,
		"outbox":        keep,
		"auto_triage":   keep,
		"untriaged":     keep,
		"manager_batch": keep,
		"webhooks":      keep,
	})
	// "required" problems of a section are placed at its key's line, before
	// the problems inside it.
	var businessKey *yaml.Node
	for _, e := range top {
		if e.key == "business" {
			businessKey = e.keyNode
		}
	}

	// Sections are read in dependency order, not file order: lines refer to
	// categories, templates and the business's region and time zone.
	cfg := &Config{}
	cfg.Business = p.business(businessKey, sections["business"])
	cfg.Categories = p.categories(sections["categories"])
	cfg.Templates = p.templates(sections["templates"], cfg)
	if n := sections["escalation"]; n != nil {
		cfg.Escalation = p.escalation("escalation", n)
	}
	cfg.Lines = p.lines(root, sections["lines"], cfg)
	cfg.Managers = p.managers(sections["managers"])
	cfg.Digest = p.digest(sections["digest"])
	cfg.Discord = p.discord(sections["discord"])
	cfg.StaffGroup = p.staffGroup(sections["staff_group"])
	cfg.Limits = p.limits(sections["limits"])
	cfg.Outbox = p.outbox(sections["outbox"])
	cfg.AutoTriage = p.autoTriage(sections["auto_triage"])
	cfg.Untriaged.SetDefaults()
	cfg.ManagerBatch = DefaultManagerBatch
	if n := sections["manager_batch"]; n != nil {
		cfg.ManagerBatch = p.managerBatch("manager_batch", n)
	}
	if n := sections["untriaged"]; n != nil {
		cfg.Untriaged = p.due("untriaged", n, cfg.Untriaged)
	}
	cfg.Webhooks = p.webhooks(sections["webhooks"], cfg)
	return cfg
}

// has reports whether a problem was already recorded at key.
func (p *parser) has(key string) bool {
	for _, pr := range p.probs {
		if pr.Key == key {
			return true
		}
	}
	return false
}
