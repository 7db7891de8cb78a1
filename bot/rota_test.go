package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
)

// command runs /callbacks args as a and returns the reply's words.
func command(t *testing.T, f *fixture, a bot.Actor, args string) string {
	t.Helper()
	r, err := f.bot.Command(context.Background(), bot.Invoker{Actor: a, Platform: "slack"}, args)
	if err != nil {
		t.Fatal(err)
	}
	return r.Text.String()
}

// Someone who marked themselves away is skipped by the round-robin until
// they are back; the thread says whom the rota chose and that it skipped.
func TestRotaSkipsWhoIsAway(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		line, _ := f.bot.Config().LineByName("Lettings")
		line.Rota.RoundRobin = []string{alice.ID, bob.ID}
		// Monday 16 November 10:00: away until Wednesday 00:00.
		if got := command(t, f, alice, "away until wed"); !strings.Contains(got, "away until Wed 18 Nov 00:00") {
			t.Fatalf("away reply = %q", got)
		}
		a := f.missed(t, "CA1", "+447700900101")
		b := f.missed(t, "CA2", "+447700900102")
		if a.Owner != bob.ID || b.Owner != bob.ID {
			t.Fatalf("while Alice is away: %s, %s; want Bob twice", a.Owner, b.Owner)
		}
		if e, ok := entryWith(thread(t, f.store, a.ID), "Assigned by rota to"); !ok || !strings.Contains(e.Text.String(), "skipped 1 away") || !strings.Contains(e.Text.String(), "owner of the day, Lettings") {
			t.Fatalf("thread entry = %+v", e)
		}
		if got := command(t, f, alice, "back"); !strings.Contains(got, "Welcome back") {
			t.Fatalf("back reply = %q", got)
		}
		if c := f.missed(t, "CA3", "+447700900103"); c.Owner != alice.ID {
			t.Fatalf("after Alice is back: %s", c.Owner)
		}
		// Away ends by itself.
		command(t, f, bob, "away until tomorrow 09:00")
		f.clock.Set(time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC))
		if c := f.missed(t, "CA4", "+447700900104"); c.Owner != bob.ID {
			t.Fatalf("Bob's turn after his away ended: %s", c.Owner)
		}
	})
}

func TestAwayCommandRefusals(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for args, want := range map[string]string{
			"away":                  "Usage",
			"away until someday":    "is not a date",
			"away until 2026-11-01": "has passed",
			"away until 2031-01-01": "more than a year",
		} {
			if got := command(t, f, alice, args); !strings.Contains(got, want) {
				t.Errorf("%s: %q, want %q", args, got, want)
			}
		}
		if got := command(t, f, visitor, "away until fri"); strings.Contains(got, "away until") {
			t.Errorf("a visitor marked away: %q", got)
		}
		if got := command(t, f, alice, "back"); !strings.Contains(got, "not marked away") {
			t.Errorf("back without away: %q", got)
		}
	})
}

// The owner of the day of a case that comes in while the line is closed is
// the owner of the day it opens, past closed dates.
func TestRotaDayIsTheNextOpeningPastClosedDates(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		line, _ := f.bot.Config().LineByName("Lettings")
		hours, err := config.ParseHours(map[string]string{"mon-fri": "09:00-17:30"})
		if err != nil {
			t.Fatal(err)
		}
		line.Hours = hours
		line.ClosedDates = []string{"2026-11-23"} // Monday
		line.Rota.ByDay = map[time.Weekday]string{time.Monday: "U0MON", time.Tuesday: bob.ID, time.Friday: alice.ID}
		f.clock.Set(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)) // Friday, open
		if c := f.missed(t, "CA1", "+447700900101"); c.Owner != alice.ID {
			t.Fatalf("Friday 10:00: %q, want Friday's owner", c.Owner)
		}
		f.clock.Set(time.Date(2026, 11, 20, 18, 30, 0, 0, time.UTC)) // Friday, closed; Monday a holiday
		if c := f.missed(t, "CA2", "+447700900102"); c.Owner != bob.ID {
			t.Fatalf("Friday 18:30: %q, want Tuesday's owner", c.Owner)
		}
	})
}

// A category's rota takes a case when its category is set, unless a person
// took it in hand first.
func TestCategoryRotaOnTriage(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		line, _ := f.bot.Config().LineByName("Maintenance")
		line.CategoryRota = map[string]config.Rota{"maintenance": {RoundRobin: []string{bob.ID}}}
		_, c := f.textIn(t, "1", "+447700900101", "2")
		if c.Owner != bob.ID || c.AssignedBy != "rota" || c.State != store.CaseClaimed {
			t.Fatalf("after the caller chose maintenance: %+v", c)
		}
		if _, ok := entryWith(thread(t, f.store, c.ID), "owner of the day, Maintenance on Maintenance"); !ok {
			t.Fatalf("thread = %+v", thread(t, f.store, c.ID))
		}
		// Alice claimed the second case before the caller chose.
		if _, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA2", From: "+447700900102", To: maintNum, Outcome: bot.CallMissed, Status: "no-answer"}); err != nil {
			t.Fatal(err)
		}
		d, _ := f.store.OpenCase(ctx, "+447700900102", maintNum)
		if _, err := f.bot.Claim(ctx, d.ID, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM2", From: "+447700900102", To: maintNum, Body: "2"}); err != nil {
			t.Fatal(err)
		}
		if d, _ = f.store.CaseByID(ctx, d.ID); d.Owner != alice.ID || d.Category != "maintenance" {
			t.Fatalf("a claimed case changed owner: %+v", d)
		}
	})
}
