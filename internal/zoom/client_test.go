package zoom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/zoomsim"
)

func TestExpiredAccessToken(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	s.srv.ExpireAccessTokens()
	_, err := s.client(tok, nil).Me(context.Background())
	var ae *APIError
	if !IsInvalidToken(err) || !errors.As(err, &ae) || ae.Status != 401 || ae.Code != 124 {
		t.Fatalf("Me with an expired token: %v, want 401 code 124", err)
	}
	if IsNotFound(err) || IsRateLimited(err) {
		t.Errorf("%v is not a not-found nor a rate limit", err)
	}
}

func TestNotFound(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	_, err := s.client(tok, nil).UserSettings(context.Background(), "no-such-user")
	if !IsNotFound(err) {
		t.Fatalf("settings of an unknown user: %v, want not found", err)
	}
}

// slowLimits allow one light call per second, so a second call at once is a 429.
func slowLimits() zoomsim.Limits {
	l := zoomsim.ZoomLimits()
	l.Plans[zoomsim.PlanPro].Rate[zoomsim.Light] = zoomsim.Rate{N: 1, Per: time.Second}
	return l
}

func TestRateLimitRetryAfter(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	s.srv.SetLimits(slowLimits())
	ctx := context.Background()

	// Without retries the 429 comes back with Zoom's Retry-After.
	noRetry := s.client(tok, nil)
	noRetry.MaxRetries = -1
	var err error
	for range 5 {
		if _, err = noRetry.Me(ctx); err != nil {
			break
		}
	}
	if !IsRateLimited(err) || RetryAfter(err) <= 0 || RetryAfter(err) > 2*time.Second {
		t.Fatalf("rapid calls: %v (retry after %s), want a 429 asking to wait about a second", err, RetryAfter(err))
	}

	// With retries, Retry-After is waited for and every call succeeds.
	var log bytes.Buffer
	c := s.client(tok, &log)
	for i := range 3 {
		if _, err := c.Me(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if !strings.Contains(log.String(), "rate limited") {
		t.Errorf("three calls at one a second saw no 429; log:\n%s", log.String())
	}

	// A Retry-After beyond MaxRetryWait (a daily limit) comes back at once.
	c.MaxRetryWait = time.Millisecond
	for range 5 {
		if _, err = c.Me(ctx); err != nil {
			break
		}
	}
	if !IsRateLimited(err) {
		t.Errorf("with MaxRetryWait 1ms: %v, want the 429", err)
	}

	// Waiting respects the caller's context.
	c.MaxRetryWait = time.Minute
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	for range 5 {
		if _, err = c.Me(short); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting past the context: %v, want DeadlineExceeded", err)
	}
}

func TestServerError(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	s.srv.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultStatus, Op: "user", Rate: 1, Count: 1, Status: 503})
	c := s.client(tok, nil)
	_, err := c.Me(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 {
		t.Fatalf("Me during a 503: %v, want an APIError 503", err)
	}
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
}

func TestTimeoutIsBounded(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	s.srv.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultTimeout, Op: "user", Rate: 1})
	c := s.client(tok, nil)
	c.Timeout = 200 * time.Millisecond
	done := make(chan error, 1)
	go func() { _, err := c.Me(context.Background()); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Me against a hanging Zoom: %v, want DeadlineExceeded", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Me against a hanging Zoom did not give up")
	}
}

// TestNonJSONError: a proxy's HTML error page is still an APIError.
func TestNonJSONError(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "Wed, 21 Oct 2099 07:28:00 GMT")
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer ts.Close()
	c := NewClient(ts.Client(), ts.URL, func(context.Context) (string, error) { return "t", nil })
	_, err := c.Me(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != 0 || ae.Message != "Bad Gateway" || ae.Path != "/users/me" {
		t.Fatalf("502 HTML: %#v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 30, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{"2026-05-31T00:00:00Z", time.Hour}, // Zoom's daily limits
		{"Sun, 31 May 2026 00:00:00 GMT", time.Hour}, // an HTTP date
		{"2026-05-30T22:00:00Z", 0},                  // past
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestNoTokenLeaks drives every path that logs or fails and looks for the
// tokens in the log, the error strings and the requested URLs.
func TestNoTokenLeaks(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	tok := s.link(t, "licensed@example.com")
	var log bytes.Buffer
	c := s.client(tok, &log)
	c.Timeout = 200 * time.Millisecond
	var errs []error
	keep := func(_ any, err error) { errs = append(errs, err) }

	keep(c.Me(ctx))
	keep(c.UserSettings(ctx, "me"))
	s.srv.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultStatus, Op: "user", Rate: 1, Count: 1})
	keep(c.Me(ctx))
	s.srv.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultTimeout, Op: "user", Rate: 1, Count: 1})
	keep(c.Me(ctx))
	s.srv.ClearFaults()
	s.srv.SetLimits(slowLimits())
	for range 3 {
		keep(c.Me(ctx))
	}
	s.srv.ExpireAccessTokens()
	keep(c.Me(ctx))

	fresh, err := s.cfg.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.cfg.Refresh(ctx, tok.RefreshToken) // spent
	errs = append(errs, err)
	errs = append(errs, s.cfg.Revoke(ctx, fresh.AccessToken), s.cfg.Revoke(ctx, fresh.AccessToken))

	var text strings.Builder
	text.WriteString(log.String())
	for _, err := range errs {
		if err != nil {
			fmt.Fprintf(&text, "%v\n%+v\n%#v\n", err, err, err)
		}
	}
	fmt.Fprintf(&text, "%v %+v %#v %s\n", tok, tok, tok, *fresh)
	text.WriteString(s.urls.all())
	if !strings.Contains(text.String(), "/users/me") || !strings.Contains(text.String(), "Invalid Token!") {
		t.Fatalf("the test saw too little to prove anything:\n%s", text.String())
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, fresh.AccessToken, fresh.RefreshToken} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("a token leaked into a log, error or URL:\n%s", text.String())
		}
	}
}

func TestMissingScopes(t *testing.T) {
	if got := MissingScopes(NeededScopes, NeededScopes); len(got) != 0 {
		t.Errorf("all granted: missing %v", got)
	}
	// Classic scopes (apps made before granular scopes) cover them too.
	if got := MissingScopes([]string{"user:read", "meeting:read", "meeting:write"}, NeededScopes); len(got) != 0 {
		t.Errorf("classic scopes: missing %v", got)
	}
	got := MissingScopes([]string{"user:read:user", "meeting:read", "meeting:write:meeting:admin"}, NeededScopes)
	want := []string{"user:read:settings", "meeting:update:meeting", "meeting:delete:meeting", "meeting:write:registrant",
		"meeting:write:batch_registrants", "meeting:update:registrant_status", "meeting:delete:registrant"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("MissingScopes = %v, want %v", got, want)
	}
}

// TestRetryOnlyIdempotent: after a 429 a GET or PUT is retried, a POST
// (which may create twice) is not; the token goes in the header only.
func TestRetryOnlyIdempotent(t *testing.T) {
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret-token" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		if hits.Add(1)%2 == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"code":429,"message":"You have reached the maximum per-second rate limit for this API."}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ts.Close()
	c := NewClient(ts.Client(), ts.URL, func(context.Context) (string, error) { return "secret-token", nil })
	ctx := context.Background()
	for _, tc := range []struct {
		method    string
		wantErr   bool
		wantCalls int32
	}{
		{http.MethodGet, false, 2},
		{http.MethodPut, false, 2},
		{http.MethodPatch, false, 2},
		{http.MethodDelete, false, 2},
		{http.MethodPost, true, 1},
	} {
		hits.Store(0)
		err := c.request(ctx, tc.method, "/meetings/1", map[string]any{"x": 1}, nil)
		if (err != nil) != tc.wantErr || hits.Load() != tc.wantCalls {
			t.Errorf("%s: err %v after %d calls, want error %v after %d", tc.method, err, hits.Load(), tc.wantErr, tc.wantCalls)
		}
		if tc.wantErr && !IsRateLimited(err) {
			t.Errorf("%s: %v, want the 429", tc.method, err)
		}
	}
}
