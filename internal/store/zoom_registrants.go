package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/zoompolicy"
)

// Zoom registrants (DESIGN.md §3). Who should be on a meeting's registrant
// list follows from the applications of its schedule (package zoompolicy);
// zoom_registrants records who kaisai put there. A change to an application
// that can change the list (申込, 入金済 and back, キャンセル, 繰り上げ, 削除,
// e-mail) makes the list of its schedule's meeting due in the same
// transaction (reg_due_at); a job reconciles due lists with Zoom.

// registrantsChanged makes the registrant list of a schedule's meeting due,
// in tx. A schedule without a Zoom meeting costs one indexed no-op.
func (s *Store) registrantsChanged(ctx context.Context, tx *Tx, scheduleID int64) error {
	// A list already due keeps its time: under a stream of changes it must
	// not keep moving out of a claim's reach.
	r, err := tx.ExecContext(ctx, `UPDATE zoom_meetings SET reg_rev = reg_rev + 1,
		reg_due_at = CASE WHEN reg_due_at IS NULL OR reg_due_at > $1 THEN $1 ELSE reg_due_at END
		WHERE schedule_id = $2 AND want = 'present'`, tx.now, scheduleID)
	if err != nil {
		return fmt.Errorf("registrants changed: %w", err)
	}
	if n, _ := r.RowsAffected(); n > 0 {
		tx.queue(queuedRegistrants)
	}
	return nil
}

// RegistrantListTask is a claimed meeting whose registrant list is due.
type RegistrantListTask struct {
	MeetingRowID, OrgID, ConnID, ZoomID int64
	ScheduleID                          int64
	HostEmail                           string // never a registrant
	Registration, Authentication        bool
	Rev                                 int64
	Attempts                            int
	// Checked is when Zoom's list was last read and repaired (zero: never).
	Checked time.Time
}

// registrantDueWhere selects the lists that can be synced now ($1): due,
// not leased, of a created meeting kaisai still wants, with a linked host.
var registrantDueWhere = `m.reg_due_at <= $1 AND ` + registrantWork.free("m", "$1") + ` AND ` + registrantListReady

// registrantListReady selects the lists that can be synced at all: of a
// created meeting kaisai still wants, with a linked host, and, where the
// group has 登録, with the meeting's registration applied on Zoom (Zoom
// refuses registrants before).
const registrantListReady = `m.want = 'present' AND m.zoom_id IS NOT NULL AND m.zoom_state <> 'deleted'
	AND m.conn_id IN (SELECT id FROM zoom_connections WHERE status = 'linked')
	AND (m.applied_registration OR NOT EXISTS (SELECT 1 FROM schedule_groups g WHERE g.id = m.group_id AND g.zoom_registration))`

// RegistrantListsDue reports whether some registrant list can be synced now.
func (s *Store) RegistrantListsDue(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.RegistrantListsDue()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM zoom_meetings m WHERE `+registrantDueWhere+` LIMIT 1) d`,
		s.nowUTC()).Scan(&n)
	return n > 0, err
}

// NextRegistrantListDue is when the next waiting list (backoff, lease) can
// be claimed; zero when none waits.
func (s *Store) NextRegistrantListDue(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "store.NextRegistrantListDue()")
	return s.nextDue(ctx, `SELECT m.reg_due_at, l.expires_at FROM zoom_meetings m`+registrantWork.join("m")+`
		WHERE m.reg_due_at IS NOT NULL AND `+registrantListReady+` ORDER BY m.reg_due_at LIMIT 100`)
}

// RegistrantListsIdle reports whether no registrant list is due or held:
// every change has reached Zoom, or waits for a retry far ahead (tests,
// benchmarks).
func (s *Store) RegistrantListsIdle(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.RegistrantListsIdle()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_meetings m
		WHERE m.reg_due_at IS NOT NULL OR NOT `+registrantWork.free("m", "$1"), s.nowUTC()).Scan(&n)
	return n == 0, err
}

// ClaimRegistrantLists leases to l up to limit due registrant lists.
func (s *Store) ClaimRegistrantLists(ctx context.Context, l Lease, limit int) (_ []RegistrantListTask, err error) {
	defer wrap(&err, "store.ClaimRegistrantLists()")
	var tasks []RegistrantListTask
	err = s.Tx(ctx, func(tx *Tx) error {
		now := tx.now
		tasks = tasks[:0]
		ids, err := s.claim(ctx, tx, registrantWork, l, `SELECT m.id, m.reg_lease_owner AS seen FROM zoom_meetings m
			WHERE `+registrantDueWhere+` ORDER BY m.reg_due_at, m.id LIMIT $2`, `reg_due_at <= $1`, now, limit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var t RegistrantListTask
			var reg, auth sql.NullBool
			var checked sql.NullTime
			err := tx.QueryRowContext(ctx, `SELECT m.id, m.org_id, m.conn_id, m.zoom_id, COALESCE(m.schedule_id, 0),
				c.email, g.zoom_registration, g.zoom_authentication, m.reg_rev, m.reg_attempts, m.reg_checked_at
				FROM zoom_meetings m JOIN zoom_connections c ON c.id = m.conn_id
				LEFT JOIN schedule_groups g ON g.id = m.group_id
				WHERE m.id = $1`, id).Scan(&t.MeetingRowID, &t.OrgID, &t.ConnID, &t.ZoomID, &t.ScheduleID,
				&t.HostEmail, &reg, &auth, &t.Rev, &t.Attempts, &checked)
			if err != nil {
				return err
			}
			t.Registration, t.Authentication, t.Checked = reg.Bool, auth.Bool, timeOf(checked)
			tasks = append(tasks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tasks, nil
}

// RegistrantCandidatesUnscoped are the live applications of a schedule, with its
// event, for the policy to choose the registrants from; by id.
func (s *Store) RegistrantCandidatesUnscoped(ctx context.Context, scheduleID int64) (_ event.Event, _ []event.Application, err error) {
	defer wrap(&err, "store.RegistrantCandidatesUnscoped(schedule %d)", scheduleID)
	var e event.Event
	err = scanEvent(s.reader().QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e
		JOIN schedules sc ON sc.event_id = e.id WHERE sc.id = $1`, scheduleID), &e)
	if err != nil {
		return e, nil, notFound(err)
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT id, name, email, status, payment FROM applications
		WHERE schedule_id = $1 AND status <> 'cancelled' ORDER BY id`, scheduleID)
	if err != nil {
		return e, nil, err
	}
	defer rows.Close()
	var as []event.Application
	for rows.Next() {
		a := event.Application{ScheduleID: scheduleID, EventID: e.ID, OrgID: e.OrgID}
		if err := rows.Scan(&a.ID, &a.Name, &a.Email, &a.Status, &a.Payment); err != nil {
			return e, nil, err
		}
		as = append(as, a)
	}
	return e, as, rows.Err()
}

// RegistrantRow is a live registrant kaisai keeps for a meeting.
type RegistrantRow struct {
	ID            int64
	ApplicationID int64 // 0 once the application is deleted
	Email         string
	Status        zoompolicy.RegistrantStatus
	RegistrantID  string
	JoinURL       string
	ErrorKind     string // why Zoom refused it (failed)
}

// MeetingRegistrantsUnscoped are a meeting's live registrant rows (not cancelled).
func (s *Store) MeetingRegistrantsUnscoped(ctx context.Context, meetingRowID int64) (_ []RegistrantRow, err error) {
	defer wrap(&err, "store.MeetingRegistrantsUnscoped(meeting %d)", meetingRowID)
	rows, err := s.reader().QueryContext(ctx, `SELECT id, COALESCE(application_id, 0), email, status, registrant_id, join_url,
		error_kind FROM zoom_registrants WHERE meeting_id = $1 AND status <> 'cancelled' ORDER BY id`, meetingRowID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RegistrantRow
	for rows.Next() {
		var r RegistrantRow
		if err := rows.Scan(&r.ID, &r.ApplicationID, &r.Email, &r.Status, &r.RegistrantID, &r.JoinURL, &r.ErrorKind); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NewRegistrantRow is an application about to be added to Zoom.
type NewRegistrantRow struct {
	ApplicationID int64
	Email         string // lower-cased
}

// RegistrantsAdding records, before the call, the registrants about to be
// added to a list held by l (ErrLeaseLost: nothing may be sent): should the answer be lost, the next sync looks for them on Zoom
// first. A failed row of the same e-mail is taken over, and so is an adding
// one (the caller knows Zoom did not act on it: it was refused, or looked
// up). It returns the rows' ids in the order given.
func (s *Store) RegistrantsAdding(ctx context.Context, l Lease, orgID, meetingRowID int64, rs []NewRegistrantRow) (_ []int64, err error) {
	defer wrap(&err, "store.RegistrantsAdding(org %d, meeting %d)", orgID, meetingRowID)
	now := s.nowUTC()
	ids := make([]int64, len(rs))
	err = s.fenced(ctx, registrantWork, meetingRowID, l, func(tx *Tx) error {
		for i, r := range rs {
			err := tx.QueryRowContext(ctx, `UPDATE zoom_registrants SET status = 'adding', application_id = $1,
				error_kind = '', error_message = '', updated_at = $2
				WHERE meeting_id = $3 AND email = $4 AND status IN ('failed', 'adding') RETURNING id`,
				r.ApplicationID, now, meetingRowID, r.Email).Scan(&ids[i])
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			err = tx.QueryRowContext(ctx, `INSERT INTO zoom_registrants (org_id, meeting_id, application_id, email, status,
				created_at, updated_at) VALUES ($1, $2, $3, $4, 'adding', $5, $5) RETURNING id`,
				orgID, meetingRowID, r.ApplicationID, r.Email, now).Scan(&ids[i])
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// RegisteredRow is Zoom's answer for one registrant row.
type RegisteredRow struct {
	ID                    int64
	RegistrantID, JoinURL string
}

// RegistrantsRegistered records registrants Zoom has approved, on a list
// held by l.
func (s *Store) RegistrantsRegistered(ctx context.Context, l Lease, meetingRowID int64, rs []RegisteredRow) (err error) {
	defer wrap(&err, "store.RegistrantsRegistered(meeting %d)", meetingRowID)
	now := s.nowUTC()
	return s.fenced(ctx, registrantWork, meetingRowID, l, func(tx *Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE zoom_registrants SET status = 'registered', registrant_id = $1,
				join_url = $2, error_kind = '', error_message = '', updated_at = $3 WHERE id = $4`,
				r.RegistrantID, r.JoinURL, now, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// RegistrantsCancelled records registrants cancelled on Zoom (or, for rows
// never registered, dropped), on a list held by l.
func (s *Store) RegistrantsCancelled(ctx context.Context, l Lease, meetingRowID int64, ids []int64) (err error) {
	defer wrap(&err, "store.RegistrantsCancelled(meeting %d)", meetingRowID)
	return s.setRegistrants(ctx, l, meetingRowID, ids, `status = 'cancelled', join_url = ''`)
}

// RegistrantsForgotten deletes rows of adds Zoom turned out not to have, on
// a list held by l: they are added again.
func (s *Store) RegistrantsForgotten(ctx context.Context, l Lease, meetingRowID int64, ids []int64) (err error) {
	defer wrap(&err, "store.RegistrantsForgotten(meeting %d)", meetingRowID)
	if len(ids) == 0 {
		return nil
	}
	return s.fenced(ctx, registrantWork, meetingRowID, l, func(tx *Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM zoom_registrants WHERE id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RegistrantsFailed records adds Zoom refused, with why, on a list held by l.
func (s *Store) RegistrantsFailed(ctx context.Context, l Lease, meetingRowID int64, ids []int64, kind, message string) (err error) {
	defer wrap(&err, "store.RegistrantsFailed(meeting %d)", meetingRowID)
	if len(message) > 500 {
		message = message[:500]
	}
	return s.setRegistrants(ctx, l, meetingRowID, ids, `status = 'failed', error_kind = $2, error_message = $3`, kind, message)
}

func (s *Store) setRegistrants(ctx context.Context, l Lease, meetingRowID int64, ids []int64, set string, args ...any) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.nowUTC()
	return s.fenced(ctx, registrantWork, meetingRowID, l, func(tx *Tx) error {
		for _, id := range ids {
			a := append([]any{id}, args...)
			a = append(a, now)
			if _, err := tx.ExecContext(ctx, `UPDATE zoom_registrants SET `+set+`, updated_at = $`+fmt.Sprint(len(a))+
				` WHERE id = $1`, a...); err != nil {
				return fmt.Errorf("registrants: %w", err)
			}
		}
		return nil
	})
}

// RegistrantListSynced records a list held by l in step as of rev (a list
// changed since stays due) and gives it back; checked: Zoom's list was
// read and repaired.
func (s *Store) RegistrantListSynced(ctx context.Context, l Lease, meetingRowID, rev int64, checked bool) (err error) {
	defer wrap(&err, "store.RegistrantListSynced(meeting %d, rev %d)", meetingRowID, rev)
	now := s.nowUTC()
	r, err := s.exec(ctx, `UPDATE zoom_meetings SET reg_due_at = CASE WHEN reg_rev = $1 THEN NULL ELSE reg_due_at END,
		reg_lease_owner = NULL, reg_attempts = 0, reg_error = '',
		reg_checked_at = CASE WHEN $2 THEN $3 ELSE reg_checked_at END WHERE id = $4 AND reg_lease_owner = $5`,
		rev, checked, now, meetingRowID, l.Owner)
	return leaseHeld(r, err)
}

// RegistrantListFailed records a failed sync of a list held by l and gives
// it back; it is tried again at retryAt. progress: the run moved the list
// on before it failed, so the failures counted for its backoff start again.
func (s *Store) RegistrantListFailed(ctx context.Context, l Lease, meetingRowID int64, retryAt time.Time, message string, progress bool) (err error) {
	defer wrap(&err, "store.RegistrantListFailed(meeting %d)", meetingRowID)
	if len(message) > 500 {
		message = message[:500]
	}
	r, err := s.exec(ctx, `UPDATE zoom_meetings SET reg_due_at = $1, reg_lease_owner = NULL,
		reg_attempts = CASE WHEN $2 THEN 1 ELSE reg_attempts + 1 END, reg_error = $3
		WHERE id = $4 AND reg_lease_owner = $5`, retryAt.UTC(), progress, message, meetingRowID, l.Owner)
	return leaseHeld(r, err)
}

// RegistrantListAwaitsSettings gives back a list held by l that Zoom
// refused because the meeting takes no registrations: the meeting's
// registration is not applied after all (changed on Zoom's side, or not
// yet sent). The list stays due and waits for the meeting's next sync that
// applies it (ZoomMeetingSynced), then goes at once.
func (s *Store) RegistrantListAwaitsSettings(ctx context.Context, l Lease, meetingRowID int64) (err error) {
	defer wrap(&err, "store.RegistrantListAwaitsSettings(meeting %d)", meetingRowID)
	r, err := s.exec(ctx, `UPDATE zoom_meetings SET applied_registration = FALSE, reg_lease_owner = NULL,
		reg_error = 'waiting for the meeting''s registration on Zoom'
		WHERE id = $1 AND reg_lease_owner = $2`, meetingRowID, l.Owner)
	return leaseHeld(r, err)
}

// CheckRegistrantLists makes due the lists of meetings with registration
// whose Zoom list was not read since before (the periodic repair of drift).
func (s *Store) CheckRegistrantLists(ctx context.Context, before time.Time) (_ int64, err error) {
	defer wrap(&err, "store.CheckRegistrantLists()")
	var n int64
	err = s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE zoom_meetings SET reg_due_at = $1, reg_rev = reg_rev + 1
			WHERE want = 'present' AND zoom_id IS NOT NULL AND reg_due_at IS NULL
			  AND (reg_checked_at IS NULL OR reg_checked_at < $2)
			  AND group_id IN (SELECT id FROM schedule_groups WHERE zoom_registration)`, tx.now, before.UTC())
		if err != nil {
			return err
		}
		if n, _ = r.RowsAffected(); n > 0 {
			tx.queue(queuedRegistrants)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// ApplicationRegistrant is an application's registrant on its schedule's
// meeting, as shown to the organizer and the participant.
type ApplicationRegistrant struct {
	Status       zoompolicy.RegistrantStatus // "" when none: 未登録
	JoinURL      string
	ErrorKind    string
	ErrorMessage string
}

// PersonalJoinURL is the participant's own Zoom join URL: known once
// registered, "" otherwise (zoompolicy.JoinFor's personalURL).
func (r ApplicationRegistrant) PersonalJoinURL() string {
	if !r.Status.OnZoomList() {
		return ""
	}
	return r.JoinURL
}

// ApplicationRegistrantsUnscoped are the registrant states of applications, by
// application id (none: 未登録).
func (s *Store) ApplicationRegistrantsUnscoped(ctx context.Context, ids []int64) (_ map[int64]ApplicationRegistrant, err error) {
	defer wrap(&err, "store.ApplicationRegistrantsUnscoped()")
	out := map[int64]ApplicationRegistrant{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
	}
	// The newest row of each application: a live one, else the last cancelled.
	rows, err := s.readUnprepared().QueryContext(ctx, `SELECT r.application_id, r.status, r.join_url, r.error_kind, r.error_message
		FROM zoom_registrants r JOIN zoom_meetings m ON m.id = r.meeting_id AND m.want = 'present'
		WHERE r.application_id IN (`+strings.Join(ph, ", ")+`) ORDER BY r.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r ApplicationRegistrant
		if err := rows.Scan(&id, &r.Status, &r.JoinURL, &r.ErrorKind, &r.ErrorMessage); err != nil {
			return nil, err
		}
		if cur, ok := out[id]; ok && cur.Status.Live() && !r.Status.Live() {
			continue
		}
		out[id] = r
	}
	return out, rows.Err()
}

// RetryRegistrants makes a schedule's registrant list due now (再試行), and
// the adds Zoom refused are sent again.
func (s *Store) RetryRegistrants(ctx context.Context, orgID, scheduleID int64) (err error) {
	defer wrap(&err, "store.RetryRegistrants(org %d, schedule %d)", orgID, scheduleID)
	return s.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE zoom_meetings SET reg_attempts = 0 WHERE org_id = $1 AND schedule_id = $2
			AND want = 'present'`, orgID, scheduleID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM zoom_registrants WHERE status = 'failed' AND meeting_id IN
			(SELECT id FROM zoom_meetings WHERE org_id = $1 AND schedule_id = $2 AND want = 'present')`,
			orgID, scheduleID); err != nil {
			return err
		}
		return s.registrantsChanged(ctx, tx, scheduleID)
	})
}
