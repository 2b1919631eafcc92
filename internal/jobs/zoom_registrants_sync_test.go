package jobs

import (
	"context"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// registrantOnZoom is the simulator's registrant of email on the meeting.
func (w *zoomWorld) registrantOnZoom(t *testing.T, zoomID int64, email string) (zoomsim.RegistrantSnapshot, bool) {
	t.Helper()
	z, ok := w.simMeeting(zoomID)
	if !ok {
		t.Fatalf("meeting %d is not on Zoom", zoomID)
	}
	for _, r := range z.Registrants {
		if r.Email == email {
			return r, true
		}
	}
	return zoomsim.RegistrantSnapshot{}, false
}

// registrantRow is kaisai's live registrant row of email, if any.
func (w *zoomWorld) registrantRow(t *testing.T, meetingRowID int64, email string) (store.RegistrantRow, bool) {
	t.Helper()
	rows, err := w.st.MeetingRegistrantsUnscoped(context.Background(), meetingRowID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Email == email {
			return r, true
		}
	}
	return store.RegistrantRow{}, false
}

// TestZoomRegistrantSync drives SyncZoomRegistrantsWorker against the
// simulator (DESIGN.md §3): who is on a meeting's registrant list follows
// the applications.
func TestZoomRegistrantSync(t *testing.T) {
	ctx := context.Background()
	rule(t, "an application (申込) is added, a cancellation (キャンセル) cancelled", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		a := w.apply(t, ze.event, ze.schedule, 1)
		w.syncRegistrants(t)
		z, ok := w.registrantOnZoom(t, m.ZoomID, "p1@example.com")
		if !ok || z.Status != "approved" || z.JoinURL == "" {
			t.Fatalf("after 申込 the participant is not an approved registrant on Zoom: %+v (%v)", z, ok)
		}
		r, ok := w.registrantRow(t, m.ID, "p1@example.com")
		if !ok || r.Status != zoompolicy.RegistrantRegistered || r.RegistrantID != z.ID || r.JoinURL != z.JoinURL {
			t.Errorf("kaisai's registrant %+v does not record Zoom's %+v", r, z)
		}

		if _, err := w.st.CancelApplication(ctx, w.org.ID, ze.event.ID, a.ID, w.owner.ID); err != nil {
			t.Fatal(err)
		}
		w.syncRegistrants(t)
		// Zoom lists a cancelled registrant as denied: the join URL no longer lets them in.
		if z, _ := w.registrantOnZoom(t, m.ZoomID, "p1@example.com"); z.Status != "denied" {
			t.Errorf("after キャンセル the registrant on Zoom is %q, want cancelled (denied)", z.Status)
		}
		if r, ok := w.registrantRow(t, m.ID, "p1@example.com"); ok {
			t.Errorf("a cancelled application keeps a live registrant: %+v", r)
		}
		if idle, err := w.st.RegistrantListsIdle(ctx); err != nil || !idle {
			t.Errorf("the list is still due after the sync: %v, %v", idle, err)
		}
	})

	rule(t, "a paid event's participant is added once paid (入金済)", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeePaid, groupZoom)
		m := w.created(t, ze)
		a := w.apply(t, ze.event, ze.schedule, 1)
		w.syncRegistrants(t)
		if z, ok := w.registrantOnZoom(t, m.ZoomID, "p1@example.com"); ok {
			t.Fatalf("未入金, yet a registrant on Zoom: %+v", z)
		}
		if err := w.st.SetPayment(ctx, w.org.ID, ze.event.ID, a.ID, w.owner.ID, event.PaymentPaid); err != nil {
			t.Fatal(err)
		}
		w.syncRegistrants(t)
		if z, ok := w.registrantOnZoom(t, m.ZoomID, "p1@example.com"); !ok || z.Status != "approved" {
			t.Errorf("入金済, yet not an approved registrant on Zoom: %+v (%v)", z, ok)
		}
		if r, ok := w.registrantRow(t, m.ID, "p1@example.com"); !ok || r.Status != zoompolicy.RegistrantRegistered {
			t.Errorf("kaisai's registrant after 入金済: %+v (%v)", r, ok)
		}
	})

	rule(t, "an add failing with a 5xx is sent again in the same run", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultStatus, Status: 502,
			Op: "POST /v2/meetings/{meetingId}/batch_registrants", Count: 1})
		w.apply(t, ze.event, ze.schedule, 1)
		w.syncRegistrants(t)
		if z, ok := w.registrantOnZoom(t, m.ZoomID, "p1@example.com"); !ok || z.Status != "approved" {
			t.Errorf("after a 502 and the quick retry: %+v (%v), want approved", z, ok)
		}
		if n := w.calls.count("POST /v2/meetings/{id}/batch_registrants"); n != 2 {
			t.Errorf("%d adds, want 2 (the failed one and its retry)", n)
		}
		if idle, err := w.st.RegistrantListsIdle(ctx); err != nil || !idle {
			t.Errorf("the list is still due: %v, %v", idle, err)
		}
	})

	rule(t, "a registrant dropped on Zoom is added again by the periodic check", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		w.apply(t, ze.event, ze.schedule, 1)
		w.syncRegistrants(t)
		z, _ := w.registrantOnZoom(t, m.ZoomID, "p1@example.com")
		err := w.zoom.Do(ctx, w.org.ID, w.conn, func(cl *zoom.Client) error {
			return cl.UpdateRegistrantStatus(ctx, m.ZoomID, zoom.RegistrantCancel, []zoom.RegistrantRef{{ID: z.ID, Email: z.Email}})
		})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Add(time.Hour + time.Second)
		check := &CheckRegistrantsWorker{Store: w.st, Every: time.Hour, Now: w.clock.Now}
		if err := check.Work(ctx, job(CheckRegistrantsArgs{})); err != nil {
			t.Fatal(err)
		}
		w.syncRegistrants(t)
		if z, ok := w.registrantOnZoom(t, m.ZoomID, "p1@example.com"); !ok || z.Status != "approved" {
			t.Errorf("after the check: %+v (%v), want approved again", z, ok)
		}
		if r, ok := w.registrantRow(t, m.ID, "p1@example.com"); !ok || r.Status != zoompolicy.RegistrantRegistered {
			t.Errorf("kaisai's registrant after the repair: %+v (%v)", r, ok)
		}
	})

	rule(t, "a meeting found deleted on Zoom is marked so", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		w.deleteOnZoom(t, m.ZoomID)
		w.apply(t, ze.event, ze.schedule, 1)
		w.syncRegistrants(t)
		if got := w.meeting(t, ze.schedule); got.ZoomState != zoompolicy.DeletedOnZoom {
			t.Errorf("the registrant sync found the meeting gone, yet the row is %+v", got)
		}
		if r, ok := w.registrantRow(t, m.ID, "p1@example.com"); ok && r.Status == zoompolicy.RegistrantRegistered {
			t.Errorf("registered on a meeting that is gone: %+v", r)
		}
	})
}
