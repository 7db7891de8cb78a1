package cli

import (
	"fmt"
	"slices"
	"strings"
)

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

// callPreset is a phone system's call-log export: the headers that
// identify it and the columns each field is read from, normalised by
// normHeader, best first. A preset's columns are tried before the generic
// synonyms; a field it does not name is detected as usual.
type callPreset struct {
	name      string
	signature []string // every one present: the file is this system's export
	time      []string // a date and time in one column
	date      []string // a date beside a time-of-day column (time)
	from, to  []string
	status    []string
	duration  []string
	direction []string
	kind      []string // "Voice" or "Fax"…
}

// callPresets are the exports of the systems our users come from, as their
// admin consoles write them.
var callPresets = []callPreset{
	{
		name:      "RingCentral",
		signature: []string{"direction", "actionresult"},
		date:      []string{"date"}, time: []string{"time"},
		from: []string{"from", "phonenumber"}, to: []string{"to"},
		status: []string{"actionresult", "result"}, duration: []string{"duration"},
		direction: []string{"direction"}, kind: []string{"type", "action"},
	},
	{
		name:      "Dialpad",
		signature: []string{"datestarted", "externalnumber", "internalnumber"},
		time:      []string{"datestarted"},
		from:      []string{"externalnumber"}, to: []string{"internalnumber"},
		status: []string{"categories"}, duration: []string{"talkduration", "totalduration"},
		direction: []string{"direction"}, kind: []string{"targettype"},
	},
	{
		name:      "Aircall",
		signature: []string{"direction", "missedcallreason"},
		time:      []string{"startedatutc", "startedat", "datetimeutc", "datetime"},
		from:      []string{"from", "externalnumber", "contactnumber"}, to: []string{"to", "aircallnumber", "number"},
		status: []string{"status", "missedcallreason"}, duration: []string{"durationintotal", "durationtotal", "duration"},
		direction: []string{"direction"},
	},
	{
		name:      "8x8",
		signature: []string{"caller", "callee", "direction", "missed"},
		time:      []string{"starttime", "callstarttime"},
		from:      []string{"caller", "callernumber"}, to: []string{"callee", "calleenumber"},
		status: []string{"missed"}, duration: []string{"talktime", "duration"},
		direction: []string{"direction"},
	},
	{
		name:      "Twilio",
		signature: []string{"sid", "starttime", "direction", "status"},
		time:      []string{"starttime", "datecreated"},
		from:      []string{"from"}, to: []string{"to"},
		status: []string{"status"}, duration: []string{"duration"},
		direction: []string{"direction"},
	},
}

// presetByName finds a preset by its name, in any case ("" is none).
func presetByName(name string) (*callPreset, error) {
	var names []string
	for i := range callPresets {
		if strings.EqualFold(callPresets[i].name, name) {
			return &callPresets[i], nil
		}
		names = append(names, callPresets[i].name)
	}
	return nil, fmt.Errorf("--preset %q is none of %s", name, strings.Join(names, ", "))
}

// detectPreset is the export whose signature headers are all present.
func (h *headerSet) detectPreset() *callPreset {
	for i, p := range callPresets {
		all := true
		for _, s := range p.signature {
			if !slices.Contains(h.norm, s) {
				all = false
				break
			}
		}
		if all {
			return &callPresets[i]
		}
	}
	return nil
}
