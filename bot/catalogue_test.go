package bot_test

import (
	"context"
	"strings"
	"testing"

	"ringback/bot"
	"ringback/store/storetest"
)

// Every view reads the one catalogue: each KPI has a unique key and a
// value of its kind; the digest has a row for every KPI with a label, a
// headline for every headline KPI (even with no data) and /callbacks stats
// a line for every KPI with a name.
func TestKPICatalogueFeedsEveryView(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range bot.Catalogue {
		if k.Key == "" || keys[k.Key] {
			t.Errorf("KPI %+v: key empty or twice", k)
		}
		keys[k.Key] = true
		if k.Label == "" && k.Name == "" {
			t.Errorf("KPI %s is in no view", k.Key)
		}
	}

	d := bot.Digest{}
	rows := map[string]bool{}
	for _, r := range d.Rows() {
		rows[r.KPI] = true
	}
	for _, k := range bot.Catalogue {
		if k.Label == "" {
			continue
		}
		if !rows[k.Key] && !(rows[k.Key+"_median"] && rows[k.Key+"_p90"]) {
			t.Errorf("the digest has no row for %s", k.Key)
		}
	}
	var want []string
	for _, k := range bot.Catalogue {
		if k.Headline != "" {
			want = append(want, k.Headline)
		}
	}
	var got []string
	for _, h := range d.Headlines() {
		if h.Value == "" {
			t.Errorf("headline %s has no value", h.Label)
		}
		got = append(got, h.Label)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != 6 {
		t.Errorf("headlines %q, want %q", got, want)
	}

	s := storetest.New(t, "sqlite")
	b := bot.New(bot.Deps{Store: s, Config: kpiConfig(t), Clock: bot.NewManualClock(kpiAt(18, 10, 0)), Log: quiet})
	stats, err := b.StatsText(context.Background(), "last")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range bot.Catalogue {
		if k.Name != "" && !strings.Contains(stats.String(), "• "+k.Name+": ") {
			t.Errorf("/callbacks stats lacks %s:\n%s", k.Name, stats)
		}
	}
}
