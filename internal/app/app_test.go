package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/eventually"
	"kaisai/internal/testdb"
)

// TestRiverRunsJobs proves the job queue is wired on both databases: the
// periodic cleanup job, enqueued at start, is worked to completion.
func TestRiverRunsJobs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := apptest.Start(t, db)
		eventually.True(t, "the cleanup job to be completed", func() bool {
			var n int
			err := a.Store.WriteDB().QueryRowContext(context.Background(),
				`SELECT COUNT(*) FROM river_job WHERE kind = 'cleanup' AND state = 'completed'`).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n > 0
		})
	})
}

// TestInstancesStartTogetherOnOnePostgres starts three kaisai instances at
// once on one empty PostgreSQL database: migrations run once, under a lock,
// and every instance serves.
func TestInstancesStartTogetherOnOnePostgres(t *testing.T) {
	db := testdb.Postgres(t)
	const n = 3
	apps := make([]*app.App, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { apps[i] = apptest.Start(t, db) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, a := range apps {
		resp, err := http.Get(a.URL() + "/readyz")
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("instance %d /readyz = %d", i, resp.StatusCode)
		}
	}
	// goose recorded each migration once.
	var applied, distinct int
	err := apps[0].Store.WriteDB().QueryRowContext(context.Background(),
		`SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version WHERE is_applied`).Scan(&applied, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if applied != distinct {
		t.Errorf("goose_db_version has %d applied rows for %d versions: a migration ran twice", applied, distinct)
	}
}
