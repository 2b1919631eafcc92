package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/event"
)

// benchApply is `kaisai-bench apply`: kaisai first (setup, capacity check,
// measured run), then, with kaisai stopped, the baseline; the result line
// last.
func benchApply(ctx context.Context, cfg applyConfig, stdout, stderr io.Writer) error {
	dbKind := "sqlite (WAL, synchronous=FULL, one writer connection)"
	if cfg.PostgresURL != "" {
		dbKind = "postgres"
	}
	fmt.Fprintf(stdout, "kaisai-bench apply: %d clients, %s warm-up + %s measured per phase, %s, GOMAXPROCS=%d NumCPU=%d\n",
		cfg.Clients, cfg.Warmup, cfg.Duration, dbKind, runtime.GOMAXPROCS(0), runtime.NumCPU())

	// problems are checks that failed; the measurement is still reported.
	apply, problems, err := runKaisai(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	if apply.Failed > 0 {
		problems = errors.Join(problems, fmt.Errorf("apply: %d iterations failed", apply.Failed))
	}
	res := result{Rate: apply.Rate()}
	post := summarize(apply.PostLatency)
	res.P50, res.P99 = post.P50, post.P99

	if !cfg.SkipBaseline {
		base, err := runBaseline(ctx, cfg, stdout)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		fmt.Fprintf(stdout, "baseline (bare net/http, one INSERT per request): %s\n", base)
		fmt.Fprintf(stdout, "baseline POST latency: %s\n", summarize(base.PostLatency))
		res.BaselineRate = base.Rate()
		if base.Failed > 0 {
			problems = errors.Join(problems, fmt.Errorf("baseline: %d requests failed", base.Failed))
		}
	}
	fmt.Fprintln(stdout, res.Line())
	return problems
}

// runKaisai starts kaisai on a fresh database, sets up the event, runs the
// capacity check and the measured phase, and stops kaisai. problems reports a
// failed check without hiding the measurement.
func runKaisai(ctx context.Context, cfg applyConfig, stdout, stderr io.Writer) (res *loadResult, problems, err error) {
	d, err := newDatabase(ctx, cfg.PostgresURL, "kaisai")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if derr := d.Drop(); derr != nil {
			fmt.Fprintf(stdout, "kaisai: drop database: %v\n", derr)
		}
	}()
	logOut := io.Discard
	if cfg.Verbose {
		logOut = stderr
	}
	a, err := app.New(ctx, app.Config{
		Addr:        "127.0.0.1:0",
		DataDir:     d.DataDir,
		DatabaseURL: d.URL,
		Logger:      slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start kaisai: %w", err)
	}
	if err := a.Start(ctx); err != nil {
		a.Store.Close()
		return nil, nil, fmt.Errorf("start kaisai: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := a.Close(ctx); cerr != nil && err == nil {
			err = fmt.Errorf("stop kaisai: %w", cerr)
		}
	}()
	if u, perr := url.Parse(a.URL()); perr != nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		return nil, nil, fmt.Errorf("kaisai listens on %s, not loopback", a.URL())
	}

	t := newTransport(cfg.Clients)
	defer t.CloseIdleConnections()
	org, err := newOrganizer(a.URL(), t)
	if err != nil {
		return nil, nil, err
	}
	setupCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := org.signup(setupCtx); err != nil {
		return nil, nil, err
	}
	eventID, err := org.createEvent(setupCtx)
	if err != nil {
		return nil, nil, err
	}
	groupID, err := org.addGroup(setupCtx, eventID)
	if err != nil {
		return nil, nil, err
	}
	// The measured schedule has the largest capacity kaisai allows, so that
	// it does not fill during the run.
	mainID, err := org.addSchedule(setupCtx, eventID, groupID, 60, event.MaxCapacity)
	if err != nil {
		return nil, nil, err
	}
	path, err := org.publicPath(setupCtx, eventID)
	if err != nil {
		return nil, nil, err
	}
	hc := newHTTPClient(t)
	fmt.Fprintf(stdout, "kaisai: %s on %s, event %d %s, schedule %d (capacity %d)\n",
		a.URL(), a.Store.Dialect(), eventID, path, mainID, event.MaxCapacity)

	if cfg.CheckCapacity > 0 {
		capID, err := org.addSchedule(setupCtx, eventID, groupID, 61, cfg.CheckCapacity)
		if err != nil {
			return nil, nil, err
		}
		problems = checkCapacity(ctx, cfg, a, &applicant{hc: hc, base: a.URL(), publicPath: path, scheduleID: capID, prefix: "cap"}, stdout)
	}

	prof := &profiler{}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		prof.f = f
	}
	ap := &applicant{hc: hc, base: a.URL(), publicPath: path, scheduleID: mainID, prefix: "apply"}
	res = drive(ctx, cfg.Clients, cfg.Warmup, cfg.Duration, ap.iterate, prof.start)
	if started, perr := prof.stop(); perr != nil {
		fmt.Fprintf(stdout, "cpu profile: %v\n", perr)
	} else if started {
		fmt.Fprintf(stdout, "cpu profile of the measured kaisai phase: %s (go tool pprof -tagignore role=client shows the server alone)\n", cfg.CPUProfile)
	}
	fmt.Fprintf(stdout, "kaisai apply (GET form + POST apply): %s\n", res)
	fmt.Fprintf(stdout, "kaisai POST apply latency: %s\n", summarize(res.PostLatency))
	fmt.Fprintf(stdout, "kaisai whole iteration latency: %s\n", summarize(res.IterLatency))
	if res.Rejected > 0 {
		fmt.Fprintf(stdout, "warning: the measured schedule filled (capacity %d); shorten --duration\n", event.MaxCapacity)
	}
	return res, problems, nil
}

// profiler is the CPU profile of the measured window: start is called when
// the window opens (from a timer), stop when the run ends; a start after stop
// does nothing.
type profiler struct {
	mu        sync.Mutex
	f         *os.File // nil: no profile wanted
	on, ended bool
	err       error
}

func (p *profiler) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil || p.on || p.ended {
		return
	}
	p.err = pprof.StartCPUProfile(p.f)
	p.on = p.err == nil
}

// stop ends the profile; started says whether there was one.
func (p *profiler) stop() (started bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
	if p.on {
		pprof.StopCPUProfile()
		p.on = false
		started = true
	}
	return started, p.err
}

// checkCapacity hits a schedule of capacity C with 3×C applications from
// all clients at once: exactly C must be accepted, the rest refused as full,
// and the database must agree.
func checkCapacity(ctx context.Context, cfg applyConfig, a *app.App, ap *applicant, out io.Writer) error {
	c := cfg.CheckCapacity
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res := driveCount(ctx, cfg.Clients, 3*c, ap.iterate)
	var capacity, taken, applied int
	err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT capacity, seats_taken,
		(SELECT COUNT(*) FROM applications WHERE schedule_id = $1 AND status = 'applied')
		FROM schedules WHERE id = $1`, ap.scheduleID).Scan(&capacity, &taken, &applied)
	if err != nil {
		return fmt.Errorf("capacity check: read schedule: %w", err)
	}
	ok := res.Accepted == c && res.Rejected == 2*c && res.Failed == 0 && capacity == c && taken == c && applied == c
	verdict := "ok"
	if !ok {
		verdict = "FAILED"
	}
	fmt.Fprintf(out, "capacity check %s: schedule of capacity %d hit by %d applications from %d clients; "+
		"database: seats_taken=%d applied=%d\n  %s\n", verdict, c, 3*c, cfg.Clients, taken, applied, res)
	if !ok {
		return fmt.Errorf("capacity check failed: %d accepted for a capacity of %d (database: seats_taken=%d, applied=%d)",
			res.Accepted, c, taken, applied)
	}
	return nil
}
