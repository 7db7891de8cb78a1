package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Template is one version of an SMS text. Only approved versions are sent.
type Template struct {
	ID         int64      `db:"id"`
	Key        string     `db:"key"`
	Version    int        `db:"version"`
	Text       string     `db:"text"`
	Categories string     `db:"categories"` // comma-separated; "" = any
	CreatedBy  string     `db:"created_by"`
	ApprovedBy string     `db:"approved_by"`
	ApprovedAt *time.Time `db:"approved_at"`
	CreatedAt  time.Time  `db:"created_at"`
}

// Approved reports whether a manager (or the config file) approved it.
func (t Template) Approved() bool { return t.ApprovedAt != nil }

// Allows reports whether the template fits a case of category.
func (t Template) Allows(category string) bool {
	if t.Categories == "" {
		return true
	}
	for _, c := range strings.Split(t.Categories, ",") {
		if c == category {
			return true
		}
	}
	return false
}

const templateColumns = `id, key, version, text, categories, created_by, approved_by, approved_at, created_at`

// ConfigApprover approves the templates written in ringback.yaml: whoever
// may edit that file may approve texts.
const ConfigApprover = "ringback.yaml"

// SyncTemplate is SyncConfigTemplate for callers that need only whether the
// file's text was applied.
func (q queries) SyncTemplate(ctx context.Context, key, text string, categories []string, now time.Time) (changed bool, err error) {
	r, err := q.SyncConfigTemplate(ctx, key, text, categories, now)
	return r.Applied, err
}

// TemplateSync is what SyncConfigTemplate did with the file's text of a key.
type TemplateSync struct {
	// Applied: the file's text is now the latest approved version.
	Applied bool
	// Differs, when set, is the version in use, which the file's text
	// differs from and does not replace: managers edited the template in
	// chat, so the store is its source.
	Differs *Template
}

// EditedInChat reports whether anyone but the config file wrote a version
// of key: from then on the store, not ringback.yaml, is its source.
func (q queries) EditedInChat(ctx context.Context, key string) (bool, error) {
	var n int
	if err := q.get(ctx, &n, `SELECT COUNT(*) FROM templates WHERE key = ? AND created_by <> ?`, key, ConfigApprover); err != nil {
		return false, fmt.Errorf("store: template %s edited: %w", key, err)
	}
	return n > 0, nil
}

// TemplateDrift returns the version of key in use when the store is its
// source (EditedInChat) and the file's text or categories differ from it;
// ok is false when the file's text is the one in use or would be applied.
func (q queries) TemplateDrift(ctx context.Context, key, text string, categories []string) (t Template, ok bool, err error) {
	edited, err := q.EditedInChat(ctx, key)
	if err != nil || !edited {
		return Template{}, false, err
	}
	t, err = q.ApprovedTemplate(ctx, key)
	if isNotFound(err) {
		// Only unapproved edits: the file's last approved text (or none)
		// stays in use, and the proposal waits for a manager.
		t, err = q.LatestTemplate(ctx, key)
	}
	if err != nil {
		return Template{}, false, err
	}
	if t.Text == text && t.Categories == strings.Join(categories, ",") {
		return Template{}, false, nil
	}
	return t, true, nil
}

// SyncConfigTemplate makes the config file's text the latest approved
// version of key, adding a version only when the text or categories
// changed, while the file is the template's source. Once managers edited
// it in chat the store is: a differing file text is returned in Differs,
// for the operator to be told, and never applied.
func (q queries) SyncConfigTemplate(ctx context.Context, key, text string, categories []string, now time.Time) (TemplateSync, error) {
	cats := strings.Join(categories, ",")
	if t, differs, err := q.TemplateDrift(ctx, key, text, categories); err != nil {
		return TemplateSync{}, err
	} else if differs {
		return TemplateSync{Differs: &t}, nil
	}
	if edited, err := q.EditedInChat(ctx, key); err != nil || edited {
		return TemplateSync{}, err // the store's version is the file's text
	}
	latest, err := q.LatestTemplate(ctx, key)
	switch {
	case err == nil && latest.Text == text && latest.Categories == cats && latest.Approved():
		return TemplateSync{}, nil
	case err != nil && !isNotFound(err):
		return TemplateSync{}, err
	}
	_, err = q.exec(ctx, `INSERT INTO templates (key, version, text, categories, created_by, approved_by, approved_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, key, latest.Version+1, text, cats, ConfigApprover, ConfigApprover, now.UTC(), now.UTC())
	q.templatesWritten()
	if err != nil {
		return TemplateSync{}, fmt.Errorf("store: sync template %s: %w", key, err)
	}
	return TemplateSync{Applied: true}, nil
}

// ProposeTemplate adds an unapproved version of key.
func (q queries) ProposeTemplate(ctx context.Context, key, text string, categories []string, by string, now time.Time) (Template, error) {
	latest, err := q.LatestTemplate(ctx, key)
	if err != nil && !isNotFound(err) {
		return Template{}, err
	}
	var t Template
	err = q.get(ctx, &t, `INSERT INTO templates (key, version, text, categories, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+templateColumns,
		key, latest.Version+1, text, strings.Join(categories, ","), by, now.UTC())
	if err != nil {
		return Template{}, fmt.Errorf("store: propose template %s: %w", key, err)
	}
	return t, nil
}

// ApproveTemplate approves version of key.
func (q queries) ApproveTemplate(ctx context.Context, key string, version int, by string, now time.Time) error {
	res, err := q.exec(ctx, `UPDATE templates SET approved_by = ?, approved_at = ? WHERE key = ? AND version = ? AND approved_at IS NULL`,
		by, now.UTC(), key, version)
	q.templatesWritten()
	if err != nil {
		return fmt.Errorf("store: approve template %s v%d: %w", key, version, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: approve template %s v%d: %w", key, version, ErrNotFound)
	}
	return nil
}

// LatestTemplate returns the newest version of key, approved or not.
func (q queries) LatestTemplate(ctx context.Context, key string) (Template, error) {
	var t Template
	err := q.get(ctx, &t, `SELECT `+templateColumns+` FROM templates WHERE key = ? ORDER BY version DESC LIMIT 1`, key)
	return t, notFound(err, "store: template %s", key)
}

// ApprovedTemplate returns the newest approved version of key.
func (q queries) ApprovedTemplate(ctx context.Context, key string) (Template, error) {
	var t Template
	err := q.get(ctx, &t, `SELECT `+templateColumns+` FROM templates WHERE key = ? AND approved_at IS NOT NULL
		ORDER BY version DESC LIMIT 1`, key)
	return t, notFound(err, "store: approved template %s", key)
}

// ApprovedTemplates returns the newest approved version of every key, by key.
func (q queries) ApprovedTemplates(ctx context.Context) ([]Template, error) {
	var ts []Template
	err := q.selectAll(ctx, &ts, `SELECT `+templateColumns+` FROM templates t
		WHERE approved_at IS NOT NULL AND version = (
			SELECT MAX(version) FROM templates u WHERE u.key = t.key AND u.approved_at IS NOT NULL)
		ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("store: approved templates: %w", err)
	}
	return ts, nil
}

// PendingTemplates lists versions waiting for approval.
func (q queries) PendingTemplates(ctx context.Context) ([]Template, error) {
	var ts []Template
	err := q.selectAll(ctx, &ts, `SELECT `+templateColumns+` FROM templates WHERE approved_at IS NULL ORDER BY key, version`)
	if err != nil {
		return nil, fmt.Errorf("store: pending templates: %w", err)
	}
	return ts, nil
}

// approvedGeneration counts the approved template versions. Versions are
// only ever added and approved, never unapproved nor deleted, so the count
// grows with every change to what may be sent: it is the cache's version,
// which every replica can check. A write that takes an approval back must
// bump it some other way.
const approvedGeneration = `SELECT COUNT(*) FROM templates WHERE approved_at IS NOT NULL`

// templateCache holds the newest approved version of every key as of one
// generation. A template edited or approved from Slack on any replica
// changes the generation, and the next reader that sees the new one reloads.
type templateCache struct {
	mu         sync.Mutex
	generation int64
	byKey      map[string]Template // nil: nothing cached
}

func (c *templateCache) lookup(generation int64, key string) (t Template, found, valid bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil || c.generation != generation {
		return Template{}, false, false
	}
	t, found = c.byKey[key]
	return t, found, true
}

func (c *templateCache) fill(generation int64, ts []Template) {
	byKey := make(map[string]Template, len(ts))
	for _, t := range ts {
		byKey[t.Key] = t
	}
	c.mu.Lock()
	c.generation, c.byKey = generation, byKey
	c.mu.Unlock()
}

func (c *templateCache) drop() {
	c.mu.Lock()
	c.byKey = nil
	c.mu.Unlock()
}

// templatesWritten drops the cache: this replica sees its own edits at
// once, and a transaction that wrote templates never fills the cache with
// what it may yet roll back.
func (q queries) templatesWritten() {
	q.s.templates.drop()
	if q.tx != nil {
		q.tx.wroteTemplates = true
	}
}

// ApprovedTemplateAt is ApprovedTemplate served from the cache while the
// approved templates are at generation (from CallerFacts); otherwise it
// reloads every approved template in one statement.
func (q queries) ApprovedTemplateAt(ctx context.Context, key string, generation int64) (Template, error) {
	if t, found, valid := q.s.templates.lookup(generation, key); valid {
		if !found {
			return Template{}, fmt.Errorf("store: approved template %s: %w", key, ErrNotFound)
		}
		return t, nil
	}
	var rows []struct {
		Template
		Generation int64 `db:"generation"`
	}
	err := q.selectAll(ctx, &rows, `SELECT `+templateColumns+`, (`+approvedGeneration+`) AS generation FROM templates t
		WHERE approved_at IS NOT NULL AND version = (
			SELECT MAX(version) FROM templates u WHERE u.key = t.key AND u.approved_at IS NOT NULL)`)
	if err != nil {
		return Template{}, fmt.Errorf("store: approved templates: %w", err)
	}
	ts := make([]Template, len(rows))
	var found *Template
	for i, r := range rows {
		ts[i] = r.Template
		if r.Key == key {
			found = &ts[i]
		}
	}
	if q.tx == nil || !q.tx.wroteTemplates {
		gen := int64(0) // no approved template at all
		if len(rows) > 0 {
			gen = rows[0].Generation
		}
		q.s.templates.fill(gen, ts)
	}
	if found == nil {
		return Template{}, fmt.Errorf("store: approved template %s: %w", key, ErrNotFound)
	}
	return *found, nil
}
