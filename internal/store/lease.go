package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Leases: how a worker, on any instance, holds work that no other worker
// may do meanwhile — a meeting to sync, a registrant list, mail to send,
// stored webhooks, a host's right to create meetings. One mechanism serves
// them all.
//
// A run of a job takes a lease (a row of work_leases: an owner token and an
// expiry) and keeps it alive while it works (RenewLease, a few times per
// TTL). A row of work is claimed by writing the owner into its lease
// column; it is held while that owner's lease lives. When the run ends
// (EndLease) or its process dies (the lease expires, within its TTL), every
// row it held is free at once, without touching them.
//
// Every write of an outcome is fenced: it applies only while the row still
// names the writer's owner, so a late result from a worker whose lease ran
// out and whose work was taken over cannot overwrite the newer state
// (ErrLeaseLost).

// ErrLeaseLost: the work was taken over by another worker after this
// worker's lease ran out; its result was not recorded.
var ErrLeaseLost = errors.New("store: lease lost: another worker took the work over")

// DefaultLeaseTTL is how long a lease lives unless renewed: a dead worker's
// work is free again within it.
const DefaultLeaseTTL = 10 * time.Second

// Lease is a worker's hold on work.
type Lease struct {
	Owner string
	TTL   time.Duration
}

// leased is a kind of work held by leases: its table and the column that
// names the holding owner.
type leased struct{ table, column string }

var (
	meetingWork    = leased{"zoom_meetings", "lease_owner"}         // a meeting's sync
	registrantWork = leased{"zoom_meetings", "reg_lease_owner"}     // a meeting's registrant list
	mailWork       = leased{"outbox", "lease_owner"}                // a mail's delivery
	webhookWork    = leased{"zoom_webhook_events", "lease_owner"}   // a stored webhook's processing
	createWork     = leased{"zoom_connections", "create_owner"}     // a host's meeting creates
	stripeHookWork = leased{"stripe_webhook_events", "lease_owner"} // a stored Stripe webhook's processing
)

// free is the condition, on alias's row, that no live lease holds it at
// now ($n, the argument number of now).
func (w leased) free(alias, now string) string {
	col := alias + "." + w.column
	return `(` + col + ` IS NULL OR NOT EXISTS (SELECT 1 FROM work_leases l WHERE l.owner = ` + col +
		` AND l.expires_at > ` + now + `))`
}

// join joins, as l, the lease naming alias's row (for l.expires_at, when
// it may be free; NULL when no lease names it).
func (w leased) join(alias string) string {
	return ` LEFT JOIN work_leases l ON l.owner = ` + alias + `.` + w.column
}

// TakeLease starts a lease for holder (what works under it, for an
// operator's eyes: "mail host:pid"), alive for ttl (DefaultLeaseTTL when
// zero) unless renewed.
func (s *Store) TakeLease(ctx context.Context, holder string, ttl time.Duration) (_ Lease, err error) {
	defer wrap(&err, "store.TakeLease(%s)", holder)
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	b := make([]byte, 12)
	rand.Read(b)
	l := Lease{Owner: hex.EncodeToString(b), TTL: ttl}
	if _, err := s.exec(ctx, `INSERT INTO work_leases (owner, holder, expires_at) VALUES ($1, $2, $3)`,
		l.Owner, holder, s.nowUTC().Add(ttl)); err != nil {
		return Lease{}, err
	}
	return l, nil
}

// RenewLease keeps l alive for another TTL. ErrLeaseLost when it has
// expired already: its work may be another worker's by now, and the run
// should stop.
func (s *Store) RenewLease(ctx context.Context, l Lease) (err error) {
	defer wrap(&err, "store.RenewLease()")
	now := s.nowUTC()
	r, err := s.exec(ctx, `UPDATE work_leases SET expires_at = $1 WHERE owner = $2 AND expires_at > $3`,
		now.Add(l.TTL), l.Owner, now)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// EndLease ends l: all the work it held is free at once.
func (s *Store) EndLease(ctx context.Context, l Lease) (err error) {
	defer wrap(&err, "store.EndLease()")
	if _, err := s.exec(ctx, `DELETE FROM work_leases WHERE owner = $1`, l.Owner); err != nil {
		return err
	}
	return nil
}

// deleteExpiredLeases forgets leases expired before before (their
// holders died long ago).
func deleteExpiredLeases(ctx context.Context, tx *Tx, before time.Time) (int64, error) {
	r, err := tx.ExecContext(ctx, `DELETE FROM work_leases WHERE expires_at < $1`, before.UTC())
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// claim leases to l the rows of w that candidates selects — a query of
// their "id" and their owner column as "seen", due and free (under an
// alias other than the table's name), ordered and limited — and returns
// their ids. recheck repeats the due conditions on
// the table's own columns (unqualified): on PostgreSQL a claim racing with
// another one re-evaluates them, and the owner compared with the one seen,
// on the row as the other claim left it, so a row goes to one claim only.
// args are candidates' and recheck's arguments, from $1.
func (s *Store) claim(ctx context.Context, tx *Tx, w leased, l Lease, candidates, recheck string, args ...any) ([]int64, error) {
	owner := fmt.Sprintf("$%d", len(args)+1)
	q := `UPDATE ` + w.table + ` SET ` + w.column + ` = ` + owner + `
		FROM (` + candidates + `) k
		WHERE ` + w.table + `.id = k.id AND COALESCE(` + w.table + `.` + w.column + `, '') = COALESCE(k.seen, '')`
	if recheck != "" {
		q += ` AND ` + recheck
	}
	return returnedIDs(ctx, tx, q+` RETURNING `+w.table+`.id`, append(args, l.Owner)...)
}

// fence checks, in tx, that l still holds row id of w, and on PostgreSQL
// locks that row until tx ends, so no claim can take it over before tx's
// writes are in. ErrLeaseLost when another worker holds it now.
func (s *Store) fence(ctx context.Context, tx *Tx, w leased, id int64, l Lease) error {
	r, err := tx.ExecContext(ctx, `UPDATE `+w.table+` SET `+w.column+` = `+w.column+` WHERE id = $1 AND `+
		w.column+` = $2`, id, l.Owner)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// fenced runs fn in a transaction that applies only while l still holds
// row id of w (see fence).
func (s *Store) fenced(ctx context.Context, w leased, id int64, l Lease, fn func(*Tx) error) error {
	return s.Tx(ctx, func(tx *Tx) error {
		if err := s.fence(ctx, tx, w, id, l); err != nil {
			return err
		}
		return fn(tx)
	})
}

// release gives row id of w back, fenced: it is free at once (a worker
// stopping, or handing the row to a later run).
func (s *Store) release(ctx context.Context, tx *Tx, w leased, id int64, l Lease) error {
	r, err := tx.ExecContext(ctx, `UPDATE `+w.table+` SET `+w.column+` = NULL WHERE id = $1 AND `+w.column+` = $2`,
		id, l.Owner)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Holders lists the live leases' holders, by owner (tests, operators).
func (s *Store) Holders(ctx context.Context) (_ map[string]string, err error) {
	defer wrap(&err, "store.Holders()")
	rows, err := s.reader().QueryContext(ctx, `SELECT owner, holder FROM work_leases WHERE expires_at > $1`, s.nowUTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var o, h string
		if err := rows.Scan(&o, &h); err != nil {
			return nil, err
		}
		out[o] = h
	}
	return out, rows.Err()
}

// leaseHeld is the error of a fenced single-row write: ErrLeaseLost when
// it matched no row (another worker holds the row now).
func leaseHeld(r sql.Result, err error) error {
	if err == nil {
		if n, _ := r.RowsAffected(); n == 0 {
			err = ErrLeaseLost
		}
	}
	return err
}

// forEachHeld gives back the rows ids of w held by l, setting set (SQL
// over $3… from args) on each as well, in one transaction. Rows another
// worker took over are left to it: ErrLeaseLost after the others.
func (s *Store) forEachHeld(ctx context.Context, w leased, l Lease, ids []int64, set string, args ...any) error {
	if len(ids) == 0 {
		return nil
	}
	if set != "" {
		set = ", " + set
	}
	lost := false
	err := s.Tx(ctx, func(tx *Tx) error {
		lost = false
		for _, id := range ids {
			r, err := tx.ExecContext(ctx, `UPDATE `+w.table+` SET `+w.column+` = NULL`+set+` WHERE id = $1 AND `+
				w.column+` = $2`, append([]any{id, l.Owner}, args...)...)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				lost = true
			}
		}
		return nil
	})
	if err == nil && lost {
		err = ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("give back %s: %w", w.table, err)
	}
	return nil
}

// placeholders are "$1, $2, …" for ids, with ids as arguments.
func placeholders(ids []int64) (string, []any) {
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
	}
	return strings.Join(ph, ", "), args
}
