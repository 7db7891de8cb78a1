package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ringback/store"
)

// eventsHeader is the audit trail export's first row.
var eventsHeader = []string{"event_id", "case", "at", "kind", "actor", "line", "caller", "data"}

// exportEventsCmd writes the audit trail as CSV, one row per event,
// streamed from the database.
func (a *app) exportEventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events --from DATE --to DATE [--out FILE]",
		Short: "write the audit trail as CSV",
		Long: "Writes the audit trail (every event of every case, with the case's line and\ncaller) as CSV, one row per event:\n\n  " +
			strings.Join(eventsHeader, ","),
		Example: `  ringback export events --from 2026-11-01 --to 2026-11-08 > events.csv
  ringback export events --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --out november.csv`,
		Args: noArgs,
	}
	var o exportOptions
	fs := cmd.Flags()
	fs.StringVar(&o.from, "from", "", "first day (YYYY-MM-DD, business timezone) or instant (RFC3339) to export")
	fs.StringVar(&o.to, "to", "", "day or instant to stop before: --to is exclusive")
	fs.StringVar(&o.out, "out", "", "write the CSV to FILE instead of standard output")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.exportEvents(cmd.Context(), o) }
	return cmd
}

type exportOptions struct {
	from, to, out string
}

func (a *app) exportEvents(ctx context.Context, o exportOptions) error {
	env, cfg, err := a.configured()
	if err != nil {
		return err
	}
	from, err := parseDay("--from", o.from, cfg.Business.Timezone)
	if err != nil {
		return err
	}
	to, err := parseDay("--to", o.to, cfg.Business.Timezone)
	if err != nil {
		return err
	}
	if !to.After(from) {
		return fmt.Errorf("cli: --to %s is not after --from %s (--to is exclusive)", o.to, o.from)
	}

	s, err := store.Open(ctx, env.DatabaseURL)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	defer s.Close()
	if cur, _, err := s.SchemaVersion(ctx); err != nil {
		return fmt.Errorf("cli: %w", err)
	} else if cur == 0 {
		return errors.New("cli: the database holds no Ringback tables yet: run ringback migrate (or serve) first")
	}

	if o.out == "" {
		n, err := writeEvents(ctx, s, a.stdout, from, to)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "exported %s\n", plural(n, "event", "events"))
		return nil
	}
	// Write beside the target and rename, so a failed export never leaves a
	// truncated file where a good one is expected.
	f, err := os.CreateTemp(filepath.Dir(o.out), "."+filepath.Base(o.out)+".*")
	if err != nil {
		return fmt.Errorf("cli: export: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	n, err := writeEvents(ctx, s, f, from, to)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cli: export: %w", cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), o.out); err != nil {
		return fmt.Errorf("cli: export: %w", err)
	}
	fmt.Fprintf(a.stdout, "exported %s to %s\n", plural(n, "event", "events"), o.out)
	return nil
}

// writeEvents streams the events of [from, to) to w as CSV.
func writeEvents(ctx context.Context, s *store.Store, w io.Writer, from, to time.Time) (int, error) {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(eventsHeader); err != nil {
		return 0, fmt.Errorf("cli: export: %w", err)
	}
	n := 0
	err := s.EachEvent(ctx, from, to, func(e store.EventRow) error {
		n++
		return cw.Write([]string{
			strconv.FormatInt(e.ID, 10),
			"#" + strconv.FormatInt(e.CaseID, 10),
			e.At.UTC().Format(time.RFC3339),
			e.Kind,
			e.Actor,
			e.LineNumber,
			e.CallerNumber,
			e.Data,
		})
	})
	if err != nil {
		return n, fmt.Errorf("cli: export events: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("cli: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("cli: export: %w", err)
	}
	return n, nil
}

// parseDay reads a date (midnight in loc) or an RFC3339 instant.
func parseDay(flagName, v string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cli: %s %q: want a date (2026-11-01, in %s) or an RFC3339 time (2026-11-01T09:00:00Z)", flagName, v, loc)
}
