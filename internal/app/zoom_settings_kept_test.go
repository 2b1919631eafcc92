package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kaisai/internal/app/apptest"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// TestZoomSettingsKeptAcrossAppRemoval is issue 13's first part end to end:
// a group with 認証 OFF / 登録 ON, someone applied, the host removes
// kaisai's app on Zoom's side, the organizer saves the group's form (as the
// browser sends it) with only its name changed, and links the host again.
// Zoom's meeting must still take registrants only (approval_type 1): a
// guest with the meeting's URL is not let in.
func TestZoomSettingsKeptAcrossAppRemoval(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db)
		st := w.app.Store
		o := signUp(t, w.app)
		w.org.ID = o.orgID // the world's helpers act for the signed-up organization
		conn := linkZoomUser(t, st, w.oauth, w.sim.BaseURL(), o.orgID, "licensed@example.com")
		z := licensedZoom
		z.ConnID, z.WaitingRoom, z.Authentication = conn, false, false // a guest would go straight in
		ze := newZoomEvent(t, st, o.orgID, z, 1)
		w.waitInStep(t)
		emails, _ := applyMany(t, st, ze, "kept", 1)
		waitRegistrants(t, w, ze, emails...)

		if err := w.sim.RemoveApp("licensed@example.com", "kaisai-dev"); err != nil {
			t.Fatal(err)
		}
		until(t, "app_deauthorized to unlink the host", func() bool {
			c, err := st.ZoomConnection(ctx, o.orgID, conn)
			return err == nil && c.Status == zoompolicy.Unlinked
		})

		edit := fmt.Sprintf("/events/%d/groups/%d/edit", ze.event.ID, ze.group.ID)
		form, err := apptest.BrowserForm(o.page(t, w.app, edit), edit)
		if err != nil {
			t.Fatal(err)
		}
		form.Set("name", "名前だけ変更")
		if status, loc, body := o.post(t, w.app, edit, form); status != http.StatusSeeOther ||
			!strings.HasPrefix(loc, fmt.Sprintf("/events/%d", ze.event.ID)) {
			t.Fatalf("saving the name: %d %q %s", status, loc, body)
		}

		if again := linkZoomUser(t, st, w.oauth, w.sim.BaseURL(), o.orgID, "licensed@example.com"); again != conn {
			t.Fatalf("linking again made connection %d, not %d", again, conn)
		}
		w.waitInStep(t)
		ze.group.Name = "名前だけ変更"
		checkZoomMatches(t, st, w.sim, o.orgID, ze)
		zoomID := w.rows(t, ze.event.ID)[0].ZoomID
		if m := simMeetings(w.sim)[zoomID]; m.Settings.ApprovalType != 1 {
			t.Fatalf("Zoom's meeting has approval_type %d after a name-only edit, want 1 (登録)", m.Settings.ApprovalType)
		}
		if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Name: "登録していないゲスト", Passcode: z.Passcode}); !errors.Is(err, zoomsim.ErrRegistrationNeeded) {
			t.Fatalf("an unregistered guest with the meeting's URL: %v, want Zoom to ask for the registration", err)
		}
	})
}
