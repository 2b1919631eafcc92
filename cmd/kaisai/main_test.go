package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
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

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "ready" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kaisai did not become ready on %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
	for _, want := range []string{`"msg":"kaisai listening"`, `Zoom is SIMULATED`, `"msg":"shutting down"`, `"msg":"stopped"`} {
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
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/_sim/state"); err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("zoomsim did not answer; log:\n%s", logs.String())
		}
	}
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

func TestWantZoomSimulator(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		clientID string
		dbURL    string
		want     bool
		err      bool
	}{
		{"auto", "", "", true, false},
		{"auto", "id", "", false, false},
		{"auto", "", "postgres://db/kaisai", false, false}, // production-shaped: only when asked
		{"on", "", "postgres://db/kaisai", true, false},
		{"on", "id", "", false, true},
		{"off", "", "", false, false},
		{"maybe", "", "", false, true},
	} {
		got, err := wantZoomSimulator(tc.mode, app.Config{ZoomClientID: tc.clientID, DatabaseURL: tc.dbURL})
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("wantZoomSimulator(%q, id %q, db %q) = %v, %v", tc.mode, tc.clientID, tc.dbURL, got, err)
		}
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
