package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/htmltest"
	"kaisai/internal/testdb"
)

// chartCells are the figures of a chart's data table, row by row: the
// row's heading, then its cells.
func chartCells(t *testing.T, doc htmltest.Node, id string) []string {
	t.Helper()
	fig := doc.First("figure#" + id)
	if !fig.Valid() {
		t.Fatalf("no chart %s in %s", id, doc.First("#dashboard").HTML())
	}
	if svg := fig.First("svg"); svg.Attr("role") != "img" || svg.Attr("viewBox") == "" {
		t.Errorf("chart %s: svg %s", id, svg.HTML())
	}
	var out []string
	for _, tr := range fig.Find("details table tbody tr") {
		row := []string{tr.First("th").Text()}
		for _, td := range tr.Find("td") {
			row = append(row, td.Text())
		}
		out = append(out, strings.Join(row, " "))
	}
	return out
}

// The organizer's event page shows applications and 入金 per day, each
// 日程's fill and, once a 日程 has ended, who came; the home lists the
// event with its fill and 未入金, upcoming and then past.
func TestDashboard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		var clk clock
		a := startKaisai(t, db, clk.option())
		owner := newClient(t, a)
		owner.signup("ダッシュボード会", "dash@example.com")
		eventID := owner.createEvent(eventSpec{Title: "集計テスト", Paid: true, Price: 3000})
		groupID := owner.addGroup(eventID, placeGroup("東京都千代田区"))
		small := owner.addSchedule(eventID, groupID, 4)
		large := owner.addSchedule(eventID, groupID, 10)
		eventPath := fmt.Sprintf("/events/%d", eventID)

		// Nothing yet: the empty state, and the fill of both 日程 at 0.
		doc := owner.get(eventPath).doc(t)
		if got := doc.First("#chart-daily").Text(); !strings.Contains(got, ja("dashboard.no_applications")) {
			t.Errorf("no applications: daily chart %q", got)
		}

		pub := owner.publicPath(eventID)
		visitor := newClient(t, a)
		first := clk.Now().In(tokyo)
		for i := range 3 {
			visitor.apply(pub, small, fmt.Sprintf("参加者%d", i), fmt.Sprintf("p%d@example.com", i))
		}
		clk.Advance(48 * time.Hour)
		visitor.apply(pub, large, "後日", "later@example.com")
		rows := owner.applications(eventID)
		if len(rows) != 4 {
			t.Fatalf("%d applications, want 4", len(rows))
		}
		wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/applications/%d/payment", eventID, rows[0].ID),
			url.Values{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", eventID))

		doc = owner.get(eventPath).doc(t)
		day := func(d int) string {
			t := first.AddDate(0, 0, d)
			return fmt.Sprintf("%d/%d", t.Month(), t.Day())
		}
		want := []string{day(0) + " 3 0", day(1) + " 0 0", day(2) + " 1 1"}
		if got := chartCells(t, doc, "chart-daily"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("per day: %q, want %q", got, want)
		}
		fill := chartCells(t, doc, "chart-fill")
		if len(fill) != 2 || !strings.HasSuffix(fill[0], ja("dashboard.fill_text", 3, 4, 75)) ||
			!strings.HasSuffix(fill[1], ja("dashboard.fill_text", 1, 10, 10)) {
			t.Errorf("fill: %q", fill)
		}
		if doc.Has("#chart-attendance") {
			t.Errorf("attendance before any 日程 has ended")
		}

		// The home: upcoming, 4 of 14 seats, 3 未入金 linking to the filter.
		home := owner.get("/events").doc(t)
		row := home.First(fmt.Sprintf("#events-upcoming tr#event-%d", eventID))
		if !row.Valid() || home.Has(fmt.Sprintf("#events-past tr#event-%d", eventID)) {
			t.Fatalf("the event is not among the upcoming: %s", home.First("main").HTML())
		}
		if got := row.First("td.event-fill").Text(); got != "4 / 14" {
			t.Errorf("fill on the home: %q, want 4 / 14", got)
		}
		unpaid := row.First("td.event-unpaid a")
		if unpaid.Text() != ja("events.unpaid_count", 3) || unpaid.Attr("href") != fmt.Sprintf("/events/%d/applications?payment=unpaid", eventID) {
			t.Errorf("unpaid on the home: %s", unpaid.HTML())
		}

		// After the 日程 (60 days ahead) have ended: who came. All paid
		// first, so that no 支払期限 passes and cancels an application.
		for _, row := range rows[1:] {
			wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/applications/%d/payment", eventID, row.ID),
				url.Values{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", eventID))
		}
		r := owner.post(fmt.Sprintf("/events/%d/applications/%d/checkin", eventID, rows[0].ID), url.Values{"checked_in": {"1"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("check in: %s", r)
		}
		clk.Advance(70 * 24 * time.Hour)
		if owner.get(eventPath).Status != http.StatusOK {
			owner.login("dash@example.com", password)
		}
		doc = owner.get(eventPath).doc(t)
		att := chartCells(t, doc, "chart-attendance")
		if len(att) != 2 || !strings.HasSuffix(att[0], ja("dashboard.attendance_text", 1, 3, 33)) ||
			!strings.HasSuffix(att[1], ja("dashboard.attendance_text", 0, 1, 0)) {
			t.Errorf("attendance: %q", att)
		}
		home = owner.get("/events").doc(t)
		if !home.Has(fmt.Sprintf("#events-past tr#event-%d", eventID)) || home.Has("#events-upcoming") {
			t.Errorf("the ended event is not among the past: %s", home.First("main").HTML())
		}

		// English: the same figures, in English.
		owner.setCookie("kaisai_lang", "en")
		doc = owner.get(eventPath).doc(t)
		if got := doc.First("#dashboard h2").Text(); got != en("dashboard.title") {
			t.Errorf("English dashboard title %q", got)
		}
		if got := chartCells(t, doc, "chart-fill"); len(got) != 2 || !strings.HasSuffix(got[0], en("dashboard.fill_text", 3, 4, 75)) {
			t.Errorf("English fill: %q", got)
		}
	})
}
