// Package testdb gives tests a fresh, empty database: SQLite in a temporary
// directory always, and PostgreSQL when KAISAI_TEST_POSTGRES_URL is set.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// PostgresEnv names the variable with the URL of a PostgreSQL server whose
// user may create databases. CI sets it.
const PostgresEnv = "KAISAI_TEST_POSTGRES_URL"

// DB says how to reach one test database: DatabaseURL for PostgreSQL, or
// DataDir for SQLite.
type DB struct {
	Name        string // "sqlite" or "postgres", for subtest names
	DatabaseURL string
	DataDir     string
}

// Each runs fn as a subtest on SQLite and, when configured, PostgreSQL, each
// with a new empty database.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a new SQLite data directory.
func SQLite(t testing.TB) DB {
	return DB{Name: "sqlite", DataDir: t.TempDir()}
}

// Postgres creates a new PostgreSQL database, dropped when the test ends. It
// skips the test, saying how to run it, when KAISAI_TEST_POSTGRES_URL is not
// set; in CI (CI=true) it fails instead, so nothing is skipped there.
func Postgres(t testing.TB) DB {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "kaisai_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return DB{Name: "postgres", DatabaseURL: u.String()}
}

// PostgresURL is KAISAI_TEST_POSTGRES_URL, for a test that connects on its
// own (a command under test given the URL). Without it the test skips,
// saying how to run it; in CI (CI=true) it fails instead.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests", PostgresEnv)
		}
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable to run them", PostgresEnv)
	}
	return base
}
