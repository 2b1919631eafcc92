package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// The organizer's management of applications (申込者一覧): every change is
// logged on the application, and what the participant must be told is put in
// the outbox, in the same transaction.

// Activity actions, each shown through the catalog key "activity.<action>".
const (
	ActApplied        = "applied"
	ActWaitlisted     = "waitlisted"
	ActCancelled      = "cancelled"
	ActPaid           = "paid"
	ActUnpaid         = "unpaid"
	ActCheckedIn      = "checked_in"
	ActCheckinUndone  = "checkin_undone"
	ActMemo           = "memo"
	ActEdited         = "edited"
	ActPromoted       = "promoted"
	ActPaymentExpired = "payment_expired"
)

// Errors of managing applications.
var (
	ErrNotWaitlisted = event.Errorf(event.EConflict, "applications.not_waitlisted")
	ErrNoSeatLeft    = event.Errorf(event.EConflict, "applications.no_seat_for_promotion")
)

// logActivity records a change of an application; memberID 0 is the
// participant or kaisai itself.
func (s *Store) logActivity(ctx context.Context, q *Tx, a *event.Application, memberID int64, action, detail string) error {
	var member sql.NullInt64
	if memberID != 0 {
		member = sql.NullInt64{Int64: memberID, Valid: true}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO activity_log (org_id, application_id, member_id, action, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.OrgID, a.ID, member, action, detail, q.now)
	if err != nil {
		return fmt.Errorf("log %s: %w", action, err)
	}
	return nil
}

// ActivityEntry is one line of an application's history.
type ActivityEntry struct {
	Action     string
	Detail     string
	MemberName string // "" for the participant or kaisai
	At         time.Time
}

// Activity returns an application's history, oldest first.
func (s *Store) Activity(ctx context.Context, orgID, applicationID int64) (_ []ActivityEntry, err error) {
	defer wrap(&err, "store.Activity(org %d, application %d)", orgID, applicationID)
	rows, err := s.reader().QueryContext(ctx, `SELECT l.action, l.detail, COALESCE(m.name, ''), l.created_at
		FROM activity_log l LEFT JOIN members m ON m.id = l.member_id
		WHERE l.org_id = $1 AND l.application_id = $2 ORDER BY l.id`, orgID, applicationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []ActivityEntry
	for rows.Next() {
		var e ActivityEntry
		if err := rows.Scan(&e.Action, &e.Detail, &e.MemberName, &e.At); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// ApplicantQuery picks a page of 申込者一覧.
type ApplicantQuery struct {
	ScheduleID int64  // 0: the whole event
	Search     string // part of the name or e-mail, case-insensitive
	Status     event.ApplicationStatus
	Payment    string // 入金状況: one of PaymentFilters, or "" for any
	Page       int    // from 1
	PerPage    int
}

// ApplicantPage is one page of the list and the count of all that match.
type ApplicantPage struct {
	Rows  []ApplicationRow
	Total int
}

// escapeLike makes s a literal LIKE pattern (escape character \).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Applicants returns a page of an event's applications, oldest first, and
// how many match. Pages walk the (event_id, id) index; the count and a
// search read the event's rows, a few milliseconds at 10,000 applicants
// (BenchmarkApplicants10k).
func (s *Store) Applicants(ctx context.Context, orgID, eventID int64, q ApplicantQuery) (_ ApplicantPage, err error) {
	defer wrap(&err, "store.Applicants(org %d, event %d)", orgID, eventID)
	var c cond
	if q.ScheduleID != 0 {
		c.and("a.schedule_id = ?", q.ScheduleID)
	}
	if q.Status != "" {
		c.and("a.status = ?", q.Status)
	}
	paymentFilter(&c, q.Payment)
	if s := strings.TrimSpace(q.Search); s != "" {
		p := "%" + escapeLike(strings.ToLower(s)) + "%"
		c.and(`(lower(a.name) LIKE ? ESCAPE '\' OR lower(a.email) LIKE ? ESCAPE '\')`, p, p)
	}
	cond, args := c.join("a.org_id = $1 AND a.event_id = $2", orgID, eventID)
	var page ApplicantPage
	if err := s.readUnprepared().QueryRowContext(ctx, `SELECT COUNT(*) FROM applications a WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	perPage := max(q.PerPage, 1)
	offset := (max(q.Page, 1) - 1) * perPage
	rows, err := s.readUnprepared().QueryContext(ctx, `SELECT `+applicationColumns+`, sc.starts_at
		FROM applications a JOIN schedules sc ON sc.id = a.schedule_id
		WHERE `+cond+fmt.Sprintf(` ORDER BY a.id LIMIT %d OFFSET %d`, perPage, offset), args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var r ApplicationRow
		if err := scanApplication(rows, &r.Application, &r.StartsAt); err != nil {
			return page, err
		}
		page.Rows = append(page.Rows, r)
	}
	return page, rows.Err()
}

// changeApplication runs fn on an application of the organization inside a
// transaction, with the application as it is at that moment.
func (s *Store) changeApplication(ctx context.Context, orgID, eventID, id int64, fn func(tx *Tx, a *event.Application) error) (event.Application, error) {
	var a event.Application
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		if a, err = applicationWhere(ctx, tx, `a.org_id = $1 AND a.event_id = $2 AND a.id = $3`, orgID, eventID, id); err != nil {
			return err
		}
		return fn(tx, &a)
	})
	return a, err
}

// SetCheckIn marks an application 受付済 now (manual check-in), or undoes it.
func (s *Store) SetCheckIn(ctx context.Context, orgID, eventID, id, memberID int64, checkedIn bool) (_ event.Application, err error) {
	defer wrap(&err, "store.SetCheckIn(org %d, event %d, id %d, member %d)", orgID, eventID, id, memberID)
	return s.changeApplication(ctx, orgID, eventID, id, func(tx *Tx, a *event.Application) error {
		if checkedIn == !a.CheckedInAt.IsZero() {
			return nil // already so: a second click changes nothing
		}
		if checkedIn && a.Status != event.Applied {
			return event.Errorf(event.EConflict, "applications.checkin_not_applied")
		}
		if checkedIn {
			now := tx.now
			if _, err := tx.ExecContext(ctx, `UPDATE applications SET checked_in_at = $1, checkin_source = $2, updated_at = $1
				WHERE id = $3`, now, event.CheckinManual, a.ID); err != nil {
				return err
			}
			a.CheckedInAt, a.CheckinSource = now, event.CheckinManual
			return s.logActivity(ctx, tx, a, memberID, ActCheckedIn, "")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET checked_in_at = NULL, checkin_source = '', updated_at = $1
			WHERE id = $2`, tx.now, a.ID); err != nil {
			return err
		}
		a.CheckedInAt, a.CheckinSource = time.Time{}, ""
		return s.logActivity(ctx, tx, a, memberID, ActCheckinUndone, "")
	})
}

// SetMemo saves the 機密事項メモ of an application.
func (s *Store) SetMemo(ctx context.Context, orgID, eventID, id, memberID int64, memo string) (_ event.Application, err error) {
	defer wrap(&err, "store.SetMemo(org %d, event %d, id %d, member %d)", orgID, eventID, id, memberID)
	return s.changeApplication(ctx, orgID, eventID, id, func(tx *Tx, a *event.Application) error {
		if a.Memo == memo {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET memo = $1, updated_at = $2 WHERE id = $3`, memo, tx.now, a.ID); err != nil {
			return err
		}
		a.Memo = memo
		return s.logActivity(ctx, tx, a, memberID, ActMemo, "")
	})
}

// EditApplicant corrects an application's name and e-mail (登録内容修正).
func (s *Store) EditApplicant(ctx context.Context, orgID, eventID, id, memberID int64, name, email string) (_ event.Application, err error) {
	defer wrap(&err, "store.EditApplicant(org %d, event %d, id %d, member %d)", orgID, eventID, id, memberID)
	a, err := s.changeApplication(ctx, orgID, eventID, id, func(tx *Tx, a *event.Application) error {
		if a.Name == name && a.Email == email {
			return nil
		}
		var changes []string
		if a.Name != name {
			changes = append(changes, a.Name+" → "+name)
		}
		if a.Email != email {
			changes = append(changes, a.Email+" → "+email)
		}
		_, err := tx.ExecContext(ctx, `UPDATE applications SET name = $1, email = $2, updated_at = $3 WHERE id = $4`,
			name, email, tx.now, a.ID)
		if isUniqueViolation(err) {
			return ErrAlreadyApplied
		}
		if err != nil {
			return err
		}
		if !strings.EqualFold(a.Email, email) {
			if err := s.registrantsChanged(ctx, tx, a.ScheduleID); err != nil {
				return err
			}
		}
		a.Name, a.Email = name, email
		return s.logActivity(ctx, tx, a, memberID, ActEdited, strings.Join(changes, ", "))
	})
	return a, err
}

// Promote moves a waitlisted application to 申込済 if its schedule has a
// seat, and tells the participant.
func (s *Store) Promote(ctx context.Context, orgID, eventID, id, memberID int64) (_ event.Application, err error) {
	defer wrap(&err, "store.Promote(org %d, event %d, id %d, member %d)", orgID, eventID, id, memberID)
	return s.changeApplication(ctx, orgID, eventID, id, func(tx *Tx, a *event.Application) error {
		return s.promote(ctx, tx, a, memberID)
	})
}

// promote gives a waitlisted application a seat, if its schedule has one:
// 申込済, with its own 支払期限 from now when the event is paid; the
// participant is told.
func (s *Store) promote(ctx context.Context, tx *Tx, a *event.Application, memberID int64) error {
	var startsAt time.Time
	var days int
	if err := tx.QueryRowContext(ctx, `SELECT sc.starts_at, e.payment_days FROM schedules sc JOIN events e ON e.id = sc.event_id
		WHERE sc.id = $1`, a.ScheduleID).Scan(&startsAt, &days); err != nil {
		return err
	}
	var due sql.NullTime
	if a.Payment == event.PaymentUnpaid {
		due = sql.NullTime{Time: payment.Deadline(tx.now, days, startsAt).UTC(), Valid: true}
	}
	if a.Status != event.Waitlisted {
		return ErrNotWaitlisted
	}
	// The seat first: when there is none, nothing is written.
	r, err := tx.ExecContext(ctx, `UPDATE schedules SET seats_taken = seats_taken + 1
		WHERE id = $1 AND seats_taken < capacity`, a.ScheduleID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNoSeatLeft
	}
	r, err = tx.ExecContext(ctx, `UPDATE applications SET status = 'applied', payment_due_at = $1, updated_at = $2
		WHERE id = $3 AND status = 'waitlisted'`, due, tx.now, a.ID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotWaitlisted // the transaction is rolled back, the seat with it
	}
	a.Status, a.PaymentDueAt = event.Applied, timeOf(due)
	if err := s.logActivity(ctx, tx, a, memberID, ActPromoted, ""); err != nil {
		return err
	}
	if err := s.registrantsChanged(ctx, tx, a.ScheduleID); err != nil {
		return err
	}
	return s.enqueueMail(ctx, tx, a, event.MailPromoted)
}

// DeleteApplication deletes an application irreversibly, with its history
// and mail; a seat it held is freed.
func (s *Store) DeleteApplication(ctx context.Context, orgID, eventID, id int64) (err error) {
	defer wrap(&err, "store.DeleteApplication(org %d, event %d, id %d)", orgID, eventID, id)
	return s.Tx(ctx, func(tx *Tx) error {
		var scheduleID int64
		var status event.ApplicationStatus
		err := tx.QueryRowContext(ctx, `DELETE FROM applications WHERE org_id = $1 AND event_id = $2 AND id = $3
			RETURNING schedule_id, status`, orgID, eventID, id).Scan(&scheduleID, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if status == event.Applied {
			if _, err = tx.ExecContext(ctx, `UPDATE schedules SET seats_taken = seats_taken - 1 WHERE id = $1`, scheduleID); err != nil {
				return err
			}
		}
		// Its registrant row lost the application: it is cancelled.
		return s.registrantsChanged(ctx, tx, scheduleID)
	})
}
