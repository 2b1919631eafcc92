package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// recordEvents stores n distinct webhook events: leased work to claim.
func recordEvents(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for i := range n {
		body := fmt.Appendf(nil, `{"event":"meeting.started","event_ts":%d,"payload":{}}`, 1700000000000+i)
		if _, err := st.RecordZoomWebhook(context.Background(), "meeting.started", int64(i), store.WebhookDedupeKey(body), body); err != nil {
			t.Fatal(err)
		}
	}
}

func takeLease(t *testing.T, st *store.Store, holder string, ttl time.Duration) store.Lease {
	t.Helper()
	l, err := st.TakeLease(context.Background(), holder, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLeaseTakeOverAndFence: work held by a lease that runs out goes to the
// next worker, and the first worker's late result is refused; while a lease
// is renewed it holds its work however long it runs; ending a lease frees its
// work at once.
func TestLeaseTakeOverAndFence(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		recordEvents(t, st, 2)

		// A holds both events for 300 ms and does not renew: it stalled.
		a := takeLease(t, st, "stalled", 300*time.Millisecond)
		held, err := st.ClaimZoomWebhooks(ctx, a, 10)
		if err != nil || len(held) != 2 {
			t.Fatalf("a claimed %d, %v", len(held), err)
		}
		b := takeLease(t, st, "next", time.Minute)
		if got, err := st.ClaimZoomWebhooks(ctx, b, 10); err != nil || len(got) != 0 {
			t.Fatalf("b claimed %d events a holds, %v", len(got), err)
		}
		taken := eventually.Value(t, "the stalled worker's events to become free", func() ([]store.ZoomWebhook, bool) {
			taken, err := st.ClaimZoomWebhooks(ctx, b, 10)
			if err != nil {
				t.Fatal(err)
			}
			return taken, len(taken) > 0
		})
		if len(taken) != 2 {
			t.Fatalf("b took over %d events, want 2", len(taken))
		}
		if err := st.RenewLease(ctx, a); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("renewing an expired lease: %v, want ErrLeaseLost", err)
		}
		// A's late result is refused and changes nothing; B's is recorded.
		if err := st.MarkZoomWebhook(ctx, a, held[0].ID, zoompolicy.WebhookFailed, "late", time.Time{}); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("a's late result: %v, want ErrLeaseLost", err)
		}
		if err := st.MarkZoomWebhooksDone(ctx, a, zoompolicy.WebhookProcessed, []int64{held[1].ID}); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("a's late batch result: %v, want ErrLeaseLost", err)
		}
		if err := st.MarkZoomWebhooksDone(ctx, b, zoompolicy.WebhookProcessed, []int64{held[0].ID, held[1].ID}); err != nil {
			t.Fatal(err)
		}
		rows, err := st.ZoomWebhooks(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Status != zoompolicy.WebhookProcessed || r.LastError != "" {
				t.Errorf("event %d: %s %q, want processed by b", r.ID, r.Status, r.LastError)
			}
		}

		// C renews a 300 ms lease for well over its TTL: nobody takes its work.
		recordEvents(t, st, 4)
		c := takeLease(t, st, "renewing", 300*time.Millisecond)
		mine, err := st.ClaimZoomWebhooks(ctx, c, 10)
		if err != nil || len(mine) == 0 {
			t.Fatalf("c claimed %d, %v", len(mine), err)
		}
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			if err := st.RenewLease(ctx, c); err != nil {
				t.Fatalf("renew: %v", err)
			}
			if got, err := st.ClaimZoomWebhooks(ctx, b, 10); err != nil || len(got) != 0 {
				t.Fatalf("b took %d events of a lease being renewed, %v", len(got), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Ending it frees them at once.
		if err := st.EndLease(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ClaimZoomWebhooks(ctx, b, 10); err != nil || len(got) != len(mine) {
			t.Fatalf("after the lease ended b claimed %d of %d, %v", len(got), len(mine), err)
		}
	})
}

// TestLeaseClaimsRace: workers claiming side by side (on PostgreSQL, on
// connections of their own) never get the same event: each is processed
// exactly once.
func TestLeaseClaimsRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		const events, workers = 120, 4
		recordEvents(t, st, events)
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, err := st.TakeLease(ctx, fmt.Sprintf("worker %d", w), time.Minute)
				if err != nil {
					errs <- err
					return
				}
				for {
					got, err := st.ClaimZoomWebhooks(ctx, l, 5)
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					ids := make([]int64, len(got))
					mu.Lock()
					for i, e := range got {
						seen[e.ID]++
						ids[i] = e.ID
					}
					mu.Unlock()
					if err := st.MarkZoomWebhooksDone(ctx, l, zoompolicy.WebhookProcessed, ids); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != events {
			t.Errorf("%d events claimed, want %d", len(seen), events)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %d claimed %d times", id, n)
			}
		}
	})
}
