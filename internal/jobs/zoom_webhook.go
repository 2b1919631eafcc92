package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoompolicy"
)

// Zoom webhook processing (DESIGN.md §6, §7). The intake (POST /webhooks/zoom)
// verifies a delivery, stores it in zoom_webhook_events and answers 200; no
// job is inserted per event. After the commit the store calls the nudger,
// which inserts the one unique ProcessZoomWebhooks job; a periodic job inserts
// it too, so an event stored just before a crash is processed after restart.
// The job claims stored events with a lease and hands each to the handler
// registered for its event name.
//
// # Adding a handler
//
// A handler is a WebhookHandler registered under Zoom's event name (the
// webhook.Event* constants) in the WebhookHandlers that app.New passes in
// jobs.Config.Webhooks:
//
//	hs := jobs.WebhookHandlers{}
//	hs.Register(webhook.EventParticipantJoined, func(ctx context.Context, e webhook.Event) error {
//		p, err := e.Participant()
//		if err != nil {
//			return jobs.Permanent(err) // malformed payload: retrying cannot help
//		}
//		return checkIn(ctx, p) // must be idempotent: an event may be handled twice
//	})
//
// Processing is at-least-once: a crash after a handler's work but before the
// event is marked processed runs it again when the lease runs out, so a
// handler must be idempotent. Returning nil marks the event processed; an
// error retries it with exponential backoff and, after MaxAttempts, marks it
// failed; an error wrapped by Permanent marks it failed at once. Events with
// no handler are marked ignored: kept, so a handler added later could replay
// them by resetting their status to pending.

// WebhookHandler processes one stored Zoom event.
type WebhookHandler func(ctx context.Context, e webhook.Event) error

// WebhookBatchHandler processes several stored Zoom events of one kind at
// once — in one transaction, say — and returns each one's outcome, in
// order: nil marks it processed, an error is handled as a WebhookHandler's.
// Events of a kind with a batch handler never go to a WebhookHandler.
type WebhookBatchHandler func(ctx context.Context, es []webhook.Event) []error

// WebhookHandlers maps Zoom event names to their handlers. nil is valid: every
// event is then ignored.
type WebhookHandlers map[string]WebhookHandler

// Register adds the handler of event; a second handler for one event is a
// programming error and panics.
func (hs WebhookHandlers) Register(event string, h WebhookHandler) {
	if _, dup := hs[event]; dup {
		panic(fmt.Sprintf("jobs: two webhook handlers for %q", event))
	}
	hs[event] = h
}

// permanentError marks a handler error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps a handler's error so the event is marked failed at once
// instead of retried.
func Permanent(err error) error { return permanentError{err} }

// WebhookOptions tune processing; the zero value of each field is its
// default. Tests shorten them.
type WebhookOptions struct {
	Batch       int           // events claimed at once (50)
	Lease       time.Duration // how long a dead worker's events stay held (store.DefaultLeaseTTL); renewed while it works
	RetryBase   time.Duration // wait before the first retry, doubled for each later one (30 s)
	RetryMax    time.Duration // longest wait between attempts (1 h)
	MaxAttempts int           // attempts before an event is marked failed (8)
	Sweep       time.Duration // how often the periodic job looks for due events (15 s)
	Nudge       time.Duration // at most one job insert per this (100 ms)
	RunBudget   time.Duration // a run stops claiming after this and is snoozed to go on (1 min)
}

func (o WebhookOptions) withDefaults() WebhookOptions {
	m := MailOptions(o)
	if m.MaxAttempts <= 0 {
		m.MaxAttempts = 8
	}
	m = m.withDefaults()
	return WebhookOptions(m)
}

// ProcessZoomWebhooksArgs asks for every due stored Zoom event to be processed.
type ProcessZoomWebhooksArgs struct{}

// Kind names the job in River's table.
func (ProcessZoomWebhooksArgs) Kind() string { return "process_zoom_webhooks" }

// InsertOpts make the job unique while it waits or runs, like DeliverMail.
func (ProcessZoomWebhooksArgs) InsertOpts() river.InsertOpts { return drainJobOpts() }

// NewWebhookNudger makes the nudger of ProcessZoomWebhooks (every 0: 100 ms).
func NewWebhookNudger(every time.Duration) *Nudger {
	return NewNudger(every, ProcessZoomWebhooksArgs{})
}

// ProcessZoomWebhooksWorker drains zoom_webhook_events.
type ProcessZoomWebhooksWorker struct {
	river.WorkerDefaults[ProcessZoomWebhooksArgs]
	Store    *store.Store
	Handlers WebhookHandlers
	Batch    map[string]WebhookBatchHandler // by event name; these kinds skip Handlers
	Options  WebhookOptions                 // with defaults applied
	Now      func() time.Time
	Log      *slog.Logger
	Stopping <-chan struct{}
	Wake     *Nudger // runs the job again when the next event is due (nil: the sweep does)
}

// Timeout lets a run go on past River's default minute: RunBudget bounds
// the claiming, and a handler may call Zoom (a report) for the batch in hand.
func (w *ProcessZoomWebhooksWorker) Timeout(*river.Job[ProcessZoomWebhooksArgs]) time.Duration {
	return w.Options.RunBudget + 5*time.Minute
}

// Work processes until nothing is due; past its budget, or when kaisai
// stops, it snoozes the job so that it goes on at once (or at the next start).
func (w *ProcessZoomWebhooksWorker) Work(ctx context.Context, job *river.Job[ProcessZoomWebhooksArgs]) error {
	if ok, err := w.Store.ZoomWebhooksDue(ctx); err != nil || !ok {
		if err != nil {
			return err
		}
		return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextZoomWebhookDue) // an idle sweep costs no write
	}
	err := leased(ctx, w.Store, job.Kind, w.Options.Lease, w.Log, func(ctx context.Context, l store.Lease) error {
		return w.drain(ctx, l)
	})
	if err != nil {
		return err
	}
	return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextZoomWebhookDue)
}

// drain processes due events under l until none is left, or the run's
// budget is spent.
func (w *ProcessZoomWebhooksWorker) drain(ctx context.Context, l store.Lease) error {
	return drain(ctx, w.Stopping, w.Options.RunBudget, w.Store.ZoomWebhooksDue, func(ctx context.Context) (int, error) {
		events, err := w.Store.ClaimZoomWebhooks(ctx, l, w.Options.Batch)
		if err != nil {
			return 0, err
		}
		// Events whose kind has a batch handler go to it together, after
		// the others, and are marked processed together; events with no
		// handler are marked ignored together.
		batches := map[string][]*store.ZoomWebhook{}
		var kinds []string
		var ignored []int64
		for i := range events {
			ev := &events[i]
			_, batched := w.Batch[ev.Event]
			_, handled := w.Handlers[ev.Event]
			switch {
			case batched:
				if batches[ev.Event] == nil {
					kinds = append(kinds, ev.Event)
				}
				batches[ev.Event] = append(batches[ev.Event], ev)
			case handled:
				if err := w.process(ctx, l, ev); err != nil {
					return 0, err
				}
			default:
				w.Log.Debug("zoom webhook: no handler, ignored", "id", ev.ID, "event", ev.Event)
				ignored = append(ignored, ev.ID)
			}
		}
		for _, kind := range kinds {
			if err := w.processBatch(ctx, l, w.Batch[kind], batches[kind]); err != nil {
				return 0, err
			}
		}
		if err := w.Store.MarkZoomWebhooksDone(context.WithoutCancel(ctx), l, zoompolicy.WebhookIgnored, ignored); err != nil {
			return 0, err
		}
		return len(events), nil
	})
}

// process runs one event's handler and records the outcome. Only the event
// name, id and error are logged: payloads carry names and e-mail addresses.
func (w *ProcessZoomWebhooksWorker) process(ctx context.Context, l store.Lease, ev *store.ZoomWebhook) error {
	record := context.WithoutCancel(ctx)
	h := w.Handlers[ev.Event]
	e, err := webhook.Parse(ev.Body)
	if err == nil {
		err = w.call(ctx, h, e)
	}
	if err == nil {
		return w.Store.MarkZoomWebhook(record, l, ev.ID, zoompolicy.WebhookProcessed, "", time.Time{})
	}
	return w.failed(record, l, ev, err)
}

// processBatch runs a batch handler on events of its kind and records the
// outcomes: the processed ones in one write.
func (w *ProcessZoomWebhooksWorker) processBatch(ctx context.Context, l store.Lease, h WebhookBatchHandler, evs []*store.ZoomWebhook) error {
	record := context.WithoutCancel(ctx)
	parsed := make([]webhook.Event, 0, len(evs))
	handled := make([]*store.ZoomWebhook, 0, len(evs))
	for _, ev := range evs {
		e, err := webhook.Parse(ev.Body)
		if err != nil {
			if err := w.failed(record, l, ev, err); err != nil {
				return err
			}
			continue
		}
		parsed, handled = append(parsed, e), append(handled, ev)
	}
	errs := w.callBatch(ctx, h, parsed)
	var done []int64
	for i, ev := range handled {
		if errs[i] == nil {
			done = append(done, ev.ID)
			continue
		}
		if err := w.failed(record, l, ev, errs[i]); err != nil {
			return err
		}
	}
	return w.Store.MarkZoomWebhooksDone(record, l, zoompolicy.WebhookProcessed, done)
}

// failed records a handler's error: the event is retried with backoff, or
// marked failed after MaxAttempts or at once for a permanent error.
func (w *ProcessZoomWebhooksWorker) failed(ctx context.Context, l store.Lease, ev *store.ZoomWebhook, err error) error {
	attempt := ev.Attempts + 1
	var perm permanentError
	final := attempt >= w.Options.MaxAttempts || errors.As(err, &perm) || errors.Is(err, webhook.ErrMalformedEvent)
	wait := backoff(w.Options.RetryBase, w.Options.RetryMax, attempt)
	w.Log.Warn("zoom webhook: handler failed", "id", ev.ID, "event", ev.Event, "attempt", attempt,
		"final", final, "retry_in", wait, "err", err)
	reason := err.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	status := zoompolicy.WebhookPending
	if final {
		status = zoompolicy.WebhookFailed
	}
	return w.Store.MarkZoomWebhook(ctx, l, ev.ID, status, reason, w.Now().Add(wait))
}

// callBatch runs a batch handler, turning a panic, or an answer of the
// wrong length, into every event's error.
func (w *ProcessZoomWebhooksWorker) callBatch(ctx context.Context, h WebhookBatchHandler, es []webhook.Event) (errs []error) {
	all := func(err error) []error {
		errs := make([]error, len(es))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	defer func() {
		if r := recover(); r != nil {
			errs = all(fmt.Errorf("batch handler panicked: %v", r))
		}
	}()
	if len(es) == 0 {
		return nil
	}
	errs = h(ctx, es)
	if len(errs) != len(es) {
		return all(fmt.Errorf("batch handler answered %d outcomes for %d events", len(errs), len(es)))
	}
	return errs
}

// call runs a handler, turning a panic into an error so one bad event does
// not stop the others.
func (w *ProcessZoomWebhooksWorker) call(ctx context.Context, h WebhookHandler, e webhook.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, e)
}
