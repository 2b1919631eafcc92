package stripe

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"kaisai/internal/payment"
	"kaisai/internal/stripesim"
)

// sim is a Stripe simulator started for one test, on the real clock (so
// that its webhook signatures are fresh for ParseEvent's tolerance).
type sim struct {
	*stripesim.Server
	base string
	key  string
}

func newSim(t *testing.T) *sim {
	t.Helper()
	s, err := stripesim.New(stripesim.Options{
		Seed:              stripesim.DefaultSeed(),
		RefundSettleAfter: -1, // tests settle refunds themselves
		Webhooks:          stripesim.WebhookOptions{TimeScale: 0.0001},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	base, err := s.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return &sim{Server: s, base: base, key: stripesim.DefaultSeed().Accounts[0].SecretKey}
}

// client is a kaisai client of the simulator whose requests are recorded.
func (s *sim) client(t *testing.T) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{next: http.DefaultTransport}
	c, err := New(Config{APIURL: s.base, Key: s.key, HTTPClient: &http.Client{Transport: rec, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// recorder is a real transport that notes each request's method, path
// and Idempotency-Key on the way.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []sent
}

type sent struct {
	method, path, idemKey string
	form                  url.Values // a POST's body
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	s := sent{method: req.Method, path: req.URL.Path, idemKey: req.Header.Get("Idempotency-Key")}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if s.form, err = url.ParseQuery(string(b)); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, s)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) sent() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.reqs...)
}

// receiver is an HTTP endpoint that keeps every webhook delivery.
type receiver struct {
	url string
	mu  sync.Mutex
	got []delivery
}

type delivery struct {
	body []byte
	sig  string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{body: b, sig: r.Header.Get("Stripe-Signature")})
		rc.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/webhooks/stripe/1"
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

var allMethods = []payment.Method{payment.MethodCard, payment.MethodKonbini, payment.MethodBankTransfer}

// checkoutParams is a session for application 42 of ¥3,000.
func checkoutParams(key string, methods ...payment.Method) CheckoutParams {
	if len(methods) == 0 {
		methods = allMethods
	}
	return CheckoutParams{
		ApplicationID:  42,
		Name:           "Go 勉強会 12月7日(月) 19:00",
		Amount:         3000,
		Email:          "hanako@example.com",
		Methods:        methods,
		KonbiniDays:    2,
		SuccessURL:     "http://127.0.0.1:8080/applications/42/paid?session={CHECKOUT_SESSION_ID}",
		CancelURL:      "http://127.0.0.1:8080/applications/42",
		ExpiresAt:      time.Now().Add(2 * time.Hour).Truncate(time.Second),
		Locale:         "ja",
		IdempotencyKey: key,
	}
}

func httptestServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
