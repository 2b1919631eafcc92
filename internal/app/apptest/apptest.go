// Package apptest starts a real kaisai for tests: its own database, a real
// HTTP server on a free port, and the job workers.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/auth"
	"kaisai/internal/testdb"
)

// FastPasswords keeps argon2id but at a cost that suits tests.
var FastPasswords = auth.Params{Memory: 64, Time: 1, Threads: 1}

// TestSecretKey is the KAISAI_SECRET_KEY of tests.
const TestSecretKey = "0000000000000000000000000000000000000000000000000000000000000001"

// Start starts kaisai on db and stops it when the test ends. Set
// KAISAI_TEST_LOG=1 to see its log.
func Start(t testing.TB, db testdb.DB, opts ...func(*app.Config)) *app.App {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("KAISAI_TEST_LOG") != "" {
		out = os.Stderr
	}
	cfg := app.Config{
		Addr:           "127.0.0.1:0",
		DataDir:        db.DataDir,
		DatabaseURL:    db.DatabaseURL,
		Logger:         slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PasswordParams: FastPasswords,
		// Zoom's tokens are sealed with a fixed key, also on PostgreSQL
		// (where kaisai generates none).
		SecretKey: TestSecretKey,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatalf("start kaisai: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		a.Store.Close()
		t.Fatalf("start kaisai: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("stop kaisai: %v", err)
		}
	})
	return a
}
