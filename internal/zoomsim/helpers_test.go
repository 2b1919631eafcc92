package zoomsim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID = "test-client"
	testSecret   = "test-secret"
	testRedirect = "http://127.0.0.1:1/callback"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testSim struct {
	*Server
	base  string
	clock *fakeClock
}

// startSim runs a simulator on port 0 with one app and DefaultSeed's users.
func startSim(t testing.TB, opts Options) *testSim {
	t.Helper()
	clock := &fakeClock{t: time.Date(2030, 4, 1, 9, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	seed := DefaultSeed()
	seed.Apps = []App{{ClientID: testClientID, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}, Scopes: []string{"meeting:write", "user:read"}}}
	if opts.Seed.Users == nil {
		opts.Seed = seed
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	base, err := s.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &testSim{Server: s, base: base, clock: clock}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// consent posts the consent form and returns the redirect's query.
func (ts *testSim) consent(t testing.TB, email, action string, extra url.Values) url.Values {
	t.Helper()
	f := url.Values{
		"response_type": {"code"}, "client_id": {testClientID}, "redirect_uri": {testRedirect},
		"state": {"st-1"}, "code_challenge": {pkce("verifier-" + email)}, "code_challenge_method": {"S256"},
		"email": {email}, "password": {"password"}, "action": {action},
	}
	for k, v := range extra {
		f[k] = v
	}
	resp, err := noRedirect.PostForm(ts.base+"/oauth/authorize", f)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// tokenCall posts to /oauth/token with Basic client auth.
func (ts *testSim) tokenCall(t testing.TB, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token answer is not JSON: %v", err)
	}
	return resp.StatusCode, body
}

// login runs the whole authorization for a user and returns the tokens.
func (ts *testSim) login(t testing.TB, email string) (access, refresh string) {
	t.Helper()
	q := ts.consent(t, email, "approve", nil)
	status, body := ts.tokenCall(t, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {testRedirect}, "code_verifier": {"verifier-" + email},
	})
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	return body["access_token"].(string), body["refresh_token"].(string)
}
