package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"kaisai/internal/testdb"
)

// TestDeleteAsksAndSaysWhatIsLost: deleting a schedule, a group or an event
// passes a confirmation page that counts what goes with it; deleting takes
// the applications' pages and the public page with it.
func TestDeleteAsksAndSaysWhatIsLost(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("削除確認", "delete@example.com")
		eventID := owner.createEvent(eventSpec{Title: "消されるイベント"})
		g1 := owner.addGroup(eventID, placeGroup("大阪市北区"))
		s1 := owner.addSchedule(eventID, g1, 10)
		g2 := owner.addGroup(eventID, urlGroup("https://meet.example.com/del"))
		s2 := owner.addSchedule(eventID, g2, 10)
		public := owner.publicPath(eventID)
		p := newClient(t, a)
		t1 := p.apply(public, s1, "削除 一郎", "del1@example.com")
		t2 := p.apply(public, s2, "削除 二郎", "del2@example.com")
		t3 := p.apply(public, s2, "削除 三郎", "del3@example.com")
		wantRedirect(t, p.post("/a/"+t3+"/cancel", nil), "/a/"+t3) // cancelled ones are not counted

		r := owner.get(fmt.Sprintf("/events/%d/delete", eventID))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "消されるイベント", ja("delete.lost_groups", 2), ja("delete.lost_schedules", 2),
			ja("delete.lost_applications", 2), ja("delete.irreversible"))
		r = owner.get(fmt.Sprintf("/events/%d/groups/%d/delete", eventID, g2))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("delete.lost_schedules", 1), ja("delete.lost_applications", 1))
		wantNoText(t, r, ja("delete.lost_groups", 1))
		r = owner.get(fmt.Sprintf("/events/%d/schedules/%d/delete", eventID, s1))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("delete.what_schedule"), "13:00", ja("delete.lost_applications", 1))
		// Looking at the confirmation deletes nothing.
		wantStatus(t, p.get("/a/"+t1), http.StatusOK)

		loc := wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/schedules/%d/delete", eventID, s1), nil), fmt.Sprintf("/events/%d", eventID))
		wantText(t, owner.get(loc), ja("flash.schedule_deleted"))
		wantStatus(t, p.get("/a/"+t1), http.StatusNotFound)
		wantStatus(t, p.get("/a/"+t2), http.StatusOK)

		loc = wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/groups/%d/delete", eventID, g2), nil), fmt.Sprintf("/events/%d", eventID))
		wantText(t, owner.get(loc), ja("flash.group_deleted"))
		wantStatus(t, p.get("/a/"+t2), http.StatusNotFound)
		wantStatus(t, p.get("/a/"+t3), http.StatusNotFound)

		loc = wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/delete", eventID), nil), "/events")
		r = owner.get(loc)
		wantText(t, r, ja("flash.event_deleted"))
		wantNoText(t, r, "消されるイベント")
		wantStatus(t, owner.get(fmt.Sprintf("/events/%d", eventID)), http.StatusNotFound)
		wantStatus(t, p.get(public), http.StatusNotFound)
	})
}

// TestEditsKeepApplicationsTrue: an edit that would contradict existing
// applications (capacity below the seats taken, free↔paid) is refused with a
// message; a valid edit shows on the public page.
func TestEditsKeepApplicationsTrue(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("編集", "edit@example.com")
		eventID := owner.createEvent(eventSpec{Title: "編集されるイベント"})
		groupID := owner.addGroup(eventID, placeGroup("静岡市"))
		scheduleID := owner.addSchedule(eventID, groupID, 5)
		public := owner.publicPath(eventID)
		newClient(t, a).apply(public, scheduleID, "編集 一郎", "e1@example.com")
		newClient(t, a).apply(public, scheduleID, "編集 二郎", "e2@example.com")

		edit := fmt.Sprintf("/events/%d/schedules/%d/edit", eventID, scheduleID)
		r := owner.post(edit, scheduleForm(futureDate(60), "13:00", "15:00", "1"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.capacity_below_taken", 2))
		wantEqual(t, "seats", seatsLeft(t, owner.get(public), scheduleID), ja("public.seats_left_n", 3))

		wantRedirect(t, owner.post(edit, scheduleForm(futureDate(60), "18:30", "20:00", "2")), fmt.Sprintf("/events/%d", eventID))
		r = owner.get(public)
		wantEqual(t, "seats", seatsLeft(t, r, scheduleID), ja("public.full"))
		wantText(t, r, "18:30", "20:00")

		form := eventSpec{Title: "編集されるイベント", Paid: true, Price: 500}.form()
		r = owner.post(fmt.Sprintf("/events/%d/edit", eventID), form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.fee_locked"))
		wantText(t, owner.get(public), ja("fee.free"))

		form = eventSpec{Title: "改題したイベント"}.form()
		wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/edit", eventID), form), fmt.Sprintf("/events/%d", eventID))
		wantText(t, owner.get(public), "改題したイベント")
	})
}

// TestStartedSchedule: once a schedule has started it takes no applications
// and its applications can no longer be cancelled by the participant.
func TestStartedSchedule(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	a := startKaisai(t, testdb.SQLite(t), clk.option())
	owner := newClient(t, a)
	owner.signup("開始後", "started@example.com")
	eventID := owner.createEvent(eventSpec{Title: "始まったイベント"})
	groupID := owner.addGroup(eventID, placeGroup("熊本市"))
	scheduleID := owner.addSchedule(eventID, groupID, 5)
	public := owner.publicPath(eventID)
	p := newClient(t, a)
	token := p.apply(public, scheduleID, "開始 一郎", "started1@example.com")
	lateKey := p.applyForm(public)

	clk.Advance(61 * 24 * time.Hour) // the schedule is 60 days ahead at 13:00
	r := p.get(public)
	wantEqual(t, "seats", seatsLeft(t, r, scheduleID), ja("public.closed"))
	wantText(t, r, ja("public.no_open_schedules"))

	r = p.postApply(public, applyValues(scheduleID, "遅刻 二郎", "late@example.com", lateKey))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantText(t, r, ja("apply.closed"))

	r = p.get("/a/" + token)
	wantText(t, r, ja("application.cancel_closed"))
	if r.doc(t).Has("#cancel-application") {
		t.Error("a started application still offers to cancel")
	}
	r = p.post("/a/"+token+"/cancel", url.Values{})
	wantStatus(t, r, http.StatusConflict)
	wantText(t, r, ja("application.cancel_closed"))
	if st, _ := applicationStatus(t, p.get("/a/"+token)); st != ja("application_status.applied") {
		t.Fatalf("status after a refused cancel: %q", st)
	}
	wantRedirect(t, owner.login("started@example.com", password), "/events") // 61 days outlive the session
	if rows := owner.applications(eventID); len(rows) != 1 {
		t.Fatalf("organizer's list: %+v", rows)
	}
}
