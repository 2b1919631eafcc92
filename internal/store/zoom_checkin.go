package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"kaisai/internal/event"
)

// 自動受付 (DESIGN.md §3, §6): a participant's join to a managed Zoom meeting
// checks the matching application in. Which join matches which application
// is the policy's (package zoompolicy); these are its reads and the write.

// CheckInMeeting is what a join's check-in needs of kaisai's meeting.
type CheckInMeeting struct {
	MeetingRowID, ScheduleID, OrgID, ConnID, ZoomID int64
	Registration, Authentication                    bool
}

// CheckInMeetingByZoomID finds the managed meeting a join is to (ErrNotFound
// for a meeting that is not kaisai's, or no longer a schedule's).
func (s *Store) CheckInMeetingByZoomID(ctx context.Context, zoomID int64) (_ CheckInMeeting, err error) {
	defer wrap(&err, "store.CheckInMeetingByZoomID(zoom %d)", zoomID)
	var m CheckInMeeting
	err = s.reader().QueryRowContext(ctx, `SELECT m.id, m.schedule_id, m.org_id, m.conn_id, m.zoom_id, g.zoom_registration, g.zoom_authentication
		FROM zoom_meetings m JOIN schedule_groups g ON g.id = m.group_id
		WHERE m.zoom_id = $1 AND m.want = 'present' AND m.schedule_id IS NOT NULL`, zoomID).
		Scan(&m.MeetingRowID, &m.ScheduleID, &m.OrgID, &m.ConnID, &m.ZoomID, &m.Registration, &m.Authentication)
	return m, notFound(err)
}

// ApplicationByRegistrantUnscoped is the application kaisai registered on the
// meeting as registrantID (0 when none).
func (s *Store) ApplicationByRegistrantUnscoped(ctx context.Context, meetingRowID int64, registrantID string) (_ int64, err error) {
	defer wrap(&err, "store.ApplicationByRegistrantUnscoped(meeting %d)", meetingRowID)
	var id sql.NullInt64
	err = s.reader().QueryRowContext(ctx, `SELECT application_id FROM zoom_registrants
		WHERE meeting_id = $1 AND registrant_id = $2 AND registrant_id <> '' ORDER BY id DESC LIMIT 1`,
		meetingRowID, registrantID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id.Int64, err
}

// ApplicationByEmailUnscoped is the live application of the schedule with that
// e-mail, compared without case (0 when none).
func (s *Store) ApplicationByEmailUnscoped(ctx context.Context, scheduleID int64, email string) (_ int64, err error) {
	defer wrap(&err, "store.ApplicationByEmailUnscoped(schedule %d)", scheduleID)
	var id int64
	err = s.reader().QueryRowContext(ctx, `SELECT id FROM applications
		WHERE schedule_id = $1 AND lower(email) = $2 AND status <> 'cancelled'`,
		scheduleID, event.NormalizeEmail(email)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// CheckInIndex maps what identifies a participant to applications of a
// meeting's schedule, for matching many sessions at once (the report):
// registrant ids kaisai registered on the meeting, and the lower-cased
// e-mails of the schedule's live applications.
type CheckInIndex struct {
	ByRegistrant, ByEmail map[string]int64
}

// CheckInIndexOf reads the index of the meeting m.
func (s *Store) CheckInIndexOf(ctx context.Context, m CheckInMeeting) (_ CheckInIndex, err error) {
	defer wrap(&err, "store.CheckInIndexOf(meeting %d)", m.MeetingRowID)
	ix := CheckInIndex{ByRegistrant: map[string]int64{}, ByEmail: map[string]int64{}}
	read := func(q string, arg int64, into map[string]int64) error {
		rows, err := s.reader().QueryContext(ctx, q, arg)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var id int64
			if err := rows.Scan(&k, &id); err != nil {
				return err
			}
			into[k] = id
		}
		return rows.Err()
	}
	if err := read(`SELECT registrant_id, application_id FROM zoom_registrants
		WHERE meeting_id = $1 AND registrant_id <> '' AND application_id IS NOT NULL ORDER BY id`, m.MeetingRowID, ix.ByRegistrant); err != nil {
		return ix, err
	}
	if err := read(`SELECT lower(email), id FROM applications WHERE schedule_id = $1 AND status <> 'cancelled'`,
		m.ScheduleID, ix.ByEmail); err != nil {
		return ix, err
	}
	return ix, nil
}

// OpenZoomInstance is a meeting instance with stays that have no leave.
type OpenZoomInstance struct {
	Meeting      CheckInMeeting
	InstanceUUID string
}

// OpenZoomInstances are up to limit instances of managed meetings with a
// stay joined after since and not left, whose schedule ended before
// endedBefore: their meeting.ended (or some participant_left) was never
// delivered, and their report is to be read. A report read closes every
// stay, so an instance is returned until its report is read.
func (s *Store) OpenZoomInstances(ctx context.Context, endedBefore, since time.Time, limit int) (_ []OpenZoomInstance, err error) {
	defer wrap(&err, "store.OpenZoomInstances()")
	rows, err := s.reader().QueryContext(ctx, `SELECT DISTINCT z.instance_uuid, m.id, m.schedule_id, m.org_id, m.conn_id, m.zoom_id,
			g.zoom_registration, g.zoom_authentication
		FROM zoom_attendance z JOIN schedules s ON s.id = z.schedule_id
		JOIN zoom_meetings m ON m.zoom_id = z.zoom_id AND m.schedule_id = z.schedule_id AND m.want = 'present'
		JOIN schedule_groups g ON g.id = m.group_id
		WHERE z.left_at IS NULL AND z.joined_at > $1 AND s.ends_at < $2
		ORDER BY z.instance_uuid LIMIT $3`, since.UTC(), endedBefore.UTC(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OpenZoomInstance
	for rows.Next() {
		var o OpenZoomInstance
		m := &o.Meeting
		if err := rows.Scan(&o.InstanceUUID, &m.MeetingRowID, &m.ScheduleID, &m.OrgID, &m.ConnID, &m.ZoomID,
			&m.Registration, &m.Authentication); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
