package web_test

// The organizer's 申込者一覧 and applicant page over real HTTP: count,
// search, schedule filter and paging; 受付 and 繰り上げ returning to where the
// organizer was (and never off-site); 機密事項メモ, 登録内容修正 and history;
// 削除 with its confirmation; the htmx refresh of the list.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaisai/internal/htmltest"
	"kaisai/internal/i18n"
	"kaisai/internal/testdb"
)

// history reads an applicant page's history: what, and by whom.
func history(t *testing.T, r *resp) [][2]string {
	t.Helper()
	var es [][2]string
	for _, li := range r.doc(t).Find("ol.activity li") {
		by := li.First("small").Text()
		what := strings.TrimSuffix(strings.TrimPrefix(li.Text(), li.First("time").Text()), by)
		es = append(es, [2]string{strings.TrimSpace(what), by})
	}
	return es
}

// listRow is a row of a page of 申込者一覧 with what the tests look at.
type listRow struct {
	applicationRow
	CheckIn string // the 受付 cell's text
	Text    string // the row's text
	node    htmltest.Node
}

// listRows reads the rows of a page of 申込者一覧.
func listRows(t *testing.T, r *resp) []listRow {
	t.Helper()
	var rows []listRow
	for _, tr := range r.doc(t).Find("tr.application") {
		row := listRow{Text: tr.Text(), node: tr}
		row.Email = tr.Attr("data-email")
		row.ID, _ = strconv.ParseInt(tr.Attr("data-id"), 10, 64)
		row.Status = applicationBadge(tr)
		row.CheckIn = tr.First("td.checkin-cell").Text()
		rows = append(rows, row)
	}
	return rows
}

func rowByEmail(t *testing.T, r *resp, email string) listRow {
	t.Helper()
	for _, row := range listRows(t, r) {
		if row.Email == email {
			return row
		}
	}
	t.Fatalf("%s is not on the page: %s", email, r)
	return listRow{}
}

// count is the number the list says it holds.
func count(t *testing.T, r *resp) string {
	t.Helper()
	c := r.doc(t).First("#applicant-count")
	if !c.Valid() {
		t.Fatalf("no applicant count: %s", r)
	}
	return c.Text()
}

// link is the href of the page's link of relation rel ("prev", "next"), or "".
func link(t *testing.T, r *resp, rel string) string {
	t.Helper()
	return r.doc(t).First(`a[rel="` + rel + `"]`).Attr("href")
}

// actionForm returns the back value of a row's form that posts to
// …/{action}, and whether the row has that form (its button).
func actionForm(row listRow, action string) (back string, ok bool) {
	for _, f := range row.node.Find(`form[method="post"]`) {
		if a := f.Attr("action"); strings.HasPrefix(a, "/events/") && strings.HasSuffix(a, "/"+action) {
			if in := f.First(`input[type="hidden"][name="back"]`); in.Valid() {
				return in.Attr("value"), true
			}
		}
	}
	return "", false
}

// addScheduleOn adds a schedule days ahead (addSchedule always uses 60 days)
// and returns its id.
func (c *client) addScheduleOn(eventID, groupID int64, days, capacity int) int64 {
	c.t.Helper()
	before := c.scheduleIDs(eventID)
	r := c.post(fmt.Sprintf("/events/%d/groups/%d/schedules/new", eventID, groupID),
		scheduleForm(futureDate(days), "10:00", "12:00", fmt.Sprint(capacity)))
	wantRedirect(c.t, r, fmt.Sprintf("/events/%d", eventID))
	for id := range c.scheduleIDs(eventID) {
		if !before[id] {
			return id
		}
	}
	c.t.Fatalf("the new schedule is not on event %d's page", eventID)
	return 0
}

// flashOf is the flash key a redirect leaves for the page it leads to (in
// the flash cookie it sets), or "".
func flashOf(r *resp) string {
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == "kaisai_flash" && c.MaxAge > 0 {
			key, _, _ := strings.Cut(c.Value, "~")
			return key
		}
	}
	return ""
}

// TestApplicantList: 60 applications on two schedules: the count, search,
// the schedule filter, paging, 受付 from a filtered page, back links that
// stay on the site, and the htmx refresh.
func TestApplicantList(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("一覧", "list@example.com")
		eventID := owner.createEvent(eventSpec{Title: "六十人の会"})
		groupID := owner.addGroup(eventID, placeGroup("札幌市"))
		s1 := owner.addSchedule(eventID, groupID, 100)
		s2 := owner.addScheduleOn(eventID, groupID, 61, 10)
		public := owner.publicPath(eventID)
		p := newClient(t, a)
		for i := range 58 {
			p.apply(public, s1, fmt.Sprintf("参加者 %02d", i), fmt.Sprintf("p%02d@example.com", i))
		}
		p.apply(public, s2, "山田 花子", "Hanako.Yamada@Example.JP")
		p.apply(public, s2, "佐藤 次郎", "jiro@example.org")
		list := fmt.Sprintf("/events/%d/applications", eventID)

		t.Run("the list shows 50 a page, oldest first, under the count of all", func(t *testing.T) {
			// Page 1: the oldest 50, the count of all, a link to the next page only.
			r := owner.get(list)
			wantStatus(t, r, http.StatusOK)
			wantEqual(t, "count", count(t, r), ja("applications.count", 60))
			rows := listRows(t, r)
			if len(rows) != 50 || rows[0].Email != "p00@example.com" || rows[49].Email != "p49@example.com" {
				t.Fatalf("page 1: %d rows, %+v … ", len(rows), rows[0].applicationRow)
			}
			wantText(t, r, ja("applications.page_of", 1, 2))
			if prev := link(t, r, "prev"); prev != "" {
				t.Errorf("page 1 links a previous page %q", prev)
			}
			next := link(t, r, "next")
			if next != list+"?page=2" {
				t.Fatalf("page 1's next link %q, want %s?page=2", next, list)
			}
			r = owner.get(next)
			wantStatus(t, r, http.StatusOK)
			rows = listRows(t, r)
			if len(rows) != 10 || rows[0].Email != "p50@example.com" || rows[9].Email != "jiro@example.org" {
				t.Fatalf("page 2: %+v", rows)
			}
			wantEqual(t, "count on page 2", count(t, r), ja("applications.count", 60))
			wantText(t, r, ja("applications.page_of", 2, 2))
			if n := link(t, r, "next"); n != "" {
				t.Errorf("the last page links a next page %q", n)
			}
			if prev := link(t, r, "prev"); prev != list {
				t.Errorf("page 2's previous link %q, want %s", prev, list)
			}
			// A page that no longer exists (the organizer promoted or deleted
			// the last row of the last page, and back returns there) shows the
			// last page, not "no applications yet" under "60件".
			t.Run("page past the last", func(t *testing.T) {
				r := owner.get(list + "?page=3")
				if r.Status == http.StatusSeeOther || r.Status == http.StatusFound {
					r = owner.get(r.Location())
				}
				wantStatus(t, r, http.StatusOK)
				if rows := listRows(t, r); len(rows) != 10 || rows[0].Email != "p50@example.com" {
					t.Errorf("page 3 of 2 shows %d rows under %q, want the last page's 10", len(rows), count(t, r))
				}
				wantNoText(t, r, ja("applications.empty"), ja("applications.page_of", 3, 2))
			})
		})

		t.Run("a search matches part of the name or the e-mail, ASCII case ignored", func(t *testing.T) {
			// Search: part of the name or the e-mail, ASCII case ignored.
			for _, tc := range []struct {
				q    string
				want []string
			}{
				{"hanako", []string{"Hanako.Yamada@Example.JP"}},
				{"HANAKO.yamada", []string{"Hanako.Yamada@Example.JP"}},
				{"山田", []string{"Hanako.Yamada@Example.JP"}},
				{"次郎", []string{"jiro@example.org"}},
				{"p5", []string{"p50@example.com", "p51@example.com", "p52@example.com", "p53@example.com",
					"p54@example.com", "p55@example.com", "p56@example.com", "p57@example.com"}},
				{"参加者 0", []string{"p00@example.com", "p01@example.com", "p02@example.com", "p03@example.com",
					"p04@example.com", "p05@example.com", "p06@example.com", "p07@example.com", "p08@example.com", "p09@example.com"}},
				{"%", nil},
				{"nobody", nil},
			} {
				r := owner.get(list + "?q=" + url.QueryEscape(tc.q))
				wantStatus(t, r, http.StatusOK)
				var got []string
				for _, row := range listRows(t, r) {
					got = append(got, row.Email)
				}
				if strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Errorf("q=%q: %v, want %v", tc.q, got, tc.want)
				}
				wantEqual(t, "count for q="+tc.q, count(t, r), ja("applications.count", len(tc.want)))
				if len(tc.want) == 0 {
					wantText(t, r, ja("applications.none_match"))
				}
				// The search box keeps what was searched.
				if r.doc(t).First(`input[name="q"]`).Attr("value") != tc.q {
					t.Errorf("q=%q: the search box does not keep it", tc.q)
				}
			}
		})

		t.Run("a search survives paging", func(t *testing.T) {
			// The search survives paging.
			r := owner.get(list + "?q=" + url.QueryEscape("@example.com"))
			wantEqual(t, "count for @example.com", count(t, r), ja("applications.count", 58))
			next := link(t, r, "next")
			if u, err := url.Parse(next); err != nil || u.Path != list || u.Query().Get("q") != "@example.com" || u.Query().Get("page") != "2" {
				t.Fatalf("next link of a search: %q", next)
			}
			if rows := listRows(t, owner.get(next)); len(rows) != 8 || rows[7].Email != "p57@example.com" {
				t.Fatalf("page 2 of the search: %+v", rows)
			}
		})

		t.Run("the schedule filter narrows the list and shows its choice", func(t *testing.T) {
			// The schedule filter.
			r := owner.get(fmt.Sprintf("%s?schedule=%d", list, s2))
			wantEqual(t, "count of schedule 2", count(t, r), ja("applications.count", 2))
			if rows := listRows(t, r); len(rows) != 2 || rows[0].Email != "Hanako.Yamada@Example.JP" || rows[1].Email != "jiro@example.org" {
				t.Fatalf("schedule 2: %+v", rows)
			}
			if _, selected := r.doc(t).First(fmt.Sprintf(`select[name="schedule"] option[value="%d"]`, s2)).LookupAttr("selected"); !selected {
				t.Errorf("the schedule filter does not show its choice: %s", r)
			}
			r = owner.get(fmt.Sprintf("%s?schedule=%d&q=%s", list, s2, url.QueryEscape("jiro")))
			if rows := listRows(t, r); len(rows) != 1 || rows[0].Email != "jiro@example.org" {
				t.Fatalf("schedule 2 and q=jiro: %+v", rows)
			}
			r = owner.get(fmt.Sprintf("%s?schedule=%d", list, s1))
			wantEqual(t, "count of schedule 1", count(t, r), ja("applications.count", 58))
		})

		t.Run("受付 on a page of a search returns there, says when, and can be undone", func(t *testing.T) {
			// 受付 from page 2 of a search: the row says 受付済 with the time, on
			// the same page.
			filtered := list + "?page=2&q=" + url.QueryEscape("@example.com")
			r := owner.get(filtered)
			row := rowByEmail(t, r, "p55@example.com")
			if row.CheckIn != "–" {
				t.Fatalf("before 受付 the cell says %q", row.CheckIn)
			}
			back, ok := actionForm(row, "checkin")
			if !ok || !strings.Contains(row.Text, ja("applications.check_in")) {
				t.Fatalf("no 受付する button on the row: %s", row.node.HTML())
			}
			before := time.Now()
			r = owner.post(fmt.Sprintf("%s/%d/checkin", list, row.ID), url.Values{"checked_in": {"1"}, "back": {back}})
			after := time.Now()
			loc := wantRedirect(t, r, list)
			u, _ := url.Parse(loc)
			if q := u.Query(); q.Get("page") != "2" || q.Get("q") != "@example.com" || flashOf(r) != "flash.saved" {
				t.Fatalf("受付 returned to %q, want page 2 of the search", loc)
			}
			r = owner.get(loc)
			wantText(t, r, ja("flash.saved"))
			row = rowByEmail(t, r, "p55@example.com")
			at := []string{i18n.DateTime(i18n.Japanese, before, tokyo), i18n.DateTime(i18n.Japanese, after, tokyo)}
			// 受付済, when, and how: (手動).
			src := " (" + ja("checkin_source.manual") + ")"
			if want := ja("applications.checked_in"); row.CheckIn != want+" "+at[0]+src && row.CheckIn != want+" "+at[1]+src {
				t.Errorf("after 受付 the cell says %q, want %s %s%s", row.CheckIn, want, at[1], src)
			}
			if _, ok := actionForm(row, "checkin"); !ok || !strings.Contains(row.Text, ja("applications.undo_check_in")) {
				t.Errorf("a checked-in row does not offer to undo: %s", row.node.HTML())
			}
			if other := rowByEmail(t, r, "p56@example.com"); other.CheckIn != "–" {
				t.Errorf("another row checked in too: %q", other.CheckIn)
			}
			// 受付 again (another tab): still the first time. Then undo.
			first := row.CheckIn
			wantRedirect(t, owner.post(fmt.Sprintf("%s/%d/checkin", list, row.ID), url.Values{"checked_in": {"1"}, "back": {back}}), list)
			if got := rowByEmail(t, owner.get(filtered), "p55@example.com").CheckIn; got != first {
				t.Errorf("a second 受付 changed the cell to %q, want %q", got, first)
			}
			wantRedirect(t, owner.post(fmt.Sprintf("%s/%d/checkin", list, row.ID), url.Values{"checked_in": {"0"}, "back": {back}}), list)
			if got := rowByEmail(t, owner.get(filtered), "p55@example.com").CheckIn; got != "–" {
				t.Errorf("after undo the cell says %q", got)
			}
		})

		t.Run("back leads only to kaisai's own pages", func(t *testing.T) {
			// back: the list (any filters) and the applicant's page are
			// followed; anything off the site is not.
			id := rowByEmail(t, owner.get(list+"?q=p55"), "p55@example.com").ID
			checkin := fmt.Sprintf("%s/%d/checkin", list, id)
			for _, tc := range []struct{ back, want string }{
				{list, list},
				{list + "?schedule=1&page=2", list + "?schedule=1&page=2"},
				{fmt.Sprintf("%s/%d", list, id), fmt.Sprintf("%s/%d", list, id)},
				{"", list},
				{"https://evil.example/", list},
				{"//evil.example", list},
				{"//evil.example" + list, list},
				{"https://evil.example" + list, list},
				{`/\evil.example`, list},
				{list + "//evil.example", list},
				{list + "/..//evil.example", list},
				{"/events/0/applications", list},
				{"/events", list},
				{"javascript:alert(1)", list},
			} {
				r := owner.post(checkin, url.Values{"checked_in": {"1"}, "back": {tc.back}})
				if r.Status != http.StatusSeeOther {
					t.Errorf("back=%q: %s", tc.back, r)
					continue
				}
				loc, err := url.Parse(r.Location())
				if err != nil || loc.Host != "" || loc.Scheme != "" || strings.HasPrefix(r.Location(), "//") {
					t.Errorf("back=%q led off the site to %q", tc.back, r.Location())
					continue
				}
				if got := loc.String(); got != tc.want {
					t.Errorf("back=%q led to %q, want %q", tc.back, r.Location(), tc.want)
				}
			}
		})

		t.Run("htmx's refresh is the list alone, with its filters", func(t *testing.T) {
			// htmx's refresh: only the list, with its filters.
			r := owner.get(fmt.Sprintf("%s?schedule=%d", list, s2), "HX-Request", "true")
			wantStatus(t, r, http.StatusOK)
			if strings.Contains(strings.ToLower(r.Body), "<html") || strings.Contains(r.Body, "<head") ||
				!strings.HasPrefix(strings.TrimSpace(r.Body), `<div id="applications"`) {
				t.Fatalf("the htmx refresh is not the list fragment: %s", r)
			}
			if rows := listRows(t, r); len(rows) != 2 || count(t, r) != ja("applications.count", 2) {
				t.Fatalf("the htmx refresh of schedule 2: %+v", rows)
			}
			if !htmltest.Fragment(t, r.Body).Has(fmt.Sprintf(`[hx-get="%s?schedule=%d"]`, list, s2)) {
				t.Errorf("the fragment does not refresh itself with its filters: %s", r)
			}
			// Without the header: the whole page.
			if r = owner.get(list); !strings.Contains(r.Body, "<html") {
				t.Errorf("the list without HX-Request is not a whole page: %s", r)
			}
		})
	})
}

// TestApplicantPromote: 繰り上げる with no free seat says why and changes
// nothing; with one, the applicant is 申込済 and the seat taken.
func TestApplicantPromote(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("繰り上げ", "promote@example.com")
		eventID := owner.createEvent(eventSpec{Title: "一席の会", Waitlist: true})
		groupID := owner.addGroup(eventID, placeGroup("福岡市"))
		scheduleID := owner.addSchedule(eventID, groupID, 1)
		public := owner.publicPath(eventID)
		list := fmt.Sprintf("/events/%d/applications", eventID)
		seated := newClient(t, a).apply(public, scheduleID, "先着 一郎", "first@example.com")
		waiting := newClient(t, a)
		token := waiting.apply(public, scheduleID, "待ち 二郎", "second@example.com")

		r := owner.get(list)
		row := rowByEmail(t, r, "second@example.com")
		back, ok := actionForm(row, "promote")
		if !ok || !strings.Contains(row.Text, ja("applications.promote")) {
			t.Fatalf("no 繰り上げる button on the waitlisted row: %s", row.node.HTML())
		}
		if _, ok := actionForm(rowByEmail(t, r, "first@example.com"), "promote"); ok {
			t.Error("an applied row offers 繰り上げる")
		}
		if _, ok := actionForm(row, "checkin"); ok {
			t.Error("a waitlisted row offers 受付")
		}
		promote := fmt.Sprintf("%s/%d/promote", list, row.ID)

		// No free seat.
		r = owner.post(promote, url.Values{"back": {back}})
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("applications.no_seat_for_promotion"))
		if st, _ := applicationStatus(t, waiting.get("/a/"+token)); st != ja("application_status.waitlisted") {
			t.Fatalf("a refused promotion made the applicant %q", st)
		}
		wantEqual(t, "seats", seatsLeft(t, waiting.get(public), scheduleID), ja("public.full_waitlist"))
		// Nor may a waitlisted applicant be checked in.
		r = owner.post(fmt.Sprintf("%s/%d/checkin", list, row.ID), url.Values{"checked_in": {"1"}, "back": {back}})
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("applications.checkin_not_applied"))

		// The seated one cancels; now the seat is free.
		wantRedirect(t, newClient(t, a).post("/a/"+seated+"/cancel", nil), "/a/"+seated)
		wantEqual(t, "seats after cancel", seatsLeft(t, waiting.get(public), scheduleID), ja("public.seats_left_n", 1))
		r = owner.post(promote, url.Values{"back": {back}})
		loc := wantRedirect(t, r, list)
		if flashOf(r) != "flash.promoted" {
			t.Errorf("promote redirect %q, want flash.promoted", loc)
		}
		r = owner.get(loc)
		wantText(t, r, ja("flash.promoted"))
		row = rowByEmail(t, r, "second@example.com")
		if row.Status != ja("application_status.applied") {
			t.Fatalf("promoted row says %q", row.Status)
		}
		if _, ok := actionForm(row, "promote"); ok {
			t.Error("a promoted row still offers 繰り上げる")
		}
		if st, _ := applicationStatus(t, waiting.get("/a/"+token)); st != ja("application_status.applied") {
			t.Fatalf("the promoted applicant's page says %q", st)
		}
		wantEqual(t, "seats after promotion", seatsLeft(t, waiting.get(public), scheduleID), ja("public.full_waitlist"))
		r = owner.get(fmt.Sprintf("%s/%d", list, row.ID))
		wantText(t, r, ja("activity.promoted"), "担当 繰り上げ")

		// Promoting again: not waitlisted.
		r = owner.post(promote, url.Values{"back": {back}})
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, ja("applications.not_waitlisted"))
	})
}

// TestApplicantPage: the applicant's page with 機密事項メモ, 登録内容修正 and
// history; a memo too long or a bad e-mail is refused and nothing changes.
func TestApplicantPage(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("詳細", "detail@example.com")
		eventID := owner.createEvent(eventSpec{Title: "詳細の会"})
		groupID := owner.addGroup(eventID, placeGroup("名古屋市"))
		scheduleID := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)
		p := newClient(t, a)
		token := p.apply(public, scheduleID, "詳細 太郎", "taro@example.com")
		p.apply(public, scheduleID, "別の 花子", "hanako@example.com")
		list := fmt.Sprintf("/events/%d/applications", eventID)
		id := rowByEmail(t, owner.get(list), "taro@example.com").ID
		self := fmt.Sprintf("%s/%d", list, id)

		r := owner.get(self)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "詳細 太郎", "taro@example.com", ja("applications.memo"), ja("applications.memo_note"),
			ja("applications.edit"), ja("applications.activity"), ja("activity.applied"), ja("applications.by_participant"),
			"/a/"+token)
		for _, form := range []string{self + "/memo", self + "/edit"} {
			if !r.doc(t).Has(`form[method="post"][action="` + form + `"]`) {
				t.Fatalf("no form posting to %s: %s", form, r)
			}
		}
		if !r.doc(t).Has(`a[href="` + self + `/delete"]`) {
			t.Errorf("no link to delete: %s", r)
		}

		// A memo over 2,000 characters: 422 with the message, nothing saved.
		long := strings.Repeat("あ", 2001)
		r = owner.post(self+"/memo", url.Values{"memo": {long}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.too_long", 2000))
		r = owner.get(self)
		if strings.Contains(r.Body, "あああ") {
			t.Fatalf("the refused memo was saved: %s", r)
		}
		wantNoText(t, r, ja("activity.memo"))
		// 2,000 is allowed.
		memo := strings.Repeat("い", 1990) + "0123456789"
		r = owner.post(self+"/memo", url.Values{"memo": {memo}})
		loc := wantRedirect(t, r, self)
		r = owner.get(loc)
		wantText(t, r, ja("flash.saved"), memo, ja("activity.memo"), "担当 詳細")
		if !strings.Contains(rowByEmail(t, owner.get(list), "taro@example.com").Text, ja("applications.has_memo")) {
			t.Error("the list does not mark the row as having a memo")
		}

		// 登録内容修正 with a bad e-mail: 422, the old data kept.
		r = owner.post(self+"/edit", url.Values{"name": {"変更 次郎"}, "email": {"not-an-email"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.email"))
		// … and with the address of another applicant to the schedule.
		r = owner.post(self+"/edit", url.Values{"name": {"変更 次郎"}, "email": {"HANAKO@example.com"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("apply.already_applied"))
		r = owner.post(self+"/edit", url.Values{"name": {""}, "email": {"new@example.com"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.required"))
		r = owner.get(self)
		wantText(t, r, "詳細 太郎", "taro@example.com")
		wantNoText(t, r, "変更 次郎", "new@example.com")
		if h := history(t, r); len(h) != 2 || h[1][0] != ja("activity.memo") {
			t.Errorf("history after refused edits: %q, want applied and memo only", h)
		}
		if row := rowByEmail(t, owner.get(list), "taro@example.com"); row.ID != id {
			t.Fatalf("the list shows another row for taro: %+v", row)
		}
		if st, _ := applicationStatus(t, p.get("/a/"+token)); st != ja("application_status.applied") {
			t.Fatalf("the application after refused edits: %s", st)
		}

		// A good edit: saved, and the history says old → new, by whom.
		r = owner.post(self+"/edit", url.Values{"name": {"  変更 次郎 "}, "email": {"jiro@example.com"}})
		loc = wantRedirect(t, r, self)
		r = owner.get(loc)
		wantText(t, r, ja("flash.saved"), "変更 次郎", "jiro@example.com",
			ja("activity.edited")+": 詳細 太郎 → 変更 次郎, taro@example.com → jiro@example.com", "担当 詳細")
		rows := listRows(t, owner.get(list))
		if len(rows) != 2 || rows[0].Email != "jiro@example.com" || rows[0].ID != id {
			t.Fatalf("the list after the edit: %+v", rows)
		}
		wantText(t, p.get("/a/"+token), "変更 次郎")

		// 受付 from the applicant's page returns there and is in the history.
		r = owner.post(self+"/checkin", url.Values{"checked_in": {"1"}, "back": {self}})
		loc = wantRedirect(t, r, self)
		r = owner.get(loc)
		wantText(t, r, ja("applications.checked_in"), ja("checkin_source.manual"), ja("activity.checked_in"))
		// The history, oldest first, says who did what.
		want := [][2]string{
			{ja("activity.applied"), ja("applications.by_participant")},
			{ja("activity.memo"), "担当 詳細"},
			{ja("activity.edited") + ": 詳細 太郎 → 変更 次郎, taro@example.com → jiro@example.com", "担当 詳細"},
			{ja("activity.checked_in"), "担当 詳細"},
		}
		if got := history(t, r); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("history:\n got %q\nwant %q", got, want)
		}
	})
}

// TestApplicantDelete: 削除 asks first, saying what is lost; then the
// application is gone, its page 404 and its seat free.
func TestApplicantDelete(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("削除", "delete-app@example.com")
		eventID := owner.createEvent(eventSpec{Title: "削除の会"})
		groupID := owner.addGroup(eventID, placeGroup("京都市"))
		scheduleID := owner.addSchedule(eventID, groupID, 2)
		public := owner.publicPath(eventID)
		p := newClient(t, a)
		token := p.apply(public, scheduleID, "削除 太郎", "gone@example.com")
		keep := p.apply(public, scheduleID, "残る 花子", "keep@example.com")
		wantEqual(t, "seats", seatsLeft(t, p.get(public), scheduleID), ja("public.full"))
		list := fmt.Sprintf("/events/%d/applications", eventID)
		id := rowByEmail(t, owner.get(list), "gone@example.com").ID
		self := fmt.Sprintf("%s/%d", list, id)

		r := owner.get(self + "/delete")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("delete.what_application"), "削除 太郎 <gone@example.com>", ja("delete.application_lost"),
			ja("delete.irreversible"))
		if doc := r.doc(t); !doc.Has(`form[method="post"][action="`+self+`/delete"]`) || !doc.Has("#confirm-delete") {
			t.Fatalf("the confirmation has no delete button: %s", r)
		}
		// Asking deletes nothing.
		wantStatus(t, p.get("/a/"+token), http.StatusOK)
		wantStatus(t, owner.get(self), http.StatusOK)

		r = owner.post(self+"/delete", nil)
		loc := wantRedirect(t, r, list)
		if flashOf(r) != "flash.application_deleted" {
			t.Errorf("delete redirect %q, want flash.application_deleted", loc)
		}
		r = owner.get(loc)
		wantText(t, r, ja("flash.application_deleted"))
		wantNoText(t, r, "gone@example.com")
		if rows := listRows(t, r); len(rows) != 1 || rows[0].Email != "keep@example.com" {
			t.Fatalf("the list after delete: %+v", rows)
		}
		wantEqual(t, "count", count(t, r), ja("applications.count", 1))
		wantStatus(t, p.get("/a/"+token), http.StatusNotFound)
		wantStatus(t, owner.get(self), http.StatusNotFound)
		wantStatus(t, owner.get(self+"/delete"), http.StatusNotFound)
		wantStatus(t, owner.post(self+"/delete", nil), http.StatusNotFound)
		wantEqual(t, "seats after delete", seatsLeft(t, p.get(public), scheduleID), ja("public.seats_left_n", 1))
		wantStatus(t, p.get("/a/"+keep), http.StatusOK)
		// The freed seat can be taken, by the same address too.
		newClient(t, a).apply(public, scheduleID, "削除 太郎", "gone@example.com")
		wantEqual(t, "seats after re-apply", seatsLeft(t, p.get(public), scheduleID), ja("public.full"))
	})
}
