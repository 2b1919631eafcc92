package jobs

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestLeaseKeptBehindBusyWriters: while SQLite's one writer is busy with a
// queue of other transactions longer than the renewal interval, a running
// job keeps its lease; its renewals wait their turn. A renewal given up
// after TTL/5 rejoined the queue at its back each time and never reached
// the writer: every lease ran out under load, and the work went round
// between workers. SQLite only: on PostgreSQL writers of other rows do not
// queue behind each other.
func TestLeaseKeptBehindBusyWriters(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	st, err := store.Open(ctx, store.Options{DataDir: db.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := st.Migrate(ctx, quiet); err != nil {
		t.Fatal(err)
	}

	// Eight writers in turn, each holding the writer 250 ms: a write waits
	// about 2 s for its turn, more than the renewal interval (1 s) and
	// well under the TTL (5 s).
	const ttl = 5 * time.Second
	busy, stop := context.WithCancel(ctx)
	var writers sync.WaitGroup
	for range 8 {
		writers.Go(func() {
			for busy.Err() == nil {
				_ = st.Tx(busy, func(tx *store.Tx) error {
					time.Sleep(250 * time.Millisecond) // a slow transaction holds the writer
					return nil
				})
			}
		})
	}
	defer writers.Wait()
	defer stop()

	// The job runs for two TTLs while the writers keep the queue full.
	var held error
	err = leased(ctx, st, "busy-writers-test", ttl, quiet, func(work context.Context, l store.Lease) error {
		select {
		case <-work.Done():
			held = context.Cause(work)
			return held
		case <-time.After(2 * ttl):
		}
		stop()
		// Still the holder: a renewal succeeds now that the queue is gone.
		held = st.RenewLease(ctx, l)
		return held
	})
	if err != nil || held != nil {
		t.Fatalf("the job lost its lease behind busy writers: %v, %v", err, held)
	}
}
