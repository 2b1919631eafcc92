package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/testdb"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		c := newClient(t, startKaisai(t, db))
		for path, body := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
			r := c.get(path)
			wantStatus(t, r, http.StatusOK)
			if strings.TrimSpace(r.Body) != body {
				t.Errorf("GET %s: body %q, want %q", path, r.Body, body)
			}
		}
	})
}

// TestPageHeadersAndCookies: pages are not cached, framed or sniffed; the
// session cookie is out of scripts' reach and not sent cross-site; static
// files are served under the versioned names pages link.
func TestPageHeadersAndCookies(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	c := newClient(t, a)
	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	for name, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	css := versionedCSS(t, r)
	if css == "" {
		t.Fatalf("no versioned stylesheet link: %s", r)
	}
	s := c.get(css)
	wantStatus(t, s, http.StatusOK)
	if !strings.HasPrefix(s.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet Content-Type %q", s.Header.Get("Content-Type"))
	}
	wantStatus(t, c.get("/static/nosuch.css"), http.StatusNotFound)

	r = c.post("/signup", url.Values{"org_name": {"ヘッダー"}, "name": {"確認"}, "email": {"headers@example.com"},
		"password": {password}})
	wantRedirect(t, r, "/events")
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "kaisai_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge <= 0 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, a MaxAge", session)
	}
}
