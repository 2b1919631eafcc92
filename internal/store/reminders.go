package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
)

// リマインド (DESIGN.md §9). An event's reminders are stored in
// event_reminders (none: event.DefaultReminders). WriteDueReminders, run by
// a periodic job, writes an outbox row per participant for each reminder
// due; the outbox's unique index on (application_id, reminder_key) makes a
// rerun, a restart or a second instance write nothing more, and the mail
// worker sends the rows like any other mail.

// EventReminders are an event's reminders: its own, or the default.
func (s *Store) EventReminders(ctx context.Context, orgID, eventID int64) (_ event.Reminders, err error) {
	defer wrap(&err, "store.EventReminders(org %d, event %d)", orgID, eventID)
	var offsets string
	err = s.reader().QueryRowContext(ctx, `SELECT r.offsets FROM event_reminders r JOIN events e ON e.id = r.event_id
		WHERE e.org_id = $1 AND r.event_id = $2`, orgID, eventID).Scan(&offsets)
	if errors.Is(err, sql.ErrNoRows) {
		return event.DefaultReminders, nil
	}
	if err != nil {
		return nil, err
	}
	return event.ParseReminders(offsets)
}

// SaveEventReminders stores an event's reminders (none: no reminders).
func (s *Store) SaveEventReminders(ctx context.Context, orgID, eventID int64, rs event.Reminders) (err error) {
	defer wrap(&err, "store.SaveEventReminders(org %d, event %d)", orgID, eventID)
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	now := s.nowUTC()
	return s.Tx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE org_id = $1 AND id = $2`, orgID, eventID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO event_reminders (event_id, offsets, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (event_id) DO UPDATE SET offsets = excluded.offsets, updated_at = excluded.updated_at`,
			eventID, rs.String(), now)
		return err
	})
}

// reminderKey names a reminder of a 日程 as it starts now: moved, the 日程
// gets its reminders again.
func reminderKey(scheduleID int64, r event.Reminder, startsAt time.Time) string {
	return fmt.Sprintf("%d/%s/%s", scheduleID, r, startsAt.UTC().Format(time.RFC3339))
}

// WriteDueReminders writes the outbox rows of every reminder due now (within
// grace of its moment, before its 日程 starts; event.Reminders.DueReminders)
// to every participant it is owed to (event.RemindedOf), each once. It
// reports how many it wrote. A sweep with nothing due writes nothing.
func (s *Store) WriteDueReminders(ctx context.Context, grace time.Duration) (written int, err error) {
	defer wrap(&err, "store.WriteDueReminders()")
	now := s.nowUTC()
	type candidate struct {
		schedule int64
		event    int64
		startsAt time.Time
		tz       string
		offsets  sql.NullString
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT sc.id, e.id, sc.starts_at, e.time_zone, r.offsets
		FROM schedules sc JOIN events e ON e.id = sc.event_id LEFT JOIN event_reminders r ON r.event_id = e.id
		WHERE sc.starts_at > $1 AND sc.starts_at <= $2 ORDER BY sc.starts_at`,
		now, now.Add(time.Duration(event.MaxReminderDays+1)*24*time.Hour))
	if err != nil {
		return 0, err
	}
	var cs []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.schedule, &c.event, &c.startsAt, &c.tz, &c.offsets); err != nil {
			rows.Close()
			return 0, err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range cs {
		rs := event.DefaultReminders
		if c.offsets.Valid {
			if rs, err = event.ParseReminders(c.offsets.String); err != nil {
				return written, fmt.Errorf("event %d: %w", c.event, err)
			}
		}
		loc := (&event.Event{TimeZone: c.tz}).Location()
		for _, due := range rs.DueReminders(c.startsAt, loc, now, grace) {
			n, err := s.writeReminder(ctx, c.event, c.schedule, reminderKey(c.schedule, due.Reminder, c.startsAt), due.Moment)
			written += n
			if err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// writeReminder writes the reminder key of a schedule of event eventID to
// the participants owed it at moment who have not been written it yet.
func (s *Store) writeReminder(ctx context.Context, eventID, scheduleID int64, key string, moment time.Time) (int, error) {
	e, err := s.eventByID(ctx, eventID)
	if err != nil {
		return 0, fmt.Errorf("event %d: %w", eventID, err)
	}
	// Read first, so that a sweep over a reminder already written costs no
	// write (SQLite has one writer).
	rows, err := s.reader().QueryContext(ctx, `SELECT `+applicationColumns+` FROM applications a
		WHERE a.schedule_id = $1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.application_id = a.id AND o.reminder_key = $2)
		ORDER BY a.id`, scheduleID, key)
	if err != nil {
		return 0, err
	}
	var owed []event.Application
	for rows.Next() {
		var a event.Application
		if err := scanApplication(rows, &a); err != nil {
			rows.Close()
			return 0, err
		}
		if event.RemindedOf(&e, &a, moment) {
			owed = append(owed, a)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(owed) == 0 {
		return 0, err
	}
	written := 0
	err = s.Tx(ctx, func(tx *Tx) error {
		written = 0
		for _, a := range owed {
			b := make([]byte, 16)
			rand.Read(b)
			r, err := tx.ExecContext(ctx, `INSERT INTO outbox (org_id, event_id, application_id, kind, status, message_id, vars,
				next_attempt_at, created_at, reminder_key) VALUES ($1, $2, $3, $4, 'pending', $5, '', $6, $6, $7)
				ON CONFLICT (application_id, reminder_key) DO NOTHING`,
				a.OrgID, a.EventID, a.ID, event.MailReminder, hex.EncodeToString(b)+"@kaisai", tx.now, key)
			if err != nil {
				return fmt.Errorf("enqueue reminder: %w", err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				written++
			}
		}
		if written > 0 {
			tx.queue(queuedMail)
		}
		return nil
	})
	return written, err
}
