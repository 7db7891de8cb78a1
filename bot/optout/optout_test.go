package optout_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"ringback/bot/optout"
)

type labelled struct {
	want optout.Outcome
	kind string
	text string
	line int
}

func corpus(t *testing.T) []labelled {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("corpus line %d: want three tab-separated fields: %q", n, line)
		}
		out = append(out, labelled{want: optout.Outcome(parts[0]), kind: parts[1], text: parts[2], line: n})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The labelled corpus: no per-se word in a short reply is ever missed, no
// clear non-opt-out ever opts out; the rest is reported.
func TestCorpus(t *testing.T) {
	rows := corpus(t)
	if len(rows) < 150 {
		t.Fatalf("the corpus has %d phrases, want at least 150", len(rows))
	}
	outcomes := []optout.Outcome{optout.OptOut, optout.Ambiguous, optout.Not}
	got := map[optout.Outcome]map[optout.Outcome]int{} // want → got → n
	var report []string
	var perSeMisses, falseOptOuts []string
	for _, r := range rows {
		res := optout.Classify(r.text)
		if got[r.want] == nil {
			got[r.want] = map[optout.Outcome]int{}
		}
		got[r.want][res.Outcome]++
		if res.Outcome == r.want {
			continue
		}
		what := "miss"
		if res.Outcome == optout.OptOut {
			what = "false opt-out"
		}
		line := fmt.Sprintf("  %-13s line %3d %-9s want %-9s got %-9s %q (%q)", what, r.line, r.kind, r.want, res.Outcome, r.text, res.Phrase)
		report = append(report, line)
		if r.kind == "per_se" && res.Outcome != optout.OptOut {
			perSeMisses = append(perSeMisses, line)
		}
		if r.kind == "clear_not" && res.Outcome == optout.OptOut {
			falseOptOuts = append(falseOptOuts, line)
		}
	}
	sort.Strings(report)
	t.Logf("opt-out corpus: %d phrases", len(rows))
	for _, want := range outcomes {
		total, right := 0, got[want][want]
		for _, o := range outcomes {
			total += got[want][o]
		}
		t.Logf("  labelled %-9s %3d: %3d right, got opt_out %d, ambiguous %d, not %d", want, total, right, got[want][optout.OptOut], got[want][optout.Ambiguous], got[want][optout.Not])
	}
	falseOpt := got[optout.Ambiguous][optout.OptOut] + got[optout.Not][optout.OptOut]
	trueOpt := got[optout.OptOut][optout.OptOut]
	t.Logf("  opt_out precision %.3f, recall %.3f; false opt-outs %d; missed opt-outs %d (as ambiguous %d)",
		float64(trueOpt)/float64(max(1, trueOpt+falseOpt)), float64(trueOpt)/float64(max(1, len(rowsWanting(rows, optout.OptOut)))),
		falseOpt, len(rowsWanting(rows, optout.OptOut))-trueOpt, got[optout.OptOut][optout.Ambiguous])
	for _, l := range report {
		t.Log(l)
	}
	if len(perSeMisses) > 0 {
		t.Errorf("per-se words missed:\n%s", strings.Join(perSeMisses, "\n"))
	}
	if len(falseOptOuts) > 0 {
		t.Errorf("clear non-opt-outs opted out:\n%s", strings.Join(falseOptOuts, "\n"))
	}
}

func rowsWanting(rows []labelled, o optout.Outcome) []labelled {
	var out []labelled
	for _, r := range rows {
		if r.want == o {
			out = append(out, r)
		}
	}
	return out
}

// Normalize folds what phones and keyboards vary: curly apostrophes,
// full-width letters, accents, shorthand; sentences become clauses.
func TestNormalize(t *testing.T) {
	in := []string{"Don’t text me", "ＳＴＯＰ please", "No más mensajes", "Stop. I found a flat!!", "opt-out", ""}
	want := []string{"do not text me", "stop please", "no mas mensajes", "stop | i found a flat", "opt out", ""}
	var got []string
	for _, s := range in {
		got = append(got, optout.Normalize(s))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Normalize(%q)\n = %q\nwant %q", in, got, want)
	}
}

// Requests classify texts at once: the classifier keeps no shared state
// (go test -race fails on a shared Unicode transformer).
func TestClassifyIsSafeForConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := optout.Classify("ＤＯＮ’Ｔ text me más"); got.Outcome != optout.OptOut {
					t.Errorf("Classify = %+v, want an opt-out", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
