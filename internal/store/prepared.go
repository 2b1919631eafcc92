package store

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses a statement on every call that is not prepared, and on the
// application path that parsing was a sixth of the CPU (kaisai-bench). So on
// SQLite the store keeps prepared statements: reads prepare on first use;
// writes run inside transactions on the one write connection, where
// preparing would have to wait for the connection the caller holds, so a
// write statement runs unprepared the first time and is prepared after that
// transaction commits. PostgreSQL's driver caches statements itself.
type statements struct {
	read    sync.Map // query → *sql.Stmt on the read pool
	write   sync.Map // query → *sql.Stmt on the write connection
	pending sync.Map // query → struct{}: to prepare on the write connection
}

// stmt is the prepared statement for query within the transaction, or nil
// (on PostgreSQL, or until the statement is prepared after a commit).
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.st == nil {
		return nil
	}
	if st, ok := t.st.write.Load(query); ok {
		return t.tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	t.st.pending.Store(query, struct{}{})
	return nil
}

// QueryContext runs a query in the transaction, prepared on SQLite. query
// must be one of a bounded set of texts: each is prepared once and kept
// (Unprepared is for texts built from data, such as IN lists).
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext is QueryContext for one row.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a statement in the transaction, prepared on SQLite (see
// QueryContext).
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// Unprepared runs statements in the transaction without preparing them: for
// texts built from data (IN lists of any length, a LIMIT written in), which
// would otherwise fill the statement cache without bound.
func (t *Tx) Unprepared() querier { return t.tx }

// prepareWrites prepares the write statements first run since the last
// call. Tx calls it after a commit, still holding the gate, so the write
// connection is free.
func (s *Store) prepareWrites(ctx context.Context) {
	s.stmts.pending.Range(func(k, _ any) bool {
		s.stmts.pending.Delete(k)
		query := k.(string)
		if _, ok := s.stmts.write.Load(query); ok {
			return true
		}
		if st, err := s.write.PrepareContext(ctx, query); err == nil {
			s.stmts.write.Store(query, st)
		}
		return true
	})
}

// readQuerier reads through prepared statements on SQLite.
type readQuerier struct {
	db *sql.DB
	st *statements
}

func (q readQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := q.st.read.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := q.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain query will report the error
	}
	if prev, loaded := q.st.read.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

func (q readQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.db.QueryContext(ctx, query, args...)
}

func (q readQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.db.QueryRowContext(ctx, query, args...)
}

func (q readQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.db.ExecContext(ctx, query, args...)
}

// reader is the querier for reads outside a transaction: prepared
// statements on SQLite, the read pool on PostgreSQL. query must be one of a
// bounded set of texts (see Tx.QueryContext); texts built from data read
// through readUnprepared.
func (s *Store) reader() querier {
	if s.stmts == nil {
		return s.read
	}
	return readQuerier{db: s.read, st: s.stmts}
}

// readUnprepared is the querier for reads whose text is built from data.
func (s *Store) readUnprepared() querier { return s.read }

// closeStatements closes the prepared statements before the pools close.
func (s *Store) closeStatements() {
	if s.stmts == nil {
		return
	}
	for _, m := range []*sync.Map{&s.stmts.read, &s.stmts.write} {
		m.Range(func(_, v any) bool {
			v.(*sql.Stmt).Close()
			return true
		})
	}
}
