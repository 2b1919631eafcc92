package zoom

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"kaisai/internal/zoomsim"
)

// redirectURL is one of the seeded app's redirect URIs; it is never
// followed.
const redirectURL = "http://127.0.0.1:8080/integrations/zoom/callback"

// sim is a running simulator with the seeded app kaisai-dev.
type sim struct {
	srv  *zoomsim.Server
	base string
	cfg  *OAuthConfig
	urls *urlRecorder // every URL the OAuth config and clients requested
}

func startSim(t *testing.T) *sim {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed()})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &urlRecorder{}
	return &sim{srv: srv, base: base, urls: rec, cfg: &OAuthConfig{
		ClientID: "kaisai-dev", ClientSecret: "kaisai-dev-secret", RedirectURL: redirectURL,
		AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", RevokeURL: base + "/oauth/revoke",
		HTTPClient: rec.client(),
	}}
}

// authorize walks the consent page as email and answers the code and the
// verifier, checking the state comes back.
func (s *sim) authorize(t *testing.T, email string) (code, verifier string) {
	t.Helper()
	verifier = GenerateVerifier()
	const state = "st4te-bound-to-session"
	authURL := s.cfg.AuthCodeURL(state, verifier)
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("code_challenge") == verifier {
		t.Fatalf("AuthCodeURL without an S256 challenge: %s", authURL)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %d", resp.StatusCode)
	}
	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("email", email)
	form.Set("password", "password")
	form.Set("action", "approve")
	resp, err = hc.PostForm(s.base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent form: %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		t.Fatalf("redirected to %s, want %s", got, redirectURL)
	}
	if loc.Query().Get("state") != state {
		t.Fatalf("state %q came back, want %q", loc.Query().Get("state"), state)
	}
	code = loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code, verifier
}

// link runs the whole flow and answers the tokens.
func (s *sim) link(t *testing.T, email string) *Token {
	t.Helper()
	code, verifier := s.authorize(t, email)
	tok, err := s.cfg.Exchange(context.Background(), code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is an API client for tok, logging into log when not nil.
func (s *sim) client(tok *Token, log *bytes.Buffer) *Client {
	c := NewClient(s.urls.client(), tok.APIURL, func(context.Context) (string, error) { return tok.AccessToken, nil })
	if log != nil {
		c.Log = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return c
}

// urlRecorder keeps every requested URL, to prove no token is in one.
type urlRecorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *urlRecorder) client() *http.Client { return &http.Client{Transport: r} }

func (r *urlRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *urlRecorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.urls, "\n")
}
