package chat

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Digest is one period's digest, for every line or for one.
type Digest struct {
	Period
	// Line is "" for every line; else the line's name, and every figure,
	// table and chart is that line's alone.
	Line string
	// Zone is the business's time zone, which Daily's days follow.
	Zone *time.Location
	// KPIs are the period's figures and Previous those of the same span one
	// week earlier, for the changes.
	KPIs     KPIs
	Previous KPIs
	Staff    []StaffRow
	// Oldest are the cases open at the period's end, oldest first; Age is
	// counted at To.
	Oldest []QueueItem
	Daily  []DayCount
	// Targets are what the headline figures are held to (digest.targets).
	Targets Targets
	// Names turns user ids into display names. The bot knows only ids; a
	// chat adapter that can look names up fills it before rendering.
	Names map[string]string
}

// StaffRow is one person's share of the period's cases.
type StaffRow struct {
	User string
	// Claims counts the cases the person claimed (a case claimed, released
	// and claimed again counts once).
	Claims int
	// Contacted counts the cases the person owns that got a first human
	// contact; FirstContact is the median time from the first missed call
	// to that contact (nil: none).
	Contacted    int
	FirstContact *time.Duration
	// Closed counts the cases the person closed, Outcomes by outcome.
	Closed   int
	Outcomes map[string]int
}

// DayCount is one day of the period in the business's time zone.
type DayCount struct {
	Day time.Time // 00:00 that day
	// Missed counts the missed calls that started that day.
	Missed int
	// Reached counts the cases whose first human contact (a template SMS or
	// a logged callback) was made that day, whenever the case was opened:
	// the callbacks that day's work achieved, set against the missed calls.
	Reached int
}

// Name is a user's display name when known, else the id.
func (d Digest) Name(id string) string {
	if n := d.Names[id]; n != "" {
		return n
	}
	return id
}

// ScopeTotal names every line together in rows and tables.
const ScopeTotal = "total"

// Scopes lists the digest's scopes in order: "total" then every line by
// name, or the one line of a digest narrowed to it.
func (d Digest) Scopes() []string {
	var out []string
	if d.Line == "" {
		out = append(out, ScopeTotal)
	}
	for _, l := range d.KPIs.Lines {
		out = append(out, l.Name)
	}
	return out
}

// figures returns a scope's figures this period and the period before.
func (d Digest) figures(scope string) (cur, prev Figures) {
	if scope == ScopeTotal {
		return d.KPIs.Total, d.Previous.Total
	}
	for _, l := range d.KPIs.Lines {
		if l.Name == scope {
			cur = l.Figures
			for _, pl := range d.Previous.Lines {
				if pl.Number == l.Number {
					prev = pl.Figures
				}
			}
		}
	}
	return cur, prev
}

// PeakHours are a scope's missed calls by [time.Weekday][hour].
func (d Digest) PeakHours(scope string) [7][24]int {
	cur, _ := d.figures(scope)
	return cur.PeakHours
}

// KPI units.
const (
	UnitCount   = "count"
	UnitPercent = "percent"
	UnitSeconds = "seconds"
)

// DigestRow is one KPI in one scope, this period and the one before.
type DigestRow struct {
	Scope string `json:"scope"` // "total" or a line's name
	KPI   string `json:"kpi"`   // stable key: "miss_rate", "time_to_claim_median"…
	Label string `json:"label"`
	Unit  string `json:"unit"` // count, percent or seconds
	// Value is nil when there is no data (no denominator, nothing timed).
	Value *float64 `json:"value"`
	// Num and Den are a ratio's parts; for a time, Den is how many cases
	// were timed.
	Num      *int     `json:"numerator"`
	Den      *int     `json:"denominator"`
	Previous *float64 `json:"previous"`
	// Change is Value − Previous: percentage points for a percent, seconds
	// for a time; nil when either is missing.
	Change *float64 `json:"change"`
}

// metric is one KPI of one Figures.
type metric struct {
	key, label, unit string
	value            *float64
	num, den         *int
}

func countMetric(key, label string, n int) metric {
	v := float64(n)
	return metric{key: key, label: label, unit: UnitCount, value: &v}
}

func ratioMetric(key, label string, r *Ratio) metric {
	m := metric{key: key, label: label, unit: UnitPercent}
	if r != nil {
		v := math.Round(r.Percent()*100) / 100
		num, den := r.Num, r.Den
		m.value, m.num, m.den = &v, &num, &den
	}
	return m
}

func timeMetrics(key, label string, s *Spread) []metric {
	med := metric{key: key + "_median", label: label + ", median", unit: UnitSeconds}
	p90 := metric{key: key + "_p90", label: label + ", p90", unit: UnitSeconds}
	if s != nil {
		m, p, n := math.Round(s.Median.Seconds()), math.Round(s.P90.Seconds()), s.Count
		med.value, med.den = &m, &n
		p90.value, p90.den = &p, &n
	}
	return []metric{med, p90}
}

func maxLevel(fs ...Figures) int {
	n := 0
	for _, f := range fs {
		for l := range f.EscalationLevels {
			n = max(n, l)
		}
	}
	return n
}

// Rows lists every KPI of every scope: scope by scope, each in DESIGN.md's
// order. A KPI known only last week (a category since removed) follows.
func (d Digest) Rows() []DigestRow {
	var out []DigestRow
	for _, scope := range d.Scopes() {
		out = append(out, d.scopeRows(scope)...)
	}
	return out
}

func (d Digest) scopeRows(scope string) []DigestRow {
	cur, prev := d.figures(scope)
	// The total has every line's levels, so all scopes list the same ones.
	levels := maxLevel(cur, prev, d.KPIs.Total, d.Previous.Total)
	before := map[string]metric{}
	for _, m := range metrics(prev, levels) {
		before[m.key] = m
	}
	var out []DigestRow
	seen := map[string]bool{}
	add := func(m metric, p metric) {
		out = append(out, digestRow(scope, m, p))
		seen[m.key] = true
	}
	for _, m := range metrics(cur, levels) {
		add(m, before[m.key])
	}
	for _, p := range metrics(prev, levels) {
		if !seen[p.key] {
			add(metric{key: p.key, label: p.label, unit: p.unit}, p)
		}
	}
	return out
}

// digestRow is metric m of scope with its value p the period before.
func digestRow(scope string, m, p metric) DigestRow {
	r := DigestRow{Scope: scope, KPI: m.key, Label: strings.TrimSpace(m.label), Unit: m.unit,
		Value: m.value, Num: m.num, Den: m.den, Previous: p.value}
	if m.value != nil && p.value != nil {
		c := math.Round((*m.value-*p.value)*100) / 100
		r.Change = &c
	}
	return r
}

// Targets are the digest's goals; percents are 0–100, a zero target is none.
type Targets struct {
	TextBack90s float64
	TimeToClaim time.Duration
	SLAMet      float64
	ContactRate float64
	Backlog     int
}

// Headline is one of the figures a manager reads first, in the digest's
// first scope (every line, or the one line of a narrowed digest), against
// its target and the week before.
type Headline struct {
	KPI   *KPI
	Label string
	// Value is the figure ("92%", "4 min", "7"); "–" for no data.
	Value string
	// Detail says what it counts: a ratio's parts ("23/25"), the miss
	// rate beside missed calls, the backlog's oldest case.
	Detail string
	// Target is the goal in words ("≥ 95%", "≤ 10 min"), "" for none; OnTarget
	// is nil without a target or data.
	Target   string
	OnTarget *bool
	// Change is against the week before ("▲ 3 pts", "▼ 2 min", "±0"; "" for
	// no data either week); Better says whether it is an improvement (nil:
	// no change, or neither way is better).
	Change string
	Better *bool
}

// Mark is the headline's target state as one symbol: ✅ on target, ⚠️ off
// it, "" for no target or no data.
func (h Headline) Mark() string {
	switch {
	case h.OnTarget == nil:
		return ""
	case *h.OnTarget:
		return "✅"
	}
	return "⚠️"
}

// Line is the headline after its label, as one line of plain text:
// "92% (23/25) · target ≥ 95% · ▲ 3 pts on last week".
func (h Headline) Line() string {
	s := h.Value
	if h.Detail != "" {
		s += " (" + h.Detail + ")"
	}
	if h.Target != "" {
		s += " · target " + h.Target
	}
	if h.Change != "" {
		s += " · " + h.Change
	}
	return s
}

// lowerIsBetter are the headline KPIs whose fall is good news.
func lowerIsBetter(k *KPI) bool {
	return k == KPIMissedCalls || k == KPITimeToClaim || k == KPIBacklog || k == KPIMissRate
}

// target is k's goal from t: the value in k's row unit, and whether it is
// a ceiling; ok is false for no target.
func (t Targets) target(k *KPI) (v float64, atMost bool, words string, ok bool) {
	switch {
	case k == KPITextBack90s && t.TextBack90s > 0:
		return t.TextBack90s, false, fmt.Sprintf("≥ %s%%", strconv.FormatFloat(t.TextBack90s, 'f', -1, 64)), true
	case k == KPISLAMet && t.SLAMet > 0:
		return t.SLAMet, false, fmt.Sprintf("≥ %s%%", strconv.FormatFloat(t.SLAMet, 'f', -1, 64)), true
	case k == KPIContactRate && t.ContactRate > 0:
		return t.ContactRate, false, fmt.Sprintf("≥ %s%%", strconv.FormatFloat(t.ContactRate, 'f', -1, 64)), true
	case k == KPITimeToClaim && t.TimeToClaim > 0:
		return t.TimeToClaim.Seconds(), true, "≤ " + HumanDuration(t.TimeToClaim), true
	case k == KPIBacklog && t.Backlog > 0:
		return float64(t.Backlog), true, fmt.Sprintf("≤ %d", t.Backlog), true
	}
	return 0, false, "", false
}

// Headlines are the catalogue's headline KPIs, in its order, each against
// its target and the week before.
func (d Digest) Headlines() []Headline {
	scopes := d.Scopes()
	if len(scopes) == 0 {
		return nil
	}
	return d.headlines(scopes[0])
}

// headlines are a scope's headline figures.
func (d Digest) headlines(scope string) []Headline {
	cur, prev := d.figures(scope)
	row := func(k *KPI) DigestRow { return digestRow(scope, k.metrics(cur)[0], k.metrics(prev)[0]) }
	var out []Headline
	for _, k := range Catalogue {
		if k.Headline == "" {
			continue
		}
		r := row(k)
		h := Headline{KPI: k, Label: k.Headline, Value: r.ValueText(), Detail: r.RatioText(), Change: r.ChangeText()}
		switch k {
		case KPIMissedCalls:
			if m := row(KPIMissRate); m.Value != nil {
				h.Detail = fmt.Sprintf("%s of %d calls", m.ValueText(), cur.Calls)
			}
		case KPIBacklog:
			if o := row(KPIOldestOpen); o.Value != nil {
				h.Detail = "oldest " + o.ValueText()
			}
		}
		if v, atMost, words, ok := d.Targets.target(k); ok {
			h.Target = words
			if r.Value != nil {
				on := *r.Value >= v
				if atMost {
					on = *r.Value <= v
				}
				h.OnTarget = &on
			}
		}
		if r.Change != nil && h.Change != "±0" && h.Change != "±0 pts" {
			better := (*r.Change > 0) != lowerIsBetter(k)
			h.Better = &better
		}
		out = append(out, h)
	}
	return out
}

// LineSummary is one line's week in a few figures, for the digest's "one
// line per line".
type LineSummary struct {
	Name string
	// Text reads "12 missed · text-back 92% · claim 4 min · SLA 80% ·
	// contact 75% · 3 open".
	Text string
}

// LineSummaries are the digest's lines, each in one line of text; none
// for a digest narrowed to one line (its headline is that line).
func (d Digest) LineSummaries() []LineSummary {
	if d.Line != "" {
		return nil
	}
	var out []LineSummary
	for _, l := range d.KPIs.Lines {
		f := l.Figures
		pct := func(r *Ratio) string {
			if r == nil {
				return "–"
			}
			return fmt.Sprintf("%.0f%%", r.Percent())
		}
		claim := "–"
		if f.TimeToClaim != nil {
			claim = HumanDuration(f.TimeToClaim.Median)
		}
		out = append(out, LineSummary{Name: l.Name, Text: fmt.Sprintf("%d missed · text-back %s · claim %s · SLA %s · contact %s · %d open",
			f.Missed, pct(f.TextBackWithin90s), claim, pct(f.SLAMet), pct(f.ContactRate), f.Backlog)})
	}
	return out
}

// OldestFacts are what the digest says of an open case after its
// reference, as plain words: line, age, owner, caller and category.
func (d Digest) OldestFacts(it QueueItem) []string {
	owner := "unclaimed"
	if it.Owner != "" {
		owner = d.Name(it.Owner)
	}
	category := it.Category
	if category == "" {
		category = "untriaged"
	}
	return []string{it.Line, "open " + HumanDuration(it.Age), owner, it.Caller, category}
}

// FileName names the digest's files (chart, CSV), without an extension:
// the week, and the line of a line's digest. A re-run finds a file it
// shared by this name.
func (d Digest) FileName() string {
	name := "ringback-digest"
	if f := strings.Fields(d.Label); len(f) > 0 {
		name += "-" + f[0] // the week, "2026-W46"
	}
	if d.Line != "" {
		name += "-" + strings.ToLower(strings.Join(strings.Fields(d.Line), "-"))
	}
	return name
}

// HeadOldest is how many open cases the digest's first post links.
const HeadOldest = 3

// OldestHead are the oldest open cases the first post links.
func (d Digest) OldestHead() []QueueItem { return d.Oldest[:min(HeadOldest, len(d.Oldest))] }

// ValueText is the value for people: "18%", "4 min", "12", or "–" for no data.
func (r DigestRow) ValueText() string {
	if r.Value == nil {
		return "–"
	}
	switch r.Unit {
	case UnitPercent:
		return fmt.Sprintf("%.0f%%", *r.Value)
	case UnitSeconds:
		return HumanDuration(time.Duration(*r.Value) * time.Second)
	}
	return strconv.FormatFloat(*r.Value, 'f', -1, 64)
}

// RatioText is a ratio's parts, "4/22"; "" for other KPIs.
func (r DigestRow) RatioText() string {
	if r.Unit != UnitPercent || r.Num == nil || r.Den == nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", *r.Num, *r.Den)
}

// ChangeText is the change for people: "▲ 3 pts", "▼ 2 min", "±0", or ""
// when either week has no data.
func (r DigestRow) ChangeText() string {
	if r.Change == nil {
		return ""
	}
	c := *r.Change
	var mag string
	switch r.Unit {
	case UnitPercent:
		if math.Round(c) == 0 {
			return "±0 pts"
		}
		mag = fmt.Sprintf("%.0f pts", math.Abs(c))
	case UnitSeconds:
		if math.Abs(c) < 1 {
			return "±0"
		}
		mag = HumanDuration(time.Duration(math.Abs(c)) * time.Second)
	default:
		if c == 0 {
			return "±0"
		}
		mag = strconv.FormatFloat(math.Abs(c), 'f', -1, 64)
	}
	if c > 0 {
		return "▲ " + mag
	}
	return "▼ " + mag
}

// HumanDuration reads "40 s", "4 min", "2 h 5 min", "3 d 4 h".
func HumanDuration(d time.Duration) string { return statsDuration(d) }

// Table is the KPIs of the given scopes (default: all) as an aligned plain
// text table, one column per scope: value, a ratio's parts and the change.
func (d Digest) Table(scopes ...string) string {
	if len(scopes) == 0 {
		scopes = d.Scopes()
	}
	byScope := make([][]DigestRow, len(scopes))
	for i, s := range scopes {
		byScope[i] = d.scopeRows(s)
	}
	header := []string{"KPI"}
	for _, s := range scopes {
		header = append(header, titleScope(s), "", "")
	}
	// Every scope lists the same KPIs but for the categories and levels
	// only some have data: one row per KPI any scope has, in first-seen order.
	var keys []string
	labels := map[string]string{}
	cells := map[string]map[int]DigestRow{}
	for i, sr := range byScope {
		for _, r := range sr {
			if cells[r.KPI] == nil {
				cells[r.KPI] = map[int]DigestRow{}
				keys = append(keys, r.KPI)
				labels[r.KPI] = labelOf(r)
			}
			cells[r.KPI][i] = r
		}
	}
	rows := [][]string{header}
	for _, k := range keys {
		if strings.HasPrefix(k, "time_to_contact.") && noData(cells[k]) {
			continue // a category nobody called about either week
		}
		row := []string{printable(labels[k])}
		for i := range scopes {
			if r, ok := cells[k][i]; ok {
				row = append(row, r.ValueText(), r.RatioText(), r.ChangeText())
			} else {
				row = append(row, "", "", "")
			}
		}
		rows = append(rows, row)
	}
	// Values and ratios read best right-aligned, labels and changes left.
	right := func(col int) bool { return col > 0 && col%3 != 0 }
	return align(rows, right)
}

func noData(cells map[int]DigestRow) bool {
	for _, r := range cells {
		if r.Value != nil || r.Previous != nil {
			return false
		}
	}
	return true
}

// labelOf keeps the indent of sub-KPIs (categories, levels).
func labelOf(r DigestRow) string {
	if strings.HasPrefix(r.KPI, "time_to_contact.") || strings.HasPrefix(r.KPI, "escalations_level_") {
		return "  " + r.Label
	}
	return r.Label
}

func titleScope(s string) string {
	if s == ScopeTotal {
		return "All lines"
	}
	return printable(s)
}

// align pads cells into columns two spaces apart; right says which
// columns align right. Widths count runes, so ▲ and – take one column.
func align(rows [][]string, right func(col int) bool) string {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		var line strings.Builder
		for i, c := range row {
			if widths[i] == 0 {
				continue
			}
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if right(i) {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// outcomeColumns are the outcomes any row of the staff table has, in
// Outcomes' order, so the table carries no empty columns.
func (d Digest) outcomeColumns() []string {
	var cols []string
	for _, o := range Outcomes {
		for _, r := range d.Staff {
			if r.Outcomes[o] > 0 {
				cols = append(cols, o)
				break
			}
		}
	}
	return cols
}

// StaffTable is the per-staff table as aligned plain text; "" when nobody
// worked a case of the period.
func (d Digest) StaffTable() string {
	if len(d.Staff) == 0 {
		return ""
	}
	outcomes := d.outcomeColumns()
	header := append([]string{"Person", "Claims", "Contacted", "Median to contact", "Closed"}, outcomes...)
	rows := [][]string{header}
	for _, r := range d.Staff {
		med := "–"
		if r.FirstContact != nil {
			med = HumanDuration(*r.FirstContact)
		}
		row := []string{printable(d.Name(r.User)), strconv.Itoa(r.Claims), strconv.Itoa(r.Contacted), med, strconv.Itoa(r.Closed)}
		for _, o := range outcomes {
			row = append(row, strconv.Itoa(r.Outcomes[o]))
		}
		rows = append(rows, row)
	}
	return align(rows, func(col int) bool { return col > 0 })
}

// DailyTable is the days of the period as aligned plain text.
func (d Digest) DailyTable() string {
	rows := [][]string{{"Day", "Missed", "Reached"}}
	for _, day := range d.Daily {
		rows = append(rows, []string{day.Day.Format("Mon 2 Jan"), strconv.Itoa(day.Missed), strconv.Itoa(day.Reached)})
	}
	return align(rows, func(col int) bool { return col > 0 })
}

// PeakHoursText lists a scope's n busiest hours for missed calls, busiest
// first ("Mon 09:00–10:00: 7").
func (d Digest) PeakHoursText(scope string, n int) []string {
	return BusiestHours(d.PeakHours(scope), n)
}

// Title is the digest's heading: "Weekly digest, 2026-W46 (…)", naming the
// line of a narrowed digest.
func (d Digest) Title() string {
	t := "Weekly digest, " + d.Label
	if d.Line != "" {
		t += ", " + d.Line
	}
	return t
}

// Text is the digest for a terminal: every KPI in an aligned table, total
// and per line, with the change against the week before; then peak hours,
// staff, the oldest open cases and the days.
func (d Digest) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", printable(d.Title()))
	fmt.Fprintf(&b, "Changes (▲ ▼) are against %s; pts = percentage points.\n\n", d.Previous.Period.Label)
	rows := make([][]string, 0, 6)
	for _, h := range d.Headlines() {
		rows = append(rows, []string{h.Label, h.Line(), h.Mark()})
	}
	if len(rows) > 0 {
		b.WriteString(align(rows, func(int) bool { return false }) + "\n\n")
	}
	b.WriteString(d.Table())
	b.WriteString("\n\nPeak miss hours\n")
	for _, s := range d.Scopes() {
		peaks := d.PeakHoursText(s, 3)
		if len(peaks) == 0 {
			peaks = []string{"no missed calls"}
		}
		fmt.Fprintf(&b, "  %s: %s\n", titleScope(s), strings.Join(peaks, ", "))
	}
	b.WriteString("\nStaff (cases opened in the period)\n")
	if t := d.StaffTable(); t != "" {
		b.WriteString(indent(t) + "\n")
	} else {
		b.WriteString("  nobody claimed, contacted or closed a case\n")
	}
	fmt.Fprintf(&b, "\nOldest open cases at %s\n", d.To.In(d.zone()).Format("Mon 2 Jan 15:04"))
	if len(d.Oldest) == 0 {
		b.WriteString("  none\n")
	} else {
		rows := make([][]string, 0, len(d.Oldest))
		for _, it := range d.Oldest {
			owner := "unclaimed"
			if it.Owner != "" {
				owner = d.Name(it.Owner)
			}
			rows = append(rows, []string{it.Ref, printable(it.Line), HumanDuration(it.Age), printable(owner), printable(it.Caller)})
		}
		b.WriteString(indent(align(rows, func(col int) bool { return col == 2 })) + "\n")
	}
	fmt.Fprintf(&b, "\nBy day (%s)\n", d.zone())
	b.WriteString(indent(d.DailyTable()) + "\n")
	b.WriteString("  Reached: cases whose first human contact (a template SMS or a logged callback) was made that day.\n")
	return b.String()
}

func (d Digest) zone() *time.Location {
	if d.Zone != nil {
		return d.Zone
	}
	return time.UTC
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// printable drops control characters, so that a name imported from a CSV
// cannot move the terminal's cursor or break a table's line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// The JSON form: stable snake_case names, times in RFC 3339 (UTC),
// durations in whole seconds (fields ending _s).
type (
	digestJSON struct {
		Title    string                      `json:"title"`
		Period   periodJSON                  `json:"period"`
		Previous periodJSON                  `json:"previous_period"`
		Line     string                      `json:"line"`
		TimeZone string                      `json:"time_zone"`
		KPIs     []DigestRow                 `json:"kpis"`
		Peak     map[string]map[string][]int `json:"peak_missed_calls"`
		Staff    []staffJSON                 `json:"staff"`
		Oldest   []oldestJSON                `json:"oldest_open"`
		Daily    []dayJSON                   `json:"daily"`
	}
	periodJSON struct {
		Label string    `json:"label"`
		From  time.Time `json:"from"`
		To    time.Time `json:"to"`
	}
	staffJSON struct {
		User         string         `json:"user"`
		Name         string         `json:"name,omitempty"`
		Claims       int            `json:"claims"`
		Contacted    int            `json:"contacted"`
		FirstContact *int64         `json:"median_first_contact_s"`
		Closed       int            `json:"closed"`
		Outcomes     map[string]int `json:"outcomes"`
	}
	oldestJSON struct {
		CaseID   int64  `json:"case_id"`
		Ref      string `json:"ref"`
		Line     string `json:"line"`
		AgeS     int64  `json:"age_s"`
		Owner    string `json:"owner"`
		Category string `json:"category"`
		Caller   string `json:"caller"`
		Urgent   bool   `json:"urgent"`
		Overdue  bool   `json:"overdue"`
	}
	dayJSON struct {
		Date    string `json:"date"`
		Missed  int    `json:"missed"`
		Reached int    `json:"reached"`
	}
)

var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// JSON is the digest for programs. Peak missed calls are per scope, per
// weekday ("mon"…"sun"), 24 counts from 00:00 in the line's time zone.
func (d Digest) JSON() ([]byte, error) {
	out := digestJSON{
		Title:    d.Title(),
		Period:   periodJSON{d.Label, d.From.UTC(), d.To.UTC()},
		Previous: periodJSON{d.Previous.Period.Label, d.Previous.Period.From.UTC(), d.Previous.Period.To.UTC()},
		Line:     d.Line,
		TimeZone: d.zone().String(),
		KPIs:     d.Rows(),
		Peak:     map[string]map[string][]int{},
		Staff:    []staffJSON{},
		Oldest:   []oldestJSON{},
		Daily:    []dayJSON{},
	}
	if out.KPIs == nil {
		out.KPIs = []DigestRow{}
	}
	for _, s := range d.Scopes() {
		h := d.PeakHours(s)
		days := map[string][]int{}
		for wd, key := range weekdayKeys {
			days[key] = h[wd][:]
		}
		out.Peak[s] = days
	}
	for _, r := range d.Staff {
		sj := staffJSON{User: r.User, Name: d.Names[r.User], Claims: r.Claims, Contacted: r.Contacted, Closed: r.Closed, Outcomes: r.Outcomes}
		if r.FirstContact != nil {
			s := int64(r.FirstContact.Round(time.Second) / time.Second)
			sj.FirstContact = &s
		}
		if sj.Outcomes == nil {
			sj.Outcomes = map[string]int{}
		}
		out.Staff = append(out.Staff, sj)
	}
	for _, it := range d.Oldest {
		out.Oldest = append(out.Oldest, oldestJSON{CaseID: it.CaseID, Ref: it.Ref, Line: it.Line, AgeS: int64(it.Age.Round(time.Second) / time.Second),
			Owner: it.Owner, Category: it.Category, Caller: it.Caller, Urgent: it.Urgent, Overdue: it.Overdue})
	}
	for _, day := range d.Daily {
		out.Daily = append(out.Daily, dayJSON{Date: day.Day.Format(time.DateOnly), Missed: day.Missed, Reached: day.Reached})
	}
	raw, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bot: digest json: %w", err)
	}
	return append(raw, '\n'), nil
}

// CSV is one row per KPI and scope: scope,kpi,value,numerator,denominator,
// previous,change. Percents are in %, times in seconds; an empty cell is
// no data. Peak hours follow as kpi "peak_missed_calls.mon.09" (missed
// calls Monday 09:00–10:00), for the hours with a missed call either week.
func (d Digest) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"scope", "kpi", "value", "numerator", "denominator", "previous", "change"})
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	integer := func(v *int) string {
		if v == nil {
			return ""
		}
		return strconv.Itoa(*v)
	}
	for _, r := range d.Rows() {
		_ = w.Write([]string{r.Scope, r.KPI, num(r.Value), integer(r.Num), integer(r.Den), num(r.Previous), num(r.Change)})
	}
	for _, s := range d.Scopes() {
		cur, prev := d.figures(s)
		for i := range 7 {
			wd := (i + 1) % 7 // Monday first, as the week runs
			for h := range 24 {
				c, p := cur.PeakHours[wd][h], prev.PeakHours[wd][h]
				if c == 0 && p == 0 {
					continue
				}
				_ = w.Write([]string{s, fmt.Sprintf("peak_missed_calls.%s.%02d", weekdayKeys[wd], h),
					strconv.Itoa(c), "", "", strconv.Itoa(p), strconv.Itoa(c - p)})
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("bot: digest csv: %w", err)
	}
	return buf.Bytes(), nil
}

// DigestJob asks a chat adapter to post the weekly digest for a period.
type DigestJob struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Label string    `json:"label"`
}
