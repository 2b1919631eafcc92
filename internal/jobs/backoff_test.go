package jobs

import (
	"testing"
	"time"
)

// TestBackoff: the wait after each failed attempt, for each queue's
// defaults and for the short figures tests use.
func TestBackoff(t *testing.T) {
	mail := MailOptions{}.withDefaults()
	hooks := WebhookOptions{}.withDefaults()
	meetings := ZoomMeetingOptions{}.withDefaults()
	ms := time.Millisecond
	for _, c := range []struct {
		name        string
		base, limit time.Duration
		attempt     int
		want        time.Duration
	}{
		{"mail, first", mail.RetryBase, mail.RetryMax, 1, 30 * time.Second},
		{"mail, second", mail.RetryBase, mail.RetryMax, 2, time.Minute},
		{"mail, seventh", mail.RetryBase, mail.RetryMax, 7, 32 * time.Minute},
		{"mail, eighth: capped", mail.RetryBase, mail.RetryMax, 8, time.Hour},
		{"mail, thousandth", mail.RetryBase, mail.RetryMax, 1000, time.Hour},
		{"webhook, first", hooks.RetryBase, hooks.RetryMax, 1, 30 * time.Second},
		{"webhook, third", hooks.RetryBase, hooks.RetryMax, 3, 2 * time.Minute},
		{"webhook, ninth", hooks.RetryBase, hooks.RetryMax, 9, time.Hour},
		{"meeting, first", meetings.RetryBase, meetings.RetryMax, 1, 30 * time.Second},
		{"meeting, fourth", meetings.RetryBase, meetings.RetryMax, 4, 4 * time.Minute},
		{"meeting, tenth", meetings.RetryBase, meetings.RetryMax, 10, time.Hour},
		{"attempt 0 counts as the first", 30 * time.Second, time.Hour, 0, 30 * time.Second},
		{"short, first", 50 * ms, 120 * ms, 1, 50 * ms},
		{"short, second", 50 * ms, 120 * ms, 2, 100 * ms},
		{"short, third: capped", 50 * ms, 120 * ms, 3, 120 * ms},
		{"base above the limit", 2 * time.Hour, time.Hour, 1, time.Hour},
		{"no base", 0, time.Hour, 5, 0},
	} {
		if got := backoff(c.base, c.limit, c.attempt); got != c.want {
			t.Errorf("%s: backoff(%v, %v, %d) = %v, want %v", c.name, c.base, c.limit, c.attempt, got, c.want)
		}
	}
}
