package bot

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"ringback/store"
)

// This file answers the read API (/api/v1): pages of cases and one case's
// timeline, for reporting and for systems of record. A token without the
// numbers scope sees every caller's number masked.

// CaseQuery selects a page of cases; the zero value is every case.
type CaseQuery = store.CaseListFilter

// CaseRecord is one case as integrations see it.
type CaseRecord struct {
	ID             int64
	Ref            string
	State          string
	Line           string // the line's name (its number when no longer configured)
	LineNumber     string
	CallerNumber   string // masked unless asked for; "" when withheld
	CallerName     string // the contact's name, if known
	Origin         string
	Category       string
	CategoryLabel  string
	Urgent         bool
	Spam           bool
	AfterHours     bool
	Owner          string
	CallCount      int
	DueAt          *time.Time
	ClaimedAt      *time.Time
	FirstContactAt *time.Time
	ClosedAt       *time.Time
	Outcome        string
	CloseNote      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TimelineEvent is one entry of a case's audit trail.
type TimelineEvent struct {
	At    time.Time
	Kind  string
	Actor string
	Data  map[string]any
}

// CasePage is a page of cases and the cursor of the next one (0: last page).
type CasePage struct {
	Cases []CaseRecord
	Next  int64
}

// CasesForAPI returns a page of cases; numbers reports whether callers'
// numbers are shown whole.
func (b *Bot) CasesForAPI(ctx context.Context, q CaseQuery, numbers bool) (CasePage, error) {
	rows, more, err := b.store.CasePage(ctx, q)
	if err != nil {
		return CasePage{}, err
	}
	p := CasePage{Cases: make([]CaseRecord, len(rows))}
	for i, r := range rows {
		p.Cases[i] = b.caseRecord(r.Case, r.ContactName, numbers)
	}
	if more {
		p.Next = rows[len(rows)-1].ID
	}
	return p, nil
}

// CaseForAPI returns one case with its timeline; store.ErrNotFound when
// there is no such case.
func (b *Bot) CaseForAPI(ctx context.Context, id int64, numbers bool) (CaseRecord, []TimelineEvent, error) {
	rows, _, err := b.store.CasePage(ctx, store.CaseListFilter{After: id - 1, Limit: 1})
	if err != nil {
		return CaseRecord{}, nil, err
	}
	if len(rows) == 0 || rows[0].ID != id {
		return CaseRecord{}, nil, store.ErrNotFound
	}
	events, err := b.store.EventsForCase(ctx, id)
	if err != nil {
		return CaseRecord{}, nil, err
	}
	tl := make([]TimelineEvent, len(events))
	for i, e := range events {
		data := map[string]any{}
		_ = json.Unmarshal([]byte(e.Data), &data) // the store writes JSON objects; a bad one reads as empty
		if !numbers {
			maskNumbersIn(data)
		}
		tl[i] = TimelineEvent{At: e.At.UTC(), Kind: e.Kind, Actor: e.Actor, Data: data}
	}
	return b.caseRecord(rows[0].Case, rows[0].ContactName, numbers), tl, nil
}

func (b *Bot) caseRecord(c store.Case, contact *string, numbers bool) CaseRecord {
	r := CaseRecord{
		ID: c.ID, Ref: caseRef(c.ID), State: c.State, Line: c.LineNumber, LineNumber: c.LineNumber,
		CallerNumber: c.CallerNumber, Origin: c.Origin, Category: c.Category, Urgent: c.Urgent, Spam: c.Spam,
		AfterHours: c.AfterHours, Owner: c.Owner, CallCount: c.CallCount, DueAt: utc(c.DueAt),
		ClaimedAt: utc(c.ClaimedAt), FirstContactAt: utc(c.FirstContactAt), ClosedAt: utc(c.ClosedAt),
		Outcome: c.Outcome, CloseNote: c.CloseNote, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
	if line, ok := b.line(c.LineNumber); ok {
		r.Line = line.Name
	}
	if cat, ok := b.cfg.Category(c.Category); ok {
		r.CategoryLabel = cat.Label
	}
	if contact != nil {
		r.CallerName = *contact
	}
	if !numbers {
		r.CallerNumber = MaskNumber(r.CallerNumber)
	}
	return r
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// MaskNumber keeps an E.164 number's last three digits: "+447700900123"
// reads "+*********123". Enough to tell callers apart in a report, not to
// ring them.
func MaskNumber(n string) string {
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return n[:1] + strings.Repeat("*", len(n)-4) + n[len(n)-3:]
}

var phoneLike = regexp.MustCompile(`\+\d{6,15}`)

// MaskNumbers masks everything shaped like an E.164 number in s.
func MaskNumbers(s string) string {
	if !strings.Contains(s, "+") {
		return s
	}
	return phoneLike.ReplaceAllStringFunc(s, MaskNumber)
}

// maskNumbersIn masks anything shaped like a phone number in an event's data.
func maskNumbersIn(data map[string]any) {
	for k, v := range data {
		switch v := v.(type) {
		case string:
			data[k] = MaskNumbers(v)
		case map[string]any:
			maskNumbersIn(v)
		}
	}
}
