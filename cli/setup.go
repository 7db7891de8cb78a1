package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"

	"ringback/config"
	"ringback/store"
)

// configured reads the environment and the config file it names, as the
// commands that need the business's settings do.
func (a *app) configured() (config.Env, *config.Config, error) {
	env := config.EnvFrom(a.getenv)
	cfg, err := a.loadConfig(&env)
	if err != nil {
		return env, nil, fmt.Errorf("cli: %w", err)
	}
	return env, cfg, nil
}

// openMigrated opens the database and brings its schema up to date; the
// caller closes it.
func openMigrated(ctx context.Context, env config.Env) (*store.Store, error) {
	s, err := store.Open(ctx, env.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// fileArg parses args (flags may stand after the file) and returns the one
// FILE that follows the words want, e.g. "contacts"; on anything else it
// prints the usage.
func fileArg(fs *flag.FlagSet, args []string, want ...string) (string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", errReported
	}
	if len(pos) != len(want)+1 || !slices.Equal(pos[:len(want)], want) {
		fs.Usage()
		return "", errReported
	}
	return pos[len(want)], nil
}
