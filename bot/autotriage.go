package bot

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"ringback/bot/autotriage"
	"ringback/bot/chat"
	"ringback/config"
	"ringback/store"
)

// newTriager compiles the business's auto-triage rules for its categories.
func newTriager(cfg *config.Config) *autotriage.Matcher {
	if cfg == nil {
		return nil
	}
	cats := make([]autotriage.Category, len(cfg.Categories))
	phrases := map[string][]string{}
	for i, c := range cfg.Categories {
		cats[i] = autotriage.Category{Key: c.Key, Label: c.Label, Urgent: c.Urgent}
		phrases[c.Key] = cfg.AutoTriage.PhrasesFor(c.Key)
	}
	return autotriage.New(cats, autotriage.Rules{Builtin: !cfg.AutoTriage.NoBuiltin, Phrases: phrases, Ignore: cfg.AutoTriage.Ignore})
}

// autoTriage triages a case from what the caller said (source names where,
// for the timeline: "a text", "voicemail"). An urgent phrase takes the
// urgent path at once, as the urgent digit does: the urgent category,
// the page, the safety text (keyed by key). Any other phrase sets the
// category only while the case has none: it never overrides the caller's
// digit or staff. It reports what it did ("urgent", "triaged" or "") and
// leaves saving c to the caller.
func (b *Bot) autoTriage(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, text, source, key string) (string, error) {
	if line == nil || c.Spam || c.State == store.CaseClosed {
		return "", nil
	}
	m, ok := b.triager.Match(text)
	if !ok {
		return "", nil
	}
	cat, ok := b.cfg.Category(m.Category)
	if !ok || (m.Urgent && c.Urgent) || (!m.Urgent && c.Category != "") {
		return "", nil
	}
	now := b.clock.Now()
	e := Entry{Text: Text{Words("Auto-triaged " + cat.Label + ": '"), Said(m.Phrase), Words("' in " + source)}}
	if m.Urgent {
		e.Text, e.Mention = append(Text{Words("URGENT: ")}, e.Text...), "channel"
	}
	data := map[string]any{"phrase": m.Phrase, "source": source}
	if err := b.setCategory(ctx, tx, c, line, cat, now, "auto", data, e); err != nil {
		return "", err
	}
	if !m.Urgent {
		return "triaged", nil
	}
	if !c.Withheld() {
		if err := b.autoReply(ctx, tx, *c, true, c.CallerNumber, line, "safety", b.cfg.SafetyTemplate(cat.Key), "safety:"+key); err != nil {
			return "", err
		}
	}
	return "urgent", nil
}

// autoTriageCall triages a missed call's case from its voicemail transcript
// and saves the case when that changed it.
func (b *Bot) autoTriageCall(ctx context.Context, tx *store.Tx, c *store.Case, call store.Call) error {
	if call.Transcript == "" {
		return nil
	}
	line, _ := b.line(c.LineNumber)
	did, err := b.autoTriage(ctx, tx, c, line, call.Transcript, "voicemail", "voicemail:"+call.SID)
	if err != nil || did == "" {
		return err
	}
	c.UpdatedAt = b.clock.Now()
	return tx.UpdateCase(ctx, *c)
}

// setCategory gives the case a category (by "caller", "auto" or a staff
// user id); an urgent one marks it urgent and pages at once. Its due time
// becomes the category's promise. The event and the timeline entry e say
// who chose it and why.
func (b *Bot) setCategory(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, cat *config.Category, now time.Time, by string, data map[string]any, e Entry) error {
	wasUrgent := c.Urgent
	c.Category = cat.Key
	if c.CategorizedAt == nil {
		c.CategorizedAt = &now
	}
	if cat.Urgent && !wasUrgent {
		c.Urgent = true
		if err := b.pageUrgent(ctx, tx, *c, line); err != nil {
			return err
		}
	}
	if err := b.retime(ctx, tx, c); err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["category"], data["urgent"], data["by"] = cat.Key, cat.Urgent, by
	if err := tx.AddEvent(ctx, c.ID, now, "triaged", "", data); err != nil {
		return err
	}
	e.CaseID, e.Kind = c.ID, EntryTriaged
	if err := b.timeline(ctx, tx, e); err != nil {
		return err
	}
	return b.rotaOnCategory(ctx, tx, c, line, now)
}

// CategoryCommand is `/callbacks category CASE NAME`: staff set or correct
// a case's category (by key or label); see SetCategory.
func (b *Bot) CategoryCommand(ctx context.Context, a Actor, args string) (Text, error) {
	if err := b.mayWork(a); err != nil {
		return nil, err
	}
	ref, name, _ := strings.Cut(strings.TrimSpace(args), " ")
	id, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64)
	name = strings.TrimSpace(name)
	if err != nil || name == "" {
		return usage("category CASE NAME"), nil
	}
	cat, ok := b.cfg.CategoryByName(name)
	if !ok {
		keys := make([]string, len(b.cfg.Categories))
		for i, c := range b.cfg.Categories {
			keys[i] = c.Key
		}
		return nil, refuse("No category %q (categories: %s).", name, strings.Join(keys, ", "))
	}
	if _, err := b.SetCategory(ctx, id, a, cat.Key); err != nil {
		return nil, err
	}
	return Plainf("Case %s is now %s.", caseRef(id), cat.Label), nil
}

// SetCategory is staff choosing a case's category (the card's select, the
// command): staff of the case's line only. It overrides auto-triage and
// the caller's digit; a non-urgent category takes back an urgency they
// gave, an urgent one pages. The timeline says who chose what, and the
// case is re-timed on the category's promise.
func (b *Bot) SetCategory(ctx context.Context, id int64, a Actor, key string) (store.Case, error) {
	cat, ok := b.cfg.Category(key)
	if !ok {
		return store.Case{}, refuse("No category %q.", key)
	}
	return b.actAs(ctx, id, a, ActionCategory, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if c.State == store.CaseClosed {
			return nil, refuse("Case %s is closed.", caseRef(c.ID))
		}
		if c.Category == cat.Key && c.Urgent == cat.Urgent {
			return nil, refuse("Case %s is %s already.", caseRef(c.ID), cat.Label)
		}
		line, ok := b.line(c.LineNumber)
		if !ok {
			return nil, refuse("Case %s is on no configured line.", caseRef(c.ID))
		}
		was := "none"
		if prev, ok := b.cfg.Category(c.Category); ok {
			was = prev.Label
		}
		if !cat.Urgent {
			c.Urgent = false
		}
		e := Entry{Actor: a.ID, ActorName: a.Name, Text: Plainf("set the category to %s (was %s)", cat.Label, was)}
		if cat.Urgent {
			e.Mention = "channel"
		}
		// setCategory writes the event and the entry: act gets none.
		return nil, b.setCategory(ctx, tx, c, line, cat, now, a.ID, nil, e)
	})
}

// autoTriaged says why auto-triage chose the case's category, when the
// latest triage of the case (its event's data, "" when none) was its own;
// nil otherwise.
func autoTriaged(c store.Case, triaged string) *chat.AutoTriage {
	if c.Category == "" || triaged == "" {
		return nil
	}
	var d struct{ By, Phrase, Source, Category string }
	if json.Unmarshal([]byte(triaged), &d) != nil || d.By != "auto" || d.Category != c.Category {
		return nil
	}
	return &chat.AutoTriage{Phrase: d.Phrase, Source: d.Source}
}
