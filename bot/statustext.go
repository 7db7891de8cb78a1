package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"ringback/config"
	"ringback/store"
	"ringback/templates"
)

// Status texts tell a caller where their request stands (issue: "know who
// has your request"). They are off unless a line names an approved
// template for the change (status_texts), go at most once per change,
// never to a number that cannot be texted, and wait for the caller's
// window (quiet hours) unless the case is urgent.

// statusSoonest is the earliest promise a status text makes when the case's
// own deadline has passed already: a claim after the due time must not
// promise a call "by" a time gone by.
const statusSoonest = 15 * time.Minute

// dueWords is when a caller can expect a call, as a text says it in the
// line's zone: "14:30" today, "Tue 14:30" within the week, "2 Dec 14:30"
// after. A time already past (or under statusSoonest away) reads as
// statusSoonest from now, rounded up to five minutes.
func dueWords(due, now time.Time, zone *time.Location) string {
	if zone == nil {
		zone = time.UTC
	}
	if soonest := now.Add(statusSoonest); due.Before(soonest) {
		due = soonest.Truncate(5 * time.Minute)
		if due.Before(soonest) {
			due = due.Add(5 * time.Minute)
		}
	}
	return slotWords(due, now, zone)
}

// slotWords is a time as a text says it in zone, as seen at now: "14:30"
// today, "Tue 14:30" within the week, "2 Dec 14:30" after.
func slotWords(at, now time.Time, zone *time.Location) string {
	if zone == nil {
		zone = time.UTC
	}
	d, n := at.In(zone), now.In(zone)
	switch {
	case d.Year() == n.Year() && d.YearDay() == n.YearDay():
		return d.Format("15:04")
	case d.Sub(n) < 6*24*time.Hour:
		return d.Format("Mon 15:04")
	}
	return d.Format("2 Jan 15:04")
}

// statusText queues the status text the line has for a change of case c
// (key: the template; change: what happened, for the dedupe key and the
// record). vars are the case's, with the actor's name where one acted. A
// text that could not go before latest (not zero) is not sent at all:
// "we'll call you at 14:30" is no use after 14:30. Only a store failure is
// an error: a status text never holds up the change it reports.
func (b *Bot) statusText(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, key, change string, vars templates.Vars, latest time.Time) error {
	if key == "" || c.Withheld() || c.Spam {
		return nil
	}
	// Once per change: the same change again (a claim released and taken
	// again by the same person) sends nothing. The case is locked, so two
	// replicas cannot both pass this.
	dedupe := "status:" + change + ":" + strconv.FormatInt(c.ID, 10)
	if _, err := tx.OutboxByKey(ctx, dedupe); err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	why, err := b.whyNotTextable(ctx, tx, c.CallerNumber)
	if err != nil {
		return err
	}
	if why != "" {
		b.log.Info("status text not sent", "case_id", c.ID, "change", change, "reason", why)
		return nil
	}
	t, err := tx.ApprovedTemplate(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return b.noteAutoReply(ctx, tx, c, true, "sms_skipped", key, fmt.Sprintf("no approved template %q", key),
			fmt.Sprintf("Status text not sent: no approved template %q", key))
	}
	if err != nil {
		return err
	}
	body, err := templates.Render(t.Text, vars)
	if err != nil {
		return b.noteAutoReply(ctx, tx, c, true, "sms_skipped", key, err.Error(),
			fmt.Sprintf("Status text not sent: template %q cannot be filled (%v)", key, err))
	}
	now := b.clock.Now()
	runAt := now
	if !c.Urgent {
		if w := QuietHoursAt(c.CallerNumber, line, now); !w.Allowed {
			runAt = w.At
		}
	}
	if !latest.IsZero() && !runAt.Before(latest) {
		b.log.Info("status text not sent", "case_id", c.ID, "change", change, "reason", "too late")
		return tx.AddEvent(ctx, c.ID, now, "sms_skipped", "", map[string]string{
			"template": key, "reason": "it could not go before " + latest.UTC().Format(time.RFC3339)})
	}
	_, err = b.queueSMS(ctx, tx, c, line, outgoing{Kind: "status", Body: body, TemplateKey: key, Scheduled: !c.Urgent}, dedupe, runAt)
	return err
}
