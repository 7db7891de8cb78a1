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

	"github.com/spf13/cobra"

	"ringback/config"
	"ringback/handlers"
	"ringback/store"
)

// tokensCmd manages the read API's bearer tokens.
func (a *app) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "list, create and revoke read-API tokens (/api/v1)",
		Long: `Lists the read API's bearer tokens by name and scope. The tokens
themselves are not kept: 'tokens create' prints a new one once.`,
		Example: `  ringback tokens
  ringback tokens create --name appfolio-sync --scope read
  ringback tokens revoke appfolio-sync`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.tokensList(cmd.Context()) },
	}
	var name, scope string
	create := &cobra.Command{
		Use:   "create --name NAME [--scope read]",
		Short: "make a token and print it once (the store keeps its SHA-256 only)",
		Long: `Makes a read-API token and prints it once on stdout. Scopes: read:kpis
(KPIs only), read (cases with callers' numbers masked, and KPIs),
read:numbers (numbers whole).`,
		Example: `  ringback tokens create --name reporting --scope read:kpis`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.tokensCreate(cmd.Context(), name, scope) },
	}
	create.Flags().StringVar(&name, "name", "", "what the token is for (unique), e.g. appfolio-sync")
	create.Flags().StringVar(&scope, "scope", store.ScopeRead, "read:kpis, read (numbers masked) or read:numbers")
	cmd.AddCommand(create, &cobra.Command{
		Use:     "revoke NAME...",
		Short:   "revoke tokens by name: requests with them are refused at once",
		Example: `  ringback tokens revoke appfolio-sync`,
		RunE:    func(cmd *cobra.Command, args []string) error { return a.tokensRevoke(cmd.Context(), args) },
	})
	return cmd
}

// tokensCreate makes a read-API bearer token and prints it once: the store
// keeps only its hash.
func (a *app) tokensCreate(ctx context.Context, name, scope string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return usageError{errors.New("--name is required")}
	}
	if !slices.Contains(store.APIScopes, scope) {
		return usageError{fmt.Errorf("--scope %q is not one of %s", scope, strings.Join(store.APIScopes, ", "))}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("random token: %w", err)
	}
	token := handlers.APITokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	t := store.APIToken{Name: name, Scope: scope, Hash: handlers.HashAPIToken(token), CreatedAt: time.Now()}
	if err := s.CreateAPIToken(ctx, &t); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "token %q (scope %s) created; it is shown once, store it now:\n", t.Name, t.Scope)
	fmt.Fprintln(a.stdout, token)
	return nil
}

// tokensList lists tokens by name and scope; the tokens themselves are not kept.
func (a *app) tokensList(ctx context.Context) error {
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
		return usageError{errors.New("name the token(s) to revoke: ringback tokens revoke NAME")}
	}
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, name := range args {
		if err := s.RevokeAPIToken(ctx, name, time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no active token named %q", name)
			}
			return err
		}
		fmt.Fprintf(a.stdout, "revoked %q\n", name)
	}
	return nil
}
