// Command kaisai runs the kaisai event service.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // event time zones work on machines without tzdata

	"kaisai/internal/app"
	"kaisai/internal/stripesim"
	"kaisai/internal/zoomsim"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the VCS revision recorded by the Go toolchain is shown.
var version = ""

const usage = `kaisai — seminar and event management with Zoom integration

Usage:
  kaisai serve [flags]   run the web app, webhooks and job workers
  kaisai zoomsim [flags] run the Zoom simulator alone, with its web UI at / (--addr, --state, --seed,
                         --webhook-url, --webhook-secret, --redirect-uri); several kaisai serve
                         share it with --zoom-simulator=URL
  kaisai stripesim [flags] run the Stripe simulator alone, with its web UI and Checkout pages
                         (--addr, --state, --seed, --base-url)
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
	case "stripesim":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return stripesimRun(ctx, args[1:], stderr)
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
	cfg, choice, stripeChoice, err := serveConfig(args, stderr)
	if err != nil {
		return err
	}
	slog.SetDefault(cfg.Logger)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch {
	case choice.builtIn:
		if cfg.DatabaseURL != "" {
			cfg.Logger.Warn("this instance runs a Zoom simulator of its own: instances sharing the database must share one `kaisai zoomsim` instead (--zoom-simulator=URL)")
		}
		sim, err := startZoomSimulator(ctx, cfg)
		if err != nil {
			return err
		}
		defer sim.Close()
		cfg.ZoomSimulator = simAdapter{sim}
		cfg.ZoomClientID, cfg.ZoomClientSecret = seededApp, seededAppSecret
	case choice.shared != "":
		if err := useSharedSimulator(ctx, choice.shared, &cfg); err != nil {
			return err
		}
	default:
		if err := refuseUnsaidSimulator(ctx, cfg); err != nil {
			return err
		}
	}
	switch {
	case stripeChoice.builtIn:
		if cfg.DatabaseURL != "" {
			cfg.Logger.Warn("this instance runs a Stripe simulator of its own: instances sharing the database must share one `kaisai stripesim` instead (--stripe-simulator=URL)")
		}
		sim, err := startStripeSimulator(ctx, cfg)
		if err != nil {
			return err
		}
		defer sim.Close()
		cfg.StripeSimulator = stripeSimAdapter{sim}
	case stripeChoice.shared != "":
		sim, err := sharedStripeSimulator(ctx, stripeChoice.shared)
		if err != nil {
			return err
		}
		cfg.StripeSimulator = sim
	default:
		if err := refuseUnsaidStripeSimulator(ctx, cfg); err != nil {
			return err
		}
	}
	return app.Run(ctx, cfg)
}

// serveConfig builds the Config of `kaisai serve` from its flags and the
// environment, and says which Zoom simulator, if any, it asks for.
func serveConfig(args []string, stderr io.Writer) (app.Config, zoomSimChoice, simChoice, error) {
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
	fs.StringVar(&cfg.SecretKey, "secret-key", env("KAISAI_SECRET_KEY", ""), "key that encrypts Zoom's tokens and Stripe keys, 32 bytes in hex or base64; default: generated into DATA_DIR/secret.key, but with --database-url every instance must be given the same key (KAISAI_SECRET_KEY)")
	fs.StringVar(&cfg.ZoomClientID, "zoom-client-id", env("KAISAI_ZOOM_CLIENT_ID", ""), "Client ID of the Zoom Marketplace app (KAISAI_ZOOM_CLIENT_ID)")
	fs.StringVar(&cfg.ZoomClientSecret, "zoom-client-secret", env("KAISAI_ZOOM_CLIENT_SECRET", ""), "Client Secret of the Zoom Marketplace app (KAISAI_ZOOM_CLIENT_SECRET)")
	fs.StringVar(&cfg.ZoomRedirectURL, "zoom-redirect-url", env("KAISAI_ZOOM_REDIRECT_URL", ""), "OAuth redirect URL of the Zoom app; default BASE_URL"+app.ZoomCallbackPath+" (KAISAI_ZOOM_REDIRECT_URL)")
	fs.StringVar(&cfg.ZoomOAuthURL, "zoom-oauth-url", env("KAISAI_ZOOM_OAUTH_URL", ""), "host of the OAuth endpoints /oauth/authorize, /oauth/token and /oauth/revoke of a Zoom-compatible server; default https://zoom.us (KAISAI_ZOOM_OAUTH_URL)")
	fs.StringVar(&cfg.ZoomAPIURL, "zoom-api-url", env("KAISAI_ZOOM_API_URL", ""), "host of the REST API (/v2) of a Zoom-compatible server, replacing the api_url of every token; default the api_url Zoom returns with each token (KAISAI_ZOOM_API_URL)")
	fs.StringVar(&cfg.StripeAPIURL, "stripe-api-url", env("KAISAI_STRIPE_API_URL", ""), "host of a Stripe-compatible API (/v1) that organizations' Stripe keys are used with, such as stripe-mock; default Stripe's own https://api.stripe.com. A live key (sk_live_, rk_live_) is only ever sent to Stripe's own (KAISAI_STRIPE_API_URL)")
	var stripeSimMode string
	fs.StringVar(&stripeSimMode, "stripe-simulator", env("KAISAI_STRIPE_SIMULATOR", "auto"), "Stripe simulator: auto (the built-in one beside kaisai when neither --database-url nor --stripe-api-url is set; never on a production-shaped deployment), on (the built-in one), off (the real Stripe, or --stripe-api-url), or the URL of a running kaisai stripesim, shared by several instances (KAISAI_STRIPE_SIMULATOR)")
	var simMode string
	fs.StringVar(&simMode, "zoom-simulator", env("KAISAI_ZOOM_SIMULATOR", "auto"), "Zoom simulator: auto (the built-in one beside kaisai when no Zoom app, no Zoom URL and no --database-url is configured), on (the built-in one), off, or the URL of a running `kaisai zoomsim` shared by several instances (KAISAI_ZOOM_SIMULATOR)")
	fs.StringVar(&logLevel, "log-level", env("KAISAI_LOG_LEVEL", "info"), "log level: debug, info, warn, error (KAISAI_LOG_LEVEL)")
	fs.StringVar(&logFormat, "log-format", env("KAISAI_LOG_FORMAT", "text"), "log format: text or json (KAISAI_LOG_FORMAT)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai serve [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, zoomSimChoice{}, simChoice{}, err
	}
	if err := errors.Join(e.errs...); err != nil {
		return cfg, zoomSimChoice{}, simChoice{}, err
	}
	if fs.NArg() > 0 {
		return cfg, zoomSimChoice{}, simChoice{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return cfg, zoomSimChoice{}, simChoice{}, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch logFormat {
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, opts))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(stderr, opts))
	default:
		return cfg, zoomSimChoice{}, simChoice{}, fmt.Errorf("--log-format must be text or json, not %q", logFormat)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Addr
	}
	cfg.SecureCookies = strings.HasPrefix(cfg.BaseURL, "https://")
	var err error
	if cfg.ZoomOAuthURL, err = httpURL("--zoom-oauth-url", cfg.ZoomOAuthURL); err != nil {
		return cfg, zoomSimChoice{}, simChoice{}, err
	}
	if cfg.ZoomAPIURL, err = httpURL("--zoom-api-url", cfg.ZoomAPIURL); err != nil {
		return cfg, zoomSimChoice{}, simChoice{}, err
	}
	if cfg.StripeAPIURL, err = httpURL("--stripe-api-url", cfg.StripeAPIURL); err != nil {
		return cfg, zoomSimChoice{}, simChoice{}, err
	}
	sim, err := chooseZoomSimulator(simMode, cfg)
	if err != nil {
		return cfg, sim, simChoice{}, err
	}
	stripeSim, err := chooseStripeSimulator(stripeSimMode, cfg)
	return cfg, sim, stripeSim, err
}

// httpURL checks that a URL setting, when set, is an absolute http(s) URL,
// and returns it without a trailing slash.
func httpURL(name, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s must be an http:// or https:// URL such as https://zoom.us, not %q", name, s)
	}
	return strings.TrimRight(s, "/"), nil
}

// The app zoomsim.DefaultSeed registers for kaisai.
const seededApp, seededAppSecret = "kaisai-dev", "kaisai-dev-secret"

// zoomSimChoice is the Zoom simulator kaisai talks to, if any.
type zoomSimChoice struct {
	builtIn bool   // run the built-in simulator beside kaisai
	shared  string // the URL of a running `kaisai zoomsim`, shared by several instances
}

// chooseZoomSimulator decides whether Zoom is simulated, from
// --zoom-simulator. A fake Zoom must never stand in for the real one by
// accident: with a Zoom app or Zoom URLs configured the built-in one is
// never used, with --database-url (a production-shaped deployment) only
// when asked for, and a simulator elsewhere only when named by its URL.
func chooseZoomSimulator(mode string, cfg app.Config) (zoomSimChoice, error) {
	appSet := cfg.ZoomClientID != "" || cfg.ZoomClientSecret != ""
	urlSet := cfg.ZoomOAuthURL != "" || cfg.ZoomAPIURL != ""
	switch mode {
	case "auto":
		return zoomSimChoice{builtIn: !appSet && !urlSet && cfg.DatabaseURL == ""}, nil
	case "on":
		if appSet || urlSet {
			return zoomSimChoice{}, errors.New("--zoom-simulator=on runs the built-in simulator, with a Zoom app or Zoom URLs configured: choose one")
		}
		return zoomSimChoice{builtIn: true}, nil
	case "off":
		return zoomSimChoice{}, nil
	}
	if !strings.Contains(mode, "://") {
		return zoomSimChoice{}, fmt.Errorf("--zoom-simulator must be auto, on, off or the URL of a running `kaisai zoomsim` (http://host:port), not %q", mode)
	}
	u, err := httpURL("--zoom-simulator", mode)
	if err != nil {
		return zoomSimChoice{}, err
	}
	// The simulator is both; another URL beside it would split kaisai
	// between two servers.
	if cfg.ZoomOAuthURL != "" {
		return zoomSimChoice{}, errors.New("--zoom-simulator=URL serves OAuth: unset --zoom-oauth-url (KAISAI_ZOOM_OAUTH_URL)")
	}
	if cfg.ZoomAPIURL != "" {
		return zoomSimChoice{}, errors.New("--zoom-simulator=URL serves the API: unset --zoom-api-url (KAISAI_ZOOM_API_URL)")
	}
	return zoomSimChoice{shared: u}, nil
}

// simulatorState reads GET /_sim/state of the `kaisai zoomsim` at base.
func simulatorState(ctx context.Context, base string, timeout time.Duration) (zoomsim.Snapshot, error) {
	var snap zoomsim.Snapshot
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_sim/state", nil)
	if err != nil {
		return snap, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return snap, fmt.Errorf("no Zoom simulator answers: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return snap, fmt.Errorf("no Zoom simulator answers: %w", err)
	}
	var keys map[string]json.RawMessage
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &keys) != nil || keys["apps"] == nil || keys["summary"] == nil {
		return snap, fmt.Errorf("not a kaisai zoomsim: GET /_sim/state answered %s", resp.Status)
	}
	if err := json.Unmarshal(body, &snap); err != nil {
		return snap, fmt.Errorf("the state of the Zoom simulator: %w", err)
	}
	return snap, nil
}

// useSharedSimulator points cfg at the `kaisai zoomsim` at simURL, shared
// by several instances, after checking that it is set up for this one: its
// app accepts kaisai's OAuth callback, and its webhooks go to
// /webhooks/zoom signed with the secret this instance has. The operator
// sets these once on the simulator (`kaisai zoomsim --redirect-uri
// --webhook-url --webhook-secret`); instances only read them, so none can
// overwrite another's. Anything amiss stops kaisai here, saying what to do,
// rather than later in an organizer's browser or as webhooks refused.
func useSharedSimulator(ctx context.Context, simURL string, cfg *app.Config) error {
	wrap := func(err error) error { return fmt.Errorf("--zoom-simulator=%s: %w", simURL, err) }
	state, err := simulatorState(ctx, simURL, 10*time.Second)
	if err != nil {
		return wrap(err)
	}
	clientID := cfg.ZoomClientID
	if clientID == "" {
		clientID = seededApp
	}
	var sa *zoomsim.AppState
	for i := range state.Apps {
		if state.Apps[i].ClientID == clientID {
			sa = &state.Apps[i]
		}
	}
	switch {
	case sa == nil:
		return wrap(fmt.Errorf("the simulator has no app %q: start it with its seed (the app %s), or give --zoom-client-id of one of its apps", clientID, seededApp))
	case cfg.ZoomClientSecret != "" && cfg.ZoomClientSecret != sa.ClientSecret:
		return wrap(fmt.Errorf("--zoom-client-secret is not the secret of the simulator's app %s: leave it unset to use the simulator's", clientID))
	}
	redirect := cfg.ZoomRedirectURL
	if redirect == "" {
		redirect = strings.TrimRight(cfg.BaseURL, "/") + app.ZoomCallbackPath
	}
	if !slices.Contains(sa.RedirectURIs, redirect) {
		return wrap(fmt.Errorf("the simulator's app %s does not accept %s as its OAuth redirect URI: start `kaisai zoomsim` with --redirect-uri %s (once for each public URL of the instances)",
			clientID, redirect, redirect))
	}
	hook := strings.TrimRight(cfg.BaseURL, "/") + "/webhooks/zoom"
	switch u, _ := url.Parse(sa.EventURL); {
	case sa.EventURL == "":
		return wrap(fmt.Errorf("the simulator's app %s sends no webhooks: start `kaisai zoomsim` with --webhook-url %s --webhook-secret SECRET, and give every instance that SECRET in KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN",
			clientID, hook))
	case u == nil || !strings.HasSuffix(u.Path, "/webhooks/zoom"):
		return wrap(fmt.Errorf("the simulator's app %s sends webhooks to %s, which is not kaisai's /webhooks/zoom: start `kaisai zoomsim` with --webhook-url %s",
			clientID, sa.EventURL, hook))
	case cfg.ZoomWebhookSecret == "":
		return wrap(errors.New("KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN is not set: give every instance the simulator's --webhook-secret"))
	case cfg.ZoomWebhookSecret != sa.SecretToken:
		return wrap(fmt.Errorf("KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN is not the secret token of the simulator's app %s: every instance must have the simulator's --webhook-secret", clientID))
	}
	cfg.ZoomClientID, cfg.ZoomClientSecret = sa.ClientID, sa.ClientSecret
	cfg.ZoomOAuthURL, cfg.ZoomAPIURL, cfg.ZoomSimulated = simURL, simURL, true
	cfg.Logger.Info("Zoom simulator shared by the instances", "simulator", simURL, "client_id", clientID,
		"redirect_uri", redirect, "webhooks", sa.EventURL)
	return nil
}

// refuseUnsaidSimulator keeps a simulator from standing in for Zoom
// without the banner: an OAuth or API URL that names another server than
// Zoom is asked whether it is a `kaisai zoomsim`, and if it is, kaisai
// does not start until it is named with --zoom-simulator. A server that
// does not answer is taken for what it claims to be.
func refuseUnsaidSimulator(ctx context.Context, cfg app.Config) error {
	for _, s := range []struct{ flag, url string }{{"--zoom-oauth-url", cfg.ZoomOAuthURL}, {"--zoom-api-url", cfg.ZoomAPIURL}} {
		if s.url == "" {
			continue
		}
		if _, err := simulatorState(ctx, s.url, 5*time.Second); err == nil {
			return fmt.Errorf("%s %s is a Zoom simulator: name it with --zoom-simulator=%s instead, so that every page says Zoom is simulated",
				s.flag, s.url, s.url)
		}
	}
	return nil
}

// startZoomSimulator starts the simulator on the port after kaisai's (a free
// one if that is taken), its state in the data directory and kaisai's
// callback registered in its seeded app.
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
	webhookURL := fs.String("webhook-url", "", "event notification endpoint of the seeded app kaisai-dev, e.g. http://127.0.0.1:8080/webhooks/zoom (default: none)")
	webhookSecret := fs.String("webhook-secret", "", "secret token of the seeded app's event subscription (needed with --webhook-url)")
	var redirectURIs []string
	fs.Func("redirect-uri", "one more OAuth redirect URI of the seeded app kaisai-dev, e.g. http://127.0.0.1:8081"+app.ZoomCallbackPath+"; repeatable", func(s string) error {
		redirectURIs = append(redirectURIs, s)
		return nil
	})
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
	if len(redirectURIs) > 0 && !*seed {
		return fmt.Errorf("zoomsim: --redirect-uri is for the seeded app %s, which --seed=false leaves out", seededApp)
	}
	opts := zoomsim.Options{BaseURL: *baseURL, StateFile: *stateFile, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if *seed {
		opts.Seed = zoomsim.DefaultSeed()
		for i := range opts.Seed.Apps {
			if opts.Seed.Apps[i].ClientID == seededApp {
				opts.Seed.Apps[i].RedirectURIs = append(opts.Seed.Apps[i].RedirectURIs, redirectURIs...)
			}
		}
	}
	sim, err := zoomsim.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	// The seed adds an app only when the state file has none of that id,
	// and the simulator cannot add a redirect URI to an existing app.
	for _, a := range sim.State().Apps {
		for _, uri := range redirectURIs {
			if a.ClientID == seededApp && !slices.Contains(a.RedirectURIs, uri) {
				return fmt.Errorf("zoomsim: the app %s of the state file %s lacks the redirect URI %s, and --redirect-uri cannot add it there: remove the state file to start afresh",
					seededApp, *stateFile, uri)
			}
		}
	}
	if err := sim.SetAccessTokenTTL(*tokenTTL); err != nil {
		return fmt.Errorf("--access-token-ttl: %w", err)
	}
	base, err := sim.Start(ctx, *addr)
	if err != nil {
		return err
	}
	opts.Logger.Info("Zoom simulator listening — not the real Zoom", "url", base, "ui", base+"/", "control_api", base+"/_sim/state", "state", *stateFile)
	if *webhookURL != "" {
		if err := sim.SetWebhookEndpoint(seededApp, *webhookURL, *webhookSecret); err != nil {
			return fmt.Errorf("--webhook-url: %w (is the app %s seeded?)", err, seededApp)
		}
		opts.Logger.Info("webhooks of the app", "client_id", seededApp, "url", *webhookURL)
	}
	<-ctx.Done()
	return nil
}

// stripesimRun parses the stripesim flags and serves the Stripe simulator
// until ctx ends.
func stripesimRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("kaisai stripesim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9091", "listen address")
	stateFile := fs.String("state", "", "JSON file that keeps the simulator's state across restarts (default: memory only)")
	baseURL := fs.String("base-url", "", "public URL of the simulator, used in Checkout page URLs (default: http://ADDR)")
	seed := fs.Bool("seed", true, "start with the default account (JP, test mode) and its fixed keys")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("stripesim: unexpected argument %q", fs.Arg(0))
	}
	opts := stripesim.Options{BaseURL: *baseURL, StateFile: *stateFile, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if *seed {
		opts.Seed = stripesim.DefaultSeed()
	}
	sim, err := stripesim.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	base, err := sim.Start(ctx, *addr)
	if err != nil {
		return err
	}
	opts.Logger.Info("Stripe simulator listening — not the real Stripe", "url", base, "ui", base+"/", "control_api", base+"/_sim/state", "state", *stateFile)
	for _, a := range sim.State().Accounts {
		opts.Logger.Info("account", "id", a.ID, "name", a.DisplayName, "secret_key", a.SecretKey, "restricted_key", a.RestrictedKey)
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
