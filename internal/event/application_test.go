package event

import (
	"testing"
	"time"
)

func TestSameSubmission(t *testing.T) {
	first := Application{ScheduleID: 7, Name: "山田 花子", Email: "Hanako@example.com"}
	tests := []struct {
		name string
		in   ApplicationInput
		want bool
	}{
		{"the same form again", ApplicationInput{ScheduleID: 7, Name: "山田 花子", Email: "Hanako@example.com"}, true},
		{"e-mail in other case", ApplicationInput{ScheduleID: 7, Name: "山田 花子", Email: "hanako@EXAMPLE.com"}, true},
		{"name corrected", ApplicationInput{ScheduleID: 7, Name: "山田 華子", Email: "Hanako@example.com"}, true},
		{"another person", ApplicationInput{ScheduleID: 7, Name: "佐藤 次郎", Email: "jiro@example.com"}, false},
		{"another e-mail", ApplicationInput{ScheduleID: 7, Name: "山田 花子", Email: "hanako@example.net"}, false},
		{"another date", ApplicationInput{ScheduleID: 8, Name: "山田 花子", Email: "Hanako@example.com"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := first.SameSubmission(tt.in); got != tt.want {
				t.Errorf("SameSubmission(%+v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLinkRequestRetryAt(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	tests := []struct {
		name    string
		earlier []time.Time
		limit   int
		want    time.Time
	}{
		{"none", nil, 3, time.Time{}},
		{"under the limit", []time.Time{ago(5), ago(10)}, 3, time.Time{}},
		{"old ones do not count", []time.Time{ago(61), ago(90), ago(5), ago(10)}, 3, time.Time{}},
		{"at the limit", []time.Time{ago(5), ago(50), ago(20)}, 3, ago(50).Add(time.Hour)},
		{"over the limit", []time.Time{ago(1), ago(5), ago(50), ago(20)}, 3, ago(20).Add(time.Hour)},
		{"limit one", []time.Time{ago(30)}, 1, ago(30).Add(time.Hour)},
	}
	for _, tt := range tests {
		if got := LinkRequestRetryAt(tt.earlier, tt.limit, now); !got.Equal(tt.want) {
			t.Errorf("%s: retry at %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMayCancel(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		startsAt time.Time
		status   ApplicationStatus
		want     error
	}{
		{"a day ahead", now.Add(24 * time.Hour), Applied, nil},
		{"a second ahead", now.Add(time.Second), Applied, nil},
		{"waitlisted, ahead", now.Add(time.Hour), Waitlisted, nil},
		{"at the start", now, Applied, ErrCancelClosed},
		{"after the start", now.Add(-time.Minute), Applied, ErrCancelClosed},
		{"waitlisted, after the start", now.Add(-time.Minute), Waitlisted, ErrCancelClosed},
		// Already cancelled is the store's to answer (ErrAlreadyCanceled),
		// after the start closes every cancel.
		{"cancelled, ahead", now.Add(time.Hour), Cancelled, nil},
		{"cancelled, after the start", now.Add(-time.Hour), Cancelled, ErrCancelClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Application{Status: tt.status}
			if got := a.MayCancel(&Schedule{StartsAt: tt.startsAt}, now); got != tt.want {
				t.Errorf("MayCancel(starts %v) = %v, want %v", tt.startsAt, got, tt.want)
			}
		})
	}
}
