package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/testdb"
)

// TestEventPageMeetingInScheduleRow: the event page shows each Zoom meeting
// in its 日程's row — state, meeting ID, join URL, passcode, ホストとして開始 —
// not in a block of its own, and the Zoom group's card sums up its settings
// with the group form's labels.
func TestEventPageMeetingInScheduleRow(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c, host := o.c, o.hosts["licensed@example.com"]
		ev := c.createEvent(eventSpec{Title: "行の中のZoom"})
		g := c.addGroup(ev, zoomGroup(host, "Row2026x", "zoom_waiting_room", "1", "zoom_registration", "1"))
		sc := c.addSchedule(ev, g, 10)
		ms := o.meetings(t, ev)
		if len(ms) != 1 {
			t.Fatalf("want one meeting, got %+v", ms)
		}
		m := o.waitMeeting(t, ms[0].ID, "created", created)

		r := c.get(fmt.Sprintf("/events/%d", ev))
		wantStatus(t, r, http.StatusOK)
		doc := r.doc(t)
		if doc.Has("#zoom-meetings") || doc.Has("#zoom-orphans") {
			t.Errorf("the event page still has a separate meetings block: %s", r)
		}
		row := doc.First(fmt.Sprintf("#group-%d tr#schedule-%d", g, sc))
		if !row.Valid() {
			t.Fatalf("no row for schedule %d in group %d: %s", sc, g, r)
		}
		meeting := row.First(fmt.Sprintf(`.zoom-meeting[data-meeting-id="%d"]`, m.ID))
		if !meeting.Valid() {
			t.Fatalf("the schedule's row lacks its meeting: %s", row.HTML())
		}
		if got := meeting.First(".badge").Text(); got != ja("zoom.meeting_state.created") {
			t.Errorf("the meeting's state reads %q, want %q", got, ja("zoom.meeting_state.created"))
		}
		if got := meeting.First("a.join-url").Attr("href"); got != m.JoinURL || m.JoinURL == "" {
			t.Errorf("the meeting's join URL is %q, want %q", got, m.JoinURL)
		}
		text := meeting.Text()
		for _, want := range []string{itoa(m.ZoomID), "Row2026x", ja("zoom.start_as_host")} {
			if !strings.Contains(text, want) {
				t.Errorf("the meeting in its row lacks %q: %s", want, text)
			}
		}

		// The group card's settings, as the group form names them.
		sum := doc.First(fmt.Sprintf("#group-%d #zoom-summary-%d", g, g))
		if !sum.Valid() {
			t.Fatalf("the Zoom group's card has no settings summary: %s", r)
		}
		var got []string
		for _, dt := range sum.Find("dt") {
			got = append(got, dt.Text())
		}
		want := []string{ja("zoom.host"), ja("zoom.summary.authentication"), ja("zoom.registration"),
			ja("zoom.waiting_room"), ja("zoom.passcode")}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("summary labels %q, want %q", got, want)
		}
		for sel, want := range map[string]string{
			".zoom-summary-host":           "Hanako Yamada (licensed@example.com)",
			".zoom-summary-authentication": ja("zoom.off"),
			".zoom-summary-registration":   ja("zoom.on"),
			".zoom-summary-waiting-room":   ja("zoom.on"),
			".zoom-summary-passcode":       "Row2026x",
		} {
			if got := strings.TrimSpace(sum.First(sel).Text()); got != want {
				t.Errorf("summary %s reads %q, want %q", sel, got, want)
			}
		}

		// A group of another venue has no summary and no meetings.
		other := c.addGroup(ev, placeGroup("東京会場"))
		c.addSchedule(ev, other, 5)
		r = c.get(fmt.Sprintf("/events/%d", ev))
		if d := r.doc(t); d.Has(fmt.Sprintf("#zoom-summary-%d", other)) || d.First(fmt.Sprintf("#group-%d", other)).Has(".zoom-meeting") {
			t.Errorf("a 会場 group shows Zoom settings or meetings: %s", r)
		}

		// Deleting the Zoom group or the event lists the meeting it deletes
		// on Zoom; deleting the 会場 group lists none.
		for _, page := range []string{fmt.Sprintf("/events/%d/groups/%d/delete", ev, g), fmt.Sprintf("/events/%d/delete", ev)} {
			r = c.get(page)
			wantStatus(t, r, http.StatusOK)
			items := r.doc(t).Find("#delete-zoom-meetings li")
			if len(items) != 1 || !strings.Contains(items[0].Text(), itoa(m.ZoomID)) {
				t.Errorf("%s: want the meeting %d listed, got %s", page, m.ZoomID, r)
			}
			wantText(t, r, ja("delete.zoom_meetings_intro"))
		}
		r = c.get(fmt.Sprintf("/events/%d/groups/%d/delete", ev, other))
		if r.doc(t).Has("#delete-zoom-meetings") {
			t.Errorf("deleting a 会場 group lists Zoom meetings: %s", r)
		}

		// In English too.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		r = c.get(fmt.Sprintf("/events/%d", ev))
		wantText(t, r, en("zoom.summary.authentication"), en("zoom.meeting_state.created"))
	})
}
