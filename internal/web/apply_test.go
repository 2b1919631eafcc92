package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kaisai/internal/htmltest"
	"kaisai/internal/testdb"
)

// onlineURLShown reports whether an application page links the online URL.
func onlineURLShown(t testing.TB, r *resp, onlineURL string) bool {
	t.Helper()
	doc := r.doc(t)
	return doc.Has(`a[href="`+onlineURL+`"]`) || strings.Contains(doc.Text(), onlineURL)
}

// TestFreeOnlineEventShowsURLAtOnce: for a free event the application page
// shows the online URL as soon as the participant has applied.
func TestFreeOnlineEventShowsURLAtOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("無料オンライン", "free@example.com")
		eventID := owner.createEvent(eventSpec{Title: "無料ウェビナー"})
		const onlineURL = "https://meet.example.com/free-webinar"
		groupID := owner.addGroup(eventID, urlGroup(onlineURL))
		scheduleID := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)

		participant := newClient(t, a)
		r := participant.get(public)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "無料ウェビナー", ja("fee.free"), ja("public.online"))
		if onlineURLShown(t, r, onlineURL) {
			t.Fatal("the public page shows the online URL to everybody")
		}
		// Times are the ones entered, in the event's time zone.
		wantText(t, r, "13:00 – 15:00", ja("public.seats_left_n", 10))
		// The seats table alone, which htmx refreshes.
		r = participant.get(public + "/seats")
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.Body, "<html") || !htmltest.Fragment(t, r.Body).Has(fmt.Sprintf(`[data-schedule-id="%d"]`, scheduleID)) {
			t.Fatalf("the seats fragment: %s", r)
		}
		key := participant.applyForm(public)
		r = participant.postApply(public, applyValues(scheduleID, "オンライン 太郎", "online@example.com", key))
		token := tokenOf(t, r)
		if flashOf(r) != "flash.applied" {
			t.Errorf("apply redirect %q: want flash.applied", r.Location())
		}
		r = participant.get(r.Location())
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("flash.applied"), "無料ウェビナー", "オンライン 太郎", "online@example.com")
		if st, _ := applicationStatus(t, r); st != ja("application_status.applied") {
			t.Fatalf("status %q, want 申込済", st)
		}
		if !onlineURLShown(t, r, onlineURL) {
			t.Fatalf("the free applicant's page does not show the online URL: %s", r)
		}
		if r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("application page Referrer-Policy %q, want no-referrer", r.Header.Get("Referrer-Policy"))
		}
		// The link is the key: anyone with it sees the page, nobody
		// without it.
		wantStatus(t, newClient(t, a).get("/a/"+token), http.StatusOK)
		wantStatus(t, newClient(t, a).get("/a/"+token[:len(token)-1]), http.StatusNotFound)
		if rows := owner.applications(eventID); len(rows) != 1 || rows[0].Email != "online@example.com" {
			t.Fatalf("organizer's list: %+v", rows)
		}
	})
}

// TestPaidEventShowsURLOncePaid: for a paid event the URL is hidden while
// 未入金 and shown once the organizer marks the application 入金済; going
// back to 未入金 hides it again.
func TestPaidEventShowsURLOncePaid(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("有料オンライン", "paid@example.com")
		eventID := owner.createEvent(eventSpec{Title: "有料講座", Paid: true, Price: 12000})
		const onlineURL = "https://meet.example.com/paid-course?pwd=secret"
		groupID := owner.addGroup(eventID, urlGroup(onlineURL))
		scheduleID := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)

		participant := newClient(t, a)
		wantText(t, participant.get(public), ja("fee.paid"), "12,000円")
		token := participant.apply(public, scheduleID, "有料 花子", "paid-applicant@example.com")
		page := "/a/" + token

		r := participant.get(page)
		st, pay := applicationStatus(t, r)
		if st != ja("application_status.applied") || pay != ja("payment.unpaid") {
			t.Fatalf("new paid application: %s / %s, want 申込済 / 未入金", st, pay)
		}
		if onlineURLShown(t, r, "meet.example.com/paid-course") {
			t.Fatalf("the online URL is shown while 未入金: %s", r)
		}
		wantText(t, r, ja("application.url_after_payment"))

		rows := owner.applications(eventID)
		if len(rows) != 1 || rows[0].ID == 0 {
			t.Fatalf("organizer's list: %+v", rows)
		}
		payment := fmt.Sprintf("/events/%d/applications/%d/payment", eventID, rows[0].ID)

		// Only 入金済 and 未入金 are payment states.
		r = owner.post(payment, url.Values{"payment": {"free-pass"}})
		wantStatus(t, r, http.StatusBadRequest)
		r = participant.get(page)
		if _, pay := applicationStatus(t, r); pay != ja("payment.unpaid") {
			t.Fatalf("an unknown payment value changed the payment to %q", pay)
		}

		r = owner.post(payment, url.Values{"payment": {"paid"}})
		wantRedirect(t, r, fmt.Sprintf("/events/%d/applications", eventID))
		r = participant.get(page)
		if st, pay := applicationStatus(t, r); st != ja("application_status.applied") || pay != ja("payment.paid") {
			t.Fatalf("after 入金済: %s / %s", st, pay)
		}
		if !onlineURLShown(t, r, onlineURL) {
			t.Fatalf("the online URL is not shown once 入金済: %s", r)
		}
		wantText(t, owner.get(fmt.Sprintf("/events/%d/applications", eventID)), ja("payment.paid"), ja("applications.mark_unpaid"))

		wantRedirect(t, owner.post(payment, url.Values{"payment": {"unpaid"}}), fmt.Sprintf("/events/%d/applications", eventID))
		r = participant.get(page)
		if _, pay := applicationStatus(t, r); pay != ja("payment.unpaid") || onlineURLShown(t, r, "meet.example.com/paid-course") {
			t.Fatalf("back to 未入金 still shows the URL or says %q: %s", pay, r)
		}

		// A cancelled application keeps its payment state.
		wantRedirect(t, participant.post(page+"/cancel", nil), page)
		r = owner.post(payment, url.Values{"payment": {"paid"}})
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("applications.cancelled_payment"))
		if _, pay := applicationStatus(t, participant.get(page)); pay != ja("payment.unpaid") {
			t.Fatalf("a cancelled application's payment changed to %q", pay)
		}

		// A free event has no payment to set.
		freeID := owner.createEvent(eventSpec{Title: "無料の回"})
		freeGroup := owner.addGroup(freeID, urlGroup("https://meet.example.com/free"))
		freeSchedule := owner.addSchedule(freeID, freeGroup, 3)
		newClient(t, a).apply(owner.publicPath(freeID), freeSchedule, "無料 次郎", "free-jiro@example.com")
		freeRows := owner.applications(freeID)
		if len(freeRows) != 1 {
			t.Fatalf("free event applications: %+v", freeRows)
		}
		r = owner.post(fmt.Sprintf("/events/%d/applications/%d/payment", freeID, freeRows[0].ID), url.Values{"payment": {"paid"}})
		wantStatus(t, r, http.StatusBadRequest)
		wantText(t, r, ja("applications.not_paid_event"))
	})
}

// TestCancelFreesTheSeat: a participant cancelling from the application page
// gives the seat back; cancelling twice changes nothing more.
func TestCancelFreesTheSeat(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("キャンセル", "cancel@example.com")
		eventID := owner.createEvent(eventSpec{Title: "一席だけの会"})
		groupID := owner.addGroup(eventID, placeGroup("仙台市"))
		scheduleID := owner.addSchedule(eventID, groupID, 1)
		public := owner.publicPath(eventID)

		participant := newClient(t, a)
		wantEqual(t, "seats before", seatsLeft(t, participant.get(public), scheduleID), ja("public.seats_left_n", 1))
		token := participant.apply(public, scheduleID, "取消 一郎", "ichiro@example.com")
		r := participant.get(public)
		wantEqual(t, "seats when taken", seatsLeft(t, r, scheduleID), ja("public.full"))
		wantText(t, r, ja("public.no_open_schedules"))

		r = participant.post("/a/"+token+"/cancel", nil)
		loc := wantRedirect(t, r, "/a/"+token)
		r = participant.get(loc)
		wantText(t, r, ja("flash.cancelled"))
		if st, _ := applicationStatus(t, r); st != ja("application_status.cancelled") {
			t.Fatalf("status after cancel %q", st)
		}
		if r.doc(t).Has("#cancel-application") {
			t.Error("a cancelled application still offers to cancel")
		}
		wantEqual(t, "seats after cancel", seatsLeft(t, participant.get(public), scheduleID), ja("public.seats_left_n", 1))

		// Cancelling again is harmless and frees no second seat.
		wantRedirect(t, participant.post("/a/"+token+"/cancel", nil), "/a/"+token)
		wantEqual(t, "seats after second cancel", seatsLeft(t, participant.get(public), scheduleID), ja("public.seats_left_n", 1))

		// The freed seat can be taken again, by the same address too.
		again := newClient(t, a).apply(public, scheduleID, "取消 一郎", "ichiro@example.com")
		if again == token {
			t.Fatal("re-applying returned the cancelled application")
		}
		wantEqual(t, "seats after re-apply", seatsLeft(t, participant.get(public), scheduleID), ja("public.full"))
		rows := owner.applications(eventID)
		if len(rows) != 2 || rows[0].Status != ja("application_status.cancelled") || rows[1].Status != ja("application_status.applied") {
			t.Fatalf("organizer's list: %+v", rows)
		}

		// The organizer cancels too, and the seat comes back.
		r = owner.post(fmt.Sprintf("/events/%d/applications/%d/cancel", eventID, rows[1].ID), nil)
		wantRedirect(t, r, fmt.Sprintf("/events/%d/applications", eventID))
		wantEqual(t, "seats after organizer cancel", seatsLeft(t, participant.get(public), scheduleID), ja("public.seats_left_n", 1))
		r = owner.post(fmt.Sprintf("/events/%d/applications/%d/cancel", eventID, rows[1].ID), nil)
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("application.already_cancelled"))
	})
}

// TestFullSchedule: with キャンセル待ち enabled the second applicant for one
// seat is waitlisted; without it they are told the schedule is full and
// nothing is created.
func TestFullSchedule(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("満席", "full@example.com")

		t.Run("waitlist", func(t *testing.T) {
			eventID := owner.createEvent(eventSpec{Title: "キャンセル待ちあり", Waitlist: true})
			groupID := owner.addGroup(eventID, urlGroup("https://meet.example.com/waitlist"))
			scheduleID := owner.addSchedule(eventID, groupID, 1)
			public := owner.publicPath(eventID)

			first := newClient(t, a).apply(public, scheduleID, "先着 一号", "first@example.com")
			second := newClient(t, a)
			r := second.get(public)
			wantEqual(t, "seats", seatsLeft(t, r, scheduleID), ja("public.full_waitlist"))
			key := second.applyForm(public) // the form is still offered
			r = second.postApply(public, applyValues(scheduleID, "待機 二号", "second@example.com", key))
			token := tokenOf(t, r)
			if flashOf(r) != "flash.waitlisted" {
				t.Errorf("waitlisted redirect %q: want flash.waitlisted", r.Location())
			}
			r = second.get("/a/" + token)
			if st, _ := applicationStatus(t, r); st != ja("application_status.waitlisted") {
				t.Fatalf("second applicant: status %q, want キャンセル待ち", st)
			}
			wantText(t, r, ja("application.waitlisted_note"), ja("application.url_not_available"))
			if onlineURLShown(t, r, "meet.example.com/waitlist") {
				t.Fatal("a waitlisted applicant sees the online URL")
			}
			r = second.get("/a/" + first)
			if st, _ := applicationStatus(t, r); st != ja("application_status.applied") {
				t.Fatalf("first applicant: status %q, want 申込済", st)
			}
			rows := owner.applications(eventID)
			if len(rows) != 2 || rows[1].Status != ja("application_status.waitlisted") {
				t.Fatalf("organizer's list: %+v", rows)
			}
		})

		t.Run("no waitlist", func(t *testing.T) {
			eventID := owner.createEvent(eventSpec{Title: "キャンセル待ちなし"})
			groupID := owner.addGroup(eventID, placeGroup("広島市"))
			scheduleID := owner.addSchedule(eventID, groupID, 1)
			public := owner.publicPath(eventID)

			// Both open the form while a seat is left; the first takes it.
			first, second := newClient(t, a), newClient(t, a)
			firstKey, secondKey := first.applyForm(public), second.applyForm(public)
			tokenOf(t, first.postApply(public, applyValues(scheduleID, "先着 一号", "first@example.com", firstKey)))
			r := second.postApply(public, applyValues(scheduleID, "遅れて 二号", "second@example.com", secondKey))
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantText(t, r, ja("apply.full"))
			rows := owner.applications(eventID)
			if len(rows) != 1 || rows[0].Email != "first@example.com" {
				t.Fatalf("organizer's list: %+v", rows)
			}
			// The public page says 満席 and offers no form.
			r = second.get(public)
			wantEqual(t, "seats", seatsLeft(t, r, scheduleID), ja("public.full"))
			wantText(t, r, ja("public.no_open_schedules"))
		})

		t.Run("same address twice", func(t *testing.T) {
			eventID := owner.createEvent(eventSpec{Title: "重複申込"})
			groupID := owner.addGroup(eventID, placeGroup("那覇市"))
			scheduleID := owner.addSchedule(eventID, groupID, 5)
			public := owner.publicPath(eventID)
			c := newClient(t, a)
			c.apply(public, scheduleID, "重複 太郎", "dup@example.com")
			key := c.applyForm(public) // a new form: not a double submit
			r := c.postApply(public, applyValues(scheduleID, "重複 太郎", "DUP@example.com", key))
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantText(t, r, ja("apply.already_applied"))
			if rows := owner.applications(eventID); len(rows) != 1 {
				t.Fatalf("organizer's list: %+v", rows)
			}
			wantEqual(t, "seats", seatsLeft(t, c.get(public), scheduleID), ja("public.seats_left_n", 4))
		})
	})
}

// TestDoubleSubmit: the same form (same submit_key) sent again, one after
// the other or at the same moment, is one application and every answer
// leads to its page.
func TestDoubleSubmit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("二重送信", "double@example.com")
		eventID := owner.createEvent(eventSpec{Title: "二重送信テスト"})
		groupID := owner.addGroup(eventID, placeGroup("金沢市"))
		scheduleID := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)

		// One after the other (a second tab, a reload).
		c := newClient(t, a)
		key := c.applyForm(public)
		form := applyValues(scheduleID, "二重 一郎", "seq@example.com", key)
		r1 := c.postApply(public, form)
		r2 := c.postApply(public, form)
		t1, t2 := tokenOf(t, r1), tokenOf(t, r2)
		if t1 != t2 {
			t.Fatalf("sequential double submit: two applications %s and %s", t1, t2)
		}
		if flashOf(r2) != "flash.already_submitted" {
			t.Errorf("second submit redirect %q: want flash.already_submitted", r2.Location())
		}
		wantText(t, c.get(r2.Location()), ja("flash.already_submitted"))
		if rows := owner.applications(eventID); len(rows) != 1 {
			t.Fatalf("after a sequential double submit the organizer sees %d applications: %+v", len(rows), rows)
		}

		// At the same moment, from five connections.
		key = c.applyForm(public)
		form = applyValues(scheduleID, "同時 二郎", "concurrent@example.com", key)
		const n = 5
		answers := make([]*resp, n)
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = newClient(t, a)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				res, err := clients[i].hc.Do(clients[i].request(http.MethodPost, public+"/apply", strings.NewReader(form.Encode())))
				if err != nil {
					t.Errorf("concurrent submit %d: %v", i, err)
					return
				}
				res.Body.Close()
				answers[i] = &resp{Method: "POST", Path: public + "/apply", Status: res.StatusCode, Header: res.Header}
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		token := tokenOf(t, answers[0])
		for i, r := range answers {
			if got := tokenOf(t, r); got != token {
				t.Errorf("concurrent submit %d led to %s, submit 0 to %s", i, got, token)
			}
		}
		rows := owner.applications(eventID)
		if len(rows) != 2 {
			t.Fatalf("after a concurrent submit the organizer sees %d applications, want 2: %+v", len(rows), rows)
		}
		wantEqual(t, "seats", seatsLeft(t, c.get(public), scheduleID), ja("public.seats_left_n", 8))
	})
}

func wantEqual(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

// formKeyOf fetches an organizer's create form and returns its form_key.
func formKeyOf(t testing.TB, c *client, path string) string {
	t.Helper()
	r := c.get(path)
	wantStatus(t, r, http.StatusOK)
	key := r.doc(t).First(`input[name="form_key"]`).Attr("value")
	if key == "" {
		t.Fatalf("the form at %s has no form_key: %s", path, r)
	}
	return key
}

// TestDoubleSubmitOrganizerForms: an organizer's create form (event, group,
// schedule) sent twice, or five times at once, creates one thing.
func TestDoubleSubmitOrganizerForms(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("二重作成", "double-create@example.com")

		form := eventSpec{Title: "一度だけのイベント"}.form()
		form.Set("form_key", formKeyOf(t, owner, "/events/new"))
		first := owner.post("/events/new", form)
		second := owner.post("/events/new", form)
		if first.Status != http.StatusSeeOther || second.Status != http.StatusSeeOther ||
			first.LocationPath() != second.LocationPath() || !eventPathRE.MatchString(first.LocationPath()) {
			t.Fatalf("event form sent twice:\n%s\n%s", first, second)
		}
		if flashOf(second) != "flash.already_created" {
			t.Errorf("second submit redirect %q: want flash.already_created", second.Location())
		}
		eventID, _ := strconv.ParseInt(eventPathRE.FindStringSubmatch(first.LocationPath())[1], 10, 64)
		if n := strings.Count(owner.get("/events").Text(), "一度だけのイベント"); n != 1 {
			t.Fatalf("the event list shows the event %d times", n)
		}

		group := placeGroup("一度だけの会場")
		group.Set("form_key", formKeyOf(t, owner, fmt.Sprintf("/events/%d/groups/new", eventID)))
		g1 := owner.post(fmt.Sprintf("/events/%d/groups/new", eventID), group)
		g2 := owner.post(fmt.Sprintf("/events/%d/groups/new", eventID), group)
		if g1.Status != http.StatusSeeOther || g1.LocationPath() != g2.LocationPath() {
			t.Fatalf("group form sent twice:\n%s\n%s", g1, g2)
		}
		groupID, _ := strconv.ParseInt(groupPathRE.FindStringSubmatch(g1.LocationPath())[2], 10, 64)
		if n := strings.Count(owner.get(fmt.Sprintf("/events/%d", eventID)).Body, `class="card group"`); n != 1 {
			t.Fatalf("the event has %d groups", n)
		}

		// The schedule form, from five connections at once.
		newPath := fmt.Sprintf("/events/%d/groups/%d/schedules/new", eventID, groupID)
		sched := scheduleForm(futureDate(40), "10:00", "12:00", "20")
		sched.Set("form_key", formKeyOf(t, owner, newPath))
		var wg sync.WaitGroup
		statuses := make([]int, 5)
		for i := range statuses {
			wg.Go(func() {
				res, err := owner.hc.Do(owner.request(http.MethodPost, newPath, strings.NewReader(sched.Encode())))
				if err != nil {
					t.Errorf("schedule submit %d: %v", i, err)
					return
				}
				res.Body.Close()
				statuses[i] = res.StatusCode
			})
		}
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusSeeOther {
				t.Errorf("schedule submit %d answered %d", i, s)
			}
		}
		if ids := owner.scheduleIDs(eventID); len(ids) != 1 {
			t.Fatalf("five submits of one schedule form made %d schedules", len(ids))
		}
	})
}
