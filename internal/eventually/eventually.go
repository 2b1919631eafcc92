// Package eventually waits, in tests, for what kaisai does in the
// background: a job that runs, a webhook that arrives, a page that changes.
// It polls a condition until it holds or a deadline passes, and fails the
// test with what it waited for. The deadline is generous because the
// machines that run the tests are small and often busy; a condition that
// holds returns at once, so the deadline costs nothing when all is well.
//
// A check that something did not happen must not wait here for nothing to
// happen: it waits for a signal that the work ran (a job's run counted, a
// queue idle) and then looks.
package eventually

import (
	"testing"
	"time"
)

// Deadline is how long True waits before it gives up.
const Deadline = 3 * time.Minute

// True waits until cond returns true, for at most Deadline; past it, the
// test fails with what.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Deadline, what, cond)
}

// Within waits until cond returns true, for at most d.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(d, cond) {
		t.Fatalf("waited %v for %s", d, what)
	}
}

// Value waits until get reports ok, for at most Deadline, and returns the
// value it gave then; past the deadline the test fails with what and the
// last value seen.
func Value[T any](t testing.TB, what string, get func() (T, bool)) T {
	t.Helper()
	var v T
	if !poll(Deadline, func() bool {
		var ok bool
		v, ok = get()
		return ok
	}) {
		t.Fatalf("waited %v for %s; last seen: %+v", Deadline, what, v)
	}
	return v
}

// poll calls cond, at growing intervals from 5 ms to 100 ms, until it
// returns true (true) or d has passed (false). cond runs once more at the
// deadline, so a slow last poll is not mistaken for a timeout.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	wait := 5 * time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
		wait = min(2*wait, 100*time.Millisecond)
	}
}
