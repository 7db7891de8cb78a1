package cli

import (
	"context"
	"fmt"

	"ringback/config"
)

func (a *app) migrate(ctx context.Context) error {
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	cur, _, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s schema at version %d\n", s.Dialect(), cur)
	return nil
}
