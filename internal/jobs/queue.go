package jobs

import (
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"kaisai/internal/mail"
	"kaisai/internal/store"
	"kaisai/internal/zoomconn"
)

// Client is River's client over database/sql, the same type on both databases.
type Client = river.Client[*sql.Tx]

// Config is what the workers need.
type Config struct {
	Store *store.Store
	Log   *slog.Logger
	Now   func() time.Time
	Mail  MailConfig
	// Webhooks is the processing of stored Zoom webhook events.
	Webhooks WebhookConfig
	// Meetings is the sync of Zoom meetings with kaisai's events.
	Meetings ZoomMeetingConfig
	// Payments applies Stripe's events and sweeps payments (DESIGN.md §8).
	Payments PaymentConfig
	// Reminders tune the reminders' job (DESIGN.md §9).
	Reminders ReminderOptions
}

// ZoomMeetingConfig is the Zoom meeting sync's part of Config.
type ZoomMeetingConfig struct {
	// Zoom calls Zoom as the organizations' linked users; nil when Zoom
	// is off (due meetings then wait).
	Zoom *zoomconn.Clients
	// Nudger's Stopping tells a running job that kaisai stops; nil: never.
	Nudger  *Nudger
	Options ZoomMeetingOptions
	// RegistrantNudger is the registrant sync's nudger (its Stopping as Nudger's).
	RegistrantNudger *Nudger
	// CheckRegistrants is how often each registrant list is read from Zoom
	// to repair drift (1 h when zero).
	CheckRegistrants time.Duration
	// Reports tune the search for participants reports never read.
	Reports ReportOptions
}

// WebhookConfig is the Zoom webhook processing's part of Config.
type WebhookConfig struct {
	// Handlers by event name; events without one are stored and ignored.
	Handlers WebhookHandlers
	// Batch are the handlers that take several events of their kind at once.
	Batch map[string]WebhookBatchHandler
	// Nudger's Stopping tells a running job that kaisai stops; nil: never.
	Nudger  *Nudger
	Options WebhookOptions
}

// MailConfig is the mail delivery's part of Config.
type MailConfig struct {
	Renderer *mail.Renderer
	// Transport sends mail; nil keeps it in the dev outbox.
	Transport mail.Transport
	// Nudger's Stopping tells a running delivery that kaisai stops.
	Nudger  *MailNudger
	Options MailOptions
	// RegistrantWait: see DeliverMailWorker.
	RegistrantWait time.Duration
}

// NewClient builds the River client with every worker and periodic job.
func NewClient(c Config) (*Client, error) {
	st, log := c.Store, c.Log
	mo := c.Mail.Options.withDefaults()
	mailWorker := &DeliverMailWorker{Store: st, Renderer: c.Mail.Renderer, Transport: c.Mail.Transport,
		Options: mo, Now: c.Now, Log: log.With("component", "mail"), Stopping: c.Mail.Nudger.Stopping(),
		Wake: c.Mail.Nudger, RegistrantWait: c.Mail.RegistrantWait}
	wo := c.Webhooks.Options.withDefaults()
	var webhookStopping <-chan struct{}
	if c.Webhooks.Nudger != nil {
		webhookStopping = c.Webhooks.Nudger.Stopping()
	}
	webhookWorker := &ProcessZoomWebhooksWorker{Store: st, Handlers: c.Webhooks.Handlers, Batch: c.Webhooks.Batch, Options: wo, Now: c.Now,
		Log: log.With("component", "zoom-webhook"), Stopping: webhookStopping, Wake: c.Webhooks.Nudger}
	mto := c.Meetings.Options.withDefaults()
	var meetingStopping <-chan struct{}
	if c.Meetings.Nudger != nil {
		meetingStopping = c.Meetings.Nudger.Stopping()
	}
	meetingWorker := &SyncZoomMeetingsWorker{Store: st, Zoom: c.Meetings.Zoom, Options: mto, Now: c.Now,
		Log: log.With("component", "zoom-meetings"), Stopping: meetingStopping, Wake: c.Meetings.Nudger}
	var regStopping <-chan struct{}
	if c.Meetings.RegistrantNudger != nil {
		regStopping = c.Meetings.RegistrantNudger.Stopping()
	}
	check := c.Meetings.CheckRegistrants
	if check <= 0 {
		check = time.Hour
	}
	regWorker := &SyncZoomRegistrantsWorker{Store: st, Zoom: c.Meetings.Zoom, Options: mto, Check: check, Now: c.Now,
		Log: log.With("component", "zoom-registrants"), Stopping: regStopping, Wake: c.Meetings.RegistrantNudger}
	ro := c.Meetings.Reports.withDefaults()
	po := c.Payments.Options.withDefaults()
	reo := c.Reminders.withDefaults()
	stripeHooks := &ProcessStripeWebhooksWorker{Store: st, Flow: c.Payments.Flow, Options: po.Webhooks, Now: c.Now,
		Log: log.With("component", "stripe-webhook"), Wake: c.Payments.WebhookNudger}
	if c.Payments.WebhookNudger != nil {
		stripeHooks.Stopping = c.Payments.WebhookNudger.Stopping()
	}
	payments := &PaymentsWorker{Store: st, Flow: c.Payments.Flow, Options: po, Now: c.Now,
		Log: log.With("component", "payments"), Wake: c.Payments.Nudger}
	if c.Payments.Nudger != nil {
		payments.Stopping = c.Payments.Nudger.Stopping()
	}
	var driver riverdriver.Driver[*sql.Tx]
	cfg := &river.Config{
		Logger:  log.With("component", "river"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		Workers: river.NewWorkers(),
		// A job left running by a killed process is rescued soon after the
		// longest run could have ended, not after River's default hour.
		// Until then it blocks its unique successor (DeliverMail,
		// ProcessZoomWebhooks) only for the rest of its unique period.
		RescueStuckJobsAfter: max(10*time.Minute, 2*mailWorker.Timeout(nil), 2*webhookWorker.Timeout(nil),
			2*meetingWorker.Timeout(nil), 2*regWorker.Timeout(nil), 2*stripeHooks.Timeout(nil), 2*payments.Timeout(nil)),
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			// The sweep: mail whose nudge was lost (a crash after commit)
			// or whose retry has come due.
			river.NewPeriodicJob(river.PeriodicInterval(mo.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return DeliverMailArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			// The same for stored Zoom webhook events.
			river.NewPeriodicJob(river.PeriodicInterval(wo.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return ProcessZoomWebhooksArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			// And for Zoom meetings due for sync.
			river.NewPeriodicJob(river.PeriodicInterval(mto.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return SyncZoomMeetingsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			// And for registrant lists; and, now and then, Zoom's own lists
			// are read to repair drift.
			river.NewPeriodicJob(river.PeriodicInterval(mto.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return SyncZoomRegistrantsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(max(check/4, time.Second)),
				func() (river.JobArgs, *river.InsertOpts) { return CheckRegistrantsArgs{}, nil }, nil),
			// Reminders due: written to the outbox for the mail worker.
			river.NewPeriodicJob(river.PeriodicInterval(reo.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return WriteRemindersArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			// Reports of meetings whose meeting.ended never came.
			river.NewPeriodicJob(river.PeriodicInterval(ro.Every),
				func() (river.JobArgs, *river.InsertOpts) { return ReadMissedReportsArgs{}, nil }, nil),
		},
	}
	if c.Payments.Flow != nil {
		cfg.PeriodicJobs = append(cfg.PeriodicJobs,
			// Stored Stripe events whose nudge was lost, and the payments'
			// deadlines and read-backs.
			river.NewPeriodicJob(river.PeriodicInterval(po.Webhooks.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return ProcessStripeWebhooksArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(po.Sweep),
				func() (river.JobArgs, *river.InsertOpts) { return PaymentsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if st.Dialect() == store.Postgres {
		driver = riverdatabasesql.New(st.WriteDB())
		// database/sql gives River no LISTEN, so it polls.
		cfg.PollOnly = true
	} else {
		driver = riversqlite.New(st.WriteDB())
		// SQLite has one write connection: poll gently (River wants >= 100ms).
		cfg.PollOnly = true
		cfg.FetchPollInterval = 200 * time.Millisecond
		cfg.FetchCooldown = 100 * time.Millisecond
	}
	river.AddWorker(cfg.Workers, &CleanupWorker{Store: st, Now: c.Now})
	river.AddWorker(cfg.Workers, mailWorker)
	river.AddWorker(cfg.Workers, webhookWorker)
	river.AddWorker(cfg.Workers, meetingWorker)
	river.AddWorker(cfg.Workers, regWorker)
	river.AddWorker(cfg.Workers, stripeHooks)
	river.AddWorker(cfg.Workers, payments)
	river.AddWorker(cfg.Workers, &WriteRemindersWorker{Store: st, Options: reo, Log: log.With("component", "reminders")})
	river.AddWorker(cfg.Workers, &CheckRegistrantsWorker{Store: st, Every: check, Now: c.Now})
	river.AddWorker(cfg.Workers, &ReadMissedReportsWorker{Store: st, Zoom: c.Meetings.Zoom, Options: ro, Now: c.Now,
		Log: log.With("component", "zoom-reports")})
	rc, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return rc, nil
}
