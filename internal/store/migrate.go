package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrations embed.FS

// riverMigrationVersion is the goose version that brings River's own tables
// to the version of the River module in go.mod. Upgrading River adds another
// such Go migration, so River's schema always moves under goose's lock.
const riverMigrationVersion = 2

// Migrate brings the schema up to date: kaisai's SQL migrations and River's.
// On PostgreSQL a session advisory lock makes concurrent starts safe: one
// instance applies, the others wait and then find nothing to do.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	opts := []goose.ProviderOption{
		goose.WithGoMigrations(goose.NewGoMigration(riverMigrationVersion,
			&goose.GoFunc{RunTx: s.migrateRiver}, nil)),
		goose.WithDisableGlobalRegistry(true),
	}
	if s.dialect == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.write, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// migrateRiver applies River's migrations inside goose's transaction.
func (s *Store) migrateRiver(ctx context.Context, tx *sql.Tx) error {
	var driver riverdriver.Driver[*sql.Tx]
	if s.dialect == Postgres {
		driver = riverdatabasesql.New(s.write)
	} else {
		driver = riversqlite.New(s.write)
	}
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}
