package jobs

import (
	"testing"
	"time"
)

// TestNudgeAfter: a wake-up nudges once its time has come, the earliest of
// those asked for wins, and a later one asked for meanwhile adds none.
func TestNudgeAfter(t *testing.T) {
	n := NewNudger(0, DeliverMailArgs{})
	n.NudgeAfter(time.Hour)
	n.NudgeAfter(20 * time.Millisecond) // earlier: replaces the hour
	n.NudgeAfter(time.Hour)             // later: the 20 ms one stays
	select {
	case <-n.kick:
	case <-time.After(30 * time.Second):
		t.Fatal("no nudge from a wake-up 20 ms ahead")
	}
	n.wakeMu.Lock()
	pending := n.wake
	n.wakeMu.Unlock()
	if pending != nil {
		t.Errorf("a wake-up is still pending after the earliest fired: the hour-long ones were kept")
	}
	var nilNudger *Nudger
	nilNudger.NudgeAfter(time.Millisecond) // does nothing, no panic
	n.Stop()
}
