package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/eventually"
)

// TestMain lets a test run this binary as kaisai itself: with
// KAISAI_TEST_RUN_MAIN=1 the test binary is the kaisai command.
func TestMain(m *testing.M) {
	if os.Getenv("KAISAI_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestHelpAndVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"--help"}, &out, &errOut); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"kaisai serve", "kaisai version", "KAISAI_DATA_DIR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run([]string{"version"}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "kaisai ") {
		t.Errorf("version: %q, %v", out.String(), err)
	}
	out.Reset()
	errOut.Reset()
	if err := run([]string{"serve", "--help"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "-data-dir") {
		t.Errorf("serve --help: %v\n%s", err, errOut.String())
	}
	if err := run([]string{"frobnicate"}, &out, &errOut); err == nil {
		t.Error("an unknown command must fail")
	}
	if err := run([]string{"serve", "--log-format", "xml"}, &out, &errOut); err == nil {
		t.Error("a bad --log-format must fail")
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeFromEnvironmentAndGracefulShutdown starts `kaisai serve`
// configured only by KAISAI_* variables, checks it answers, sends SIGTERM
// and expects a clean exit.
func TestServeFromEnvironmentAndGracefulShutdown(t *testing.T) {
	addr := freeAddr(t)
	dataDir := t.TempDir()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "KAISAI_TEST_RUN_MAIN=1", "KAISAI_ADDR="+addr, "KAISAI_DATA_DIR="+dataDir,
		"KAISAI_LOG_FORMAT=json", "KAISAI_DATABASE_URL=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()

	eventually.True(t, "kaisai to become ready on "+addr, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "ready"
	})
	if _, err := os.Stat(dataDir + "/kaisai.db"); err != nil {
		t.Errorf("no SQLite database in the data directory: %v", err)
	}
	if fi, err := os.Stat(dataDir + "/secret.key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("no secret.key of mode 0600 in the data directory: %v, %v", fi, err)
	}
	if _, err := os.Stat(dataDir + "/zoomsim.json"); err != nil {
		t.Errorf("the Zoom simulator keeps no state in the data directory: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var all []string
	collect := func() {
		for l := range logs {
			all = append(all, l)
		}
	}
	select {
	case err := <-done:
		collect()
		if err != nil {
			t.Fatalf("kaisai exited with %v after SIGTERM; log:\n%s", err, strings.Join(all, "\n"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kaisai did not stop within 30 s of SIGTERM")
	}
	joined := strings.Join(all, "\n")
	// With no Zoom app and no PostgreSQL, Zoom is the simulator, and says so.
	// Nor Stripe: payments are simulated beside it, and it says so.
	for _, want := range []string{`"msg":"kaisai listening"`, `Zoom is SIMULATED`, `payments are SIMULATED`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("log lacks %s:\n%s", want, joined)
		}
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("kaisai still answers after it stopped")
	}
}

func TestUnreadableSecretFileFails(t *testing.T) {
	t.Setenv("KAISAI_DATABASE_URL_FILE", t.TempDir()+"/missing")
	var out, errOut bytes.Buffer
	err := run([]string{"serve"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "KAISAI_DATABASE_URL_FILE") {
		t.Errorf("serve with an unreadable _FILE: %v", err)
	}
}

func TestZoomsimFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"zoomsim", "--help"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "-state") {
		t.Errorf("zoomsim --help: %v\n%s", err, errOut.String())
	}
	if err := run([]string{"zoomsim", "extra"}, &out, &errOut); err == nil {
		t.Error("zoomsim with an argument must fail")
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startZoomsim runs `kaisai zoomsim args…` on a free port until the test
// ends and returns its URL once it answers.
func startZoomsim(t *testing.T, logs *syncBuffer, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- zoomsimRun(ctx, append([]string{"--addr", addr}, args...), logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("zoomsim: %v", err)
		}
	})
	base := "http://" + addr
	eventually.Value(t, "zoomsim to answer; its log", func() (string, bool) {
		if resp, err := http.Get(base + "/_sim/state"); err == nil {
			resp.Body.Close()
			return "", true
		}
		return logs.String(), false
	})
	return base
}

func TestZoomsimSeedWebhookAndUI(t *testing.T) {
	validations := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case validations <- string(b):
		default:
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	var logs syncBuffer
	base := startZoomsim(t, &logs, "--webhook-url", hook.URL, "--webhook-secret", "s3cret")
	if !strings.Contains(logs.String(), "ui="+base+"/") {
		t.Errorf("the startup log does not give the UI URL %s/:\n%s", base, logs.String())
	}
	select {
	case body := <-validations:
		if !strings.Contains(body, "endpoint.url_validation") {
			t.Errorf("first webhook: %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Error("--webhook-url: no endpoint.url_validation arrived")
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "licensed@example.com") || !strings.Contains(string(page), "Zoom simulator") {
		t.Errorf("the UI does not list the seed:\n%s", page)
	}

	var empty syncBuffer
	base = startZoomsim(t, &empty, "--seed=false")
	resp, err = http.Get(base + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	state, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(state), `"users":0`) {
		t.Errorf("--seed=false still seeds: %s", state)
	}
}

func TestZoomsimWebhookNeedsSecretAndSeed(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"zoomsim", "--webhook-url", "http://127.0.0.1:1/hook"}, &out, &out); err == nil {
		t.Error("--webhook-url without --webhook-secret must fail")
	}
	err := zoomsimRun(context.Background(), []string{"--addr", "127.0.0.1:0", "--seed=false", "--webhook-url", "http://127.0.0.1:1/hook", "--webhook-secret", "x"}, &out)
	if err == nil || !strings.Contains(err.Error(), "kaisai-dev") {
		t.Errorf("--webhook-url without the seeded app: %v", err)
	}
}

// TestChooseZoomSimulator: which Zoom kaisai talks to. `auto` only ever
// means the built-in simulator, and only with no Zoom setting and no
// PostgreSQL; a shared simulator must be named by its URL; nothing that
// names a Zoom app or Zoom's URLs ends up on a simulator.
func TestChooseZoomSimulator(t *testing.T) {
	const sim = "http://127.0.0.1:9090"
	for _, tc := range []struct {
		mode    string
		cfg     app.Config
		builtIn bool
		shared  string
		err     string // in the error; "" for none
	}{
		{mode: "auto", builtIn: true},
		{mode: "auto", cfg: app.Config{ZoomClientID: "id"}},
		{mode: "auto", cfg: app.Config{DatabaseURL: "postgres://db/kaisai"}}, // production-shaped: only when asked
		{mode: "auto", cfg: app.Config{ZoomOAuthURL: sim}},                   // never an external simulator
		{mode: "auto", cfg: app.Config{ZoomAPIURL: sim}},
		{mode: "on", cfg: app.Config{DatabaseURL: "postgres://db/kaisai"}, builtIn: true},
		{mode: "on", cfg: app.Config{ZoomClientID: "id"}, err: "choose one"},
		{mode: "on", cfg: app.Config{ZoomOAuthURL: sim}, err: "choose one"},
		{mode: "off"},
		{mode: sim, shared: sim},
		{mode: sim + "/", cfg: app.Config{DatabaseURL: "postgres://db/kaisai"}, shared: sim},
		{mode: sim, cfg: app.Config{ZoomClientID: "other-app", ZoomClientSecret: "s"}, shared: sim}, // another app of that simulator
		{mode: sim, cfg: app.Config{ZoomOAuthURL: "https://zoom.us"}, err: "--zoom-oauth-url"},
		{mode: sim, cfg: app.Config{ZoomAPIURL: "https://api.zoom.us"}, err: "--zoom-api-url"},
		{mode: "127.0.0.1:9090", err: "must be auto, on, off or the URL"},
		{mode: "ftp://127.0.0.1:9090", err: "http"},
		{mode: "true", err: "must be auto, on, off or the URL"},
		{mode: "", err: "must be auto, on, off or the URL"},
	} {
		got, err := chooseZoomSimulator(tc.mode, tc.cfg)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("chooseZoomSimulator(%q, %+v): %v, want an error with %q", tc.mode, tc.cfg, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("chooseZoomSimulator(%q, %+v): %v", tc.mode, tc.cfg, err)
		case tc.err == "" && (got.builtIn != tc.builtIn || got.shared != tc.shared):
			t.Errorf("chooseZoomSimulator(%q, %+v) = %+v, want built-in %v, shared %q", tc.mode, tc.cfg, got, tc.builtIn, tc.shared)
		}
	}
}

// TestServeZoomSettings: the Zoom settings of `kaisai serve` from the
// environment and flags. A deployment with PostgreSQL and a Zoom app talks
// to Zoom's own endpoints, with no simulator.
func TestServeZoomSettings(t *testing.T) {
	t.Setenv("KAISAI_DATABASE_URL", "postgres://db/kaisai")
	t.Setenv("KAISAI_ZOOM_CLIENT_ID", "live-id")
	t.Setenv("KAISAI_ZOOM_CLIENT_SECRET", "live-secret")
	var errOut bytes.Buffer
	cfg, sim, _, err := serveConfig(nil, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if sim.builtIn || sim.shared != "" || cfg.ZoomSimulated || cfg.ZoomOAuthURL != "" || cfg.ZoomAPIURL != "" {
		t.Errorf("a live deployment: simulator %+v, simulated %v, OAuth %q, API %q; want Zoom's endpoints",
			sim, cfg.ZoomSimulated, cfg.ZoomOAuthURL, cfg.ZoomAPIURL)
	}

	t.Setenv("KAISAI_ZOOM_OAUTH_URL", "https://zoom.example/")
	t.Setenv("KAISAI_ZOOM_API_URL", "https://api.zoom.example")
	cfg, _, _, err = serveConfig(nil, &errOut)
	if err != nil || cfg.ZoomOAuthURL != "https://zoom.example" || cfg.ZoomAPIURL != "https://api.zoom.example" {
		t.Errorf("from the environment: OAuth %q, API %q, %v", cfg.ZoomOAuthURL, cfg.ZoomAPIURL, err)
	}
	cfg, _, _, err = serveConfig([]string{"--zoom-api-url", "http://127.0.0.1:7000"}, &errOut)
	if err != nil || cfg.ZoomAPIURL != "http://127.0.0.1:7000" {
		t.Errorf("the flag over the environment: API %q, %v", cfg.ZoomAPIURL, err)
	}
	for _, bad := range []string{"zoom.us", "https://", "mailto:x@zoom.us"} {
		if _, _, _, err := serveConfig([]string{"--zoom-oauth-url", bad}, &errOut); err == nil || !strings.Contains(err.Error(), "--zoom-oauth-url") {
			t.Errorf("--zoom-oauth-url %q: %v, want refused", bad, err)
		}
	}
	// A shared simulator with Zoom's URLs set is a contradiction.
	if _, _, _, err := serveConfig([]string{"--zoom-simulator", "http://127.0.0.1:9090"}, &errOut); err == nil {
		t.Error("--zoom-simulator=URL with KAISAI_ZOOM_OAUTH_URL set: accepted")
	}

	t.Setenv("KAISAI_ZOOM_OAUTH_URL", "")
	t.Setenv("KAISAI_ZOOM_API_URL", "")
	t.Setenv("KAISAI_ZOOM_SIMULATOR", "http://127.0.0.1:9090/")
	if _, sim, _, err := serveConfig(nil, &errOut); err != nil || sim.shared != "http://127.0.0.1:9090" || sim.builtIn {
		t.Errorf("KAISAI_ZOOM_SIMULATOR=URL: %+v, %v", sim, err)
	}
}

// sharedSim runs `kaisai zoomsim` as an operator would for instances
// behind publicURL, sharing secret.
func sharedSim(t *testing.T, publicURL, secret string) string {
	t.Helper()
	var logs syncBuffer
	return startZoomsim(t, &logs, "--webhook-url", publicURL+"/webhooks/zoom", "--webhook-secret", secret,
		"--redirect-uri", publicURL+app.ZoomCallbackPath)
}

// TestSharedSimulatorChecks: an instance pointed at a shared simulator
// checks at start that it is set up for it, and refuses to start, saying
// what to do, when it is not.
func TestSharedSimulatorChecks(t *testing.T) {
	const public, secret = "https://kaisai.example", "shared-secret"
	sim := sharedSim(t, public, secret)
	var logs syncBuffer
	bare := startZoomsim(t, &logs) // no webhooks, no extra redirect URI
	notSim := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notSim.Close)
	ok := app.Config{BaseURL: public, ZoomWebhookSecret: secret}
	for _, tc := range []struct {
		name string
		url  string
		cfg  func(*app.Config)
		err  string // in the error; "" for none
	}{
		{"set up for it", sim, func(*app.Config) {}, ""},
		{"nothing there", "http://" + freeAddr(t), func(*app.Config) {}, "no Zoom simulator answers"},
		{"not a simulator", notSim.URL, func(*app.Config) {}, "not a kaisai zoomsim"},
		{"no webhook secret", sim, func(c *app.Config) { c.ZoomWebhookSecret = "" }, "KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN"},
		{"another webhook secret", sim, func(c *app.Config) { c.ZoomWebhookSecret = "mine" }, "KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN"},
		{"callback not a redirect URI", sim, func(c *app.Config) { c.BaseURL = "https://other.example" },
			"--redirect-uri https://other.example" + app.ZoomCallbackPath},
		{"explicit redirect URL", sim, func(c *app.Config) { c.ZoomRedirectURL = "https://x.example/cb" }, "--redirect-uri https://x.example/cb"},
		{"no webhooks", bare, func(c *app.Config) { c.BaseURL = "http://127.0.0.1:8080" }, "--webhook-url http://127.0.0.1:8080/webhooks/zoom"},
		{"unknown app", sim, func(c *app.Config) { c.ZoomClientID = "nope" }, `no app "nope"`},
		{"wrong app secret", sim, func(c *app.Config) { c.ZoomClientSecret = "wrong" }, "--zoom-client-secret"},
	} {
		cfg := ok
		cfg.Logger = slog.New(slog.DiscardHandler)
		tc.cfg(&cfg)
		err := useSharedSimulator(context.Background(), tc.url, &cfg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows the webhook secret: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if cfg.ZoomOAuthURL != sim || cfg.ZoomAPIURL != sim || !cfg.ZoomSimulated ||
			cfg.ZoomClientID != "kaisai-dev" || cfg.ZoomClientSecret != "kaisai-dev-secret" {
			t.Errorf("%s: OAuth %q, API %q, simulated %v, app %q/%q; want the simulator's and its seeded app",
				tc.name, cfg.ZoomOAuthURL, cfg.ZoomAPIURL, cfg.ZoomSimulated, cfg.ZoomClientID, cfg.ZoomClientSecret)
		}
	}
}

// TestUnsaidSimulatorRefused: a simulator given as Zoom's OAuth or API URL
// would stand in for Zoom with no banner; kaisai refuses to start.
func TestUnsaidSimulatorRefused(t *testing.T) {
	var logs syncBuffer
	sim := startZoomsim(t, &logs)
	for _, flag := range []string{"--zoom-oauth-url", "--zoom-api-url"} {
		var out, errOut bytes.Buffer
		// An address nobody can listen on: were the simulator not refused,
		// kaisai would fail there, not run.
		err := run([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:bad", "--zoom-client-id", "kaisai-dev",
			"--zoom-client-secret", "kaisai-dev-secret", flag, sim}, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--zoom-simulator="+sim) {
			t.Errorf("%s naming a simulator: %v, want a refusal naming --zoom-simulator=%s", flag, err, sim)
		}
	}
}

// TestServeWithSharedSimulator runs `kaisai serve --zoom-simulator=URL`
// beside a `kaisai zoomsim` of its own: kaisai starts no simulator, sends
// organizers to that one's consent page and says Zoom is simulated.
func TestServeWithSharedSimulator(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	const secret = "shared-secret"
	sim := sharedSim(t, base, secret)
	dataDir := t.TempDir()
	cmd := exec.Command(os.Args[0], "serve")
	var logs syncBuffer
	cmd.Stderr = &logs
	cmd.Env = append(os.Environ(), "KAISAI_TEST_RUN_MAIN=1", "KAISAI_ADDR="+addr, "KAISAI_DATA_DIR="+dataDir,
		"KAISAI_DATABASE_URL=", "KAISAI_ZOOM_SIMULATOR="+sim, "KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN="+secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	eventually.Value(t, "kaisai to become ready; its log", func() (string, bool) {
		select {
		case err := <-exited:
			t.Fatalf("kaisai exited: %v; log:\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "", true
			}
		}
		return logs.String(), false
	})
	if _, err := os.Stat(dataDir + "/zoomsim.json"); !os.IsNotExist(err) {
		t.Errorf("kaisai started a simulator of its own (zoomsim.json: %v)", err)
	}
	if !strings.Contains(logs.String(), "Zoom is SIMULATED") || !strings.Contains(logs.String(), "simulator="+sim) {
		t.Errorf("the log does not say Zoom is simulated by %s:\n%s", sim, logs.String())
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(base+"/signup", url.Values{"org_name": {"共有社"}, "name": {"担当"},
		"email": {"owner@shared.example"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = hc.Get(base + "/integrations")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `id="zoom-simulated"`) || !strings.Contains(string(page), `id="zoom-link"`) {
		t.Errorf("/integrations (%d) lacks the simulated banner or the link button:\n%s", resp.StatusCode, page)
	}
	resp, err = hc.PostForm(base+"/integrations/zoom/start", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, sim+"/oauth/authorize?") ||
		!strings.Contains(loc, url.QueryEscape(base+app.ZoomCallbackPath)) {
		t.Errorf("「Zoomと連携する」 sends the organizer to %q, want the shared simulator's consent page", loc)
	}
}

// TestZoomsimRedirectURI: --redirect-uri adds kaisai's callback to the
// seeded app; a state file whose app lacks it is refused, not ignored.
func TestZoomsimRedirectURI(t *testing.T) {
	const cb = "http://127.0.0.1:8081" + app.ZoomCallbackPath
	state := t.TempDir() + "/zoomsim.json"
	var logs syncBuffer
	sim := startZoomsim(t, &logs, "--state", state, "--redirect-uri", cb)
	resp, err := http.Get(sim + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"`+cb+`"`) {
		t.Errorf("the seeded app lacks the redirect URI %s: %s", cb, b)
	}
	var out bytes.Buffer
	err = zoomsimRun(context.Background(), []string{"--addr", "127.0.0.1:0", "--state", state,
		"--redirect-uri", "http://127.0.0.1:8082" + app.ZoomCallbackPath}, &out)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:8082") || !strings.Contains(err.Error(), state) {
		t.Errorf("a state file whose app lacks the redirect URI: %v", err)
	}
	if err := zoomsimRun(context.Background(), []string{"--addr", "127.0.0.1:0", "--seed=false", "--redirect-uri", cb}, &out); err == nil {
		t.Error("--redirect-uri without the seeded app: accepted")
	}
}

// --access-token-ttl shortens the lifetime of the simulator's access tokens.
func TestZoomsimAccessTokenTTL(t *testing.T) {
	var out bytes.Buffer
	if err := zoomsimRun(context.Background(), []string{"--addr", "127.0.0.1:0", "--access-token-ttl", "500ms"}, &out); err == nil {
		t.Error("--access-token-ttl 500ms must fail: whole seconds")
	}
	var logs syncBuffer
	base := startZoomsim(t, &logs, "--access-token-ttl", "7s")
	const redirect = "http://127.0.0.1:8080/integrations/zoom/callback" // the seeded app's
	const verifier = "a-code-verifier-of-at-least-forty-three-characters"
	sum := sha256.Sum256([]byte(verifier))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+"/oauth/authorize", url.Values{"response_type": {"code"},
		"client_id": {"kaisai-dev"}, "redirect_uri": {redirect}, "email": {"licensed@example.com"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"password": {"password"}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("kaisai-dev", "kaisai-dev-secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		ExpiresIn int `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.ExpiresIn != 7 {
		t.Errorf("token: %d expires_in %d (%v), want 200 and 7", resp.StatusCode, tok.ExpiresIn, err)
	}
}
