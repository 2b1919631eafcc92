package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
)

// 自動受付 (DESIGN.md §3, §6): a participant's join to a managed Zoom meeting
// checks the matching application in. Which join matches which application
// is the policy's (package zoompolicy); these are its reads and the write.

// CheckInMeeting is what a join's check-in needs of kaisai's meeting.
type CheckInMeeting struct {
	MeetingRowID, ScheduleID     int64
	Registration, Authentication bool
}

// CheckInMeetingByZoomID finds the managed meeting a join is to (ErrNotFound
// for a meeting that is not kaisai's, or no longer a schedule's).
func (s *Store) CheckInMeetingByZoomID(ctx context.Context, zoomID int64) (CheckInMeeting, error) {
	var m CheckInMeeting
	err := s.read.QueryRowContext(ctx, `SELECT m.id, m.schedule_id, g.zoom_registration, g.zoom_authentication
		FROM zoom_meetings m JOIN schedule_groups g ON g.id = m.group_id
		WHERE m.zoom_id = $1 AND m.want = 'present' AND m.schedule_id IS NOT NULL`, zoomID).
		Scan(&m.MeetingRowID, &m.ScheduleID, &m.Registration, &m.Authentication)
	return m, notFound(err)
}

// ApplicationByRegistrant is the application kaisai registered on the
// meeting as registrantID (0 when none).
func (s *Store) ApplicationByRegistrant(ctx context.Context, meetingRowID int64, registrantID string) (int64, error) {
	var id sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT application_id FROM zoom_registrants
		WHERE meeting_id = $1 AND registrant_id = $2 AND registrant_id <> '' ORDER BY id DESC LIMIT 1`,
		meetingRowID, registrantID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id.Int64, err
}

// ApplicationByEmail is the live application of the schedule with that
// e-mail, compared without case (0 when none).
func (s *Store) ApplicationByEmail(ctx context.Context, scheduleID int64, email string) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM applications
		WHERE schedule_id = $1 AND lower(email) = $2 AND status <> 'cancelled'`,
		scheduleID, event.NormalizeEmail(email)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// ZoomCheckIn marks an application of the schedule 受付済 from Zoom at the
// join time: only a 申込済 one; the first join is kept (an earlier join
// delivered late moves a Zoom check-in earlier; a manual one stays). It
// reports whether anything changed; a replay changes nothing.
func (s *Store) ZoomCheckIn(ctx context.Context, scheduleID, applicationID int64, joinedAt time.Time) (bool, error) {
	var changed bool
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE applications SET checked_in_at = $1, checkin_source = 'zoom', updated_at = $2
			WHERE id = $3 AND schedule_id = $4 AND status = 'applied'
			  AND (checked_in_at IS NULL OR (checkin_source = 'zoom' AND checked_in_at > $1))`,
			joinedAt.UTC(), s.nowUTC(), applicationID, scheduleID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		a, err := applicationWhere(ctx, tx, `a.id = $1`, applicationID)
		if err != nil {
			return err
		}
		return s.logActivity(ctx, tx, &a, 0, ActCheckedIn, "Zoom")
	})
	if err != nil {
		return false, fmt.Errorf("store.ZoomCheckIn(%d): %w", applicationID, err)
	}
	return changed, nil
}
