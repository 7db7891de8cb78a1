// Package calllog judges the rows of a phone system's call-log export by the
// rules live calls are judged by (package bot): what is missed, whose number
// was withheld, what came after hours, and which rows are the same call.
// Reading the file (encodings, columns, time layouts) is the caller's; so
// is printing. Imported calls are history: they open no case, send nothing.
package calllog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
)

// Provider is the provider of every imported call.
const Provider = "import"

// Options say which calls a log is about.
type Options struct {
	// Line is every call's line, for a log without a number-called column.
	Line *config.Line
	// AllLines keeps calls to numbers that are no configured line, unrouted.
	AllLines bool
}

// Row is one row of a log, its cells picked out by column.
type Row struct {
	Started  time.Time // when the call started; the caller reads the time
	From, To string    // To is ignored when Options.Line is set
	Status   string    // "" when the log has no status column
	Duration string    // "" when the log has no duration column
	Cells    []string  // the whole row: part of the call's identity
}

// Fix names what the person importing can change so a row is read.
type Fix int

// Fixes.
const (
	FixNone           Fix = iota
	FixToColumn           // name the number-called column
	FixAllLines           // import calls to other numbers too
	FixDurationColumn     // name the duration column
	FixStatusColumn       // name the status column
)

// Problem is why a row cannot become a call.
type Problem struct {
	Message string
	Fix     Fix
}

// Judge turns rows into calls. It remembers the numbers it has read: a log
// names its few lines on every row and regular callers many times, and
// reading a number is most of the time an import takes.
type Judge struct {
	cfg     *config.Config
	opts    Options
	callers map[string]number
	lines   map[string]number
}

type number struct {
	e164 string
	err  error
}

// NewJudge returns a judge of the calls of cfg's business.
func NewJudge(cfg *config.Config, opts Options) *Judge {
	return &Judge{cfg: cfg, opts: opts, callers: map[string]number{}, lines: map[string]number{}}
}

func cached(seen map[string]number, raw string, read func(raw, region string) (string, error), region string) (string, error) {
	if n, ok := seen[raw]; ok {
		return n.e164, n.err
	}
	e164, err := read(raw, region)
	seen[raw] = number{e164, err}
	return e164, err
}

// Call judges one row: the call it records at now, or what is wrong with it.
func (j *Judge) Call(r Row, now time.Time) (store.Call, []Problem) {
	var problems []Problem
	bad := func(fix Fix, format string, args ...any) {
		problems = append(problems, Problem{fmt.Sprintf(format, args...), fix})
	}
	region := j.cfg.Business.Region
	caller, err := cached(j.callers, r.From, bot.CallerNumber, region)
	if err != nil {
		bad(FixNone, "caller %q is not a phone number", r.From)
	}

	var line *config.Line
	lineNum := ""
	if j.opts.Line != nil {
		line, lineNum = j.opts.Line, j.opts.Line.Number
	} else {
		n, err := cached(j.lines, r.To, bot.LineNumber, region)
		switch {
		case r.To == "":
			bad(FixToColumn, "no number called")
		case err != nil:
			bad(FixNone, "number called %q is not a phone number", r.To)
		default:
			lineNum = n
			var known bool
			if line, known = j.cfg.LineByNumber(n); !known && !j.opts.AllLines {
				bad(FixAllLines, "%s is not a configured line", n)
			}
		}
	}

	dur, hasDur, durOK := ParseDuration(r.Duration)
	if !durOK {
		bad(FixDurationColumn, "%q is not a duration", r.Duration)
	}
	missed, known := Missed(r.Status, dur, hasDur && durOK)
	switch {
	case known:
	case r.Status == "" && durOK:
		bad(FixStatusColumn, "no status")
	case r.Status != "":
		bad(FixNone, "status %q is neither answered (answered, completed, connected, yes) nor missed (missed, no answer, busy, voicemail, no…)", r.Status)
	}
	if len(problems) > 0 {
		return store.Call{}, problems
	}

	status := strings.ToLower(r.Status)
	if status == "" {
		status = "answered"
		if missed {
			status = "missed"
		}
	}
	return store.Call{
		SID:          SID(r.Started, caller, lineNum, r.Status, dur, r.Cells),
		Provider:     Provider,
		LineNumber:   lineNum,
		Routed:       line != nil,
		CallerNumber: caller,
		Status:       status,
		Missed:       missed,
		AfterHours:   bot.AfterHours(line, r.Started),
		StartedAt:    r.Started.UTC(),
		DurationS:    dur,
		CreatedAt:    now,
		UpdatedAt:    now,
	}, nil
}

// SID is an imported call's identity: a hash of what its row says, so that
// the same row imported again, or twice in one file, is the same call.
func SID(started time.Time, from, to, status string, dur int, cells []string) string {
	h := sha256.New()
	put := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	put(started.UTC().Format(time.RFC3339Nano))
	put(from)
	put(to)
	put(status)
	put(strconv.Itoa(dur))
	for _, f := range cells {
		put(strings.TrimSpace(f))
	}
	return Provider + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// answeredColumn are the values of an "Answered" column, in lower case: yes
// or no.
var answeredColumn = map[string]bool{"yes": true, "y": true, "true": true, "1": true, "no": false, "n": false, "false": false, "0": false}

// Missed reads a status cell by the words live reports use
// (bot.CallStatusOutcome), or as an "Answered" column's yes or no. An empty
// status with a duration decides by the duration: nobody talked for 0
// seconds. known is false when the status says neither.
func Missed(status string, dur int, hasDur bool) (missed, known bool) {
	if m, ok := exportWords[squash(status)]; ok {
		return m, true
	}
	if o, ok := bot.CallStatusOutcome(status); ok {
		// A logged call is judged as a live report of a call Ringback did
		// not route, so "completed" is answered.
		return o.Missed(), true
	}
	if answered, ok := answeredColumn[strings.ToLower(strings.TrimSpace(status))]; ok {
		return !answered, true
	}
	if strings.TrimSpace(status) == "" && hasDur {
		return dur == 0, true
	}
	// A list of tags ("incoming, missed", "inbound|voicemail"): missed when
	// any tag says so, answered when one says that and none says missed.
	if tags := strings.FieldsFunc(status, func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == '/' }); len(tags) > 1 {
		answered := false
		for _, t := range tags {
			if m, ok := Missed(t, 0, false); ok && m {
				return true, true
			} else if ok {
				answered = true
			}
		}
		if answered {
			return false, true
		}
	}
	return false, false
}

// exportWords are the results call-log exports write beyond the statuses
// live reports use (bot.CallStatusOutcome): RingCentral's "Accepted", "Call
// connected", "Hang Up"; Aircall's and 8x8's abandoned and declined calls.
// true is missed.
var exportWords = map[string]bool{
	"accepted": false, "callconnected": false, "inboundcallconnected": false, "callaccepted": false,
	"hangup": true, "hungup": true, "rejected": true, "declined": true, "linebusy": true,
	"shortabandoned": true, "abandonedinivr": true, "abandonedinqueue": true, "noavailableagent": true,
	"outofopeninghours": true, "agentsdidnotanswer": true, "sendtovoicemail": true, "senttovoicemail": true,
	"missedcall": true, "voicemailleft": true, "receivedvoicemail": true,
}

// squash keeps a word's letters and digits, in lower case.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Direction words of exports' direction columns, squashed: true is a call
// in from a caller.
var directions = map[string]bool{
	"inbound": true, "incoming": true, "in": true, "inboundcall": true, "incomingcall": true, "received": true,
	"outbound": false, "outgoing": false, "out": false, "outboundapi": false, "outbounddial": false,
	"outboundcall": false, "outgoingcall": false, "internal": false, "dialed": false, "dialled": false,
}

// Inbound reads a direction cell: inbound is false for a call made by
// staff (or between extensions); known is false for a word that says
// neither. An empty cell is inbound.
func Inbound(direction string) (inbound, known bool) {
	if strings.TrimSpace(direction) == "" {
		return true, true
	}
	in, ok := directions[squash(direction)]
	return in, ok
}

// Fax reports a cell that names a fax ("Fax", "Incoming Fax", "fax
// received"): a fax is no call.
func Fax(cells ...string) bool {
	for _, c := range cells {
		if strings.Contains(strings.ToLower(c), "fax") {
			return true
		}
	}
	return false
}

// ParseDuration reads seconds ("42", "42.6"), clock form ("1:05",
// "00:01:05") or Go form ("1m5s"). present is false for an empty cell.
func ParseDuration(s string) (secs int, present, ok bool) {
	if notKnown(s) { // "", "-", "N/A"
		return 0, false, true
	}
	s = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && !math.IsInf(f, 0) {
		return int(math.Round(f)), true, true
	}
	if parts := strings.Split(s, ":"); len(parts) == 2 || len(parts) == 3 {
		total := 0.0
		for i, p := range parts {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || v < 0 || (i > 0 && v >= 60) {
				return 0, true, false
			}
			total = total*60 + v
		}
		return int(math.Round(total)), true, true
	}
	if d, err := time.ParseDuration(strings.TrimSuffix(strings.TrimSuffix(s, "ec"), "in")); err == nil && d >= 0 {
		return int(d.Round(time.Second) / time.Second), true, true
	}
	return 0, true, false
}

// notKnown reports a cell that says "not known": "N/A", "none", "-".
func notKnown(cell string) bool {
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "", "-", "--", "n/a", "na", "none", "nil", "null", "unknown", "tbc", "tba":
		return true
	}
	return false
}

// Result is what writing a log did, or would do.
type Result struct {
	Imported, Missed, AfterHours int
	Known                        int  // calls already stored
	AssumedEmpty                 bool // dry run on an unmigrated database
	Live                         int  // calls Ringback recorded itself in the log's period
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("calllog: dry run")

// writeChunk is how many calls are inserted between two progress reports.
const writeChunk = 5000

// Write stores calls (at least one) in one transaction; a dry run rolls it
// back, so its counts are exact against the calls already stored. progress
// (nil: none) hears how many calls each step wrote.
func Write(ctx context.Context, s *store.Store, calls []store.Call, dryRun bool, progress func(n int)) (Result, error) {
	if progress == nil {
		progress = func(int) {}
	}
	if dryRun {
		cur, latest, err := s.SchemaVersion(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("calllog: %w", err)
		}
		if cur > latest {
			return Result{}, fmt.Errorf("calllog: %w: schema version %d, this binary knows up to %d", store.ErrSchemaNewer, cur, latest)
		}
		if cur == 0 { // no calls table yet: every call is new
			res := Count(calls)
			res.AssumedEmpty = true
			return res, nil
		}
	} else if err := s.Migrate(ctx); err != nil {
		return Result{}, fmt.Errorf("calllog: %w", err)
	}
	var res Result
	err := s.InTx(ctx, func(tx *store.Tx) error {
		from, to := calls[0].StartedAt, calls[0].StartedAt
		for _, c := range calls {
			if c.StartedAt.Before(from) {
				from = c.StartedAt
			}
			if c.StartedAt.After(to) {
				to = c.StartedAt
			}
		}
		live, err := tx.CountCallsBetween(ctx, from, to, Provider)
		if err != nil {
			return err
		}
		for start := 0; start < len(calls); start += writeChunk {
			chunk := calls[start:min(start+writeChunk, len(calls))]
			if _, err := tx.InsertCalls(ctx, chunk); err != nil {
				return err
			}
			progress(len(chunk))
		}
		res = count(calls, func(c store.Call) bool { return c.ID != 0 })
		res.Live = live
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return Result{}, fmt.Errorf("calllog: write calls: %w", err)
	}
	return res, nil
}

// Count is what writing calls to a database that holds none would do.
func Count(calls []store.Call) Result { return count(calls, func(store.Call) bool { return true }) }

func count(calls []store.Call, isNew func(store.Call) bool) Result {
	var res Result
	for _, c := range calls {
		if !isNew(c) {
			res.Known++
			continue
		}
		res.Imported++
		if c.Missed {
			res.Missed++
		}
		if c.AfterHours {
			res.AfterHours++
		}
	}
	return res
}
