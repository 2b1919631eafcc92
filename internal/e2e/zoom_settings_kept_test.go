package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// TestZoomSettingsKeptInTheBrowser is issue 13 in a real browser against the
// Zoom simulator. An organizer links a Licensed and a Basic Zoom user and
// makes a Zoom group with 登録 ON (認証 OFF). The form's 登録 follows the
// host chosen: a Basic host disables it in a new group, but a group whose
// 登録 is on keeps it on and lets it be turned off. Then the Licensed host
// removes kaisai's app on Zoom's side; サービス連携 still names it, as last
// seen; the organizer saves the group with only its name changed, links the
// host again, and Zoom's meeting still takes registrants only: a guest with
// the meeting's URL is refused.
func TestZoomSettingsKeptInTheBrowser(t *testing.T) {
	chrome := findChrome(t)
	sim, kaisai := startZoomWorld(t)
	browserCtx := startBrowser(t, chrome)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())

	signUpAndLinkZoom(t, org, "設定を守る会", "owner@kept-e2e.example", "licensed@example.com")
	linkAnotherZoomUser(t, org, "basic@example.com")

	org.open("/events/new", `^/events/new$`)
	org.fill(`input[name="title"]`, "登録が消えないセミナー")
	org.click(`input[name="fee"][value="free"]`)
	org.click(`input[name="status"][value="published"]`)
	m := org.follow("create the event", `form[action="/events/new"] button[type="submit"]`, `^/events/(\d+)$`)
	eventPath := "/events/" + m[1]

	// A new group: 登録 follows the host chosen.
	org.follow("open the new group form", `a[href="`+eventPath+`/groups/new"]`, `^/events/\d+/groups/new$`)
	org.click("#venue-zoom")
	licensed, basic := hostValue(t, org, "licensed@example.com"), hostValue(t, org, "basic@example.com")
	chooseHost(org, basic)
	if got := registration(org); got != "disabled off" || !visible(org, "#zoom-registration-basic") {
		t.Fatalf("organizer: a Basic host in a new group: 登録 is %s, want disabled off, with the reason", got)
	}
	chooseHost(org, licensed)
	if got := registration(org); got != "enabled off" || visible(org, "#zoom-registration-basic") {
		t.Fatalf("organizer: the Licensed host again: 登録 is %s, want enabled off", got)
	}
	org.click("#zoom-registration")
	org.follow("create the Zoom group", `form[action$="/groups/new"] button[type="submit"]`,
		`^/events/\d+/groups/(\d+)/schedules/new$`)
	day := time.Now().AddDate(0, 0, 14)
	org.setValue(`input[name="date"]`, day.Format("2006-01-02"))
	org.setValue(`input[name="start_time"]`, "19:00")
	org.setValue(`input[name="end_time"]`, "20:30")
	org.setValue(`input[name="capacity"]`, "30")
	org.follow("create the schedule", `form[action$="/schedules/new"] button[type="submit"]`, `^`+eventPath+`$`)
	org.waitFor("the Zoom meeting to be created",
		`document.querySelector('#groups .zoom-meeting[data-state="created"] a.join-url')?.getAttribute("href")`)
	edit := org.attr(`section.group a[href$="/edit"]`, "href")

	// The group's 登録 is on: another host does not take it away.
	org.open(edit, `^/events/\d+/groups/\d+/edit$`)
	chooseHost(org, basic)
	if got := registration(org); got != "enabled on" || !visible(org, "#zoom-registration-basic") {
		t.Fatalf("organizer: 登録 on, a Basic host chosen: 登録 is %s, want enabled on (to be turned off), with the reason", got)
	}

	// The Licensed host removes kaisai's app on Zoom's side.
	if err := sim.RemoveApp("licensed@example.com", e2eClientID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "app_deauthorized to unlink the host", func() bool {
		conns, err := kaisai.Store.ZoomConnections(context.Background(), orgID(t, kaisai.Store, "owner@kept-e2e.example"))
		return err == nil && len(conns) > 0 && conns[0].Status == zoompolicy.Unlinked
	})
	org.open("/integrations", `^/integrations$`)
	if got := org.text("#zoom-connections tbody tr:first-child"); !strings.Contains(got, "Hanako Yamada") ||
		!strings.Contains(got, "licensed@example.com") || !strings.Contains(got, "連携時の情報") || !strings.Contains(got, "解除済") {
		t.Fatalf("organizer: サービス連携 shows the removed host as %q, want its name and e-mail as last seen, 解除済", got)
	}

	// The name, and only the name, is changed.
	org.open(edit, `^/events/\d+/groups/\d+/edit$`)
	if got := registration(org); got != "enabled on" {
		t.Fatalf("organizer: the unlinked host's group shows 登録 %s, want enabled on", got)
	}
	org.fill(`input[name="name"]`, "名前だけ変更")
	org.follow("save the group", `form[action$="/edit"] button[type="submit"]`, `^`+eventPath+`$`)
	if got := org.text(".flash"); !strings.Contains(got, "保存しました") {
		t.Fatalf("organizer: saving the name says %q%s", got, org.page())
	}

	linkAnotherZoomUser(t, org, "licensed@example.com")
	waitUntil(t, "the meetings to be in step with Zoom", func() bool {
		ok, err := kaisai.Store.ZoomMeetingsInStep(context.Background())
		return err == nil && ok
	})
	meetings := sim.State().Meetings
	if len(meetings) != 1 || meetings[0].Settings.ApprovalType != 1 {
		t.Fatalf("Zoom simulator: after the name-only edit and linking again, the meetings are %+v, want one with approval_type 1", meetings)
	}
	if _, err := sim.Join(zoomsim.JoinRequest{MeetingID: meetings[0].ID, Name: "ゲスト", Passcode: meetings[0].Password}); !errors.Is(err, zoomsim.ErrRegistrationNeeded) {
		t.Fatalf("Zoom simulator: a guest with the meeting's URL: %v, want registration needed", err)
	}
}

// linkAnotherZoomUser links zoomEmail on サービス連携 (the organizer is signed in).
func linkAnotherZoomUser(t *testing.T, org *tab, zoomEmail string) {
	t.Helper()
	org.open("/integrations", `^/integrations$`)
	org.follow("click Zoomと連携する", "#zoom-link", `^/oauth/authorize$`)
	org.setValue(`select[name="email"]`, zoomEmail)
	org.fill(`input[name="password"]`, "password")
	org.follow("allow kaisai on the consent page", `button[name="action"][value="approve"]`, `^/integrations$`)
}

// hostValue is the value of the group form's host option of zoomEmail.
func hostValue(t *testing.T, org *tab, zoomEmail string) string {
	t.Helper()
	values, labels := org.attrs("#zoom-host option", "value"), org.texts("#zoom-host option")
	for i, l := range labels {
		if strings.Contains(l, zoomEmail) {
			return values[i]
		}
	}
	t.Fatalf("organizer: the host list %q lacks %s", labels, zoomEmail)
	return ""
}

// chooseHost picks a host as a person does, so that the form's script
// hears the change.
func chooseHost(org *tab, value string) {
	org.eval(fmt.Sprintf(`(() => { const s = document.getElementById("zoom-host"); s.value = %s;
		s.dispatchEvent(new Event("change", {bubbles: true})); return s.value })()`, jsString(value)))
}

// registration is the 登録 checkbox as shown: "enabled on", "disabled off", ….
func registration(org *tab) string {
	return org.eval(`(() => { const r = document.getElementById("zoom-registration");
		return (r.disabled ? "disabled" : "enabled") + " " + (r.checked ? "on" : "off") })()`)
}

func visible(org *tab, sel string) bool {
	return org.eval(fmt.Sprintf(`document.querySelector(%s)?.hidden === false ? "yes" : "no"`, jsString(sel))) == "yes"
}

func orgID(t *testing.T, st *store.Store, email string) int64 {
	t.Helper()
	m, _, err := st.MemberForLogin(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return m.OrgID
}

// waitUntil waits for cond, up to meetingTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually.Within(t, meetingTimeout, what, cond)
}
