package app_test

import (
	"context"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
)

// TestZoomNoMeetingForPastSchedule: an online event whose Zoom group has a
// schedule that has already begun gets no meeting for it on Zoom (no create
// is sent at all), and the organizer sees why; its schedule ahead gets its
// meeting as usual.
func TestZoomNoMeetingForPastSchedule(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startMeetingWorld(t, db)
		st := w.app.Store
		ctx := context.Background()
		conn := w.link(t, "licensed@example.com")
		ze := newZoomEvent(t, st, w.org.ID, event.ZoomSettings{ConnID: conn, Passcode: "a1b2c3", Registration: true}, 0)

		past := time.Now().Add(-26 * time.Hour).Truncate(time.Hour).UTC()
		old := event.Schedule{OrgID: w.org.ID, EventID: ze.event.ID, GroupID: ze.group.ID, StartsAt: past,
			EndsAt: past.Add(time.Hour), Capacity: 10}
		if _, err := st.CreateSchedule(ctx, &old, ""); err != nil {
			t.Fatal(err)
		}
		ahead := addSchedule(t, st, ze.group, 0)
		w.waitInStep(t)

		rows := map[int64]store.ZoomMeeting{}
		for _, m := range w.rows(t, ze.event.ID) {
			rows[m.ScheduleID] = m
		}
		if m := rows[old.ID]; m.State() != zoompolicy.MeetingNotCreated || m.ZoomID != 0 || m.ErrorKind != zoompolicy.ErrStarted {
			t.Errorf("the past schedule's meeting: state %s, zoom id %d, error %q; want not created", m.State(), m.ZoomID, m.ErrorKind)
		}
		if m := rows[ahead.ID]; m.State() != zoompolicy.MeetingCreated || m.ZoomID == 0 {
			t.Errorf("the schedule ahead: state %s, zoom id %d; want its meeting created", m.State(), m.ZoomID)
		}
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 1 {
			t.Errorf("%d meeting creates sent to Zoom, want 1 (the schedule ahead's)", n)
		}
		ms := simMeetings(w.sim)
		if len(ms) != 1 {
			t.Fatalf("Zoom has %d meetings, want 1", len(ms))
		}
		for _, m := range ms {
			if m.StartTime != zoom.ZoomTime(ahead.StartsAt) {
				t.Errorf("Zoom's meeting starts at %s, want the schedule ahead's %s", m.StartTime, zoom.ZoomTime(ahead.StartsAt))
			}
		}
	})
}
