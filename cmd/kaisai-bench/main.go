// Command kaisai-bench measures kaisai's application intake, its Zoom
// registrant sync, its check-in from Zoom's webhooks and its payments'
// way to Zoom.
//
//	go run ./cmd/kaisai-bench apply [--clients 32] [--duration 10s] [--postgres URL]
//	go run ./cmd/kaisai-bench zoomsync [-n 4999] [--postgres URL]
//	go run ./cmd/kaisai-bench checkin [-n 5000] [--duration 10s] [--postgres URL]
//	go run ./cmd/kaisai-bench pay [-n 1000] [--spread 10s] [--via page|api] [--return] [--postgres URL]
//
// It starts kaisai in-process on 127.0.0.1 with a fresh database (SQLite in a
// temporary directory, or a PostgreSQL database it creates and drops), sets
// up an organizer and a published free event over real HTTP, checks that a
// schedule of capacity C hit by more than C applications accepts exactly C,
// then drives the real application form (GET the event page, POST the form
// with its submit_key) from N concurrent clients for a fixed time. In the
// same run it measures a baseline: a bare net/http handler doing one INSERT
// per request into the same kind of database, driven the same way. The last
// line is the result:
//
//	apply rate=<accepted per s> p50_ms=<> p99_ms=<> baseline_rate=<per s> ratio=<rate/baseline>
//
// zoomsync starts kaisai beside the Zoom simulator (Zoom's limits on, the
// host's account on Pro), marks n applications of a paid event with a Zoom
// meeting (登録 on) 入金済 at once and times them until all are approved
// registrants on Zoom, against the least time Zoom's rate limits allow;
// then times single 入金済 marks on an idle kaisai. Its last line:
//
//	zoomsync registrants=<n> seconds=<> min_seconds=<> ratio=<seconds/min_seconds> duplicates=<> lost=<> http429=<>
//
// checkin sets up a free event whose meeting (登録 and 認証 on) has n
// applications registered on Zoom (Zoom's limits off for the setup), then
// sends n signed meeting.participant_joined webhooks, one per application,
// spread evenly over --duration from --clients keep-alive clients to
// kaisai's POST /webhooks/zoom, and watches the database until every
// application is checked in. Then it sends the same bodies again, signed
// anew, and checks that nothing changed. Its last two lines:
//
//	checkin replay webhooks=<n> changed=<k>
//	checkin webhooks=<n> p99_ack_ms=<> all_checked_in_s=<seconds after the last send> lost=<>
//
// pay starts kaisai beside the Zoom simulator (limits on, Pro) and the
// Stripe simulator, connects its test account, has n people apply to a
// paid event whose Zoom group has 登録 on, and has them pay by card on the
// simulator's hosted page (or its control API), spread over --spread; the
// browser does not come back to kaisai unless --return, so the signed
// webhook is what tells kaisai. Each payment is timed from Stripe's answer
// to the batch add that put that person on Zoom. Its last line:
//
//	pay payments=<n> p50_ms=<> p95_ms=<> max_ms=<> lost=<> duplicates=<>
//
// Speed goals live here, never in tests (STYLE.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `kaisai-bench — measure kaisai's application intake, Zoom sync, Zoom check-in and payments

Usage:
  kaisai-bench apply [flags]      drive the real application form; compare with a bare INSERT handler
  kaisai-bench zoomsync [flags]   mark n applications 入金済 at once; time them onto Zoom's registrant list
  kaisai-bench checkin [flags]    send n participant_joined webhooks for one meeting; time the acks and the check-ins
  kaisai-bench pay [flags]        n applicants of a paid Zoom event pay by card; time each payment onto Zoom's registrant list

Run "kaisai-bench <command> --help" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "kaisai-bench:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "apply":
		cfg, err := parseApplyFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		// Everything is bounded: the run itself, plus generous time for
		// setup, the capacity check, the baseline and shutdown.
		ctx, cancel := context.WithTimeout(ctx, 2*cfg.Warmup+2*cfg.Duration+3*time.Minute)
		defer cancel()
		return benchApply(ctx, cfg, stdout, stderr)
	case "zoomsync":
		cfg, err := parseZoomsyncFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		// Its phases bound themselves; this bounds the whole.
		ctx, cancel := context.WithTimeout(ctx, 15*time.Minute+time.Duration(cfg.Idle)*time.Minute)
		defer cancel()
		return benchZoomsync(ctx, cfg, stdout, stderr)
	case "checkin":
		cfg, err := parseCheckinFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		// Setup, two bursts, the wait for check-ins and shutdown.
		ctx, cancel := context.WithTimeout(ctx, 15*time.Minute+2*cfg.Spread+cfg.Timeout)
		defer cancel()
		return benchCheckin(ctx, cfg, stdout, stderr)
	case "pay":
		cfg, err := parsePayFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		// Setup, the payments, the deadline and shutdown.
		ctx, cancel := context.WithTimeout(ctx, 15*time.Minute+cfg.Spread+cfg.Deadline)
		defer cancel()
		return benchPay(ctx, cfg, stdout, stderr)
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// applyConfig is the flags of `kaisai-bench apply`.
type applyConfig struct {
	Clients       int
	Duration      time.Duration
	Warmup        time.Duration
	PostgresURL   string
	CheckCapacity int
	CPUProfile    string
	Verbose       bool
	SkipBaseline  bool
}

func parseApplyFlags(args []string, stderr io.Writer) (applyConfig, error) {
	fs := flag.NewFlagSet("kaisai-bench apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c applyConfig
	fs.IntVar(&c.Clients, "clients", 32, "concurrent clients")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measured time of each phase (kaisai, baseline)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured load before each phase")
	fs.StringVar(&c.PostgresURL, "postgres", "", "postgres:// URL of a server whose user may create databases; empty means SQLite")
	fs.IntVar(&c.CheckCapacity, "check-capacity", 100, "capacity C of the schedule hit by 3×C applications to prove C are accepted (0 skips)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured kaisai phase to this file (load-generator goroutines carry the label role=client)")
	fs.BoolVar(&c.Verbose, "verbose", false, "show kaisai's log on stderr")
	fs.BoolVar(&c.SkipBaseline, "skip-baseline", false, "measure kaisai only (baseline_rate and ratio print as 0)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai-bench apply [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("apply: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.Clients < 1 || c.Clients > 4096:
		return c, errors.New("--clients must be between 1 and 4096")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return c, errors.New("--duration must be positive and at most 1h")
	case c.Warmup < 0 || c.Warmup > 10*time.Minute:
		return c, errors.New("--warmup must be between 0 and 10m")
	case c.CheckCapacity < 0 || c.CheckCapacity > 10_000:
		return c, errors.New("--check-capacity must be between 0 and 10000")
	}
	return c, nil
}
