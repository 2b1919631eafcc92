package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/htmltest"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/web"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// zoomOrganizer is an organizer with linked Zoom users on the kaisai of a
// zoomWorld, whose job workers sync the meetings with the simulator.
type zoomOrganizer struct {
	w     *zoomWorld
	c     *client
	st    *store.Store
	orgID int64
	hosts map[string]int64 // connection ids by Zoom e-mail
}

const zoomOwner = "owner@zoomweb.example"

func newZoomOrganizer(t *testing.T, db testdb.DB, emails ...string) *zoomOrganizer {
	t.Helper()
	w := startZoomWorld(t, db)
	ac := newClient(t, w.app)
	ac.signup("Zoom社", zoomOwner)
	for _, e := range emails {
		wantRedirect(t, w.linkZoom(t, ac, e), "/integrations")
	}
	o := &zoomOrganizer{w: w, st: w.app.Store, hosts: map[string]int64{}}
	var conns []store.ZoomConnection
	o.orgID, conns = w.connections(t, zoomOwner)
	for _, c := range conns {
		o.hosts[c.User.Email] = c.ID
	}
	o.c = ac
	return o
}

// startWebWithoutZoomAPI serves kaisai's pages on st as when Zoom cannot be
// called from them (web.Config.ZoomAPI nil).
func startWebWithoutZoomAPI(t *testing.T, st *store.Store) string {
	t.Helper()
	s, err := web.New(web.Config{Store: st, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

// zoomGroup is the group form with the Zoom venue; extra are name, value pairs.
func zoomGroup(connID int64, passcode string, extra ...string) url.Values {
	f := url.Values{"venue": {"zoom"}, "zoom_host": {itoa(connID)}, "zoom_passcode": {passcode},
		"zoom_host_video": {"on"}, "zoom_participant_video": {"off"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// inputValue is the value of the named input of a page.
func inputValue(t *testing.T, r *resp, name string) string {
	t.Helper()
	in := r.doc(t).First(`input[name="` + name + `"]`)
	v, ok := in.LookupAttr("value")
	if !ok {
		t.Fatalf("no input %s: %s", name, r)
	}
	return v
}

// meetings lists the event's meeting rows.
func (o *zoomOrganizer) meetings(t *testing.T, eventID int64) []store.ZoomMeeting {
	t.Helper()
	ms, err := o.st.EventZoomMeetings(context.Background(), o.orgID, eventID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// waitMeeting waits until the meeting row satisfies ok, as the job workers
// sync it with the simulator.
func (o *zoomOrganizer) waitMeeting(t *testing.T, id int64, what string, ok func(store.ZoomMeeting) bool) store.ZoomMeeting {
	t.Helper()
	return eventually.Value(t, fmt.Sprintf("meeting %d to become %s", id, what), func() (store.ZoomMeeting, bool) {
		m, err := o.st.ZoomMeeting(context.Background(), o.orgID, id)
		return m, err == nil && ok(m)
	})
}

// block is the event page's meetings block alone (the same template as in
// the page): a failure then shows all of it.
func (o *zoomOrganizer) block(t *testing.T, eventID int64) *resp {
	t.Helper()
	r := o.c.get(fmt.Sprintf("/events/%d/zoom-meetings", eventID))
	wantStatus(t, r, http.StatusOK)
	return r
}

func created(m store.ZoomMeeting) bool { return m.State() == zoompolicy.MeetingCreated }

// zoomEvent creates an event with a Zoom group of host and one schedule,
// and waits for its meeting to be created on Zoom.
func (o *zoomOrganizer) zoomEvent(t *testing.T, host string, passcode string) (eventID, groupID int64, m store.ZoomMeeting) {
	t.Helper()
	eventID = o.c.createEvent(eventSpec{Title: "Zoomセミナー"})
	groupID = o.c.addGroup(eventID, zoomGroup(o.hosts[host], passcode))
	o.c.addSchedule(eventID, groupID, 10)
	ms := o.meetings(t, eventID)
	if len(ms) != 1 {
		t.Fatalf("want one meeting row, got %+v", ms)
	}
	return eventID, groupID, o.waitMeeting(t, ms[0].ID, "created", created)
}

func TestZoomGroupFormRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c, host := o.c, o.hosts["licensed@example.com"]
		ev := c.createEvent(eventSpec{Title: "Zoomで学ぶ会"})

		r := c.get(fmt.Sprintf("/events/%d/groups/new", ev))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("groups.zoom_create"), ja("groups.zoom_security_note"), "licensed@example.com",
			ja("zoom.authentication"), ja("zoom.mute_upon_entry"))
		wantNoText(t, r, ja("groups.zoom_passcode_fallback"), ja("groups.zoom_no_host"))
		// Pre-filled to satisfy the host's policy (the simulator's seed).
		pc := inputValue(t, r, "zoom_passcode")
		if err := zoom.CheckPasscode(pc, zoom.PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true}); pc == "" || err != nil {
			t.Fatalf("pre-filled passcode %q: %v", pc, err)
		}

		g := c.addGroup(ev, zoomGroup(host, "Kai2026x", "name", "オンライン", "zoom_waiting_room", "1",
			"zoom_authentication", "1", "zoom_registration", "1", "zoom_registrant_emails", "1",
			"zoom_mute_upon_entry", "1", "zoom_agenda", "第1部: 概要\n第2部: 質疑"))
		saved, err := o.st.Group(context.Background(), o.orgID, ev, g)
		if err != nil {
			t.Fatal(err)
		}
		want := event.ZoomSettings{ConnID: host, Passcode: "Kai2026x", WaitingRoom: true, Authentication: true,
			Registration: true, HostVideo: true, MuteUponEntry: true, RegistrantEmails: true, Agenda: "第1部: 概要\n第2部: 質疑"}
		if saved.Venue != event.VenueZoom || saved.Zoom == nil || *saved.Zoom != want {
			t.Fatalf("saved group %+v %+v, want %+v", saved, saved.Zoom, want)
		}

		r = c.get(fmt.Sprintf("/events/%d/groups/%d/edit", ev, g))
		wantStatus(t, r, http.StatusOK)
		if v := inputValue(t, r, "zoom_passcode"); v != "Kai2026x" {
			t.Fatalf("edit form passcode %q", v)
		}
		for _, s := range []string{`name="venue" value="zoom" id="venue-zoom" checked`,
			`name="zoom_waiting_room" value="1" checked`, `name="zoom_authentication" value="1" checked`,
			`id="zoom-registration" checked`, `id="zoom-registrant-emails" checked`,
			`id="zoom-registration-basic" data-no-registration="basic" hidden`,
			`name="zoom_mute_upon_entry" value="1" checked`, `name="zoom_host_video" value="on" checked`,
			`name="zoom_participant_video" value="off" checked`, `value="` + itoa(host) + `" data-no-registration="" selected`} {
			if !strings.Contains(r.Body, s) {
				t.Errorf("edit form lacks %s", s)
			}
		}
		wantText(t, r, "第2部: 質疑")
		wantNoText(t, r, ja("groups.zoom_email_rule")) // 登録 is on

		// 認証 ON, 登録 OFF: the form explains Zoom's e-mail rule.
		r = c.post(fmt.Sprintf("/events/%d/groups/%d/edit", ev, g), zoomGroup(host, "", "zoom_authentication", "1",
			"zoom_agenda", strings.Repeat("あ", 2001)))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("groups.zoom_email_rule"), ja("validation.too_long", 2000))

		sc := c.addSchedule(ev, g, 10)
		ms := o.meetings(t, ev)
		if len(ms) != 1 || ms[0].ScheduleID != sc || ms[0].State() != zoompolicy.MeetingCreating {
			t.Fatalf("after adding a schedule, want one meeting 作成中, got %+v", ms)
		}
		r = c.get(fmt.Sprintf("/events/%d", ev))
		wantText(t, r, ja("zoom.meetings_title"), ja("zoom.meeting_state.creating"), "licensed@example.com")
		if !strings.Contains(r.Body, fmt.Sprintf(`hx-get="/events/%d/zoom-meetings" hx-trigger="every 2s"`, ev)) {
			t.Fatalf("a pending meeting does not refresh its block: %s", r)
		}
		r = c.get(fmt.Sprintf("/events/%d/zoom-meetings", ev))
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.Body, "<html") || !htmltest.Fragment(t, r.Body).Has("#groups") {
			t.Fatalf("the block alone, want a fragment: %s", r)
		}

		m := o.waitMeeting(t, ms[0].ID, "created", created)
		r = c.get(fmt.Sprintf("/events/%d/zoom-meetings", ev))
		wantText(t, r, ja("zoom.meeting_state.created"), m.JoinURL, "Kai2026x", itoa(m.ZoomID), ja("zoom.start_as_host"))
		if strings.Contains(r.Body, "hx-trigger") {
			t.Fatalf("nothing pending, yet the block still polls: %s", r)
		}

		// ホストとして開始: a fresh start URL from Zoom, only as a redirect.
		start := fmt.Sprintf("/events/%d/zoom-meetings/%d/start", ev, m.ID)
		r = c.get(start)
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), o.w.sim.BaseURL()+"/s/") {
			t.Fatalf("start: want 303 to Zoom's start URL, got %s", r)
		}
		if strings.Contains(c.get(fmt.Sprintf("/events/%d", ev)).Body, "zak=") {
			t.Fatal("the event page shows a start URL")
		}

		// Without ZoomAPI the start fails with a clear page, and the form
		// pre-fills a plain passcode and says saving still works.
		// The same browser: its session cookie is valid on both servers.
		off := &client{t: t, base: startWebWithoutZoomAPI(t, o.st), hc: c.hc}
		r = off.get(start)
		wantStatus(t, r, http.StatusServiceUnavailable)
		wantText(t, r, ja("zoom.start_unavailable"))
		r = off.get(fmt.Sprintf("/events/%d/groups/new", ev))
		wantText(t, r, ja("groups.zoom_passcode_fallback"))
		if pc := inputValue(t, r, "zoom_passcode"); !regexp.MustCompile(`^[A-Za-z0-9]{6,10}$`).MatchString(pc) {
			t.Fatalf("fallback passcode %q", pc)
		}
	})
}

func TestZoomGroupFormRefusals(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com", "numeric@example.com", "basic@example.com")
		c := o.c
		lic, num, basic := o.hosts["licensed@example.com"], o.hosts["numeric@example.com"], o.hosts["basic@example.com"]
		ev := c.createEvent(eventSpec{Title: "断られるセミナー"})
		newGroup := fmt.Sprintf("/events/%d/groups/new", ev)

		for _, tc := range []struct {
			name string
			form url.Values
			want string
		}{
			{"no security", zoomGroup(lic, ""), ja("validation.zoom_security_required")},
			{"登録 with a Basic host", zoomGroup(basic, "abc123", "zoom_registration", "1"), ja("validation.zoom_registration_licensed")},
			{"letters for a numeric-only host", zoomGroup(num, "abcd1234"), ja("validation.zoom_passcode_numeric_only")},
			{"too short for the host", zoomGroup(num, "1234"), ja("validation.zoom_passcode_too_short", 8)},
			{"no digit for the host", zoomGroup(lic, "abcdefg"), ja("validation.zoom_passcode_number")},
			{"not Zoom's characters", zoomGroup(lic, "abc 123"), ja("validation.zoom_passcode", 10)},
			{"no host", zoomGroup(0, "abc123"), ja("validation.choose")},
		} {
			r := c.post(newGroup, tc.form)
			if r.Status != http.StatusUnprocessableEntity || !r.Has(tc.want) {
				t.Errorf("%s: want 422 saying %q, got %s", tc.name, tc.want, r)
			}
		}
		gs, err := o.st.Groups(context.Background(), o.orgID, ev)
		if err != nil || len(gs) != 0 {
			t.Fatalf("refused forms saved groups: %+v, %v", gs, err)
		}

		// A Basic host's form disables 登録 and says why.
		g := c.addGroup(ev, zoomGroup(basic, "abc123", "zoom_waiting_room", "1"))
		r := c.get(fmt.Sprintf("/events/%d/groups/%d/edit", ev, g))
		if doc := r.doc(t); !doc.Has("#zoom-registration[disabled]") ||
			!doc.Has(`#zoom-registration-basic[data-no-registration="basic"]`) || doc.Has("#zoom-registration-basic[disabled]") {
			t.Fatalf("登録 is not disabled for a Basic host: %s", r)
		}

		// A group whose schedule is longer than Zoom allows cannot become Zoom.
		pg := c.addGroup(ev, placeGroup("東京都港区1-1"))
		startsAt := time.Now().Add(40 * 24 * time.Hour).Truncate(time.Hour)
		long := &event.Schedule{OrgID: o.orgID, EventID: ev, GroupID: pg, StartsAt: startsAt,
			EndsAt: startsAt.Add(25 * time.Hour), Capacity: 5}
		if _, err := o.st.CreateSchedule(context.Background(), long, ""); err != nil {
			t.Fatal(err)
		}
		r = c.post(fmt.Sprintf("/events/%d/groups/%d/edit", ev, pg), zoomGroup(lic, "abc123"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.zoom_schedules_too_long", i18n.DateTime(i18n.Japanese, startsAt, tokyo), 1440))
		if got, _ := o.st.Group(context.Background(), o.orgID, ev, pg); got.Venue != event.VenuePlace {
			t.Fatalf("the group became %s", got.Venue)
		}

		// A schedule of a Zoom group gets Zoom's check too: here the
		// ordinary end-before-start one comes first, and a valid one passes.
		r = c.post(fmt.Sprintf("/events/%d/groups/%d/schedules/new", ev, g), scheduleForm(futureDate(30), "10:00", "09:00", "5"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.ends_after_start"))
	})
}

func TestZoomGroupHostChangeNeedsConfirmation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com", "numeric@example.com")
		c := o.c
		lic, num := o.hosts["licensed@example.com"], o.hosts["numeric@example.com"]
		ev, g, old := o.zoomEvent(t, "licensed@example.com", "a1b2c3d4")
		edit := fmt.Sprintf("/events/%d/groups/%d/edit", ev, g)

		// Hold Zoom's deletes a moment, so the page can show 削除中.
		o.w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultLatency, Op: "meetingDelete", Rate: 1, Delay: 5 * time.Second})

		r := c.post(edit, zoomGroup(num, "38572619", "zoom_waiting_room", "1"))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("groups.zoom_impact_move", 1), ja("groups.zoom_confirm_label"))
		if got, _ := o.st.Group(context.Background(), o.orgID, ev, g); got.Zoom == nil || got.Zoom.ConnID != lic {
			t.Fatalf("the host changed before confirmation: %+v", got.Zoom)
		}

		wantRedirect(t, c.post(edit, zoomGroup(num, "38572619", "zoom_waiting_room", "1", "confirm_zoom", "1")),
			fmt.Sprintf("/events/%d", ev))
		if got, _ := o.st.Group(context.Background(), o.orgID, ev, g); got.Zoom == nil || got.Zoom.ConnID != num {
			t.Fatalf("the host did not change: %+v", got.Zoom)
		}
		r = o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_state.deleting"), "licensed@example.com", "numeric@example.com")
		var moved store.ZoomMeeting
		for _, m := range o.meetings(t, ev) {
			if m.ID != old.ID && m.Want == zoompolicy.WantPresent {
				moved = m
			}
		}
		if moved.ConnID != num {
			t.Fatalf("no meeting planned for the new host: %+v", o.meetings(t, ev))
		}
		moved = o.waitMeeting(t, moved.ID, "created", created)
		if moved.JoinURL == old.JoinURL || moved.ZoomID == old.ZoomID {
			t.Fatalf("the moved meeting kept the old one's URL: %+v", moved)
		}
		o.w.sim.ClearFaults()

		// Switching to 開催URL deletes the meetings: confirmed first too.
		r = c.post(edit, urlGroup("https://example.com/live"))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("groups.zoom_impact_delete", 1))
		form := urlGroup("https://example.com/live")
		form.Set("confirm_zoom", "1")
		wantRedirect(t, c.post(edit, form), fmt.Sprintf("/events/%d", ev))
		o.waitMeeting(t, moved.ID, "retired", func(m store.ZoomMeeting) bool { return m.Want == zoompolicy.WantAbsent })
	})
}

// holdMeeting holds a meeting row as a sync would, once no sync holds it,
// so that the test can record a sync's outcome itself.
func (o *zoomOrganizer) holdMeeting(t *testing.T, meetingRowID int64) store.Lease {
	t.Helper()
	ctx := context.Background()
	l, err := o.st.TakeLease(ctx, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, fmt.Sprintf("meeting %d to be free of any sync, to hold it", meetingRowID), func() bool {
		r, err := o.st.WriteDB().ExecContext(ctx, `UPDATE zoom_meetings SET lease_owner = $1 WHERE id = $2
			AND (lease_owner IS NULL OR lease_owner NOT IN (SELECT owner FROM work_leases))`, l.Owner, meetingRowID)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := r.RowsAffected()
		return n == 1
	})
	return l
}

func TestZoomMeetingStatesAndActions(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c := o.c
		ctx := context.Background()
		ev, _, m := o.zoomEvent(t, "licensed@example.com", "a1b2c3d4")
		page := fmt.Sprintf("/events/%d", ev)
		action := func(name string) string { return fmt.Sprintf("/events/%d/zoom-meetings/%d/%s", ev, m.ID, name) }

		// エラー: the explanation, Zoom's own message, 再試行.
		if err := o.st.ZoomMeetingFailed(ctx, o.holdMeeting(t, m.ID), m.ID, 0, store.ZoomMeetingFailure{Kind: "passcode", Code: 3000,
			Message: "Passcode does not meet the requirements"}); err != nil {
			t.Fatal(err)
		}
		r := o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_state.error"), ja("zoom.meeting_error.passcode"),
			"Passcode does not meet the requirements", ja("zoom.retry"))
		wantRedirect(t, c.post(action("retry"), url.Values{}), page)
		o.waitMeeting(t, m.ID, "retried", created)
		wantNoText(t, o.block(t, ev), ja("zoom.meeting_error.passcode"))

		// An unknown kind reads as any other Zoom error.
		if err := o.st.ZoomMeetingFailed(ctx, o.holdMeeting(t, m.ID), m.ID, 0, store.ZoomMeetingFailure{Kind: "new_kind", Message: "boom"}); err != nil {
			t.Fatal(err)
		}
		wantText(t, o.block(t, ev), ja("zoom.meeting_error.other"), "boom")
		wantRedirect(t, c.post(action("retry"), url.Values{}), page)
		o.waitMeeting(t, m.ID, "retried", created)

		// Changed on Zoom: which settings, 再適用 and 再作成.
		if err := o.st.ZoomMeetingChangedOnZoom(ctx, m.ID, m.ZoomID, []string{"settings.waiting_room", "agenda"}); err != nil {
			t.Fatal(err)
		}
		r = o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_changed_explain"), ja("zoom.field.waiting_room"), ja("zoom.field.agenda"),
			ja("zoom.reapply"), ja("zoom.recreate"))
		wantRedirect(t, c.post(action("reapply"), url.Values{}), page)
		if got, _ := o.st.ZoomMeeting(ctx, o.orgID, m.ID); got.ZoomState != "" || len(got.ZoomChanges) != 0 {
			t.Fatalf("re-apply left the change recorded: %+v", got)
		}
		o.waitMeeting(t, m.ID, "re-applied", created)
		wantNoText(t, o.block(t, ev), ja("zoom.meeting_changed_explain"))

		// Zoomで削除済み: 再作成 makes a new meeting.
		if ok, err := o.st.ZoomMeetingDeletedOnZoom(ctx, store.Lease{}, m.ID, m.ZoomID); !ok || err != nil {
			t.Fatalf("mark deleted: %v %v", ok, err)
		}
		r = o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_state.deleted"), ja("zoom.meeting_deleted_explain"), ja("zoom.recreate"))
		wantNoText(t, r, ja("zoom.start_as_host"), m.JoinURL)
		wantRedirect(t, c.post(action("recreate"), url.Values{}), page)
		again := o.waitMeeting(t, m.ID, "re-created", func(x store.ZoomMeeting) bool { return created(x) && x.ZoomID != m.ZoomID })
		wantText(t, o.block(t, ev), again.JoinURL)

		// 管理対象外: the host unlinked; the meeting stays on Zoom.
		wantRedirect(t, c.post("/integrations/zoom/"+itoa(m.ConnID)+"/unlink", url.Values{}), "/integrations")
		r = o.block(t, ev)
		wantText(t, r, ja("zoom.meeting_state.unmanaged"), ja("zoom.meeting_unmanaged_explain"))
		if !r.doc(t).Has(`a[href="/integrations"]`) {
			t.Fatalf("no link to サービス連携: %s", r)
		}
		wantNoText(t, r, ja("zoom.start_as_host"))
		r = c.get(action("start"))
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("zoom.start_unmanaged"))

		// A meeting id of another event of the same organization is a 404.
		other := c.createEvent(eventSpec{Title: "別のイベント"})
		r = c.post(fmt.Sprintf("/events/%d/zoom-meetings/%d/retry", other, m.ID), url.Values{})
		wantStatus(t, r, http.StatusNotFound)
	})
}
