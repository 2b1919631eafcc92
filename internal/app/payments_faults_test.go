package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
	"kaisai/internal/stripesim"
	"kaisai/internal/testdb"
)

// fileClock is a clock running at real speed, offset by the duration
// written in file (polled): the test moves several kaisai processes'
// clocks at once.
func fileClock(file string) func() time.Time {
	var offset atomic.Int64
	read := func() {
		if b, err := os.ReadFile(file); err == nil {
			if d, err := time.ParseDuration(strings.TrimSpace(string(b))); err == nil {
				offset.Store(int64(d))
			}
		}
	}
	read()
	go func() {
		for range time.Tick(20 * time.Millisecond) {
			read()
		}
	}()
	return func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
}

var listeningURL = regexp.MustCompile(`msg="kaisai listening" url=(http://\S+)`)

// startServing starts kaisai as a process of its own (as startChild) and
// answers its URL once it listens.
func startServing(t *testing.T, db testdb.DB, zoomURL string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KAISAI_TEST_CHILD=serve", "KAISAI_TEST_DATA_DIR="+db.DataDir,
		"KAISAI_TEST_DATABASE_URL="+db.DatabaseURL, "KAISAI_TEST_ZOOM_URL="+zoomURL)
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listeningURL.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
			if os.Getenv("KAISAI_TEST_LOG") != "" {
				t.Log("child: " + sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	select {
	case u := <-urls:
		return cmd, u
	case <-time.After(2 * time.Minute):
		t.Fatal("kaisai did not start listening")
		return nil, ""
	}
}

// balancer is the load balancer in front of kaisai's instances: each
// request goes to the next live instance; with none up it answers 502.
type balancer struct {
	mu   sync.Mutex
	ups  []string
	next int
}

func (b *balancer) set(ups ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ups = ups
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	if len(b.ups) == 0 {
		b.mu.Unlock()
		http.Error(w, "no instance up", http.StatusBadGateway)
		return
	}
	up := b.ups[b.next%len(b.ups)]
	b.next++
	b.mu.Unlock()
	target, _ := url.Parse(up)
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
}

// TestPaymentsFaultRun: two kaisai instances on one PostgreSQL behind a
// load balancer, the Stripe simulator failing 20% of calls with 5xx,
// losing answers, sending webhooks twice and out of order; one instance
// is SIGKILLed mid-run and comes back. Participants click 「お支払いへ進む」
// until Stripe's page opens, as people do; some pay by card, some by
// konbini later, some never. In the end every paid application is 入金済
// and on Zoom exactly once, every unpaid one is cancelled once its
// 支払期限 has passed, and no payment made at Stripe is lost.
func TestPaymentsFaultRun(t *testing.T) {
	db := testdb.Postgres(t)
	ctx := context.Background()
	zsim, zbase, st, org, zconn, _ := crashScene(t, db)
	clockFile := filepath.Join(t.TempDir(), "clock")
	if err := os.WriteFile(clockFile, []byte("0s"), 0o600); err != nil {
		t.Fatal(err)
	}

	ssim, err := stripesim.New(stripesim.Options{Seed: stripesim.DefaultSeed(),
		Webhooks: stripesim.WebhookOptions{TimeScale: 0.0005, ReorderHold: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ssim.Close)
	sbase, err := ssim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &balancer{}
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)
	env := []string{"KAISAI_TEST_BASE_URL=" + front.URL, "KAISAI_TEST_CLOCK_FILE=" + clockFile}
	a, aURL := startServing(t, db, zbase, env...)
	_, bURL := startServing(t, db, zbase, env...)
	lb.set(aURL, bURL)

	// 決済設定, as the page does it.
	key := stripesim.DefaultSeed().Accounts[0].SecretKey
	cl, err := stripe.New(stripe.Config{APIURL: sbase, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := cl.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sconn, err := st.BeginStripeConnection(ctx, org.ID, store.StripeAccount{ID: acct.ID, DisplayName: acct.Name}, key, sbase)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := cl.CreateWebhookEndpoint(ctx, front.URL+"/webhooks/stripe/"+strconv.FormatInt(sconn, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteStripeConnection(ctx, org.ID, sconn, ep.ID, ep.Secret); err != nil {
		t.Fatal(err)
	}

	z := licensedZoom
	z.ConnID = zconn
	ze := newZoomEvent(t, st, org.ID, z, 1)
	ze.event.Fee, ze.event.PriceJPY, ze.event.PaymentDays = event.FeePaid, 3000, 3
	if err := st.UpdateEvent(ctx, &ze.event); err != nil {
		t.Fatal(err)
	}
	waitMeetingsInStep(t, st, takeOver)
	zoomID := func() int64 {
		ms, err := st.EventZoomMeetings(ctx, org.ID, ze.event.ID)
		if err != nil || len(ms) != 1 {
			t.Fatalf("meetings %+v %v", ms, err)
		}
		return ms[0].ZoomID
	}()

	const n = 24 // 0–9 card, 10–17 konbini paid later, 18–23 never pay
	apps := make([]event.Application, n)
	for i := range apps {
		res, err := st.Apply(ctx, &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
			Name: fmt.Sprintf("参加者 %d", i), Email: fmt.Sprintf("p%02d@example.com", i),
			SubmitKey: fmt.Sprintf("fault-%d-%06d-abcdefgh", ze.event.ID, i)})
		if err != nil {
			t.Fatal(err)
		}
		apps[i] = res.Application
	}

	ssim.SetFaults(7,
		stripesim.Fault{Kind: stripesim.FaultStatus, Rate: 0.2, Status: 500},
		stripesim.Fault{Kind: stripesim.FaultLostAnswer, Op: "PostCheckoutSessions", Rate: 0.2},
		stripesim.Fault{Kind: stripesim.FaultDuplicateWebhook, Rate: 0.3},
		stripesim.Fault{Kind: stripesim.FaultReorderWebhook, Rate: 0.3})

	noRedirect := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// openCheckout clicks 「お支払いへ進む」 until Stripe's page opens.
	openCheckout := func(a event.Application) string {
		return eventually.Value(t, "Stripe's page for "+a.Email, func() (string, bool) {
			resp, err := noRedirect.PostForm(front.URL+"/a/"+a.Token+"/pay", url.Values{})
			if err != nil {
				return "", false
			}
			resp.Body.Close()
			m := sessionInURL.FindStringSubmatch(resp.Header.Get("Location"))
			if m == nil {
				return "", false
			}
			return m[1], true
		})
	}
	intents := map[int]string{}
	var paidAtStripe []string
	for i := range 18 {
		cs := openCheckout(apps[i])
		if i == 6 {
			// Mid-run, one instance dies hard and comes back.
			lb.set(bURL)
			if err := a.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = a.Wait()
			_, aURL = startServing(t, db, zbase, env...)
			lb.set(aURL, bURL)
		}
		if i < 10 {
			if err := ssim.PayCard(cs, "4242424242424242", apps[i].Email); err != nil {
				t.Fatalf("card %d: %v", i, err)
			}
			paidAtStripe = append(paidAtStripe, apps[i].Email)
			continue
		}
		if _, err := ssim.PayKonbini(cs, apps[i].Email); err != nil {
			t.Fatalf("konbini %d: %v", i, err)
		}
		intents[i] = intentIn(t, ssim, cs)
	}
	for i := 18; i < n; i++ {
		openCheckout(apps[i]) // opened, never paid
	}
	for i, pi := range intents {
		if err := ssim.PayVoucher(pi, "familymart"); err != nil {
			t.Fatalf("voucher %d: %v", i, err)
		}
		paidAtStripe = append(paidAtStripe, apps[i].Email)
	}

	eventually.Within(t, 2*time.Minute, "every payment made at Stripe 入金済", func() bool {
		for i := range 18 {
			a, err := st.ApplicationByIDUnscoped(ctx, apps[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if a.Payment != event.PaymentPaid {
				return false
			}
		}
		return true
	})
	waitMeetingsInStep(t, st, takeOver)
	eventually.Within(t, time.Minute, "the paid on Zoom", func() bool {
		got, _ := approvedOnZoom(zsim, zoomID)
		return len(got) == len(paidAtStripe)
	})

	// Past the 支払期限: the unpaid are cancelled.
	past := time.Until(apps[n-1].PaymentDueAt) + time.Minute
	if err := os.WriteFile(clockFile, []byte(past.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ssim.Advance(past); err != nil {
		t.Fatal(err)
	}
	eventually.Within(t, time.Minute, "the unpaid cancelled", func() bool {
		for i := 18; i < n; i++ {
			a, err := st.ApplicationByIDUnscoped(ctx, apps[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != event.Cancelled {
				return false
			}
		}
		return true
	})
	ssim.ClearFaults()
	waitMeetingsInStep(t, st, takeOver)
	registrantsExact(t, zsim, zoomID, paidAtStripe)
	for i := range 18 {
		a, err := st.ApplicationByIDUnscoped(ctx, apps[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != event.Applied || a.Payment != event.PaymentPaid {
			t.Errorf("%s paid at Stripe: %s/%s", a.Email, a.Status, a.Payment)
		}
		hist, err := st.Activity(ctx, org.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, h := range hist {
			if h.Action == store.ActPaid {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%s: %d 入金 lines, want 1", a.Email, lines)
		}
	}
	// The faults did happen: webhooks were sent twice, deliveries failed
	// while an instance was down or answered late, creates were retried.
	dups, failed := 0, 0
	for _, d := range ssim.Deliveries() {
		if d.Duplicate {
			dups++
		}
		for _, at := range d.Attempts {
			if at.Status < 200 || at.Status > 299 {
				failed++
			}
		}
	}
	var retried int
	if err := st.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE attempt > 1 OR last_error <> ''`).Scan(&retried); err != nil {
		t.Fatal(err)
	}
	t.Logf("faults seen: %d duplicated deliveries, %d failed attempts, %d payments retried or errored", dups, failed, retried)
	if dups == 0 || retried == 0 {
		t.Errorf("the run saw too few faults to prove anything: %d duplicates, %d retried payments", dups, retried)
	}
	problems, err := st.PaymentProblems(ctx, org.ID, ze.event.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("payments left for the organizer: %+v", problems)
	}
}

// intentIn is the simulator's PaymentIntent of a session.
func intentIn(t *testing.T, ssim *stripesim.Server, cs string) string {
	t.Helper()
	for _, s := range ssim.State().Sessions {
		if s["id"] == cs {
			if pi, ok := s["payment_intent"].(string); ok && pi != "" {
				return pi
			}
		}
	}
	t.Fatalf("session %s has no PaymentIntent on the simulator", cs)
	return ""
}
