package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/zoomsim"
)

// TestLiveCheckInFromZoom: an organizer keeps 申込者一覧 open while a
// registrant joins the Zoom meeting through their personal link. Without a
// reload, the applicant's 受付 cell turns 受付済 (Zoom), its actions offer
// 受付を取り消す instead of 受付する, and its 参加時間 says 参加中; the host, who matches no application, appears among the
// participants to match by hand, and matching them there checks the other
// applicant in.
func TestLiveCheckInFromZoom(t *testing.T) {
	chrome := findChrome(t)
	const (
		zoomEmail = "licensed@example.com"
		owner     = "owner@zoom-checkin-e2e.example"
	)
	sim, kaisai := startZoomWorld(t)
	st := kaisai.Store
	ctx := context.Background()
	browserCtx := startBrowser(t, chrome)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())
	signUpAndLinkZoom(t, org, "Zoom受付テスト", owner, zoomEmail)

	// The event is made through the store: the forms are another test's.
	m, _, err := st.MemberForLogin(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := st.ZoomConnections(ctx, m.OrgID)
	if err != nil || len(conns) != 1 {
		t.Fatalf("Zoom connections %+v, %v", conns, err)
	}
	e := event.Event{OrgID: m.OrgID, Title: "Zoomで受付", Fee: event.FeeFree, TimeZone: "Asia/Tokyo", Status: event.StatusPublished}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: m.OrgID, EventID: e.ID, Venue: event.VenueZoom, Zoom: &event.ZoomSettings{
		ConnID: conns[0].ID, Passcode: "abc123", Registration: true}}
	g.Normalize()
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	sc := event.Schedule{OrgID: m.OrgID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 10}
	if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	var apps []event.Application
	for i, email := range []string{"hanako@example.com", "taro@example.com"} {
		res, err := st.Apply(ctx, &e, event.ApplicationInput{ScheduleID: sc.ID, Name: fmt.Sprintf("参加者%d", i+1),
			Email: email, SubmitKey: fmt.Sprintf("e2e-live-checkin-%d-0000000000000", i)})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, res.Application)
	}
	// Wait for the meeting and the first applicant's registration on Zoom.
	var zoomID int64
	var registrant string
	waitUntil(t, "an approved registrant on the Zoom simulator", func() bool {
		for _, zm := range sim.State().Meetings {
			for _, r := range zm.Registrants {
				if r.Email == "hanako@example.com" && r.Status == "approved" {
					zoomID, registrant = zm.ID, r.ID
				}
			}
		}
		return registrant != ""
	})

	listPath := fmt.Sprintf("/events/%d/applications", e.ID)
	org.open(listPath, `^`+listPath+`$`)
	// The simulator's banner opens the page, coloured and in view.
	if got := org.eval(`(() => {
		const box = document.body.firstElementChild, b = box.querySelector(".sim-banner"), s = getComputedStyle(b), r = box.getBoundingClientRect();
		return [b.id, b.getAttribute("role"), s.backgroundColor !== "rgba(0, 0, 0, 0)" && s.backgroundColor !== s.color,
			r.top === 0 && r.height > 0, b.innerText.includes("シミュレーター")].join(" ");
	})()`); got != "zoom-simulated status true true true" {
		t.Errorf("organizer: the simulated-Zoom banner reads %q (id role coloured at-top says-so)", got)
	}
	checkin := func(id int64) string { return fmt.Sprintf("#checkin-%d", id) }
	if got := org.text(checkin(apps[0].ID)); strings.Contains(got, "受付済") {
		t.Fatalf("organizer: %s reads %q before anyone joined", checkin(apps[0].ID), got)
	}
	if org.eval(`document.querySelector("#zoom-unmatched").hidden ? "hidden" : "shown"`) != "hidden" {
		t.Fatalf("organizer: the unmatched participants are shown before anyone joined")
	}
	actions := func(id int64) string { return fmt.Sprintf("#actions-%d", id) }
	if got := org.text(actions(apps[0].ID)); !strings.Contains(got, "受付する") || strings.Contains(got, "受付を取り消す") {
		t.Fatalf("organizer: %s reads %q before anyone joined, want 受付する", actions(apps[0].ID), got)
	}
	// The poll tells the server what each row's actions show, so that it
	// swaps only those that changed.
	if got := org.eval(`(() => {
		return htmx.values(document.querySelector("#applications-live"), "get").getAll("shown").join(" ");
	})()`); !strings.Contains(got, fmt.Sprintf("%d:applied", apps[0].ID)) ||
		!strings.Contains(got, fmt.Sprintf("%d:applied", apps[1].ID)) {
		t.Fatalf("organizer: the poll sends shown=%q, want both rows' actions", got)
	}
	org.eval(`(window.__sameDocument = "yes")`) // gone if the page reloads
	// The list's own refresh (every 15 s) is held off: what changes in the
	// rows from here on is the live poll's doing.
	org.eval(`(() => {
		document.body.addEventListener("htmx:beforeRequest", e => {
			if (e.detail.elt && e.detail.elt.id === "applications") { e.preventDefault(); window.__listRefreshHeld = (window.__listRefreshHeld || 0) + 1; }
		});
		return "";
	})()`)

	if _, err := sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: registrant, Passcode: "abc123"}); err != nil {
		t.Fatalf("Zoom simulator: the registrant's join: %v", err)
	}
	if _, err := sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Email: zoomEmail, Name: "主催者のZoom"}); err != nil {
		t.Fatalf("Zoom simulator: the host's join: %v", err)
	}
	org.waitFor("受付済 in the registrant's row", `(() => {
		const c = document.querySelector("`+checkin(apps[0].ID)+`");
		return c && c.innerText.includes("受付済") && c.innerText.includes("Zoom") ? c.innerText : "";
	})()`)
	// Its actions follow without a reload: 受付を取り消す where 受付する was.
	org.waitFor("受付を取り消す in the registrant's actions", `(() => {
		const c = document.querySelector("`+actions(apps[0].ID)+`");
		return c && c.innerText.includes("受付を取り消す") && !c.innerText.includes("受付する") ? c.innerText : "";
	})()`)
	if got := org.text(fmt.Sprintf("#attendance-%d", apps[0].ID)); !strings.Contains(got, "参加中") {
		t.Errorf("organizer: the registrant's 参加時間 reads %q, want 参加中", got)
	}
	row := org.waitFor("the host among the unmatched participants", `(() => {
		const s = document.querySelector("#zoom-unmatched");
		return s && !s.hidden && s.querySelector("tbody tr") && s.innerText.includes("主催者のZoom") ? s.innerText : "";
	})()`)
	if org.eval(`window.__sameDocument || ""`) != "yes" {
		t.Fatalf("organizer: the page was reloaded; the list must update in place")
	}
	if got := org.text(checkin(apps[1].ID)); strings.Contains(got, "受付済") {
		t.Errorf("organizer: the applicant who did not join reads %q", got)
	}
	if got := org.text(actions(apps[1].ID)); !strings.Contains(got, "受付する") {
		t.Errorf("organizer: the applicant who did not join has actions %q, want 受付する", got)
	}

	// Matching the unmatched participant by hand to the second applicant.
	form := `#zoom-unmatched form[id^="match-"]`
	org.mustExist("the match form", form)
	org.setValue(form+` select[name="application"]`, fmt.Sprint(apps[1].ID))
	org.follow("この申込者として受付", form+` button`, `^`+listPath+`$`)
	if got := org.text(checkin(apps[1].ID)); !strings.Contains(got, "受付済") {
		t.Errorf("organizer: after matching by hand the row reads %q, want 受付済 (unmatched were %q)", got, row)
	}
	if org.eval(`document.querySelector("#zoom-unmatched").hidden ? "hidden" : "shown"`) != "hidden" {
		t.Errorf("organizer: the matched participant is still listed: %s", org.text("#zoom-unmatched"))
	}
}
