package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Nudger turns "work was committed" into at most one insert of its job
// (a unique one: DeliverMail, ProcessZoomWebhooks) per interval: Nudge only drops a token in a one-slot channel, so the
// request that committed never waits, and a burst of commits costs one
// insert (on SQLite even a skipped unique insert is a write transaction).
type Nudger struct {
	args     river.JobArgs
	kick     chan struct{}
	every    time.Duration
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	started  bool

	wakeMu sync.Mutex
	wake   *time.Timer // the pending NudgeAfter, if any
	wakeAt time.Time
}

// NewNudger makes a nudger that inserts args at most once per every (0:
// 100 ms). args must be a unique job (see DeliverMailArgs.InsertOpts).
func NewNudger(every time.Duration, args river.JobArgs) *Nudger {
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	return &Nudger{args: args, kick: make(chan struct{}, 1), every: every, stop: make(chan struct{}), done: make(chan struct{})}
}

// Nudge asks for the job to run soon; it never blocks. Call it after the commit.
func (n *Nudger) Nudge() {
	select {
	case n.kick <- struct{}{}:
	default: // a nudge is already pending
	}
}

// NudgeAfter asks for the job to run once d has passed — when work will
// be due: a retry's backoff, an edit's coalescing delay, a dead worker's
// lease running out — unless an earlier wake-up is set already. It never
// blocks and costs no write until it fires. A nil Nudger does nothing.
func (n *Nudger) NudgeAfter(d time.Duration) {
	if n == nil {
		return
	}
	at := time.Now().Add(d)
	n.wakeMu.Lock()
	defer n.wakeMu.Unlock()
	if n.wake != nil && !n.wakeAt.After(at) {
		return
	}
	if n.wake != nil {
		n.wake.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		n.wakeMu.Lock()
		if n.wake == t { // not replaced by an earlier one meanwhile
			n.wake = nil
		}
		n.wakeMu.Unlock()
		n.Nudge()
	})
	n.wake, n.wakeAt = t, at
}

// Stopping is closed by Stop.
func (n *Nudger) Stopping() <-chan struct{} { return n.stop }

// Start begins inserting jobs into c for nudges, the ones before Start
// included. Call it once, before Stop.
func (n *Nudger) Start(c *Client, log *slog.Logger) {
	n.started = true
	go n.run(c, log)
}

// Stop ends the nudger and tells running jobs that watch Stopping to wind down.
func (n *Nudger) Stop() {
	n.stopOnce.Do(func() { close(n.stop) })
	n.wakeMu.Lock()
	if n.wake != nil {
		n.wake.Stop()
	}
	n.wakeMu.Unlock()
	if n.started {
		<-n.done
	}
}

func (n *Nudger) run(c *Client, log *slog.Logger) {
	defer close(n.done)
	pause := func() bool {
		t := time.NewTimer(n.every)
		defer t.Stop()
		select {
		case <-n.stop:
			return false
		case <-t.C:
			return true
		}
	}
	for {
		select {
		case <-n.stop:
			return
		case <-n.kick:
		}
		for !n.insert(c, log) {
			if !pause() {
				return
			}
		}
		// Nudges during the pause collapse into the one slot of kick.
		if !pause() {
			return
		}
	}
}

// insert reports whether a job now exists that will look at the work after
// the nudge. A job already waiting will; one already running
// may have looked for the last time, so then the insert is tried again
// (a skipped insert costs one write; a running job costs a few a second).
func (n *Nudger) insert(c *Client, log *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Insert(ctx, n.args, nil)
	if err != nil {
		log.Warn("jobs: insert nudged job", "kind", n.args.Kind(), "err", err)
		return false
	}
	return !res.UniqueSkippedAsDuplicate || res.Job.State != rivertype.JobStateRunning
}
