package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"kaisai/internal/secretbox"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is kaisai's database. On SQLite all writes go through one connection
// (SQLite has one writer at a time, and River's SQLite driver needs it so)
// while reads use a pool of their own; on PostgreSQL both are one pool.
type Store struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	now     func() time.Time
	// mailQueued is told after a commit that put mail in the outbox (see
	// enqueueMail), meetingsQueued after one that made Zoom meetings due
	// (see Tx.Queue).
	mailQueued        func()
	meetingsQueued    func()
	registrantsQueued func()
	// zoomCoalesce delays the sync of an edited meeting, so that quick
	// successive edits make one PATCH.
	zoomCoalesce time.Duration
	// webhookQueued is told after a commit that stored a Zoom webhook event.
	webhookQueued func()
	// stripeWebhookQueued after one that stored a Stripe webhook event,
	// paymentsQueued after one that left Checkout Sessions to expire.
	stripeWebhookQueued func()
	paymentsQueued      func()
	// secrets seals Zoom's tokens; nil when no key is configured.
	secrets *secretbox.Box
	// refreshLocks serialize token refreshes per Zoom connection on SQLite
	// (one process); PostgreSQL locks the row instead.
	refreshLocks sync.Map // connection id → *sync.Mutex
	// gate admits SQLite's writers to the one write connection in arrival
	// order: database/sql hands a freed connection to a random waiter, which
	// under load gives some requests ten times the median wait. nil on
	// PostgreSQL.
	gate chan struct{}
	// stmts are SQLite's prepared statements (see prepared.go); nil on PostgreSQL.
	stmts *statements
}

// Options says which database to open.
type Options struct {
	// DatabaseURL is a postgres:// URL; empty means SQLite in DataDir.
	DatabaseURL string
	DataDir     string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MailQueued, if set, is called after each commit that put mail in the
	// outbox, so delivery can start at once. It must not block.
	MailQueued func()
	// ZoomWebhookQueued, if set, is called after each commit that stored a
	// Zoom webhook event, so processing can start at once. It must not block.
	ZoomWebhookQueued func()
	// StripeWebhookQueued, if set, is called after each commit that stored
	// a Stripe webhook event; PaymentsQueued after each that left Checkout
	// Sessions to read back or expire. They must not block.
	StripeWebhookQueued func()
	PaymentsQueued      func()
	// ZoomMeetingsQueued, if set, is called after each commit that made Zoom
	// meetings due for sync. It must not block.
	ZoomMeetingsQueued func()
	// ZoomRegistrantsQueued, if set, is called after each commit that made
	// a meeting's registrant list due. It must not block.
	ZoomRegistrantsQueued func()
	// ZoomCoalesce is how long an edited meeting waits before it is synced,
	// so that quick successive edits make one PATCH (2 s when zero;
	// negative: none).
	ZoomCoalesce time.Duration
	// Secrets seals Zoom's OAuth tokens at rest; nil: Zoom connections
	// cannot store tokens (ErrNoSecrets).
	Secrets *secretbox.Box
}

// Open opens the database; Migrate must run before use.
func Open(ctx context.Context, o Options) (*Store, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	coalesce := o.ZoomCoalesce
	switch {
	case coalesce == 0:
		coalesce = 2 * time.Second
	case coalesce < 0:
		coalesce = 0
	}
	if o.DatabaseURL != "" {
		if !strings.HasPrefix(o.DatabaseURL, "postgres://") && !strings.HasPrefix(o.DatabaseURL, "postgresql://") {
			return nil, errors.New("store: KAISAI_DATABASE_URL must be a postgres:// URL")
		}
		db, err := sql.Open("pgx", o.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
		return &Store{dialect: Postgres, write: db, read: db, now: now, mailQueued: o.MailQueued,
			meetingsQueued: o.ZoomMeetingsQueued, registrantsQueued: o.ZoomRegistrantsQueued, zoomCoalesce: coalesce, webhookQueued: o.ZoomWebhookQueued,
			stripeWebhookQueued: o.StripeWebhookQueued, paymentsQueued: o.PaymentsQueued,
			secrets: o.Secrets}, nil
	}

	if o.DataDir == "" {
		return nil, errors.New("store: no data directory")
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(o.DataDir, "kaisai.db")
	// WAL with synchronous=FULL: an application a person saw accepted survives
	// a power loss. _time_format=sqlite stores times in a form SQLite's own
	// date functions and River understand.
	params := "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)" +
		"&_pragma=busy_timeout(10000)&_time_format=sqlite&_timezone=UTC"
	write, err := sql.Open("sqlite", "file:"+path+"?"+params+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", "file:"+path+"?"+params+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return &Store{dialect: SQLite, write: write, read: read, now: now, mailQueued: o.MailQueued,
		meetingsQueued: o.ZoomMeetingsQueued, registrantsQueued: o.ZoomRegistrantsQueued, zoomCoalesce: coalesce, webhookQueued: o.ZoomWebhookQueued,
		stripeWebhookQueued: o.StripeWebhookQueued, paymentsQueued: o.PaymentsQueued,
		secrets: o.Secrets, gate: make(chan struct{}, 1), stmts: &statements{}}, nil
}

// Dialect says which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// WriteDB is the pool that River and transactions use.
func (s *Store) WriteDB() *sql.DB { return s.write }

// Close closes the pools.
func (s *Store) Close() (err error) {
	defer wrap(&err, "store.Close()")
	s.closeStatements()
	err = s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer wrap(&err, "store.Ping()")
	var one int
	if err := s.reader().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	return nil
}

// Tx is a write transaction: the *sql.Tx, the way its statements run
// (prepared ones on SQLite, see prepared.go), its clock, and the work it
// queued for jobs to do once it commits.
type Tx struct {
	tx *sql.Tx
	// st are SQLite's prepared statements; nil on PostgreSQL.
	st *statements
	// now is the transaction's time (nowUTC), read once when it began,
	// after its wait for the writer, which must not age it. A field, not a
	// clock to call: every row one transaction writes carries the same
	// instant, as PostgreSQL's now() would.
	now time.Time
	// queued is what it queued for jobs (see queue).
	queued queued
}

// queue records that the transaction queued work of kind q: Store.Tx tells
// the matching callback once it commits, since a nudge before the commit
// could find nothing to do.
func (t *Tx) queue(q queued) { t.queued |= q }

// Tx runs fn in a write transaction, committed when fn returns nil. Its
// errors are not wrapped: the exported methods that run in it wrap theirs,
// and fn's own errors come back as fn returned them. On
// SQLite, fn must not wait on anything outside the transaction: the one write
// connection is held until it returns.
func (s *Store) Tx(ctx context.Context, fn func(*Tx) error) error {
	if s.gate != nil {
		select {
		case s.gate <- struct{}{}: // blocked senders are served first come, first served
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.gate }()
	}
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, st: s.stmts, now: s.nowUTC()}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.tell(tx.queued)
	if s.stmts != nil {
		s.prepareWrites(ctx)
	}
	return nil
}

// queued is what a transaction queued for jobs to do after it commits.
type queued uint8

const (
	queuedMail queued = 1 << iota
	queuedMeetings
	queuedRegistrants
	queuedStripeWebhooks
	queuedPayments
)

func (s *Store) tell(q queued) {
	if q&queuedMail != 0 && s.mailQueued != nil {
		s.mailQueued()
	}
	if q&queuedMeetings != 0 && s.meetingsQueued != nil {
		s.meetingsQueued()
	}
	if q&queuedRegistrants != 0 && s.registrantsQueued != nil {
		s.registrantsQueued()
	}
	if q&queuedStripeWebhooks != 0 && s.stripeWebhookQueued != nil {
		s.stripeWebhookQueued()
	}
	if q&queuedPayments != 0 && s.paymentsQueued != nil {
		s.paymentsQueued()
	}
}

// exec runs one write statement in a transaction of its own, so that it too
// waits its turn at the gate.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var r sql.Result
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		r, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return r, err
}

// execUnprepared is exec for a text built from data (see Tx.Unprepared).
func (s *Store) execUnprepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var r sql.Result
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		r, err = tx.Unprepared().ExecContext(ctx, query, args...)
		return err
	})
	return r, err
}

// nowUTC is the store's clock in UTC: every time written is UTC.
func (s *Store) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// isUniqueViolation reports whether err is a unique-constraint failure.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// notFound turns sql.ErrNoRows into the domain's not-found error.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	return err
}

// querier is what both *sql.DB and *Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func timeOf(n sql.NullTime) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return n.Time.UTC()
}

// wrap gives *errp, when set, its context once, at an exported method's
// boundary: the method's name and the ids it was given (never secrets,
// e-mail addresses or tokens). The error stays inspectable with errors.Is
// and errors.As, so domain errors and ErrLeaseLost keep their meaning.
func wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf(format+": %w", append(args, *errp)...)
	}
}
