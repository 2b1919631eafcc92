package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
	"kaisai/internal/stripesim"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomsim"
)

// kaisai beside the Zoom simulator, both in this process, the way
// `kaisai serve` runs them in development (cmd/kaisai) and the way
// internal/app's Zoom tests set them up.

// The app and user zoomsim.DefaultSeed provides.
const (
	simApp, simAppSecret = "kaisai-dev", "kaisai-dev-secret"
	simRedirect          = "http://127.0.0.1:8080" + app.ZoomCallbackPath // registered in the seeded app
	hostEmail            = "licensed@example.com"                         // a licensed user
)

// simAdapter is app.ZoomSimulator over the seeded app.
type simAdapter struct{ *zoomsim.Server }

func (s simAdapter) SetWebhookEndpoint(url, secret string) error {
	return s.Server.SetWebhookEndpoint(simApp, url, secret)
}

// stripeSimAdapter is app.StripeSimulator over the seeded test account.
type stripeSimAdapter struct{ *stripesim.Server }

func (s stripeSimAdapter) TestAccountKey(context.Context) (string, error) {
	return stripesim.DefaultSeed().Accounts[0].SecretKey, nil
}

// connectStripe connects the Stripe simulator's test account to the
// organization as 決済設定 does: the key checked, the connection stored,
// kaisai's webhook endpoint registered on the account and its secret kept.
func (w *zoomWorld) connectStripe(ctx context.Context, orgID int64) (int64, error) {
	key := stripesim.DefaultSeed().Accounts[0].SecretKey
	base := w.ssim.BaseURL()
	cl, err := stripe.New(stripe.Config{APIURL: base, Key: key})
	if err != nil {
		return 0, err
	}
	acct, err := cl.Account(ctx)
	if err != nil {
		return 0, fmt.Errorf("stripe account: %w", err)
	}
	st := w.app.Store
	conn, err := st.BeginStripeConnection(ctx, orgID, store.StripeAccount{ID: acct.ID, DisplayName: acct.Name}, key, base)
	if err != nil {
		return 0, err
	}
	ep, err := cl.CreateWebhookEndpoint(ctx, w.app.URL()+"/webhooks/stripe/"+strconv.FormatInt(conn, 10))
	if err != nil {
		return 0, fmt.Errorf("stripe webhook endpoint: %w", err)
	}
	return conn, st.CompleteStripeConnection(ctx, orgID, conn, ep.ID, ep.Secret)
}

// zoomCall is one call kaisai made to Zoom.
type zoomCall struct {
	Call       string        // method and path shape: "POST batch_registrants"
	Start, End time.Duration // since the transport's zero
	Status     int           // 0: no answer
	RetryAfter string
}

// callShape names a call by its method and the path's last word.
func callShape(r *http.Request) string {
	p := strings.TrimRight(r.URL.Path, "/")
	return r.Method + " " + p[strings.LastIndex(p, "/")+1:]
}

const batchAdd = "POST batch_registrants"

// zoomCalls is kaisai's HTTP transport to Zoom: it counts 429 answers and
// notes every call, to show how kaisai paced them.
type zoomCalls struct {
	next  http.RoundTripper
	zero  time.Time
	mu    sync.Mutex
	n429  int
	calls []zoomCall
	added func(emails []string, sent, answered time.Time) // see onAdded
}

// onAdded has f called with the e-mails of every batch add Zoom answers
// 2xx, when the call was sent and when its answer came: the registrants
// exist on Zoom from a moment between the two.
func (z *zoomCalls) onAdded(f func(emails []string, sent, answered time.Time)) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.added = f
}

// batchEmails are the e-mails of a batch add's body.
func batchEmails(body []byte) []string {
	var in struct {
		Registrants []struct {
			Email string `json:"email"`
		} `json:"registrants"`
	}
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	out := make([]string, len(in.Registrants))
	for i, r := range in.Registrants {
		out[i] = strings.ToLower(r.Email)
	}
	return out
}

func newZoomCalls() *zoomCalls {
	return &zoomCalls{next: http.DefaultTransport, zero: time.Now()}
}

func (z *zoomCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	shape := callShape(r)
	var body []byte
	if shape == batchAdd && r.Body != nil {
		// Kept to name who was added; the request goes on with a copy.
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	sent := time.Now()
	start := sent.Sub(z.zero)
	resp, err := z.next.RoundTrip(r)
	answered := time.Now()
	c := zoomCall{Call: shape, Start: start, End: answered.Sub(z.zero)}
	if resp != nil {
		c.Status, c.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	}
	z.mu.Lock()
	if c.Status == http.StatusTooManyRequests {
		z.n429++
	}
	z.calls = append(z.calls, c)
	added := z.added
	z.mu.Unlock()
	if added != nil && shape == batchAdd && c.Status/100 == 2 {
		added(batchEmails(body), sent, answered)
	}
	return resp, err
}

// snapshot is the calls so far.
func (z *zoomCalls) snapshot() (n429 int, calls []zoomCall) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.n429, slices.Clone(z.calls)
}

// zoomWorld is the simulator and kaisai wired to it.
type zoomWorld struct {
	name  string // the bench's, for messages
	sim   *zoomsim.Server
	ssim  *stripesim.Server // with worldConfig.Stripe
	app   *app.App
	calls *zoomCalls
	db    *database
}

// worldConfig is what a bench asks of its zoomWorld.
type worldConfig struct {
	Name        string // the bench's name: its database's and its messages'
	PostgresURL string // empty: SQLite in a temporary directory
	Verbose     bool   // kaisai's and the simulator's log on stderr
	// LimitsOff starts the simulator with Zoom's rate limits off, for a
	// setup that should not wait on them; SetLimits turns them on.
	LimitsOff bool
	// WebhookSecret is kaisai's ZoomWebhookSecret (the simulator signs
	// with it too); empty: kaisai generates one.
	WebhookSecret string
	// Stripe starts the Stripe simulator beside kaisai too, as `kaisai
	// serve` does by default (connectStripe connects its test account);
	// its webhooks are sent through StripeHooks when set.
	Stripe      bool
	StripeHooks http.RoundTripper
	// StripeAPI, when set, carries kaisai's calls to Stripe.
	StripeAPI http.RoundTripper
}

// startZoomWorld starts the simulator with Zoom's limits (the host's account
// on Pro) and kaisai with its default job settings on a fresh database.
func startZoomWorld(ctx context.Context, cfg worldConfig, stderr io.Writer) (w *zoomWorld, err error) {
	logOut := io.Discard
	if cfg.Verbose {
		logOut = stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	limits := zoomsim.ZoomLimits() // on, as Zoom publishes them
	limits.Off = cfg.LimitsOff
	sim, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed(), Limits: &limits,
		Logger: log.With("component", "zoomsim")})
	if err != nil {
		return nil, err
	}
	w = &zoomWorld{name: cfg.Name, sim: sim, calls: newZoomCalls()}
	defer func() {
		if err != nil {
			w.close(ctx, io.Discard)
		}
	}()
	if _, err := sim.Start(ctx, "127.0.0.1:0"); err != nil {
		return w, err
	}
	host, ok := sim.User(hostEmail)
	if !ok {
		return w, fmt.Errorf("the simulator has no user %s", hostEmail)
	}
	sim.SetPlan(host.AccountID, zoomsim.PlanPro)

	if w.db, err = newDatabase(ctx, cfg.PostgresURL, cfg.Name); err != nil {
		return w, err
	}
	var stripeSim app.StripeSimulator
	if cfg.Stripe {
		hooks := &http.Client{Timeout: 10 * time.Second, Transport: cfg.StripeHooks} // Stripe's own timeout
		// Stripe's own delivery rules: no time scaling, no faults.
		w.ssim, err = stripesim.New(stripesim.Options{Seed: stripesim.DefaultSeed(),
			Webhooks: stripesim.WebhookOptions{Client: hooks}, Logger: log.With("component", "stripesim")})
		if err != nil {
			return w, err
		}
		if _, err := w.ssim.Start(ctx, "127.0.0.1:0"); err != nil {
			return w, err
		}
		stripeSim = stripeSimAdapter{w.ssim}
	}
	var stripeClient *http.Client
	if cfg.StripeAPI != nil {
		stripeClient = &http.Client{Transport: cfg.StripeAPI, Timeout: 80 * time.Second} // stripe-go's own default timeout
	}
	key := make([]byte, 32)
	rand.Read(key)
	// Only what connects kaisai to the simulator is set: the sync's job
	// settings (nudge, lease, backoff, sweep, coalescing) are the defaults.
	w.app, err = app.New(ctx, app.Config{
		Addr:             "127.0.0.1:0",
		DataDir:          w.db.DataDir,
		DatabaseURL:      w.db.URL,
		Logger:           log,
		SecretKey:        hex.EncodeToString(key), // PostgreSQL needs one given
		ZoomClientID:     simApp,
		ZoomClientSecret: simAppSecret,
		ZoomHTTPClient:   &http.Client{Transport: w.calls},
		ZoomSimulator:    simAdapter{sim},
		// The simulator signs with the secret kaisai was given, and so can a bench.
		ZoomWebhookSecret: cfg.WebhookSecret,
		StripeSimulator:   stripeSim,
		StripeHTTPClient:  stripeClient,
	})
	if err != nil {
		return w, fmt.Errorf("start kaisai: %w", err)
	}
	if err := w.app.Start(ctx); err != nil {
		w.app.Store.Close()
		w.app = nil
		return w, fmt.Errorf("start kaisai: %w", err)
	}
	return w, nil
}

func (w *zoomWorld) close(ctx context.Context, out io.Writer) error {
	var err error
	if w.app != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err = w.app.Close(ctx); err != nil {
			err = fmt.Errorf("stop kaisai: %w", err)
		}
	}
	w.sim.Close()
	if w.ssim != nil {
		w.ssim.Close()
	}
	if w.db != nil {
		if derr := w.db.Drop(); derr != nil {
			fmt.Fprintf(out, "%s: drop database: %v\n", w.name, derr)
		}
	}
	return err
}

// linkHost links the simulator's licensed user to the organization as an
// organizer's browser would: consent page, code, PKCE exchange.
func (w *zoomWorld) linkHost(ctx context.Context, orgID int64) (int64, error) {
	base := w.sim.BaseURL()
	oc := &zoom.OAuthConfig{ClientID: simApp, ClientSecret: simAppSecret, RedirectURL: simRedirect,
		AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", RevokeURL: base + "/oauth/revoke"}
	verifier := zoom.GenerateVerifier()
	u, err := url.Parse(oc.AuthCodeURL("bench", verifier))
	if err != nil {
		return 0, err
	}
	form := u.Query()
	form.Set("email", hostEmail)
	form.Set("password", "password")
	form.Set("action", "approve")
	noFollow := &http.Client{Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(base+"/oauth/authorize", form)
	if err != nil {
		return 0, fmt.Errorf("zoom consent: %w", err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	code := ""
	if err == nil {
		code = back.Query().Get("code")
	}
	if code == "" {
		return 0, fmt.Errorf("zoom consent: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := oc.Exchange(ctx, code, verifier)
	if err != nil {
		return 0, fmt.Errorf("zoom token exchange: %w", err)
	}
	me, err := zoom.NewClient(nil, tok.APIURL, func(context.Context) (string, error) { return tok.AccessToken, nil }).Me(ctx)
	if err != nil {
		return 0, fmt.Errorf("zoom user: %w", err)
	}
	return w.app.Store.LinkZoomConnection(ctx, orgID, store.ZoomUser{ID: me.ID, AccountID: me.AccountID, Email: me.Email,
		DisplayName: me.FirstName + " " + me.LastName, Type: me.Type},
		store.ZoomTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry,
			Scopes: tok.Scope, APIURL: tok.APIURL})
}

// zoomEvent is what a bench sets up in kaisai: an organization with the
// licensed host linked, and a published event whose one Zoom group (that
// host) has schedules a week and more ahead, each its own meeting.
type zoomEvent struct {
	OrgID     int64
	Event     event.Event
	Group     event.ScheduleGroup
	Schedules []event.Schedule
}

// createZoomEvent sets up e (its title and fee; the rest is filled in) with
// a Zoom group of settings zs and n schedules of the largest capacity,
// through the store.
func (w *zoomWorld) createZoomEvent(ctx context.Context, e event.Event, zs event.ZoomSettings, n int) (*zoomEvent, error) {
	st := w.app.Store
	org, _, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "ベンチ主催者", Name: "オーナー",
		Email: "owner@bench.example.com"}, "not-a-hash")
	if err != nil {
		return nil, err
	}
	if zs.ConnID, err = w.linkHost(ctx, org.ID); err != nil {
		return nil, err
	}
	e.OrgID, e.TimeZone, e.Status = org.ID, "Asia/Tokyo", event.StatusPublished
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	g := event.ScheduleGroup{OrgID: org.ID, EventID: e.ID, Venue: event.VenueZoom, Zoom: &zs}
	g.Normalize()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	ze := &zoomEvent{OrgID: org.ID, Event: e, Group: g, Schedules: make([]event.Schedule, n)}
	for i := range ze.Schedules {
		start := time.Now().Add(time.Duration(7+i) * 24 * time.Hour).Truncate(time.Hour).UTC()
		ze.Schedules[i] = event.Schedule{OrgID: org.ID, EventID: e.ID, GroupID: g.ID, StartsAt: start,
			EndsAt: start.Add(90 * time.Minute), Capacity: event.MaxCapacity}
		if _, err := st.CreateSchedule(ctx, &ze.Schedules[i], ""); err != nil {
			return nil, fmt.Errorf("create schedule: %w", err)
		}
	}
	return ze, nil
}

// waitMeetings waits until every schedule of ze has its meeting on Zoom and
// no registrant list is due or leased, and returns the Zoom meeting ids by
// schedule id.
func (w *zoomWorld) waitMeetings(ctx context.Context, ze *zoomEvent) (map[int64]int64, error) {
	zoomIDs := map[int64]int64{}
	err := poll(ctx, 100*time.Millisecond, "the meetings on Zoom", func() (bool, error) {
		rows, err := w.app.Store.EventZoomMeetings(ctx, ze.OrgID, ze.Event.ID)
		if err != nil {
			return false, err
		}
		for _, r := range rows {
			if r.ZoomID != 0 {
				zoomIDs[r.ScheduleID] = r.ZoomID
			}
		}
		for _, s := range ze.Schedules {
			if zoomIDs[s.ID] == 0 {
				return false, nil
			}
		}
		return w.listsIdle(ctx)
	})
	return zoomIDs, err
}

// registrantCount is how many registrants a meeting has on the simulator,
// whatever their status: a cheap look, unlike State.
func (w *zoomWorld) registrantCount(zoomID int64) int {
	m, ok := w.sim.Meeting(zoomID)
	if !ok {
		return 0
	}
	n, _ := m["registrants"].(int)
	return n
}

// registrants are a meeting's registrants on the simulator: approved
// e-mails (lower-cased) and how many registrants each e-mail has.
func (w *zoomWorld) registrants(zoomID int64) (approved map[string]bool, perEmail map[string]int) {
	approved, perEmail = map[string]bool{}, map[string]int{}
	for _, m := range w.sim.State().Meetings {
		if m.ID != zoomID {
			continue
		}
		for _, r := range m.Registrants {
			e := strings.ToLower(r.Email)
			perEmail[e]++
			if r.Status == "approved" {
				approved[e] = true
			}
		}
	}
	return approved, perEmail
}

// listsIdle reports that no registrant list is due or leased.
func (w *zoomWorld) listsIdle(ctx context.Context) (bool, error) {
	return w.app.Store.RegistrantListsIdle(ctx)
}

// poll calls cond every interval until it holds, fails, or ctx ends.
func poll(ctx context.Context, interval time.Duration, what string, cond func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
