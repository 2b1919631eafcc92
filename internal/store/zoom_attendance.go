package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/zoompolicy"
)

// Attendance (DESIGN.md §6): each participant session of a managed Zoom
// meeting is a zoom_attendance row, keyed by the meeting instance and Zoom's
// in-meeting participant id. participant_joined, participant_left and the
// past-participants report each fill in what is still unknown of a session,
// so they may arrive in any order, late or twice.

// ZoomSession is one participant session as a webhook or the report tells it.
type ZoomSession struct {
	InstanceUUID, ParticipantID string
	Name, Email, RegistrantID   string
	JoinedAt, LeftAt            time.Time // zero: not known from this source
	// ApplicationID is the application the policy matched (0: none), by
	// MatchedBy.
	ApplicationID int64
	MatchedBy     zoompolicy.MatchedBy
}

// RecordZoomSessions records sessions of the meeting m in one transaction
// and checks in (受付済, source zoom) each application a session newly
// matches, at its join time, or its leave time while the join is unknown:
// the first join is kept and an earlier one moves a Zoom check-in earlier.
// Recording what is already known changes nothing. It returns how many
// applications were checked in or moved.
func (s *Store) RecordZoomSessions(ctx context.Context, m CheckInMeeting, sessions []ZoomSession) (_ int, err error) {
	defer wrap(&err, "store.RecordZoomSessions(meeting %d)", m.MeetingRowID)
	checkedIn := 0
	err = s.Tx(ctx, func(tx *Tx) error {
		checkedIn = 0
		now := tx.now
		for _, z := range sessions {
			var before struct {
				app            sql.NullInt64
				joined, left   sql.NullTime
				known, matched bool
			}
			err := tx.QueryRowContext(ctx, `SELECT application_id, joined_at, left_at FROM zoom_attendance
				WHERE instance_uuid = $1 AND participant_id = $2`, z.InstanceUUID, z.ParticipantID).
				Scan(&before.app, &before.joined, &before.left)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				before.known, before.matched = true, before.app.Valid
			}
			var app sql.NullInt64
			var joined, left sql.NullTime
			err = tx.QueryRowContext(ctx, `INSERT INTO zoom_attendance (org_id, schedule_id, zoom_id, instance_uuid,
					participant_id, name, email, registrant_id, joined_at, left_at, application_id, matched_by, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				ON CONFLICT (instance_uuid, participant_id) DO UPDATE SET
					joined_at = COALESCE(zoom_attendance.joined_at, excluded.joined_at),
					left_at = COALESCE(zoom_attendance.left_at, excluded.left_at),
					name = CASE WHEN zoom_attendance.name = '' THEN excluded.name ELSE zoom_attendance.name END,
					email = CASE WHEN zoom_attendance.email = '' THEN excluded.email ELSE zoom_attendance.email END,
					registrant_id = CASE WHEN zoom_attendance.registrant_id = '' THEN excluded.registrant_id
						ELSE zoom_attendance.registrant_id END,
					matched_by = CASE WHEN zoom_attendance.application_id IS NULL THEN excluded.matched_by
						ELSE zoom_attendance.matched_by END,
					application_id = COALESCE(zoom_attendance.application_id, excluded.application_id)
				RETURNING application_id, joined_at, left_at`,
				m.OrgID, m.ScheduleID, m.ZoomID, z.InstanceUUID, z.ParticipantID, z.Name, z.Email, z.RegistrantID,
				nullTime(z.JoinedAt), nullTime(z.LeftAt), sql.NullInt64{Int64: z.ApplicationID, Valid: z.ApplicationID != 0},
				matchedBy(z), now).Scan(&app, &joined, &left)
			if err != nil {
				return err
			}
			newlyMatched := app.Valid && !before.matched
			joinLearned := joined.Valid && !before.joined.Valid
			if !app.Valid || !(newlyMatched || joinLearned) {
				continue
			}
			at := timeOf(joined)
			if at.IsZero() {
				at = timeOf(left)
			}
			if at.IsZero() {
				continue
			}
			ok, err := s.zoomCheckIn(ctx, tx, m.ScheduleID, app.Int64, at, 0, "Zoom")
			if err != nil {
				return err
			}
			if ok {
				checkedIn++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return checkedIn, nil
}

func matchedBy(z ZoomSession) zoompolicy.MatchedBy {
	if z.ApplicationID == 0 {
		return ""
	}
	return z.MatchedBy
}

func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

// zoomCheckIn marks an application of the schedule 受付済 from Zoom at t:
// only a 申込済 one; a check-in already there stays, unless it is a Zoom
// one later than t (an earlier join delivered late). It reports whether
// anything changed.
func (s *Store) zoomCheckIn(ctx context.Context, tx *Tx, scheduleID, applicationID int64, t time.Time, memberID int64, detail string) (bool, error) {
	r, err := tx.ExecContext(ctx, `UPDATE applications SET checked_in_at = $1, checkin_source = 'zoom', updated_at = $2
		WHERE id = $3 AND schedule_id = $4 AND status = 'applied'
		  AND (checked_in_at IS NULL OR (checkin_source = 'zoom' AND checked_in_at > $1))`,
		t.UTC(), tx.now, applicationID, scheduleID)
	if err != nil {
		return false, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return false, nil
	}
	a, err := applicationWhere(ctx, tx, `a.id = $1`, applicationID)
	if err != nil {
		return false, err
	}
	return true, s.logActivity(ctx, tx, &a, memberID, ActCheckedIn, detail)
}

// Attendance is an application's time in its schedule's Zoom meeting.
type Attendance struct {
	Seconds   int64 // the union of its closed sessions, overlaps counted once
	Sessions  int   // joins recorded
	InMeeting bool  // a session with a join and no leave yet
}

// Minutes is the attendance in whole minutes, rounded up as Zoom's reports do.
func (a Attendance) Minutes() int64 { return (a.Seconds + 59) / 60 }

// Attendances are the attendance of the event's applications, of those
// ids only when ids is not nil.
func (s *Store) Attendances(ctx context.Context, orgID, eventID int64, ids []int64) (_ map[int64]Attendance, err error) {
	defer wrap(&err, "store.Attendances(org %d, event %d)", orgID, eventID)
	var c cond
	if ids != nil {
		if len(ids) == 0 {
			return map[int64]Attendance{}, nil
		}
		c.in("z.application_id", ids)
	}
	where, args := c.join(`s.event_id = $2`, orgID, eventID)
	rows, err := s.readUnprepared().QueryContext(ctx, `SELECT z.application_id, z.joined_at, z.left_at
		FROM zoom_attendance z JOIN schedules s ON s.id = z.schedule_id
		WHERE z.org_id = $1 AND z.application_id IS NOT NULL AND `+where+`
		ORDER BY z.application_id, z.joined_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	spans := map[int64][][2]time.Time{}
	out := map[int64]Attendance{}
	for rows.Next() {
		var id int64
		var joined, left sql.NullTime
		if err := rows.Scan(&id, &joined, &left); err != nil {
			return nil, err
		}
		a := out[id]
		if joined.Valid {
			a.Sessions++
			if left.Valid {
				spans[id] = append(spans[id], [2]time.Time{joined.Time, left.Time})
			} else {
				a.InMeeting = true
			}
		}
		out[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for id, ss := range spans {
		a := out[id]
		a.Seconds = unionSeconds(ss)
		out[id] = a
	}
	return out, nil
}

// unionSeconds is the length of the union of the spans, in seconds: two
// devices in the meeting at once count once.
func unionSeconds(spans [][2]time.Time) int64 {
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, sp := range spans {
		if sp[1].Before(sp[0]) {
			continue
		}
		switch {
		case i == 0 || cur[1].IsZero():
			cur = sp
		case !sp[0].After(cur[1]):
			if sp[1].After(cur[1]) {
				cur[1] = sp[1]
			}
		default:
			total += cur[1].Sub(cur[0])
			cur = sp
		}
	}
	if !cur[1].IsZero() {
		total += cur[1].Sub(cur[0])
	}
	return int64(total / time.Second)
}

// UnmatchedParticipant is someone in a schedule's meeting that no
// application matched: a guest, or an e-mail Zoom did not show or that no
// application has. Their sessions are grouped by e-mail, else by name.
type UnmatchedParticipant struct {
	ID         int64 // one of its sessions: what MatchZoomParticipant takes
	ScheduleID int64
	Name       string
	Email      string
	FirstJoin  time.Time
	Attendance Attendance
}

// UnmatchedParticipants are the event's unmatched participants, by
// schedule and first join.
func (s *Store) UnmatchedParticipants(ctx context.Context, orgID, eventID int64) (_ []UnmatchedParticipant, err error) {
	defer wrap(&err, "store.UnmatchedParticipants(org %d, event %d)", orgID, eventID)
	rows, err := s.reader().QueryContext(ctx, `SELECT z.id, z.schedule_id, z.name, z.email, z.joined_at, z.left_at
		FROM zoom_attendance z JOIN schedules s ON s.id = z.schedule_id
		WHERE z.org_id = $1 AND s.event_id = $2 AND z.application_id IS NULL
		ORDER BY z.schedule_id, z.joined_at, z.id`, orgID, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UnmatchedParticipant
	index := map[string]int{}
	spans := map[int][][2]time.Time{}
	for rows.Next() {
		var p UnmatchedParticipant
		var joined, left sql.NullTime
		if err := rows.Scan(&p.ID, &p.ScheduleID, &p.Name, &p.Email, &joined, &left); err != nil {
			return nil, err
		}
		k := participantKey(p.ScheduleID, p.Name, p.Email)
		i, ok := index[k]
		if !ok {
			i, index[k] = len(out), len(out)
			p.FirstJoin = timeOf(joined)
			out = append(out, p)
		}
		u := &out[i]
		if u.FirstJoin.IsZero() || (joined.Valid && joined.Time.Before(u.FirstJoin)) {
			u.FirstJoin = timeOf(joined)
		}
		if joined.Valid {
			u.Attendance.Sessions++
			if left.Valid {
				spans[i] = append(spans[i], [2]time.Time{joined.Time, left.Time})
			} else {
				u.Attendance.InMeeting = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, ss := range spans {
		out[i].Attendance.Seconds = unionSeconds(ss)
	}
	return out, nil
}

// participantKey groups the sessions of one unmatched person.
func participantKey(scheduleID int64, name, email string) string {
	if email != "" {
		return fmt.Sprintf("%d\x00e\x00%s", scheduleID, strings.ToLower(email))
	}
	return fmt.Sprintf("%d\x00n\x00%s", scheduleID, name)
}

// MatchZoomParticipant matches an unmatched participant (any of its
// sessions' ids) to an application of the same schedule, by hand: all of
// the participant's unmatched sessions become the application's, and the
// application is checked in (source zoom) at the first join. memberID is
// who did it. An application of another schedule, or one not 申込済, is
// refused.
func (s *Store) MatchZoomParticipant(ctx context.Context, orgID, eventID, sessionID, applicationID, memberID int64) (err error) {
	defer wrap(&err, "store.MatchZoomParticipant(org %d, event %d, session %d, application %d, member %d)", orgID, eventID, sessionID, applicationID, memberID)
	err = s.Tx(ctx, func(tx *Tx) error {
		var scheduleID int64
		var name, email string
		err := tx.QueryRowContext(ctx, `SELECT z.schedule_id, z.name, z.email
			FROM zoom_attendance z JOIN schedules s ON s.id = z.schedule_id
			WHERE z.id = $1 AND z.org_id = $2 AND s.event_id = $3 AND z.application_id IS NULL`,
			sessionID, orgID, eventID).Scan(&scheduleID, &name, &email)
		if err != nil {
			return notFound(err)
		}
		a, err := applicationWhere(ctx, tx, `a.id = $1`, applicationID)
		switch {
		case errors.Is(err, sql.ErrNoRows) || errors.Is(err, event.ErrNotFound):
			return event.Errorf(event.EInvalid, "zoom.unmatched.no_application")
		case err != nil:
			return err
		case a.ScheduleID != scheduleID:
			return event.Errorf(event.EInvalid, "zoom.attendance.other_schedule")
		case a.Status != event.Applied:
			return event.Errorf(event.EConflict, "applications.checkin_not_applied")
		}
		same := `z2.name = $3`
		key := name
		if email != "" {
			same, key = `lower(z2.email) = $3`, strings.ToLower(email)
		}
		// The first join (or, without one, leave); not MIN(): SQLite gives
		// an aggregate of times back as text.
		var joined, left sql.NullTime
		err = tx.QueryRowContext(ctx, `SELECT z2.joined_at, z2.left_at FROM zoom_attendance z2
			WHERE z2.schedule_id = $1 AND z2.application_id IS NULL AND z2.org_id = $2 AND `+same+`
			ORDER BY CASE WHEN z2.joined_at IS NULL THEN 1 ELSE 0 END, z2.joined_at, z2.left_at LIMIT 1`,
			scheduleID, orgID, key).Scan(&joined, &left)
		if err != nil {
			return err
		}
		first := timeOf(joined)
		if first.IsZero() {
			first = timeOf(left)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE zoom_attendance SET application_id = $4, matched_by = 'manual'
			WHERE id IN (SELECT z2.id FROM zoom_attendance z2
				WHERE z2.schedule_id = $1 AND z2.application_id IS NULL AND z2.org_id = $2 AND `+same+`)`,
			scheduleID, orgID, key, applicationID); err != nil {
			return err
		}
		if first.IsZero() {
			return nil
		}
		_, err = s.zoomCheckIn(ctx, tx, scheduleID, applicationID, first, memberID, "Zoom")
		return err
	})
	if err != nil {
		return err
	}
	return nil
}

// CloseZoomStays ends, at endedAt, the stays of a meeting instance that
// have no leave: everyone leaves when a meeting ends. It is for after the
// report, which knows better when each one left, was read or cannot be.
func (s *Store) CloseZoomStays(ctx context.Context, instanceUUID string, endedAt time.Time) (_ int64, err error) {
	defer wrap(&err, "store.CloseZoomStays(instance %s)", instanceUUID)
	r, err := s.exec(ctx, `UPDATE zoom_attendance SET left_at = $2
		WHERE instance_uuid = $1 AND left_at IS NULL AND joined_at IS NOT NULL AND joined_at <= $2`,
		instanceUUID, endedAt.UTC())
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
