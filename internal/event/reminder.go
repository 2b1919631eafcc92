package event

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MailReminder is リマインド: sent before a 日程 starts, at each of its
// event's Reminders, to every participant eligible then (DESIGN.md §9).
const MailReminder MailKind = "reminder"

// Reminder is one moment before a 日程 at which its participants are
// reminded: "N日前の HH:MM" in the event's time zone (Days > 0, At minutes
// after midnight), or Minutes before the start ("N時間前", "N分前").
type Reminder struct {
	Days    int
	At      int // minutes after midnight, with Days
	Minutes int // without Days
}

// Bounds of an event's reminders.
const (
	MaxReminders       = 5
	MaxReminderDays    = 30
	MaxReminderMinutes = 7 * 24 * 60
)

// DefaultReminders are an event's reminders until its organizer changes
// them: the day before at 18:00, and one hour before.
var DefaultReminders = Reminders{{Days: 1, At: 18 * 60}, {Minutes: 60}}

// Reminders are an event's reminders, in the order they were given.
type Reminders []Reminder

// String is r's stored form: "1d18:00" or "60m".
func (r Reminder) String() string {
	if r.Days > 0 {
		return fmt.Sprintf("%dd%02d:%02d", r.Days, r.At/60, r.At%60)
	}
	return fmt.Sprintf("%dm", r.Minutes)
}

// String is rs's stored form, comma-separated ("" for none).
func (rs Reminders) String() string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// ErrReminder refuses a reminder kaisai cannot keep.
var ErrReminder = Errorf(EInvalid, "validation.reminder")

// ParseReminders reads the stored form of Reminders.
func ParseReminders(s string) (Reminders, error) {
	var rs Reminders
	for _, tok := range strings.Split(s, ",") {
		if tok = strings.TrimSpace(tok); tok == "" {
			continue
		}
		var r Reminder
		if d, hm, ok := strings.Cut(tok, "d"); ok {
			h, m, ok := strings.Cut(hm, ":")
			days, e1 := strconv.Atoi(d)
			hh, e2 := strconv.Atoi(h)
			mm, e3 := strconv.Atoi(m)
			if !ok || e1 != nil || e2 != nil || e3 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
				return nil, fmt.Errorf("reminder %q: %w", tok, ErrReminder)
			}
			r = Reminder{Days: days, At: hh*60 + mm}
		} else {
			n, err := strconv.Atoi(strings.TrimSuffix(tok, "m"))
			if err != nil || !strings.HasSuffix(tok, "m") {
				return nil, fmt.Errorf("reminder %q: %w", tok, ErrReminder)
			}
			r = Reminder{Minutes: n}
		}
		if err := r.Validate(); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// Validate refuses a reminder out of bounds: 1 to 30 days before, or 1
// minute to 7 days before.
func (r Reminder) Validate() error {
	switch {
	case r.Days > 0 && r.Days <= MaxReminderDays && r.At >= 0 && r.At < 24*60 && r.Minutes == 0:
		return nil
	case r.Days == 0 && r.Minutes > 0 && r.Minutes <= MaxReminderMinutes:
		return nil
	}
	return fmt.Errorf("reminder %+v: %w", r, ErrReminder)
}

// Moment is when r is sent for a 日程 starting at start, in time zone loc.
func (r Reminder) Moment(start time.Time, loc *time.Location) time.Time {
	if r.Days == 0 {
		return start.Add(-time.Duration(r.Minutes) * time.Minute)
	}
	s := start.In(loc)
	d := time.Date(s.Year(), s.Month(), s.Day()-r.Days, 0, 0, 0, 0, loc)
	return time.Date(d.Year(), d.Month(), d.Day(), r.At/60, r.At%60, 0, 0, loc)
}

// Lead is how long before the start r can be at most (for the search of
// 日程 that may have a reminder due).
func (r Reminder) Lead() time.Duration {
	if r.Days == 0 {
		return time.Duration(r.Minutes) * time.Minute
	}
	return time.Duration(r.Days+1) * 24 * time.Hour
}

// DueReminder is a reminder due now for a 日程.
type DueReminder struct {
	Reminder Reminder
	Moment   time.Time
}

// ReminderGrace is how long after its moment a reminder is still sent (a
// sweep late, a server restarting); later, and never once the 日程 has
// started, it is not sent at all.
const ReminderGrace = 15 * time.Minute

// DueReminders are those of rs due at now for a 日程 starting at start in
// time zone loc: their moment has come, at most grace ago, and the 日程 has
// not started. A 日程 moved into the past, or a server down past a
// reminder's moment by more than grace, sends nothing.
func (rs Reminders) DueReminders(start time.Time, loc *time.Location, now time.Time, grace time.Duration) []DueReminder {
	var due []DueReminder
	if !now.Before(start) {
		return nil
	}
	for _, r := range rs {
		m := r.Moment(start, loc)
		if !now.Before(m) && now.Sub(m) <= grace && m.Before(start) {
			due = append(due, DueReminder{Reminder: r, Moment: m})
		}
	}
	return due
}

// RemindedOf reports whether the participant of a is sent a reminder of
// event e at moment: only when eligible (free: 申込済; paid: 申込済 and
// 入金済; never キャンセル待ち or キャンセル) and applied by then (a later
// application was just told everything by its 申込完了).
func RemindedOf(e *Event, a *Application, moment time.Time) bool {
	return a.Eligible(e) && !a.CreatedAt.After(moment)
}
