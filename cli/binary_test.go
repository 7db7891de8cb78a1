package cli

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// ringbackBinary builds the ringback binary once, with deploy/build.sh as
// the Dockerfile does (static, version stamped through -ldflags), and
// returns its path.
var ringbackBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ringback-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ringback")
	cmd := exec.Command("sh", filepath.Join("..", "deploy", "build.sh"), bin)
	cmd.Env = append(os.Environ(), "VERSION=v9.9.9-test", "COMMIT=abc1234", "BUILD_TIME=2026-12-01T00:00:00Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func buildRingback(t *testing.T) string {
	t.Helper()
	bin, err := ringbackBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// runBinary runs the built binary in a fresh folder with only PATH and
// HOME set, and returns its exit code and output.
func runBinary(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// Every command's --help succeeds from a folder with no repository around
// it, with usage and (for Ringback's own commands) examples; --version
// prints what -ldflags stamped; completion scripts generate.
func TestBinaryHelpVersionCompletion(t *testing.T) {
	bin := buildRingback(t)

	code, out, errOut := runBinary(t, bin, nil, "--version")
	if want := "ringback v9.9.9-test (commit abc1234, built 2026-12-01T00:00:00Z, go"; code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("--version: exit %d, %q (stderr %q); want 0, %q…", code, out, errOut, want)
	}

	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(testApp(func(string) string { return "" }, nil).rootCmd(), nil)
	if len(paths) < 12 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"ringback"}, path...), " ")
		code, out, errOut := runBinary(t, bin, nil, append(path, "--help")...)
		if code != 0 || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("%s --help: exit %d, stderr %q, stdout:\n%s", name, code, errOut, out)
			continue
		}
		generated := len(path) > 0 && (path[0] == "completion" || path[0] == "help")
		if !generated && !regexp.MustCompile(`Examples:\n  .*ringback`).MatchString(out) {
			t.Errorf("%s --help has no examples:\n%s", name, out)
		}
	}
	if code, _, errOut := runBinary(t, bin, nil, "help"); code != 0 || errOut != "" {
		t.Errorf("ringback help: exit %d, %s", code, errOut)
	}

	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := runBinary(t, bin, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, "ringback") {
			t.Errorf("completion %s: exit %d, stderr %q", shell, code, errOut)
		}
	}
	// Completion knows the commands and their flags.
	code, out, _ = runBinary(t, bin, nil, "__complete", "import", "calls", "--dr")
	if code != 0 || !strings.Contains(out, "--dry-run") {
		t.Errorf("completing import calls --dr: exit %d:\n%s", code, out)
	}
}

// Wrong command lines exit 2 with a pointer to --help; failures exit 1;
// neither shows Ringback's internal package prefixes.
func TestBinaryExitCodesAndMessages(t *testing.T) {
	bin := buildRingback(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"imprt"}, ExitUsage, "ringback: unknown command \"imprt\"; did you mean import?\nRun 'ringback --help' for usage.\n"},
		{[]string{"digest", "--bogus"}, ExitUsage, "ringback digest: unknown flag: --bogus\n"},
		{[]string{"import", "calls"}, ExitUsage, "ringback import calls: want one FILE.csv, got 0 arguments\n"},
		{[]string{"import", "calls", "nope.csv"}, ExitFailure, "ringback import calls: read calls: open nope.csv: no such file or directory\n"},
		{[]string{"export", "events", "--from", "2026-11-01"}, ExitUsage, `ringback export events: required flag(s) "to" not set`},
	} {
		code, _, errOut := runBinary(t, bin, []string{"RINGBACK_CONFIG=" + mustAbs(t, filepath.Join("..", "testdata", "ringback.yaml"))}, tc.args...)
		if code != tc.code || !strings.HasPrefix(errOut, tc.want) || strings.Contains(errOut, "cli: ") {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q…", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// The built binary's demo runs from an empty folder on its built-in
// example config, on the address RINGBACK_ADDR gives.
func TestBinaryDemoFromAnyFolder(t *testing.T) {
	bin := buildRingback(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "TMPDIR=" + t.TempDir(), "RINGBACK_ADDR=127.0.0.1:0"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url := regexp.MustCompile(`^Ringback demo: open (http://127\.0\.0\.1:\d+)/\n$`).FindStringSubmatch(line)
	if err != nil || url == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("demo printed %q (%v); log:\n%s", line, err, errOut.String())
	}
	if strings.HasSuffix(url[1], ":8080") {
		t.Errorf("demo ignored RINGBACK_ADDR: %s", url[1])
	}
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		res, err := http.Get(url[1] + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, res.Status)
		}
	}
	if !strings.Contains(errOut.String(), "ringback.example.yaml (built in)") {
		t.Errorf("demo log does not name the built-in example:\n%s", errOut.String())
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("demo stopped with %v; log:\n%s", err, errOut.String())
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Errors read as messages: no package prefixes, a list of problems as an
// indented list.
func TestMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("cli: store: open: dial tcp: refused"), "open: dial tcp: refused"},
		{errors.New("slack: auth.test: invalid_auth"), "slack: auth.test: invalid_auth"},
		{errors.New("config: a: b is wrong\nconfig: c: d is wrong"), "2 problems:\n  a: b is wrong\n  c: d is wrong"},
		{errors.New("cli: --line \"store\" is no configured line"), "--line \"store\" is no configured line"},
	} {
		if got := message(tc.err); got != tc.want {
			t.Errorf("message(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
