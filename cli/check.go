package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ringback/config"
	"ringback/store"
)

// check validates the config file and the environment and prints every
// problem found; with DATABASE_URL set it also checks the database answers.
func (a *app) check(ctx context.Context) error {
	env := config.EnvFrom(a.getenv)
	var problems []string
	for _, p := range env.Problems() {
		problems = append(problems, p.String())
	}
	cfg, err := a.loadConfig(&env)
	var ps config.Problems
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			problems = append(problems, env.ConfigPath+": "+p.String())
		}
	case err != nil:
		problems = append(problems, err.Error())
	}
	if cfg != nil {
		for _, p := range cfg.WebhookSecretProblems(a.getenv) {
			problems = append(problems, env.ConfigPath+": "+p.String())
		}
	}
	if env.DatabaseURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := store.Open(cctx, env.DatabaseURL)
		if err != nil {
			problems = append(problems, "DATABASE_URL: "+err.Error())
		} else {
			cur, latest, err := s.SchemaVersion(cctx)
			switch {
			case err != nil:
				problems = append(problems, "DATABASE_URL: "+err.Error())
			case cur > latest:
				problems = append(problems, fmt.Sprintf("DATABASE_URL: schema version %d is newer than this binary (%d)", cur, latest))
			}
			s.Close()
		}
		cancel()
	}
	// Missing optional templates do not stop Ringback: each has a built-in
	// text. They are listed so an operator can write their own, with
	// phrase rules that name no category.
	var ws []config.Problem
	if cfg != nil {
		ws = cfg.Warnings()
	} else {
		ws = config.LoadWarnings(env.ConfigPath)
	}
	if len(ws) > 0 {
		fmt.Fprintf(a.stderr, "%d warning(s):\n", len(ws))
		for _, w := range ws {
			fmt.Fprintf(a.stderr, "  %s: %s\n", env.ConfigPath, w)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(a.stderr, "%d problem(s):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(a.stderr, "  %s\n", p)
		}
		return errReported
	}
	fmt.Fprintf(a.stdout, "%s: ok (%d lines, %d categories, %d templates)\n", env.ConfigPath, len(cfg.Lines), len(cfg.Categories), len(cfg.Templates))
	return nil
}
