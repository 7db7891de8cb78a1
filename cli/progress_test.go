package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"
)

// bigCallLog writes a RingCentral-shaped export of n rows: every fifth
// call missed, every tenth made by staff.
func bigCallLog(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Type,Direction,From,To,Date,Time,Action,Action Result,Duration")
	for i := range n {
		dir, result := "Incoming", "Accepted"
		switch {
		case i%10 == 9:
			dir = "Outgoing"
		case i%5 == 0:
			result = "Missed"
		}
		day := 1 + i/20000 // 10 days of November 2026
		fmt.Fprintf(w, "Voice,%s,07700 9%05d,(01632) 960001,Mon 11/%d/2026,%d:%02d AM,Phone Call,%s,0:01:%02d\n",
			dir, i%100000, day, 1+i%11, i%60, result, i%60)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// On a terminal, importing 200,000 rows shows a bar with the count, the
// rate and the time left; in a pipe or a file it shows none.
func TestImportCallsProgressOnATerminal(t *testing.T) {
	path := bigCallLog(t, 200_000)
	url := "sqlite:" + filepath.Join(t.TempDir(), "rb.db")
	getenv := func(k string) string {
		switch k {
		case "DATABASE_URL":
			return url
		case "RINGBACK_CONFIG":
			return filepath.Join("..", "testdata", "ringback.yaml")
		}
		return ""
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var screen bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(&screen, ptmx) }) // ends when the tty closes
	var out syncBuffer
	code := Run([]string{"import", "calls", "--dry-run", path}, getenv, &out, tty)
	tty.Close()
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), screen.String())
	}
	if want := "would import 180,000 calls (40,000 missed"; !strings.Contains(out.String(), want) {
		t.Errorf("summary:\n%s\nwant %q", out.String(), want)
	}
	s := screen.String()
	for _, re := range []string{
		`reading +\d+% \|`,                   // the bar
		`\(\d+/200000, \d+ rows/s\)`,         // count and rate
		`\[\d+m?s?:\d+m?s?\]`,                // elapsed:left
		`reading +100% \|.*\(200000/200000,`, // and its end
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("the terminal shows no %s:\n%q", re, lastBytes(s, 600))
		}
	}

	var errOut syncBuffer
	if code := Run([]string{"import", "calls", "--dry-run", path}, getenv, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "rows/s") {
		t.Errorf("not a terminal: exit %d, stderr %q", code, lastBytes(errOut.String(), 300))
	}
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
