package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kaisai/internal/event"
	"kaisai/internal/mail"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// Mail delivery (DESIGN.md §7): the change that owes a participant a mail
// writes an outbox row in its own transaction; no job is inserted per mail.
// One DeliverMail job at a time drains the outbox. After a commit that wrote
// mail, the store calls MailNudger.Nudge, which inserts that job at most
// every MailOptions.Nudge; a periodic job inserts it too, so mail committed
// just before a crash is delivered after the restart.
//
// Each mail is claimed under the run's lease (see leased), so no two
// workers (on any instance) send it at once, and marked sent right after
// the server accepted it. A crash between the server's acceptance and that
// mark sends the mail again once the lease runs out, with the same
// Message-ID, so the receiving side can tell it is the same mail: SMTP
// allows no better than at-least-once.

// MailOptions tune delivery; the zero value of each field is its default.
// Tests shorten them.
type MailOptions struct {
	Batch       int           // mails claimed at once (50)
	Lease       time.Duration // how long a dead worker's mail stays held (store.DefaultLeaseTTL); renewed while it works
	RetryBase   time.Duration // wait before the first retry, doubled for each later one (30 s)
	RetryMax    time.Duration // longest wait between attempts (1 h)
	MaxAttempts int           // attempts before a mail is given up as 送信失敗 (10)
	Sweep       time.Duration // how often the periodic job looks for due mail (15 s)
	Nudge       time.Duration // at most one job insert per this, however many commits (100 ms)
	RunBudget   time.Duration // a job run stops claiming after this and is snoozed to go on (1 min)
}

func (o MailOptions) withDefaults() MailOptions {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Batch <= 0 {
		o.Batch = 50
	}
	def(&o.Lease, store.DefaultLeaseTTL)
	def(&o.RetryBase, 30*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.Sweep, 15*time.Second)
	def(&o.Nudge, 100*time.Millisecond)
	def(&o.RunBudget, time.Minute)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	return o
}

// DeliverMailArgs asks for every due mail in the outbox to be delivered.
type DeliverMailArgs struct{}

// Kind names the job in River's table.
func (DeliverMailArgs) Kind() string { return "deliver_mail" }

// InsertOpts make the job unique while it waits or runs: a thousand nudges
// while one is queued add nothing. Completed (and retryable) jobs do not
// count, so the next nudge after a run inserts a new one. A failed run is not
// retried by River: the sweep inserts a new one soon enough.
func (DeliverMailArgs) InsertOpts() river.InsertOpts { return drainJobOpts() }

// drainJobOpts are the insert options of the jobs that drain a table of
// leased rows (mail, webhook events): unique while one waits or runs, per
// uniquePeriod. A job left "running" by a killed process counts as running
// until River rescues it (10 minutes); the period bounds how long it can
// block its successor. Two runs that overlap at a period's turn are
// harmless: each claims its rows under a lease.
func drainJobOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByPeriod: uniquePeriod, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// uniquePeriod is the period of drainJobOpts' uniqueness: as long as a
// dead worker's lease lives, so that after a crash the next run is let in
// when the dead worker's rows are free, not later.
const uniquePeriod = store.DefaultLeaseTTL

// DeliverMailWorker drains the outbox: it claims due mails in batches,
// renders and sends each, and records the outcome, until none is due.
type DeliverMailWorker struct {
	river.WorkerDefaults[DeliverMailArgs]
	Store    *store.Store
	Renderer *mail.Renderer
	// Transport sends mail; nil keeps it in the dev outbox (status kept).
	Transport mail.Transport
	Options   MailOptions // with defaults applied
	Now       func() time.Time
	Log       *slog.Logger
	// Stopping is closed when kaisai shuts down: the worker finishes the
	// mail in hand and gives back the rest of its batch.
	Stopping <-chan struct{}
	// Wake runs the job again when the next mail is due (a retry, a dead
	// worker's lease running out); nil: the sweep does.
	Wake *Nudger
	// RegistrantWait is how long a mail that carries a join URL waits for
	// its participant's Zoom registration (DefaultRegistrantWait when zero).
	RegistrantWait time.Duration
}

// Timeout lets a run go on past River's default minute: RunBudget bounds
// the claiming, and the mail in hand may take a connect and a send. Past
// it, the rest of the batch is given back.
func (w *DeliverMailWorker) Timeout(*river.Job[DeliverMailArgs]) time.Duration {
	timeout := time.Minute
	if w.Transport != nil {
		timeout = w.Transport.Timeout()
	}
	return w.Options.RunBudget + 4*timeout
}

// Work delivers until nothing is due; past its budget, or when kaisai
// stops, it snoozes the job so that it goes on at once (or at the next start).
func (w *DeliverMailWorker) Work(ctx context.Context, job *river.Job[DeliverMailArgs]) error {
	if ok, err := w.Store.MailDue(ctx); err != nil || !ok {
		if err != nil {
			return err
		}
		return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextMailDue) // an idle sweep costs no write
	}
	err := leased(ctx, w.Store, job.Kind, w.Options.Lease, w.Log, func(ctx context.Context, l store.Lease) error {
		return drain(ctx, w.Stopping, w.Options.RunBudget, w.Store.MailDue, func(ctx context.Context) (int, error) {
			mails, err := w.Store.ClaimMail(ctx, l, w.Options.Batch)
			if err != nil || len(mails) == 0 {
				return 0, err
			}
			if err := w.deliver(ctx, l, mails); err != nil {
				return 0, err
			}
			if len(mails) < w.Options.Batch {
				// Mail trickling in (applications under load): let some gather,
				// so that a claim and a record serve many mails, not one each.
				w.pause(ctx, w.Options.Nudge)
			}
			return len(mails), nil
		})
	})
	if err != nil {
		return err
	}
	return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextMailDue)
}

func (w *DeliverMailWorker) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.Stopping:
	case <-ctx.Done():
	}
}

func (w *DeliverMailWorker) deliver(ctx context.Context, l store.Lease, mails []store.OutgoingMail) error {
	// Whatever happens to the job's context, what was sent is recorded.
	record := context.WithoutCancel(ctx)
	mails, err := w.holdForRegistrants(ctx, l, mails)
	if err != nil || len(mails) == 0 {
		return err
	}
	// Participants registered on a Zoom meeting get their own join URL.
	personal, err := mail.PersonalJoinURLs(ctx, w.Store, mails)
	if err != nil {
		return err
	}
	if w.Transport == nil {
		kept := make([]store.DeliveredMail, len(mails))
		for i := range mails {
			m := w.Renderer.RenderFor(&mails[i], personal[mails[i].Application.ID], w.Now())
			kept[i] = store.DeliveredMail{ID: mails[i].ID, Status: event.MailKept, To: m.To.Address,
				Subject: m.Subject, Body: m.Body}
		}
		return w.Store.MarkMailsDelivered(record, l, kept)
	}

	var sess mail.Session
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	var openErr error
	for i := range mails {
		om := &mails[i]
		if openErr == nil && stopped(ctx, w.Stopping) {
			rest := make([]int64, 0, len(mails)-i)
			for _, m := range mails[i:] {
				rest = append(rest, m.ID)
			}
			return w.Store.ReleaseMail(record, l, rest)
		}
		m := w.Renderer.RenderFor(om, personal[om.Application.ID], w.Now())
		if openErr != nil {
			// The server could not be reached: every mail of the batch
			// waits for its next attempt rather than dialling again.
			if err := w.failed(record, l, om, openErr); err != nil {
				return err
			}
			continue
		}
		if sess == nil {
			if sess, openErr = w.Transport.Open(ctx); openErr != nil {
				sess = nil
				w.Log.Warn("mail: cannot reach the SMTP server", "err", openErr)
				if err := w.failed(record, l, om, openErr); err != nil {
					return err
				}
				continue
			}
		}
		if err := sess.Send(&m); err != nil {
			// The connection may be unusable now: the next mail opens another.
			sess.Close()
			sess = nil
			if err := w.failed(record, l, om, err); err != nil {
				return err
			}
			continue
		}
		if err := w.Store.MarkMailDelivered(record, l, om.ID, event.MailSent, m.To.Address, m.Subject, m.Body); err != nil {
			// Sent but not recorded: the mail goes again, with the same
			// Message-ID, once the lease ends. Stop rather than go on.
			w.Log.Error("mail: sent but not recorded", "mail", om.ID, "message_id", om.MessageID, "err", err)
			return err
		}
	}
	return nil
}

// failed records a failed attempt: retried with exponential backoff, given
// up after MaxAttempts or at once when the server refuses the recipient.
func (w *DeliverMailWorker) failed(ctx context.Context, l store.Lease, m *store.OutgoingMail, cause error) error {
	attempt := m.Attempts + 1
	var rejected *mail.RejectedError
	final := attempt >= w.Options.MaxAttempts || errors.As(cause, &rejected)
	wait := backoff(w.Options.RetryBase, w.Options.RetryMax, attempt)
	reason := cause.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	w.Log.Warn("mail: delivery failed", "mail", m.ID, "kind", m.Kind, "attempt", attempt, "final", final,
		"retry_in", wait, "err", cause)
	return w.Store.MarkMailFailed(ctx, l, m.ID, reason, w.Now().Add(wait), final)
}

// MailNudger nudges DeliverMail after commits that wrote mail.
type MailNudger = Nudger

// NewMailNudger makes a nudger that inserts DeliverMail at most once per
// every (0: 100 ms).
func NewMailNudger(every time.Duration) *MailNudger {
	return NewNudger(every, DeliverMailArgs{})
}

// DefaultRegistrantWait is how long a participant's mail that carries the
// join URL waits for their Zoom registration (a personal join URL) before
// it goes out saying the URL will be on the application page;
// registrantPoll is how often it looks again.
const (
	DefaultRegistrantWait = 2 * time.Minute
	registrantPoll        = time.Second
)

// holdForRegistrants gives back, for a moment, the mails that would carry a
// join URL to a participant about to be registered on a meeting with 登録
// (the sync is usually done within a second), so that the mail carries the
// personal URL rather than a promise of it. It returns the mails to send now.
func (w *DeliverMailWorker) holdForRegistrants(ctx context.Context, l store.Lease, mails []store.OutgoingMail) ([]store.OutgoingMail, error) {
	var ids []int64
	for i := range mails {
		if w.awaitsRegistrant(&mails[i]) {
			ids = append(ids, mails[i].Application.ID)
		}
	}
	if len(ids) == 0 {
		return mails, nil
	}
	regs, err := w.Store.ApplicationRegistrantsUnscoped(ctx, ids)
	if err != nil {
		return nil, err
	}
	var now []store.OutgoingMail
	var later []int64
	for _, m := range mails {
		r, known := regs[m.Application.ID]
		settled := known && r.Status.Answered()
		if w.awaitsRegistrant(&m) && !settled {
			later = append(later, m.ID)
			continue
		}
		now = append(now, m)
	}
	if err := w.Store.PostponeMail(context.WithoutCancel(ctx), l, later, w.Now().Add(min(registrantPoll, w.wait()))); err != nil {
		return nil, err
	}
	return now, nil
}

// awaitsRegistrant reports whether m is a participant's mail with a join
// URL for a meeting with 登録, young enough to wait for the registration.
func (w *DeliverMailWorker) awaitsRegistrant(m *store.OutgoingMail) bool {
	if m.Member != nil || m.Group.Venue != event.VenueZoom || w.Now().Sub(m.CreatedAt) > w.wait() {
		return false
	}
	switch m.Kind {
	case event.MailApplied, event.MailPaid, event.MailPromoted:
	default:
		return false
	}
	return zoompolicy.JoinAccess(zoompolicy.Of(m.Group.Zoom), &m.Event, &m.Application, false) == zoompolicy.PendingURL
}

func (w *DeliverMailWorker) wait() time.Duration {
	if w.RegistrantWait > 0 {
		return w.RegistrantWait
	}
	return DefaultRegistrantWait
}
