package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// pastDate is a day before today in Tokyo.
func pastDate(days int) string {
	return time.Now().In(tokyo).AddDate(0, 0, -days).Format("2006-01-02")
}

// TestScheduleDatesMakeSense: a date outside 2000-01-01 … five years ahead
// is refused with the range; a start in the past comes back asking for
// 「過去の日時のまま保存する」, with what was typed, and is saved once ticked;
// a past schedule whose start stays saves without asking.
func TestScheduleDatesMakeSense(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("日付確認", "dates@example.com")
		eventID := owner.createEvent(eventSpec{Title: "日付のイベント"})
		groupID := owner.addGroup(eventID, placeGroup("東京都千代田区"))
		path := fmt.Sprintf("/events/%d/groups/%d/schedules/new", eventID, groupID)
		last := time.Now().In(tokyo).AddDate(5, 0, 0).Format("2006-01-02")
		rangeMsg := ja("validation.date_range", "2000-01-01", last)

		for _, day := range []string{"0001-01-01", "9999-12-31", "1999-12-31", time.Now().In(tokyo).AddDate(5, 0, 2).Format("2006-01-02")} {
			for _, confirm := range []string{"", "1"} {
				form := scheduleForm(day, "10:00", "11:00", "10")
				form.Set("confirm_past", confirm)
				r := owner.post(path, form)
				if r.Status != http.StatusUnprocessableEntity || !r.Has(rangeMsg) {
					t.Errorf("%s (confirm %q): want 422 with %q, got %s", day, confirm, rangeMsg, r)
				}
			}
		}
		if ids := owner.scheduleIDs(eventID); len(ids) != 0 {
			t.Fatalf("schedules out of range were saved: %v", ids)
		}

		// In the past: asked, with everything kept, and nothing saved.
		yesterday := pastDate(1)
		r := owner.post(path, scheduleForm(yesterday, "10:00", "11:30", "25"))
		if r.Status != http.StatusUnprocessableEntity || !r.Has(ja("schedules.past_confirm")) || !r.Has(ja("schedules.confirm_past")) {
			t.Fatalf("a past start: want 422 asking for confirmation, got %s", r)
		}
		for name, want := range map[string]string{"date": yesterday, "start_time": "10:00", "end_time": "11:30", "capacity": "25"} {
			if got := inputValue(t, r, name); got != want {
				t.Errorf("the form asking for confirmation lost %s: %q, want %q", name, got, want)
			}
		}
		in := r.doc(t).First(`input[name="confirm_past"][value="1"]`)
		if _, checked := in.LookupAttr("checked"); !in.Valid() || checked {
			t.Errorf("the confirmation checkbox is missing or ticked already: %s", r)
		}
		wantNoText(t, r, ja("schedules.past_no_zoom")) // not a Zoom group
		if ids := owner.scheduleIDs(eventID); len(ids) != 0 {
			t.Fatalf("a past schedule was saved without confirmation: %v", ids)
		}
		// Ticked, but another field wrong: still ticked on the form.
		form := scheduleForm(yesterday, "10:00", "11:30", "0")
		form.Set("confirm_past", "1")
		r = owner.post(path, form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if !r.doc(t).Has(`input[name="confirm_past"][value="1"][checked]`) {
			t.Errorf("the ticked confirmation was lost: %s", r)
		}
		form.Set("capacity", "25")
		wantRedirect(t, owner.post(path, form), fmt.Sprintf("/events/%d", eventID))
		ids := owner.scheduleIDs(eventID)
		if len(ids) != 1 {
			t.Fatalf("want the confirmed past schedule saved, have %v", ids)
		}
		var past int64
		for id := range ids {
			past = id
		}

		// Its capacity edited, the start unchanged: saved without asking.
		edit := fmt.Sprintf("/events/%d/schedules/%d/edit", eventID, past)
		wantRedirect(t, owner.post(edit, scheduleForm(yesterday, "10:00", "11:30", "30")), fmt.Sprintf("/events/%d", eventID))
		// Moved to another past time: asked again; ahead: saved.
		r = owner.post(edit, scheduleForm(pastDate(2), "10:00", "11:30", "30"))
		if r.Status != http.StatusUnprocessableEntity || !r.Has(ja("schedules.past_confirm")) {
			t.Errorf("moving a schedule into the past: want 422 asking for confirmation, got %s", r)
		}
		wantRedirect(t, owner.post(edit, scheduleForm(futureDate(10), "10:00", "11:30", "30")), fmt.Sprintf("/events/%d", eventID))
		r = owner.post(edit, scheduleForm("9999-12-31", "10:00", "11:30", "30"))
		if r.Status != http.StatusUnprocessableEntity || !r.Has(rangeMsg) {
			t.Errorf("editing to 9999-12-31: want 422 with %q, got %s", rangeMsg, r)
		}

		// The English catalog says the same.
		owner.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		r = owner.post(path, scheduleForm(yesterday, "10:00", "11:30", "25"))
		if r.Status != http.StatusUnprocessableEntity || !r.Has(en("schedules.past_confirm")) || !r.Has("Save with a date in the past") {
			t.Errorf("in English: want 422 asking for confirmation, got %s", r)
		}
	})
}

// TestZoomMeetingNotForStartedSchedule: a Zoom group's schedule that has
// begun gets no meeting, and Zoom is never sent a start in the past; its
// meeting is not re-created once it has begun; moved ahead, it gets one.
func TestZoomMeetingNotForStartedSchedule(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c := o.c
		ctx := context.Background()
		ev, groupID, m := o.zoomEvent(t, "licensed@example.com", "a1b2c3d4")
		page := fmt.Sprintf("/events/%d", ev)
		onZoom := func(zoomID int64) zoomsim.MeetingSnapshot {
			for _, zm := range o.w.sim.State().Meetings {
				if zm.ID == zoomID {
					return zm
				}
			}
			t.Fatalf("Zoom simulator: no meeting %d", zoomID)
			return zoomsim.MeetingSnapshot{}
		}
		zoomStart := func(zoomID int64) string { return onZoom(zoomID).StartTime }
		before := zoomStart(m.ZoomID)

		// Moved into the past (confirmed), with a new length: Zoom gets
		// the length, and keeps its start.
		form := scheduleForm(pastDate(1), "10:00", "12:30", "10")
		form.Set("confirm_past", "1")
		wantRedirect(t, c.post(fmt.Sprintf("/events/%d/schedules/%d/edit", ev, m.ScheduleID), form), page)
		o.waitMeeting(t, m.ID, "updated", func(x store.ZoomMeeting) bool {
			return created(x) && onZoom(m.ZoomID).Duration == 150
		})
		if got := zoomStart(m.ZoomID); got != before {
			t.Errorf("Zoom's start moved from %s to %s: a past start was sent", before, got)
		}

		// Deleted on Zoom: 再作成 is not offered, and refused if posted.
		if ok, err := o.st.ZoomMeetingDeletedOnZoom(ctx, store.Lease{}, m.ID, m.ZoomID); !ok || err != nil {
			t.Fatalf("mark deleted: %v %v", ok, err)
		}
		r := o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_state.deleted"), ja("zoom.recreate_started"))
		if strings.Contains(r.Body, fmt.Sprintf("/zoom-meetings/%d/recreate", m.ID)) {
			t.Errorf("再作成 is offered for a schedule that has begun: %s", r)
		}
		r = c.post(fmt.Sprintf("/events/%d/zoom-meetings/%d/recreate", ev, m.ID), url.Values{})
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("zoom.recreate_started"))
		if got, _ := o.st.ZoomMeeting(ctx, o.orgID, m.ID); got.ZoomState != zoompolicy.DeletedOnZoom || got.ZoomID != m.ZoomID {
			t.Errorf("a refused 再作成 changed the meeting: %+v", got)
		}

		// A new schedule in the past: the form says no meeting will be
		// made, and none is.
		meetingsBefore := len(o.w.sim.State().Meetings)
		path := fmt.Sprintf("/events/%d/groups/%d/schedules/new", ev, groupID)
		r = c.post(path, scheduleForm(pastDate(3), "10:00", "11:00", "10"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("schedules.past_confirm"), ja("schedules.past_no_zoom"))
		form = scheduleForm(pastDate(3), "10:00", "11:00", "10")
		form.Set("confirm_past", "1")
		wantRedirect(t, c.post(path, form), page)
		var row store.ZoomMeeting
		for _, x := range o.meetings(t, ev) {
			if x.ID != m.ID {
				row = x
			}
		}
		if row.ID == 0 {
			t.Fatal("no meeting row for the new schedule")
		}
		row = o.waitMeeting(t, row.ID, "not created", func(x store.ZoomMeeting) bool { return x.State() == zoompolicy.MeetingNotCreated })
		if n := len(o.w.sim.State().Meetings); n != meetingsBefore || row.ZoomID != 0 {
			t.Fatalf("a meeting was made for a past schedule: %d meetings on Zoom (were %d), row %+v", n, meetingsBefore, row)
		}
		r = o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_state.not_created"), ja("zoom.meeting_error.started"))
		if strings.Contains(r.Body, fmt.Sprintf("/zoom-meetings/%d/retry", row.ID)) {
			t.Errorf("再試行 is offered for a meeting that will not be made: %s", r)
		}

		// Moved ahead, it gets its meeting.
		wantRedirect(t, c.post(fmt.Sprintf("/events/%d/schedules/%d/edit", ev, row.ScheduleID),
			scheduleForm(futureDate(20), "10:00", "11:00", "10")), page)
		row = o.waitMeeting(t, row.ID, "created", created)
		if row.ZoomID == 0 || len(o.w.sim.State().Meetings) != meetingsBefore+1 {
			t.Fatalf("moved ahead, the schedule got no meeting: %+v", row)
		}
		if got, want := zoomStart(row.ZoomID), zoom.ZoomTime(time.Now()); got <= want {
			t.Errorf("the meeting starts at %s, not ahead of %s", got, want)
		}
	})
}
