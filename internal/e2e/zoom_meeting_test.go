package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaisai/internal/eventually"
)

// meetingTimeout bounds each wait for kaisai's jobs to reach Zoom: the
// meeting to be created, then to be deleted.
const meetingTimeout = 90 * time.Second

// TestOrganizerCreatesAndDeletesZoomMeeting drives a Zoom 日程グループ
// through the browser against the Zoom simulator: an organizer links the
// simulator's licensed user, creates an event, adds a group with the venue
// Zoom (that host, the pre-filled passcode, 待機室 on) and a 日程 in it. The
// event page's Zoom block refreshes itself until the meeting is 作成済 and
// shows its join URL, which must be the join URL of the one meeting Zoom
// has, with the event's title as topic, the passcode shown and the waiting
// room on. Deleting the group through its confirmation page then deletes
// the meeting on Zoom.
func TestOrganizerCreatesAndDeletesZoomMeeting(t *testing.T) {
	chrome := findChrome(t)

	const (
		zoomEmail = "licensed@example.com"
		title     = "Zoomで学ぶGo勉強会"
	)
	sim, kaisai := startZoomWorld(t)
	browserCtx := startBrowser(t, chrome)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())

	// The organizer signs up and links the licensed user on サービス連携,
	signUpAndLinkZoom(t, org, "Zoom勉強会", "owner@zoom-meeting-e2e.example", zoomEmail)

	// … creates an event,
	org.open("/events/new", `^/events/new$`)
	org.fill(`input[name="title"]`, title)
	org.fill(`textarea[name="description"]`, "Zoomミーティングのブラウザテストです。")
	org.click(`input[name="fee"][value="free"]`)
	org.click(`input[name="status"][value="published"]`)
	m := org.follow("create the event", `form[action="/events/new"] button[type="submit"]`, `^/events/(\d+)$`)
	eventPath := "/events/" + m[1]

	// … adds a Zoom group: the licensed host, the passcode kaisai chose
	// from the host's policy, and the waiting room,
	org.follow("open the new group form", `a[href="`+eventPath+`/groups/new"]`, `^/events/\d+/groups/new$`)
	org.click("#venue-zoom")
	if got := org.text("#zoom-settings legend"); got != "Zoomミーティングを作成する" {
		t.Fatalf("organizer: the Zoom section is titled %q, want Zoomミーティングを作成する", got)
	}
	host := ""
	values := org.attrs("#zoom-host option", "value")
	labels := org.texts("#zoom-host option")
	for i, label := range labels {
		if strings.Contains(label, zoomEmail) {
			host = values[i]
		}
	}
	if host == "" {
		t.Fatalf("organizer: the host list offers %q, want %s", labels, zoomEmail)
	}
	org.setValue("#zoom-host", host)
	passcode := org.eval(`document.querySelector('input[name="zoom_passcode"]').value`)
	if passcode == "" {
		t.Fatalf("organizer: the group form pre-fills no passcode")
	}
	if org.exists("#zoom-passcode-fallback") {
		t.Fatalf("organizer: the form says the host's passcode policy could not be read from the simulator")
	}
	org.click(`input[name="zoom_waiting_room"]`)
	if got := org.eval(`document.querySelector('input[name="zoom_waiting_room"]').checked ? "on" : "off"`); got != "on" {
		t.Fatalf("organizer: 待機室 is %s after ticking it, want on", got)
	}
	m = org.follow("create the Zoom group", `form[action$="/groups/new"] button[type="submit"]`,
		`^/events/\d+/groups/(\d+)/schedules/new$`)
	groupID := m[1]

	// … and a 日程 two weeks ahead.
	day := time.Now().AddDate(0, 0, 14)
	org.setValue(`input[name="date"]`, day.Format("2006-01-02"))
	org.setValue(`input[name="start_time"]`, "19:00")
	org.setValue(`input[name="end_time"]`, "20:30")
	org.setValue(`input[name="capacity"]`, "30")
	org.follow("create the schedule", `form[action$="/schedules/new"] button[type="submit"]`, `^`+eventPath+`$`)

	// The event page's Zoom block reloads itself until the meeting is
	// created, then shows its join URL.
	const created = `#groups .zoom-meeting[data-state="created"]`
	joinURL := org.waitFor("the Zoom meeting to be created",
		`document.querySelector('`+created+` a.join-url')?.getAttribute("href")`)
	if got := org.texts("#groups .zoom-meeting"); len(got) != 1 {
		t.Fatalf("organizer: the event page lists Zoom meetings %q, want exactly one", got)
	}
	if got := org.text(created + " .badge"); got != "作成済" {
		t.Fatalf("organizer: the meeting's state reads %q, want 作成済", got)
	}
	if got := org.text(created + " a.join-url"); got != joinURL {
		t.Fatalf("organizer: the join URL reads %q but links to %q", got, joinURL)
	}
	shownPasscode := org.text(created + " .passcode")
	if shownPasscode != passcode {
		t.Fatalf("organizer: the page shows passcode %q, want the form's %q", shownPasscode, passcode)
	}

	// Zoom's side: exactly that meeting, as the organizer set it up.
	meetings := sim.State().Meetings
	if len(meetings) != 1 {
		t.Fatalf("Zoom simulator: %d meetings after creating one Zoom schedule, want 1", len(meetings))
	}
	zm := meetings[0]
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"join URL", zm.JoinURL, joinURL},
		{"topic", zm.Topic, title},
		{"host", zm.HostEmail, zoomEmail},
		{"passcode", zm.Password, shownPasscode},
		{"waiting room", zm.Settings.WaitingRoom, true},
	} {
		if c.got != c.want {
			t.Errorf("Zoom simulator: the meeting's %s is %v, want %v", c.what, c.got, c.want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The organizer deletes the group through its confirmation page.
	org.follow("click the group's 削除", `section.group a.danger[href="`+eventPath+`/groups/`+groupID+`/delete"]`,
		`^/events/\d+/groups/\d+/delete$`)
	if got := org.text("main"); !strings.Contains(got, "削除する日程グループ") || !strings.Contains(got, title) {
		t.Fatalf("organizer: the delete confirmation reads %q, want 削除する日程グループ: %s", got, title)
	}
	org.follow("confirm the deletion", "#confirm-delete", `^`+eventPath+`$`)
	if got := org.texts("section.group"); len(got) != 0 {
		t.Fatalf("organizer: after deleting the group the event page still lists groups %q", got)
	}

	// kaisai deletes the meeting on Zoom.
	func() {
		defer func() {
			if t.Failed() {
				t.Logf("the organizer's page:%s", org.page())
			}
		}()
		eventually.Within(t, meetingTimeout, "kaisai to delete the group's meeting on Zoom", func() bool {
			return len(sim.State().Meetings) == 0
		})
	}()
}

// waitFor waits, up to meetingTimeout, until the JavaScript expression is a
// non-empty string, and returns it. The page is not reloaded: what changes
// it is the page's own script (htmx).
func (b *tab) waitFor(what, expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, meetingTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[string](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(meetingTimeout)))
	if err != nil {
		b.t.Fatalf("%s: waiting for %s: %v%s\n  the Zoom block: %s", b.who, what, err, b.page(), b.zoomBlock())
	}
	return v
}

// zoomBlock describes the event page's Zoom meetings for a failure message.
func (b *tab) zoomBlock() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector("#groups")?.innerText.replace(/\s+/g, " ") ?? "(none)"`))
	if err != nil {
		return fmt.Sprintf("(could not read it: %v)", err)
	}
	return v
}
