package cli

import (
	"context"
	"strings"
	"testing"

	"ringback/handlers"
	"ringback/store/storetest"
)

// A token is printed once and only its hash is kept; the list shows names
// and scopes, never tokens; a revoked token no longer authenticates.
func TestTokensCreateListRevoke(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		code, out, errOut := runCLI(t, url, nil, "tokens", "create", "--name", "appfolio-sync", "--scope", "read")
		token := strings.TrimSpace(out)
		if code != 0 || !strings.HasPrefix(token, handlers.APITokenPrefix) || len(token) < 40 {
			t.Fatalf("tokens create: %d %q %s", code, out, errOut)
		}
		if code, _, errOut := runCLI(t, url, nil, "tokens", "create", "--name", "appfolio-sync"); code == 0 || !strings.Contains(errOut, "already exists") {
			t.Errorf("a second token of the same name: %d %s", code, errOut)
		}
		if code, _, errOut := runCLI(t, url, nil, "tokens", "create", "--name", "x", "--scope", "admin"); code == 0 || !strings.Contains(errOut, "read:kpis, read, read:numbers") {
			t.Errorf("an unknown scope: %d %s", code, errOut)
		}
		s := storetest.Open(t, url)
		ctx := context.Background()
		if got, err := s.ActiveAPIToken(ctx, handlers.HashAPIToken(token)); err != nil || got.Name != "appfolio-sync" || got.Scope != "read" || got.Hash == token {
			t.Fatalf("stored token %+v, %v", got, err)
		}
		code, out, _ = runCLI(t, url, nil, "tokens")
		if code != 0 || !strings.Contains(out, "appfolio-sync") || strings.Contains(out, token) {
			t.Errorf("tokens list:\n%s", out)
		}
		if code, out, errOut := runCLI(t, url, nil, "tokens", "revoke", "appfolio-sync"); code != 0 || !strings.Contains(out, "revoked") {
			t.Fatalf("tokens revoke: %d %s %s", code, out, errOut)
		}
		if _, err := s.ActiveAPIToken(ctx, handlers.HashAPIToken(token)); err == nil {
			t.Error("a revoked token is still active")
		}
		if code, _, _ := runCLI(t, url, nil, "tokens", "revoke", "appfolio-sync"); code == 0 {
			t.Error("revoking twice succeeded")
		}
	})
}
