// Command kaisai runs the kaisai event service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // event time zones work on machines without tzdata

	"kaisai/internal/app"
	"kaisai/internal/zoomsim"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the VCS revision recorded by the Go toolchain is shown.
var version = ""

const usage = `kaisai — seminar and event management with Zoom integration

Usage:
  kaisai serve [flags]   run the web app, webhooks and job workers
  kaisai zoomsim [flags] run the Zoom simulator alone, with its web UI at / (--addr, --state, --seed, --webhook-url)
  kaisai version         print the version
  kaisai help            show this help

Run "kaisai serve --help" for the serve flags. Every flag can also be set by
an environment variable: --data-dir is KAISAI_DATA_DIR, and so on; secrets
can be read from a file named by the variable with _FILE appended.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "kaisai:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "zoomsim":
		return zoomsimCmd(args[1:], stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "kaisai", versionString())
		return nil
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return info.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kaisai serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	var logLevel, logFormat string
	var e envReader
	env := e.get
	fs.StringVar(&cfg.Addr, "addr", env("KAISAI_ADDR", "127.0.0.1:8080"), "listen address (KAISAI_ADDR)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("KAISAI_DATA_DIR", "./kaisai-data"), "directory of the embedded SQLite database (KAISAI_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", env("KAISAI_DATABASE_URL", ""), "postgres:// URL to use PostgreSQL instead of SQLite (KAISAI_DATABASE_URL)")
	fs.StringVar(&cfg.BaseURL, "base-url", env("KAISAI_BASE_URL", ""), "public URL of this kaisai, for links in e-mails (KAISAI_BASE_URL)")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", env("KAISAI_SMTP_URL", ""), "mail server, smtp://user:pass@host:587 or smtps://…:465 (?starttls=mandatory|opportunistic|none&timeout=30s); empty keeps mail in the app's dev outbox (KAISAI_SMTP_URL)")
	fs.StringVar(&cfg.MailFrom, "mail-from", env("KAISAI_MAIL_FROM", "kaisai <no-reply@localhost>"), "sender of participants' mail (KAISAI_MAIL_FROM)")
	fs.StringVar(&cfg.ZoomWebhookSecret, "zoom-webhook-secret-token", env("KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN", ""), "Secret Token of the Zoom app's event subscription, to verify POST /webhooks/zoom; empty answers 503 there (KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN)")
	fs.StringVar(&cfg.SecretKey, "secret-key", env("KAISAI_SECRET_KEY", ""), "key that encrypts Zoom's tokens, 32 bytes in hex or base64; default: generated into DATA_DIR/secret.key, but with --database-url every instance must be given the same key (KAISAI_SECRET_KEY)")
	fs.StringVar(&cfg.ZoomClientID, "zoom-client-id", env("KAISAI_ZOOM_CLIENT_ID", ""), "Client ID of the Zoom Marketplace app (KAISAI_ZOOM_CLIENT_ID)")
	fs.StringVar(&cfg.ZoomClientSecret, "zoom-client-secret", env("KAISAI_ZOOM_CLIENT_SECRET", ""), "Client Secret of the Zoom Marketplace app (KAISAI_ZOOM_CLIENT_SECRET)")
	fs.StringVar(&cfg.ZoomRedirectURL, "zoom-redirect-url", env("KAISAI_ZOOM_REDIRECT_URL", ""), "OAuth redirect URL of the Zoom app; default BASE_URL"+app.ZoomCallbackPath+" (KAISAI_ZOOM_REDIRECT_URL)")
	simDefault := "auto"
	fs.StringVar(&simDefault, "zoom-simulator", env("KAISAI_ZOOM_SIMULATOR", "auto"), "run the built-in Zoom simulator beside kaisai: auto (when no Zoom app and no --database-url is configured), on, off (KAISAI_ZOOM_SIMULATOR)")
	fs.StringVar(&logLevel, "log-level", env("KAISAI_LOG_LEVEL", "info"), "log level: debug, info, warn, error (KAISAI_LOG_LEVEL)")
	fs.StringVar(&logFormat, "log-format", env("KAISAI_LOG_FORMAT", "text"), "log format: text or json (KAISAI_LOG_FORMAT)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai serve [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := errors.Join(e.errs...); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch logFormat {
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, opts))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(stderr, opts))
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", logFormat)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Addr
	}
	cfg.SecureCookies = strings.HasPrefix(cfg.BaseURL, "https://")
	slog.SetDefault(cfg.Logger)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	useSim, err := wantZoomSimulator(simDefault, cfg)
	if err != nil {
		return err
	}
	if useSim {
		sim, err := startZoomSimulator(ctx, cfg)
		if err != nil {
			return err
		}
		defer sim.Close()
		cfg.ZoomSimulator = simAdapter{sim}
		cfg.ZoomClientID, cfg.ZoomClientSecret = seededApp, seededAppSecret
	}
	return app.Run(ctx, cfg)
}

// The app zoomsim.DefaultSeed registers for kaisai.
const seededApp, seededAppSecret = "kaisai-dev", "kaisai-dev-secret"

// wantZoomSimulator decides whether Zoom is simulated. A fake Zoom must never
// stand in for the real one by accident: with a Zoom app configured it is
// never used, and with --database-url (a production-shaped deployment) only
// when asked for.
func wantZoomSimulator(mode string, cfg app.Config) (bool, error) {
	configured := cfg.ZoomClientID != "" || cfg.ZoomClientSecret != ""
	switch mode {
	case "auto":
		return !configured && cfg.DatabaseURL == "", nil
	case "on":
		if configured {
			return false, errors.New("--zoom-simulator=on with a Zoom app configured: choose one")
		}
		return true, nil
	case "off":
		return false, nil
	}
	return false, fmt.Errorf("--zoom-simulator must be auto, on or off, not %q", mode)
}

// startZoomSimulator starts the simulator on a free local port, its state in
// the data directory and kaisai's callback registered in its seeded app.
func startZoomSimulator(ctx context.Context, cfg app.Config) (*zoomsim.Server, error) {
	seed := zoomsim.DefaultSeed()
	for i := range seed.Apps {
		if seed.Apps[i].ClientID == seededApp {
			seed.Apps[i].RedirectURIs = append(seed.Apps[i].RedirectURIs, strings.TrimRight(cfg.BaseURL, "/")+app.ZoomCallbackPath)
		}
	}
	opts := zoomsim.Options{Seed: seed, Logger: cfg.Logger.With("component", "zoomsim")}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("zoom simulator: %w", err)
		}
		opts.StateFile = filepath.Join(cfg.DataDir, "zoomsim.json")
	}
	sim, err := zoomsim.New(opts)
	if err != nil {
		return nil, err
	}
	// Beside kaisai on the next port: a stable address, since linked
	// connections keep the simulator's api_url across restarts.
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	simPort := 0
	if p, err := strconv.Atoi(port); err == nil && p > 0 {
		simPort = p + 1
	}
	if _, err := sim.Start(ctx, net.JoinHostPort(host, strconv.Itoa(simPort))); err != nil {
		if simPort == 0 {
			sim.Close()
			return nil, err
		}
		cfg.Logger.Warn("Zoom simulator: its usual port is taken; using another one", "err", err)
		if _, err := sim.Start(ctx, net.JoinHostPort(host, "0")); err != nil {
			sim.Close()
			return nil, err
		}
	}
	return sim, nil
}

// simAdapter is app.ZoomSimulator over the seeded app of a zoomsim.Server.
type simAdapter struct{ *zoomsim.Server }

func (s simAdapter) SetWebhookEndpoint(url, secret string) error {
	return s.Server.SetWebhookEndpoint(seededApp, url, secret)
}

// zoomsimCmd runs the Zoom simulator on its own until SIGINT or SIGTERM.
func zoomsimCmd(args []string, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return zoomsimRun(ctx, args, stderr)
}

// zoomsimRun parses the zoomsim flags and serves the simulator until ctx ends.
func zoomsimRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("kaisai zoomsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	stateFile := fs.String("state", "", "JSON file that keeps the simulator's state across restarts (default: memory only)")
	baseURL := fs.String("base-url", "", "public URL of the simulator (default: http://ADDR)")
	seed := fs.Bool("seed", true, "start with the default users (licensed@, numeric@, basic@example.com; password \"password\") and the app kaisai-dev")
	webhookURL := fs.String("webhook-url", "", "event notification endpoint of the seeded app kaisai-dev, e.g. http://127.0.0.1:8080/zoom/webhook (default: none)")
	webhookSecret := fs.String("webhook-secret", "", "secret token of the seeded app's event subscription (needed with --webhook-url)")
	tokenTTL := fs.Duration("access-token-ttl", time.Hour, "lifetime of the access tokens it gives (Zoom's: 1h); shorter to see tokens expire")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai zoomsim [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("zoomsim: unexpected argument %q", fs.Arg(0))
	}
	if *webhookURL != "" && *webhookSecret == "" {
		return errors.New("zoomsim: --webhook-url needs --webhook-secret")
	}
	opts := zoomsim.Options{BaseURL: *baseURL, StateFile: *stateFile, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if *seed {
		opts.Seed = zoomsim.DefaultSeed()
	}
	sim, err := zoomsim.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := sim.SetAccessTokenTTL(*tokenTTL); err != nil {
		return fmt.Errorf("--access-token-ttl: %w", err)
	}
	base, err := sim.Start(ctx, *addr)
	if err != nil {
		return err
	}
	opts.Logger.Info("Zoom simulator listening — not the real Zoom", "url", base, "ui", base+"/", "control_api", base+"/_sim/state", "state", *stateFile)
	if *webhookURL != "" {
		const seededApp = "kaisai-dev"
		if err := sim.SetWebhookEndpoint(seededApp, *webhookURL, *webhookSecret); err != nil {
			return fmt.Errorf("--webhook-url: %w (is the app %s seeded?)", err, seededApp)
		}
		opts.Logger.Info("webhooks of the app", "client_id", seededApp, "url", *webhookURL)
	}
	<-ctx.Done()
	return nil
}

// envReader reads settings from the environment: the variable name, or the
// content of the file named by name_FILE, or the default. A _FILE that
// cannot be read is an error, not a silent default.
type envReader struct{ errs []error }

func (e *envReader) get(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	if path, ok := os.LookupEnv(name + "_FILE"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s_FILE: %w", name, err))
			return def
		}
		return strings.TrimSpace(string(b))
	}
	return def
}
