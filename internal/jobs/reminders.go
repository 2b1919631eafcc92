package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/event"
	"kaisai/internal/store"
)

// Reminders (DESIGN.md §9): a periodic job writes the outbox rows of every
// reminder due (store.WriteDueReminders); the mail worker sends them. The
// rows are unique per application, 日程, reminder and start time, so runs
// that overlap, rerun after a crash or run on several instances write each
// once.

// ReminderOptions tune the reminder job; the zero value of each field is its
// default. Tests shorten them.
type ReminderOptions struct {
	// Sweep is how often the job looks for due reminders (30 s).
	Sweep time.Duration
	// Grace is how long after its moment a reminder is still written
	// (event.ReminderGrace).
	Grace time.Duration
}

func (o ReminderOptions) withDefaults() ReminderOptions {
	if o.Sweep <= 0 {
		o.Sweep = 30 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = event.ReminderGrace
	}
	return o
}

// WriteRemindersArgs asks for the due reminders to be written to the outbox.
type WriteRemindersArgs struct{}

// Kind names the job in River's table.
func (WriteRemindersArgs) Kind() string { return "write_reminders" }

// InsertOpts: one run at a time is enough; the outbox's unique index keeps
// two that overlap (across instances) from writing a reminder twice.
func (WriteRemindersArgs) InsertOpts() river.InsertOpts { return drainJobOpts() }

// WriteRemindersWorker writes due reminders.
type WriteRemindersWorker struct {
	river.WorkerDefaults[WriteRemindersArgs]
	Store   *store.Store
	Options ReminderOptions // with defaults applied
	Log     *slog.Logger
}

// Work writes the reminders due now.
func (w *WriteRemindersWorker) Work(ctx context.Context, job *river.Job[WriteRemindersArgs]) error {
	n, err := w.Store.WriteDueReminders(ctx, w.Options.Grace)
	if n > 0 {
		w.Log.Info("reminders written", "mails", n)
	}
	return err
}
