package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/payflow"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// Payments (DESIGN.md §8). The intake (POST /webhooks/stripe/{connection})
// stores a verified Stripe event and answers 200; ProcessStripeWebhooks,
// nudged after that commit and swept periodically, applies the stored
// events through payflow. Payments, nudged when an application is
// cancelled with a session open and swept periodically, cancels what is
// unpaid past its 支払期限 and reads back the sessions a lost webhook could
// leave behind. Both are at-least-once: what they apply is idempotent
// (store.ObservePayment, store.CancelOverdue).

// PaymentConfig is the payments' part of Config; nil Flow: payments off.
type PaymentConfig struct {
	Flow *payflow.Flow
	// WebhookNudger and Nudger start the two jobs after a commit; their
	// Stopping tells a running job that kaisai stops.
	WebhookNudger *Nudger
	Nudger        *Nudger
	Options       PaymentOptions
}

// PaymentOptions tune the payment jobs; the zero value of each field is
// its default. Tests shorten them.
type PaymentOptions struct {
	Webhooks WebhookOptions // the stored events' processing (as Zoom's)
	// Sweep is how often the payments job runs unnudged (30 s).
	Sweep time.Duration
	// Batch is how many applications or sessions a run takes at once (100).
	Batch int
}

func (o PaymentOptions) withDefaults() PaymentOptions {
	o.Webhooks = o.Webhooks.withDefaults()
	if o.Sweep <= 0 {
		o.Sweep = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	return o
}

// ProcessStripeWebhooksArgs asks for every due stored Stripe event to be
// applied.
type ProcessStripeWebhooksArgs struct{}

// Kind names the job in River's table.
func (ProcessStripeWebhooksArgs) Kind() string { return "process_stripe_webhooks" }

// InsertOpts make the job unique while it waits or runs.
func (ProcessStripeWebhooksArgs) InsertOpts() river.InsertOpts { return drainJobOpts() }

// NewStripeWebhookNudger makes the nudger of ProcessStripeWebhooks.
func NewStripeWebhookNudger(every time.Duration) *Nudger {
	return NewNudger(every, ProcessStripeWebhooksArgs{})
}

// ProcessStripeWebhooksWorker drains stripe_webhook_events.
type ProcessStripeWebhooksWorker struct {
	river.WorkerDefaults[ProcessStripeWebhooksArgs]
	Store    *store.Store
	Flow     *payflow.Flow
	Options  WebhookOptions
	Now      func() time.Time
	Log      *slog.Logger
	Stopping <-chan struct{}
	Wake     *Nudger
}

// Timeout lets a run go on past River's default minute (see RunBudget).
func (w *ProcessStripeWebhooksWorker) Timeout(*river.Job[ProcessStripeWebhooksArgs]) time.Duration {
	return w.Options.RunBudget + 5*time.Minute
}

// Work applies events until none is due.
func (w *ProcessStripeWebhooksWorker) Work(ctx context.Context, job *river.Job[ProcessStripeWebhooksArgs]) error {
	if w.Flow == nil {
		return nil // payments off: events stay stored
	}
	if ok, err := w.Store.StripeWebhooksDue(ctx); err != nil || !ok {
		if err != nil {
			return err
		}
		return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextStripeWebhookDue)
	}
	err := leased(ctx, w.Store, job.Kind, w.Options.Lease, w.Log, func(ctx context.Context, l store.Lease) error {
		return drain(ctx, w.Stopping, w.Options.RunBudget, w.Store.StripeWebhooksDue, func(ctx context.Context) (int, error) {
			events, err := w.Store.ClaimStripeWebhooks(ctx, l, w.Options.Batch)
			if err != nil {
				return 0, err
			}
			return len(events), w.applyBatch(ctx, l, events)
		})
	})
	if err != nil {
		return err
	}
	return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextStripeWebhookDue)
}

// applyBatch reads what each claimed event says and applies them all in
// one transaction (store.ApplyStripeEvents). An event that cannot be read
// is failed at once (its body will not change); if the batch cannot be
// applied, each event is applied on its own, with its own retries.
func (w *ProcessStripeWebhooksWorker) applyBatch(ctx context.Context, l store.Lease, events []store.StripeWebhook) error {
	record := context.WithoutCancel(ctx)
	batch := make([]store.StripeEventObservation, 0, len(events))
	held := make([]*store.StripeWebhook, 0, len(events))
	for i := range events {
		ev := &events[i]
		o, err := w.Flow.Observe(ctx, *ev)
		if err != nil {
			if err := w.failed(record, l, ev, Permanent(err)); err != nil {
				return err
			}
			continue
		}
		var refunds []store.RefundObservation
		if o == nil {
			if refunds, err = w.Flow.ObserveRefunds(ctx, *ev); err != nil {
				// Stripe could not be asked (charge.refunded reads back):
				// retried with the event's backoff.
				if err := w.failed(record, l, ev, err); err != nil {
					return err
				}
				continue
			}
		}
		batch = append(batch, store.StripeEventObservation{WebhookID: ev.ID, ConnectionID: ev.ConnectionID,
			Observation: o, Refunds: refunds})
		held = append(held, ev)
	}
	if len(batch) == 0 {
		return nil
	}
	res, err := w.Store.ApplyStripeEvents(record, l, batch)
	if err == nil {
		for _, r := range res {
			w.Flow.LogObserved(r)
		}
		return nil
	}
	if errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	w.Log.Warn("stripe webhook: batch not applied, one at a time", "events", len(batch), "err", err)
	for _, ev := range held {
		if err := w.process(ctx, l, ev); err != nil {
			return err
		}
	}
	return nil
}

// process applies one event and records the outcome: processed, ignored
// (nothing kaisai knows), or retried with backoff and failed after
// MaxAttempts. Payloads hold e-mail addresses: only ids are logged.
func (w *ProcessStripeWebhooksWorker) process(ctx context.Context, l store.Lease, ev *store.StripeWebhook) error {
	record := context.WithoutCancel(ctx)
	handled, err := w.Flow.HandleEvent(ctx, *ev)
	if err == nil {
		status := zoompolicy.WebhookProcessed
		if !handled {
			status = zoompolicy.WebhookIgnored
		}
		return w.Store.MarkStripeWebhook(record, l, ev.ID, status, "", time.Time{})
	}
	return w.failed(record, l, ev, err)
}

// failed records a failure to apply an event: retried with backoff, or
// marked failed after MaxAttempts or at once for a permanent error.
func (w *ProcessStripeWebhooksWorker) failed(record context.Context, l store.Lease, ev *store.StripeWebhook, err error) error {
	attempt := ev.Attempts + 1
	var perm permanentError
	final := attempt >= w.Options.MaxAttempts || errors.As(err, &perm)
	wait := backoff(w.Options.RetryBase, w.Options.RetryMax, attempt)
	w.Log.Warn("stripe webhook: failed", "id", ev.ID, "event", ev.Type, "stripe_event", ev.EventID,
		"attempt", attempt, "final", final, "retry_in", wait, "err", err)
	reason := err.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	status := zoompolicy.WebhookPending
	if final {
		status = zoompolicy.WebhookFailed
	}
	return w.Store.MarkStripeWebhook(record, l, ev.ID, status, reason, w.Now().Add(wait))
}

// PaymentsArgs asks for overdue applications to be cancelled and for the
// sessions a lost webhook could leave behind to be read back.
type PaymentsArgs struct{}

// Kind names the job in River's table.
func (PaymentsArgs) Kind() string { return "payments" }

// InsertOpts make the job unique while it waits or runs.
func (PaymentsArgs) InsertOpts() river.InsertOpts { return drainJobOpts() }

// NewPaymentsNudger makes the nudger of the payments job.
func NewPaymentsNudger(every time.Duration) *Nudger { return NewNudger(every, PaymentsArgs{}) }

// PaymentsWorker runs payflow's CancelOverdue and Sweep.
type PaymentsWorker struct {
	river.WorkerDefaults[PaymentsArgs]
	Store    *store.Store
	Flow     *payflow.Flow
	Options  PaymentOptions
	Now      func() time.Time
	Log      *slog.Logger
	Stopping <-chan struct{}
	Wake     *Nudger
}

// Timeout bounds a run: each read-back is one call to Stripe.
func (w *PaymentsWorker) Timeout(*river.Job[PaymentsArgs]) time.Duration { return 5 * time.Minute }

// Work cancels what is overdue and reads back what needs it, a batch at a
// time until nothing is left; then it wakes at the next 支払期限 if that
// comes before the sweep.
func (w *PaymentsWorker) Work(ctx context.Context, job *river.Job[PaymentsArgs]) error {
	if w.Flow == nil {
		return nil
	}
	for !stopped(ctx, w.Stopping) {
		n, err := w.Flow.CancelOverdue(ctx, w.Options.Batch)
		if err != nil {
			return err
		}
		if n < w.Options.Batch {
			break
		}
	}
	// A session Stripe cannot be asked about now is tried again at the
	// next sweep; its error is recorded on its row.
	if _, err := w.Flow.Sweep(ctx, w.Options.Batch); err != nil {
		w.Log.Warn("payments: sweep", "err", err)
	}
	// Refunds whose create got no answer are asked again with their key;
	// refunds pending too long are read back.
	if _, err := w.Flow.SweepRefunds(ctx, w.Options.Batch); err != nil {
		w.Log.Warn("payments: refunds sweep", "err", err)
	}
	return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextPaymentDue)
}
