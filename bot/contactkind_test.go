package bot_test

import (
	"context"
	"strings"
	"testing"

	"ringback/config"
	"ringback/store"
)

// A known caller's kind chooses the text-back, the card's channel and the
// rota where the line routes it; other callers keep the line's.
func TestContactKindRoutesTheCase(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		line, _ := f.bot.Config().LineByName("Lettings")
		line.ContactKinds = map[string]config.KindRoute{"vendor": {
			TextBack: config.TextBack{InHours: "textback_night"}, Channel: "C0VENDORS", DiscordChannel: "1100000000000000007",
			Rota: config.Rota{RoundRobin: []string{bob.ID}},
		}}
		line.Rota.RoundRobin = []string{alice.ID}
		if _, _, err := f.store.UpsertContact(ctx, store.Contact{Name: "Acme Plumbing", Kind: "vendor"}, []string{"+447700900101"}, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		vendor := f.missed(t, "CA1", "+447700900101")
		other := f.missed(t, "CA2", "+447700900102")
		for _, c := range []struct {
			c                    store.Case
			owner, channel, text string
		}{
			{vendor, bob.ID, "C0VENDORS", "We're closed right now"},
			{other, alice.ID, "C0LETTINGS", "Sorry we missed your call"},
		} {
			card, err := f.bot.Card(ctx, c.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := f.store.MessagesForCase(ctx, c.c.ID)
			if err != nil || len(ms) != 1 {
				t.Fatalf("messages = %v, %v", ms, err)
			}
			if c.c.Owner != c.owner || card.Channel != c.channel || !strings.Contains(ms[0].Body, c.text) {
				t.Errorf("case %d: owner %s, channel %s, text %q; want %s, %s, %q", c.c.ID, c.c.Owner, card.Channel, ms[0].Body, c.owner, c.channel, c.text)
			}
		}
		if card, _ := f.bot.Card(ctx, vendor.ID); card.DiscordChannel != "1100000000000000007" {
			t.Errorf("vendor's Discord channel = %q", card.DiscordChannel)
		}
	})
}
