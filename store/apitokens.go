package store

import (
	"context"
	"fmt"
	"time"
)

// API token scopes: read:kpis reads the weekly figures only; read also
// reads cases, with callers' numbers masked; read:numbers sees them whole.
const (
	ScopeReadKPIs    = "read:kpis"
	ScopeRead        = "read"
	ScopeReadNumbers = "read:numbers"
)

// APIScopes are the scopes a token may have, narrowest first.
var APIScopes = []string{ScopeReadKPIs, ScopeRead, ScopeReadNumbers}

// APIToken is a bearer token of the read API, known only by its hash.
type APIToken struct {
	ID        int64      `db:"id"`
	Name      string     `db:"name"`
	Scope     string     `db:"scope"`
	Hash      string     `db:"token_hash"`
	CreatedAt time.Time  `db:"created_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

const apiTokenColumns = `id, name, scope, token_hash, created_at, revoked_at`

// CreateAPIToken records a new token; a name already taken is refused.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	inserted, err := s.insertID(ctx, &t.ID, `INSERT INTO api_tokens (name, scope, token_hash, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`, t.Name, t.Scope, t.Hash, t.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("store: create api token %q: %w", t.Name, err)
	}
	if !inserted {
		return fmt.Errorf("store: api token %q already exists", t.Name)
	}
	return nil
}

// ActiveAPIToken returns the unrevoked token with this hash.
func (s *Store) ActiveAPIToken(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	err := s.get(ctx, &t, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`, hash)
	return t, notFound(err, "store: api token")
}

// APITokens lists every token, revoked ones too, oldest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var ts []APIToken
	if err := s.selectAll(ctx, &ts, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY id`); err != nil {
		return nil, fmt.Errorf("store: api tokens: %w", err)
	}
	return ts, nil
}

// RevokeAPIToken revokes the named token; it is ErrNotFound when no
// unrevoked token has that name.
func (s *Store) RevokeAPIToken(ctx context.Context, name string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`, now.UTC(), name)
	if err != nil {
		return fmt.Errorf("store: revoke api token %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: revoke api token %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("store: api token %q: %w", name, ErrNotFound)
	}
	return nil
}
