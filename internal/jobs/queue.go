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

	"kaisai/internal/store"
)

// Client is River's client over database/sql, the same type on both databases.
type Client = river.Client[*sql.Tx]

// NewClient builds the River client with every worker and periodic job.
func NewClient(st *store.Store, log *slog.Logger, now func() time.Time) (*Client, error) {
	var driver riverdriver.Driver[*sql.Tx]
	cfg := &river.Config{
		Logger:  log.With("component", "river"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		Workers: river.NewWorkers(),
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
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
	river.AddWorker(cfg.Workers, &CleanupWorker{Store: st, Now: now})
	c, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return c, nil
}
