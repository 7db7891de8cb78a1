package cli

import (
	"context"
	"fmt"

	"ringback/config"
	"ringback/store"
)

func (a *app) migrate(ctx context.Context, args []string) error {
	fs := newFlags("migrate", a.stderr)
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	env := config.EnvFrom(a.getenv)
	s, err := store.Open(ctx, env.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	cur, _, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s schema at version %d\n", s.Dialect(), cur)
	return nil
}
