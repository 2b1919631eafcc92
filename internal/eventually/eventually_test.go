package eventually

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestPollReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	if !poll(Deadline, func() bool { return n.Add(1) == 3 }) {
		t.Fatal("poll gave up on a condition that held at its third call")
	}
	if got := n.Load(); got != 3 {
		t.Fatalf("cond called %d times, want 3", got)
	}
}

func TestPollGivesUpAtTheDeadline(t *testing.T) {
	var n atomic.Int32
	start := time.Now()
	if poll(30*time.Millisecond, func() bool { n.Add(1); return false }) {
		t.Fatal("poll reported a condition that never held")
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("poll gave up before its deadline")
	}
	if n.Load() < 2 {
		t.Fatalf("cond called %d times; want it polled, and once more at the deadline", n.Load())
	}
}

func TestValueReturnsTheValueThatHeld(t *testing.T) {
	var n atomic.Int32
	got := Value(t, "the third call", func() (int32, bool) { v := n.Add(1); return v, v == 3 })
	if got != 3 {
		t.Fatalf("Value = %d, want 3", got)
	}
}
