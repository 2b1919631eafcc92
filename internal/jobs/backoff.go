package jobs

import "time"

// backoff is the wait after failed attempt number attempt (from 1) of a
// queue that retries with exponential backoff: base after the first,
// doubled for each attempt before, never more than limit. The mail, webhook
// and Zoom meeting queues (and the meetings' registrant lists, through
// zoomFailure) all wait by it, each with its own RetryBase and RetryMax.
func backoff(base, limit time.Duration, attempt int) time.Duration {
	wait := base
	for i := 1; i < attempt && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}
