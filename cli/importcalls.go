package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/araddon/dateparse"
	"github.com/spf13/cobra"

	"ringback/bot/calllog"
	"ringback/config"
	"ringback/store"
)

// importCallsCmd loads a phone system's call-log export as history, so the
// digest shows the team its miss rate before Ringback handles a call:
//
//	ringback import calls [flags] FILE.csv
func (a *app) importCallsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calls [flags] FILE.csv",
		Short: "load a phone system's call log as the digest's baseline",
		Long: `Loads a phone system's call log (time, from, to, status, duration) as
history, so the digest shows the team its miss rate before Ringback handles
a call. Columns and time layouts are detected; the flags name them when
detection cannot.

Rows become calls only: no case is opened and nothing is sent. Each call's
SID is a hash of its row, so importing the same file again adds nothing.`,
		Example: `  ringback import calls calls.csv
  ringback import calls --dry-run calls.csv
  ringback import calls --time-format "01/02/2006 3:04 PM" --tz America/New_York --line Lettings export.csv`,
		Args: oneFile,
	}
	fs := cmd.Flags()
	var opts callOptions
	var delim, tz, lineFlag string
	fs.StringVar(&opts.timeCol, "time-col", "", "header of the time column (default: detected)")
	fs.StringVar(&opts.dateCol, "date-col", "", "header of a separate date column, when --time-col holds only the time of day")
	fs.StringVar(&opts.fromCol, "from-col", "", "header of the caller's number column (default: detected)")
	fs.StringVar(&opts.toCol, "to-col", "", "header of the number called: one of the lines (default: detected)")
	fs.StringVar(&opts.statusCol, "status-col", "", "header of the status or answered column (default: detected)")
	fs.StringVar(&opts.durationCol, "duration-col", "", "header of the duration column (default: detected)")
	fs.StringVar(&opts.timeFormat, "time-format", "", `layout of the times: a Go layout such as "02/01/2006 15:04", or rfc3339 or unix (default: detected)`)
	fs.StringVar(&tz, "tz", "", "time zone of times written without one (default: business.timezone)")
	fs.StringVar(&lineFlag, "line", "", "name or number of the line every call was made to, for an export without a to column")
	fs.BoolVar(&opts.AllLines, "all-lines", false, "import calls to numbers that are no configured line too (stored unrouted)")
	fs.StringVar(&delim, "delimiter", "", `field separator: "," ";" or "tab" (default: "," or ";" as the header shows)`)
	fs.StringVar(&opts.preset, "preset", "", "the phone system that wrote the export: RingCentral, Dialpad, Aircall, 8x8 or Twilio (default: detected from the headers)")
	dryRun := fs.Bool("dry-run", false, "read and report, write nothing")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.importCalls(cmd.Context(), args[0], opts, delim, tz, lineFlag, *dryRun)
	}
	return cmd
}

// importCalls imports the call log at path.
func (a *app) importCalls(ctx context.Context, path string, opts callOptions, delim, tz, lineFlag string, dryRun bool) error {
	var err error
	if opts.delimiter, err = parseDelimiter(delim); err != nil {
		return err
	}

	env, cfg, err := a.configured()
	if err != nil {
		return err
	}
	opts.loc = cfg.Business.Timezone
	if tz != "" {
		if opts.loc, err = time.LoadLocation(tz); err != nil {
			return fmt.Errorf("cli: --tz %q: %w", tz, err)
		}
	}
	if lineFlag != "" {
		l, ok := cfg.LineByName(lineFlag)
		if !ok {
			if n, err := config.Normalize(lineFlag, cfg.Business.Region); err == nil {
				l, ok = cfg.LineByNumber(n)
			}
		}
		if !ok {
			return fmt.Errorf("cli: --line %q is no configured line (%s)", lineFlag, lineNames(cfg))
		}
		opts.Line = l
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cli: read calls: %w", err)
	}
	m := progressMeter(a.stderr)
	defer m.finish()
	log, err := readCallLog(data, opts, cfg, time.Now(), m)
	if err != nil {
		return fmt.Errorf("cli: %s: %w", filepath.Base(path), err)
	}

	var res calllog.Result
	exists, err := store.Exists(env.DatabaseURL)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	if dryRun && !exists {
		// Opening would create the SQLite file: every call is new.
		res = calllog.Count(log.calls)
		res.AssumedEmpty = true
	} else if len(log.calls) > 0 { // else there is nothing to write: leave the database alone
		s, err := store.Open(ctx, env.DatabaseURL)
		if err != nil {
			return fmt.Errorf("cli: %w", err)
		}
		defer s.Close()
		m.stage("writing", len(log.calls))
		if res, err = calllog.Write(ctx, s, log.calls, dryRun, m.add); err != nil {
			return fmt.Errorf("cli: %w", err)
		}
	}
	m.finish()
	res.Known += log.duplicates
	a.reportCalls(log, res, dryRun)
	if res.Imported+res.Known == 0 {
		return fmt.Errorf("cli: %s: nothing imported", filepath.Base(path))
	}
	return nil
}

func lineNames(cfg *config.Config) string {
	names := make([]string, len(cfg.Lines))
	for i, l := range cfg.Lines {
		names[i] = l.Name + " " + l.Number
	}
	return "lines: " + strings.Join(names, ", ")
}

// callOptions are the command's flags.
type callOptions struct {
	calllog.Options                                          // --line, --all-lines
	timeCol, dateCol, fromCol, toCol, statusCol, durationCol string
	timeFormat                                               string
	preset                                                   string         // --preset: a callPresets name
	loc                                                      *time.Location // of naive times
	delimiter                                                rune
}

// callLog is an export read and checked, ready to be written.
type callLog struct {
	opts       callOptions
	headers    []string
	cols       callColumns
	times      timeReader
	calls      []store.Call // one per distinct call, in file order
	rows       int          // data rows read, blank ones aside
	skipped    int
	duplicates int       // rows repeating an earlier row of the file
	outbound   int       // calls staff made (or between extensions): no missed call
	faxes      int       // fax rows: no call
	notes      []rowNote // skipped and duplicate rows, in file order
	warnings   []string  // about the whole file
}

// readCallLog parses an export. It returns an error only for a file it
// cannot use at all; a bad row becomes a note.
func readCallLog(data []byte, opts callOptions, cfg *config.Config, now time.Time, m meter) (*callLog, error) {
	data, enc := decodeText(data)
	log := &callLog{opts: opts}
	if enc != "" {
		log.warnings = append(log.warnings, "the file is not UTF-8; read it as "+enc)
	}
	r := csvReader(data, opts.delimiter)

	// Some systems put a title or the report's period above the header:
	// the header is the first of the leading rows whose columns are found.
	var firstErr error
	var first []string
	for tries := 0; ; tries++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
		if allBlank(rec) {
			continue
		}
		cols, err := findCallColumns(rec, opts)
		if err == nil {
			log.headers, log.cols = rec, cols
			break
		}
		if first == nil {
			first, firstErr = rec, err
		}
		if tries >= 4 {
			break
		}
	}
	if log.headers == nil {
		if first == nil {
			return nil, errors.New("no header row")
		}
		return nil, firstErr
	}

	recs, err := readRecords(r)
	if err != nil {
		return nil, err
	}
	log.rows = len(recs)

	samples := make([][]string, 0, min(len(recs), timeSamples))
	for _, rec := range recs {
		if len(samples) == timeSamples {
			break
		}
		samples = append(samples, rec.fields)
	}
	if log.times, err = log.cols.timeReader(samples, log.headers, opts, cfg.Business.Region); err != nil {
		return nil, err
	}
	if log.times.ambiguous != "" {
		log.warnings = append(log.warnings, log.times.ambiguous)
	}

	firstLine := map[string]int{} // SID -> the line it was first read on
	judge := calllog.NewJudge(cfg, opts.Options)
	log.calls = make([]store.Call, 0, len(recs))
	m.stage("reading", len(recs))
	for _, rec := range recs {
		m.add(1)
		if calllog.Fax(cell(rec.fields, log.cols.kind), cell(rec.fields, log.cols.status)) {
			log.faxes++
			continue
		}
		if in, known := calllog.Inbound(cell(rec.fields, log.cols.direction)); !known {
			log.skipped++
			log.notes = append(log.notes, rowNote{rec.line, fmt.Sprintf("direction %q is neither inbound nor outbound", cell(rec.fields, log.cols.direction))})
			continue
		} else if !in {
			log.outbound++
			continue
		}
		c, problems := log.cols.call(rec.fields, log.times, opts, judge, now)
		if len(problems) > 0 {
			log.skipped++
			log.notes = append(log.notes, rowNote{rec.line, strings.Join(problems, "; ")})
			continue
		}
		if prev, dup := firstLine[c.SID]; dup {
			log.duplicates++
			log.notes = append(log.notes, rowNote{rec.line, fmt.Sprintf("same call as line %d: counted once", prev)})
			continue
		}
		firstLine[c.SID] = rec.line
		log.calls = append(log.calls, c)
	}
	return log, nil
}

// callColumns are indexes into a record; -1 when absent. date is set when
// the date and the time of day sit in separate columns.
type callColumns struct {
	time, date, from, to, status, duration int
	direction, kind                        int
	missedColumn                           bool // status is a "Missed" yes/no column
	preset                                 *callPreset
}

// Header synonyms, normalised by normHeader, best first.
var (
	timeHeaders = []string{"datetime", "timestamp", "starttime", "calltime", "startedat", "callstart", "callstarttime",
		"startdatetime", "calldatetime", "start", "started", "time", "date", "calldate", "startdate"}
	dateOnlyHeaders = []string{"date", "calldate", "startdate"}
	timeOnlyHeaders = []string{"time", "starttime", "calltime", "callstarttime", "timeofday"}
	fromHeaders     = []string{"from", "caller", "callerid", "fromnumber", "callingnumber", "callernumber", "callerphone", "cli", "ani"}
	toHeaders       = []string{"to", "called", "dialed", "dialled", "tonumber", "callednumber", "dialednumber", "diallednumber",
		"number", "line", "did", "dnis"}
	statusHeaders    = []string{"status", "result", "disposition", "answered", "outcome", "callstatus", "callresult", "calloutcome", "calldisposition"}
	directionHeaders = []string{"direction", "calldirection", "inout", "inboundoutbound", "directionofcall"}
	callKindHeaders  = []string{"type", "calltype", "mediatype", "media"}
	durationHeaders  = []string{"duration", "talktime", "length", "seconds", "callduration", "durations", "durationseconds", "durationsec",
		"durationsecs", "talkingtime", "billsec"}
)

func findCallColumns(header []string, opts callOptions) (callColumns, error) {
	h := newHeaderSet(header)
	c := callColumns{time: -1, date: -1, from: -1, to: -1, status: -1, duration: -1, direction: -1, kind: -1}
	if opts.preset != "" {
		p, err := presetByName(opts.preset)
		if err != nil {
			return c, err
		}
		c.preset = p
	} else {
		c.preset = h.detectPreset()
	}
	byFlag, take := h.byFlag, h.take
	find := h.find
	if p := c.preset; p != nil {
		// The export's own columns first, then the usual synonyms (each
		// list is known by its first word).
		first := map[string][]string{timeHeaders[0]: p.time, timeOnlyHeaders[0]: p.time, dateOnlyHeaders[0]: p.date,
			fromHeaders[0]: p.from, toHeaders[0]: p.to, statusHeaders[0]: p.status, durationHeaders[0]: p.duration}
		if p.date != nil {
			first[timeHeaders[0]] = nil // its time is a date column and a time-of-day column
		}
		find = func(synonyms []string) int {
			if i := h.find(first[synonyms[0]]); i >= 0 {
				return i
			}
			return h.find(synonyms)
		}
	}
	// Columns named by flags are taken first, so detection never claims them.
	flags := []struct {
		name, value string
		col         *int
	}{
		{"time-col", opts.timeCol, &c.time}, {"date-col", opts.dateCol, &c.date}, {"from-col", opts.fromCol, &c.from},
		{"to-col", opts.toCol, &c.to}, {"status-col", opts.statusCol, &c.status}, {"duration-col", opts.durationCol, &c.duration},
	}
	for _, f := range flags {
		if f.value != "" {
			*f.col = byFlag(f.name, f.value)
		}
	}
	if len(h.problems) > 0 {
		return c, fmt.Errorf("%s; the headers are %s", strings.Join(h.problems, "; "), quoteAll(header))
	}

	// A date column beside a time-of-day column ("Date", "Time") is read as
	// one time; otherwise one column holds both.
	switch {
	case opts.timeCol == "" && opts.dateCol == "":
		if d, t := find(dateOnlyHeaders), find(timeOnlyHeaders); d >= 0 && t >= 0 {
			c.date, c.time = take(d), take(t)
		} else {
			c.time = take(find(timeHeaders))
		}
	case opts.timeCol == "":
		if c.time = take(find(timeOnlyHeaders)); c.time < 0 {
			c.time = take(find(timeHeaders))
		}
	case opts.dateCol == "":
		if slices.Contains(timeOnlyHeaders, h.norm[c.time]) && !slices.Contains(dateOnlyHeaders, h.norm[c.time]) {
			c.date = take(find(dateOnlyHeaders))
		}
	}
	if opts.fromCol == "" {
		c.from = take(find(fromHeaders))
	}
	if opts.toCol == "" && opts.Line == nil {
		c.to = take(find(toHeaders))
	}
	if opts.statusCol == "" {
		c.status = take(find(statusHeaders))
	}
	if opts.durationCol == "" {
		c.duration = take(find(durationHeaders))
	}
	if p := c.preset; p != nil {
		c.direction, c.kind = take(h.find(p.direction)), take(h.find(p.kind))
	}
	if c.direction < 0 {
		c.direction = take(h.find(directionHeaders))
	}
	if c.kind < 0 {
		c.kind = take(h.find(callKindHeaders))
	}
	c.missedColumn = c.status >= 0 && h.norm[c.status] == "missed"

	var missing, want []string
	if c.time < 0 {
		missing, want = append(missing, "time"), append(want, "--time-col")
	}
	if c.from < 0 {
		missing, want = append(missing, "from"), append(want, "--from-col")
	}
	if c.to < 0 && opts.Line == nil {
		missing, want = append(missing, "to"), append(want, "--to-col (or --line)")
	}
	if c.status < 0 && c.duration < 0 {
		missing, want = append(missing, "status"), append(want, "--status-col")
	}
	if len(missing) > 0 {
		it := "it"
		if len(missing) > 1 {
			it = "them"
		}
		return c, fmt.Errorf("no %s column among the headers %s: name %s with %s",
			strings.Join(missing, ", "), quoteAll(header), it, strings.Join(want, ", "))
	}
	return c, nil
}

// describe names the headers each field is read from, for --dry-run.
func (c callColumns) describe(header []string, times timeReader, opts callOptions) string {
	h := func(i int) string {
		if i < 0 || i >= len(header) {
			return "-"
		}
		return fmt.Sprintf("%q", header[i])
	}
	t := h(c.time)
	if c.date >= 0 {
		t = h(c.date) + " + " + h(c.time)
	}
	to := h(c.to)
	if opts.Line != nil {
		to = "--line " + opts.Line.Name
	}
	s := fmt.Sprintf("time %s (%s), from %s, to %s, status %s, duration %s",
		t, times.describe(), h(c.from), to, h(c.status), h(c.duration))
	if c.direction >= 0 {
		s += ", direction " + h(c.direction)
	}
	if c.kind >= 0 {
		s += ", type " + h(c.kind)
	}
	if c.preset != nil {
		s = "a " + c.preset.name + " export: " + s
	}
	return s
}

// cell is the record's field i, spaces collapsed; "" when absent.
func cell(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.Join(strings.Fields(rec[i]), " ")
}

// timeValue is what the time is read from: the time cell, or the date and
// time cells joined.
func (c callColumns) timeValue(rec []string) (joined, alone string) {
	alone = cell(rec, c.time)
	if c.date < 0 {
		return alone, ""
	}
	d := cell(rec, c.date)
	if d == "" || alone == "" {
		return d + alone, ""
	}
	return d + " " + alone, alone
}

// readTime reads the row's time. A time cell that holds a date already
// (beside a date column) is read alone.
func (c callColumns) readTime(rec []string, tr timeReader) (time.Time, string, bool) {
	joined, alone := c.timeValue(rec)
	if t, ok := tr.parse(joined); ok {
		return t, joined, true
	}
	if alone != "" {
		if t, ok := tr.parse(alone); ok {
			return t, joined, true
		}
	}
	return time.Time{}, joined, false
}

// call reads one record into a call, or says what is wrong with it: the
// time here, the rest by the judge.
func (c callColumns) call(rec []string, tr timeReader, opts callOptions, judge *calllog.Judge, now time.Time) (store.Call, []string) {
	var problems []string
	started, rawTime, ok := c.readTime(rec, tr)
	switch {
	case rawTime == "":
		problems = append(problems, "no time")
	case !ok:
		problems = append(problems, fmt.Sprintf("%q is not a time (--time-format)", rawTime))
	}
	status := cell(rec, c.status)
	if c.missedColumn { // "Missed: Yes" is a missed call
		if missed, ok := calllog.Missed(status, 0, false); ok {
			status = map[bool]string{true: "answered", false: "missed"}[missed]
		}
	}
	call, judged := judge.Call(calllog.Row{
		Started: started, From: cell(rec, c.from), To: cell(rec, c.to),
		Status: status, Duration: cell(rec, c.duration), Cells: rec,
	}, now)
	for _, p := range judged {
		problems = append(problems, p.Message+fixHints[p.Fix])
	}
	if len(problems) > 0 {
		return store.Call{}, problems
	}
	return call, nil
}

// fixHints name the flag that makes a row readable.
var fixHints = map[calllog.Fix]string{
	calllog.FixToColumn:       " (--to-col)",
	calllog.FixAllLines:       " (--all-lines imports it unrouted)",
	calllog.FixDurationColumn: " (--duration-col)",
	calllog.FixStatusColumn:   " (--status-col)",
}

// timeSamples is how many rows decide the time layout when none is given.
const timeSamples = 1000

// timeReader reads a call log's times: by the --time-format layout, as
// unix seconds, or through the dateparse library (which reads the layouts
// phone systems write: "2026-11-30T09:05:00Z", "30/11/2026 09:05",
// "Mon 11/30/2026 9:05 AM", "Mon, 30 Nov 2026 09:05:00 +0000"…) in one
// day/month order for the whole file.
type timeReader struct {
	layout     string // a --time-format layout; "" otherwise
	unix       bool
	library    bool // dateparse, in the order below
	monthFirst bool
	// unambiguous: both orders read every sample alike
	unambiguous bool
	loc         *time.Location // of times written without a zone
	ambiguous   string         // a warning when the other order fit as well
}

// dottedLayouts are the day.month.year times dateparse reads month first
// whatever it is told ("30.11.2026 09:05" is refused).
var dottedLayouts = []string{"2.1.2006 15:04:05", "2.1.2006 15:04", "2.1.06 15:04"}

// monthFirstRegions write dates month first.
var monthFirstRegions = map[string]bool{"US": true, "PH": true, "PR": true, "GU": true, "AS": true, "VI": true, "MP": true, "UM": true, "FM": true, "MH": true, "PW": true}

// timeReader picks how times are read: the flag's layout, or the reading
// that reads the most of the sample rows, preferring the region's
// day/month order.
func (c callColumns) timeReader(samples [][]string, header []string, opts callOptions, region string) (timeReader, error) {
	tr := timeReader{loc: opts.loc}
	if tr.loc == nil {
		tr.loc = time.UTC
	}
	switch strings.ToLower(strings.TrimSpace(opts.timeFormat)) {
	case "":
	case "unix":
		tr.unix = true
		return tr, nil
	case "rfc3339", "iso8601":
		tr.layout = time.RFC3339
		return tr, nil
	default:
		tr.layout = opts.timeFormat
		return tr, nil
	}
	prefer := monthFirstRegions[strings.ToUpper(region)]
	readers := []timeReader{
		{unix: true, loc: tr.loc}, // digits only: before the library, which reads them its own way
		{library: true, monthFirst: prefer, loc: tr.loc},
		{library: true, monthFirst: !prefer, loc: tr.loc},
	}
	for _, l := range dottedLayouts {
		readers = append(readers, timeReader{layout: l, loc: tr.loc})
	}
	counts := make([]int, len(readers))
	best := -1
	for i, r := range readers {
		for _, rec := range samples {
			if _, _, ok := c.readTime(rec, r); ok {
				counts[i]++
			}
		}
		if counts[i] > 0 && (best < 0 || counts[i] > counts[best]) {
			best = i
		}
	}
	if best < 0 {
		col := fmt.Sprintf("%q", header[c.time])
		if c.date >= 0 {
			col = fmt.Sprintf("%q + %q", header[c.date], header[c.time])
		}
		for _, rec := range samples {
			if v, _ := c.timeValue(rec); v != "" {
				return tr, fmt.Errorf("cannot read the times in %s (such as %q): give their layout with --time-format, e.g. --time-format \"02/01/2006 15:04\"", col, v)
			}
		}
		if len(samples) == 0 {
			return tr, nil // no rows: nothing to read
		}
		return tr, fmt.Errorf("no times in %s", col)
	}
	tr = readers[best]
	if tr.library {
		// The other order reading every sample alike means the order does
		// not matter (a weekday or a day past 12 settles it).
		other := readers[3-best] // readers 1 and 2 are the two orders
		same := counts[3-best] == counts[best]
		for _, rec := range samples {
			if !same {
				break
			}
			a, _, okA := c.readTime(rec, tr)
			b, _, okB := c.readTime(rec, other)
			same = okA == okB && a.Equal(b)
		}
		tr.unambiguous = same
	}
	// Day-first and month-first both read "02/11/2026": say which was
	// chosen when the other fits (nearly) as well and reads differently;
	// a bad row or two must not settle the question silently.
	for i, r := range readers {
		if i == best || counts[i]*10 < counts[best]*9 {
			continue
		}
		for _, rec := range samples {
			a, _, okA := c.readTime(rec, tr)
			b, _, okB := c.readTime(rec, r)
			if okA && okB && !a.Equal(b) {
				tr.ambiguous = fmt.Sprintf("times could be read %s or %s; read %s: if that is wrong, give --time-format", tr.describeOrder(), r.describeOrder(), tr.describeOrder())
				return tr, nil
			}
		}
	}
	return tr, nil
}

// parse reads one time; a time without a zone is in tr.loc.
func (tr timeReader) parse(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	switch {
	case tr.unix:
		return parseUnix(v)
	case tr.library:
		if strings.Trim(v, "0123456789.") == "" {
			return time.Time{}, false // a number is no date: unix reads it, or nothing does
		}
		t, err := dateparse.ParseIn(v, tr.loc, dateparse.PreferMonthFirst(tr.monthFirst), dateparse.RetryAmbiguousDateWithSwap(false))
		return t, err == nil
	}
	if strings.Contains(tr.layout, "PM") { // Go reads "PM" only in capitals
		v = strings.ToUpper(v)
	}
	t, err := time.ParseInLocation(tr.layout, v, tr.loc)
	return t, err == nil
}

// parseUnix reads seconds since 1970, or milliseconds when it has 13 digits
// or more.
func parseUnix(v string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if len(whole) >= 13 {
		return time.UnixMilli(n).UTC(), true
	}
	return time.Unix(n, 0).UTC(), true
}

func (tr timeReader) describeOrder() string {
	switch {
	case tr.unix:
		return "as unix seconds"
	case tr.library && tr.monthFirst:
		return "month first (11/30/2026)"
	case tr.library:
		return "day first (30/11/2026)"
	}
	return fmt.Sprintf("as %q", tr.layout)
}

func (tr timeReader) describe() string {
	if tr.unix {
		return "unix seconds"
	}
	if tr.library && tr.unambiguous {
		return "dates as written, in " + tr.loc.String()
	}
	if tr.library {
		return "dates " + tr.describeOrder() + " in " + tr.loc.String()
	}
	return fmt.Sprintf("%q in %s", tr.layout, tr.loc.String())
}

// maxRowNotes caps the skipped rows listed: a file with a wrong flag would
// otherwise print one line per row.
const maxRowNotes = 100

func (a *app) reportCalls(log *callLog, res calllog.Result, dryRun bool) {
	verb := "imported"
	if dryRun {
		verb = "dry run, nothing written: would import"
	}
	if dryRun {
		fmt.Fprintf(a.stdout, "columns: %s\n", log.cols.describe(log.headers, log.times, log.opts))
	}
	calls := "calls"
	if res.Imported == 1 {
		calls = "call"
	}
	rows := "rows"
	if log.rows == 1 {
		rows = "row"
	}
	left := ""
	if log.outbound > 0 || log.faxes > 0 {
		left = fmt.Sprintf("; left out %s and %s", count(log.outbound, "outbound call", "outbound calls"), count(log.faxes, "fax", "faxes"))
	}
	fmt.Fprintf(a.stdout, "%s %s %s (%s missed, %s after hours) from %s %s; %s skipped; %s already known%s\n",
		verb, thousands(res.Imported), calls, thousands(res.Missed), thousands(res.AfterHours),
		thousands(log.rows), rows, thousands(log.skipped), thousands(res.Known), left)
	for _, w := range log.warnings {
		fmt.Fprintf(a.stdout, "note: %s\n", w)
	}
	if res.AssumedEmpty {
		fmt.Fprintln(a.stdout, "note: the database is not migrated yet, so counts assume it holds no calls")
	}
	if res.Live > 0 {
		calls := "calls"
		if res.Live == 1 {
			calls = "call"
		}
		fmt.Fprintf(a.stdout, "note: Ringback itself recorded %s %s in the file's period: a call in both counts twice in the digest\n", thousands(res.Live), calls)
	}
	for i, n := range log.notes {
		if i == maxRowNotes {
			fmt.Fprintf(a.stdout, "… and %s more lines\n", thousands(len(log.notes)-maxRowNotes))
			break
		}
		fmt.Fprintf(a.stdout, "line %d: %s\n", n.line, n.msg)
	}
}

// count writes n and the noun in its number: "1 fax", "2 faxes".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// thousands writes n with comma separators: 1,204.
func thousands(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
