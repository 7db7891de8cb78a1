package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"ringback/config"
	"ringback/handlers"
	"ringback/store"
)

// tokensCreate makes a read-API bearer token and prints it once: the store
// keeps only its hash.
func (a *app) tokensCreate(ctx context.Context, args []string) error {
	fs := newFlags("tokens create", a.stderr)
	name := fs.String("name", "", "what the token is for (unique), e.g. appfolio-sync")
	scope := fs.String("scope", store.ScopeRead, "read:kpis, read (numbers masked) or read:numbers")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("cli: --name is required")
	}
	if !slices.Contains(store.APIScopes, *scope) {
		return fmt.Errorf("cli: --scope %q is not one of %s", *scope, strings.Join(store.APIScopes, ", "))
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("cli: random token: %w", err)
	}
	token := handlers.APITokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	t := store.APIToken{Name: strings.TrimSpace(*name), Scope: *scope, Hash: handlers.HashAPIToken(token), CreatedAt: time.Now()}
	if err := s.CreateAPIToken(ctx, &t); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "token %q (scope %s) created; it is shown once, store it now:\n", t.Name, t.Scope)
	fmt.Fprintln(a.stdout, token)
	return nil
}

// tokensList lists tokens by name and scope; the tokens themselves are not kept.
func (a *app) tokensList(ctx context.Context, args []string) error {
	if err := newFlags("tokens", a.stderr).Parse(args); err != nil {
		return errReported
	}
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	ts, err := s.APITokens(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSCOPE\tCREATED\tREVOKED")
	for _, t := range ts {
		revoked := "-"
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Name, t.Scope, t.CreatedAt.UTC().Format(time.DateTime), revoked)
	}
	return w.Flush()
}

// tokensRevoke revokes tokens by name; requests with them are refused at once.
func (a *app) tokensRevoke(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("cli: name the token(s) to revoke: ringback tokens revoke NAME")
	}
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, name := range args {
		if err := s.RevokeAPIToken(ctx, name, time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("cli: no active token named %q", name)
			}
			return err
		}
		fmt.Fprintf(a.stdout, "revoked %q\n", name)
	}
	return nil
}
