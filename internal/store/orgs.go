package store

import (
	"context"
	"time"

	"kaisai/internal/event"
)

var errNotFound = event.ErrNotFound

// ErrEmailTaken is returned when an organizer's e-mail already has an account.
var ErrEmailTaken = event.FieldErrors{{Field: "email", Key: "validation.email_taken"}}

// CreateOrganization creates an organization and its owner; passwordHash is
// already hashed.
func (s *Store) CreateOrganization(ctx context.Context, in event.SignupInput, passwordHash string) (_ event.Organization, _ event.Member, err error) {
	defer wrap(&err, "store.CreateOrganization()")
	now := s.nowUTC()
	org := event.Organization{Name: in.OrgName, CreatedAt: now}
	m := event.Member{Email: in.Email, Name: in.Name, Role: event.RoleOwner, CreatedAt: now}
	err = s.Tx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx,
			`INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id`,
			org.Name, now).Scan(&org.ID); err != nil {
			return err
		}
		m.OrgID = org.ID
		return insertMember(ctx, tx, &m, passwordHash)
	})
	if isUniqueViolation(err) {
		return org, m, ErrEmailTaken
	}
	if err != nil {
		return org, m, err
	}
	return org, m, nil
}

// AddMember adds a staff member to an organization.
func (s *Store) AddMember(ctx context.Context, orgID int64, in event.MemberInput, passwordHash string) (_ event.Member, err error) {
	defer wrap(&err, "store.AddMember(org %d)", orgID)
	m := event.Member{OrgID: orgID, Email: in.Email, Name: in.Name, Role: event.RoleStaff, CreatedAt: s.nowUTC()}
	err = s.Tx(ctx, func(tx *Tx) error { return insertMember(ctx, tx, &m, passwordHash) })
	if isUniqueViolation(err) {
		return m, ErrEmailTaken
	}
	if err != nil {
		return m, err
	}
	return m, nil
}

func insertMember(ctx context.Context, q querier, m *event.Member, passwordHash string) error {
	return q.QueryRowContext(ctx,
		`INSERT INTO members (org_id, email, name, role, password_hash, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		m.OrgID, m.Email, m.Name, m.Role, passwordHash, m.CreatedAt).Scan(&m.ID)
}

const memberColumns = `m.id, m.org_id, m.email, m.name, m.role, m.created_at`

func scanMember(sc interface{ Scan(...any) error }, m *event.Member, extra ...any) error {
	return sc.Scan(append([]any{&m.ID, &m.OrgID, &m.Email, &m.Name, &m.Role, &m.CreatedAt}, extra...)...)
}

// MemberForLogin returns the member with the (normalized) e-mail and its
// password hash.
func (s *Store) MemberForLogin(ctx context.Context, email string) (_ event.Member, _ string, err error) {
	defer wrap(&err, "store.MemberForLogin()")
	var m event.Member
	var hash string
	err = scanMember(s.reader().QueryRowContext(ctx,
		`SELECT `+memberColumns+`, m.password_hash FROM members m WHERE m.email = $1`, email), &m, &hash)
	if err != nil {
		return m, "", notFound(err)
	}
	return m, hash, nil
}

// Members lists an organization's members, owner first.
func (s *Store) Members(ctx context.Context, orgID int64) (_ []event.Member, err error) {
	defer wrap(&err, "store.Members(org %d)", orgID)
	rows, err := s.reader().QueryContext(ctx,
		`SELECT `+memberColumns+` FROM members m WHERE m.org_id = $1 ORDER BY m.role = 'owner' DESC, m.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []event.Member
	for rows.Next() {
		var m event.Member
		if err := scanMember(rows, &m); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// Organization returns one organization.
func (s *Store) Organization(ctx context.Context, id int64) (_ event.Organization, err error) {
	defer wrap(&err, "store.Organization(id %d)", id)
	var o event.Organization
	err = s.reader().QueryRowContext(ctx, `SELECT id, name, created_at FROM organizations WHERE id = $1`, id).
		Scan(&o.ID, &o.Name, &o.CreatedAt)
	return o, notFound(err)
}

// CreateSession stores a login session under the hash of its secret.
func (s *Store) CreateSession(ctx context.Context, idHash string, memberID int64, ttl time.Duration) (err error) {
	defer wrap(&err, "store.CreateSession(member %d)", memberID)
	now := s.nowUTC()
	_, err = s.exec(ctx,
		`INSERT INTO sessions (id_hash, member_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		idHash, memberID, now, now.Add(ttl))
	if err != nil {
		return err
	}
	return nil
}

// SessionMember returns the member of a live session. An expired or unknown
// session is not found.
func (s *Store) SessionMember(ctx context.Context, idHash string) (_ event.Member, err error) {
	defer wrap(&err, "store.SessionMember()")
	var m event.Member
	err = scanMember(s.reader().QueryRowContext(ctx,
		`SELECT `+memberColumns+` FROM sessions s JOIN members m ON m.id = s.member_id
		 WHERE s.id_hash = $1 AND s.expires_at > $2`, idHash, s.nowUTC()), &m)
	return m, notFound(err)
}

// DeleteSession ends a session (log out).
func (s *Store) DeleteSession(ctx context.Context, idHash string) (err error) {
	defer wrap(&err, "store.DeleteSession()")
	_, err = s.exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return err
}

// RecordLoginFailure notes a failed login for rate limiting.
func (s *Store) RecordLoginFailure(ctx context.Context, email, ip string) (err error) {
	defer wrap(&err, "store.RecordLoginFailure()")
	_, err = s.exec(ctx,
		`INSERT INTO login_failures (email, ip, created_at) VALUES ($1, $2, $3)`, email, ip, s.nowUTC())
	return err
}

// LoginFailures counts failed logins since a time, for an e-mail and for an IP.
func (s *Store) LoginFailures(ctx context.Context, email, ip string, since time.Time) (byEmail, byIP int, err error) {
	defer wrap(&err, "store.LoginFailures()")
	err = s.reader().QueryRowContext(ctx,
		`SELECT
		   (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND created_at > $3),
		   (SELECT COUNT(*) FROM login_failures WHERE ip = $2 AND created_at > $3)`,
		email, ip, since.UTC()).Scan(&byEmail, &byIP)
	return byEmail, byIP, err
}

// ClearLoginFailures forgets an e-mail's failures after a successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, email string) (err error) {
	defer wrap(&err, "store.ClearLoginFailures()")
	_, err = s.exec(ctx, `DELETE FROM login_failures WHERE email = $1`, email)
	return err
}

// DeleteExpired removes expired sessions, and login failures, form
// submission keys, work leases (of workers long dead) and requests to
// resend application links older than before; run periodically.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time) (_ int64, err error) {
	defer wrap(&err, "store.DeleteExpired()")
	var n int64
	err = s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, tx.now)
		if err != nil {
			return err
		}
		a, _ := r.RowsAffected()
		r, err = tx.ExecContext(ctx, `DELETE FROM login_failures WHERE created_at < $1`, before.UTC())
		if err != nil {
			return err
		}
		b, _ := r.RowsAffected()
		r, err = tx.ExecContext(ctx, `DELETE FROM form_submissions WHERE created_at < $1`, before.UTC())
		if err != nil {
			return err
		}
		c, _ := r.RowsAffected()
		d, err := deleteExpiredLeases(ctx, tx, before)
		if err != nil {
			return err
		}
		r, err = tx.ExecContext(ctx, `DELETE FROM link_requests WHERE created_at < $1`, before.UTC())
		if err != nil {
			return err
		}
		f, _ := r.RowsAffected()
		n = a + b + c + d + f
		return nil
	})
	return n, err
}
