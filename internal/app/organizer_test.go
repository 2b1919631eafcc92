package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"kaisai/internal/app"
)

// organizer is an organization member's browser over plain HTTP: it keeps
// the session cookie, which is good at every instance sharing the
// database, and follows no redirect.
type organizer struct {
	hc    *http.Client
	orgID int64
}

// signUp signs a new organization up through instance a's sign-up form.
func signUp(t *testing.T, a *app.App) organizer {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	o := organizer{hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	email := fmt.Sprintf("owner-%d@organizer.example", time.Now().UnixNano())
	if status, _, body := o.post(t, a, "/signup", url.Values{"org_name": {"テスト主催者"}, "name": {"担当"},
		"email": {email}, "password": {"correct horse battery"}}); status != http.StatusSeeOther {
		t.Fatalf("sign up: %d %s", status, body)
	}
	if err := a.Store.WriteDB().QueryRowContext(context.Background(), `SELECT org_id FROM members WHERE email = $1`,
		email).Scan(&o.orgID); err != nil {
		t.Fatalf("sign up: %v", err)
	}
	return o
}

// page answers the body of an organizer page at instance a (200 only).
func (o organizer) page(t *testing.T, a *app.App, path string) string {
	t.Helper()
	resp, err := o.hc.Get(a.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s at %s: %d %s", path, a.URL(), resp.StatusCode, b)
	}
	return string(b)
}

// post submits a form to instance a: the status, where kaisai redirects,
// and the body.
func (o organizer) post(t *testing.T, a *app.App, path string, form url.Values) (status int, location, body string) {
	t.Helper()
	resp, err := o.hc.PostForm(a.URL()+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}
