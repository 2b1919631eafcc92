package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/jobs"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomsim"
)

// zoomsyncConfig is the flags of `kaisai-bench zoomsync`.
type zoomsyncConfig struct {
	N           int // applications marked 入金済 at once
	Markers     int // goroutines marking them
	Idle        int // single applications timed after the big run
	PostgresURL string
	Verbose     bool
}

func parseZoomsyncFlags(args []string, stderr io.Writer) (zoomsyncConfig, error) {
	fs := flag.NewFlagSet("kaisai-bench zoomsync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c zoomsyncConfig
	fs.IntVar(&c.N, "n", jobs.MaxRegistrants, "applications marked 入金済 at once (at most Zoom's 4,999 registrants a meeting)")
	fs.IntVar(&c.Markers, "markers", 32, "goroutines marking them")
	fs.IntVar(&c.Idle, "idle", 20, "single applications marked 入金済 one at a time afterwards, for the idle latency")
	fs.StringVar(&c.PostgresURL, "postgres", "", "postgres:// URL of a server whose user may create databases; empty means SQLite")
	fs.BoolVar(&c.Verbose, "verbose", false, "show kaisai's and the simulator's log on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai-bench zoomsync [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("zoomsync: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.N < 1 || c.N > jobs.MaxRegistrants:
		return c, fmt.Errorf("-n must be between 1 and %d", jobs.MaxRegistrants)
	case c.Markers < 1 || c.Markers > 1024:
		return c, errors.New("--markers must be between 1 and 1024")
	case c.Idle < 1 || c.Idle > 1000:
		return c, errors.New("--idle must be between 1 and 1000")
	}
	return c, nil
}

// zoomsyncResult is what the last line reports.
type zoomsyncResult struct {
	Registrants int           // approved registrants of the big run's meeting at the end
	Elapsed     time.Duration // from the first 入金済 to the last registrant approved on Zoom
	Min         time.Duration // the least time Zoom's limits allow (minSyncTime)
	Duplicates  int           // registrants beyond one per e-mail
	Lost        int           // eligible applications without an approved registrant
	HTTP429     int           // 429 answers kaisai got from Zoom
}

func (r zoomsyncResult) ratio() float64 {
	if r.Min <= 0 {
		return 0
	}
	return r.Elapsed.Seconds() / r.Min.Seconds()
}

// Line is the result line, exactly:
//
//	zoomsync registrants=<n> seconds=<> min_seconds=<> ratio=<seconds/min_seconds> duplicates=<> lost=<> http429=<>
func (r zoomsyncResult) Line() string {
	return fmt.Sprintf("zoomsync registrants=%d seconds=%.2f min_seconds=%.2f ratio=%.3f duplicates=%d lost=%d http429=%d",
		r.Registrants, r.Elapsed.Seconds(), r.Min.Seconds(), r.ratio(), r.Duplicates, r.Lost, r.HTTP429)
}

// batchAddCategory is the Rate Limit Label of addBatchRegistrants (POST
// /meetings/{meetingId}/batch_registrants) in Zoom's spec, as the
// simulator's operation table has it.
const batchAddCategory = zoomsim.Heavy

// minSyncTime is the least time Zoom's limits allow for registering n
// people: they take ceil(n/30) batch adds (30 a call, zoom.MaxBatchRegistrants),
// and the account's plan allows R of them per second (Pro: Heavy, 10/s), so
//
//	min = ceil(n/30) / R seconds        (4,999 → 167 calls / 10/s = 16.7 s)
//
// Every other call (reading Zoom's list first, the network, the database)
// is left out. Zoom counts in fixed one-second windows, so a run that
// starts late in a window can finish up to a second sooner than this.
func minSyncTime(n int, plan zoomsim.Plan) time.Duration {
	calls := (n + zoom.MaxBatchRegistrants - 1) / zoom.MaxBatchRegistrants
	rate := zoomsim.ZoomLimits().Plans[plan].Rate[batchAddCategory]
	return time.Duration(float64(calls) / float64(rate.N) * float64(rate.Per))
}

// benchZoomsync is `kaisai-bench zoomsync`.
func benchZoomsync(ctx context.Context, cfg zoomsyncConfig, stdout, stderr io.Writer) (err error) {
	dbKind := "sqlite"
	if cfg.PostgresURL != "" {
		dbKind = "postgres"
	}
	fmt.Fprintf(stdout, "kaisai-bench zoomsync: %d applications marked 入金済 by %d goroutines, then %d one at a time; %s, GOMAXPROCS=%d\n",
		cfg.N, cfg.Markers, cfg.Idle, dbKind, runtime.GOMAXPROCS(0))
	w, err := startZoomWorld(ctx, worldConfig{Name: "zoomsync", PostgresURL: cfg.PostgresURL, Verbose: cfg.Verbose}, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.close(ctx, stdout); cerr != nil && err == nil {
			err = cerr
		}
	}()
	st := w.app.Store

	// A paid event whose one Zoom group (登録 on, the licensed host) has two
	// schedules: the big run's and the idle one's, each its own meeting.
	setupCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ze, err := w.createZoomEvent(setupCtx, event.Event{Title: "Zoom登録ベンチ", Fee: event.FeePaid, PriceJPY: 3000},
		event.ZoomSettings{Passcode: "abc123", WaitingRoom: true, Registration: true}, 2)
	if err != nil {
		return err
	}
	org, e := ze.OrgID, &ze.Event
	big, idle := ze.Schedules[0].ID, ze.Schedules[1].ID

	apps, err := applyMany(setupCtx, st, e, big, "big", cfg.N, cfg.Markers)
	if err != nil {
		return err
	}
	zoomIDs, err := w.waitMeetings(setupCtx, ze)
	if err != nil {
		return err
	}
	if n := w.registrantCount(zoomIDs[big]); n != 0 {
		return fmt.Errorf("%d registrants on Zoom before anything was paid", n)
	}
	fmt.Fprintf(stdout, "kaisai %s on %s: event %d, %d applications (未入金) to schedule %d, meeting %d; idle schedule %d, meeting %d\n",
		w.app.URL(), st.Dialect(), e.ID, len(apps), big, zoomIDs[big], idle, zoomIDs[idle])

	// The big run: everyone 入金済 at once; the clock starts with the
	// marking and stops when Zoom has them all approved.
	began := time.Now()
	marked, err := markPaid(ctx, st, org, e.ID, apps, cfg.Markers)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "marked %d 入金済 in %.2fs\n", len(apps), marked.Seconds())
	runCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var elapsed time.Duration
	err = poll(runCtx, 100*time.Millisecond, "every registrant on Zoom", func() (bool, error) {
		if w.registrantCount(zoomIDs[big]) < len(apps) {
			return false, nil
		}
		approved, _ := w.registrants(zoomIDs[big])
		elapsed = time.Since(began)
		return len(approved) >= len(apps), nil
	})
	if err != nil {
		return err
	}
	res := zoomsyncResult{Elapsed: elapsed, Min: minSyncTime(len(apps), zoomsim.PlanPro)}
	_, calls := w.calls.snapshot()
	reportPacing(stdout, calls, began.Sub(w.calls.zero))

	// Idle latency: one more application at a time, to the other meeting.
	lat, err := idleLatency(ctx, w, e, idle, zoomIDs[idle], cfg.Idle)
	if err != nil {
		return err
	}
	slices.Sort(lat)
	fmt.Fprintf(stdout, "idle: %d single 入金済 → registrant on Zoom: p50=%s p95=%s max=%s (target p95 ≤ 2s)\n",
		len(lat), ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(lat[len(lat)-1]))

	// Let anything still in flight land, then count on Zoom's side.
	settle, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := poll(settle, 100*time.Millisecond, "the registrant lists to settle", func() (bool, error) {
		return w.listsIdle(settle)
	}); err != nil {
		return err
	}
	for _, c := range []struct {
		zoomID int64
		want   int
		prefix string
	}{{zoomIDs[big], len(apps), "big"}, {zoomIDs[idle], cfg.Idle, "idle"}} {
		approved, perEmail := w.registrants(c.zoomID)
		for _, k := range perEmail {
			res.Duplicates += k - 1
		}
		for i := range c.want {
			if !approved[benchEmail(c.prefix, i)] {
				res.Lost++
			}
		}
		if c.zoomID == zoomIDs[big] {
			res.Registrants = len(approved)
		}
	}
	res.HTTP429, _ = w.calls.snapshot()
	fmt.Fprintln(stdout, res.Line())
	if res.Duplicates > 0 || res.Lost > 0 {
		return fmt.Errorf("zoomsync: %d duplicates, %d lost", res.Duplicates, res.Lost)
	}
	return nil
}

// benchEmail is the e-mail of the i-th applicant of a run.
func benchEmail(prefix string, i int) string {
	return fmt.Sprintf("%s-%05d@bench.example.com", prefix, i)
}

// applyMany makes n applications (未入金) to a schedule through the store,
// from workers goroutines.
func applyMany(ctx context.Context, st storeApplier, e *event.Event, scheduleID int64, prefix string, n, workers int) ([]event.Application, error) {
	apps := make([]event.Application, n)
	var next atomic.Int64
	var mu sync.Mutex
	var errs error
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				a, err := applyOne(ctx, st, e, scheduleID, prefix, i)
				if err != nil {
					mu.Lock()
					errs = errors.Join(errs, err)
					mu.Unlock()
					return
				}
				apps[i] = a
			}
		})
	}
	wg.Wait()
	if errs == nil {
		errs = ctx.Err()
	}
	return apps, errs
}

func applyOne(ctx context.Context, st storeApplier, e *event.Event, scheduleID int64, prefix string, i int) (event.Application, error) {
	res, err := st.Apply(ctx, e, event.ApplicationInput{ScheduleID: scheduleID, Name: fmt.Sprintf("参加者 %s %d", prefix, i),
		Email: benchEmail(prefix, i), SubmitKey: fmt.Sprintf("bench-%s-%06d-submitkey", prefix, i)})
	if err != nil {
		return res.Application, fmt.Errorf("apply %s %d: %w", prefix, i, err)
	}
	if res.Application.Status != event.Applied {
		return res.Application, fmt.Errorf("apply %s %d: status %s, want applied", prefix, i, res.Application.Status)
	}
	return res.Application, nil
}

// markPaid marks every application 入金済 from workers goroutines and
// returns how long that took.
func markPaid(ctx context.Context, st storeApplier, orgID, eventID int64, apps []event.Application, workers int) (time.Duration, error) {
	began := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var errs error
	var wg sync.WaitGroup
	for range min(workers, len(apps)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(apps) || ctx.Err() != nil {
					return
				}
				if err := st.SetPayment(ctx, orgID, eventID, apps[i].ID, 0, event.PaymentPaid); err != nil {
					mu.Lock()
					errs = errors.Join(errs, fmt.Errorf("入金済 %d: %w", apps[i].ID, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if errs == nil {
		errs = ctx.Err()
	}
	return time.Since(began), errs
}

// storeApplier is what the bench does through kaisai's store.
type storeApplier interface {
	Apply(ctx context.Context, e *event.Event, in event.ApplicationInput) (event.ApplyResult, error)
	SetPayment(ctx context.Context, orgID, eventID, id, memberID int64, p event.Payment) error
}

// idleLatency marks n new applications 入金済 one at a time, each once
// kaisai is idle, and times each until its registrant is on Zoom.
func idleLatency(ctx context.Context, w *zoomWorld, e *event.Event, scheduleID, zoomID int64, n int) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(n)*time.Minute)
	defer cancel()
	var lat []time.Duration
	for i := range n {
		a, err := applyOne(ctx, w.app.Store, e, scheduleID, "idle", i)
		if err != nil {
			return nil, err
		}
		if err := poll(ctx, 20*time.Millisecond, "kaisai to be idle", func() (bool, error) { return w.listsIdle(ctx) }); err != nil {
			return nil, err
		}
		// A pause, so the mark does not ride on the application's own sync.
		time.Sleep(200 * time.Millisecond)
		before := w.registrantCount(zoomID)
		began := time.Now()
		if err := w.app.Store.SetPayment(ctx, e.OrgID, e.ID, a.ID, 0, event.PaymentPaid); err != nil {
			return nil, err
		}
		// The simulator's per-meeting count is cheap to read, so it is
		// polled finely here, where 100 ms would be most of the answer.
		if err := poll(ctx, 5*time.Millisecond, "the idle registrant on Zoom", func() (bool, error) {
			return w.registrantCount(zoomID) > before, nil
		}); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(began))
	}
	return lat, nil
}

// reportPacing prints how kaisai's calls to Zoom were spread over the big
// run, which began at offset since the transport's zero.
func reportPacing(out io.Writer, calls []zoomCall, offset time.Duration) {
	var ok, limited int
	var gaps []time.Duration
	retry := map[string]int{}
	others := map[string]int{} // other calls during the run, by shape and status
	firstAt := map[string]time.Duration{}
	var last time.Duration = -1
	var first, end time.Duration
	for _, c := range calls {
		if c.Start < offset {
			continue
		}
		if c.Call != batchAdd {
			k := fmt.Sprintf("%s %d", c.Call, c.Status)
			if others[k] == 0 {
				firstAt[k] = c.Start - offset
			}
			others[k]++
			continue
		}
		if c.Status == http.StatusTooManyRequests {
			limited++
			retry[c.RetryAfter]++
			continue
		}
		if c.Status/100 != 2 {
			others[fmt.Sprintf("%s %d", c.Call, c.Status)]++
			continue
		}
		ok++
		if last >= 0 {
			gaps = append(gaps, c.Start-last)
		} else {
			first = c.Start - offset
		}
		last, end = c.Start, c.End-offset
	}
	fmt.Fprintf(out, "batch adds: %d answered 2xx, %d answered 429 (Retry-After: %v); first sent %s after the run began, last answered at %s\n",
		ok, limited, retry, ms(first), ms(end))
	if len(gaps) > 0 {
		s := summarize(gaps)
		var sum time.Duration
		for _, g := range gaps {
			sum += g
		}
		fmt.Fprintf(out, "time between successful batch adds: mean=%s p50=%s p90=%s max=%s (%.1f adds/s while adding)\n",
			ms(sum/time.Duration(len(gaps))), ms(s.P50), ms(s.P90), ms(s.Max), float64(len(gaps))/math.Max(sum.Seconds(), 1e-9))
	}
	for _, k := range slices.Sorted(maps.Keys(others)) {
		fmt.Fprintf(out, "other calls to Zoom during the run: %d × %s, the first %s after the run began\n",
			others[k], k, ms(firstAt[k]))
	}
}
