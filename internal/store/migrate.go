package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrations embed.FS

// migrationLockID is the PostgreSQL advisory lock held while migrating
// ("kaisai" in ASCII).
const migrationLockID = 0x6b6169736169

// Migrate brings the schema up to date: kaisai's own migrations (goose), then
// River's. On PostgreSQL both run under one session advisory lock, because
// River's migrator takes none: when several instances start at once, one
// migrates while the others wait for the lock and then find nothing to do.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) (err error) {
	defer wrap(&err, "store.Migrate()")
	if s.dialect == Postgres {
		conn, err := s.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockID)
	}
	if err := s.migrateKaisai(ctx, log); err != nil {
		return err
	}
	return s.migrateRiver(ctx, log)
}

func (s *Store) migrateKaisai(ctx context.Context, log *slog.Logger) error {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	if s.dialect == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// Out of order: 00004 (zoom_connections) was reserved while 00005 shipped
	// first, so a database at 00005 must still get 00004.
	p, err := goose.NewProvider(dialect, s.write, fsys, goose.WithDisableGlobalRegistry(true),
		goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// migrateRiver applies River's own migrations, each in its transaction.
func (s *Store) migrateRiver(ctx context.Context, log *slog.Logger) error {
	var driver riverdriver.Driver[*sql.Tx]
	if s.dialect == Postgres {
		driver = riverdatabasesql.New(s.write)
	} else {
		driver = riversqlite.New(s.write)
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("river migration applied", "version", v.Version, "duration", v.Duration)
	}
	return nil
}
