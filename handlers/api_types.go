package handlers

import (
	"strconv"
	"time"

	"ringback/bot"
)

// The read API's JSON, as openapi.json documents it. Field names are a
// contract: add fields, never rename or remove them within /api/v1.

type apiCase struct {
	ID             int64      `json:"id"`
	Ref            string     `json:"ref"`
	State          string     `json:"state"`
	Line           string     `json:"line"`
	LineNumber     string     `json:"line_number"`
	CallerNumber   string     `json:"caller_number"`
	CallerName     string     `json:"caller_name"`
	Origin         string     `json:"origin"`
	Category       string     `json:"category"`
	CategoryLabel  string     `json:"category_label"`
	Urgent         bool       `json:"urgent"`
	Spam           bool       `json:"spam"`
	AfterHours     bool       `json:"after_hours"`
	Owner          string     `json:"owner"`
	CallCount      int        `json:"call_count"`
	DueAt          *time.Time `json:"due_at"`
	ClaimedAt      *time.Time `json:"claimed_at"`
	FirstContactAt *time.Time `json:"first_contact_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	Outcome        string     `json:"outcome"`
	CloseNote      string     `json:"close_note"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func toAPICase(c bot.CaseRecord) apiCase {
	return apiCase{
		ID: c.ID, Ref: c.Ref, State: c.State, Line: c.Line, LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
		CallerName: c.CallerName, Origin: c.Origin, Category: c.Category, CategoryLabel: c.CategoryLabel,
		Urgent: c.Urgent, Spam: c.Spam, AfterHours: c.AfterHours, Owner: c.Owner, CallCount: c.CallCount,
		DueAt: c.DueAt, ClaimedAt: c.ClaimedAt, FirstContactAt: c.FirstContactAt, ClosedAt: c.ClosedAt,
		Outcome: c.Outcome, CloseNote: c.CloseNote, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

type apiCasePage struct {
	Cases      []apiCase `json:"cases"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

type apiEvent struct {
	At    time.Time      `json:"at"`
	Kind  string         `json:"kind"`
	Actor string         `json:"actor"`
	Data  map[string]any `json:"data"`
}

type apiCaseDetail struct {
	apiCase
	Timeline []apiEvent `json:"timeline"`
}

// apiRatio is a share: num of den, and the percentage (den > 0 always; a
// share with no data is null).
type apiRatio struct {
	Num     int     `json:"num"`
	Den     int     `json:"den"`
	Percent float64 `json:"percent"`
}

// apiSpread is durations in seconds.
type apiSpread struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
}

type apiCategorySpread struct {
	Category string     `json:"category"`
	Label    string     `json:"label"`
	Time     *apiSpread `json:"time_to_contact"`
}

type apiFigures struct {
	Calls                int                 `json:"calls"`
	Missed               int                 `json:"missed"`
	MissRate             *apiRatio           `json:"miss_rate"`
	AfterHours           *apiRatio           `json:"after_hours"`
	Cases                int                 `json:"cases"`
	TextBackWithin90s    *apiRatio           `json:"text_back_within_90s"`
	CallerReplies        *apiRatio           `json:"caller_replies"`
	TimeToClaim          *apiSpread          `json:"time_to_claim"`
	TimeToContact        *apiSpread          `json:"time_to_contact"`
	TimeToContactByCat   []apiCategorySpread `json:"time_to_contact_by_category"`
	TriagedWithin5m      *apiRatio           `json:"triaged_within_5m"`
	ContactRate          *apiRatio           `json:"contact_rate"`
	FirstCycleResolution *apiRatio           `json:"first_cycle_resolution"`
	Repeat24h            *apiRatio           `json:"repeat_contact_24h"`
	Escalated            *apiRatio           `json:"escalated"`
	EscalationLevels     map[string]int      `json:"escalation_levels"`
	Backlog              int                 `json:"backlog"`
	OldestOpenSeconds    *float64            `json:"oldest_open_seconds"`
}

type apiLineKPIs struct {
	Name   string `json:"name"`
	Number string `json:"number"`
	apiFigures
}

type apiKPIs struct {
	From  time.Time     `json:"from"`
	To    time.Time     `json:"to"`
	Label string        `json:"label"`
	Total apiFigures    `json:"total"`
	Lines []apiLineKPIs `json:"lines"`
}

func toAPIRatio(r *bot.Ratio) *apiRatio {
	if r == nil {
		return nil
	}
	return &apiRatio{Num: r.Num, Den: r.Den, Percent: r.Percent()}
}

func toAPISpread(s *bot.Spread) *apiSpread {
	if s == nil {
		return nil
	}
	return &apiSpread{Count: s.Count, MedianSeconds: s.Median.Seconds(), P90Seconds: s.P90.Seconds()}
}

func toAPIFigures(f bot.Figures) apiFigures {
	out := apiFigures{
		Calls: f.Calls, Missed: f.Missed, MissRate: toAPIRatio(f.MissRate), AfterHours: toAPIRatio(f.AfterHours),
		Cases: f.Cases, TextBackWithin90s: toAPIRatio(f.TextBackWithin90s), CallerReplies: toAPIRatio(f.CallerReplies),
		TimeToClaim: toAPISpread(f.TimeToClaim), TimeToContact: toAPISpread(f.TimeToContactAll),
		TimeToContactByCat: make([]apiCategorySpread, len(f.TimeToContact)),
		TriagedWithin5m:    toAPIRatio(f.TriagedWithin5m), ContactRate: toAPIRatio(f.ContactRate),
		FirstCycleResolution: toAPIRatio(f.FirstCycle), Repeat24h: toAPIRatio(f.Repeat24h),
		Escalated: toAPIRatio(f.Escalated), EscalationLevels: map[string]int{}, Backlog: f.Backlog,
	}
	for i, c := range f.TimeToContact {
		out.TimeToContactByCat[i] = apiCategorySpread{Category: c.Category, Label: c.Label, Time: toAPISpread(c.Time)}
	}
	for level, n := range f.EscalationLevels {
		out.EscalationLevels[strconv.Itoa(level)] = n
	}
	if f.OldestOpen != nil {
		s := f.OldestOpen.Seconds()
		out.OldestOpenSeconds = &s
	}
	return out
}

func toAPIKPIs(k bot.KPIs) apiKPIs {
	out := apiKPIs{From: k.Period.From.UTC(), To: k.Period.To.UTC(), Label: k.Period.Label,
		Total: toAPIFigures(k.Total), Lines: make([]apiLineKPIs, len(k.Lines))}
	for i, l := range k.Lines {
		out.Lines[i] = apiLineKPIs{Name: l.Name, Number: l.Number, apiFigures: toAPIFigures(l.Figures)}
	}
	return out
}
