package jobs

import (
	"testing"
	"time"
)

// TestMailRetryDelay: 30 s, doubling, at most an hour; given up after the
// tenth attempt, about three hours after the first.
func TestMailRetryDelay(t *testing.T) {
	o := MailOptions{}.withDefaults()
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	var total time.Duration
	for i, w := range want {
		if got := backoff(o.RetryBase, o.RetryMax, i+1); got != w {
			t.Errorf("after attempt %d: wait %v, want %v", i+1, got, w)
		}
		total += backoff(o.RetryBase, o.RetryMax, i+1)
	}
	if o.MaxAttempts != len(want)+1 {
		t.Errorf("MaxAttempts = %d, want %d", o.MaxAttempts, len(want)+1)
	}
	if total < 2*time.Hour || total > 4*time.Hour {
		t.Errorf("a mail is retried for %v before it is given up", total)
	}
	if got := backoff(o.RetryBase, o.RetryMax, 1000); got != time.Hour {
		t.Errorf("after attempt 1000: wait %v", got)
	}
	short := MailOptions{RetryBase: 50 * time.Millisecond, RetryMax: 120 * time.Millisecond}.withDefaults()
	for i, w := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 120 * time.Millisecond} {
		if got := backoff(short.RetryBase, short.RetryMax, i+1); got != w {
			t.Errorf("short: after attempt %d: wait %v, want %v", i+1, got, w)
		}
	}
}
