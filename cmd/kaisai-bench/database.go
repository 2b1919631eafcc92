package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// database is one fresh, empty database: a temporary SQLite directory, or a
// PostgreSQL database created for the run; drop removes it.
type database struct {
	Dialect string // "sqlite" or "postgres"
	DataDir string // SQLite
	URL     string // PostgreSQL
	drop    func() error
}

// Drop removes the database, within a bounded time.
func (d *database) Drop() error { return d.drop() }

// newDatabase makes a fresh database: SQLite unless adminURL (a postgres://
// URL whose user may create databases) is set. name says what it is for.
func newDatabase(ctx context.Context, adminURL, name string) (*database, error) {
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "kaisai-bench-"+name+"-")
		if err != nil {
			return nil, err
		}
		return &database{Dialect: "sqlite", DataDir: dir, drop: func() error { return os.RemoveAll(dir) }}, nil
	}
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("--postgres must be a postgres:// URL")
	}
	b := make([]byte, 6)
	rand.Read(b)
	dbName := "kaisai_bench_" + name + "_" + hex.EncodeToString(b)
	if err := adminExec(ctx, adminURL, "CREATE DATABASE "+dbName); err != nil {
		return nil, fmt.Errorf("create database %s: %w", dbName, err)
	}
	u.Path = "/" + dbName
	return &database{Dialect: "postgres", URL: u.String(), drop: func() error {
		// The run's context may be over (a signal): dropping gets its own time.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return adminExec(ctx, adminURL, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
	}}, nil
}

func adminExec(ctx context.Context, adminURL, stmt string) error {
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, stmt)
	return err
}

// sqlitePragmas are the DSN parameters of kaisai's SQLite database: keep them
// the same as internal/store/store.go Open, so the baseline pays for the same
// durability (WAL, synchronous=FULL) as kaisai.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)" +
	"&_pragma=busy_timeout(10000)&_time_format=sqlite&_timezone=UTC&_txlock=immediate"

// openBaselineDB opens the baseline's database the way kaisai's store opens
// its write pool: on SQLite one writer connection, on PostgreSQL a pool of 20.
func openBaselineDB(ctx context.Context, d *database) (*sql.DB, error) {
	var db *sql.DB
	var err error
	var create string
	if d.Dialect == "sqlite" {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(d.DataDir, "baseline.db")+"?"+sqlitePragmas)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		create = `CREATE TABLE baseline_applications (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
			email TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`
	} else {
		db, err = sql.Open("pgx", d.URL)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		create = `CREATE TABLE baseline_applications (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,
			email TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`
	}
	if _, err := db.ExecContext(ctx, create); err != nil {
		db.Close()
		return nil, fmt.Errorf("create baseline table: %w", err)
	}
	if d.Dialect == "sqlite" {
		var mode string
		var sync int
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			db.Close()
			return nil, err
		}
		if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			db.Close()
			return nil, err
		}
		if !strings.EqualFold(mode, "wal") || sync != 2 {
			db.Close()
			return nil, fmt.Errorf("baseline SQLite runs journal_mode=%s synchronous=%d, want wal and 2 (FULL)", mode, sync)
		}
	}
	return db, nil
}
