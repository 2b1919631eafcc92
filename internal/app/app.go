// Package app wires kaisai together from a Config: the store, the job queue
// (with mail delivery) and the web server. cmd/kaisai and the tests both
// start kaisai through it.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"kaisai/internal/auth"
	"kaisai/internal/jobs"
	"kaisai/internal/mail"
	"kaisai/internal/payflow"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/web"
	"kaisai/internal/zoom"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoomconn"
)

// Config is every setting of `kaisai serve`, from flags and KAISAI_* variables.
type Config struct {
	Addr        string // listen address, e.g. 127.0.0.1:8080; port 0 picks one
	DataDir     string // SQLite database and other local state
	DatabaseURL string // postgres://… to use PostgreSQL instead of SQLite
	BaseURL     string // public URL, for links in e-mails; defaults to http://Addr
	// SecureCookies marks cookies Secure; on by default when BaseURL is https.
	SecureCookies bool
	Logger        *slog.Logger
	// PasswordParams lowers argon2's cost in tests; zero means the default.
	PasswordParams auth.Params
	Now            func() time.Time
	// SMTPURL is the mail server (smtp://… or smtps://…, see mail.SMTP);
	// empty keeps every mail in the dev outbox, shown at /mails.
	SMTPURL string
	// MailFrom is the sender of participants' mail; empty is mail.DefaultFrom.
	MailFrom string
	// Mail tunes delivery (batch, lease, backoff, sweep); zero values are the
	// defaults. Tests shorten them.
	Mail jobs.MailOptions
	// MailRegistrantWait is how long a participant's mail with a join URL
	// waits for their Zoom registration (jobs.DefaultRegistrantWait when zero).
	MailRegistrantWait time.Duration
	// ZoomWebhookSecret is the Secret Token of the Zoom app's event
	// subscription (KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN); empty: POST
	// /webhooks/zoom answers 503.
	ZoomWebhookSecret string
	// ZoomWebhooks tunes webhook processing; zero values are the defaults.
	ZoomWebhooks jobs.WebhookOptions
	// ZoomWebhookHandlers are the handlers of stored Zoom events by event
	// name (see package jobs); events without one are stored and ignored.
	// They replace kaisai's own handler of the same event.
	ZoomWebhookHandlers jobs.WebhookHandlers
	// ZoomMeetings tunes the meeting sync; zero values are the defaults.
	ZoomMeetings jobs.ZoomMeetingOptions
	// ZoomCheckRegistrants is how often each meeting's registrant list is
	// read from Zoom to repair drift (1 h when zero).
	ZoomCheckRegistrants time.Duration
	// ZoomReports tune the search for participants reports whose
	// meeting.ended never came; zero values are the defaults.
	ZoomReports jobs.ReportOptions
	// Payments tunes the payment jobs (Stripe's events, deadlines and
	// read-backs); zero values are the defaults.
	Payments jobs.PaymentOptions
	// Reminders tunes the reminders' job (sweep, grace); zero values are
	// the defaults.
	Reminders jobs.ReminderOptions
	// ZoomCoalesce is how long an edited meeting waits before it is synced,
	// so that quick successive edits make one PATCH (see store.Options).
	ZoomCoalesce time.Duration

	// SecretKey (KAISAI_SECRET_KEY, 32 bytes in hex or base64) seals Zoom's
	// tokens and organizations' Stripe keys and webhook secrets at rest.
	// Empty: on SQLite a key is generated into DataDir (secret.key, 0600);
	// on PostgreSQL Zoom features stay off and no Stripe key can be
	// stored, since every instance must share one key.
	SecretKey string
	// ZoomClientID and ZoomClientSecret are the Zoom Marketplace app
	// (KAISAI_ZOOM_CLIENT_ID, KAISAI_ZOOM_CLIENT_SECRET); empty: Zoom
	// features say they are not configured.
	ZoomClientID, ZoomClientSecret string
	// ZoomRedirectURL is the app's OAuth redirect URL
	// (KAISAI_ZOOM_REDIRECT_URL); empty: BaseURL + /integrations/zoom/callback.
	ZoomRedirectURL string
	// ZoomOAuthURL is the host of the OAuth endpoints (/oauth/authorize,
	// /oauth/token, /oauth/revoke; KAISAI_ZOOM_OAUTH_URL): https://zoom.us
	// when empty (the simulator's URL when kaisai runs beside it).
	ZoomOAuthURL string
	// ZoomAPIURL is the host of the REST API (KAISAI_ZOOM_API_URL). Empty:
	// the api_url Zoom returns with each token, as Zoom means it. Set, it
	// replaces every token's api_url, also of tokens stored before.
	ZoomAPIURL string
	// ZoomSimulated says ZoomOAuthURL is a Zoom simulator: every organizer
	// page shows a banner saying so. cmd/kaisai sets it when it starts the
	// simulator or is pointed at a shared one; this package never imports it.
	ZoomSimulated bool
	// ZoomHTTPClient makes the calls to Zoom; http.DefaultClient when nil.
	ZoomHTTPClient *http.Client
	// ZoomSimulator, when set, is a Zoom simulator running beside kaisai:
	// its URL is ZoomOAuthURL, every organizer page says Zoom is simulated,
	// and once kaisai listens the simulated app's events are sent to its
	// POST /webhooks/zoom (with ZoomWebhookSecret, generated when empty).
	ZoomSimulator ZoomSimulator

	// StripeAPIURL is the Stripe-compatible server organizations' Stripe
	// keys are used with (KAISAI_STRIPE_API_URL): Stripe's own
	// https://api.stripe.com when empty. A live key is only ever sent
	// there (package stripe refuses it elsewhere).
	StripeAPIURL string
	// StripeSimulated says StripeAPIURL is a Stripe simulator: every
	// organizer page says payments are simulated. cmd/kaisai sets it.
	StripeSimulated bool
	// StripeHTTPClient makes the calls to Stripe; nil: the client's own.
	StripeHTTPClient *http.Client
	// StripeSimulator, when set, is a Stripe simulator running beside
	// kaisai (or shared by several instances): its URL is StripeAPIURL,
	// every organizer page says payments are simulated, and 決済設定
	// connects its test account in one click.
	StripeSimulator StripeSimulator
}

// StripeSimulator is the Stripe simulator kaisai talks to (DESIGN.md §8).
// cmd/kaisai provides it from package stripesim; like ZoomSimulator, an
// interface keeps the simulator out of the production packages' imports.
type StripeSimulator interface {
	// BaseURL is where the simulator serves Stripe's /v1 API.
	BaseURL() string
	// TestAccountKey is the secret key of the simulator's test account.
	TestAccountKey(ctx context.Context) (string, error)
}

// StripeAPI is Stripe's own API, the default of StripeAPIURL.
const StripeAPI = "https://api.stripe.com"

// ZoomSimulator is the Zoom simulator run beside kaisai (DESIGN.md §7).
// cmd/kaisai provides it from package zoomsim; an interface keeps the
// simulator out of the production packages' imports, so nothing but the
// command decides to talk to a fake Zoom.
type ZoomSimulator interface {
	// BaseURL is where the simulator serves Zoom's OAuth endpoints.
	BaseURL() string
	// SetWebhookEndpoint points the simulated app's event subscription at url.
	SetWebhookEndpoint(url, secretToken string) error
}

// ZoomCallbackPath is where Zoom sends the organizer back after consent.
const ZoomCallbackPath = "/integrations/zoom/callback"

// App is a running kaisai.
type App struct {
	cfg      Config
	Store    *store.Store
	Jobs     *jobs.Client
	Web      *web.Server
	mailer   *mail.Renderer
	nudger   *jobs.MailNudger
	whNudger *jobs.Nudger
	mtNudger *jobs.Nudger
	rgNudger *jobs.Nudger
	shNudger *jobs.Nudger // Stripe's stored events
	pyNudger *jobs.Nudger // the payments job
	pay      *payflow.Flow
	server   *http.Server
	listener net.Listener
	zoom     *zoom.OAuthConfig // nil when Zoom features are off
	done     chan struct{}     // closed when the server stops serving
	serveErr error
}

// New opens the database, applies migrations and builds the parts; Start
// begins serving.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	renderer, err := mail.NewRenderer(cfg.MailFrom, cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("app: KAISAI_MAIL_FROM: %w", err)
	}
	var transport mail.Transport
	if cfg.SMTPURL != "" {
		if transport, err = mail.NewSMTP(cfg.SMTPURL); err != nil {
			return nil, err
		}
	}
	// Every commit that writes mail nudges delivery; nudges before Start
	// wait in the nudger, and the sweep finds whatever a crash dropped.
	nudger := jobs.NewMailNudger(cfg.Mail.Nudge)
	whNudger := jobs.NewWebhookNudger(cfg.ZoomWebhooks.Nudge)
	mtNudger := jobs.NewZoomMeetingNudger(cfg.ZoomMeetings.Nudge)
	rgNudger := jobs.NewZoomRegistrantNudger(cfg.ZoomMeetings.Nudge)
	shNudger := jobs.NewStripeWebhookNudger(cfg.Payments.Webhooks.Nudge)
	pyNudger := jobs.NewPaymentsNudger(cfg.Payments.Webhooks.Nudge)
	if cfg.ZoomSimulator != nil {
		cfg.ZoomOAuthURL, cfg.ZoomSimulated = cfg.ZoomSimulator.BaseURL(), true
		if cfg.ZoomWebhookSecret == "" {
			b := make([]byte, 24)
			rand.Read(b)
			cfg.ZoomWebhookSecret = base64.RawURLEncoding.EncodeToString(b)
		}
	}
	if cfg.StripeSimulator != nil {
		cfg.StripeAPIURL, cfg.StripeSimulated = cfg.StripeSimulator.BaseURL(), true
	}
	if cfg.StripeAPIURL == "" {
		cfg.StripeAPIURL = StripeAPI
	}
	box, zoomCfg, zoomOff, err := zoomSetup(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, Now: cfg.Now,
		MailQueued: nudger.Nudge, ZoomWebhookQueued: whNudger.Nudge, ZoomMeetingsQueued: mtNudger.Nudge, ZoomRegistrantsQueued: rgNudger.Nudge,
		StripeWebhookQueued: shNudger.Nudge, PaymentsQueued: pyNudger.Nudge,
		ZoomCoalesce: cfg.ZoomCoalesce, Secrets: box})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx, log); err != nil {
		st.Close()
		return nil, err
	}
	handlers := jobs.WebhookHandlers{}
	handlers.Register(webhook.EventAppDeauthorized, jobs.ZoomAppDeauthorized(st, cfg.ZoomClientID))
	var zoomAPI *zoomconn.Clients
	if zoomCfg != nil {
		zoomAPI = &zoomconn.Clients{Store: st, OAuth: zoomCfg, Log: log.With("component", "zoom-api")}
	}
	handlers.Register(webhook.EventMeetingUpdated, jobs.ZoomMeetingUpdated(st, zoomAPI))
	handlers.Register(webhook.EventMeetingDeleted, jobs.ZoomMeetingDeleted(st))
	handlers.Register(webhook.EventMeetingEnded, jobs.ZoomMeetingEnded(st, zoomAPI))
	batch := map[string]jobs.WebhookBatchHandler{
		webhook.EventParticipantJoined: jobs.ZoomParticipants(st),
		webhook.EventParticipantLeft:   jobs.ZoomParticipants(st),
	}
	for ev, h := range cfg.ZoomWebhookHandlers {
		handlers[ev] = h
		delete(batch, ev) // the configured handler wins
	}
	pay := &payflow.Flow{Store: st, BaseURL: strings.TrimRight(cfg.BaseURL, "/"), HTTP: cfg.StripeHTTPClient,
		Log: log.With("component", "payments"), Now: cfg.Now}
	jc, err := jobs.NewClient(jobs.Config{Store: st, Log: log, Now: cfg.Now, Mail: jobs.MailConfig{
		Renderer: renderer, Transport: transport, Nudger: nudger, Options: cfg.Mail,
		RegistrantWait: cfg.MailRegistrantWait},
		Webhooks: jobs.WebhookConfig{Handlers: handlers, Batch: batch, Nudger: whNudger, Options: cfg.ZoomWebhooks},
		Meetings: jobs.ZoomMeetingConfig{Zoom: zoomAPI, Nudger: mtNudger, Options: cfg.ZoomMeetings,
			RegistrantNudger: rgNudger, CheckRegistrants: cfg.ZoomCheckRegistrants, Reports: cfg.ZoomReports},
		Payments:  jobs.PaymentConfig{Flow: pay, WebhookNudger: shNudger, Nudger: pyNudger, Options: cfg.Payments},
		Reminders: cfg.Reminders})
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &App{cfg: cfg, Store: st, Jobs: jc, mailer: renderer, nudger: nudger, whNudger: whNudger,
		mtNudger: mtNudger, rgNudger: rgNudger, shNudger: shNudger, pyNudger: pyNudger, pay: pay, zoom: zoomCfg}
	stripeCfg := web.StripeConfig{APIURL: cfg.StripeAPIURL, HTTPClient: cfg.StripeHTTPClient,
		Simulated: cfg.StripeSimulated, PublicURL: a.publicURL}
	if sim := cfg.StripeSimulator; sim != nil {
		stripeCfg.TestAccountKey = sim.TestAccountKey
	}
	a.Web, err = web.New(web.Config{Stripe: stripeCfg, Store: st, Log: log, SecureCookies: cfg.SecureCookies,
		PasswordParams: cfg.PasswordParams, Now: cfg.Now, Ready: a.ready, DevOutbox: transport == nil,
		ZoomWebhookSecret: cfg.ZoomWebhookSecret, Zoom: zoomCfg, ZoomUnavailable: zoomOff,
		ZoomSimulated: cfg.ZoomSimulated && zoomCfg != nil, ZoomAPI: zoomAPI, Payments: pay})
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// zoomSetup finds the key that seals Zoom's tokens and the Zoom app. When
// Zoom features are off, zoomOff is the message key that says why.
func zoomSetup(cfg Config) (box *secretbox.Box, zc *zoom.OAuthConfig, zoomOff string, err error) {
	key, err := secretbox.LoadKey(cfg.SecretKey, cfg.DataDir, cfg.DatabaseURL != "")
	switch {
	case errors.Is(err, secretbox.ErrNoKey):
		cfg.Logger.Warn("Zoom features are off", "reason", err.Error())
		zoomOff = "zoom.no_secret_key"
	case err != nil:
		return nil, nil, "", fmt.Errorf("app: KAISAI_SECRET_KEY: %w", err)
	default:
		if box, err = secretbox.New(key); err != nil {
			return nil, nil, "", fmt.Errorf("app: KAISAI_SECRET_KEY: %w", err)
		}
	}
	if cfg.ZoomClientID == "" || cfg.ZoomClientSecret == "" {
		if zoomOff == "" {
			zoomOff = "zoom.not_configured"
		}
		return box, nil, zoomOff, nil
	}
	if box == nil {
		return nil, nil, zoomOff, nil
	}
	zc = &zoom.OAuthConfig{ClientID: cfg.ZoomClientID, ClientSecret: cfg.ZoomClientSecret,
		RedirectURL: cfg.ZoomRedirectURL, APIURL: cfg.ZoomAPIURL, HTTPClient: cfg.ZoomHTTPClient}
	if zc.RedirectURL == "" && cfg.BaseURL != "" {
		zc.RedirectURL = strings.TrimRight(cfg.BaseURL, "/") + ZoomCallbackPath
	}
	if base := strings.TrimRight(cfg.ZoomOAuthURL, "/"); base != "" {
		zc.AuthURL, zc.TokenURL, zc.RevokeURL = base+"/oauth/authorize", base+"/oauth/token", base+"/oauth/revoke"
	}
	return box, zc, "", nil
}

// ready reports whether the job workers run.
func (a *App) ready(ctx context.Context) error {
	select {
	case <-a.Jobs.Stopped():
		return errors.New("job workers stopped")
	default:
		return nil
	}
}

// Start listens on Addr and starts the job workers.
func (a *App) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("app: listen on %s: %w", a.cfg.Addr, err)
	}
	a.listener = ln
	if a.mailer.BaseURL == "" {
		a.mailer.BaseURL = a.URL() // links in mail lead here (tests; `kaisai serve` always sets BaseURL)
	}
	if a.pay.BaseURL == "" {
		a.pay.BaseURL = a.URL() // Stripe's pages lead back here
	}
	if a.zoom != nil && a.zoom.RedirectURL == "" {
		a.zoom.RedirectURL = a.URL() + ZoomCallbackPath
	}
	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return fmt.Errorf("app: start job workers: %w", err)
	}
	a.nudger.Start(a.Jobs, a.cfg.Logger)
	a.whNudger.Start(a.Jobs, a.cfg.Logger)
	a.mtNudger.Start(a.Jobs, a.cfg.Logger)
	a.rgNudger.Start(a.Jobs, a.cfg.Logger)
	a.shNudger.Start(a.Jobs, a.cfg.Logger)
	a.pyNudger.Start(a.Jobs, a.cfg.Logger)
	// Whatever a crash left is looked at now: the periodic sweeps run only
	// on River's leader, and a killed leader keeps that role for a while.
	a.nudger.Nudge()
	a.whNudger.Nudge()
	a.mtNudger.Nudge()
	a.rgNudger.Nudge()
	a.shNudger.Nudge()
	a.pyNudger.Nudge()
	a.server = &http.Server{
		Handler:           a.Web,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.cfg.Logger.Handler(), slog.LevelWarn),
	}
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		if err := a.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.serveErr = err
		}
	}()
	a.cfg.Logger.Info("kaisai listening", "url", a.URL(), "database", a.Store.Dialect())
	if sim := a.cfg.ZoomSimulator; sim != nil {
		// Zoom's endpoint validation reaches kaisai now that it serves.
		if err := sim.SetWebhookEndpoint(a.URL()+"/webhooks/zoom", a.cfg.ZoomWebhookSecret); err != nil {
			a.cfg.Logger.Error("Zoom simulator: webhook endpoint", "err", err)
		}
	}
	if a.cfg.StripeSimulated {
		a.cfg.Logger.Warn("payments are SIMULATED: kaisai talks to a Stripe simulator, not to the real Stripe",
			"simulator", a.cfg.StripeAPIURL)
	}
	if a.cfg.ZoomSimulated && a.zoom != nil {
		a.cfg.Logger.Warn("Zoom is SIMULATED: kaisai talks to a Zoom simulator, not to the real Zoom",
			"simulator", a.cfg.ZoomOAuthURL)
	}
	return nil
}

// publicURL is kaisai's public base URL (BaseURL, else where it answers),
// for the webhook endpoints it registers at Stripe.
func (a *App) publicURL() string {
	if a.cfg.BaseURL != "" {
		return strings.TrimRight(a.cfg.BaseURL, "/")
	}
	if a.listener == nil {
		return ""
	}
	return a.URL()
}

// URL is where the running app answers.
func (a *App) URL() string { return "http://" + a.listener.Addr().String() }

// Done is closed when the server stops serving; Err then says why (nil
// after Close).
func (a *App) Done() <-chan struct{} { return a.done }

// Err is the error that stopped the server, if any.
func (a *App) Err() error {
	<-a.done
	return a.serveErr
}

// Close stops taking requests, lets those in flight finish, stops the job
// workers after their current jobs, and closes the database.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.server != nil {
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := a.Err(); err != nil {
			errs = append(errs, err)
		}
		// Mail delivery finishes the mail in hand; what is left is swept at
		// the next start.
		a.nudger.Stop()
		a.whNudger.Stop()
		a.mtNudger.Stop()
		a.rgNudger.Stop()
		a.shNudger.Stop()
		a.pyNudger.Stop()
		if err := a.Jobs.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("job workers: %w", err))
		}
	}
	if err := a.Store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Run starts kaisai and serves until ctx is cancelled (SIGTERM or SIGINT in
// `kaisai serve`), then shuts down gracefully within 30 seconds.
func Run(ctx context.Context, cfg Config) error {
	a, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		a.Store.Close()
		return err
	}
	select {
	case <-ctx.Done():
		cfg.Logger.Info("shutting down")
	case <-a.Done():
		cfg.Logger.Error("server stopped", "err", a.Err())
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err = a.Close(shutdownCtx)
	if err == nil {
		cfg.Logger.Info("stopped")
	}
	return err
}
