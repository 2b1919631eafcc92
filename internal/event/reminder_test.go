package event

import (
	"errors"
	"testing"
	"time"
)

func TestParseReminders(t *testing.T) {
	rs, err := ParseReminders("1d18:00, 60m,3d09:30")
	if err != nil || rs.String() != "1d18:00,60m,3d09:30" {
		t.Fatalf("%v %v", rs, err)
	}
	if rs, err := ParseReminders(""); err != nil || len(rs) != 0 {
		t.Errorf("empty: %v %v", rs, err)
	}
	for _, bad := range []string{"0d18:00", "31d18:00", "1d24:00", "1d18", "0m", "10081m", "60", "xm", "1h"} {
		if _, err := ParseReminders(bad); !errors.Is(err, ErrReminder) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDueReminders(t *testing.T) {
	jst, _ := time.LoadLocation("Asia/Tokyo")
	start := time.Date(2026, 12, 10, 10, 0, 0, 0, jst) // 10:00 JST
	dayBefore := time.Date(2026, 12, 9, 18, 0, 0, 0, jst)
	hourBefore := start.Add(-time.Hour)
	grace := 15 * time.Minute
	for _, c := range []struct {
		name string
		now  time.Time
		want []time.Time
	}{
		{"before the first", dayBefore.Add(-time.Second), nil},
		{"the day before at 18:00 JST", dayBefore, []time.Time{dayBefore}},
		{"within the grace", dayBefore.Add(grace), []time.Time{dayBefore}},
		{"past the grace", dayBefore.Add(grace + time.Second), nil},
		{"an hour before", hourBefore.Add(time.Minute), []time.Time{hourBefore}},
		{"started", start, nil},
		{"long started", start.Add(time.Hour), nil},
	} {
		got := DefaultReminders.DueReminders(start, jst, c.now, grace)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if !got[i].Moment.Equal(c.want[i]) {
				t.Errorf("%s: %v, want %v", c.name, got[i].Moment, c.want[i])
			}
		}
	}
	// Due within the grace but the 日程 starts first: nothing once it has.
	short := Reminders{{Minutes: 5}}
	if got := short.DueReminders(start, jst, start.Add(-time.Minute), grace); len(got) != 1 {
		t.Errorf("5 minutes before: %v", got)
	}
}

func TestRemindedOf(t *testing.T) {
	moment := time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC)
	free := &Event{Fee: FeeFree}
	paid := &Event{Fee: FeePaid, PriceJPY: 1000}
	before := moment.Add(-time.Hour)
	for _, c := range []struct {
		name string
		e    *Event
		a    Application
		want bool
	}{
		{"applied", free, Application{Status: Applied, CreatedAt: before}, true},
		{"waitlisted", free, Application{Status: Waitlisted, CreatedAt: before}, false},
		{"cancelled", free, Application{Status: Cancelled, CreatedAt: before}, false},
		{"unpaid", paid, Application{Status: Applied, Payment: PaymentUnpaid, CreatedAt: before}, false},
		{"paid", paid, Application{Status: Applied, Payment: PaymentPaid, CreatedAt: before}, true},
		{"applied after the moment", free, Application{Status: Applied, CreatedAt: moment.Add(time.Second)}, false},
	} {
		if got := RemindedOf(c.e, &c.a, moment); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}
