package cli

import "fmt"

// headerSet finds a CSV export's columns, by the flag that names one or by
// the synonyms a header may go by, each column used once: both importers
// read files whose headers every vendor spells its own way.
type headerSet struct {
	norm     []string // headers normalised by normHeader
	used     map[int]bool
	problems []string // flags that name no header
}

func newHeaderSet(header []string) *headerSet {
	h := &headerSet{norm: make([]string, len(header)), used: map[int]bool{}}
	for i, s := range header {
		h.norm[i] = normHeader(s)
	}
	return h
}

// byFlag takes the column a flag names; an unknown name is a problem.
func (h *headerSet) byFlag(flagName, name string) int {
	want := normHeader(name)
	for i, n := range h.norm {
		if n == want && n != "" {
			h.used[i] = true
			return i
		}
	}
	h.problems = append(h.problems, fmt.Sprintf("--%s %q matches no header", flagName, name))
	return -1
}

// find returns the first free column named by a synonym, best first,
// without taking it (-1: none).
func (h *headerSet) find(synonyms []string) int {
	for _, s := range synonyms {
		for i, n := range h.norm {
			if n == s && !h.used[i] {
				return i
			}
		}
	}
	return -1
}

// take marks column i used and returns it (-1 stays -1).
func (h *headerSet) take(i int) int {
	if i >= 0 {
		h.used[i] = true
	}
	return i
}

// detect finds and takes the first free column named by a synonym.
func (h *headerSet) detect(synonyms []string) int { return h.take(h.find(synonyms)) }
