package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"kaisai/internal/testdb"
)

func TestSignupLoginLogout(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		r := owner.post("/signup", url.Values{"org_name": {"開催テスト株式会社"}, "name": {"佐藤 花子"},
			"email": {"Hanako@Example.com"}, "password": {password}})
		loc := wantRedirect(t, r, "/events")
		if flashOf(r) != "flash.welcome" {
			t.Errorf("sign-up redirect %q has no welcome flash", loc)
		}
		r = owner.get(loc)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("flash.welcome"), ja("events.empty"), ja("nav.logout"))
		r = owner.get("/members")
		wantText(t, r, "開催テスト株式会社", "佐藤 花子", "hanako@example.com", ja("role.owner"))

		// The same address cannot sign up twice.
		r = newClient(t, a).post("/signup", url.Values{"org_name": {"別の会社"}, "name": {"別人"},
			"email": {"hanako@example.com"}, "password": {password}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.email_taken"))

		// A short password, a bad address and no organization name are
		// each said, and nobody is logged in.
		bad := newClient(t, a)
		r = bad.post("/signup", url.Values{"org_name": {" "}, "name": {"名前"}, "email": {"not-an-address"},
			"password": {"short"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.required"), ja("validation.email"), ja("validation.password_short", 10))
		if bad.cookie("kaisai_session") != "" {
			t.Error("a failed sign-up started a session")
		}
		wantRedirect(t, bad.get("/events"), "/login")

		// Log out: the session ends on the server too, not just the cookie.
		secret := owner.cookie("kaisai_session")
		r = owner.post("/logout", nil)
		loc = wantRedirect(t, r, "/login")
		r = owner.get(loc)
		wantText(t, r, ja("flash.logged_out"))
		wantRedirect(t, owner.get("/events"), "/login")
		replay := newClient(t, a)
		replay.setCookie("kaisai_session", secret)
		r = replay.get("/events")
		wantRedirect(t, r, "/login")

		// Log in again, with the address typed differently; next is kept
		// but only on this site.
		r = owner.post("/login", url.Values{"email": {" HANAKO@example.com "}, "password": {password},
			"next": {"/members"}})
		wantRedirect(t, r, "/members")
		wantStatus(t, owner.get("/members"), http.StatusOK)
		other := newClient(t, a)
		r = other.post("/login", url.Values{"email": {"hanako@example.com"}, "password": {password},
			"next": {"//evil.example/"}})
		if r.Status != http.StatusSeeOther || r.Location() != "/events" {
			t.Errorf("login with an off-site next: %s", r)
		}
	})
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		newClient(t, a).signup("レート制限", "limit@example.com")
		newClient(t, a).signup("別団体", "other@example.com")
		c := newClient(t, a)

		// Wrong password and unknown address answer alike.
		for _, email := range []string{"limit@example.com", "nobody@example.com"} {
			r := c.login(email, "wrong-password-1")
			wantStatus(t, r, http.StatusUnauthorized)
			wantText(t, r, "メールアドレスまたはパスワードが正しくありません")
			if c.cookie("kaisai_session") != "" {
				t.Fatal("a failed login set a session cookie")
			}
		}

		// Four more failures for limit@ (five in all); then even the right
		// password is refused for a while.
		for range 4 {
			wantStatus(t, c.login("limit@example.com", "wrong-password-2"), http.StatusUnauthorized)
		}
		r := c.login("limit@example.com", password)
		wantStatus(t, r, http.StatusTooManyRequests)
		wantText(t, r, ja("login.too_many", 15))
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if c.cookie("kaisai_session") != "" {
			t.Fatal("a rate-limited login set a session cookie")
		}
		// The limit is per address: another account logs in.
		wantRedirect(t, c.login("other@example.com", password), "/events")
	})
}

func TestLoginLimitEndsAfterWindow(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	a := startKaisai(t, testdb.SQLite(t), clk.option())
	newClient(t, a).signup("時計", "clock@example.com")
	c := newClient(t, a)
	for range 5 {
		wantStatus(t, c.login("clock@example.com", "wrong-password"), http.StatusUnauthorized)
	}
	wantStatus(t, c.login("clock@example.com", password), http.StatusTooManyRequests)
	clk.Advance(16 * time.Minute)
	wantRedirect(t, c.login("clock@example.com", password), "/events")
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &clock{}
		a := startKaisai(t, db, clk.option())

		// An unknown session cookie: to the login page, saying why, and
		// the stale cookie is dropped.
		c := newClient(t, a)
		c.setCookie("kaisai_session", "no-such-session-secret")
		r := c.get("/events/new")
		loc := wantRedirect(t, r, "/login")
		u, _ := url.Parse(loc)
		if flashOf(r) != "flash.session_expired" || u.Query().Get("next") != "/events/new" {
			t.Errorf("redirect %q: want the flash session_expired and next=/events/new", loc)
		}
		if c.cookie("kaisai_session") != "" {
			t.Error("the unknown session cookie was not cleared")
		}
		r = c.get(loc)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("flash.session_expired"))

		// A real session that outlives its 14 days.
		owner := newClient(t, a)
		owner.signup("期限切れ", "expiry@example.com")
		wantStatus(t, owner.get("/events"), http.StatusOK)
		clk.Advance(13 * 24 * time.Hour)
		wantStatus(t, owner.get("/events"), http.StatusOK)
		clk.Advance(2 * 24 * time.Hour)
		r = owner.get("/events")
		loc = wantRedirect(t, r, "/login")
		if flashOf(r) != "flash.session_expired" {
			t.Errorf("expired session redirect %q has no session_expired flash", loc)
		}
		// A POST with the expired session creates nothing.
		r = owner.post("/events/new", eventSpec{Title: "期限切れ後のイベント"}.form())
		wantRedirect(t, r, "/login")
		wantRedirect(t, owner.login("expiry@example.com", password), "/events")
		wantNoText(t, owner.get("/events"), "期限切れ後のイベント")
	})
}

func TestStaffMembers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("スタッフ管理", "boss@example.com")
		eventID := owner.createEvent(eventSpec{Title: "社内勉強会"})

		// Validation first: nothing is added.
		r := owner.post("/members", url.Values{"name": {""}, "email": {"staff@example.com"}, "password": {"short"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.required"), ja("validation.password_short", 10))
		wantStatus(t, newClient(t, a).login("staff@example.com", "short"), http.StatusUnauthorized)

		r = owner.post("/members", url.Values{"name": {"鈴木 一郎"}, "email": {"Staff@Example.com"},
			"password": {"staff-password-1"}})
		loc := wantRedirect(t, r, "/members")
		r = owner.get(loc)
		wantText(t, r, ja("flash.member_added"), "鈴木 一郎", "staff@example.com", ja("role.staff"))

		// An address already in use (by any organization) is refused.
		r = owner.post("/members", url.Values{"name": {"重複"}, "email": {"boss@example.com"},
			"password": {"staff-password-2"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.email_taken"))

		staff := newClient(t, a)
		wantRedirect(t, staff.login("staff@example.com", "staff-password-1"), "/events")
		r = staff.get("/events")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "社内勉強会")
		wantStatus(t, staff.get("/events/"+itoa(eventID)), http.StatusOK)

		// Staff see the members but may not add any.
		r = staff.get("/members")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("members.owner_only"))
		r = staff.post("/members", url.Values{"name": {"勝手な追加"}, "email": {"sneaky@example.com"},
			"password": {"sneaky-password"}})
		wantStatus(t, r, http.StatusForbidden)
		wantText(t, r, ja("members.owner_only"))
		wantStatus(t, newClient(t, a).login("sneaky@example.com", "sneaky-password"), http.StatusUnauthorized)
		wantNoText(t, owner.get("/members"), "sneaky@example.com")
	})
}
