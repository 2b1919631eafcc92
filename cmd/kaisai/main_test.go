package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
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
	for _, want := range []string{`"msg":"kaisai listening"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
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
