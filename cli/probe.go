package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ringback/config"
)

// probeCmd asks the local server's /readyz or /healthz: the container
// image has no shell or curl, so compose's healthcheck runs this.
func (a *app) probeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "probe [/readyz|/healthz]",
		Short: "ask the running server on RINGBACK_ADDR whether it is ready (or alive); exit 0 if so",
		Long: `GETs the path (default /readyz) from the server listening on RINGBACK_ADDR
on this machine and exits 0 on 200, 1 otherwise: a container healthcheck
for images without a shell.`,
		Example: `  ringback probe            # ready: the store answers and is migrated
  ringback probe /healthz   # alive`,
		Args: usageArgs(func(_ *cobra.Command, args []string) error {
			if len(args) > 1 || (len(args) == 1 && args[0] != "/readyz" && args[0] != "/healthz") {
				return fmt.Errorf("want /readyz or /healthz, got %q", strings.Join(args, " "))
			}
			return nil
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/readyz"
			if len(args) == 1 {
				path = args[0]
			}
			return a.probe(cmd.Context(), path)
		},
	}
}

func (a *app) probe(ctx context.Context, path string) error {
	host, port, err := net.SplitHostPort(config.EnvFrom(a.getenv).Addr)
	if err != nil {
		return fmt.Errorf("cli: RINGBACK_ADDR: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := "http://" + net.JoinHostPort(host, port) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("cli: probe: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("cli: %s: %s %s", u, res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprint(a.stdout, string(body))
	return nil
}
