package zoomsim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthorizePage(t *testing.T) {
	ts := startSim(t, Options{})
	q := url.Values{"response_type": {"code"}, "client_id": {testClientID}, "redirect_uri": {testRedirect},
		"state": {"s"}, "code_challenge": {pkce("v")}, "code_challenge_method": {"S256"}}
	tests := []struct {
		name       string
		change     url.Values
		wantStatus int
		wantBody   string // for pages
		wantError  string // for redirects
	}{
		{"consent page", nil, 200, "licensed@example.com", ""},
		{"unknown client", url.Values{"client_id": {"nope"}}, 400, "Invalid client_id", ""},
		{"unlisted redirect", url.Values{"redirect_uri": {"http://evil.example/cb"}}, 400, "Invalid redirect", ""},
		// Zoom supports PKCE and does not require it (see authorize).
		{"no PKCE", url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, 200, "licensed@example.com", ""},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, 302, "", "invalid_request"},
		{"challenge without a method", url.Values{"code_challenge_method": {""}}, 302, "", "invalid_request"},
		{"method without a challenge", url.Values{"code_challenge": {""}}, 302, "", "invalid_request"},
		{"token response type", url.Values{"response_type": {"token"}}, 302, "", "unsupported_response_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, x := range q {
				v[k] = x
			}
			for k, x := range tt.change {
				v[k] = x
			}
			resp, err := noRedirect.Get(ts.base + "/oauth/authorize?" + v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("page lacks %q:\n%s", tt.wantBody, body)
			}
			if tt.wantError != "" {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc.Query().Get("error") != tt.wantError || loc.Query().Get("state") != "s" {
					t.Errorf("redirect %s, want error=%s with state", loc, tt.wantError)
				}
			}
		})
	}
}

func TestConsentDenyAndBadPassword(t *testing.T) {
	ts := startSim(t, Options{})
	q := ts.consent(t, "licensed@example.com", "deny", nil)
	if q.Get("error") != "access_denied" || q.Get("state") != "st-1" || q.Has("code") {
		t.Errorf("deny redirect: %v", q)
	}
	resp, err := noRedirect.PostForm(ts.base+"/oauth/authorize", url.Values{
		"response_type": {"code"}, "client_id": {testClientID}, "redirect_uri": {testRedirect},
		"code_challenge": {pkce("v")}, "code_challenge_method": {"S256"},
		"email": {"licensed@example.com"}, "password": {"wrong"}, "action": {"approve"},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Incorrect email or password") {
		t.Errorf("wrong password: %d %s", resp.StatusCode, body)
	}
}

func TestTokenExchange(t *testing.T) {
	ts := startSim(t, Options{AccessTokenTTL: 30 * time.Minute})
	q := ts.consent(t, "licensed@example.com", "approve", nil)
	if q.Get("state") != "st-1" || q.Get("code") == "" {
		t.Fatalf("approve redirect: %v", q)
	}
	code := q.Get("code")
	good := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
		"code_verifier": {"verifier-licensed@example.com"}}
	status, body := ts.tokenCall(t, good)
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if body["token_type"] != "bearer" || body["expires_in"] != float64(1800) || body["api_url"] != ts.base ||
		body["scope"] != "meeting:write user:read" || body["access_token"] == "" || body["refresh_token"] == "" {
		t.Errorf("token answer: %v", body)
	}
	// Codes are single-use.
	status, body = ts.tokenCall(t, good)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("second use of a code: %d %v", status, body)
	}
}

// Without PKCE the code is exchanged with the client's secret alone; a
// code_verifier sent anyway is ignored, as there is nothing to check it
// against.
func TestTokenExchangeWithoutPKCE(t *testing.T) {
	ts := startSim(t, Options{})
	for _, verifier := range []string{"", "some-verifier"} {
		q := ts.consent(t, "licensed@example.com", "approve", url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
		if q.Get("code") == "" || q.Get("state") != "st-1" {
			t.Fatalf("approve without PKCE: %v", q)
		}
		f := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		status, body := ts.tokenCall(t, f)
		if status != 200 || body["access_token"] == nil {
			t.Fatalf("exchange without PKCE (verifier %q): %d %v", verifier, status, body)
		}
		if got := ts.apiStatus(t, body["access_token"].(string)); got != 200 {
			t.Errorf("token from a code without PKCE: %d", got)
		}
	}
}

func TestTokenExchangeFaults(t *testing.T) {
	ts := startSim(t, Options{})
	exchange := func(change url.Values) (int, map[string]any) {
		code := ts.consent(t, "licensed@example.com", "approve", nil).Get("code")
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
			"code_verifier": {"verifier-licensed@example.com"}}
		for k, v := range change {
			f[k] = v
		}
		return ts.tokenCall(t, f)
	}
	tests := []struct {
		name   string
		change url.Values
		status int
		error  string
	}{
		{"wrong verifier", url.Values{"code_verifier": {"other"}}, 400, "invalid_request"},
		{"no verifier for a challenge", url.Values{"code_verifier": {""}}, 400, "invalid_request"},
		{"wrong redirect", url.Values{"redirect_uri": {"http://127.0.0.1:1/other"}}, 400, "invalid_request"},
		{"unknown code", url.Values{"code": {"nope"}}, 400, "invalid_grant"},
		{"unknown grant", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := exchange(tt.change)
			if status != tt.status || body["error"] != tt.error || body["reason"] == "" {
				t.Errorf("got %d %v, want %d error=%s", status, body, tt.status, tt.error)
			}
		})
	}
	t.Run("expired code", func(t *testing.T) {
		code := ts.consent(t, "licensed@example.com", "approve", nil).Get("code")
		ts.clock.Advance(5*time.Minute + time.Second)
		status, body := ts.tokenCall(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {testRedirect}, "code_verifier": {"verifier-licensed@example.com"}})
		if status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("expired code: %d %v", status, body)
		}
	})
	t.Run("bad client secret", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.base+"/oauth/token", strings.NewReader("grant_type=refresh_token&refresh_token=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(testClientID, "wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("bad secret: %d, want 401", resp.StatusCode)
		}
	})
}

// apiStatus calls GET /v2/users/me with a token.
func (ts *testSim) apiStatus(t *testing.T, access string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.base+"/v2/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRefreshRotationExpiryAndReauthorization(t *testing.T) {
	ts := startSim(t, Options{})
	access, refresh := ts.login(t, "licensed@example.com")
	if got := ts.apiStatus(t, access); got != 200 {
		t.Fatalf("fresh token: %d", got)
	}
	ts.clock.Advance(time.Hour)
	if got := ts.apiStatus(t, access); got != 401 {
		t.Errorf("token after an hour: %d, want 401", got)
	}
	status, body := ts.tokenCall(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != 200 || body["refresh_token"] == refresh {
		t.Fatalf("refresh: %d %v", status, body)
	}
	access2, refresh2 := body["access_token"].(string), body["refresh_token"].(string)
	if got := ts.apiStatus(t, access2); got != 200 {
		t.Errorf("refreshed token: %d", got)
	}
	// A used refresh token is refused.
	status, body = ts.tokenCall(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != 400 || body["error"] != "invalid_request" || body["reason"] != "Invalid Token!" {
		t.Errorf("reused refresh token: %d %v", status, body)
	}
	// Authorizing again ends the earlier authorization.
	access3, _ := ts.login(t, "licensed@example.com")
	if got := ts.apiStatus(t, access2); got != 401 {
		t.Errorf("token of the replaced authorization: %d, want 401", got)
	}
	status, _ = ts.tokenCall(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}})
	if status != 400 {
		t.Errorf("refresh token of the replaced authorization: %d, want 400", status)
	}
	if got := ts.apiStatus(t, access3); got != 200 {
		t.Errorf("new token: %d", got)
	}
}

func TestRevoke(t *testing.T) {
	ts := startSim(t, Options{})
	access, refresh := ts.login(t, "licensed@example.com")
	req, _ := http.NewRequest("POST", ts.base+"/oauth/revoke", strings.NewReader(url.Values{"token": {access}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"success"`) {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if got := ts.apiStatus(t, access); got != 401 {
		t.Errorf("revoked access token: %d", got)
	}
	if status, _ := ts.tokenCall(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != 400 {
		t.Errorf("refresh token of a revoked authorization: %d", status)
	}
}

func TestStateFileSurvivesRestart(t *testing.T) {
	file := t.TempDir() + "/state.json"
	ts := startSim(t, Options{StateFile: file})
	access, _ := ts.login(t, "licensed@example.com")
	again, err := New(Options{StateFile: file, Now: ts.clock.Now, BaseURL: ts.base})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.User("licensed@example.com"); !ok {
		t.Fatal("users lost across a restart")
	}
	again.mu.Lock()
	_, ok := again.st.Access[access]
	again.mu.Unlock()
	if !ok {
		t.Error("tokens lost across a restart")
	}
}

// The access token lifetime can be shortened, so that tests see tokens
// expire in seconds; tokens already given keep theirs.
func TestAccessTokenLifetime(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	before, _ := ts.login(t, "licensed@example.com")
	ts.ctlMust(t, 204, "POST", "/_sim/token-lifetime", map[string]any{"access_token": "5s"})
	code := ts.consent(t, "numeric@example.com", "approve", nil).Get("code")
	status, body := ts.tokenCall(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {"verifier-numeric@example.com"}})
	if status != 200 || body["expires_in"] != float64(5) {
		t.Fatalf("token: %d %v, want expires_in 5", status, body)
	}
	access := body["access_token"].(string)
	ts.clock.Advance(4 * time.Second)
	if got := ts.apiStatus(t, access); got != 200 {
		t.Errorf("after 4 s: %d, want 200", got)
	}
	ts.clock.Advance(time.Second)
	if got := ts.apiStatus(t, access); got != 401 {
		t.Errorf("after 5 s: %d, want 401", got)
	}
	if got := ts.apiStatus(t, before); got != 200 {
		t.Errorf("a token given before the change: %d, want 200 (an hour)", got)
	}
	// The refreshed token has the new lifetime too.
	status, body = ts.tokenCall(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
	if status != 200 || body["expires_in"] != float64(5) {
		t.Errorf("refresh: %d %v, want expires_in 5", status, body)
	}
	for _, bad := range []any{"0s", "500ms", "soon", 5} {
		if status, _ := ts.ctl(t, "POST", "/_sim/token-lifetime", map[string]any{"access_token": bad}); status != 400 {
			t.Errorf("lifetime %v: %d, want 400", bad, status)
		}
	}
	// Reset goes back to the lifetime the simulator started with.
	ts.ctlMust(t, 204, "POST", "/_sim/reset", nil)
	code = ts.consent(t, "numeric@example.com", "approve", nil).Get("code")
	if status, body := ts.tokenCall(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {"verifier-numeric@example.com"}}); status != 200 || body["expires_in"] != float64(3600) {
		t.Errorf("after reset: %d %v, want expires_in 3600", status, body)
	}
}
