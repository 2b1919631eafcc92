// Package web serves kaisai's pages: the organizers' screens, the
// participants' event and application pages, health checks and static files.
// One file per screen or action; all text comes from the i18n catalogs.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"kaisai/internal/auth"
	"kaisai/internal/i18n"
	"kaisai/internal/payflow"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomconn"
)

// Config is what the web layer needs from the application.
type Config struct {
	Store *store.Store
	Log   *slog.Logger
	// Ready reports whether the rest of the application (the job queue) runs,
	// for /readyz; nil means always.
	Ready func(context.Context) error
	// SecureCookies sets the Secure flag on cookies (behind HTTPS).
	SecureCookies bool
	// PasswordParams are argon2id's costs; zero means auth.DefaultParams.
	PasswordParams auth.Params
	Now            func() time.Time
	// DevOutbox says no SMTP server is configured: mail is kept and shown
	// at /mails instead of sent, and that page says so.
	DevOutbox bool
	// ZoomWebhookSecret verifies POST /webhooks/zoom; empty answers 503.
	ZoomWebhookSecret string
	// Zoom is the Zoom app organizers link their Zoom users with
	// (サービス連携); nil when Zoom is not configured: ZoomUnavailable says why.
	Zoom *zoom.OAuthConfig
	// ZoomUnavailable is the message key shown instead of 「Zoomと連携する」
	// when Zoom features are off.
	ZoomUnavailable string
	// ZoomSimulated says kaisai talks to the built-in Zoom simulator: every
	// organizer page says so in a banner.
	ZoomSimulated bool
	// ZoomAPI calls Zoom as the organization's linked users (a host's
	// passcode policy, a meeting's fresh start URL); nil when Zoom is off.
	ZoomAPI *zoomconn.Clients
	// Payments takes payments through the organizations' Stripe accounts;
	// nil: paid applications are marked 入金済 by hand only.
	Payments *payflow.Flow
	// Stripe is how 決済設定 reaches Stripe.
	Stripe StripeConfig
}

// Server holds the handlers' shared dependencies.
type Server struct {
	store    *store.Store
	log      *slog.Logger
	ready    func(context.Context) error
	secure   bool
	pwParams auth.Params
	now      func() time.Time
	devMail  bool
	msgs     *i18n.Catalog
	pages    *pages
	handler  http.Handler
	// zoomSecret is the webhook Secret Token; noSecretOnce logs its absence once.
	zoomSecret   string
	noSecretOnce sync.Once
	zoom         *zoom.OAuthConfig
	zoomOff      string
	zoomSim      bool
	zoomAPI      *zoomconn.Clients
	pay          *payflow.Flow
	stripe       StripeConfig
}

// Limits on what a request may carry.
const (
	maxFormBytes = 64 << 10
	sessionTTL   = 14 * 24 * time.Hour
)

// New builds the handler tree.
func New(cfg Config) (*Server, error) {
	msgs, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{store: cfg.Store, log: cfg.Log, ready: cfg.Ready, secure: cfg.SecureCookies,
		pwParams: cfg.PasswordParams, now: cfg.Now, devMail: cfg.DevOutbox, msgs: msgs, pages: pg,
		zoomSecret: cfg.ZoomWebhookSecret, zoom: cfg.Zoom, zoomOff: cfg.ZoomUnavailable, zoomSim: cfg.ZoomSimulated,
		zoomAPI: cfg.ZoomAPI, pay: cfg.Payments, stripe: cfg.Stripe}
	if s.zoom == nil && s.zoomOff == "" {
		s.zoomOff = "zoom.not_configured"
	}
	if s.pwParams == (auth.Params{}) {
		s.pwParams = auth.DefaultParams
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}

	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		h := rt.handler
		if rt.organizer {
			h = s.requireMember(h)
		}
		mux.Handle(rt.method+" "+rt.pattern, h)
	}
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("/", s.notFound)

	// Every state-changing request must come from kaisai's own pages: the
	// browser's Sec-Fetch-Site / Origin headers prove it (Go's CSRF guard).
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusForbidden, "error.cross_origin")
	}))
	s.handler = s.recoverer(s.logRequests(cop.Handler(s.limitBody(s.textURLs(mux)))))
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// route is one page or action. Organizer routes need a logged-in member and
// must answer 404 for another organization's ids.
type route struct {
	method, pattern string
	organizer       bool
	handler         http.HandlerFunc
}

func (s *Server) routes() []route {
	pub := func(method, pattern string, h http.HandlerFunc) route { return route{method, pattern, false, h} }
	org := func(method, pattern string, h http.HandlerFunc) route { return route{method, pattern, true, h} }
	return []route{
		pub("GET", "/{$}", s.home),
		pub("GET", "/healthz", s.healthz),
		pub("GET", "/readyz", s.readyz),
		pub("POST", "/lang", s.setLang),
		pub("GET", "/signup", s.signupForm),
		pub("POST", "/signup", s.signup),
		pub("GET", "/login", s.loginForm),
		pub("POST", "/login", s.login),
		pub("POST", "/logout", s.logout),
		// Server to server from Zoom: verified by its signature, not a session.
		pub("POST", "/webhooks/zoom", s.zoomWebhook),
		pub("POST", "/webhooks/stripe/{connection}", s.stripeWebhook),

		pub("GET", "/e/{slug}", s.publicEvent),
		pub("GET", "/e/{slug}/seats", s.publicSeats),
		pub("POST", "/e/{slug}", s.applyEdit),
		pub("POST", "/e/{slug}/confirm", s.applyConfirm),
		pub("POST", "/e/{slug}/apply", s.apply),
		pub("GET", "/e/{slug}/links", s.linksForm),
		pub("POST", "/e/{slug}/links", s.linksRequest),
		pub("GET", "/a/{token}", s.applicationPage),
		pub("GET", "/a/{token}/cancel", s.cancelConfirm),
		pub("POST", "/a/{token}/cancel", s.cancelApplication),
		pub("POST", "/a/{token}/pay", s.startPayment),
		pub("GET", "/a/{token}/paid", s.paymentReturn),
		pub("GET", "/a/{token}/receipt", s.receiptPage),
		pub("GET", "/a/{token}/calendar.ics", s.calendarICS),
		pub("POST", "/a/{token}/receipt", s.issueReceipt),

		org("GET", "/events", s.eventList),
		org("GET", "/events/new", s.eventNew),
		org("POST", "/events/new", s.eventCreate),
		org("GET", "/events/{eventID}", s.eventShow),
		org("GET", "/events/{eventID}/edit", s.eventEdit),
		org("GET", "/events/{eventID}/qr.svg", s.eventQR),
		org("GET", "/events/{eventID}/poster", s.eventPoster),
		org("POST", "/events/{eventID}/edit", s.eventUpdate),
		org("GET", "/events/{eventID}/delete", s.eventDeleteConfirm),
		org("POST", "/events/{eventID}/delete", s.eventDelete),
		org("GET", "/events/{eventID}/groups/new", s.groupNew),
		org("POST", "/events/{eventID}/groups/new", s.groupCreate),
		org("GET", "/events/{eventID}/groups/{groupID}/edit", s.groupEdit),
		org("POST", "/events/{eventID}/groups/{groupID}/edit", s.groupUpdate),
		org("GET", "/events/{eventID}/groups/{groupID}/delete", s.groupDeleteConfirm),
		org("POST", "/events/{eventID}/groups/{groupID}/delete", s.groupDelete),
		org("GET", "/events/{eventID}/groups/{groupID}/schedules/new", s.scheduleNew),
		org("POST", "/events/{eventID}/groups/{groupID}/schedules/new", s.scheduleCreate),
		org("GET", "/events/{eventID}/schedules/{scheduleID}/edit", s.scheduleEdit),
		org("POST", "/events/{eventID}/schedules/{scheduleID}/edit", s.scheduleUpdate),
		org("GET", "/events/{eventID}/schedules/{scheduleID}/delete", s.scheduleDeleteConfirm),
		org("POST", "/events/{eventID}/schedules/{scheduleID}/delete", s.scheduleDelete),
		// the Zoom meetings of an event's schedules
		org("GET", "/events/{eventID}/zoom-meetings", s.zoomMeetingsBlock),
		org("POST", "/events/{eventID}/zoom-meetings/{meetingID}/retry", s.zoomMeetingRetry),
		org("POST", "/events/{eventID}/zoom-meetings/{meetingID}/reapply", s.zoomMeetingReapply),
		org("POST", "/events/{eventID}/zoom-meetings/{meetingID}/recreate", s.zoomMeetingRecreate),
		org("GET", "/events/{eventID}/zoom-meetings/{meetingID}/start", s.zoomMeetingStart),
		org("GET", "/events/{eventID}/applications", s.applicationList),
		org("GET", "/events/{eventID}/applications.csv", s.applicationCSV),
		org("GET", "/events/{eventID}/applications/live", s.applicationsLive),
		org("POST", "/events/{eventID}/zoom-participants/{sessionID}/match", s.zoomParticipantMatch),
		org("GET", "/events/{eventID}/applications/{appID}", s.applicationShow),
		org("POST", "/events/{eventID}/applications/{appID}/payment", s.applicationPayment),
		org("GET", "/events/{eventID}/applications/{appID}/receipt", s.applicationReceipt),
		org("POST", "/events/{eventID}/payments/{paymentID}/reinstate", s.paymentReinstate),
		org("POST", "/events/{eventID}/payments/{paymentID}/resolve", s.paymentResolve),
		org("POST", "/events/{eventID}/payments/{paymentID}/refund", s.paymentRefund),
		org("POST", "/events/{eventID}/applications/{appID}/checkin", s.applicationCheckIn),
		org("POST", "/events/{eventID}/applications/{appID}/promote", s.applicationPromote),
		org("GET", "/events/{eventID}/applications/{appID}/cancel", s.applicationCancelForm),
		org("POST", "/events/{eventID}/applications/{appID}/cancel", s.applicationCancel),
		org("POST", "/events/{eventID}/refunds/{refundID}/retry", s.refundRetry),
		org("POST", "/events/{eventID}/applications/{appID}/memo", s.applicationMemo),
		org("POST", "/events/{eventID}/applications/{appID}/edit", s.applicationEdit),
		org("POST", "/events/{eventID}/applications/{appID}/zoom-retry", s.applicationZoomRetry),
		org("GET", "/events/{eventID}/applications/{appID}/delete", s.applicationDeleteConfirm),
		org("POST", "/events/{eventID}/applications/{appID}/delete", s.applicationDelete),
		// mail
		org("GET", "/events/{eventID}/mail", s.mailTemplates),
		org("POST", "/events/{eventID}/mail", s.mailTemplatesSave),
		org("POST", "/events/{eventID}/mail/reset", s.mailTemplateReset),
		org("POST", "/events/{eventID}/reminders", s.remindersSave),
		org("GET", "/mails", s.mails),
		org("POST", "/mails/{mailID}/retry", s.mailRetry),
		org("GET", "/members", s.memberList),
		// サービス連携
		org("GET", "/integrations", s.integrations),
		org("POST", "/integrations/zoom/start", s.zoomLinkStart),
		org("GET", "/integrations/zoom/callback", s.zoomLinkCallback),
		org("GET", "/integrations/zoom/{connID}/unlink", s.zoomUnlinkConfirm),
		org("POST", "/integrations/zoom/{connID}/unlink", s.zoomUnlink),
		org("POST", "/members", s.memberAdd),
		// 決済設定
		org("GET", "/settings/payments", s.payments),
		org("POST", "/settings/payments/connect", s.stripeConnect),
		org("POST", "/settings/payments/connect-test", s.stripeConnectTest),
		org("POST", "/settings/payments/{connID}/methods", s.stripeMethods),
		org("GET", "/settings/payments/{connID}/disconnect", s.stripeDisconnectConfirm),
		org("POST", "/settings/payments/{connID}/disconnect", s.stripeDisconnect),
		// 請求情報: the issuer of the organization's 領収書
		org("GET", "/settings/billing", s.billing),
		org("POST", "/settings/billing", s.billingSave),
	}
}

// OrganizerRoute is a method and pattern of a page that needs a login.
type OrganizerRoute struct{ Method, Pattern string }

// OrganizerRoutes lists every organizer route, for tests that walk them all.
func (s *Server) OrganizerRoutes() []OrganizerRoute {
	var rs []OrganizerRoute
	for _, rt := range s.routes() {
		if rt.organizer {
			rs = append(rs, OrganizerRoute{rt.method, rt.pattern})
		}
	}
	return rs
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("not ready: database", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := s.ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.currentMember(r); ok {
		http.Redirect(w, r, "/events", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "home", nil)
}

// limitBody caps request bodies: a form is small. Zoom's and Stripe's
// webhooks have a larger cap of their own (zoomWebhookMaxBytes,
// stripeWebhookMaxBytes), applied by their handlers.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.URL.Path != zoomWebhookPath && !strings.HasPrefix(r.URL.Path, StripeWebhookPath) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		lvl := slog.LevelDebug
		if sw.status >= 500 {
			lvl = slog.LevelError
		}
		s.log.Log(r.Context(), lvl, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
