package store_test

import (
	"slices"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// pgReplica opens a store on url's PostgreSQL schema as a replica of one
// deployment, with fast presence timing, listening when listen is set.
func pgReplica(t *testing.T, url string, listen bool) (*store.Store, <-chan struct{}) {
	t.Helper()
	s := storetest.Open(t, url)
	s.SetPresence(100*time.Millisecond, 500*time.Millisecond)
	if !listen {
		return s, nil
	}
	return s, s.OutboxSignal()
}

func drained(sig <-chan struct{}) <-chan struct{} {
	for len(sig) > 0 {
		<-sig
	}
	return sig
}

// A replica alone sends no NOTIFY (nobody would hear it); once a second
// replica listens, the first one's commits wake it at once; once that one
// is gone, the first stops again. A store that does not listen (a command
// run once) cannot know, and always tells.
func TestNotifyOnlyWhenAnotherReplicaListens(t *testing.T) {
	if !slices.Contains(storetest.Backends(t), "postgres") {
		t.Skip("NOTIFY is PostgreSQL's; SQLite has one process")
	}
	url := storetest.URL(t, "postgres")
	storetest.Migrated(t, url)
	a, sigA := pgReplica(t, url, true)
	counted := a.CountStatements()

	enqueue(t, a, "alone", t0)
	time.Sleep(200 * time.Millisecond) // longer than the notifier's gap
	if counted.NotifyCount() != 0 {
		t.Fatalf("a replica alone sent %d NOTIFYs, want 0", counted.NotifyCount())
	}

	b, sigB := pgReplica(t, url, true)
	within(t, 5*time.Second, func() bool { return a.HearsOthers() && b.HearsOthers() }, "the replicas did not hear each other")
	// b commits nothing itself: only a's NOTIFY can signal it.
	drained(sigB)
	enqueue(t, a, "with-b", t0)
	woken(t, sigB, "a's commit did not wake the other replica")
	if counted.NotifyCount() == 0 {
		t.Fatal("no NOTIFY counted with another replica listening")
	}
	drained(sigA)
	enqueue(t, b, "from-b", t0)
	woken(t, sigA, "b's commit did not wake the replica that was there first")

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, func() bool { return !a.HearsOthers() }, "a still counts b as listening long after b closed")
	time.Sleep(100 * time.Millisecond) // a notice under way when b closed has gone
	before := counted.NotifyCount()
	enqueue(t, a, "alone-again", t0)
	time.Sleep(200 * time.Millisecond)
	if counted.NotifyCount() != before {
		t.Fatalf("a replica alone again sent %d NOTIFYs, want none", counted.NotifyCount()-before)
	}

	once, _ := pgReplica(t, url, false)
	onceCounted := once.CountStatements()
	drained(sigA)
	enqueue(t, once, "from-a-command", t0)
	woken(t, sigA, "a store that does not listen did not wake the replica")
	if onceCounted.NotifyCount() == 0 {
		t.Fatal("a store that does not listen sent no NOTIFY")
	}
}

// within fails the test with msg unless cond holds within d.
func within(t *testing.T, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// woken fails the test with msg unless sig delivers within 2 s.
func woken(t *testing.T, sig <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-sig:
	case <-time.After(2 * time.Second):
		t.Fatal(msg)
	}
}
