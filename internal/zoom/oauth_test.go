package zoom

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLinkFlow(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens missing: %v", tok)
	}
	if tok.APIURL != s.base {
		t.Errorf("APIURL %q, want the token's api_url %q", tok.APIURL, s.base)
	}
	if until := time.Until(tok.Expiry); until < 50*time.Minute || until > 61*time.Minute {
		t.Errorf("expiry in %s, want about an hour", until)
	}
	if !slices.Contains(tok.Scope, "meeting:write") {
		t.Errorf("scope %v", tok.Scope)
	}
	ctx := context.Background()
	c := s.client(tok, nil)
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.Email != "licensed@example.com" || me.Type != UserLicensed || me.ID == "" || me.AccountID == "" ||
		me.FirstName != "Hanako" || me.LastName != "Yamada" || me.DisplayName == "" {
		t.Errorf("Me = %+v", me)
	}
	set, err := c.UserSettings(ctx, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	sm := set.ScheduleMeeting
	want := PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true}
	if !sm.RequirePasswordForSchedulingNewMeetings || sm.MeetingPasswordRequirement != want {
		t.Errorf("schedule_meeting = %+v, want a required passcode with %+v", sm, want)
	}

	// A Basic user through the same flow.
	basic := s.link(t, "basic@example.com")
	me, err = s.client(basic, nil).Me(ctx)
	if err != nil || me.Type != UserBasic {
		t.Errorf("basic user: %+v, %v", me, err)
	}
}

func TestExchangeErrors(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()

	code, _ := s.authorize(t, "licensed@example.com")
	_, err := s.cfg.Exchange(ctx, code, GenerateVerifier())
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("wrong verifier: %v, want ErrInvalidRequest", err)
	}
	_, err = s.cfg.Exchange(ctx, code, "")
	if !errors.Is(err, ErrInvalidGrant) || strings.Contains(err.Error(), code) {
		t.Errorf("spent code: %v, want ErrInvalidGrant without the code", err)
	}

	code, verifier := s.authorize(t, "licensed@example.com")
	bad := *s.cfg
	bad.ClientSecret = "wrong"
	_, err = bad.Exchange(ctx, code, verifier)
	var oe *OAuthError
	if !errors.Is(err, ErrInvalidClient) || !errors.As(err, &oe) || oe.Status != 401 || oe.Code != "invalid_client" {
		t.Errorf("wrong secret: %#v, want ErrInvalidClient", err)
	}
}

func TestRefreshRotates(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	old := s.link(t, "licensed@example.com")

	tok, err := s.cfg.Refresh(ctx, old.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == old.AccessToken || tok.RefreshToken == old.RefreshToken || tok.RefreshToken == "" {
		t.Fatal("refresh did not rotate both tokens")
	}
	if tok.APIURL != s.base || len(tok.Scope) == 0 {
		t.Errorf("refreshed token %v", tok)
	}
	if _, err := s.client(tok, nil).Me(ctx); err != nil {
		t.Fatalf("Me with the new token: %v", err)
	}

	_, err = s.cfg.Refresh(ctx, old.RefreshToken)
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("refresh with the spent token: %v, want ErrInvalidGrant", err)
	}

	// A second refresh with the new one still works: the refused one broke nothing.
	tok2, err := s.cfg.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client(tok2, nil).Me(ctx); err != nil {
		t.Fatal(err)
	}
}

// An explicit APIURL (a Zoom-compatible server, a proxy) is the API host
// of every token, whatever api_url the token endpoint names; without one,
// each token's api_url is, and Zoom's API without that.
func TestAPIURLReplacesTokensAPIURL(t *testing.T) {
	s := startSim(t)
	const elsewhere = "http://api.elsewhere.example"
	s.cfg.APIURL = elsewhere + "/"
	tok := s.link(t, "licensed@example.com")
	if tok.APIURL != elsewhere {
		t.Errorf("exchanged token's APIURL %q, want %q", tok.APIURL, elsewhere)
	}
	tok, err := s.cfg.Refresh(context.Background(), tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok.APIURL != elsewhere {
		t.Errorf("refreshed token's APIURL %q, want %q", tok.APIURL, elsewhere)
	}
	if got := s.cfg.API(s.base); got != elsewhere {
		t.Errorf("API(a stored api_url) = %q, want %q", got, elsewhere)
	}
	s.cfg.APIURL = ""
	for stored, want := range map[string]string{s.base: s.base, "": DefaultAPIURL} {
		if got := s.cfg.API(stored); got != want {
			t.Errorf("without APIURL, API(%q) = %q, want %q", stored, got, want)
		}
	}
}

func TestRevoke(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	tok := s.link(t, "licensed@example.com")
	if err := s.cfg.Revoke(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err := s.client(tok, nil).Me(ctx)
	if !IsInvalidToken(err) {
		t.Errorf("Me after revoke: %v, want an invalid token", err)
	}
	// Revoking either token ends the whole authorization.
	if _, err := s.cfg.Refresh(ctx, tok.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("refresh after revoke: %v, want ErrInvalidGrant", err)
	}
	// Revoking again: nothing left to revoke.
	if err := s.cfg.Revoke(ctx, tok.AccessToken); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("second revoke: %v, want ErrInvalidGrant", err)
	}
}

func TestAuthCodeURLDefaults(t *testing.T) {
	c := &OAuthConfig{ClientID: "id", RedirectURL: "https://kaisai.example/zoom/callback"}
	u := c.AuthCodeURL("s", "v")
	if !strings.HasPrefix(u, DefaultAuthURL+"?") || !strings.Contains(u, "code_challenge_method=S256") ||
		!strings.Contains(u, "response_type=code") || !strings.Contains(u, "state=s") {
		t.Errorf("AuthCodeURL = %s", u)
	}
	if strings.Contains(u, "code_verifier") {
		t.Errorf("the verifier must stay secret: %s", u)
	}
}

// TestRemovedFromZoom: after the user removes the app in Zoom (Added Apps →
// Remove), the refresh is refused as ErrInvalidGrant (要再連携 / 解除済) and
// the access token no longer works.
func TestRemovedFromZoom(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	tok := s.link(t, "numeric@example.com")
	if err := s.srv.RemoveApp("numeric@example.com", "kaisai-dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client(tok, nil).Me(ctx); !IsInvalidToken(err) {
		t.Errorf("Me after removal: %v, want an invalid token", err)
	}
	if _, err := s.cfg.Refresh(ctx, tok.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("refresh after removal: %v, want ErrInvalidGrant", err)
	}
}
