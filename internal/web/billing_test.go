package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestBillingProfilePage: 請求情報 is linked from the organizer's
// navigation; a corporation's 登録番号 is checked against its check digit,
// a sole proprietor's only by its form and only once 個人事業者 is chosen;
// what people type (full-width, hyphens, a lower-case t) is normalized;
// nothing wrong is saved.
func TestBillingProfilePage(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		c := newClient(t, a)
		c.signup("請求社", "owner@billing.example")
		ctx := context.Background()
		stored := func() store.BillingProfile {
			t.Helper()
			b, err := a.Store.BillingProfile(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}

		r := c.get("/events")
		if !r.doc(t).Has(`nav a[href="/settings/billing"]`) {
			t.Fatalf("no 請求情報 link in the navigation: %s", r)
		}
		r = c.get("/settings/billing")
		wantStatus(t, r, http.StatusOK)
		if got := r.doc(t).First(`input[name="billing_name"]`).Attr("placeholder"); got != "請求社" {
			t.Errorf("発行者名 placeholder %q, want the organization's name", got)
		}
		if !r.doc(t).Has(`input[name="registrant"][value="corporate"][checked]`) {
			t.Errorf("法人 is not the default kind")
		}

		form := func(name, number, kind string) url.Values {
			return url.Values{"billing_name": {name}, "billing_address": {"東京都千代田区丸の内1-1"},
				"registration_number": {number}, "registrant": {kind}}
		}
		// A corporation's number with its right check digit.
		wantRedirect(t, c.post("/settings/billing", form("開催テスト株式会社", "T7000012050002", "corporate")), "/settings/billing")
		want := store.BillingProfile{Name: "開催テスト株式会社", Address: "東京都千代田区丸の内1-1", Registration: "T7000012050002"}
		if got := stored(); got != want {
			t.Errorf("stored %+v, want %+v", got, want)
		}
		r = c.get("/settings/billing")
		wantText(t, r, ja("flash.saved"))
		if v := r.doc(t).First(`input[name="registration_number"]`).Attr("value"); v != "T7000012050002" {
			t.Errorf("the page shows the number as %q", v)
		}

		// A wrong check digit, as a corporation: refused with the message
		// on the field, nothing saved.
		r = c.post("/settings/billing", form("別の社名", "T7000012050003", "corporate"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("billing.registration_check_digit"))
		if got := stored(); got != want {
			t.Errorf("a refused form changed the profile: %+v", got)
		}
		// No choice sent is a corporation too: only an explicit 個人事業者
		// skips the check digit.
		f := form("別の社名", "T7000012050003", "")
		f.Del("registrant")
		wantText(t, c.post("/settings/billing", f), ja("billing.registration_check_digit"))
		// Not T and 13 digits.
		r = c.post("/settings/billing", form("別の社名", "T70000120500", "individual"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("billing.registration_format"))

		// The same number as a sole proprietor's: its form is all there is to check.
		wantRedirect(t, c.post("/settings/billing", form("山田太郎", "T7000012050003", "individual")), "/settings/billing")
		if got := stored(); got.Registration != "T7000012050003" || !got.Individual || got.Name != "山田太郎" {
			t.Errorf("individual: stored %+v", got)
		}
		if !c.get("/settings/billing").doc(t).Has(`input[name="registrant"][value="individual"][checked]`) {
			t.Errorf("the page does not show 個人事業者 chosen")
		}

		// Full-width, with hyphens and a lower-case t: normalized.
		wantRedirect(t, c.post("/settings/billing", form("開催テスト株式会社", "ｔ７０００-０１２０-５０００２", "corporate")), "/settings/billing")
		if got := stored(); got.Registration != "T7000012050002" || got.Individual {
			t.Errorf("full-width: stored %+v", got)
		}

		// A name is needed; English messages too.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		r = c.post("/settings/billing", form("", "T7000012050003", "corporate"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, en("validation.required"), en("billing.registration_check_digit"))
	})
}
