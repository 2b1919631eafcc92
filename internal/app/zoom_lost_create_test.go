package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// A create whose answer was lost leaves a meeting on Zoom that kaisai does
// not know yet. Whatever fails after it — the lookup that looks for that
// meeting answering 5xx or 429, the event deleted meanwhile — the next
// attempt must look for it again: no orphan, no second meeting.

// slowRetries keeps a failed row waiting (a minute) so that a test decides
// when it is tried again (再試行), and the order of faults is certain.
func slowRetries(c *app.Config) {
	c.ZoomMeetings.RetryBase, c.ZoomMeetings.RetryMax = time.Minute, time.Minute
}

// lostCreate makes a one-schedule Zoom event whose create Zoom carries out
// but whose answer is lost, and waits until kaisai has recorded the failure.
func lostCreate(t *testing.T, w *meetingWorld) (zoomEvent, store.ZoomMeeting) {
	t.Helper()
	w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultLostAnswer, Op: "meetingCreate", Rate: 1, Count: 1,
		Delay: 20 * time.Millisecond})
	z := licensedZoom
	z.ConnID = w.link(t, "licensed@example.com")
	ze := newZoomEvent(t, w.app.Store, w.org.ID, z, 1)
	var row store.ZoomMeeting
	until(t, "the lost create to be recorded", func() bool {
		row = w.rows(t, ze.event.ID)[0]
		return row.Attempts == 1 && len(w.sim.State().Meetings) == 1
	})
	if row.ZoomID != 0 {
		t.Fatalf("kaisai knows meeting %d although the create's answer was lost", row.ZoomID)
	}
	return ze, row
}

// TestZoomLostCreateThenLookupFailsThenDeleted: a create's answer is lost,
// the event is deleted, and the lookup for the lost meeting answers 503.
// The meeting must still be found and deleted.
func TestZoomLostCreateThenLookupFailsThenDeleted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db, slowRetries)
		st := w.app.Store
		ze, row := lostCreate(t, w)

		w.sim.SetFaults(2, zoomsim.Fault{Kind: zoomsim.FaultStatus, Op: "meetings", Rate: 1, Count: 1,
			Status: http.StatusServiceUnavailable})
		if err := st.DeleteEvent(ctx, w.org.ID, ze.event.ID); err != nil {
			t.Fatal(err)
		}
		until(t, "the failed lookup to be recorded", func() bool {
			m, err := st.ZoomMeeting(ctx, w.org.ID, row.ID)
			return err != nil || m.Attempts == 2
		})
		if err := st.RetryZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
			t.Fatalf("再試行 of the meeting being deleted: %v", err)
		}
		waitMeetingsInStep(t, st, 30*time.Second)
		if n := len(w.sim.State().Meetings); n != 0 {
			t.Errorf("Zoom keeps %d meeting(s) of a deleted event: the lost create was forgotten", n)
		}
		if _, err := st.ZoomMeeting(ctx, w.org.ID, row.ID); err == nil {
			t.Errorf("the row of the deleted meeting is still there")
		}
	})
}

// TestZoomLostCreateThenLookupRateLimited: a create's answer is lost and
// the lookups for it answer 429 four times. Zoom must end with one meeting,
// the one kaisai names.
func TestZoomLostCreateThenLookupRateLimited(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db, slowRetries)
		st := w.app.Store
		ze, row := lostCreate(t, w)

		w.sim.SetFaults(3, zoomsim.Fault{Kind: zoomsim.FaultStatus, Op: "meetings", Rate: 1, Count: 4,
			Status: http.StatusTooManyRequests})
		for attempt := 2; attempt <= 5; attempt++ {
			if err := st.RetryZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
				t.Fatal(err)
			}
			until(t, "the rate-limited lookup to be recorded", func() bool {
				m := w.rows(t, ze.event.ID)[0]
				return m.Attempts == attempt || m.ZoomID != 0
			})
		}
		if err := st.RetryZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
			t.Fatal(err)
		}
		waitMeetingsInStep(t, st, 30*time.Second)
		zm := w.sim.State().Meetings
		if len(zm) != 1 {
			t.Fatalf("Zoom has %d meetings for one schedule, want 1", len(zm))
		}
		if got := w.rows(t, ze.event.ID)[0]; got.ZoomID != zm[0].ID || got.State() != zoompolicy.MeetingCreated {
			t.Errorf("kaisai's row names meeting %d (%s), Zoom has %d", got.ZoomID, got.State(), zm[0].ID)
		}
	})
}
