package main

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"
)

// The private cluster starts, survives `pg_ctl restart -m fast` with its
// data (the restart returns: the new server must not hold our output
// pipe), and is gone after remove.
func TestClusterRestartsAndIsRemoved(t *testing.T) {
	if testing.Short() {
		t.Skip("initdb and two server starts: not with -short")
	}
	if _, err := postgresBin(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := newCluster(ctx)
	if err != nil {
		if c != nil {
			_ = c.remove()
		}
		t.Fatal(err)
	}
	removed := false
	defer func() {
		if !removed {
			_ = c.remove()
		}
	}()
	db, err := sql.Open("postgres", c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- c.restart(ctx) }()
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

	if err := c.remove(); err != nil {
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
