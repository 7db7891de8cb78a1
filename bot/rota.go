package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// The rota names the owner of the day of a new case, and Ringback assigns
// the case to them rather than suggesting: the promise is that every missed
// call is an owned task from its first ring, and an assignee who does not
// act is covered by the escalation's owner step (ack_within returns the case
// to the queue). People marked away and closed dates are skipped; a case
// whose category is set later goes to that category's owner of the day,
// unless a person already took it or contacted the caller.

// rotaPick is whom the rota chose for a case, and why, for its timeline.
type rotaPick struct {
	Owner   string
	Rota    string // which rota: "Lettings", "Maintenance on Lettings", "vendor callers on Lettings"
	Skipped int    // people passed over because they are away
	Day     time.Time
}

// rotaChoice is one rota that may apply to a case, most specific first.
type rotaChoice struct {
	rota  config.Rota
	scope string // rota_turns' category column: "" line, category key, "kind:…"
	name  string
}

// rotasFor lists the rotas that apply to a case of category (maybe "") from
// a caller of contact kind (maybe ""): the kind's, the line's for the
// category, the category's, the line's own.
func (b *Bot) rotasFor(line *config.Line, category, kind string) []rotaChoice {
	var out []rotaChoice
	if r, ok := line.ContactKinds[kind]; ok && kind != "" && !r.Rota.Empty() {
		out = append(out, rotaChoice{r.Rota, "kind:" + kind, kind + " callers on " + line.Name})
	}
	if category != "" {
		label := category
		cat, ok := b.cfg.Category(category)
		if ok {
			label = cat.Label
		}
		if r, ok := line.CategoryRota[category]; ok && !r.Empty() {
			out = append(out, rotaChoice{r, category, label + " on " + line.Name})
		} else if ok && !cat.Rota.Empty() {
			out = append(out, rotaChoice{cat.Rota, category, label + " on " + line.Name})
		}
	}
	if !line.Rota.Empty() {
		out = append(out, rotaChoice{line.Rota, "", line.Name})
	}
	return out
}

// rotaDay is the instant whose local day names the owner: when the line is
// open at t, t; otherwise its next opening, past closed dates (a Friday
// evening call belongs to Monday's owner, a holiday's to the next working
// day's).
func rotaDay(line *config.Line, t time.Time) time.Time {
	c := t
	for range 60 {
		open := line.Hours.NextOpen(c, line.Timezone)
		if open.IsZero() {
			return t
		}
		if !line.ClosedOn(open) {
			return open
		}
		l := open.In(line.Timezone)
		c = time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, line.Timezone)
	}
	return t
}

// chooseOwner walks the rotas that apply until one names someone who is
// not away on the day; the zero pick when none does.
func (b *Bot) chooseOwner(ctx context.Context, tx *store.Tx, line *config.Line, category, kind string, at, now time.Time) (rotaPick, error) {
	rotas := b.rotasFor(line, category, kind)
	if len(rotas) == 0 {
		return rotaPick{}, nil
	}
	away, err := tx.AwayUntil(ctx, now)
	if err != nil {
		return rotaPick{}, err
	}
	day := rotaDay(line, at)
	isAway := func(u string) bool { until, ok := away[u]; return ok && until.After(day) }
	skipped := 0
	for _, r := range rotas {
		if len(r.rota.RoundRobin) > 0 {
			n, err := tx.TakeRotaTurn(ctx, line.Number, r.scope)
			if err != nil {
				return rotaPick{}, err
			}
			people := r.rota.RoundRobin
			for i := range people {
				u := people[(int(n%int64(len(people)))+i)%len(people)]
				if !isAway(u) {
					return rotaPick{Owner: u, Rota: r.name, Skipped: skipped, Day: day}, nil
				}
				skipped++
			}
			continue
		}
		u := r.rota.ByDay[day.In(line.Timezone).Weekday()]
		if u == "" {
			continue
		}
		if !isAway(u) {
			return rotaPick{Owner: u, Rota: r.name, Skipped: skipped, Day: day}, nil
		}
		skipped++
	}
	return rotaPick{Skipped: skipped, Day: day}, nil
}

// contactKind is the kind of the case's known caller, "" for others.
func contactKind(ctx context.Context, tx *store.Tx, c *store.Case) (string, error) {
	if c.ContactID == nil {
		return "", nil
	}
	ct, err := tx.ContactByID(ctx, *c.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return ct.Kind, err
}

// routedKind is contactKind where the line routes callers by kind, ""
// elsewhere (no need to read the contact).
func routedKind(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line) (string, error) {
	if len(line.ContactKinds) == 0 {
		return "", nil
	}
	return contactKind(ctx, tx, c)
}

// assignByRota assigns a new case to its owner of the day.
func (b *Bot) assignByRota(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, now time.Time) (rotaPick, error) {
	if c.Spam {
		return rotaPick{}, nil
	}
	kind, err := routedKind(ctx, tx, c, line)
	if err != nil {
		return rotaPick{}, err
	}
	pick, err := b.chooseOwner(ctx, tx, line, c.Category, kind, c.CreatedAt, now)
	if err != nil || pick.Owner == "" {
		return pick, err
	}
	c.State, c.Owner, c.AssignedBy, c.ClaimedAt = store.CaseClaimed, pick.Owner, "rota", &now
	return pick, nil
}

// rotaEntry is the timeline's note of a rota's choice.
func rotaEntry(caseID int64, p rotaPick) (Entry, bool) {
	e := Entry{CaseID: caseID, Kind: EntryReassign}
	switch {
	case p.Owner != "":
		e.Text = Text{Words("Assigned by rota to "), User(p.Owner), Words(" (owner of the day, " + p.Rota + ")")}
	case p.Skipped > 0:
		e.Text = Plain("Not assigned: everyone on the rota is away.")
	default:
		return Entry{}, false
	}
	if p.Owner != "" && p.Skipped > 0 {
		e.Text = append(e.Text, Wordsf("; skipped %d away", p.Skipped))
	}
	return e, true
}

// rotaOnCategory gives a case whose category was just set to that
// category's owner of the day, when nobody has taken it in hand: it is
// unowned, or the rota assigned it and nobody has contacted the caller.
// A person's claim or assignment is never overridden.
func (b *Bot) rotaOnCategory(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, now time.Time) error {
	if c.Spam || c.State == store.CaseClosed || c.FirstContactAt != nil || (c.Owner != "" && c.AssignedBy != "rota") {
		return nil
	}
	kind, err := routedKind(ctx, tx, c, line)
	if err != nil {
		return err
	}
	// Only a category's rota changes the owner: the line's own chose at
	// creation already, and so did the caller's kind's, which comes first.
	rotas := b.rotasFor(line, c.Category, kind)
	if len(rotas) == 0 || rotas[0].scope == "" || strings.HasPrefix(rotas[0].scope, "kind:") {
		return nil
	}
	pick, err := b.chooseOwner(ctx, tx, line, c.Category, kind, c.CreatedAt, now)
	if err != nil || pick.Owner == "" || pick.Owner == c.Owner {
		return err
	}
	from := c.Owner
	c.State, c.Owner, c.AssignedBy, c.ClaimedAt = store.CaseClaimed, pick.Owner, "rota", &now
	if err := tx.AddEvent(ctx, c.ID, now, "reassigned", "", map[string]any{
		"by": "rota", "from": from, "to": pick.Owner, "rota": pick.Rota,
	}); err != nil {
		return fmt.Errorf("bot: rota on category: %w", err)
	}
	e, _ := rotaEntry(c.ID, pick)
	return b.timeline(ctx, tx, e)
}
