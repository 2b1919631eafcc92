package zoomsim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Lifetimes as Zoom documents them.
const (
	codeTTL    = 5 * time.Minute
	refreshTTL = 90 * 24 * time.Hour
)

type authCode struct {
	ClientID      string    `json:"client_id"`
	UserID        string    `json:"user_id"`
	RedirectURI   string    `json:"redirect_uri"`
	CodeChallenge string    `json:"code_challenge"`
	Expires       time.Time `json:"expires"`
}

// token is an access or refresh token of one user's authorization of one app.
type token struct {
	ClientID string    `json:"client_id"`
	UserID   string    `json:"user_id"`
	Scope    string    `json:"scope"`
	Expires  time.Time `json:"expires"`
}

// oauthError is the body of Zoom's OAuth errors, e.g.
// {"reason":"Invalid Token!","error":"invalid_request"}.
type oauthError struct {
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

func writeOAuthError(w http.ResponseWriter, status int, errCode, reason string) {
	writeJSON(w, status, oauthError{Reason: reason, Error: errCode})
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Zoom simulator — authorize {{.ClientID}}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}label{display:block;margin:.6em 0}
.banner{background:#fde68a;padding:.5em}.err{color:#b91c1c}</style></head>
<body><p class="banner">Zoom simulator — not the real Zoom.</p>
{{if .Fatal}}<h1>Cannot authorize</h1><p class="err">{{.Fatal}}</p>{{else}}
<h1>Authorize app {{.ClientID}}</h1>
<p>The app asks for: {{.Scope}}</p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="code_challenge" value="{{.CodeChallenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Method}}">
<label>Sign in as <select name="email">{{range .Users}}<option value="{{.Email}}"{{if eq .Email $.Email}} selected{{end}}>{{.Email}} ({{if eq .Type 2}}Licensed{{else}}Basic{{end}})</option>{{end}}</select></label>
<label>Password <input type="password" name="password" autocomplete="off"></label>
<button name="action" value="approve">Allow</button> <button name="action" value="deny">Decline</button>
</form>{{end}}
</body></html>
`))

type consentData struct {
	Fatal, Error                                               string
	ClientID, RedirectURI, State, CodeChallenge, Method, Scope string
	Email                                                      string
	Users                                                      []User
}

// authorize serves GET and POST /oauth/authorize. An unknown client or a
// redirect_uri the app does not list is shown, never redirected to; other
// faults go back to the app as error=… with the state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	d := consentData{
		ClientID: r.Form.Get("client_id"), RedirectURI: r.Form.Get("redirect_uri"), State: r.Form.Get("state"),
		CodeChallenge: r.Form.Get("code_challenge"), Method: r.Form.Get("code_challenge_method"),
		Email: r.Form.Get("email"),
	}
	s.mu.Lock()
	app := s.st.Apps[d.ClientID]
	var appCopy App
	if app != nil {
		appCopy = *app
	}
	for _, u := range s.st.Users {
		d.Users = append(d.Users, *u)
	}
	s.mu.Unlock()
	slices.SortFunc(d.Users, func(a, b User) int { return strings.Compare(a.Email, b.Email) })
	switch {
	case app == nil:
		d.Fatal = "Invalid client_id: " + d.ClientID
	case d.RedirectURI == "" || !slices.Contains(appCopy.RedirectURIs, d.RedirectURI):
		d.Fatal = "Invalid redirect: " + d.RedirectURI
	}
	if d.Fatal != "" {
		renderConsent(w, http.StatusBadRequest, d)
		return
	}
	d.Scope = strings.Join(appCopy.Scopes, " ")
	redirect := func(q url.Values) {
		if d.State != "" {
			q.Set("state", d.State)
		}
		u, _ := url.Parse(d.RedirectURI) // listed by the app, so it parses
		old := u.Query()
		for k, v := range q {
			old[k] = v
		}
		u.RawQuery = old.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	switch {
	case r.Form.Get("response_type") != "code":
		redirect(url.Values{"error": {"unsupported_response_type"}})
		return
	case (d.CodeChallenge != "" || d.Method != "") && (d.CodeChallenge == "" || d.Method != "S256"):
		// PKCE is optional, as at Zoom: its OAuth guide's authorization
		// URL has response_type, client_id and redirect_uri alone, and
		// PKCE is something Zoom "supports" (devforum.zoom.us/t/63830).
		// When asked for, it is S256 with a challenge.
		redirect(url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge with code_challenge_method=S256 is required for PKCE"}})
		return
	}
	if r.Method == http.MethodGet {
		renderConsent(w, http.StatusOK, d)
		return
	}
	if r.Form.Get("action") != "approve" {
		redirect(url.Values{"error": {"access_denied"}})
		return
	}
	s.mu.Lock()
	u := s.userByEmailLocked(d.Email)
	if u == nil || subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.Form.Get("password"))) != 1 {
		s.mu.Unlock()
		d.Error = "Incorrect email or password."
		renderConsent(w, http.StatusOK, d)
		return
	}
	code := randomID(32)
	s.st.Codes[code] = &authCode{
		ClientID: d.ClientID, UserID: u.ID, RedirectURI: d.RedirectURI,
		CodeChallenge: d.CodeChallenge, Expires: s.now().Add(codeTTL),
	}
	s.saveLocked()
	s.mu.Unlock()
	redirect(url.Values{"code": {code}})
}

func renderConsent(w http.ResponseWriter, status int, d consentData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = consentPage.Execute(w, d)
}

// tokenResponse is Zoom's token answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	APIURL       string `json:"api_url"`
}

// clientAuth checks HTTP Basic client authentication; on failure it has
// answered.
func (s *Server) clientAuth(w http.ResponseWriter, r *http.Request) (App, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Client ID or client secret is missing.")
		return App{}, false
	}
	s.mu.Lock()
	app := s.st.Apps[id]
	var a App
	if app != nil {
		a = *app
	}
	s.mu.Unlock()
	if app == nil || subtle.ConstantTimeCompare([]byte(a.ClientSecret), []byte(secret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client_id or client_secret")
		return App{}, false
	}
	return a, true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body.")
		return
	}
	app, ok := s.clientAuth(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var userID string
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		code := r.Form.Get("code")
		c := s.st.Codes[code]
		if c == nil || c.ClientID != app.ClientID || !now.Before(c.Expires) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid authorization code "+code)
			return
		}
		delete(s.st.Codes, code) // single use, even when the rest is wrong
		if r.Form.Get("redirect_uri") != c.RedirectURI {
			s.saveLocked()
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Redirect URI mismatch.")
			return
		}
		// A code given for a PKCE challenge needs its verifier; one given
		// without a challenge needs none (a verifier sent anyway is ignored).
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if c.CodeChallenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != c.CodeChallenge {
			s.saveLocked()
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid code_verifier.")
			return
		}
		userID = c.UserID
		// A new authorization replaces the earlier one of the same user and
		// app: Zoom keeps one valid token per user and app, so the earlier
		// access and refresh tokens stop working when the new ones are
		// issued ("If you generate a new token, the previous token will be
		// invalidated. This behavior is similar to our regular OAuth tokens",
		// https://devforum.zoom.us/t/server-to-server-oauth-annoying-token-invalidation/72070;
		// the same user linking one app from two systems breaks the first:
		// https://devforum.zoom.us/t/the-procedure-for-increasing-the-token-tolerance-token-index-and-its-impact/95429).
		s.revokeGrantLocked(app.ClientID, userID)
	case "refresh_token":
		rt := r.Form.Get("refresh_token")
		t := s.st.Refresh[rt]
		if t == nil || t.ClientID != app.ClientID || !now.Before(t.Expires) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid Token!")
			return
		}
		delete(s.st.Refresh, rt) // rotates: a used refresh token is refused
		userID = t.UserID
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing grant type.")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type")
		return
	}
	scope := strings.Join(app.Scopes, " ")
	access, refresh := "sim."+randomID(40), "simr."+randomID(40)
	s.st.Access[access] = &token{ClientID: app.ClientID, UserID: userID, Scope: scope, Expires: now.Add(s.tokenTTL)}
	s.st.Refresh[refresh] = &token{ClientID: app.ClientID, UserID: userID, Scope: scope, Expires: now.Add(refreshTTL)}
	s.saveLocked()
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: access, TokenType: "bearer", RefreshToken: refresh,
		ExpiresIn: int(s.tokenTTL / time.Second), Scope: scope, APIURL: s.opts.BaseURL,
	})
}

// revokeGrantLocked drops every token of one user's authorization of an app.
func (s *Server) revokeGrantLocked(clientID, userID string) {
	for k, t := range s.st.Access {
		if t.ClientID == clientID && t.UserID == userID {
			delete(s.st.Access, k)
		}
	}
	for k, t := range s.st.Refresh {
		if t.ClientID == clientID && t.UserID == userID {
			delete(s.st.Refresh, k)
		}
	}
}

// revoke serves POST /oauth/revoke: revoking either token of an
// authorization ends the whole authorization, as at Zoom.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body.")
		return
	}
	app, ok := s.clientAuth(w, r)
	if !ok {
		return
	}
	tok := r.Form.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.Access[tok]
	if t == nil {
		t = s.st.Refresh[tok]
	}
	if t == nil || t.ClientID != app.ClientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid Token!")
		return
	}
	s.revokeGrantLocked(t.ClientID, t.UserID)
	s.saveLocked()
	writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
}

// SetAccessTokenTTL sets the lifetime of the access tokens given from now
// on (Zoom's is an hour), whole seconds as expires_in counts them, at least
// one; tokens already given keep theirs. Reset goes back to
// Options.AccessTokenTTL.
func (s *Server) SetAccessTokenTTL(d time.Duration) error {
	if d < time.Second || d%time.Second != 0 {
		return fmt.Errorf("zoomsim: access token lifetime %v: whole seconds, at least 1s", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenTTL = d
	return nil
}

// ExpireAccessTokens makes every access token expired (for tests of refresh).
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.Access {
		t.Expires = time.Time{}
	}
	s.saveLocked()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"code":500,"message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
