package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// drain is the run of a job that empties an outbox-like table (mail,
// webhook events): while something is due, claim a batch and handle it.
// due only reads, so an idle sweep costs no write transaction. Past budget,
// or when kaisai stops, the job is snoozed to go on at once (or at the next
// start). batch returns how many rows it claimed; none means another worker
// took them since due looked.
func drain(ctx context.Context, stopping <-chan struct{}, budget time.Duration,
	due func(context.Context) (bool, error), batch func(context.Context) (int, error)) error {
	started := time.Now()
	for {
		ok, err := due(ctx)
		if err != nil || !ok {
			return err
		}
		if stopped(ctx, stopping) || time.Since(started) > budget {
			return river.JobSnooze(0)
		}
		n, err := batch(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// stopped reports whether kaisai is stopping or the job's context has ended.
func stopped(ctx context.Context, stopping <-chan struct{}) bool {
	select {
	case <-stopping:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// wakeHorizon is how far ahead a run looks for work about to be due (an
// edit waiting out its coalescing delay, a backoff, a dead worker's lease
// running out): the job is nudged again at that time rather than left to
// the sweep.
const wakeHorizon = time.Minute

// wakeForNext ends a run: when the next row becomes due within
// wakeHorizon, wake nudges the job then; later ones are the sweep's.
func wakeForNext(ctx context.Context, wake *Nudger, now func() time.Time,
	next func(context.Context) (time.Time, error)) error {
	at, err := next(ctx)
	if err != nil || at.IsZero() {
		return err
	}
	if wait := at.Sub(now()); wait <= wakeHorizon {
		wake.NudgeAfter(max(wait, 50*time.Millisecond))
	}
	return nil
}
