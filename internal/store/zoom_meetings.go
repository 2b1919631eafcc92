package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/zoompolicy"
)

// Zoom meetings (DESIGN.md §4). Each schedule of a Zoom group has one row in
// zoom_meetings with want 'present'; a meeting to delete has want 'absent'.
// Every change that needs Zoom updates these rows in its own transaction:
// it sets due_at and bumps rev. A job (package jobs) claims due rows,
// reconciles each with Zoom from the data as it is then, and records the
// outcome; an outcome for an older rev leaves the row due, so an edit made
// during a call is never lost. Edits wait ZoomCoalesce before they are due,
// so that quick successive edits make one PATCH.

// ZoomMeeting is a managed meeting as the organizer sees it.
type ZoomMeeting struct {
	ID, OrgID, ConnID            int64
	EventID, GroupID, ScheduleID int64 // 0 once deleted in kaisai
	Want                         zoompolicy.MeetingWant
	ZoomID                       int64 // 0 until created
	JoinURL, Passcode            string
	ZoomState                    zoompolicy.ZoomSide // changes seen on Zoom's side
	ZoomChanges                  []string            // the settings changed on Zoom's side
	DueAt                        time.Time
	Attempts                     int
	ErrorKind                    string                // why the last attempt failed (a message key suffix); "" when it did not
	ErrorCode                    int                   // Zoom's error code, 0 when none
	ErrorMessage                 string                // Zoom's message
	HostStatus                   zoompolicy.ConnStatus // the host's connection
	HostName, HostEmail          string
	UpdatedAt                    time.Time
}

// State is the meeting's state as shown to the organizer.
func (m *ZoomMeeting) State() zoompolicy.MeetingState { return zoompolicy.MeetingStateOf(m.Facts()) }

// Facts are what the meeting's state follows from.
func (m *ZoomMeeting) Facts() zoompolicy.MeetingFacts {
	return zoompolicy.MeetingFacts{Host: m.HostStatus, Want: m.Want, ZoomSide: m.ZoomState,
		ErrorKind: m.ErrorKind, ZoomID: m.ZoomID, DueAt: m.DueAt}
}

// Managed reports whether kaisai can act on the meeting (its host is linked).
func (m *ZoomMeeting) Managed() bool { return zoompolicy.Managed(m.HostStatus) }

const zoomMeetingColumns = `m.id, m.org_id, m.conn_id, COALESCE(m.event_id, 0), COALESCE(m.group_id, 0),
	COALESCE(m.schedule_id, 0), m.want, COALESCE(m.zoom_id, 0), m.join_url, m.passcode, m.zoom_state,
	m.zoom_changes, m.due_at, m.attempts, m.error_kind, m.error_code, m.error_message, c.status,
	c.display_name, c.email, m.updated_at`

func scanZoomMeeting(row interface{ Scan(...any) error }) (ZoomMeeting, error) {
	var m ZoomMeeting
	var changes string
	var due sql.NullTime
	err := row.Scan(&m.ID, &m.OrgID, &m.ConnID, &m.EventID, &m.GroupID, &m.ScheduleID, &m.Want, &m.ZoomID,
		&m.JoinURL, &m.Passcode, &m.ZoomState, &changes, &due, &m.Attempts, &m.ErrorKind, &m.ErrorCode,
		&m.ErrorMessage, &m.HostStatus, &m.HostName, &m.HostEmail, &m.UpdatedAt)
	m.ZoomChanges, m.DueAt, m.UpdatedAt = strings.Fields(changes), timeOf(due), m.UpdatedAt.UTC()
	return m, err
}

// EventZoomMeetings lists the meetings of an event's schedules, also those
// being deleted, by schedule.
func (s *Store) EventZoomMeetings(ctx context.Context, orgID, eventID int64) (_ []ZoomMeeting, err error) {
	defer wrap(&err, "store.EventZoomMeetings(org %d, event %d)", orgID, eventID)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+zoomMeetingColumns+` FROM zoom_meetings m
		JOIN zoom_connections c ON c.id = m.conn_id
		WHERE m.org_id = $1 AND m.event_id = $2 ORDER BY m.schedule_id, m.id`, orgID, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ZoomMeeting
	for rows.Next() {
		m, err := scanZoomMeeting(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ZoomMeeting is one meeting of the organization.
func (s *Store) ZoomMeeting(ctx context.Context, orgID, id int64) (_ ZoomMeeting, err error) {
	defer wrap(&err, "store.ZoomMeeting(org %d, id %d)", orgID, id)
	m, err := scanZoomMeeting(s.reader().QueryRowContext(ctx, `SELECT `+zoomMeetingColumns+` FROM zoom_meetings m
		JOIN zoom_connections c ON c.id = m.conn_id WHERE m.org_id = $1 AND m.id = $2`, orgID, id))
	return m, notFound(err)
}

// ScheduleZoomMeeting is the meeting a schedule has (want present).
func (s *Store) ScheduleZoomMeeting(ctx context.Context, orgID, scheduleID int64) (_ ZoomMeeting, err error) {
	defer wrap(&err, "store.ScheduleZoomMeeting(org %d, schedule %d)", orgID, scheduleID)
	m, err := scanZoomMeeting(s.reader().QueryRowContext(ctx, `SELECT `+zoomMeetingColumns+` FROM zoom_meetings m
		JOIN zoom_connections c ON c.id = m.conn_id
		WHERE m.org_id = $1 AND m.schedule_id = $2 AND m.want = 'present'`, orgID, scheduleID))
	return m, notFound(err)
}

// schedulesOf selects the ids of an organization's schedules (sc, with
// their group g) for planning; its one "?" is the organization.
const schedulesOf = `SELECT sc.id FROM schedules sc JOIN schedule_groups g ON g.id = sc.group_id WHERE sc.org_id = ?`

// planZoomMeetings brings the meeting rows of the schedules that sel selects
// (over sc and g, args for its "?") in line with their groups, in tx: a
// schedule of a Zoom group has a present meeting with the group's host,
// made due to be created or updated after the coalescing delay; a meeting
// whose schedule left Zoom, or whose host is no longer the group's, is to be
// deleted at once.
func (s *Store) planZoomMeetings(ctx context.Context, tx *Tx, orgID int64, sel string, args ...any) error {
	now := tx.now
	due := now.Add(s.zoomCoalesce)
	orgSel := append([]any{orgID}, args...)
	n, err := s.retireZoomMeetings(ctx, tx, orgID, `schedule_id IN (`+schedulesOf+` AND `+sel+
		` AND (g.venue <> 'zoom' OR g.zoom_conn_id IS NULL OR g.zoom_conn_id <> zoom_meetings.conn_id))`, orgSel...)
	if err != nil {
		return err
	}
	// Registration may have been turned on (backfill) or off: the list is
	// looked at again too.
	var planned cond
	planned.and(`schedule_id IN (`+schedulesOf+` AND `+sel+`)`, orgSel...)
	q, qArgs := planned.join(`UPDATE zoom_meetings SET due_at = $2, rev = rev + 1, updated_at = $3,
		reg_due_at = $3, reg_rev = reg_rev + 1
		WHERE org_id = $1 AND want = 'present' AND zoom_state <> 'deleted'`, orgID, due, now)
	r, err := tx.ExecContext(ctx, q, qArgs...)
	if err != nil {
		return fmt.Errorf("plan zoom meetings: %w", err)
	}
	updated, _ := r.RowsAffected()
	var selected cond
	selected.and(sel, args...)
	q, qArgs = selected.join(`INSERT INTO zoom_meetings (org_id, conn_id, event_id, group_id, schedule_id, want,
		rev, due_at, created_at, updated_at)
		SELECT sc.org_id, g.zoom_conn_id, sc.event_id, sc.group_id, sc.id, 'present', 1, $2, $3, $3
		FROM schedules sc JOIN schedule_groups g ON g.id = sc.group_id
		WHERE sc.org_id = $1 AND g.venue = 'zoom' AND g.zoom_conn_id IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM zoom_meetings m WHERE m.schedule_id = sc.id AND m.want = 'present')`,
		orgID, due, now)
	r, err = tx.ExecContext(ctx, q, qArgs...)
	if err != nil {
		return fmt.Errorf("plan zoom meetings: %w", err)
	}
	created, _ := r.RowsAffected()
	if n+updated+created > 0 {
		tx.queue(queuedMeetings)
	}
	if updated > 0 {
		tx.queue(queuedRegistrants)
	}
	return nil
}

// retireZoomMeetings marks the present meetings that sel selects (over
// zoom_meetings' columns, args for its "?") to be deleted at once, in tx. A
// meeting already deleted on Zoom's side has nothing left to delete: its
// row goes.
func (s *Store) retireZoomMeetings(ctx context.Context, tx *Tx, orgID int64, sel string, args ...any) (int64, error) {
	now := tx.now
	var c cond
	c.and(sel, args...)
	q, qArgs := c.join(`DELETE FROM zoom_meetings WHERE org_id = $1 AND zoom_state = 'deleted'`, orgID)
	_, err := tx.ExecContext(ctx, q, qArgs...)
	if err != nil {
		return 0, fmt.Errorf("retire zoom meetings: %w", err)
	}
	q, qArgs = c.join(`UPDATE zoom_meetings SET want = 'absent', due_at = $2, rev = rev + 1,
		updated_at = $2 WHERE org_id = $1 AND want = 'present'`, orgID, now)
	r, err := tx.ExecContext(ctx, q, qArgs...)
	if err != nil {
		return 0, fmt.Errorf("retire zoom meetings: %w", err)
	}
	n, _ := r.RowsAffected()
	if n > 0 {
		tx.queue(queuedMeetings)
	}
	return n, nil
}

// RetryZoomMeeting makes a meeting due now (再試行), whatever its backoff.
func (s *Store) RetryZoomMeeting(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.RetryZoomMeeting(org %d, id %d)", orgID, id)
	return s.zoomMeetingAction(ctx, orgID, id, `attempts = 0`)
}

// ReapplyZoomMeeting sends all of kaisai's settings again (kaisaiの設定を再適用),
// undoing changes made on Zoom's side.
func (s *Store) ReapplyZoomMeeting(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.ReapplyZoomMeeting(org %d, id %d)", orgID, id)
	return s.zoomMeetingAction(ctx, orgID, id, `applied = '', zoom_state = '', zoom_changes = '', attempts = 0`,
		`zoom_state <> 'deleted'`)
}

// zoomMeetingAction sets set on an organization's meeting, when it meets
// conds too (conditions without arguments), and makes it due now.
func (s *Store) zoomMeetingAction(ctx context.Context, orgID, id int64, set string, conds ...string) error {
	now := s.nowUTC()
	var c cond
	for _, part := range conds {
		c.and(part)
	}
	q, args := c.join(`UPDATE zoom_meetings SET `+set+`, due_at = $1, rev = rev + 1, updated_at = $1
			WHERE org_id = $2 AND id = $3`, now, orgID, id)
	return s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, q, args...)
		if err := rowsOrNotFound(r, err); err != nil {
			return err
		}
		tx.queue(queuedMeetings)
		return nil
	})
}

// RecreateZoomMeeting makes a new meeting for a schedule whose meeting was
// deleted or changed on Zoom's side (再作成): a changed one is deleted.
func (s *Store) RecreateZoomMeeting(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.RecreateZoomMeeting(org %d, id %d)", orgID, id)
	now := s.nowUTC()
	return s.Tx(ctx, func(tx *Tx) error {
		var state zoompolicy.ZoomSide
		err := tx.QueryRowContext(ctx, `SELECT zoom_state FROM zoom_meetings WHERE org_id = $1 AND id = $2
			AND want = 'present' AND schedule_id IS NOT NULL`, orgID, id).Scan(&state)
		if err != nil {
			return notFound(err)
		}
		if state == zoompolicy.DeletedOnZoom {
			_, err = tx.ExecContext(ctx, `UPDATE zoom_meetings SET zoom_id = NULL, join_url = '', passcode = '',
				applied = '', inflight = '', zoom_state = '', zoom_changes = '', create_started_at = NULL,
				attempts = 0, error_kind = '', error_code = 0, error_message = '', due_at = $1, rev = rev + 1,
				updated_at = $1 WHERE id = $2`, now, id)
			if err != nil {
				return err
			}
			tx.queue(queuedMeetings)
			return nil
		}
		var schedule int64
		if err := tx.QueryRowContext(ctx, `UPDATE zoom_meetings SET want = 'absent', due_at = $1, rev = rev + 1,
			updated_at = $1 WHERE id = $2 RETURNING schedule_id`, now, id).Scan(&schedule); err != nil {
			return err
		}
		return s.planZoomMeetings(ctx, tx, orgID, `sc.id = ?`, schedule)
	})
}

// ZoomMeetingTask is a claimed meeting row with what its meeting should be.
type ZoomMeetingTask struct {
	ID, OrgID, ConnID int64
	HostZoomUserID    string
	Want              zoompolicy.MeetingWant
	ZoomID            int64
	Rev               int64
	Attempts          int    // attempts made before this one
	Applied, Inflight string // JSON, as the job wrote them
	ZoomState         zoompolicy.ZoomSide
	CreateStartedAt   time.Time // non-zero: a create was sent and may have made the meeting
	// Spec is what the meeting should be; nil when it should not exist.
	Spec *ZoomMeetingSpec
}

// ZoomMeetingSpec is kaisai's side of a meeting: its schedule, event and
// group settings as they are now.
type ZoomMeetingSpec struct {
	ScheduleID       int64
	Title, TimeZone  string
	StartsAt, EndsAt time.Time
	Settings         event.ZoomSettings
}

// Schedule is the spec's schedule, for the rules that look at its dates.
func (sp *ZoomMeetingSpec) Schedule() *event.Schedule {
	return &event.Schedule{ID: sp.ScheduleID, StartsAt: sp.StartsAt, EndsAt: sp.EndsAt}
}

// zoomDueWhere selects the rows a worker may claim now ($1): due, not
// leased, and with a linked host (the others wait for re-linking).
var zoomDueWhere = `m.due_at <= $1 AND ` + meetingWork.free("m", "$1") + `
	AND m.conn_id IN (SELECT id FROM zoom_connections WHERE status = 'linked')`

// ZoomMeetingsDue reports whether some meeting can be synced now.
func (s *Store) ZoomMeetingsDue(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.ZoomMeetingsDue()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM zoom_meetings m WHERE `+zoomDueWhere+` LIMIT 1) d`,
		s.nowUTC()).Scan(&n)
	return n > 0, err
}

// NextZoomMeetingDue is when the next meeting waiting for its coalescing
// delay, its backoff or another worker's lease can be claimed (zero when
// none waits).
func (s *Store) NextZoomMeetingDue(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "store.NextZoomMeetingDue()")
	return s.nextDue(ctx, `SELECT m.due_at, l.expires_at FROM zoom_meetings m`+meetingWork.join("m")+`
		WHERE m.due_at IS NOT NULL AND m.conn_id IN (SELECT id FROM zoom_connections WHERE status = 'linked')
		ORDER BY m.due_at LIMIT 100`)
}

// nextDue reads (due, lease) pairs and returns the earliest time one of
// them can be claimed: its due time, or its lease's end if later. Columns,
// not MIN(): SQLite hands an aggregate of times back as text.
func (s *Store) nextDue(ctx context.Context, query string) (time.Time, error) {
	rows, err := s.reader().QueryContext(ctx, query)
	if err != nil {
		return time.Time{}, fmt.Errorf("next due: %w", err)
	}
	defer rows.Close()
	var next time.Time
	for rows.Next() {
		var due time.Time
		var lease sql.NullTime
		if err := rows.Scan(&due, &lease); err != nil {
			return time.Time{}, fmt.Errorf("next due: %w", err)
		}
		at := due.UTC()
		if l := timeOf(lease); l.After(at) {
			at = l
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, rows.Err()
}

// ClaimZoomMeetings leases to l up to limit due meetings, so that no other
// worker (on any instance) syncs them meanwhile, and reads what each should
// be.
func (s *Store) ClaimZoomMeetings(ctx context.Context, l Lease, limit int) (_ []ZoomMeetingTask, err error) {
	defer wrap(&err, "store.ClaimZoomMeetings()")
	var tasks []ZoomMeetingTask
	err = s.Tx(ctx, func(tx *Tx) error {
		now := tx.now
		tasks = tasks[:0]
		ids, err := s.claim(ctx, tx, meetingWork, l, `SELECT m.id, m.lease_owner AS seen FROM zoom_meetings m
			WHERE `+zoomDueWhere+` ORDER BY m.due_at, m.id LIMIT $2`, `due_at <= $1`, now, limit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			t, err := claimedZoomMeeting(ctx, tx, id)
			if err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tasks, nil
}

func claimedZoomMeeting(ctx context.Context, tx *Tx, id int64) (ZoomMeetingTask, error) {
	var t ZoomMeetingTask
	var started, startsAt, endsAt sql.NullTime
	var specOK sql.NullBool
	var scheduleID sql.NullInt64
	var title, tz, pass, agenda sql.NullString
	var wr, auth, reg, hv, pv, mute, mails sql.NullBool
	err := tx.QueryRowContext(ctx, `SELECT m.id, m.org_id, m.conn_id, c.zoom_user_id, m.want, COALESCE(m.zoom_id, 0),
		m.rev, m.attempts, m.applied, m.inflight, m.zoom_state, m.create_started_at,
		sc.id IS NOT NULL AND g.venue = 'zoom' AND g.zoom_conn_id = m.conn_id,
		sc.id, e.title, e.time_zone, sc.starts_at, sc.ends_at, g.zoom_passcode, g.zoom_waiting_room,
		g.zoom_authentication, g.zoom_registration, g.zoom_host_video, g.zoom_participant_video,
		g.zoom_mute_upon_entry, g.zoom_registrant_emails, g.zoom_agenda
		FROM zoom_meetings m JOIN zoom_connections c ON c.id = m.conn_id
		LEFT JOIN schedules sc ON sc.id = m.schedule_id
		LEFT JOIN schedule_groups g ON g.id = sc.group_id
		LEFT JOIN events e ON e.id = sc.event_id
		WHERE m.id = $1`, id).Scan(&t.ID, &t.OrgID, &t.ConnID, &t.HostZoomUserID, &t.Want, &t.ZoomID, &t.Rev,
		&t.Attempts, &t.Applied, &t.Inflight, &t.ZoomState, &started, &specOK, &scheduleID, &title, &tz,
		&startsAt, &endsAt, &pass, &wr, &auth, &reg, &hv, &pv, &mute, &mails, &agenda)
	if err != nil {
		return t, err
	}
	t.CreateStartedAt = timeOf(started)
	if t.Want == zoompolicy.WantPresent && specOK.Valid && specOK.Bool {
		t.Spec = &ZoomMeetingSpec{ScheduleID: scheduleID.Int64, Title: title.String, TimeZone: tz.String,
			StartsAt: timeOf(startsAt), EndsAt: timeOf(endsAt),
			Settings: event.ZoomSettings{ConnID: t.ConnID, Passcode: pass.String, WaitingRoom: wr.Bool,
				Authentication: auth.Bool, Registration: reg.Bool, HostVideo: hv.Bool, ParticipantVideo: pv.Bool,
				MuteUponEntry: mute.Bool, RegistrantEmails: mails.Bool, Agenda: agenda.String}}
	}
	return t, nil
}

// ZoomMeetingCalling records, before a call to Zoom about a meeting held by
// l, the settings being sent (so that Zoom's webhook about them is known as
// kaisai's own) and, for a create, that a meeting may exist from now on
// even if the answer is lost. ErrLeaseLost: the row is another worker's
// now, and nothing may be sent.
func (s *Store) ZoomMeetingCalling(ctx context.Context, l Lease, id int64, inflight string, creating bool) (err error) {
	defer wrap(&err, "store.ZoomMeetingCalling(id %d)", id)
	now := s.nowUTC()
	r, err := s.exec(ctx, `UPDATE zoom_meetings SET inflight = $1,
		create_started_at = CASE WHEN $2 THEN $3 ELSE create_started_at END WHERE id = $4 AND lease_owner = $5`,
		inflight, creating, now, id, l.Owner)
	return leaseHeld(r, err)
}

// LockZoomMeetingCreates gives l the right to create meetings of a host
// (and to look for one whose create answer was lost): only one create at a
// time per host keeps such a meeting recognizable by its topic and start
// time. It reports false when another worker holds it. The right ends
// with UnlockZoomMeetingCreates, or with l.
func (s *Store) LockZoomMeetingCreates(ctx context.Context, l Lease, connID int64) (_ bool, err error) {
	defer wrap(&err, "store.LockZoomMeetingCreates(conn %d)", connID)
	var ids []int64
	err = s.Tx(ctx, func(tx *Tx) error {
		var err error
		ids, err = s.claim(ctx, tx, createWork, l, `SELECT zc.id, zc.create_owner AS seen FROM zoom_connections zc
			WHERE zc.id = $1 AND `+createWork.free("zc", "$2"), "", connID, tx.now)
		return err
	})
	if err != nil {
		return false, err
	}
	return len(ids) == 1, nil
}

// UnlockZoomMeetingCreates gives the right back.
func (s *Store) UnlockZoomMeetingCreates(ctx context.Context, l Lease, connID int64) (err error) {
	defer wrap(&err, "store.UnlockZoomMeetingCreates(conn %d)", connID)
	_, err = s.exec(ctx, `UPDATE zoom_connections SET create_owner = NULL WHERE id = $1 AND create_owner = $2`,
		connID, l.Owner)
	return err
}

// PostponeZoomMeeting gives a row held by l back, due at at (another
// worker is creating a meeting of the same host).
func (s *Store) PostponeZoomMeeting(ctx context.Context, l Lease, id int64, at time.Time) (err error) {
	defer wrap(&err, "store.PostponeZoomMeeting(id %d)", id)
	return s.forEachHeld(ctx, meetingWork, l, []int64{id}, `due_at = $3`, at.UTC())
}

// ZoomMeetingAdopted records the meeting that a create with a lost answer
// made: the row, still held by l, names it from now on. Its settings are
// not known to be kaisai's (applied is cleared), so the next update sends
// all.
func (s *Store) ZoomMeetingAdopted(ctx context.Context, l Lease, id, zoomID int64, joinURL, passcode string) (err error) {
	defer wrap(&err, "store.ZoomMeetingAdopted(id %d, zoom %d)", id, zoomID)
	r, err := s.exec(ctx, `UPDATE zoom_meetings SET zoom_id = $1, join_url = $2, passcode = $3, applied = '',
		inflight = '', create_started_at = NULL, zoom_state = '', zoom_changes = '', updated_at = $4
		WHERE id = $5 AND lease_owner = $6`, zoomID, joinURL, passcode, s.nowUTC(), id, l.Owner)
	return leaseHeld(r, err)
}

// ZoomMeetingResult is what Zoom says a meeting is after a sync.
type ZoomMeetingResult struct {
	ZoomID            int64
	JoinURL, Passcode string
	Applied           string // JSON: the settings now on Zoom
	// Created: a new meeting (made or found after a lost answer), so no
	// change on Zoom's side is pending any more.
	Created bool
	// Registration: the settings applied take registrants (登録,
	// approval_type 1); a registrant list waiting for them goes now.
	Registration bool
}

// ZoomMeetingSynced records a meeting held by l in step with the settings of rev; a
// row changed since stays due. An empty JoinURL keeps the join URL and
// passcode known (nothing was sent, so nothing was read back). A new
// meeting has no registrants: in the same transaction its list is made due
// to be pushed again, so that the registrant sync, nudged after the commit,
// finds the list and the meeting's id together.
func (s *Store) ZoomMeetingSynced(ctx context.Context, l Lease, id, rev int64, r ZoomMeetingResult) (err error) {
	defer wrap(&err, "store.ZoomMeetingSynced(id %d, rev %d)", id, rev)
	now := s.nowUTC()
	err = s.fenced(ctx, meetingWork, id, l, func(tx *Tx) error {
		if r.Created {
			if _, err := tx.ExecContext(ctx, `UPDATE zoom_registrants SET status = 'cancelled', join_url = '',
				updated_at = $1 WHERE meeting_id = $2 AND status <> 'cancelled'`, now, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE zoom_meetings SET reg_due_at = $1, reg_rev = reg_rev + 1
				WHERE id = $2`, now, id); err != nil {
				return err
			}
			tx.queue(queuedRegistrants)
		}
		_, err := tx.ExecContext(ctx, `UPDATE zoom_meetings SET zoom_id = $1, join_url = COALESCE(NULLIF($2, ''), join_url),
			passcode = CASE WHEN $2 = '' THEN passcode ELSE $3 END, applied = $4,
			inflight = '', create_started_at = NULL, attempts = 0, error_kind = '', error_code = 0, error_message = '',
			zoom_state = CASE WHEN $5 THEN '' ELSE zoom_state END,
			zoom_changes = CASE WHEN $5 THEN '' ELSE zoom_changes END,
			due_at = CASE WHEN rev = $6 THEN NULL ELSE due_at END, lease_owner = NULL, updated_at = $7,
			applied_registration = $8 WHERE id = $9`,
			r.ZoomID, r.JoinURL, r.Passcode, r.Applied, r.Created, rev, now, r.Registration, id)
		if err == nil && r.Registration {
			tx.queue(queuedRegistrants) // a list waiting for the registration goes now
		}
		return err
	})
	if err != nil {
		return err
	}
	return nil
}

// ZoomMeetingRemoved records a meeting to delete, held by l, as deleted on
// Zoom (or never made): its row goes (rows to delete are never wanted
// again).
func (s *Store) ZoomMeetingRemoved(ctx context.Context, l Lease, id int64) (err error) {
	defer wrap(&err, "store.ZoomMeetingRemoved(id %d)", id)
	r, err := s.exec(ctx, `DELETE FROM zoom_meetings WHERE id = $1 AND lease_owner = $2`, id, l.Owner)
	return leaseHeld(r, err)
}

// ZoomMeetingFailure is why a sync failed.
type ZoomMeetingFailure struct {
	Kind    string // the message key suffix the organizer sees (zoom.meeting_error.<kind>)
	Code    int    // Zoom's error code, 0 when none
	Message string // Zoom's message or the transport's error
	// RetryAt is when to try again; zero: wait for the organizer (再試行 or an edit).
	RetryAt time.Time
}

// ZoomMeetingFailed records a failed sync of rev of a row held by l. A row changed since keeps
// the due time its change set (the change may be the fix). A create whose
// outcome is not known (create_started_at, with what was sent in inflight)
// stays so, whatever failed now: only an answer naming the meeting
// (ZoomMeetingSynced, ZoomMeetingAdopted) or a lookup that did not find it
// ends it, so the next attempt, create or delete, looks for it first.
func (s *Store) ZoomMeetingFailed(ctx context.Context, l Lease, id, rev int64, f ZoomMeetingFailure) (err error) {
	defer wrap(&err, "store.ZoomMeetingFailed(id %d, rev %d)", id, rev)
	now := s.nowUTC()
	var retry any
	if !f.RetryAt.IsZero() {
		retry = f.RetryAt.UTC()
	}
	if len(f.Message) > 1000 {
		f.Message = f.Message[:1000]
	}
	r, err := s.exec(ctx, `UPDATE zoom_meetings SET attempts = attempts + 1, error_kind = $1, error_code = $2,
		error_message = $3, inflight = CASE WHEN create_started_at IS NULL THEN '' ELSE inflight END,
		due_at = CASE WHEN rev = $4 THEN $5 ELSE due_at END, lease_owner = NULL, updated_at = $6
		WHERE id = $7 AND lease_owner = $8`, f.Kind, f.Code, f.Message, rev, retry, now, id, l.Owner)
	return leaseHeld(r, err)
}

// ZoomMeetingDeletedOnZoom records that Zoom no longer has the managed
// meeting zoomID (a 3001 answer, or Zoom's meeting.deleted): shown with
// 再作成. Returns false when the row is not a present meeting, or names
// another meeting by now (re-created meanwhile). A sync that learned it
// passes the lease it holds the row with (fenced, and the row given back);
// a webhook passes the zero Lease and leaves any worker's hold alone.
func (s *Store) ZoomMeetingDeletedOnZoom(ctx context.Context, l Lease, id, zoomID int64) (_ bool, err error) {
	defer wrap(&err, "store.ZoomMeetingDeletedOnZoom(id %d, zoom %d)", id, zoomID)
	var n int64
	err = s.Tx(ctx, func(tx *Tx) error {
		if l.Owner != "" {
			if err := s.release(ctx, tx, meetingWork, id, l); err != nil {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, `UPDATE zoom_meetings SET zoom_state = 'deleted', inflight = '', due_at = NULL,
			attempts = 0, error_kind = '', error_code = 0, error_message = '', updated_at = $1
			WHERE id = $2 AND want = 'present' AND COALESCE(zoom_id, 0) = $3`, tx.now, id, zoomID)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// ZoomMeetingChangedOnZoom records the settings that differ on Zoom's side
// from kaisai's (seen after Zoom's meeting.updated): shown with 再適用 and
// 再作成. No fields: Zoom agrees with kaisai again, and a change recorded
// before is cleared. A row that names another meeting by now is left alone.
func (s *Store) ZoomMeetingChangedOnZoom(ctx context.Context, id, zoomID int64, fields []string) (err error) {
	defer wrap(&err, "store.ZoomMeetingChangedOnZoom(id %d, zoom %d)", id, zoomID)
	state := zoompolicy.ChangedOnZoom
	if len(fields) == 0 {
		state = ""
	}
	_, err = s.exec(ctx, `UPDATE zoom_meetings SET zoom_state = $1, zoom_changes = $2, updated_at = $3
		WHERE id = $4 AND want = 'present' AND zoom_state <> 'deleted' AND zoom_id = $5`,
		state, strings.Join(fields, " "), s.nowUTC(), id, zoomID)
	if err != nil {
		return err
	}
	return nil
}

// ReleaseZoomMeeting gives a row held by l back untouched (kaisai stops,
// or the host can no longer be used): it is due again at once.
func (s *Store) ReleaseZoomMeeting(ctx context.Context, l Lease, id int64) (err error) {
	defer wrap(&err, "store.ReleaseZoomMeeting(id %d)", id)
	return s.forEachHeld(ctx, meetingWork, l, []int64{id}, "")
}

// ZoomMeetingRef is what a webhook about a meeting needs of kaisai's row.
type ZoomMeetingRef struct {
	ID, OrgID, ConnID int64
	Want              zoompolicy.MeetingWant
	ZoomState         zoompolicy.ZoomSide
	Applied, Inflight string
}

// ZoomMeetingsByZoomID finds the rows of a Zoom meeting id (one, unless a
// row being deleted shares it with none).
func (s *Store) ZoomMeetingsByZoomID(ctx context.Context, zoomID int64) (_ []ZoomMeetingRef, err error) {
	defer wrap(&err, "store.ZoomMeetingsByZoomID(zoom %d)", zoomID)
	rows, err := s.reader().QueryContext(ctx, `SELECT id, org_id, conn_id, want, zoom_state, applied, inflight
		FROM zoom_meetings WHERE zoom_id = $1 ORDER BY id`, zoomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ZoomMeetingRef
	for rows.Next() {
		var r ZoomMeetingRef
		if err := rows.Scan(&r.ID, &r.OrgID, &r.ConnID, &r.Want, &r.ZoomState, &r.Applied, &r.Inflight); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ZoomMeetingKnown reports whether a Zoom meeting id is one of kaisai's rows:
// a meeting found after a lost create answer must not be one already owned.
func (s *Store) ZoomMeetingKnown(ctx context.Context, zoomID int64) (_ bool, err error) {
	defer wrap(&err, "store.ZoomMeetingKnown(zoom %d)", zoomID)
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_meetings WHERE zoom_id = $1`, zoomID).Scan(&n)
	return n > 0, err
}

// ZoomMeetingsInStep reports whether no meeting is due or leased: every
// change has reached Zoom, or waits for an organizer or a re-link (tests).
func (s *Store) ZoomMeetingsInStep(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.ZoomMeetingsInStep()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_meetings m WHERE (m.due_at IS NOT NULL OR NOT `+meetingWork.free("m", "$1")+`)
		AND m.conn_id IN (SELECT id FROM zoom_connections WHERE status = 'linked')`, s.nowUTC()).Scan(&n)
	return n == 0, err
}

// returnedIDs runs a statement that returns ids (an UPDATE … RETURNING id)
// and reads them.
func returnedIDs(ctx context.Context, tx *Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
