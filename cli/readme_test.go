package cli

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands are the command lines README.md tells an operator to type:
// the lines of its sh blocks and the backticked `ringback …` commands.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	inSh := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
		case strings.HasPrefix(line, "```"):
			inSh = false
		case inSh:
			cmds = append(cmds, line)
		default:
			for _, m := range regexp.MustCompile("`(ringback [^`]*)`").FindAllStringSubmatch(line, -1) {
				cmds = append(cmds, m[1])
			}
		}
	}
	return cmds
}

// envPrefix is leading VAR=value words.
var envPrefix = regexp.MustCompile(`^(?:[A-Z_][A-Z0-9_]*=(?:'[^']*'|"[^"]*"|\S*)\s+)+`)

// Every command README.md shows exists as written: each ringback command
// line parses (its words and flags; run with --help, so nothing happens),
// and each go command names packages and commands that are there.
func TestReadmeCommands(t *testing.T) {
	bin := buildRingback(t)
	seen := 0
	for _, raw := range readmeCommands(t) {
		line := strings.TrimSpace(raw)
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		line = envPrefix.ReplaceAllString(line, "")
		if i := strings.IndexAny(line, "|>"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		words := strings.Fields(line)
		if len(words) == 0 || strings.HasPrefix(words[0], "#") {
			continue
		}
		switch words[0] {
		case "ringback":
			args := cleanArgs(words[1:])
			code, _, errOut := runBinary(t, bin, nil, append(args, "--help")...)
			if code != 0 {
				t.Errorf("README's %q: `ringback %s --help` exits %d: %s", raw, strings.Join(args, " "), code, errOut)
			}
			// --help answers before cobra checks the arguments: check them too.
			root := testApp(func(string) string { return "" }, io.Discard).rootCmd()
			root.InitDefaultHelpCmd()
			root.InitDefaultCompletionCmd()
			root.InitDefaultVersionFlag()
			cmd, rest, err := root.Find(args)
			if err == nil {
				if err = cmd.ParseFlags(rest); err == nil {
					err = cmd.ValidateArgs(cmd.Flags().Args())
				}
			}
			if err != nil {
				t.Errorf("README's %q: %v", raw, err)
			}
			seen++
		case "go":
			for _, w := range words[1:] {
				if strings.HasPrefix(w, "./") && w != "./..." {
					dir := filepath.Join("..", strings.TrimSuffix(strings.TrimSuffix(w, "/..."), "/"))
					if _, err := os.Stat(dir); err != nil {
						t.Errorf("README's %q names %s, which is not there", raw, w)
					}
				}
			}
			seen++
		}
	}
	if seen < 15 {
		t.Errorf("only %d commands found in README.md's sh blocks and ringback commands", seen)
	}
}

// cleanArgs drops what stands for the reader's own values in README's
// commands: [optional] parts, alternatives and ellipses.
func cleanArgs(words []string) []string {
	var out []string
	depth := 0
	for _, w := range words {
		if strings.HasPrefix(w, "[") {
			depth++
		}
		if depth == 0 && w != "…" && w != "..." {
			out = append(out, strings.Trim(w, "`"))
		}
		if strings.HasSuffix(w, "]") || strings.HasSuffix(w, "…]") {
			depth = max(depth-1, 0)
		}
	}
	return out
}
