package harness

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"
)

// The private cluster starts, answers on its Unix socket, counts its processes' CPU time, survives `pg_ctl restart -m fast` with its
// data (the restart returns: the new server must not hold our output
// pipe), and is gone after remove.
func TestClusterRestartsAndIsRemoved(t *testing.T) {
	if testing.Short() {
		t.Skip("initdb and two server starts: not with -short")
	}
	if _, err := PostgresBin(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := NewCluster(ctx)
	if err != nil {
		if c != nil {
			_ = c.Remove()
		}
		t.Fatal(err)
	}
	removed := false
	defer func() {
		if !removed {
			_ = c.Remove()
		}
	}()
	db, err := sql.Open("postgres", c.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}

	// Its Unix socket reaches the same database, and is no TCP connection.
	sock, err := sql.Open("postgres", c.SocketDSN("ringback"))
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var kept int
	var viaTCP bool
	if err := sock.QueryRowContext(ctx, "SELECT n, inet_client_addr() IS NOT NULL FROM kept").Scan(&kept, &viaTCP); err != nil {
		t.Fatalf("through the socket (%s): %v", c.SocketDSN("ringback"), err)
	}
	if kept != 42 || viaTCP {
		t.Errorf("through the socket: read %d (want 42), over TCP %v (want false)", kept, viaTCP)
	}

	// Its processes' CPU time is readable, and grows with work.
	cpu0, ok := c.CPUTime()
	if !ok {
		t.Fatal("CPUTime: not readable")
	}
	if _, err := db.ExecContext(ctx, "SELECT count(*) FROM generate_series(1, 3000000)"); err != nil {
		t.Fatal(err)
	}
	if cpu1, _ := c.CPUTime(); cpu1 <= cpu0 {
		t.Errorf("CPUTime did not grow with a query: %s then %s", cpu0, cpu1)
	}

	done := make(chan error, 1)
	go func() { done <- c.Restart(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("pg_ctl restart did not return within 90s")
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after the restart: n = %d, %v", n, err)
	}

	// RestartAfter keeps it stopped for the time asked: new connections
	// fail for about that long, and the data is still there after.
	const down = 1500 * time.Millisecond
	go func() { done <- c.RestartAfter(ctx, down) }()
	fresh, err := sql.Open("postgres", c.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	fresh.SetMaxIdleConns(0) // every ping a new connection
	var firstFail, lastFail time.Time
	for restarted := false; !restarted; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			restarted = true
		case <-time.After(50 * time.Millisecond):
			pctx, pcancel := context.WithTimeout(ctx, time.Second)
			if fresh.PingContext(pctx) != nil {
				if firstFail.IsZero() {
					firstFail = time.Now()
				}
				lastFail = time.Now()
			}
			pcancel()
		}
	}
	if stopped := lastFail.Sub(firstFail); firstFail.IsZero() || stopped < down-300*time.Millisecond {
		t.Errorf("new connections failed for %s, want about %s", stopped, down)
	}
	if err := db.QueryRowContext(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after RestartAfter: n = %d, %v", n, err)
	}

	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	removed = true
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("cluster folder still there: %v", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if err := db.PingContext(pctx); err == nil {
		t.Error("the server still answers after remove")
	}
}
