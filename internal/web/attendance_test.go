package web_test

// Attendance in Zoom meetings on 申込者一覧: 参加時間 per row and on the
// applicant's page, the CSV column, the live poll's out-of-band cells, and
// the participants no application matched, with 照合 by hand.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	nethtml "golang.org/x/net/html"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/htmltest"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// attendanceEvent is a published event with a Zoom group of two schedules
// and applications on them; the meetings are kaisai's rows, and sessions are
// recorded straight in the store, as the webhook jobs would.
type attendanceEvent struct {
	a                *app.App
	owner            *client
	orgID, eventID   int64
	sc1, sc2         int64
	m1, m2           store.CheckInMeeting
	ids              map[string]int64 // application ids by e-mail
	t0               time.Time        // the meetings' start
	list, publicPath string
}

func newAttendanceEvent(t *testing.T, db testdb.DB, emails1, emails2 []string) *attendanceEvent {
	t.Helper()
	ctx := context.Background()
	a := startKaisai(t, db)
	f := &attendanceEvent{a: a, owner: newClient(t, a), ids: map[string]int64{}}
	f.owner.signup("参加時間社", "owner@attend.example")
	f.eventID = f.owner.createEvent(eventSpec{Title: "Zoom参加時間セミナー"})
	f.list = fmt.Sprintf("/events/%d/applications", f.eventID)
	m, _, err := a.Store.MemberForLogin(ctx, "owner@attend.example")
	if err != nil {
		t.Fatal(err)
	}
	f.orgID = m.OrgID
	connID, err := a.Store.LinkZoomConnection(ctx, f.orgID,
		store.ZoomUser{ID: "zoom-user-attend", Email: "host@attend.example", DisplayName: "ホスト", Type: 2},
		store.ZoomTokens{AccessToken: "access", RefreshToken: "refresh", Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	g := &event.ScheduleGroup{OrgID: f.orgID, EventID: f.eventID, Venue: event.VenueZoom,
		Zoom: &event.ZoomSettings{ConnID: connID, Passcode: "a1b2c3"}}
	if _, err := a.Store.CreateGroup(ctx, g, ""); err != nil {
		t.Fatal(err)
	}
	f.t0 = time.Now().Add(30 * 24 * time.Hour).Truncate(time.Minute)
	for i, into := range []*int64{&f.sc1, &f.sc2} {
		start := f.t0.Add(time.Duration(i) * 24 * time.Hour)
		sc := &event.Schedule{OrgID: f.orgID, EventID: f.eventID, GroupID: g.ID, StartsAt: start,
			EndsAt: start.Add(2 * time.Hour), Capacity: 1000}
		if _, err := a.Store.CreateSchedule(ctx, sc, ""); err != nil {
			t.Fatal(err)
		}
		*into = sc.ID
	}
	for i, sc := range []int64{f.sc1, f.sc2} {
		zm, err := a.Store.ScheduleZoomMeeting(ctx, f.orgID, sc)
		if err != nil {
			t.Fatal(err)
		}
		cm := store.CheckInMeeting{OrgID: f.orgID, ScheduleID: sc, ZoomID: 85000000001 + int64(i), MeetingRowID: zm.ID}
		if i == 0 {
			f.m1 = cm
		} else {
			f.m2 = cm
		}
	}
	f.publicPath = f.owner.publicPath(f.eventID)
	for sc, emails := range map[int64][]string{f.sc1: emails1, f.sc2: emails2} {
		for _, e := range emails {
			newClient(t, a).apply(f.publicPath, sc, "参加者 "+strings.Split(e, "@")[0], e)
		}
	}
	for _, row := range f.owner.applications(f.eventID) {
		f.ids[row.Email] = row.ID
	}
	return f
}

// join records sessions of one participant of m: pairs of join and leave
// offsets from t0 (a leave of -1: still in the meeting).
func (f *attendanceEvent) join(t *testing.T, m store.CheckInMeeting, participant, name, email string, appID int64, spans ...[2]time.Duration) {
	t.Helper()
	var ss []store.ZoomSession
	for i, sp := range spans {
		z := store.ZoomSession{InstanceUUID: fmt.Sprintf("inst-%d", m.ScheduleID), ParticipantID: fmt.Sprintf("%s-%d", participant, i),
			Name: name, Email: email, JoinedAt: f.t0.Add(sp[0]), ApplicationID: appID}
		if appID != 0 {
			z.MatchedBy = zoompolicy.MatchedByEmail
		}
		if sp[1] >= 0 {
			z.LeftAt = f.t0.Add(sp[1])
		}
		ss = append(ss, z)
	}
	if _, err := f.a.Store.RecordZoomSessions(context.Background(), m, ss); err != nil {
		t.Fatal(err)
	}
}

// application reads an application as the store has it.
func (f *attendanceEvent) application(t *testing.T, id int64) event.Application {
	t.Helper()
	a, err := f.a.Store.Application(context.Background(), f.orgID, f.eventID, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// unmatched lists the event's unmatched participants.
func (f *attendanceEvent) unmatched(t *testing.T) []store.UnmatchedParticipant {
	t.Helper()
	ps, err := f.a.Store.UnmatchedParticipants(context.Background(), f.orgID, f.eventID)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// cell is the text of the cell with that id, or ok false when there is none.
func cell(t *testing.T, r *resp, id string) (text string, ok bool) {
	t.Helper()
	c := r.doc(t).First(`td[id="` + id + `"]`)
	return c.Text(), c.Valid()
}

func wantCell(t *testing.T, r *resp, id, want string) {
	t.Helper()
	got, ok := cell(t, r, id)
	if !ok {
		t.Fatalf("no cell %s: %s", id, r)
	}
	if got != want {
		t.Errorf("cell %s says %q, want %q", id, got, want)
	}
}

// shownValues is what the rows' actions cells show (their hidden "shown"
// inputs).
func shownValues(t *testing.T, r *resp) []string {
	t.Helper()
	var vs []string
	for _, in := range r.doc(t).Find(`input.actions-shown[type="hidden"][name="shown"]`) {
		vs = append(vs, in.Attr("value"))
	}
	return vs
}

// wantTemplatedCells checks that every cell the live answer swaps comes in
// a <template> of its own. htmx parses the whole answer inside one
// template, and a bare <td> there puts the parser in table-row mode: a
// section that follows loses its table (seen in Chromium).
func wantTemplatedCells(t *testing.T, r *resp) {
	t.Helper()
	// A parser would drop the stray cells: the tokens tell where they are.
	z := nethtml.NewTokenizer(strings.NewReader(r.Body))
	inTemplate, inUnmatched := 0, 0 // depths
	for {
		tt := z.Next()
		if tt == nethtml.ErrorToken {
			return
		}
		tok := z.Token()
		switch {
		case tok.Data == "template" && tt == nethtml.StartTagToken:
			inTemplate++
		case tok.Data == "template" && tt == nethtml.EndTagToken:
			inTemplate--
		case tok.Data == "section" && tt == nethtml.StartTagToken && (inUnmatched > 0 || hasID(tok, "zoom-unmatched")):
			inUnmatched++
		case tok.Data == "section" && tt == nethtml.EndTagToken && inUnmatched > 0:
			inUnmatched--
		case tok.Data == "td" && tt == nethtml.StartTagToken && inTemplate == 0 && inUnmatched == 0:
			t.Errorf("the live answer has cells outside a <template>: %s", r)
			return
		}
	}
}

func hasID(tok nethtml.Token, id string) bool {
	for _, a := range tok.Attr {
		if a.Key == "id" && a.Val == id {
			return true
		}
	}
	return false
}

// livePath is the poll of a list page.
func livePath(t *testing.T, r *resp) string {
	t.Helper()
	get, ok := r.doc(t).First("div#applications-live").LookupAttr("hx-get")
	if !ok {
		t.Fatalf("the list does not poll: %s", r)
	}
	return get
}

// TestAttendanceMinutes: 参加時間 in 申込者一覧 and on the applicant's page —
// overlapping sessions counted once, rounded up, 参加中 while in the
// meeting, blank without a join — and in the CSV; none of it for an event
// without Zoom.
func TestAttendanceMinutes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		f := newAttendanceEvent(t, db, []string{"alice@example.com", "bob@example.com", "carol@example.com"}, nil)
		alice, bob, carol := f.ids["alice@example.com"], f.ids["bob@example.com"], f.ids["carol@example.com"]
		// Alice on two devices: 0–30 and 20–41:10 make 41:10, shown as 42分.
		f.join(t, f.m1, "alice", "Alice", "alice@example.com", alice,
			[2]time.Duration{0, 30 * time.Minute}, [2]time.Duration{20 * time.Minute, 41*time.Minute + 10*time.Second})
		// Bob left after 5 minutes and is back in.
		f.join(t, f.m1, "bob", "Bob", "bob@example.com", bob,
			[2]time.Duration{0, 5 * time.Minute}, [2]time.Duration{10 * time.Minute, -1})

		r := f.owner.get(f.list)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "<th>"+ja("applications.attendance")+"</th>")
		wantCell(t, r, fmt.Sprintf("attendance-%d", alice), ja("attendance.minutes", 42))
		wantCell(t, r, fmt.Sprintf("attendance-%d", bob), ja("attendance.in_meeting")+" "+ja("attendance.minutes", 5))
		wantCell(t, r, fmt.Sprintf("attendance-%d", carol), "")
		zoomAt := i18n.DateTime(i18n.Japanese, f.t0, tokyo)
		wantCell(t, r, fmt.Sprintf("checkin-%d", alice),
			ja("applications.checked_in")+" "+zoomAt+" ("+ja("checkin_source.zoom")+")")
		wantCell(t, r, fmt.Sprintf("checkin-%d", carol), "–")

		// The applicant's page.
		r = f.owner.get(fmt.Sprintf("%s/%d", f.list, alice))
		wantStatus(t, r, http.StatusOK)
		if got := r.doc(t).First("#detail-attendance").Text(); got != ja("attendance.minutes", 42) {
			t.Errorf("the applicant's page shows attendance %q, want %s", got, ja("attendance.minutes", 42))
		}
		r = f.owner.get(fmt.Sprintf("%s/%d", f.list, carol))
		if got := r.doc(t).First("#detail-attendance").Text(); got != "–" {
			t.Errorf("the page of an applicant who never joined shows attendance %q, want –", got)
		}

		// The CSV: whole minutes, blank without a join.
		r = f.owner.get(f.list + ".csv")
		wantStatus(t, r, http.StatusOK)
		recs := readCSV(t, []byte(strings.TrimPrefix(r.Body, "\xEF\xBB\xBF")))
		last := slices.Index(recs[0], ja("csv.attendance_minutes"))
		if last < 0 {
			t.Fatalf("the CSV's header %q lacks %s", recs[0], ja("csv.attendance_minutes"))
		}
		want := map[string]string{itoa(alice): "42", itoa(bob): "5", itoa(carol): ""}
		for _, rec := range recs[1:] {
			if w, ok := want[rec[0]]; !ok || rec[last] != w {
				t.Errorf("CSV row %q: attendance %q, want %q", rec[0], rec[last], w)
			}
			delete(want, rec[0])
		}
		if len(want) > 0 {
			t.Errorf("CSV lacks rows %v", want)
		}
		r = f.owner.get(f.list+".csv", "Cookie", "kaisai_lang=en")
		if recs := readCSV(t, []byte(strings.TrimPrefix(r.Body, "\xEF\xBB\xBF"))); !slices.Contains(recs[0], en("csv.attendance_minutes")) {
			t.Errorf("the English CSV's header %q lacks %s", recs[0], en("csv.attendance_minutes"))
		}

		// An event without Zoom: no column, no poll, no section.
		plain := f.owner.createEvent(eventSpec{Title: "会場セミナー"})
		f.owner.addSchedule(plain, f.owner.addGroup(plain, placeGroup("東京都港区1-1")), 5)
		r = f.owner.get(fmt.Sprintf("/events/%d/applications", plain))
		wantStatus(t, r, http.StatusOK)
		wantNoText(t, r, "<th>"+ja("applications.attendance")+"</th>")
		for _, id := range []string{`id="applications-live"`, `id="zoom-unmatched"`, `class="attendance-cell"`} {
			if strings.Contains(r.Body, id) {
				t.Errorf("the list of an event without Zoom has %s", id)
			}
		}
		wantStatus(t, f.owner.get(fmt.Sprintf("/events/%d/applications/live", plain)), http.StatusNoContent)
	})
}

// TestApplicationsLive: the list polls a small answer of out-of-band swaps
// of its rows' 受付 and 参加時間 cells, which shows a check-in from Zoom made
// between two polls; the unmatched section comes whole only when its people
// changed, else only its minutes, so its forms are left alone.
func TestApplicationsLive(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		f := newAttendanceEvent(t, db, []string{"alice@example.com", "carol@example.com"}, nil)
		alice, carol := f.ids["alice@example.com"], f.ids["carol@example.com"]
		page := f.owner.get(f.list)
		live := livePath(t, page)
		if div := page.doc(t).First("div#applications-live"); div.Attr("hx-trigger") != "every 3s" || div.Attr("hx-swap") != "none" {
			t.Errorf("the poll is not every 3s, swapping nothing but its out-of-band parts: %s", div.HTML())
		}
		if !strings.Contains(live, fmt.Sprintf("ids=%d,%d", alice, carol)) && !strings.Contains(live, fmt.Sprintf("ids=%d%%2C%d", alice, carol)) {
			t.Errorf("the poll %q does not name the page's rows", live)
		}
		seen := inputValue(t, page, "seen")
		// What each row's actions cell shows, as the page sends it back
		// (hx-include), updated by the cells the poll swaps.
		shown := map[string]string{}
		keepShown := func(t *testing.T, r *resp) {
			for _, v := range shownValues(t, r) {
				id, _, _ := strings.Cut(v, ":")
				shown[id] = v
			}
		}
		keepShown(t, page)
		if len(shown) != 2 {
			t.Fatalf("the rows' actions cells say what they show for %d rows, want 2: %s", len(shown), page)
		}

		poll := func(t *testing.T) *resp {
			t.Helper()
			q := "&seen=" + url.QueryEscape(seen)
			for _, v := range shown {
				q += "&shown=" + url.QueryEscape(v)
			}
			r := f.owner.get(live+q, "HX-Request", "true")
			wantStatus(t, r, http.StatusOK)
			if strings.Contains(strings.ToLower(r.Body), "<html") {
				t.Fatalf("the poll answered a whole page: %s", r)
			}
			keepShown(t, r)
			return r
		}
		if !t.Run("with nothing changed the poll swaps only its rows' cells", func(t *testing.T) {
			r := poll(t)
			wantCell(t, r, fmt.Sprintf("checkin-%d", carol), "–")
			wantCell(t, r, fmt.Sprintf("attendance-%d", carol), "")
			if n := len(r.doc(t).Find(`[hx-swap-oob="true"]`)); n != 4 {
				t.Errorf("%d out-of-band swaps, want 2 rows × 2 cells: %s", n, r)
			}
			wantTemplatedCells(t, r)
			if doc := r.doc(t); doc.Has("form") || doc.Has("#zoom-unmatched") {
				t.Errorf("nothing changed, yet the poll replaces forms or the unmatched section: %s", r)
			}
		}) {
			return
		}

		if !t.Run("a check-in from Zoom between two polls comes with the row's actions, as the list shows them", func(t *testing.T) {
			// Carol joins between two polls: her 受付 cell, and her actions
			// (受付を取り消す instead of 受付する), as the list itself shows them.
			f.join(t, f.m1, "carol", "Carol", "carol@example.com", carol, [2]time.Duration{3 * time.Minute, -1})
			r := poll(t)
			wantCell(t, r, fmt.Sprintf("checkin-%d", carol),
				ja("applications.checked_in")+" "+i18n.DateTime(i18n.Japanese, f.t0.Add(3*time.Minute), tokyo)+" ("+ja("checkin_source.zoom")+")")
			wantCell(t, r, fmt.Sprintf("attendance-%d", carol), ja("attendance.in_meeting"))
			wantCell(t, r, fmt.Sprintf("checkin-%d", alice), "–")
			actions, ok := cell(t, r, fmt.Sprintf("actions-%d", carol))
			if !ok || !strings.Contains(actions, ja("applications.undo_check_in")) || strings.Contains(actions, ja("applications.check_in")) {
				t.Errorf("after the check-in from Zoom, the poll brings carol's actions %q (ok %v), want 受付を取り消す: %s", actions, ok, r)
			}
			if r.doc(t).First(`td[id="actions-`+itoa(carol)+`"]`).Attr("hx-swap-oob") != "true" {
				t.Errorf("carol's actions cell is not swapped out of band: %s", r)
			}
			if _, ok := cell(t, r, fmt.Sprintf("actions-%d", alice)); ok {
				t.Errorf("alice's actions are swapped though nothing changed for her: %s", r)
			}
			wantTemplatedCells(t, r)
			if list := shownValues(t, f.owner.get(f.list)); !slices.Contains(list, shown[itoa(carol)]) {
				t.Errorf("the list renders the actions as %q, carol's not as the poll did (%q)", list, shown[itoa(carol)])
			}
			if r = poll(t); r.doc(t).Has("form") {
				t.Errorf("the actions are swapped again though they show what is true: %s", r)
			}
		}) {
			return
		}

		if !t.Run("a new unmatched participant brings the section whole, then only its minutes", func(t *testing.T) {
			// A guest joins: the section comes whole, with its new seen.
			f.join(t, f.m1, "guest", "ゲスト", "", 0, [2]time.Duration{time.Minute, 10 * time.Minute})
			r := poll(t)
			if s := r.doc(t).First("section#zoom-unmatched"); s.Attr("class") != "card zoom-unmatched" || s.Attr("hx-swap-oob") != "true" {
				t.Fatalf("a new unmatched participant does not replace the section: %s", r)
			}
			wantText(t, r, ja("zoom.unmatched.title"), "ゲスト")
			wantTemplatedCells(t, r)
			newSeen := inputValue(t, r, "seen")
			if newSeen == seen {
				t.Fatal("the section's seen did not change with its people")
			}
			seen = newSeen
			r = poll(t)
			if doc := r.doc(t); doc.Has("#zoom-unmatched") || doc.Has("form") {
				t.Errorf("the section is replaced though its people are the same: %s", r)
			}
			guest := f.unmatched(t)[0].ID
			wantCell(t, r, fmt.Sprintf("attendance-unmatched-%d", guest), ja("attendance.minutes", 9))
			wantTemplatedCells(t, r)
		}) {
			return
		}

		if !t.Run("the poll answers only the rows asked for, and refuses malformed ids", func(t *testing.T) {
			// Only the rows asked for; malformed ids are refused.
			r := f.owner.get(fmt.Sprintf("/events/%d/applications/live?ids=%d&seen=%s", f.eventID, alice, url.QueryEscape(seen)))
			wantStatus(t, r, http.StatusOK)
			if _, ok := cell(t, r, fmt.Sprintf("checkin-%d", carol)); ok {
				t.Errorf("the poll answers a row it was not asked for: %s", r)
			}
			for _, bad := range []string{"x", "1,,2", "-3", strings.Repeat("1,", 60) + "1"} {
				r = f.owner.get(fmt.Sprintf("/events/%d/applications/live?ids=%s", f.eventID, url.QueryEscape(bad)))
				wantStatus(t, r, http.StatusBadRequest)
				wantText(t, r, ja("error.bad_request"))
			}
		}) {
			return
		}
	})
}

// TestUnmatchedParticipants: participants no application matched are listed
// with why, and each can be matched by hand to a 申込済 application of its
// schedule, which is then checked in from Zoom at the first join and leaves
// the list; every wrong choice is refused with a message and changes
// nothing.
func TestUnmatchedParticipants(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		f := newAttendanceEvent(t, db, []string{"alice@example.com", "carol@example.com", "gone@example.com"},
			[]string{"dave@example.com"})
		alice, carol, gone, dave := f.ids["alice@example.com"], f.ids["carol@example.com"], f.ids["gone@example.com"],
			f.ids["dave@example.com"]
		wantRedirect(t, f.owner.post(fmt.Sprintf("%s/%d/cancel", f.list, gone), url.Values{}), f.list)

		match := func(eventID, session int64, choice string) *resp {
			t.Helper()
			return f.owner.post(fmt.Sprintf("/events/%d/zoom-participants/%d/match", eventID, session),
				url.Values{"application": {choice}, "back": {f.list + "?page=1"}})
		}
		unchanged := func(t *testing.T) {
			t.Helper()
			if n := len(f.unmatched(t)); n != 2 {
				t.Fatalf("a refused match changed the unmatched participants: %d left", n)
			}
			for _, id := range []int64{alice, carol, dave} {
				if a := f.application(t, id); !a.CheckedInAt.IsZero() {
					t.Fatalf("a refused match checked %d in: %+v", id, a)
				}
			}
		}
		var guest, other int64

		if !t.Run("with no one unmatched the section is there for the poll, hidden", func(t *testing.T) {
			// No one unmatched yet: the section is there for the poll, hidden.
			r := f.owner.get(f.list)
			if !r.doc(t).Has("section.card.zoom-unmatched#zoom-unmatched[hidden]") {
				t.Errorf("without unmatched participants the section is not hidden: %s", r)
			}
			wantNoText(t, r, ja("zoom.unmatched.title"))
		}) {
			return
		}

		if !t.Run("a participant no application matches is listed, offered the applications of their schedule", func(t *testing.T) {
			f.join(t, f.m1, "guest", "ゲスト 花子", "", 0,
				[2]time.Duration{2 * time.Minute, 20 * time.Minute}, [2]time.Duration{25 * time.Minute, 40 * time.Minute})
			f.join(t, f.m2, "other", "別名 さん", "private@example.net", 0, [2]time.Duration{24*time.Hour + time.Minute, -1})
			ps := f.unmatched(t)
			if len(ps) != 2 {
				t.Fatalf("unmatched: %+v", ps)
			}
			guest, other = ps[0].ID, ps[1].ID

			r := f.owner.get(f.list)
			wantStatus(t, r, http.StatusOK)
			wantText(t, r, ja("zoom.unmatched.title"), ja("zoom.unmatched.explain"), "ゲスト 花子", "別名 さん",
				"private@example.net", ja("zoom.unmatched.match_button"))
			section := r.doc(t).First("section.card.zoom-unmatched#zoom-unmatched")
			if !section.Valid() {
				t.Fatalf("no unmatched section: %s", r)
			}
			guestNode := section.First(fmt.Sprintf(`tr.unmatched[data-id="%d"]`, guest))
			guestRow := guestNode.HTML()
			if !slices.ContainsFunc(guestNode.Find("td"), func(td htmltest.Node) bool { return td.Text() == "—" }) {
				t.Errorf("a guest without e-mail does not show —: %s", guestRow)
			}
			if got := guestNode.First(fmt.Sprintf(`td[id="attendance-unmatched-%d"]`, guest)).Text(); got != ja("attendance.minutes", 33) {
				t.Errorf("the guest's attendance is %q, want %s", got, ja("attendance.minutes", 33))
			}
			// The choices: the 申込済 applications of the guest's schedule only.
			for id, offered := range map[int64]bool{alice: true, carol: true, gone: false, dave: false} {
				if guestNode.Has(fmt.Sprintf(`option[value="%d"]`, id)) != offered {
					t.Errorf("application %d offered: %v, want %v: %s", id, !offered, offered, guestRow)
				}
			}
			if !guestNode.Has(fmt.Sprintf(`form[action="/events/%d/zoom-participants/%d/match"]`, f.eventID, guest)) {
				t.Fatalf("no match form for the guest: %s", guestRow)
			}
		}) {
			return
		}

		if !t.Run("a match the rules refuse says why and changes nothing", func(t *testing.T) {
			for _, tc := range []struct {
				name, choice string
				status       int
				key          string
			}{
				{"another schedule's application", itoa(dave), http.StatusBadRequest, "zoom.attendance.other_schedule"},
				{"another schedule's e-mail", "dave@example.com", http.StatusBadRequest, "zoom.unmatched.no_email"},
				{"a cancelled application", itoa(gone), http.StatusConflict, "applications.checkin_not_applied"},
				{"no choice", " ", http.StatusBadRequest, "zoom.unmatched.choose"},
				{"not an id", "12abc", http.StatusBadRequest, "zoom.unmatched.bad_choice"},
				{"a negative id", "-5", http.StatusBadRequest, "zoom.unmatched.bad_choice"},
				{"an id too large", "99999999999999999999", http.StatusBadRequest, "zoom.unmatched.bad_choice"},
				{"an unknown id", "987654321", http.StatusBadRequest, "zoom.unmatched.no_application"},
			} {
				r := match(f.eventID, guest, tc.choice)
				if r.Status != tc.status || !r.Has(ja(tc.key)) {
					t.Errorf("%s: want %d saying %q, got %s", tc.name, tc.status, ja(tc.key), r)
				}
				unchanged(t)
			}
			// In English too.
			r := f.owner.post(fmt.Sprintf("/events/%d/zoom-participants/%d/match", f.eventID, guest),
				url.Values{"application": {itoa(dave)}}, "Cookie", "kaisai_lang=en")
			wantStatus(t, r, http.StatusBadRequest)
			wantText(t, r, en("zoom.attendance.other_schedule"))
			// A session that is not one: 404.
			wantStatus(t, f.owner.post(fmt.Sprintf("/events/%d/zoom-participants/x/match", f.eventID),
				url.Values{"application": {itoa(carol)}}), http.StatusNotFound)
			wantStatus(t, match(f.eventID, 987654321, itoa(carol)), http.StatusNotFound)
			unchanged(t)
		}) {
			return
		}

		if !t.Run("another organization cannot match our participants", func(t *testing.T) {
			// Another organization, with its own event or ours: 404.
			b := newClient(t, f.a)
			b.signup("B社", "owner@b-attend.example")
			bEvent := b.createEvent(eventSpec{Title: "B社のイベント"})
			for _, ev := range []int64{bEvent, f.eventID} {
				r := b.post(fmt.Sprintf("/events/%d/zoom-participants/%d/match", ev, guest), url.Values{"application": {itoa(carol)}})
				wantStatus(t, r, http.StatusNotFound)
				wantText(t, r, ja("error.not_found"))
				wantNoText(t, r, "ゲスト 花子")
				wantStatus(t, b.get(fmt.Sprintf("/events/%d/applications/live?ids=%d", f.eventID, carol)), http.StatusNotFound)
			}
			unchanged(t)
		}) {
			return
		}

		if !t.Run("a match checks the application in from Zoom at the first join, with the guest's attendance", func(t *testing.T) {
			// The guest is Carol: checked in from Zoom at the first join, her
			// attendance the guest's, and the guest off the list.
			r := match(f.eventID, guest, itoa(carol))
			loc := wantRedirect(t, r, f.list)
			if u, _ := url.Parse(loc); flashOf(r) != "flash.zoom_participant_matched" || u.Query().Get("page") != "1" {
				t.Errorf("the match returned to %q, want the list as it was with a flash", loc)
			}
			c := f.application(t, carol)
			if !c.CheckedInAt.Equal(f.t0.Add(2*time.Minute)) || c.CheckinSource != event.CheckinZoom {
				t.Errorf("Carol after the match: checked in %v by %q, want %v by zoom", c.CheckedInAt, c.CheckinSource, f.t0.Add(2*time.Minute))
			}
			r = f.owner.get(loc)
			wantText(t, r, ja("flash.zoom_participant_matched"))
			wantCell(t, r, fmt.Sprintf("attendance-%d", carol), ja("attendance.minutes", 33))
			wantCell(t, r, fmt.Sprintf("checkin-%d", carol), ja("applications.checked_in")+" "+
				i18n.DateTime(i18n.Japanese, f.t0.Add(2*time.Minute), tokyo)+" ("+ja("checkin_source.zoom")+")")
			if r.doc(t).Has(fmt.Sprintf(`tr.unmatched[data-id="%d"]`, guest)) || !r.Has("別名 さん") {
				t.Errorf("after the match the guest is still listed, or the other is not: %s", r)
			}
			// Matched already: 404, and nothing moves.
			wantStatus(t, match(f.eventID, guest, itoa(alice)), http.StatusNotFound)
			if a := f.application(t, alice); !a.CheckedInAt.IsZero() {
				t.Errorf("a second match of the same participant checked Alice in")
			}
		}) {
			return
		}

		if !t.Run("an e-mail typed in matches too, in any case", func(t *testing.T) {
			// An e-mail typed in (the way of a schedule too large for a list) works too, in any case.
			r := match(f.eventID, other, "DAVE@example.com")
			wantRedirect(t, r, f.list)
			if d := f.application(t, dave); d.CheckinSource != event.CheckinZoom || !d.CheckedInAt.Equal(f.t0.Add(24*time.Hour+time.Minute)) {
				t.Errorf("Dave after the match by e-mail: %v by %q", d.CheckedInAt, d.CheckinSource)
			}
			if ps := f.unmatched(t); len(ps) != 0 {
				t.Errorf("unmatched after both matches: %+v", ps)
			}
			r = f.owner.get(f.list)
			if !r.doc(t).Has("#zoom-unmatched[hidden]") {
				t.Errorf("with everyone matched the section is not hidden: %s", r)
			}
		}) {
			return
		}
	})
}

// TestUnmatchedLargeSchedule: above 500 申込済 applications the schedule's
// choices are no <select> but a field for an application id or e-mail,
// which matches as the list would.
func TestUnmatchedLargeSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAttendanceEvent(t, testdb.SQLite(t), []string{"first@example.com"}, nil)
	e, err := f.a.Store.Event(ctx, f.orgID, f.eventID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		in := event.ApplicationInput{ScheduleID: f.sc1, Name: fmt.Sprintf("大勢 %d", i),
			Email: fmt.Sprintf("many%d@example.com", i), SubmitKey: fmt.Sprintf("key-%d", i)}
		if res, err := f.a.Store.Apply(ctx, &e, in); err != nil || res.Application.Status != event.Applied {
			t.Fatalf("application %d: %+v, %v", i, res, err)
		}
	}
	f.join(t, f.m1, "guest", "ゲスト", "", 0, [2]time.Duration{time.Minute, 2 * time.Minute})
	guest := f.unmatched(t)[0].ID

	r := f.owner.get(f.list)
	wantStatus(t, r, http.StatusOK)
	row := r.doc(t).First(fmt.Sprintf(`tr.unmatched[data-id="%d"]`, guest))
	if _, required := row.First(`input[name="application"]`).LookupAttr("required"); row.Has("select") || !required {
		t.Fatalf("a schedule of 501 applications is offered as a list: %s", row.HTML())
	}
	wantText(t, r, ja("zoom.unmatched.id_or_email"))
	first := f.ids["first@example.com"]
	wantRedirect(t, f.owner.post(fmt.Sprintf("/events/%d/zoom-participants/%d/match", f.eventID, guest),
		url.Values{"application": {" " + itoa(first) + " "}}), f.list)
	if a := f.application(t, first); a.CheckinSource != event.CheckinZoom {
		t.Errorf("matched by a typed id: %+v", a)
	}
}
