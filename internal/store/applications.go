package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// Errors of applying, each a message a participant sees.
var (
	ErrScheduleFull    = event.Errorf(event.EConflict, "apply.full")
	ErrScheduleClosed  = event.Errorf(event.EConflict, "apply.closed")
	ErrAlreadyApplied  = event.FieldErrors{{Field: "email", Key: "apply.already_applied"}}
	ErrUnknownSchedule = event.FieldErrors{{Field: "schedule_id", Key: "validation.choose_schedule"}}
	ErrAlreadyCanceled = event.Errorf(event.EConflict, "application.already_cancelled")
	// ErrSubmitKeyUsed: the form's key made an application of another
	// schedule or e-mail; nothing was created (event.Application.SameSubmission).
	ErrSubmitKeyUsed   = event.Errorf(event.EConflict, "apply.key_used")
	errDuplicateInsert = errors.New("duplicate application")
)

const applicationColumns = `a.id, a.org_id, a.event_id, a.schedule_id, a.token, a.name, a.email, a.status, a.payment,
	a.checked_in_at, a.checkin_source, a.memo, a.created_at, a.cancelled_at, a.paid_via, a.payment_due_at`

func scanApplication(sc interface{ Scan(...any) error }, a *event.Application, extra ...any) error {
	var checkedIn, cancelled, due sql.NullTime
	err := sc.Scan(append([]any{&a.ID, &a.OrgID, &a.EventID, &a.ScheduleID, &a.Token, &a.Name, &a.Email, &a.Status,
		&a.Payment, &checkedIn, &a.CheckinSource, &a.Memo, &a.CreatedAt, &cancelled, &a.PaidVia, &due}, extra...)...)
	a.CheckedInAt, a.CancelledAt, a.PaymentDueAt = timeOf(checkedIn), timeOf(cancelled), timeOf(due)
	return err
}

func applicationWhere(ctx context.Context, q querier, where string, args ...any) (event.Application, error) {
	var a event.Application
	err := scanApplication(q.QueryRowContext(ctx, `SELECT `+applicationColumns+` FROM applications a WHERE `+where, args...), &a)
	return a, notFound(err)
}

// Apply takes a seat on one of a published event's schedules, or a place on
// its waitlist. A seat is taken by one conditional UPDATE in the same
// transaction as the INSERT, so no schedule is ever oversold on either
// database. Submitting the same form again (same SubmitKey) with the same
// schedule and e-mail returns the first application; the key sent with
// anything else is refused (ErrSubmitKeyUsed) and creates nothing.
func (s *Store) Apply(ctx context.Context, e *event.Event, in event.ApplicationInput) (_ event.ApplyResult, err error) {
	defer wrap(&err, "store.Apply(org %d, event %d)", e.OrgID, e.ID)
	var res event.ApplyResult
	now := s.nowUTC()
	err = s.Tx(ctx, func(tx *Tx) error {
		q := tx
		if a, err := applicationWhere(ctx, q, `a.submit_key = $1 AND a.event_id = $2`, in.SubmitKey, e.ID); err == nil {
			if !a.SameSubmission(in) {
				return ErrSubmitKeyUsed
			}
			res = event.ApplyResult{Application: a, Existing: true}
			return nil
		} else if !errors.Is(err, errNotFound) {
			return err
		}
		var startsAt time.Time
		var payDays int
		if err := q.QueryRowContext(ctx, `SELECT sc.starts_at, e.payment_days FROM schedules sc JOIN events e ON e.id = sc.event_id
			WHERE sc.id = $1 AND sc.event_id = $2`, in.ScheduleID, e.ID).Scan(&startsAt, &payDays); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrUnknownSchedule
			}
			return err
		}
		if (&event.Schedule{StartsAt: startsAt}).Started(now) {
			return ErrScheduleClosed
		}
		r, err := q.ExecContext(ctx, `UPDATE schedules SET seats_taken = seats_taken + 1
			WHERE id = $1 AND seats_taken < capacity`, in.ScheduleID)
		if err != nil {
			return err
		}
		status := event.Applied
		if n, _ := r.RowsAffected(); n == 0 {
			if !e.WaitlistEnabled {
				return ErrScheduleFull
			}
			status = event.Waitlisted
		}
		pay := event.PaymentNone
		if e.Paid() {
			pay = event.PaymentUnpaid
		}
		a := event.Application{OrgID: e.OrgID, EventID: e.ID, ScheduleID: in.ScheduleID, Token: randomToken(),
			Name: in.Name, Email: in.Email, Status: status, Payment: pay, CreatedAt: now}
		var due sql.NullTime
		if pay == event.PaymentUnpaid && status == event.Applied {
			// A seat held unpaid is held until the 支払期限.
			a.PaymentDueAt = payment.Deadline(now, payDays, startsAt).UTC()
			due = sql.NullTime{Time: a.PaymentDueAt, Valid: true}
		}
		err = q.QueryRowContext(ctx, `INSERT INTO applications
			(org_id, event_id, schedule_id, token, submit_key, name, email, status, payment, payment_due_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
			a.OrgID, a.EventID, a.ScheduleID, a.Token, in.SubmitKey, a.Name, a.Email, a.Status, a.Payment, due, now).Scan(&a.ID)
		if isUniqueViolation(err) {
			return errDuplicateInsert
		}
		if err != nil {
			return err
		}
		action := ActApplied
		if status == event.Waitlisted {
			action = ActWaitlisted
		}
		if err := s.logActivity(ctx, q, &a, 0, action, ""); err != nil {
			return err
		}
		if err := s.enqueueMail(ctx, tx, &a, event.MailApplied); err != nil {
			return err
		}
		if a.Eligible(e) {
			// A free application is a Zoom registrant at once.
			if err := s.registrantsChanged(ctx, tx, a.ScheduleID); err != nil {
				return err
			}
		}
		res = event.ApplyResult{Application: a}
		return nil
	})
	if errors.Is(err, errDuplicateInsert) {
		// Either the same form won a race with this one, or the address has
		// applied to this schedule already; the transaction took nothing.
		if a, err := applicationWhere(ctx, s.reader(), `a.submit_key = $1 AND a.event_id = $2`, in.SubmitKey, e.ID); err == nil {
			if !a.SameSubmission(in) {
				return res, ErrSubmitKeyUsed
			}
			return event.ApplyResult{Application: a, Existing: true}, nil
		}
		return res, ErrAlreadyApplied
	}
	if err != nil {
		var fe event.FieldErrors
		var ee *event.Error
		if errors.As(err, &fe) || errors.As(err, &ee) {
			return res, err
		}
		return res, err
	}
	return res, nil
}

// ApplicationByToken returns the application behind a participant's private link.
func (s *Store) ApplicationByToken(ctx context.Context, token string) (_ event.Application, err error) {
	defer wrap(&err, "store.ApplicationByToken()")
	return applicationWhere(ctx, s.reader(), `a.token = $1`, token)
}

// Application returns one of an organization's applications.
func (s *Store) Application(ctx context.Context, orgID, eventID, id int64) (_ event.Application, err error) {
	defer wrap(&err, "store.Application(org %d, event %d, id %d)", orgID, eventID, id)
	return applicationWhere(ctx, s.reader(), `a.org_id = $1 AND a.event_id = $2 AND a.id = $3`, orgID, eventID, id)
}

// ScheduleByIDUnscoped returns a schedule and its group, for an application's page
// and mail. A Zoom group's OnlineURL is the schedule's meeting's join URL
// (empty until the meeting is made).
func (s *Store) ScheduleByIDUnscoped(ctx context.Context, id int64) (_ event.Schedule, _ event.ScheduleGroup, err error) {
	defer wrap(&err, "store.ScheduleByIDUnscoped(id %d)", id)
	return s.scheduleByID(ctx, id)
}

// scheduleByID is ScheduleByIDUnscoped without its wrap, for the store's own use.
func (s *Store) scheduleByID(ctx context.Context, id int64) (event.Schedule, event.ScheduleGroup, error) {
	var sc event.Schedule
	if err := scanSchedule(s.reader().QueryRowContext(ctx, `SELECT `+scheduleColumns+` FROM schedules sc WHERE sc.id = $1`, id), &sc); err != nil {
		return sc, event.ScheduleGroup{}, notFound(err)
	}
	var g event.ScheduleGroup
	err := scanGroup(s.reader().QueryRowContext(ctx, `SELECT `+groupColumns+` FROM schedule_groups g WHERE g.id = $1`, sc.GroupID), &g)
	if err != nil {
		return sc, g, notFound(err)
	}
	if g.Venue == event.VenueZoom {
		err = s.reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(join_url), '') FROM zoom_meetings
			WHERE schedule_id = $1 AND want = 'present' AND zoom_state <> 'deleted'`, sc.ID).Scan(&g.OnlineURL)
	}
	return sc, g, err
}

// EventByIDUnscoped returns an event by id, for an application's page.
func (s *Store) EventByIDUnscoped(ctx context.Context, id int64) (_ event.Event, err error) {
	defer wrap(&err, "store.EventByIDUnscoped(id %d)", id)
	return s.eventByID(ctx, id)
}

// eventByID is EventByIDUnscoped without its wrap, for the store's own use.
func (s *Store) eventByID(ctx context.Context, id int64) (event.Event, error) {
	var e event.Event
	err := scanEvent(s.reader().QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e WHERE e.id = $1`, id), &e)
	return e, notFound(err)
}

// CancelByToken cancels an application from the participant's private
// page, refunding what the event's policy says (see SelfCancel).
func (s *Store) CancelByToken(ctx context.Context, token string) (_ event.Application, err error) {
	a, _, err := s.SelfCancel(ctx, token, -1)
	return a, err
}

// CancelApplication cancels an application as an organizer (memberID),
// refunding nothing (see CancelAndRefund).
func (s *Store) CancelApplication(ctx context.Context, orgID, eventID, id, memberID int64) (_ event.Application, err error) {
	a, _, err := s.CancelAndRefund(ctx, orgID, eventID, id, memberID, payment.RefundNone, 0)
	return a, err
}

// cancel marks the application that where picks キャンセル and, if it held a
// seat, frees it. Each step is a conditional UPDATE, so two cancels at once
// free one seat. where names columns unqualified and numbers its args from $1.
// mayCancel, if not nil, is asked first, in the same transaction; after,
// if not nil, once the application is cancelled (a refund to write), in
// the same transaction too: its error undoes the cancel.
func (s *Store) cancel(ctx context.Context, memberID int64,
	mayCancel func(context.Context, *Tx, *event.Application, time.Time) error,
	after func(context.Context, *Tx, *event.Application) error,
	where string, args ...any) (event.Application, error) {
	var a event.Application
	now := s.nowUTC()
	nowParam := fmt.Sprintf("$%d", len(args)+1)
	withNow := append(args[:len(args):len(args)], now)
	err := s.Tx(ctx, func(tx *Tx) error {
		if mayCancel != nil {
			cur, err := applicationWhere(ctx, tx, where, args...)
			if err != nil {
				return err
			}
			if err := mayCancel(ctx, tx, &cur, now); err != nil {
				return err
			}
		}
		for _, from := range []event.ApplicationStatus{event.Applied, event.Waitlisted} {
			var scheduleID int64
			err := tx.QueryRowContext(ctx, `UPDATE applications
				SET status = 'cancelled', cancelled_at = `+nowParam+`, updated_at = `+nowParam+`
				WHERE `+where+` AND status = '`+string(from)+`' RETURNING schedule_id`, withNow...).Scan(&scheduleID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if from == event.Applied {
				if _, err := tx.ExecContext(ctx, `UPDATE schedules SET seats_taken = seats_taken - 1 WHERE id = $1`, scheduleID); err != nil {
					return err
				}
			}
			if a, err = applicationWhere(ctx, tx, where, args...); err != nil {
				return err
			}
			if err := s.logActivity(ctx, tx, &a, memberID, ActCancelled, ""); err != nil {
				return err
			}
			if after != nil {
				if err := after(ctx, tx, &a); err != nil {
					return err
				}
			}
			if err := s.registrantsChanged(ctx, tx, a.ScheduleID); err != nil {
				return err
			}
			return s.enqueueMail(ctx, tx, &a, event.MailCancelled)
		}
		if _, err := applicationWhere(ctx, tx, where, args...); err != nil {
			return err
		}
		return ErrAlreadyCanceled
	})
	return a, err
}

// SetPayment sets the 入金状況 of a live application to a paid event, as
// memberID; becoming 入金済 sends the 入金完了 mail. Setting what is already
// set changes nothing.
func (s *Store) SetPayment(ctx context.Context, orgID, eventID, id, memberID int64, p event.Payment) (err error) {
	defer wrap(&err, "store.SetPayment(org %d, event %d, id %d, member %d)", orgID, eventID, id, memberID)
	if p != event.PaymentPaid && p != event.PaymentUnpaid {
		return event.Errorf(event.EInvalid, "error.bad_request")
	}
	_, err = s.changeApplication(ctx, orgID, eventID, id, func(tx *Tx, a *event.Application) error {
		switch {
		case a.Payment == event.PaymentNone:
			return event.Errorf(event.EInvalid, "applications.not_paid_event")
		case !a.Active():
			return event.Errorf(event.EConflict, "applications.cancelled_payment")
		case a.Payment == p:
			return nil
		}
		via := ""
		if p == event.PaymentPaid {
			via = "manual"
		}
		return s.setPayment(ctx, tx, a, p, memberID, via, "")
	})
	return err
}

// setPayment is the one transition of an active application's 入金状況,
// whoever makes it (the organizer's button, or Stripe confirming the
// money): the Zoom registrant list follows (DESIGN.md §3), the history
// says who and how (detail: the payment's ids), and becoming 入金済 sends
// the 入金完了 mail with the join URL.
func (s *Store) setPayment(ctx context.Context, tx *Tx, a *event.Application, p event.Payment, memberID int64, via, detail string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE applications SET payment = $1, paid_via = $2, updated_at = $3 WHERE id = $4`,
		p, via, tx.now, a.ID); err != nil {
		return err
	}
	a.Payment, a.PaidVia = p, via
	if err := s.registrantsChanged(ctx, tx, a.ScheduleID); err != nil {
		return err
	}
	if p == event.PaymentUnpaid {
		return s.logActivity(ctx, tx, a, memberID, ActUnpaid, detail)
	}
	if err := s.logActivity(ctx, tx, a, memberID, ActPaid, detail); err != nil {
		return err
	}
	return s.enqueueMail(ctx, tx, a, event.MailPaid)
}

// ApplicationRow is an application in an organizer's list.
type ApplicationRow struct {
	event.Application
	StartsAt time.Time
}

// randomToken returns 256 bits of randomness, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
