package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"kaisai/internal/event"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

var groupZoom = event.ZoomSettings{Passcode: "abc123", WaitingRoom: true, Registration: true, HostVideo: true,
	MuteUponEntry: true, Agenda: "第1部: 入門"}

// TestZoomMeetingSync drives SyncZoomMeetingsWorker against the simulator
// (DESIGN.md §4): what each kind of change to kaisai's data makes it do on
// Zoom, and what it records.
func TestZoomMeetingSync(t *testing.T) {
	ctx := context.Background()
	rule(t, "a Zoom group's schedule gets a meeting with the group's settings", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		w.syncMeetings(t) // within the coalescing delay: nothing yet
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 0 {
			t.Fatalf("created within the coalescing delay (%d creates)", n)
		}
		m := w.created(t, ze)
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 1 {
			t.Errorf("%d creates, want 1", n)
		}
		z, ok := w.simMeeting(m.ZoomID)
		if !ok {
			t.Fatalf("meeting %d is not on Zoom", m.ZoomID)
		}
		if z.Topic != ze.event.Title || z.StartTime != zoom.ZoomTime(ze.schedule.StartsAt) || z.Duration != 90 ||
			z.Timezone != "Asia/Tokyo" || z.Password != "abc123" || z.Agenda != groupZoom.Agenda ||
			!z.Settings.WaitingRoom || !z.Settings.HostVideo || z.Settings.ParticipantVideo ||
			!z.Settings.MuteUponEntry || z.Settings.ApprovalType != 1 {
			t.Errorf("Zoom's meeting %+v lacks the group's settings %+v", z, groupZoom)
		}
		if m.JoinURL != z.JoinURL || m.Passcode != z.Password || m.State() != zoompolicy.MeetingCreated {
			t.Errorf("kaisai's row %+v does not show Zoom's meeting (%s, %s)", m, z.JoinURL, z.Password)
		}
	})

	rule(t, "edits make one PATCH after coalescing", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		ze.event.Title = "Zoomで学ぶGo 2"
		if err := w.st.UpdateEvent(ctx, &ze.event); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(coalesce / 2)
		ze.group.Zoom.Agenda = "第2部: 応用"
		if err := w.st.UpdateGroup(ctx, &ze.group); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(coalesce / 2)
		w.syncMeetings(t) // the second edit's delay has not run out
		if n := w.calls.count("PATCH /v2/meetings/{id}"); n != 0 {
			t.Fatalf("%d PATCHes before the last edit's coalescing delay ran out", n)
		}
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		w.syncMeetings(t) // in step: nothing more to send
		if n := w.calls.count("PATCH /v2/meetings/{id}"); n != 1 {
			t.Errorf("%d PATCHes for two quick edits, want 1", n)
		}
		z, _ := w.simMeeting(m.ZoomID)
		if z.Topic != "Zoomで学ぶGo 2" || z.Agenda != "第2部: 応用" {
			t.Errorf("Zoom has %q / %q after the edits", z.Topic, z.Agenda)
		}
		if got := w.meeting(t, ze.schedule); got.State() != zoompolicy.MeetingCreated {
			t.Errorf("after the PATCH the row is %s: %+v", got.State(), got)
		}
	})

	rule(t, "a meeting no longer wanted is deleted on Zoom", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		if err := w.st.DeleteSchedule(ctx, w.org.ID, ze.event.ID, ze.schedule.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		if n := w.calls.count("DELETE /v2/meetings/{id}"); n != 1 {
			t.Errorf("%d DELETEs, want 1", n)
		}
		if _, ok := w.simMeeting(m.ZoomID); ok {
			t.Errorf("meeting %d is still on Zoom", m.ZoomID)
		}
		if rows, err := w.st.EventZoomMeetings(ctx, w.org.ID, ze.event.ID); err != nil || len(rows) != 0 {
			t.Errorf("rows left after the delete: %+v, %v", rows, err)
		}
	})

	rule(t, "a meeting to delete already gone on Zoom counts as deleted", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		w.deleteOnZoom(t, m.ZoomID)
		if err := w.st.DeleteSchedule(ctx, w.org.ID, ze.event.ID, ze.schedule.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		rows, err := w.st.EventZoomMeetings(ctx, w.org.ID, ze.event.ID)
		if err != nil || len(rows) != 0 {
			t.Errorf("a meeting gone on Zoom is still being deleted: %+v, %v", rows, err)
		}
	})

	rule(t, "a 5xx is retried after a backoff", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultStatus, Status: 503, Op: "meetingCreate", Count: 1})
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		m := w.meeting(t, ze.schedule)
		if m.ZoomID != 0 || m.ErrorKind != ZoomErrTransient || m.Attempts != 1 {
			t.Fatalf("after a 503: %+v, want a transient error, attempt 1", m)
		}
		// Not before the backoff (RetryBase, 30 s) has passed.
		if !m.DueAt.Equal(w.clock.Now().Add(30 * time.Second)) {
			t.Errorf("retried at %s, want 30 s after %s", m.DueAt, w.clock.Now())
		}
		w.syncMeetings(t)
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 1 {
			t.Errorf("%d creates before the backoff ran out, want 1", n)
		}
		w.clock.Add(30 * time.Second)
		w.syncMeetings(t)
		m = w.meeting(t, ze.schedule)
		if _, ok := w.simMeeting(m.ZoomID); m.ZoomID == 0 || !ok || m.ErrorKind != "" {
			t.Errorf("after the backoff the create was not retried: %+v", m)
		}
	})

	rule(t, "a 4xx is recorded with Zoom's message", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		z := groupZoom
		z.Passcode = "abcdef" // the host's policy wants a number too
		ze := w.newZoomEvent(t, event.FeeFree, z)
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		m := w.meeting(t, ze.schedule)
		if m.ZoomID != 0 || m.ErrorKind != ZoomErrPasscode || m.ErrorCode == 0 ||
			!strings.Contains(strings.ToLower(m.ErrorMessage), "passcode") || !m.DueAt.IsZero() {
			t.Errorf("after Zoom refused the passcode: %+v", m)
		}
		w.clock.Add(time.Hour)
		w.syncMeetings(t)
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 1 {
			t.Errorf("a refused create was sent %d times, want 1 (it waits for the organizer)", n)
		}
	})

	rule(t, "a meeting deleted on Zoom is marked so when an edit finds it gone", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		w.deleteOnZoom(t, m.ZoomID)
		ze.event.Title = "題を変えた"
		if err := w.st.UpdateEvent(ctx, &ze.event); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		m = w.meeting(t, ze.schedule)
		if m.ZoomState != zoompolicy.DeletedOnZoom || m.State() != zoompolicy.MeetingDeleted || m.ErrorKind != "" {
			t.Errorf("after the PATCH found the meeting gone: %+v (%s)", m, m.State())
		}
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 1 {
			t.Errorf("%d creates: a meeting deleted on Zoom is made again only on 再作成", n)
		}
	})

	rule(t, "a create whose answer was lost is found on Zoom, not made twice", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		// Zoom makes the meeting, and the connection drops before its answer.
		w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultLostAnswer, Op: "meetingCreate", Count: 1, Delay: time.Millisecond})
		w.clock.Add(coalesce)
		w.syncMeetings(t)
		if m := w.meeting(t, ze.schedule); m.ZoomID != 0 || m.ErrorKind != ZoomErrTransient {
			t.Fatalf("after a lost answer: %+v, want a transient error", m)
		}
		made := w.sim.State().Meetings
		if len(made) != 1 {
			t.Fatalf("the lost create made %d meetings on Zoom, want 1", len(made))
		}
		w.clock.Add(30 * time.Second)
		w.syncMeetings(t)
		m := w.meeting(t, ze.schedule)
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 1 || m.ZoomID != made[0].ID || m.ErrorKind != "" {
			t.Errorf("after the retry: %d creates, row %+v; want the lost create's meeting %d adopted", n, m, made[0].ID)
		}
		if n := len(w.sim.State().Meetings); n != 1 {
			t.Errorf("%d meetings on Zoom, want 1", n)
		}
	})

	rule(t, "when kaisai stops, a run is snoozed and sends nothing", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		w.newZoomEvent(t, event.FeeFree, groupZoom)
		w.clock.Add(coalesce)
		stopping := make(chan struct{})
		close(stopping)
		wk := w.meetingWorker()
		wk.Stopping = stopping
		err := wk.Work(ctx, job(SyncZoomMeetingsArgs{}))
		var snooze *rivertype.JobSnoozeError
		if !errors.As(err, &snooze) || snooze.Duration != 0 {
			t.Errorf("a run while kaisai stops returned %v, want a snooze to go on at the next start", err)
		}
		if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 0 {
			t.Errorf("%d creates while kaisai stops", n)
		}
		if ok, err := w.st.ZoomMeetingsDue(ctx); err != nil || !ok {
			t.Errorf("the meeting is no longer due: %v, %v", ok, err)
		}
	})

	rule(t, "with Zoom off nothing is synced", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		w.clock.Add(coalesce)
		wk := w.meetingWorker()
		wk.Zoom = nil
		if err := wk.Work(ctx, job(SyncZoomMeetingsArgs{})); err != nil {
			t.Fatal(err)
		}
		if len(w.sim.State().Meetings) != 0 {
			t.Error("a meeting was made with Zoom off")
		}
		// The meeting waits, untried, for Zoom to be configured.
		if m := w.meeting(t, ze.schedule); m.Attempts != 0 || m.ErrorKind != "" || m.State() != zoompolicy.MeetingCreating {
			t.Errorf("with Zoom off the meeting is %+v", m)
		}
	})
}
