package store

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"kaisai/internal/event"
)

// The dashboard's figures (issue 19, part 5). The queries return rows, not
// aggregates over time: SQLite gives MIN/MAX of a timestamp back as text,
// and the days are the event's, so grouping by day happens in Go.

// EventActivity is what happened to an event's applications, for its
// charts: when each live application came (申込) and when each live 入金済
// application became so (入金), oldest first; and per 日程 who came.
type EventActivity struct {
	Applied    []time.Time
	Paid       []time.Time
	Attendance map[int64]ScheduleAttendance // by schedule id
}

// ScheduleAttendance is who of a 日程's 申込済 applications came: 受付済
// (checked in, by hand or by Zoom) and, of those who were in its Zoom
// meeting, the minutes each stayed.
type ScheduleAttendance struct {
	Applied   int
	CheckedIn int
	Minutes   []int64 // one per application seen in the meeting, ascending
}

// EventActivity reads an event's activity. Only live applications count:
// a cancelled one is in neither the days nor the attendance.
func (s *Store) EventActivity(ctx context.Context, orgID, eventID int64) (_ EventActivity, err error) {
	defer wrap(&err, "store.EventActivity(org %d, event %d)", orgID, eventID)
	out := EventActivity{Attendance: map[int64]ScheduleAttendance{}}
	rows, err := s.reader().QueryContext(ctx, `SELECT a.id, a.schedule_id, a.status, a.checked_in_at, a.created_at
		FROM applications a WHERE a.org_id = $1 AND a.event_id = $2 AND a.status <> 'cancelled'
		ORDER BY a.created_at, a.id`, orgID, eventID)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	scheduleOf := map[int64]int64{} // 申込済 application → its schedule
	for rows.Next() {
		var id, scheduleID int64
		var status event.ApplicationStatus
		var checkedIn sql.NullTime
		var created time.Time
		if err := rows.Scan(&id, &scheduleID, &status, &checkedIn, &created); err != nil {
			return out, err
		}
		out.Applied = append(out.Applied, created)
		if status != event.Applied {
			continue
		}
		scheduleOf[id] = scheduleID
		sa := out.Attendance[scheduleID]
		sa.Applied++
		if checkedIn.Valid {
			sa.CheckedIn++
		}
		out.Attendance[scheduleID] = sa
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()

	// 入金: the last time each live 入金済 application was marked paid (by
	// Stripe or by hand; marked unpaid and paid again counts once, then).
	rows, err = s.reader().QueryContext(ctx, `SELECT l.created_at FROM activity_log l
		JOIN applications a ON a.id = l.application_id
		WHERE a.org_id = $1 AND a.event_id = $2 AND a.status <> 'cancelled' AND a.payment = 'paid'
		  AND l.action = 'paid' AND NOT EXISTS (SELECT 1 FROM activity_log l2
		    WHERE l2.application_id = l.application_id AND l2.action = 'paid' AND l2.id > l.id)
		ORDER BY l.created_at, l.id`, orgID, eventID)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			return out, err
		}
		out.Paid = append(out.Paid, at)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}

	att, err := s.Attendances(ctx, orgID, eventID, nil)
	if err != nil {
		return out, err
	}
	for id, a := range att {
		scheduleID, ok := scheduleOf[id]
		if !ok || a.Sessions == 0 {
			continue
		}
		sa := out.Attendance[scheduleID]
		sa.Minutes = append(sa.Minutes, a.Minutes())
		out.Attendance[scheduleID] = sa
	}
	for id, sa := range out.Attendance {
		slices.Sort(sa.Minutes)
		out.Attendance[id] = sa
	}
	return out, nil
}

// EventOverview is a row of the organization's home: the event, its 日程
// in time order, and how many 申込済 applications are 未入金.
type EventOverview struct {
	EventSummary
	Schedules []event.Schedule
	Unpaid    int
}

// Next is the start of the first 日程 not yet ended at now; zero when all
// have ended or there are none.
func (o *EventOverview) Next(now time.Time) time.Time {
	for _, sc := range o.Schedules {
		if sc.EndsAt.After(now) {
			return sc.StartsAt
		}
	}
	return time.Time{}
}

// Fill is the seats taken (申込済) and the capacity (定員) of all 日程.
func (o *EventOverview) Fill() (taken, capacity int) {
	for _, sc := range o.Schedules {
		taken += sc.SeatsTaken
		capacity += sc.Capacity
	}
	return taken, capacity
}

// EventOverviews lists an organization's events with their 日程 and 未入金
// counts, newest first (the caller orders them by date).
func (s *Store) EventOverviews(ctx context.Context, orgID int64) (_ []EventOverview, err error) {
	defer wrap(&err, "store.EventOverviews(org %d)", orgID)
	es, err := s.Events(ctx, orgID)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	out := make([]EventOverview, len(es))
	byID := make(map[int64]*EventOverview, len(es))
	for i, e := range es {
		out[i].EventSummary = e
		byID[e.ID] = &out[i]
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT s.id, s.event_id, s.group_id, s.starts_at, s.ends_at, s.capacity, s.seats_taken
		FROM schedules s WHERE s.org_id = $1 ORDER BY s.starts_at, s.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		sc := event.Schedule{OrgID: orgID}
		if err := rows.Scan(&sc.ID, &sc.EventID, &sc.GroupID, &sc.StartsAt, &sc.EndsAt, &sc.Capacity, &sc.SeatsTaken); err != nil {
			return nil, err
		}
		if o := byID[sc.EventID]; o != nil {
			o.Schedules = append(o.Schedules, sc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// 未入金 as the event page counts it (PaymentTotals.Unpaid).
	rows, err = s.reader().QueryContext(ctx, `SELECT a.event_id, COUNT(*) FROM applications a
		WHERE a.org_id = $1 AND a.status = 'applied' AND a.payment = 'unpaid' GROUP BY a.event_id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		if o := byID[id]; o != nil {
			o.Unpaid = n
		}
	}
	return out, rows.Err()
}

// DayCount is one day of an event's time zone with its 申込 and 入金.
type DayCount struct {
	Day     time.Time // midnight, in the event's zone
	Applied int
	Paid    int
}

// PerDay counts the applications and payments per day of loc, every day
// from the first to the last that has either, and on to through's day
// when that is later (today, while the application period lasts). None
// when there is no application or payment.
func (a EventActivity) PerDay(loc *time.Location, through time.Time) []DayCount {
	if len(a.Applied) == 0 && len(a.Paid) == 0 {
		return nil
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	var first, last time.Time
	for _, ts := range [][]time.Time{a.Applied, a.Paid} {
		for _, t := range ts {
			d := day(t)
			if first.IsZero() || d.Before(first) {
				first = d
			}
			if d.After(last) {
				last = d
			}
		}
	}
	if !through.IsZero() && day(through).After(last) {
		last = day(through)
	}
	var out []DayCount
	index := map[string]int{} // by date: time.Time is a poor map key
	// AddDate, not 24 h: a day of a zone with summer time may be 23 or 25 h.
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		index[d.Format(time.DateOnly)] = len(out)
		out = append(out, DayCount{Day: d})
	}
	for _, t := range a.Applied {
		out[index[day(t).Format(time.DateOnly)]].Applied++
	}
	for _, t := range a.Paid {
		out[index[day(t).Format(time.DateOnly)]].Paid++
	}
	return out
}
