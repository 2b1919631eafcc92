package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/store"
)

// CleanupArgs asks for expired sessions and old login failures to be deleted.
type CleanupArgs struct{}

// Kind names the job in River's table.
func (CleanupArgs) Kind() string { return "cleanup" }

// CleanupWorker deletes what has expired.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Store *store.Store
	Now   func() time.Time
}

// Work deletes sessions past their expiry and login failures older than a day.
func (w *CleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	_, err := w.Store.DeleteExpired(ctx, w.Now().Add(-24*time.Hour))
	return err
}
