package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"kaisai/internal/event"
)

// enqueueMail records, inside the transaction of the change that causes it,
// that an application's participant is owed an e-mail of kind. A job renders
// and delivers it after commit.
func (s *Store) enqueueMail(ctx context.Context, tx *Tx, a *event.Application, kind event.MailKind) error {
	return s.enqueueMailVars(ctx, tx, a, kind, nil)
}

// enqueueMailVars is enqueueMail with values taken now (such as a refund's
// amount) for placeholders the application alone cannot fill.
func (s *Store) enqueueMailVars(ctx context.Context, tx *Tx, a *event.Application, kind event.MailKind, vars map[string]string) error {
	b := make([]byte, 16)
	rand.Read(b)
	now := tx.now
	v := ""
	if len(vars) > 0 {
		j, err := json.Marshal(vars)
		if err != nil {
			return err
		}
		v = string(j)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (org_id, event_id, application_id, kind, status, message_id, vars,
		next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $7)`,
		a.OrgID, a.EventID, a.ID, kind, hex.EncodeToString(b)+"@kaisai", v, now)
	if err != nil {
		return fmt.Errorf("enqueue %s mail: %w", kind, err)
	}
	tx.queue(queuedMail)
	return nil
}

// enqueueMemberMail records, inside tx, that an organization member is owed
// an e-mail of kind (an organizer's notice), rendered later with vars.
func (s *Store) enqueueMemberMail(ctx context.Context, tx *Tx, orgID, memberID int64, kind event.MailKind, vars map[string]string) error {
	b := make([]byte, 16)
	rand.Read(b)
	v, err := json.Marshal(vars)
	if err != nil {
		return err
	}
	now := tx.now
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (org_id, member_id, kind, status, message_id, vars,
		next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $6)`,
		orgID, memberID, kind, hex.EncodeToString(b)+"@kaisai", string(v), now)
	if err != nil {
		return fmt.Errorf("enqueue %s mail: %w", kind, err)
	}
	tx.queue(queuedMail)
	return nil
}

// OutgoingMail is a claimed outbox row with everything needed to render it.
type OutgoingMail struct {
	ID          int64
	Kind        event.MailKind
	MessageID   string // without angle brackets; stable across attempts
	Attempts    int    // attempts made before this one
	Application event.Application
	Event       event.Event
	Schedule    event.Schedule
	Group       event.ScheduleGroup
	Template    *event.MailTemplate // the event's own wording, or nil for the default
	// Member is the recipient of a mail to an organizer (nil for a
	// participant's mail, which has Application, Event and Schedule instead).
	Member *event.Member
	Vars   map[string]string // an organizer's mail's values, taken when it was written
	// Links are the applications of the event by the application's address,
	// for a 申込内容の確認 mail (event.MailApplicationLinks).
	Links []ApplicationLink
	// CreatedAt is when the change that caused the mail was committed.
	CreatedAt time.Time
}

// noEarlierMail holds back a mail (outbox row o) while an earlier one to the
// same application waits: a participant whose 申込完了 is being retried must
// not get the キャンセル完了 first.
const noEarlierMail = `NOT EXISTS (SELECT 1 FROM outbox e WHERE e.application_id = o.application_id
	AND e.id < o.id AND e.status = 'pending')`

// ClaimMail leases to l up to limit due mails, so that no other worker (on
// any instance) sends them meanwhile. Mails come in outbox order.
func (s *Store) ClaimMail(ctx context.Context, l Lease, limit int) (_ []OutgoingMail, err error) {
	defer wrap(&err, "store.ClaimMail()")
	var claimed []OutgoingMail
	var appIDs, memberIDs []sql.NullInt64
	var vars []string
	err = s.Tx(ctx, func(tx *Tx) error {
		now := tx.now
		claimed, appIDs, memberIDs, vars = claimed[:0], appIDs[:0], memberIDs[:0], vars[:0]
		ids, err := s.claim(ctx, tx, mailWork, l, `SELECT o.id, o.lease_owner AS seen FROM outbox o
			WHERE o.status = 'pending' AND o.next_attempt_at <= $1 AND `+mailWork.free("o", "$1")+`
			  AND `+noEarlierMail+` ORDER BY o.id LIMIT $2`, `status = 'pending' AND next_attempt_at <= $1`, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		ph, args := placeholders(ids)
		rows, err := tx.Unprepared().QueryContext(ctx, `SELECT id, kind, message_id, attempts, application_id, member_id, vars,
			created_at FROM outbox WHERE id IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m OutgoingMail
			var appID, memberID sql.NullInt64
			var v string
			if err := rows.Scan(&m.ID, &m.Kind, &m.MessageID, &m.Attempts, &appID, &memberID, &v, &m.CreatedAt); err != nil {
				return err
			}
			claimed, appIDs = append(claimed, m), append(appIDs, appID)
			memberIDs, vars = append(memberIDs, memberID), append(vars, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	// A batch is mostly one event's mail: read each event, schedule and
	// template once per batch, not once per mail.
	type tmplKey struct {
		event int64
		kind  event.MailKind
	}
	events := map[int64]event.Event{}
	schedules := map[int64]OutgoingMail{}
	templates := map[tmplKey]*event.MailTemplate{}
	mails := make([]OutgoingMail, 0, len(claimed))
	for i, m := range claimed {
		if !appIDs[i].Valid {
			// To an organization member: rendered from its vars alone.
			var mem event.Member
			err := s.reader().QueryRowContext(ctx, `SELECT id, org_id, email, name, role FROM members WHERE id = $1`,
				memberIDs[i].Int64).Scan(&mem.ID, &mem.OrgID, &mem.Email, &mem.Name, &mem.Role)
			if errors.Is(err, sql.ErrNoRows) {
				continue // deleted with its member meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("member: %w", err)
			}
			m.Member = &mem
			if vars[i] != "" {
				if err := json.Unmarshal([]byte(vars[i]), &m.Vars); err != nil {
					return nil, fmt.Errorf("mail %d vars: %w", m.ID, err)
				}
			}
			mails = append(mails, m)
			continue
		}
		a, err := applicationWhere(ctx, s.reader(), `a.id = $1`, appIDs[i].Int64)
		if errors.Is(err, errNotFound) {
			continue // deleted with its application meanwhile
		}
		if err != nil {
			return nil, err
		}
		m.Application = a
		if vars[i] != "" {
			if err := json.Unmarshal([]byte(vars[i]), &m.Vars); err != nil {
				return nil, fmt.Errorf("mail %d vars: %w", m.ID, err)
			}
		}
		e, ok := events[a.EventID]
		if !ok {
			if e, err = s.eventByID(ctx, a.EventID); err != nil {
				return nil, fmt.Errorf("event %d: %w", a.EventID, err)
			}
			events[a.EventID] = e
		}
		m.Event = e
		sg, ok := schedules[a.ScheduleID]
		if !ok {
			if sg.Schedule, sg.Group, err = s.scheduleByID(ctx, a.ScheduleID); err != nil {
				return nil, fmt.Errorf("schedule %d: %w", a.ScheduleID, err)
			}
			schedules[a.ScheduleID] = sg
		}
		m.Schedule, m.Group = sg.Schedule, sg.Group
		if m.Kind == event.MailApplicationLinks {
			// Written from the default wording, with the applications as they are now.
			if m.Links, err = s.applicationLinks(ctx, a.EventID, a.Email); err != nil {
				return nil, fmt.Errorf("links: %w", err)
			}
			mails = append(mails, m)
			continue
		}
		k := tmplKey{e.ID, m.Kind}
		t, ok := templates[k]
		if !ok {
			own, err := s.mailTemplate(ctx, e.OrgID, e.ID, m.Kind)
			switch {
			case err == nil:
				t = &own
			case !errors.Is(err, errNotFound):
				return nil, fmt.Errorf("template: %w", err)
			}
			templates[k] = t
		}
		m.Template = t
		mails = append(mails, m)
	}
	sort.Slice(mails, func(i, j int) bool { return mails[i].ID < mails[j].ID })
	return mails, nil
}

// MarkMailDelivered records a mail held by l as sent (or kept, in the dev
// outbox) with what was sent.
func (s *Store) MarkMailDelivered(ctx context.Context, l Lease, id int64, status event.MailStatus, to, subject, body string) (err error) {
	defer wrap(&err, "store.MarkMailDelivered(id %d)", id)
	return s.markMailsDelivered(ctx, l, []DeliveredMail{{ID: id, Status: status, To: to, Subject: subject, Body: body}})
}

// MarkMailFailed records a failed attempt of a mail held by l: it is due
// again at retryAt, or, when final, it is given up and shown as failed.
func (s *Store) MarkMailFailed(ctx context.Context, l Lease, id int64, reason string, retryAt time.Time, final bool) (err error) {
	defer wrap(&err, "store.MarkMailFailed(id %d)", id)
	status := event.MailPending
	if final {
		status = event.MailFailed
	}
	r, err := s.exec(ctx, `UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2,
		next_attempt_at = $3, lease_owner = NULL WHERE id = $4 AND lease_owner = $5`,
		status, reason, retryAt.UTC(), id, l.Owner)
	return leaseHeld(r, err)
}

// RetryMail makes a failed mail due again at once (the organizer's 再送).
func (s *Store) RetryMail(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.RetryMail(org %d, id %d)", orgID, id)
	err = s.updateOne(ctx, `UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = ''
		WHERE org_id = $2 AND id = $3 AND status = 'failed'`, s.nowUTC(), orgID, id)
	if err == nil && s.mailQueued != nil {
		s.mailQueued()
	}
	return err
}

// PostponeMail gives mails held by l back, to be tried at at, without
// counting an attempt (a mail waiting for what it must carry).
func (s *Store) PostponeMail(ctx context.Context, l Lease, ids []int64, at time.Time) (err error) {
	defer wrap(&err, "store.PostponeMail()")
	return s.forEachHeld(ctx, mailWork, l, ids, `next_attempt_at = $3`, at.UTC())
}

// ReleaseMail gives back mails held by l that were not attempted (a worker
// stopping): they are due again at once.
func (s *Store) ReleaseMail(ctx context.Context, l Lease, ids []int64) (err error) {
	defer wrap(&err, "store.ReleaseMail()")
	return s.forEachHeld(ctx, mailWork, l, ids, "")
}

// DeliveredMail is what MarkMailsDelivered records of one mail.
type DeliveredMail struct {
	ID                int64
	Status            event.MailStatus // event.MailSent or event.MailKept
	To, Subject, Body string
}

// MarkMailsDelivered records several mails held by l as delivered in one
// transaction: the dev outbox keeps mail in batches, and on SQLite a
// transaction per mail would compete with applications for the one writer.
// A mail another worker took over is left to it (ErrLeaseLost, after the
// others are recorded).
func (s *Store) MarkMailsDelivered(ctx context.Context, l Lease, ms []DeliveredMail) (err error) {
	defer wrap(&err, "store.MarkMailsDelivered()")
	return s.markMailsDelivered(ctx, l, ms)
}

// markMailsDelivered is MarkMailsDelivered without its wrap, for the store's own use.
func (s *Store) markMailsDelivered(ctx context.Context, l Lease, ms []DeliveredMail) error {
	now := s.nowUTC()
	lost := false
	err := s.Tx(ctx, func(tx *Tx) error {
		lost = false
		for _, m := range ms {
			r, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, to_addr = $2, subject = $3, body = $4,
				attempts = attempts + 1, last_error = '', sent_at = $5, lease_owner = NULL WHERE id = $6 AND lease_owner = $7`,
				m.Status, m.To, m.Subject, m.Body, now, m.ID, l.Owner)
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
	return err
}

// MailRow is an outbox row as the organizer's mail log shows it.
type MailRow struct {
	ID            int64
	EventID       int64 // 0 for a mail to an organizer
	ApplicationID int64 // 0 for a mail to an organizer
	MemberID      int64 // the organizer written to; 0 for a participant's mail
	Kind          event.MailKind
	Status        event.MailStatus
	To            string // as sent; before delivery, the application's (or member's) address
	Subject       string
	Body          string
	Attempts      int
	LastError     string
	CreatedAt     time.Time
	// SentAt is when the mail was delivered: handed to the SMTP server
	// (event.MailSent), or kept in the dev outbox (event.MailKept, never sent); zero
	// before that.
	SentAt time.Time
	// NextAttemptAt is when a pending mail is tried (again).
	NextAttemptAt time.Time
}

// Mails lists an organization's e-mails, newest first.
func (s *Store) Mails(ctx context.Context, orgID int64, limit, offset int) (_ []MailRow, err error) {
	defer wrap(&err, "store.Mails(org %d)", orgID)
	rows, err := s.reader().QueryContext(ctx, `SELECT o.id, COALESCE(o.event_id, 0), COALESCE(o.application_id, 0),
		  COALESCE(o.member_id, 0), o.kind, o.status,
		  CASE WHEN o.to_addr = '' THEN COALESCE(a.email, m.email, '') ELSE o.to_addr END, o.subject, o.body,
		  o.attempts, o.last_error, o.created_at, o.sent_at, o.next_attempt_at
		FROM outbox o LEFT JOIN applications a ON a.id = o.application_id LEFT JOIN members m ON m.id = o.member_id
		WHERE o.org_id = $1 ORDER BY o.id DESC LIMIT $2 OFFSET $3`, orgID, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []MailRow
	for rows.Next() {
		var m MailRow
		var sent, next sql.NullTime
		if err := rows.Scan(&m.ID, &m.EventID, &m.ApplicationID, &m.MemberID, &m.Kind, &m.Status, &m.To, &m.Subject, &m.Body,
			&m.Attempts, &m.LastError, &m.CreatedAt, &sent, &next); err != nil {
			return nil, err
		}
		m.SentAt, m.NextAttemptAt = timeOf(sent), timeOf(next)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// MailTemplate returns an event's own wording of a kind of mail; not found
// means the default applies.
func (s *Store) MailTemplate(ctx context.Context, orgID, eventID int64, kind event.MailKind) (_ event.MailTemplate, err error) {
	defer wrap(&err, "store.MailTemplate(org %d, event %d)", orgID, eventID)
	return s.mailTemplate(ctx, orgID, eventID, kind)
}

// mailTemplate is MailTemplate without its wrap, for the store's own use.
func (s *Store) mailTemplate(ctx context.Context, orgID, eventID int64, kind event.MailKind) (event.MailTemplate, error) {
	t := event.MailTemplate{Kind: kind}
	err := s.reader().QueryRowContext(ctx, `SELECT t.subject, t.body FROM mail_templates t JOIN events e ON e.id = t.event_id
		WHERE e.org_id = $1 AND t.event_id = $2 AND t.kind = $3`, orgID, eventID, kind).Scan(&t.Subject, &t.Body)
	return t, notFound(err)
}

// SaveMailTemplates stores an event's wording of its mails, all at once.
func (s *Store) SaveMailTemplates(ctx context.Context, orgID, eventID int64, ts []event.MailTemplate) (err error) {
	defer wrap(&err, "store.SaveMailTemplates(org %d, event %d)", orgID, eventID)
	now := s.nowUTC()
	return s.Tx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE org_id = $1 AND id = $2`, orgID, eventID).Scan(&one); err != nil {
			return notFound(err)
		}
		for _, t := range ts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mail_templates (event_id, kind, subject, body, updated_at)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (event_id, kind) DO UPDATE SET subject = excluded.subject, body = excluded.body,
				  updated_at = excluded.updated_at`, eventID, t.Kind, t.Subject, t.Body, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// ResetMailTemplate drops an event's wording of a kind of mail: the default applies again.
func (s *Store) ResetMailTemplate(ctx context.Context, orgID, eventID int64, kind event.MailKind) (err error) {
	defer wrap(&err, "store.ResetMailTemplate(org %d, event %d)", orgID, eventID)
	_, err = s.exec(ctx, `DELETE FROM mail_templates WHERE kind = $1 AND event_id IN
		(SELECT id FROM events WHERE org_id = $2 AND id = $3)`, kind, orgID, eventID)
	return err
}

// MailDue reports whether any mail waits for delivery now, for the periodic sweep.
func (s *Store) MailDue(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.MailDue()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM outbox o WHERE status = 'pending'
		AND next_attempt_at <= $1 AND `+mailWork.free("o", "$1")+` AND `+noEarlierMail+` LIMIT 1) d`,
		s.nowUTC()).Scan(&n)
	return n > 0, err
}

// OutboxIdle reports whether no mail waits or is held: every mail has
// been delivered, kept or given up (tests).
func (s *Store) OutboxIdle(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.OutboxIdle()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox o WHERE o.status = 'pending' OR NOT `+
		mailWork.free("o", "$1"), s.nowUTC()).Scan(&n)
	return n == 0, err
}

// NextMailDue is when the next pending mail can be claimed: its next
// attempt, or the end of the lease holding it if later (zero: none waits).
// A mail held back behind an earlier one to the same participant counts
// by that one's time.
func (s *Store) NextMailDue(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "store.NextMailDue()")
	return s.nextDue(ctx, `SELECT o.next_attempt_at, l.expires_at FROM outbox o`+mailWork.join("o")+`
		WHERE o.status = 'pending' AND `+noEarlierMail+` ORDER BY o.next_attempt_at LIMIT 100`)
}
