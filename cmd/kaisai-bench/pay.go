package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/stripesim"
)

// payConfig is the flags of `kaisai-bench pay`.
type payConfig struct {
	N           int           // applicants who pay
	Spread      time.Duration // over which the payments are spread evenly
	Clients     int           // concurrent clients applying (setup)
	Via         string        // "page": the hosted page's form; "api": the control API
	Return      bool          // the payer's browser comes back to the success URL
	Deadline    time.Duration // after the last payment, how long a registrant may take before it is lost
	PostgresURL string
	CPUProfile  string
	Verbose     bool
}

func parsePayFlags(args []string, stderr io.Writer) (payConfig, error) {
	fs := flag.NewFlagSet("kaisai-bench pay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c payConfig
	fs.IntVar(&c.N, "n", 1000, "applicants who pay by card")
	fs.DurationVar(&c.Spread, "spread", 10*time.Second, "the payments are spread evenly over this time")
	fs.IntVar(&c.Clients, "clients", 16, "concurrent clients applying during the setup")
	fs.StringVar(&c.Via, "via", "page", "how a payer pays: page (POST of the simulator's hosted Checkout form) or api (its control API, POST /_sim/checkout/sessions/{id}/pay)")
	fs.BoolVar(&c.Return, "return", false, "the payer's browser follows Stripe's redirect back to kaisai's success URL (default: it does not, so only the webhook tells kaisai)")
	fs.DurationVar(&c.Deadline, "deadline", time.Minute, "how long after the last payment a registrant may take before the payment counts as lost")
	fs.StringVar(&c.PostgresURL, "postgres", "", "postgres:// URL of a server whose user may create databases; empty means SQLite")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the payments and their way to Zoom to this file (the whole process: kaisai, both simulators, the payers)")
	fs.BoolVar(&c.Verbose, "verbose", false, "show kaisai's and the simulators' log on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai-bench pay [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("pay: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.N < 1 || c.N > 4999:
		return c, errors.New("-n must be between 1 and 4999 (Zoom's registrants a meeting)")
	case c.Spread < 0 || c.Spread > 10*time.Minute:
		return c, errors.New("--spread must be between 0 and 10m")
	case c.Clients < 1 || c.Clients > 1024:
		return c, errors.New("--clients must be between 1 and 1024")
	case c.Via != "page" && c.Via != "api":
		return c, errors.New("--via must be page or api")
	case c.Return && c.Via != "page":
		return c, errors.New("--return needs --via page (the hosted page is what redirects back)")
	case c.Deadline <= 0 || c.Deadline > 30*time.Minute:
		return c, errors.New("--deadline must be positive and at most 30m")
	}
	return c, nil
}

// payResult is what the last line reports.
type payResult struct {
	Payments            int // succeeded at Stripe
	P50, P95, Max       time.Duration
	Lost, Duplicates    int
	latencies, unprobed int
}

// Line is the result line, exactly:
//
//	pay payments=<n> p50_ms=<> p95_ms=<> max_ms=<> lost=<> duplicates=<>
func (r payResult) Line() string {
	return fmt.Sprintf("pay payments=%d p50_ms=%.0f p95_ms=%.0f max_ms=%.0f lost=%d duplicates=%d",
		r.Payments, millis(r.P50), millis(r.P95), millis(r.Max), r.Lost, r.Duplicates)
}

// payer is one applicant: the Checkout Session kaisai sent them to, when
// Stripe took their money, and when their registrant appeared on Zoom.
type payer struct {
	Email   string
	Session string
	Success string    // where Stripe sends the browser back
	PaidAt  time.Time // zero: the payment did not succeed
	Err     string
	Back    string // with --return: what kaisai's success URL answered, when not the expected 303
}

// stripeHooks is the Stripe simulator's transport for its webhooks: it
// notes when each checkout.session.completed was sent to kaisai and
// answered, by session, and how long every delivery took.
type stripeHooks struct {
	next http.RoundTripper
	mu   sync.Mutex
	// completed: the first 2xx delivery of each session's checkout.session.completed.
	completed map[string][2]time.Time
	all       []time.Duration // every delivery's round trip
	non2xx    int
}

func newStripeHooks() *stripeHooks {
	return &stripeHooks{next: http.DefaultTransport, completed: map[string][2]time.Time{}}
}

func (h *stripeHooks) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
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
	resp, err := h.next.RoundTrip(r)
	answered := time.Now()
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Object struct {
				ID string `json:"id"`
			} `json:"object"`
		} `json:"data"`
	}
	json.Unmarshal(body, &ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, answered.Sub(sent))
	ok := err == nil && resp.StatusCode/100 == 2
	if !ok {
		h.non2xx++
	}
	if _, seen := h.completed[ev.Data.Object.ID]; ok && !seen && ev.Type == "checkout.session.completed" {
		h.completed[ev.Data.Object.ID] = [2]time.Time{sent, answered}
	}
	return resp, err
}

// stripeCalls is kaisai's transport to Stripe: how long each kind of
// call took.
type stripeCalls struct {
	mu    sync.Mutex
	took  map[string][]time.Duration
	since time.Time // calls before are not kept
}

func (c *stripeCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	began := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.since.IsZero() && began.After(c.since) {
		// The path's shape: ids (xx_…) replaced.
		parts := strings.Split(r.URL.Path, "/")
		for i, p := range parts {
			if strings.Contains(p, "_") {
				parts[i] = "{id}"
			}
		}
		k := r.Method + " " + strings.Join(parts, "/")
		c.took[k] = append(c.took[k], time.Since(began))
	}
	return resp, err
}

func (c *stripeCalls) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since = time.Now()
}

// registered is what the Zoom probe saw of one e-mail: its first batch
// add answered 2xx, when it was sent and answered.
type registered struct{ Sent, Answered time.Time }

var checkoutPath = regexp.MustCompile(`/c/pay/(cs_test_[A-Za-z0-9]+)$`)

// benchPay is `kaisai-bench pay`.
func benchPay(ctx context.Context, cfg payConfig, stdout, stderr io.Writer) (err error) {
	dbKind := "sqlite"
	if cfg.PostgresURL != "" {
		dbKind = "postgres"
	}
	back := "does not come back to kaisai (the webhook alone tells it)"
	if cfg.Return {
		back = "comes back to kaisai's success URL"
	}
	fmt.Fprintf(stdout, "kaisai-bench pay: %d applicants pay by card over %s through the simulator's %s; the browser %s; %s, GOMAXPROCS=%d\n",
		cfg.N, cfg.Spread, map[string]string{"page": "hosted page", "api": "control API"}[cfg.Via], back, dbKind, runtime.GOMAXPROCS(0))
	hooks := newStripeHooks()
	api := &stripeCalls{took: map[string][]time.Duration{}}
	w, err := startZoomWorld(ctx, worldConfig{Name: "pay", PostgresURL: cfg.PostgresURL, Verbose: cfg.Verbose,
		Stripe: true, StripeHooks: hooks, StripeAPI: api}, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.close(ctx, stdout); cerr != nil && err == nil {
			err = cerr
		}
	}()

	// A paid event (¥3,000, card among the methods) whose one Zoom group
	// (登録 on, the licensed host on Pro) has one schedule; the simulator's
	// test account connected.
	setupCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	ze, err := w.createZoomEvent(setupCtx, event.Event{Title: "有料Zoomセミナー(決済ベンチ)", Fee: event.FeePaid, PriceJPY: 3000, PaymentDays: 3},
		event.ZoomSettings{Passcode: "abc123", WaitingRoom: true, Registration: true}, 1)
	if err != nil {
		return err
	}
	if _, err := w.connectStripe(setupCtx, ze.OrgID); err != nil {
		return err
	}
	zoomIDs, err := w.waitMeetings(setupCtx, ze)
	if err != nil {
		return err
	}
	zoomID := zoomIDs[ze.Schedules[0].ID]

	// Everyone applies through the public form and is sent to Stripe.
	tr := newTransport(max(cfg.Clients, 64))
	defer tr.CloseIdleConnections()
	hc := newHTTPClient(tr)
	payers, err := applyAll(setupCtx, hc, w.app.URL(), ze, cfg.N, cfg.Clients)
	if err != nil {
		return err
	}
	if err := poll(setupCtx, 50*time.Millisecond, "kaisai to be idle", func() (bool, error) { return w.listsIdle(setupCtx) }); err != nil {
		return err
	}
	if n := w.registrantCount(zoomID); n != 0 {
		return fmt.Errorf("%d registrants on Zoom before anyone paid", n)
	}
	fmt.Fprintf(stdout, "kaisai %s on %s, Stripe simulator %s: event %d, %d applications (未入金), each with its Checkout Session; meeting %d\n",
		w.app.URL(), w.app.Store.Dialect(), w.ssim.BaseURL(), ze.Event.ID, len(payers), zoomID)

	// Zoom's side: the first 2xx batch add naming each e-mail.
	// Zoom keeps one registrant an e-mail (an add of a registered e-mail
	// renews it), so adds that name someone again are counted apart.
	var regMu sync.Mutex
	reg := map[string]registered{}
	readds := 0
	w.calls.onAdded(func(emails []string, sent, answered time.Time) {
		regMu.Lock()
		defer regMu.Unlock()
		for _, e := range emails {
			if _, ok := reg[e]; !ok {
				reg[e] = registered{sent, answered}
			} else {
				readds++
			}
		}
	})
	regOf := func(email string) (registered, bool) {
		regMu.Lock()
		defer regMu.Unlock()
		r, ok := reg[email]
		return r, ok
	}

	prof := &profiler{}
	if cfg.CPUProfile != "" {
		if prof.f, err = os.Create(cfg.CPUProfile); err != nil {
			return err
		}
		defer prof.f.Close()
	}
	prof.start()
	api.start()
	// The payments, evenly spread, each in its own goroutine.
	began := time.Now()
	var wg sync.WaitGroup
	for i := range payers {
		at := began.Add(time.Duration(int64(cfg.Spread) * int64(i) / int64(len(payers))))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(at)):
		}
		wg.Add(1)
		go func(p *payer) {
			defer wg.Done()
			payOne(ctx, hc, w.ssim.BaseURL(), cfg, p)
		}(&payers[i])
	}
	wg.Wait()
	lastPaid := time.Now()
	paid := 0
	failures := map[string]int{}
	for _, p := range payers {
		if !p.PaidAt.IsZero() {
			paid++
		} else {
			failures[p.Err]++
		}
	}
	fmt.Fprintf(stdout, "paid %d of %d in %.2fs\n", paid, len(payers), lastPaid.Sub(began).Seconds())
	for msg, k := range failures {
		fmt.Fprintf(stdout, "payment failed %d × %s\n", k, msg)
	}
	badReturns := 0
	if cfg.Return {
		for _, p := range payers {
			if p.Back != "" {
				if badReturns == 0 {
					fmt.Fprintf(stdout, "the success URL answered %s\n", p.Back)
				}
				badReturns++
			}
		}
		fmt.Fprintf(stdout, "back at kaisai's success URL: %d of %d answered 303 to the application's page\n", paid-badReturns, paid)
	}

	// Wait for everyone paid to be on Zoom, up to the deadline.
	waitCtx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	_ = poll(waitCtx, 20*time.Millisecond, "every payer on Zoom", func() (bool, error) {
		for _, p := range payers {
			if _, ok := regOf(p.Email); !p.PaidAt.IsZero() && !ok {
				return false, nil
			}
		}
		return true, nil
	})
	if started, err := prof.stop(); err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	} else if started {
		fmt.Fprintf(stdout, "cpu profile of the payments until everyone was on Zoom: %s\n", cfg.CPUProfile)
	}
	// Then let kaisai settle before counting on Zoom's side.
	settle, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := poll(settle, 100*time.Millisecond, "the registrant lists to settle", func() (bool, error) {
		return w.listsIdle(settle)
	}); err != nil {
		return err
	}
	approved, perEmail := w.registrants(zoomID)

	res := payResult{Payments: paid}
	for _, k := range perEmail {
		res.Duplicates += k - 1
	}
	paidRows, err := w.paidMoments(ctx)
	if err != nil {
		return err
	}
	var lat, toHook, ack, toAdd, toMark, markToAdd, addCall []time.Duration
	var early int
	for _, p := range payers {
		if p.PaidAt.IsZero() {
			if perEmail[p.Email] > 0 {
				fmt.Fprintf(stdout, "on Zoom without a payment: %s\n", p.Email)
			}
			continue
		}
		if perEmail[p.Email] == 0 {
			res.Lost++
			continue
		}
		r, ok := regOf(p.Email)
		if !ok {
			res.unprobed++ // on Zoom, but not through a batch add the probe saw
			continue
		}
		d := r.Answered.Sub(p.PaidAt)
		if d < 0 {
			early++
			d = 0
		}
		lat = append(lat, d)
		addCall = append(addCall, r.Answered.Sub(r.Sent))
		hooks.mu.Lock()
		h, ok := hooks.completed[p.Session]
		hooks.mu.Unlock()
		if ok {
			toHook = append(toHook, h[0].Sub(p.PaidAt))
			ack = append(ack, h[1].Sub(h[0]))
			toAdd = append(toAdd, r.Sent.Sub(h[1]))
			if m, ok := paidRows[p.Email]; ok {
				toMark = append(toMark, m.Sub(h[1]))
			}
		}
		if m, ok := paidRows[p.Email]; ok {
			markToAdd = append(markToAdd, r.Sent.Sub(m))
		}
	}
	slices.Sort(lat)
	res.latencies = len(lat)
	if len(lat) > 0 {
		res.P50, res.P95, res.Max = percentile(lat, 50), percentile(lat, 95), lat[len(lat)-1]
	}

	// Where the time went.
	fmt.Fprintf(stdout, "paid → registrant on Zoom: %s (target p95 ≤ 2000ms, max ≤ 5000ms)\n", summarize(lat))
	fmt.Fprintf(stdout, "  paid → checkout.session.completed sent by Stripe: %s\n", summarize(toHook))
	fmt.Fprintf(stdout, "  kaisai's answer to that webhook:                 %s\n", summarize(ack))
	fmt.Fprintf(stdout, "  webhook answered → batch add sent to Zoom:       %s\n", summarize(toAdd))
	fmt.Fprintf(stdout, "    webhook answered → 入金済 committed:           %s\n", summarize(toMark))
	fmt.Fprintf(stdout, "    入金済 committed → batch add sent:             %s\n", summarize(markToAdd))
	fmt.Fprintf(stdout, "  batch add call:                                  %s\n", summarize(addCall))
	hooks.mu.Lock()
	fmt.Fprintf(stdout, "Stripe's deliveries to kaisai: %d (%.1f a payment), %d not 2xx; round trip %s\n",
		len(hooks.all), float64(len(hooks.all))/float64(max(paid, 1)), hooks.non2xx, summarize(hooks.all))
	hooks.mu.Unlock()
	if line, err := w.stripeEventsLine(ctx); err != nil {
		return err
	} else {
		fmt.Fprintln(stdout, line)
	}
	api.mu.Lock()
	for _, k := range slices.Sorted(maps.Keys(api.took)) {
		fmt.Fprintf(stdout, "kaisai's calls to Stripe meanwhile: %s %s\n", k, summarize(api.took[k]))
	}
	api.mu.Unlock()
	n429, calls := w.calls.snapshot()
	adds, adders := 0, 0
	for _, c := range calls {
		if c.Call == batchAdd && c.Status/100 == 2 && c.Start >= began.Sub(w.calls.zero) {
			adds++
		}
	}
	regMu.Lock()
	adders, again := len(reg), readds
	regMu.Unlock()
	fmt.Fprintf(stdout, "Zoom: %d batch adds answered 2xx for %d people (%.1f a call; %d named someone already added), %d answers 429; %d approved registrants\n",
		adds, adders, float64(adders+again)/float64(max(adds, 1)), again, n429, len(approved))
	reportPacing(stdout, calls, began.Sub(w.calls.zero))
	if early > 0 {
		fmt.Fprintf(stdout, "%d registrants were added before the payer saw Stripe's answer (counted as 0 ms)\n", early)
	}
	if res.unprobed > 0 {
		fmt.Fprintf(stdout, "%d registrants on Zoom were not seen being added (no latency for them)\n", res.unprobed)
	}
	fmt.Fprintln(stdout, res.Line())
	if res.Lost > 0 || res.Duplicates > 0 || paid < len(payers) || badReturns > 0 {
		return fmt.Errorf("pay: %d of %d paid, %d lost, %d duplicates, %d bad returns to kaisai", paid, len(payers), res.Lost, res.Duplicates, badReturns)
	}
	return nil
}

// paidMoments are when kaisai recorded each application 入金済 (its
// history line), by e-mail.
func (w *zoomWorld) paidMoments(ctx context.Context) (map[string]time.Time, error) {
	obs, err := w.openObserver()
	if err != nil {
		return nil, err
	}
	defer obs.Close()
	rows, err := obs.QueryContext(ctx, `SELECT a.email, l.created_at FROM activity_log l
		JOIN applications a ON a.id = l.application_id WHERE l.action = $1`, store.ActPaid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var email string
		var at time.Time
		if err := rows.Scan(&email, &at); err != nil {
			return nil, err
		}
		if _, ok := out[strings.ToLower(email)]; !ok {
			out[strings.ToLower(email)] = at
		}
	}
	return out, rows.Err()
}

// stripeEventsLine tells how kaisai's job went through Stripe's stored
// events: how long they waited from arrival to processed, and how fast the
// job went while it had work (the mean gap between two processed).
func (w *zoomWorld) stripeEventsLine(ctx context.Context) (string, error) {
	obs, err := w.openObserver()
	if err != nil {
		return "", err
	}
	defer obs.Close()
	rows, err := obs.QueryContext(ctx, `SELECT received_at, processed_at FROM stripe_webhook_events
		WHERE processed_at IS NOT NULL ORDER BY processed_at`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var wait, gaps []time.Duration
	var last time.Time
	for rows.Next() {
		var rcv, done time.Time
		if err := rows.Scan(&rcv, &done); err != nil {
			return "", err
		}
		wait = append(wait, done.Sub(rcv))
		// A gap is the job's time for one event only while events waited.
		if !last.IsZero() && rcv.Before(last) {
			gaps = append(gaps, done.Sub(last))
		}
		last = done
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	var sum time.Duration
	for _, g := range gaps {
		sum += g
	}
	return fmt.Sprintf("kaisai's Stripe events: received → processed %s; while they queued, one processed every %s (%.0f/s)",
		summarize(wait), ms(sum/time.Duration(max(len(gaps), 1))), float64(len(gaps))/max(sum.Seconds(), 1e-9)), nil
}

// applyAll has n people apply to ze's schedule through the public form,
// from clients goroutines, and answers each one's Checkout Session.
func applyAll(ctx context.Context, hc *http.Client, base string, ze *zoomEvent, n, clients int) ([]payer, error) {
	payers := make([]payer, n)
	next := make(chan int)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p, err := applyOnline(ctx, hc, base, ze, benchEmail("pay", i))
				if err != nil {
					errc <- fmt.Errorf("applicant %d: %w", i, err)
					return
				}
				payers[i] = p
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errc:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return payers, err
}

// applyOnline applies as a browser does (the event page, its form, then
// the 確認画面's 「申し込む」) and answers the session Stripe's page was
// opened for.
func applyOnline(ctx context.Context, hc *http.Client, base string, ze *zoomEvent, email string) (payer, error) {
	p := payer{Email: email}
	page := base + "/e/" + ze.Event.Slug
	body, status, _, err := fetch(ctx, hc, http.MethodGet, page, nil, "")
	if err != nil || status != http.StatusOK {
		return p, fmt.Errorf("GET event page: %d %v", status, err)
	}
	form, err := apptest.BrowserForm(body, "/e/"+ze.Event.Slug+"/confirm")
	if err != nil {
		return p, err
	}
	form.Set("schedule_id", strconv.FormatInt(ze.Schedules[0].ID, 10))
	form.Set("name", "参加者 "+email)
	form.Set("email", email)
	body, status, _, err = fetch(ctx, hc, http.MethodPost, page+"/confirm", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil || status != http.StatusOK {
		return p, fmt.Errorf("POST confirm: %d %v", status, err)
	}
	if form, err = apptest.BrowserForm(body, "/e/"+ze.Event.Slug+"/apply"); err != nil {
		return p, fmt.Errorf("the 確認画面: %w", err)
	}
	_, status, loc, err := fetch(ctx, hc, http.MethodPost, page+"/apply", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil || status != http.StatusSeeOther {
		return p, fmt.Errorf("POST apply: %d %v", status, err)
	}
	m := checkoutPath.FindStringSubmatch(loc)
	if m == nil {
		return p, fmt.Errorf("applying sent the browser to %q, not to a Checkout page", loc)
	}
	p.Session = m[1]
	return p, nil
}

// payOne pays p's session by card and notes when Stripe said it succeeded.
func payOne(ctx context.Context, hc *http.Client, stripeBase string, cfg payConfig, p *payer) {
	var status int
	var loc, body string
	var err error
	if cfg.Via == "api" {
		b, _ := json.Marshal(map[string]string{"method": "card", "card": stripesim.CardSuccess, "email": p.Email})
		body, status, _, err = fetch(ctx, hc, http.MethodPost, stripeBase+"/_sim/checkout/sessions/"+p.Session+"/pay",
			bytes.NewReader(b), "application/json")
		var out struct {
			Outcome string `json:"outcome"`
		}
		if err == nil && status == http.StatusOK && json.Unmarshal([]byte(body), &out) == nil && out.Outcome == "succeeded" {
			p.PaidAt = time.Now()
		}
	} else {
		form := url.Values{"method": {"card"}, "email": {p.Email}, "card": {"4242 4242 4242 4242"}}
		_, status, loc, err = fetch(ctx, hc, http.MethodPost, stripeBase+"/c/pay/"+p.Session,
			strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		// Success is the redirect to kaisai's success URL.
		if err == nil && status == http.StatusSeeOther && strings.Contains(loc, "session_id=") {
			p.PaidAt, p.Success = time.Now(), loc
		}
	}
	if p.PaidAt.IsZero() {
		p.Err = fmt.Sprintf("%d %v", status, err)
		return
	}
	if cfg.Return && p.Success != "" {
		// kaisai reads the session back and sends the browser to the application's page.
		if _, status, loc, err := fetch(ctx, hc, http.MethodGet, p.Success, nil, ""); err != nil ||
			status != http.StatusSeeOther || !strings.HasPrefix(loc, "/a/") {
			p.Back = fmt.Sprintf("%d %q %v", status, loc, err)
		}
	}
}

// fetch makes one request without following redirects and answers the
// body, status and Location.
func fetch(ctx context.Context, hc *http.Client, method, u string, body io.Reader, contentType string) (string, int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", 0, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", 0, "", errors.New(errorClass(err))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), res.StatusCode, res.Header.Get("Location"), err
}
