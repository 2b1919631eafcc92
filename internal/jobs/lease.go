package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"kaisai/internal/store"
)

// leased runs fn under a lease of its own (store.Lease), the one mechanism
// by which every job here holds its work — meetings, registrant lists,
// mail, webhook events, a host's creates. While fn runs the lease is
// renewed several times per TTL, so a run may take as long as its work
// needs, while a killed process's work is free again within the TTL. A
// renewal that finds the lease lost (the process stalled past its TTL and
// another worker may have taken the work over) cancels fn's context, and
// the store refuses fn's late results. When fn returns the lease ends:
// whatever fn still held is free at once.
func leased(ctx context.Context, st *store.Store, job string, ttl time.Duration, log *slog.Logger,
	fn func(context.Context, store.Lease) error) error {
	l, err := st.TakeLease(ctx, holder(job), ttl)
	if err != nil {
		return err
	}
	work, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		keepLease(work, st, l, log, cancel)
	}()
	err = fn(work, l)
	cancel(nil)
	<-renewed
	if endErr := st.EndLease(context.WithoutCancel(ctx), l); endErr != nil {
		// It expires within its TTL anyway.
		log.Warn("lease: end", "err", endErr)
	}
	if errors.Is(err, store.ErrLeaseLost) || errors.Is(context.Cause(work), store.ErrLeaseLost) {
		log.Warn("lease lost: the work was taken over by another worker", "job", job)
		return nil // nothing to retry: the other worker has it
	}
	return err
}

// keepLease renews l every TTL/5 until ctx ends, and cancels ctx when l is
// lost. A renewal waits its turn at the database as long as it takes: one
// that arrives after the lease ran out is refused by the store (lost), so
// there is no deadline to keep but ctx's. A renewal given up after a while
// would be worse than none: on SQLite it would leave the writers' queue and
// join it again at the back, behind the claims that then take the work
// over, so that a queue longer than that while loses every lease. A renewal
// that fails otherwise (the database down) is tried again at the next tick.
func keepLease(ctx context.Context, st *store.Store, l store.Lease, log *slog.Logger, lost context.CancelCauseFunc) {
	t := time.NewTicker(l.TTL / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := st.RenewLease(ctx, l)
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			lost(err)
			return
		case err != nil && ctx.Err() == nil:
			log.Warn("lease: renew", "err", err)
		}
	}
}

// holder names a lease's holder for an operator: the job, the host and
// the process.
func holder(job string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s %s:%d", job, host, os.Getpid())
}
