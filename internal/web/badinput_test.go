package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/testdb"
)

// TestOversizedBody: a form over 64 KiB answers 413 with a message saying
// so, and nothing is created.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	owner := newClient(t, a)
	owner.signup("大きすぎ", "big@example.com")
	eventID := owner.createEvent(eventSpec{Title: "通常イベント"})
	groupID := owner.addGroup(eventID, placeGroup("名古屋市"))
	scheduleID := owner.addSchedule(eventID, groupID, 3)
	public := owner.publicPath(eventID)

	huge := strings.Repeat("あ", 70<<10/3+1000) // > 64 KiB of UTF-8
	form := eventSpec{Title: "巨大イベント"}.form()
	form.Set("description", huge)
	r := owner.post("/events/new", form)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	wantText(t, r, ja("error.too_large"))
	wantNoText(t, owner.get("/events"), "巨大イベント")

	participant := newClient(t, a)
	key := participant.applyForm(public)
	f := applyValues(scheduleID, "大きな名前", "big-applicant@example.com", key)
	f.Set("padding", huge)
	r = participant.postApply(public, f)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	wantText(t, r, ja("error.too_large"))
	if rows := owner.applications(eventID); len(rows) != 0 {
		t.Fatalf("an oversized form created applications: %+v", rows)
	}

	// A body just under the limit is read: the limit is 64 KiB, not less.
	form = eventSpec{Title: "限界イベント"}.form()
	form.Set("padding", strings.Repeat("x", 63<<10))
	if r := owner.post("/events/new", form); r.Status != http.StatusSeeOther || !eventPathRE.MatchString(r.LocationPath()) {
		t.Fatalf("a 63 KiB form: %s", r)
	}
	wantText(t, owner.get("/events"), "限界イベント")
}

// TestMalformedForms: each malformed organizer or participant form answers
// 422 with the Japanese message of what is wrong, keeps what was typed, and
// creates nothing.
func TestMalformedForms(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("入力チェック", "input@example.com")
		eventID := owner.createEvent(eventSpec{Title: "入力チェック用イベント"})
		groupID := owner.addGroup(eventID, placeGroup("福岡市"))
		scheduleID := owner.addSchedule(eventID, groupID, 5)
		otherEvent := owner.createEvent(eventSpec{Title: "別のイベント"})
		otherGroup := owner.addGroup(otherEvent, placeGroup("札幌市"))
		otherSchedule := owner.addSchedule(otherEvent, otherGroup, 5)
		public := owner.publicPath(eventID)

		t.Run("event form", func(t *testing.T) {
			cases := []struct {
				name   string
				change url.Values
				want   string
			}{
				{"no title", url.Values{"title": {"  "}}, ja("validation.required")},
				{"paid without price", url.Values{"fee": {"paid"}, "price": {""}}, ja("validation.price_range", 10_000_000)},
				{"price not a number", url.Values{"fee": {"paid"}, "price": {"三千円"}}, ja("validation.price_range", 10_000_000)},
				{"bad time zone", url.Values{"time_zone": {"Mars/Olympus"}}, ja("validation.time_zone")},
				{"unknown fee", url.Values{"fee": {"maybe"}}, ja("validation.choose")},
				{"unknown status", url.Values{"status": {"secret"}}, ja("validation.choose")},
			}
			for _, tc := range cases {
				form := eventSpec{Title: "不正な入力 " + tc.name}.form()
				for k, v := range tc.change {
					form[k] = v
				}
				r := owner.post("/events/new", form)
				if r.Status != http.StatusUnprocessableEntity || !r.Has(tc.want) {
					t.Errorf("%s: want 422 with %q, got %s", tc.name, tc.want, r)
				}
			}
			r := owner.get("/events")
			wantNoText(t, r, "不正な入力")
		})

		t.Run("schedule form", func(t *testing.T) {
			path := fmt.Sprintf("/events/%d/groups/%d/schedules/new", eventID, groupID)
			day := futureDate(45)
			cases := []struct {
				name string
				form url.Values
				want string
			}{
				{"capacity not a number", scheduleForm(day, "10:00", "11:00", "たくさん"), ja("validation.capacity_range", 100_000)},
				{"capacity zero", scheduleForm(day, "10:00", "11:00", "0"), ja("validation.capacity_range", 100_000)},
				{"capacity too big", scheduleForm(day, "10:00", "11:00", "100001"), ja("validation.capacity_range", 100_000)},
				{"end before start", scheduleForm(day, "11:00", "10:00", "10"), ja("validation.ends_after_start")},
				{"end equals start", scheduleForm(day, "10:00", "10:00", "10"), ja("validation.ends_after_start")},
				{"no date", scheduleForm("", "10:00", "11:00", "10"), ja("validation.datetime")},
				{"bad date", scheduleForm("2026-02-30", "10:00", "11:00", "10"), ja("validation.datetime")},
				{"bad time", scheduleForm(day, "25:00", "26:00", "10"), ja("validation.datetime")},
			}
			for _, tc := range cases {
				r := owner.post(path, tc.form)
				if r.Status != http.StatusUnprocessableEntity || !r.Has(tc.want) {
					t.Errorf("%s: want 422 with %q, got %s", tc.name, tc.want, r)
					continue
				}
				// What was typed is kept.
				if r.doc(t).First(`input[name="capacity"]`).Attr("value") != tc.form.Get("capacity") {
					t.Errorf("%s: the form lost the capacity typed", tc.name)
				}
			}
			if ids := owner.scheduleIDs(eventID); len(ids) != 1 || !ids[scheduleID] {
				t.Fatalf("malformed schedules were created: %v", ids)
			}
		})

		t.Run("group form", func(t *testing.T) {
			path := fmt.Sprintf("/events/%d/groups/new", eventID)
			cases := []struct {
				name string
				form url.Values
				want string
			}{
				{"place without address", placeGroup(""), ja("validation.required")},
				{"url without url", urlGroup(""), ja("validation.required")},
				{"url not http", urlGroup("javascript:alert(1)"), ja("validation.url")},
				{"no venue", url.Values{"venue": {"moon"}}, ja("validation.choose")},
			}
			for _, tc := range cases {
				r := owner.post(path, tc.form)
				if r.Status != http.StatusUnprocessableEntity || !r.Has(tc.want) {
					t.Errorf("%s: want 422 with %q, got %s", tc.name, tc.want, r)
				}
			}
			r := owner.get(fmt.Sprintf("/events/%d", eventID))
			if n := strings.Count(r.Body, `class="card group"`); n != 1 {
				t.Fatalf("event has %d groups, want 1", n)
			}
		})

		t.Run("application form", func(t *testing.T) {
			participant := newClient(t, a)
			cases := []struct {
				name string
				form func(key string) url.Values
				want string
			}{
				{"bad email", func(k string) url.Values { return applyValues(scheduleID, "山田 花子", "hanako@", k) }, ja("validation.email")},
				{"email with display name", func(k string) url.Values {
					return applyValues(scheduleID, "山田 花子", "Hanako <hanako@example.com>", k)
				}, ja("validation.email")},
				{"no email", func(k string) url.Values { return applyValues(scheduleID, "山田 花子", "", k) }, ja("validation.required")},
				// Longer than Zoom takes for a registrant: refused here, not by Zoom later.
				{"email too long", func(k string) url.Values {
					return applyValues(scheduleID, "山田 花子", strings.Repeat("h", 120)+"@example.jp", k)
				}, ja("validation.too_long", 128)},
				{"email with a quoted local part", func(k string) url.Values {
					return applyValues(scheduleID, "山田 花子", `"hanako yamada"@example.jp`, k)
				}, ja("validation.email")},
				{"no name", func(k string) url.Values { return applyValues(scheduleID, "  ", "hanako@example.com", k) }, ja("validation.required")},
				{"name too long", func(k string) url.Values {
					return applyValues(scheduleID, strings.Repeat("長", 101), "hanako@example.com", k)
				}, ja("validation.too_long", 100)},
				{"no schedule", func(k string) url.Values {
					f := applyValues(0, "山田 花子", "hanako@example.com", k)
					f.Del("schedule_id")
					return f
				}, ja("validation.choose_schedule")},
				{"schedule not a number", func(k string) url.Values {
					f := applyValues(0, "山田 花子", "hanako@example.com", k)
					f.Set("schedule_id", "first")
					return f
				}, ja("validation.choose_schedule")},
				{"unknown schedule", func(k string) url.Values { return applyValues(999999, "山田 花子", "hanako@example.com", k) }, ja("validation.choose_schedule")},
				{"schedule of another event", func(k string) url.Values {
					return applyValues(otherSchedule, "山田 花子", "hanako@example.com", k)
				}, ja("validation.choose_schedule")},
			}
			for _, tc := range cases {
				key := participant.applyForm(public)
				r := participant.postApply(public, tc.form(key))
				if r.Status != http.StatusUnprocessableEntity || !r.Has(tc.want) {
					t.Errorf("%s: want 422 with %q, got %s", tc.name, tc.want, r)
					continue
				}
				// The form comes back with the same submit_key, so fixing
				// and resending it is still one application.
				if submitKey(t, r) != key {
					t.Errorf("%s: the form came back without its submit_key", tc.name)
				}
			}
			// A form kaisai did not render (no or a malformed key) starts over.
			for _, key := range []string{"", "short", strings.Repeat("!", 20)} {
				r := participant.postApply(public, applyValues(scheduleID, "山田 花子", "hanako@example.com", key))
				wantStatus(t, r, http.StatusBadRequest)
				wantText(t, r, ja("apply.stale_form"))
			}
			for _, ev := range []int64{eventID, otherEvent} {
				if rows := owner.applications(ev); len(rows) != 0 {
					t.Fatalf("malformed applications were created on event %d: %+v", ev, rows)
				}
			}
			r := participant.get(public)
			if got := seatsLeft(t, r, scheduleID); got != ja("public.seats_left_n", 5) {
				t.Fatalf("seats left %q after refused applications, want %q", got, ja("public.seats_left_n", 5))
			}
		})

		t.Run("unparseable body", func(t *testing.T) {
			req := owner.request(http.MethodPost, "/events/new", strings.NewReader("title=%zz&fee=free"))
			r := owner.do(req)
			wantStatus(t, r, http.StatusBadRequest)
			wantText(t, r, ja("error.bad_request"))
		})
	})
}

// TestUnknownIDs: ids that do not exist, or are not ids, answer 404 with a
// message, for organizers and participants alike.
func TestUnknownIDs(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	owner := newClient(t, a)
	owner.signup("404", "notfound@example.com")
	eventID := owner.createEvent(eventSpec{Title: "存在するイベント"})
	groupID := owner.addGroup(eventID, placeGroup("京都市"))
	draftID := owner.createEvent(eventSpec{Title: "下書きイベント", Draft: true})
	draftGroup := owner.addGroup(draftID, placeGroup("神戸市"))
	owner.addSchedule(draftID, draftGroup, 3)

	e, g := itoa(eventID), itoa(groupID)
	paths := []string{
		"/events/999999", "/events/abc", "/events/0", "/events/-1", "/events/1e3", "/events/" + e + "x",
		"/events/999999/edit", "/events/abc/applications",
		"/events/" + e + "/groups/999999/edit", "/events/" + e + "/groups/abc/edit",
		"/events/" + e + "/schedules/999999/edit", "/events/" + e + "/schedules/abc/delete",
		"/events/" + e + "/groups/" + g + "/schedules/999999/edit",
		"/no/such/page",
	}
	for _, p := range paths {
		r := owner.get(p)
		if r.Status != http.StatusNotFound || !r.Has(ja("error.not_found")) {
			t.Errorf("GET %s: want 404 with a message, got %s", p, r)
		}
	}
	posts := []string{
		"/events/999999/edit", "/events/abc/delete", "/events/" + e + "/groups/999999/delete",
		"/events/" + e + "/schedules/999999/delete", "/events/" + e + "/applications/999999/cancel",
		"/events/" + e + "/applications/abc/payment",
	}
	for _, p := range posts {
		r := owner.post(p, url.Values{"payment": {"paid"}})
		if r.Status != http.StatusNotFound || !r.Has(ja("error.not_found")) {
			t.Errorf("POST %s: want 404 with a message, got %s", p, r)
		}
	}

	// Participants: unknown slugs and tokens, and a draft's slug.
	anon := newClient(t, a)
	draftSlug := "/e/" + draftSlugOf(t, owner, draftID)
	for _, p := range []string{"/e/nosuchevent", "/a/nosuchtoken", draftSlug, draftSlug + "/seats"} {
		r := anon.get(p)
		if r.Status != http.StatusNotFound || !r.Has(ja("error.not_found")) {
			t.Errorf("GET %s: want 404 with a message, got %s", p, r)
		}
	}
	for _, p := range []string{"/e/nosuchevent/apply", draftSlug + "/apply", "/a/nosuchtoken/cancel"} {
		r := anon.post(p, applyValues(1, "名前", "a@example.com", strings.Repeat("k", 24)))
		if r.Status != http.StatusNotFound || !r.Has(ja("error.not_found")) {
			t.Errorf("POST %s: want 404 with a message, got %s", p, r)
		}
	}
	if rows := owner.applications(draftID); len(rows) != 0 {
		t.Fatalf("a draft event took applications: %+v", rows)
	}
}

// draftSlugOf publishes a draft just long enough to learn its slug, then
// makes it a draft again.
func draftSlugOf(t *testing.T, owner *client, eventID int64) string {
	t.Helper()
	edit := "/events/" + itoa(eventID) + "/edit"
	form := eventSpec{Title: "下書きイベント"}.form()
	wantRedirect(t, owner.post(edit, form), "/events/"+itoa(eventID))
	slug := strings.TrimPrefix(owner.publicPath(eventID), "/e/")
	form.Set("status", "draft")
	wantRedirect(t, owner.post(edit, form), "/events/"+itoa(eventID))
	r := owner.get("/events/" + itoa(eventID))
	wantText(t, r, ja("event.draft_hint"))
	return slug
}
