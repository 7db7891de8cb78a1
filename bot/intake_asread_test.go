package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// A missed call from a caller with no open case is taken, on PostgreSQL,
// in two statements that commit as they end: the read of the call and the
// caller, locking nothing, and the one statement writing the call, its
// case, its text-back and their rows. No BEGIN and no COMMIT around them:
// two round trips fewer for every new case (issue 17).
func TestNewCaseIntakeSendsNoTransactionOnPostgreSQL(t *testing.T) {
	f := newFixture(t, storetest.New(t, "postgres"))
	ctx := context.Background()
	// A running server has read the approved templates already.
	f.missed(t, "CAfirst", "+447700900870")
	c := f.store.CountStatements()
	res, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CAasread", From: "+447700900871", To: lettingsNum,
		Outcome: bot.CallMissed, Status: "no-answer"})
	f.store.StopCounting()
	if err != nil || !res.NewCase {
		t.Fatalf("report: %+v, %v; want a new case", res, err)
	}
	seq := c.Sequence()
	if len(seq) != 2 {
		t.Fatalf("the intake sent %d statements, want 2 (read, write):\n%s", len(seq), strings.Join(seq, "\n"))
	}
	for _, q := range seq {
		if verb := strings.ToUpper(strings.Fields(q)[0]); verb == "BEGIN" || verb == "COMMIT" || strings.Contains(q, "FOR UPDATE") {
			t.Errorf("the intake sent %.60q: a transaction, or a lock held across round trips", q)
		}
	}
	// What it wrote is all there.
	var texts, calls int
	db := f.store.DB()
	if err := db.Get(&texts, `SELECT COUNT(*) FROM messages WHERE kind = 'textback' AND case_id = $1`, res.CaseID); err != nil || texts != 1 {
		t.Errorf("%d text-backs queued for the case (%v), want 1", texts, err)
	}
	if err := db.Get(&calls, `SELECT COUNT(*) FROM calls WHERE sid = 'CAasread' AND case_id = $1`, res.CaseID); err != nil || calls != 1 {
		t.Errorf("%d calls on the case (%v), want 1", calls, err)
	}
}

// The end of a <Dial> leg Ringback's routing placed is a report of a call
// recorded as it rang: it reads the call locked at once, in the
// transaction, with no first read outside it that would find the call and
// be read again.
func TestDialedLegReportReadsOnce(t *testing.T) {
	f := newFixture(t, storetest.New(t, "postgres"))
	ctx := context.Background()
	f.missed(t, "CAfirst", "+447700900873") // the template cache is warm
	const caller = "+447700900874"
	if _, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CAdialed", From: caller, To: lettingsNum,
		Outcome: bot.CallInProgress, Status: "routing:ring"}); err != nil {
		t.Fatal(err)
	}
	c := f.store.CountStatements()
	res, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CAdialed", From: caller, To: lettingsNum,
		Outcome: bot.CallMissed, Status: "dial:no-answer", Dialed: true})
	f.store.StopCounting()
	if err != nil || !res.NewCase {
		t.Fatalf("report: %+v, %v; want a new case", res, err)
	}
	readOnceLocked(t, c.Sequence(), "the dialed leg's report")
}

// readOnceLocked fails t unless the statements seq read the call once,
// locking it: what says whose statements they were.
func readOnceLocked(t *testing.T, seq []string, what string) {
	t.Helper()
	reads := 0
	for _, q := range seq {
		if strings.Contains(q, "call_found") {
			reads++
			if !strings.Contains(q, "FOR UPDATE") {
				t.Errorf("%s read the call without locking it first: %.80q", what, q)
			}
		}
	}
	if reads != 1 {
		t.Errorf("%s read the call %d times, want once:\n%s", what, reads, strings.Join(seq, "\n"))
	}
}

// A caller texted back by another call (another line, another replica)
// after this call's intake read them, and before its write: the write
// takes the caller's lock first and looks again, so the cooldown holds
// and the caller gets no second text-back. The intake runs again on what
// is there by then, and the case says why no text went.
func TestIntakeReadWithoutLockSeesATextBackWrittenBeforeItsWrite(t *testing.T) {
	s := storetest.New(t, "postgres")
	f := newFixture(t, s)
	ctx := context.Background()
	const caller = "+447700900872"
	// Another session holds the caller's lock, as another call's intake
	// does while it texts them.
	other, err := s.DB().Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, 0x52424301, caller); err != nil {
		t.Fatal(err)
	}
	type result struct {
		res bot.CallResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CAlater", From: caller, To: lettingsNum,
			Outcome: bot.CallMissed, Status: "no-answer"})
		done <- result{res, err}
	}()
	// Its read found no text-back; its write waits for the lock.
	storetest.WaitForLockWait(t, s, "%ringback_caller_texted%")
	now := f.clock.Now()
	if _, err := other.ExecContext(ctx, `INSERT INTO messages (direction, kind, line_number, caller_number, body, media_urls,
		template_key, sent_by, status, error_code, problem, created_at, updated_at)
		VALUES ('out', 'textback', '+441632960002', $1, 'Sorry we missed you', '', '', '', 'sent', '', '', $2, $2)`, caller, now); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, 0x52424301, caller); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the report did not end within 10 s of the lock's release")
	}
	if r.err != nil || !r.res.NewCase {
		t.Fatalf("report: %+v, %v; want a new case", r.res, r.err)
	}
	var texts int
	if err := s.DB().Get(&texts, `SELECT COUNT(*) FROM messages WHERE kind = 'textback' AND caller_number = $1`, caller); err != nil || texts != 1 {
		t.Errorf("%d text-backs to the caller (%v), want 1: the other call's, none of this one's", texts, err)
	}
	c, err := s.CaseByID(ctx, r.res.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.TextbackStatus, "not sent") {
		t.Errorf("the case's text-back says %q, want why it was not sent", c.TextbackStatus)
	}
	if got := store.CaseOpen; c.State != got {
		t.Errorf("case state %q, want %q", c.State, got)
	}
}

// A caller who calls again while their case is open, on the replica that
// left it open: the call is read once, locked, in the transaction that
// counts it on the case, with no first read outside it that would only
// find the case open. Once the case is closed, the next call opens a new
// case all the same (the replica still believes it open: it reads locked).
func TestRepeatCallReadsItsCallerOnce(t *testing.T) {
	f := newFixture(t, storetest.New(t, "postgres"))
	ctx := context.Background()
	const caller = "+447700900875"
	first := f.missed(t, "CArepeat1", caller)
	c := f.store.CountStatements()
	res, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CArepeat2", From: caller, To: lettingsNum,
		Outcome: bot.CallMissed, Status: "no-answer"})
	f.store.StopCounting()
	if err != nil || res.NewCase || res.CaseID != first.ID {
		t.Fatalf("report: %+v, %v; want the call counted on case %d", res, err, first.ID)
	}
	readOnceLocked(t, c.Sequence(), "the repeat call's report")
	if got, err := f.store.CaseByID(ctx, first.ID); err != nil || got.CallCount != 2 {
		t.Errorf("case %d counts %d calls (%v), want 2", first.ID, got.CallCount, err)
	}

	if _, err := f.bot.Close(ctx, first.ID, alice, "booked", "Viewing Thursday 2pm"); err != nil {
		t.Fatal(err)
	}
	res, err = f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CArepeat3", From: caller, To: lettingsNum,
		Outcome: bot.CallMissed, Status: "no-answer"})
	if err != nil || !res.NewCase || res.CaseID == first.ID {
		t.Fatalf("a call after the case closed: %+v, %v; want a new case", res, err)
	}
}
