package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// logBuffer collects a running kaisai's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until cond holds, failing the test at the deadline with
// what the server logged meanwhile.
func waitFor(t *testing.T, what string, logs *logBuffer, cond func() bool) {
	t.Helper()
	// The last value seen is the server's log, for the failure message.
	eventually.Value(t, what+", with the server's log", func() (string, bool) {
		if cond() {
			return "", true
		}
		return logs.String(), false
	})
}

// TestClientHangUpIsNotAServerError: a participant who closes the
// connection while the application is waiting for the database is logged
// as a client that closed its request (INFO, 499 in the access log), not
// as a server error (ERROR, 500).
func TestClientHangUpIsNotAServerError(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		var logs logBuffer
		a := startKaisai(t, db, func(cfg *app.Config) {
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		owner := newClient(t, a)
		owner.signup("切断テスト", "hangup@example.com")
		eventID := owner.createEvent(eventSpec{Title: "切断テスト用イベント"})
		groupID := owner.addGroup(eventID, placeGroup("金沢市"))
		scheduleID := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)
		participant := newClient(t, a)
		key := participant.applyForm(public)

		// Something holds what the application must write, so the handler
		// waits for the database. On PostgreSQL another connection locks the
		// schedule's row; on SQLite a long kaisai transaction holds the one
		// write connection (as a slow writer would), so the handler waits
		// its turn at the store's gate.
		ctx := context.Background()
		var blocked func() bool
		var release func()
		if db.DatabaseURL != "" {
			lock, err := sql.Open("pgx", db.DatabaseURL)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Close()
			conn, err := lock.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, `SELECT 1 FROM schedules WHERE id = $1 FOR UPDATE`, scheduleID); err != nil {
				t.Fatal(err)
			}
			release = sync.OnceFunc(func() {
				if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
					t.Error(err)
				}
			})
			// Observable: the handler's UPDATE waits for this row lock.
			blocked = func() bool {
				var n int
				err := lock.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE schedules%'`).Scan(&n)
				if err != nil {
					t.Fatal(err)
				}
				return n > 0
			}
		} else {
			held, let := make(chan struct{}), make(chan struct{})
			ended := make(chan error, 1)
			go func() {
				ended <- a.Store.Tx(ctx, func(*store.Tx) error {
					close(held)
					<-let
					return nil
				})
			}()
			<-held
			release = sync.OnceFunc(func() {
				close(let)
				if err := <-ended; err != nil {
					t.Error(err)
				}
			})
		}
		defer release()

		// The participant applies and hangs up once kaisai's handler has the
		// request (it asks for the body: Expect: 100-continue), and on
		// PostgreSQL once it is seen waiting for the lock. On SQLite its
		// waiting at the gate cannot be seen: the handler finds the client
		// gone either before it reaches the gate or while it waits there.
		// Hanging up as soon as the request was written could beat the
		// request to the server, which then never saw it.
		reqCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		asked, sent := make(chan struct{}), make(chan struct{})
		trace := &httptrace.ClientTrace{Got100Continue: func() { close(asked) },
			WroteRequest: func(httptrace.WroteRequestInfo) { close(sent) }}
		f := applyValues(scheduleID, "切断 太郎", "hangup-applicant@example.com", key)
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(reqCtx, trace), http.MethodPost,
			participant.base+public+"/apply", strings.NewReader(f.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Expect", "100-continue")
		hc := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
		defer hc.CloseIdleConnections()
		done := make(chan error, 1)
		go func() {
			res, err := hc.Do(req)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			done <- err
		}()
		select {
		case <-asked:
		case err := <-done:
			t.Fatalf("the application ended before kaisai asked for its body: %v", err)
		}
		<-sent // the body too: a hang-up before it is an unfinished form (400)
		if blocked != nil {
			waitFor(t, "the handler to wait for the row lock", &logs, blocked)
		}
		cancel()
		if err := <-done; err == nil {
			t.Fatal("the request completed although its client hung up")
		}

		// The server notices, and logs the request when its handler ends.
		applyLine := regexp.MustCompile(`msg=request method=POST path=/e/[^ ]+/apply status=(\d+)`)
		waitFor(t, "the access log line of the application", &logs, func() bool { return applyLine.MatchString(logs.String()) })
		release()

		out := logs.String()
		if m := applyLine.FindStringSubmatch(out); m[1] != "499" {
			t.Errorf("the access log says status %s, want 499:\n%s", m[1], out)
		}
		for line := range strings.Lines(out) {
			// Only this request's lines: on SQLite the job queue, held off
			// the write connection meanwhile, may have its own complaints.
			if !strings.Contains(line, "/apply") {
				continue
			}
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "status=500") {
				t.Errorf("a client hanging up was logged as a server error: %s", line)
			}
		}
		if !strings.Contains(out, `level=INFO msg="client closed request"`) {
			t.Errorf("no INFO line says the client closed the request:\n%s", out)
		}
		if rows := owner.applications(eventID); len(rows) != 0 {
			t.Errorf("a request whose client hung up stored an application: %+v", rows)
		}
	})
}
