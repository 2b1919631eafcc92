package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"kaisai/internal/event"
)

// groupFormTimeout bounds the group form test: four rounds (two widths,
// with and without JavaScript), each with several axe-core runs, on a
// loaded 2-core machine.
const groupFormTimeout = 8 * time.Minute

// TestGroupFormShowsWhatApplies: on the 日程グループ form, at 1280 px and
// on a 390 px phone, with JavaScript off and on, choosing each venue shows
// only its fields (会場: the address; 開催URL: the URL and its note; Zoom:
// 「Zoomミーティングを作成する」), the page passes axe-core and never
// scrolls sideways; an address typed before choosing Zoom is not saved with
// the Zoom group; and changing the venue of a Zoom group with a meeting
// first warns, at the top of the page, with the confirmation focused.
func TestGroupFormShowsWhatApplies(t *testing.T) {
	chrome := findChrome(t)
	axeJS := findAxe(t)
	shots := os.Getenv("KAISAI_SCREENSHOTS") // a directory for each state's screenshot, for a person to look at
	_, kaisai := startZoomWorld(t)
	browserCtx := startBrowserWithin(t, chrome, groupFormTimeout)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())
	const owner = "owner@group-form-e2e.example"
	signUpAndLinkZoom(t, org, "会場えらび", owner, "licensed@example.com")

	org.open("/events/new", `^/events/new$`)
	org.fill(`input[name="title"]`, "開催場所を選ぶ勉強会")
	org.fill(`textarea[name="description"]`, "日程グループのフォームのブラウザテストです。")
	org.click(`input[name="fee"][value="free"]`)
	org.click(`input[name="status"][value="published"]`)
	m := org.follow("create the event", `form[action="/events/new"] button[type="submit"]`, `^/events/(\d+)$`)
	eventPath := "/events/" + m[1]
	eventID, _ := strconv.ParseInt(m[1], 10, 64)
	ctx := context.Background()
	var orgID int64
	if err := kaisai.Store.WriteDB().QueryRowContext(ctx, `SELECT org_id FROM members WHERE email = $1`, owner).Scan(&orgID); err != nil {
		t.Fatal(err)
	}

	// What each venue shows, by the elements' boxes: an element hidden by
	// display:none (its own or an ancestor's) has none.
	const shownJS = `(() => {
		const shown = sel => { const e = document.querySelector(sel); return e ? (e.getClientRects().length > 0 ? "shown" : "hidden") : "missing"; };
		return ["input[name=address]", "input[name=online_url]", "#venue-url-fields .note", "#zoom-settings"].map(s => s + " " + shown(s)).join(", ");
	})()`
	wantShown := map[string]string{
		"place": "input[name=address] shown, input[name=online_url] hidden, #venue-url-fields .note hidden, #zoom-settings hidden",
		"url":   "input[name=address] hidden, input[name=online_url] shown, #venue-url-fields .note shown, #zoom-settings hidden",
		"zoom":  "input[name=address] hidden, input[name=online_url] hidden, #venue-url-fields .note hidden, #zoom-settings shown",
	}

	for _, js := range []bool{false, true} {
		org.scriptsOff(!js)
		// axe-core waits on timers, which do not run while scripts are off:
		// it runs with them back on, on the page as it was rendered
		// without them (its scripts, skipped, do not run later).
		checkAxe := func(where string) {
			t.Helper()
			if !js {
				org.scriptsOff(false)
				defer org.scriptsOff(true)
			}
			org.checkAxe(where, axeJS)
			if shots != "" {
				org.screenshot(filepath.Join(shots, "group-form "+strings.ReplaceAll(where, ",", "")+".png"))
			}
		}
		for _, size := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"1280", 1280, 900, false}, {"390", 390, 844, true}} {
			if size.mobile {
				org.do("emulate a 390 px phone", chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateMobile, chromedp.EmulateTouch))
			} else {
				org.do("emulate a 1280 px screen", chromedp.EmulateViewport(size.width, size.height))
			}
			round := fmt.Sprintf("at %s px, JavaScript %s", size.name, map[bool]string{false: "off", true: "on"}[js])
			org.open(eventPath+"/groups/new", `^/events/\d+/groups/new$`)
			if got, want := org.eval(`typeof htmx`), map[bool]string{false: "undefined", true: "object"}[js]; got != want {
				t.Fatalf("%s: the page's scripts ran as typeof htmx = %q, want %q", round, got, want)
			}
			if got := org.eval(shownJS); got != wantShown["place"] {
				t.Errorf("%s: a new group (会場) shows %s, want %s", round, got, wantShown["place"])
			}
			name := "会場えらび " + round
			org.fill(`input[name="name"]`, name)
			org.fill(`input[name="address"]`, "東京都千代田区1-1")
			for _, venue := range []string{"url", "place", "zoom"} {
				org.click("#venue-" + venue)
				where := "venue " + venue + " " + round
				if got := org.eval(shownJS); got != wantShown[venue] {
					t.Errorf("%s: the form shows %s, want %s", where, got, wantShown[venue])
				}
				org.checkFits(where)
				checkAxe(where)
			}
			if got := org.text("#zoom-settings > legend"); got != "Zoomミーティングを作成する" {
				t.Errorf("%s: the Zoom settings are titled %q, want Zoomミーティングを作成する", round, got)
			}
			m := org.follow("save the Zoom group "+round, `form[action$="/groups/new"] button[type="submit"]`,
				`^/events/\d+/groups/(\d+)/schedules/new$`)
			groupID, _ := strconv.ParseInt(m[1], 10, 64)
			g, err := kaisai.Store.Group(ctx, orgID, eventID, groupID)
			if err != nil {
				t.Fatal(err)
			}
			if g.Name != name || g.Venue != event.VenueZoom || g.Zoom == nil || g.Zoom.ConnID == 0 || g.Zoom.Passcode == "" || g.Address != "" {
				t.Fatalf("%s: saved the group %+v %+v, want a Zoom group named %q with a host and a passcode and no address", round, g, g.Zoom, name)
			}

			// A meeting planned for a date, then the venue changed: the
			// warning comes first, focused on its checkbox.
			start := time.Now().AddDate(0, 0, 21).Truncate(time.Hour)
			sc := event.Schedule{OrgID: orgID, EventID: eventID, GroupID: groupID, StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 10}
			if _, err := kaisai.Store.CreateSchedule(ctx, &sc, ""); err != nil {
				t.Fatal(err)
			}
			edit := fmt.Sprintf("%s/groups/%d/edit", eventPath, groupID)
			org.open(edit, `^`+edit+`$`)
			if got := org.eval(shownJS); got != wantShown["zoom"] {
				t.Errorf("%s: a Zoom group's edit form shows %s, want %s", round, got, wantShown["zoom"])
			}
			org.click("#venue-place")
			org.fill(`input[name="address"]`, "東京都港区2-2")
			org.follow("save the group as 会場 "+round, `form[action="`+edit+`"] button[type="submit"]`, `^`+edit+`$`)
			where := "the warning " + round
			// autofocus moves the focus at the page's next rendering, which
			// may come after its load: wait for it.
			org.waitFor(where+": its checkbox focused (autofocus)", `document.activeElement?.id === "confirm-zoom" ? "yes" : ""`)
			got := org.eval(`(() => {
				const w = document.querySelector("#zoom-confirm[role=alert]"), f = document.querySelector("#group-form");
				if (!w) return "no warning";
				return (w.getBoundingClientRect().top < f.getBoundingClientRect().top ? "above" : "below") + " the form, focus on " +
					document.activeElement.id + ": " + w.innerText.replace(/\s+/g, " ");
			})()`)
			if !strings.HasPrefix(got, "above the form, focus on confirm-zoom: ") || !strings.Contains(got, "Zoomミーティング 1件") {
				t.Errorf("%s: %s, want it above the form, its checkbox focused, counting Zoomミーティング 1件", where, got)
			}
			if got := org.eval(shownJS); got != wantShown["place"] {
				t.Errorf("%s: the form shows %s, want %s", where, got, wantShown["place"])
			}
			org.checkFits(where)
			checkAxe(where)
			org.click("#confirm-zoom")
			org.follow("confirm and save "+round, `form[action="`+edit+`"] button[type="submit"]`, `^`+eventPath+`$`)
			if g, err := kaisai.Store.Group(ctx, orgID, eventID, groupID); err != nil || g.Venue != event.VenuePlace || g.Address != "東京都港区2-2" {
				t.Fatalf("%s: after confirming, the group is %+v (%v), want 会場 東京都港区2-2", where, g, err)
			}
		}
	}
}

// scriptsOff turns the page's JavaScript off (or back on), as a browser
// whose user disabled it.
func (b *tab) scriptsOff(off bool) {
	b.t.Helper()
	b.do(fmt.Sprintf("set script execution disabled to %v", off), func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return chromedp.Void{}, err
	})
}
