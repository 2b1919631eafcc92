package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
)

// TooManyLinkRequests refuses a request to resend application links: the
// address or the client asked too often. Nothing of it was recorded.
type TooManyLinkRequests struct{ RetryAt time.Time }

func (e *TooManyLinkRequests) Error() string {
	return fmt.Sprintf("too many link requests; retry at %s", e.RetryAt.Format(time.RFC3339))
}

// linkEmailHash keeps an address out of the table (most may never have applied).
func linkEmailHash(email string) string {
	sum := sha256.Sum256([]byte(event.NormalizeEmail(email)))
	return hex.EncodeToString(sum[:])
}

// RequestApplicationLinks records a participant's request to resend the
// links to their applications of event e and, if email applied to it (any
// status), owes it one 申込内容の確認 mail, in the same transaction. The
// caller answers the same either way. A request over the limits of
// event.LinkRequestRetryAt (per address, per client) is refused with
// *TooManyLinkRequests, and nothing is written.
func (s *Store) RequestApplicationLinks(ctx context.Context, e *event.Event, email, client string) (err error) {
	defer wrap(&err, "store.RequestApplicationLinks(org %d, event %d)", e.OrgID, e.ID)
	hash := linkEmailHash(email)
	err = s.Tx(ctx, func(tx *Tx) error {
		now := tx.now
		since := now.Add(-event.LinkRequestWindow)
		var retryAt time.Time
		for _, c := range []struct {
			where string
			arg   string
			limit int
		}{{"email_hash = $1", hash, event.LinkRequestsPerEmail}, {"client = $1", client, event.LinkRequestsPerClient}} {
			times, err := timesWhere(ctx, tx, `SELECT created_at FROM link_requests WHERE `+c.where+` AND created_at > $2`, c.arg, since)
			if err != nil {
				return err
			}
			if at := event.LinkRequestRetryAt(times, c.limit, now); at.After(retryAt) {
				retryAt = at
			}
		}
		if !retryAt.IsZero() {
			return &TooManyLinkRequests{RetryAt: retryAt}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO link_requests (email_hash, client, created_at) VALUES ($1, $2, $3)`,
			hash, client, now); err != nil {
			return err
		}
		// The newest application names the recipient; the mail lists all.
		a, err := applicationWhere(ctx, tx, `a.event_id = $1 AND LOWER(a.email) = $2 ORDER BY a.id DESC LIMIT 1`,
			e.ID, event.NormalizeEmail(email))
		if errors.Is(err, errNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.enqueueMail(ctx, tx, &a, event.MailApplicationLinks)
	})
	var tooMany *TooManyLinkRequests
	if err != nil && !errors.As(err, &tooMany) {
		return err
	}
	return err
}

func timesWhere(ctx context.Context, tx *Tx, query string, args ...any) ([]time.Time, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// ApplicationLink is one application as the 申込内容の確認 mail lists it.
type ApplicationLink struct {
	Token            string
	Status           event.ApplicationStatus
	StartsAt, EndsAt time.Time
}

// applicationLinks lists the applications of an event by an address, by
// schedule, for the 申込内容の確認 mail (read when it is sent).
func (s *Store) applicationLinks(ctx context.Context, eventID int64, email string) ([]ApplicationLink, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT a.token, a.status, sc.starts_at, sc.ends_at
		FROM applications a JOIN schedules sc ON sc.id = a.schedule_id
		WHERE a.event_id = $1 AND LOWER(a.email) = $2 ORDER BY sc.starts_at, a.id`, eventID, event.NormalizeEmail(email))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []ApplicationLink
	for rows.Next() {
		var l ApplicationLink
		if err := rows.Scan(&l.Token, &l.Status, &l.StartsAt, &l.EndsAt); err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}
