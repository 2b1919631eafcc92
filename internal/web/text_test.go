package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/testdb"
)

// notText are values no form field may hold, one-line or multi-line.
var notText = []struct{ name, value string }{
	{"NUL", "A\x00B"},
	{"invalid UTF-8", "A\xff\xfeB"},
	{"ESC", "A\x1b[31mB"},
	{"BEL", "A\aB"},
	{"C1 control", "A\u0085B"},
	{"RLO", "A\u202eB"},
	{"isolate", "A\u2066B\u2069"},
}

// notOneLine are values a one-line field may not hold, but a multi-line may.
var notOneLine = []struct{ name, value string }{
	{"CRLF", "A\r\nBcc: evil@example.com"},
	{"LF", "A\nB"},
	{"CR", "A\rB"},
	{"tab", "A\tB"},
}

// TestTextIsText: every form refuses invalid UTF-8, NUL, control characters
// and bidi overrides (and line breaks where the field is one line) with a
// 422 naming the field, and stores nothing; on both databases.
func TestTextIsText(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("文字チェック", "text@example.com")
		eventID := owner.createEvent(eventSpec{Title: "文字チェック用イベント"})
		groupID := owner.addGroup(eventID, placeGroup("仙台市"))
		scheduleID := owner.addSchedule(eventID, groupID, 50)
		public := owner.publicPath(eventID)
		participant := newClient(t, a)
		participant.apply(public, scheduleID, "正しい 名前", "good@example.com")

		// refused posts f to path as c, wanting a 422 that names label.
		refused := func(t *testing.T, c *client, path string, f url.Values, label string) {
			t.Helper()
			r := c.post(path, f)
			if r.Status != http.StatusUnprocessableEntity || !r.Has(ja("error.bad_text", label)) {
				t.Errorf("want 422 naming %q, got %s", label, r)
			}
		}

		t.Run("public application form", func(t *testing.T) {
			bad := append(append([]struct{ name, value string }{}, notText...), notOneLine...)
			for i, tc := range bad {
				key := participant.applyForm(public)
				refused(t, participant, public+"/apply",
					applyValues(scheduleID, tc.value, fmt.Sprintf("p%d@example.com", i), key), ja("field.full_name"))
				key = participant.applyForm(public)
				refused(t, participant, public+"/apply",
					applyValues(scheduleID, "名前", "p"+tc.value+"@example.com", key), ja("field.email"))
			}
			rows := owner.applications(eventID)
			if len(rows) != 1 || rows[0].Email != "good@example.com" {
				t.Fatalf("refused applications were stored: %+v", rows)
			}
		})

		t.Run("in English", func(t *testing.T) {
			english := newClient(t, a)
			english.setCookie("kaisai_lang", "en")
			key := english.applyForm(public)
			r := english.postApply(public, applyValues(scheduleID, "A\x00B", "en@example.com", key))
			if r.Status != http.StatusUnprocessableEntity || !r.Has(en("error.bad_text", en("field.full_name"))) {
				t.Fatalf("want 422 in English, got %s", r)
			}
		})

		t.Run("event form", func(t *testing.T) {
			for _, tc := range append(append([]struct{ name, value string }{}, notText...), notOneLine...) {
				f := eventSpec{Title: "題名" + tc.value}.form()
				f.Set("description", "正しい説明")
				refused(t, owner, "/events/new", f, ja("field.title"))
			}
			for _, tc := range notText {
				f := eventSpec{Title: "説明が不正 " + tc.name}.form()
				f.Set("description", "説明"+tc.value)
				refused(t, owner, "/events/new", f, ja("field.description"))
			}
			r := owner.get("/events")
			wantNoText(t, r, "題名A", "説明が不正")

			// A description is multi-line: the browser's CRLF is kept as LF.
			f := eventSpec{Title: "複数行の説明"}.form()
			f.Set("description", "一行目\r\n二行目\r\n\tインデント")
			r = owner.post("/events/new", f)
			m := eventPathRE.FindStringSubmatch(r.LocationPath())
			if r.Status != http.StatusSeeOther || m == nil {
				t.Fatalf("a multi-line description: %s", r)
			}
			id, _ := strconv.ParseInt(m[1], 10, 64)
			e, err := a.Store.EventByIDUnscoped(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if e.Description != "一行目\n二行目\n\tインデント" {
				t.Fatalf("description stored as %q", e.Description)
			}
		})

		t.Run("other forms", func(t *testing.T) {
			appID := owner.applications(eventID)[0].ID
			appPath := fmt.Sprintf("/events/%d/applications/%d", eventID, appID)
			mailForm := func(subject, body string) url.Values {
				f := url.Values{}
				for _, k := range event.MailKinds {
					f.Set(string(k)+"_subject", "件名 {event}")
					f.Set(string(k)+"_body", "本文 {name}")
				}
				f.Set("applied_subject", subject)
				f.Set("applied_body", body)
				return f
			}
			mailSubject := ja("mail.kind.applied") + " " + ja("mail_templates.subject")
			mailBody := ja("mail.kind.applied") + " " + ja("mail_templates.body")
			cases := []struct {
				name  string
				c     *client
				path  string
				form  url.Values
				label string
			}{
				{"group name", owner, fmt.Sprintf("/events/%d/groups/new", eventID),
					url.Values{"name": {"第2部\x1b"}, "venue": {"place"}, "address": {"仙台市"}}, ja("field.group_name")},
				{"group address", owner, fmt.Sprintf("/events/%d/groups/new", eventID),
					url.Values{"venue": {"place"}, "address": {"仙台市\r\n青葉区"}}, ja("field.address")},
				{"mail subject with a line break", owner, fmt.Sprintf("/events/%d/mail", eventID),
					mailForm("件名\r\nBcc: evil@example.com", "本文"), mailSubject},
				{"mail body with NUL", owner, fmt.Sprintf("/events/%d/mail", eventID),
					mailForm("件名", "本文\x00"), mailBody},
				{"memo with ESC", owner, appPath + "/memo", url.Values{"memo": {"秘密のメモ\x1b[2J"}}, ja("applications.memo")},
				{"applicant's name", owner, appPath + "/edit",
					url.Values{"name": {"山田\u202e"}, "email": {"good@example.com"}}, ja("field.full_name")},
				{"sign-up organization", newClient(t, a), "/signup",
					url.Values{"org_name": {"団体\x00"}, "name": {"担当"}, "email": {"new@example.com"}, "password": {password}},
					ja("field.org_name")},
				{"login e-mail", newClient(t, a), "/login",
					url.Values{"email": {"text@example.com\x00"}, "password": {password}}, ja("field.email")},
				{"links e-mail", newClient(t, a), public + "/links",
					url.Values{"email": {"good@example.com\r\nBcc: evil@example.com"}}, ja("field.email")},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { refused(t, tc.c, tc.path, tc.form, tc.label) })
			}
			wantNoText(t, owner.get(fmt.Sprintf("/events/%d", eventID)), "第2部", "青葉区")
			wantNoText(t, owner.get(fmt.Sprintf("/events/%d/mail", eventID)), "Bcc: evil")
			r := owner.get(appPath)
			wantNoText(t, r, "秘密のメモ", "山田")
		})

		t.Run("field names", func(t *testing.T) {
			key := participant.applyForm(public)
			f := applyValues(scheduleID, "名前", "names@example.com", key)
			f.Set("x\x00y", "1")
			r := participant.postApply(public, f)
			if r.Status != http.StatusUnprocessableEntity || !r.Has(ja("error.bad_text_name")) {
				t.Fatalf("want 422 for a bad field name, got %s", r)
			}
			if rows := owner.applications(eventID); len(rows) != 1 {
				t.Fatalf("refused applications were stored: %+v", rows)
			}
		})
	})
}

// TestURLIsText: a path that is not text is no page (404); a query value or
// name that is not text answers 422 naming it.
func TestURLIsText(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("URLチェック", "url@example.com")
		eventID := owner.createEvent(eventSpec{Title: "URLチェック用イベント"})
		public := owner.publicPath(eventID)
		visitor := newClient(t, a)

		for _, p := range []string{"/e/%00", "/e/%FF%FE", "/e/abc%1B", "/a/%E2%80%AE", "/events/1%0A"} {
			r := visitor.get(p)
			if r.Status != http.StatusNotFound || !r.Has(ja("error.not_found")) {
				t.Errorf("GET %s: want 404, got %s", p, r)
			}
		}
		for _, tc := range []struct {
			c          *client
			path, want string
		}{
			{visitor, public + "?schedule=1%00", ja("error.bad_text", ja("field.schedule"))},
			{visitor, public + "?schedule=%FF", ja("error.bad_text", ja("field.schedule"))},
			{visitor, "/login?next=/events%0D%0A", ja("error.bad_text", "next")},
			{owner, fmt.Sprintf("/events/%d/applications?q=%%E2%%80%%AE", eventID), ja("error.bad_text", ja("applications.search"))},
			{visitor, public + "?%00=1", ja("error.bad_text_name")},
		} {
			r := tc.c.get(tc.path)
			if r.Status != http.StatusUnprocessableEntity || !r.Has(tc.want) {
				t.Errorf("GET %s: want 422 with %q, got %s", tc.path, tc.want, r)
			}
		}
		// Text, even unusual, is served.
		r := visitor.get(public + "?schedule=" + url.QueryEscape("日程"))
		wantStatus(t, r, http.StatusOK)
	})
}

// FuzzFormDecoding posts raw bodies to the public application form and the
// event form through the whole of a running kaisai: no input answers 5xx,
// and whatever is stored is text. Its seeds run under go test, on SQLite
// and, when configured, PostgreSQL.
func FuzzFormDecoding(f *testing.F) {
	for _, s := range []string{
		"",
		"name=A%00B",
		"name=A%FFB",
		"name=%1B%5B31m",
		"name=A%0D%0ABcc%3A+x%40example.com",
		"name=%E2%80%AE",
		"name=%C0%80",
		"name=%ED%A0%80",
		"email=a%00%40example.com",
		"title=A%00B",
		"title=A%0AB",
		"description=%E4%B8%80%0D%0A%09%E4%BA%8C",
		"description=%00",
		"%00=1",
		"%FF=%FF",
		"name=%",
		"name=%zz",
		"name=\x00\xff",
		";;;",
		"&&=&=",
		"name=" + strings.Repeat("%E3%81%82", 60),
		"schedule_id=-1",
		"schedule_id=99999999999999999999",
		"submit_key=%00",
		"price=1e9&fee=paid",
		"time_zone=%00",
		"status=%E2%80%AE",
	} {
		f.Add([]byte(s))
	}

	type target struct {
		a          *app.App
		owner      *client
		orgID      int64
		public     string
		scheduleID int64
	}
	dbs := []testdb.DB{testdb.SQLite(f)}
	if os.Getenv(testdb.PostgresEnv) != "" {
		dbs = append(dbs, testdb.Postgres(f))
	}
	var targets []target
	for i, db := range dbs {
		a := apptest.Start(f, db)
		owner := newClient(f, a)
		email := fmt.Sprintf("fuzz%d@example.com", i)
		owner.signup("ファズ", email)
		eventID := owner.createEvent(eventSpec{Title: "ファズ用イベント"})
		groupID := owner.addGroup(eventID, placeGroup("那覇市"))
		scheduleID := owner.addSchedule(eventID, groupID, 100_000)
		m, _, err := a.Store.MemberForLogin(context.Background(), email)
		if err != nil {
			f.Fatal(err)
		}
		targets = append(targets, target{a, owner, m.OrgID, owner.publicPath(eventID), scheduleID})
	}

	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, tg := range targets {
			// What the fuzzer sends comes first: url.Values.Get takes a
			// field's first value, so it overrides the valid defaults.
			key := fmt.Sprintf("fuzzkey%016d", n.Add(1))
			apply := string(body) + fmt.Sprintf("&name=fuzz&email=%s%%40example.com&schedule_id=%d&submit_key=%s",
				key, tg.scheduleID, key)
			r := postRaw(t, tg.owner, tg.public+"/apply", apply)
			if r.Status >= 500 {
				t.Fatalf("apply answered %s", r)
			}
			if m := tokenPathRE.FindStringSubmatch(r.LocationPath()); r.Status == http.StatusSeeOther && m != nil {
				ap, err := tg.a.Store.ApplicationByToken(context.Background(), m[1])
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{ap.Name, ap.Email} {
					if err := event.CheckText(s, false); err != nil {
						t.Fatalf("stored an application with %q: %v", s, err)
					}
				}
			}

			create := string(body) + "&title=fuzz&fee=free&time_zone=Asia%2FTokyo&status=draft"
			r = postRaw(t, tg.owner, "/events/new", create)
			if r.Status >= 500 {
				t.Fatalf("event form answered %s", r)
			}
			if m := eventPathRE.FindStringSubmatch(r.LocationPath()); r.Status == http.StatusSeeOther && m != nil {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				e, err := tg.a.Store.Event(context.Background(), tg.orgID, id)
				if err != nil {
					t.Fatal(err)
				}
				if event.CheckText(e.Title, false) != nil || event.CheckText(e.Description, true) != nil || event.CheckText(e.TimeZone, false) != nil {
					t.Fatalf("stored an event with %q, %q, %q", e.Title, e.Description, e.TimeZone)
				}
			}
		}
	})
}

// postRaw posts body as a form, as it is, with c's cookies.
func postRaw(t *testing.T, c *client, path, body string) *resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", path, err)
	}
	return &resp{Method: req.Method, Path: path, Status: res.StatusCode, Header: res.Header, Body: string(b)}
}
