package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Zoom's OAuth endpoints and API host, the defaults of OAuthConfig and Token.
const (
	DefaultAuthURL   = "https://zoom.us/oauth/authorize"
	DefaultTokenURL  = "https://zoom.us/oauth/token"
	DefaultRevokeURL = "https://zoom.us/oauth/revoke"
	DefaultAPIURL    = "https://api.zoom.us"
)

// OAuthConfig is a user-managed Zoom app. Empty URLs are Zoom's.
type OAuthConfig struct {
	ClientID, ClientSecret string
	RedirectURL            string
	AuthURL                string
	TokenURL               string
	RevokeURL              string
	// APIURL, when set, is the API host of every token (a Zoom-compatible
	// server, a proxy): it replaces the api_url the token endpoint names.
	// Empty: each token's api_url, as Zoom means it.
	APIURL string
	// HTTPClient makes the token and revoke calls; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Timeout bounds each call (DefaultTimeout when zero).
	Timeout time.Duration
}

// Token is what Zoom's token endpoint answers. Both tokens are secrets:
// store them encrypted and never log them.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	Scope        []string // the scopes the user granted
	// APIURL is the API host for this user (api_url); the REST base is
	// APIURL + "/v2".
	APIURL string
}

// String keeps the tokens out of any log or error that prints a Token.
func (t Token) String() string {
	return fmt.Sprintf("zoom.Token{expiry %s, api %s, scope %v}", t.Expiry.UTC().Format(time.RFC3339), t.APIURL, t.Scope)
}

// GoString is String, for %#v.
func (t Token) GoString() string { return t.String() }

func (c *OAuthConfig) oauth2() *oauth2.Config {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   or(c.AuthURL, DefaultAuthURL),
			TokenURL:  or(c.TokenURL, DefaultTokenURL),
			AuthStyle: oauth2.AuthStyleInHeader, // Zoom wants HTTP Basic client auth
		},
	}
}

// GenerateVerifier makes a PKCE code verifier to keep in the session
// beside the state until the callback.
func GenerateVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL is where to send the user's browser: Zoom's consent page,
// with state and the S256 challenge of verifier.
func (c *OAuthConfig) AuthCodeURL(state, verifier string) string {
	return c.oauth2().AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

func (c *OAuthConfig) context(ctx context.Context) (context.Context, context.CancelFunc) {
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	return context.WithTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
}

// Exchange trades the callback's code (with the verifier kept since
// AuthCodeURL) for tokens.
func (c *OAuthConfig) Exchange(ctx context.Context, code, verifier string) (*Token, error) {
	ctx, cancel := c.context(ctx)
	defer cancel()
	t, err := c.oauth2().Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		err = oauthErr("exchange", err)
		// Zoom quotes the code ("Invalid authorization code …"); keep it out.
		if oe, ok := err.(*OAuthError); ok && code != "" {
			oe.Reason = strings.ReplaceAll(oe.Reason, code, "…")
		}
		return nil, err
	}
	return c.fromOAuth2(t), nil
}

// Refresh makes exactly one refresh. Zoom rotates refresh tokens: the one
// passed in is spent whatever happens next, so the caller must hold its
// lock across instances and store both new tokens before using them.
// ErrInvalidGrant means the user must link again.
func (c *OAuthConfig) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	ctx, cancel := c.context(ctx)
	defer cancel()
	// A token source over a token with no access token refreshes once.
	t, err := c.oauth2().TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, oauthErr("refresh", err)
	}
	return c.fromOAuth2(t), nil
}

// Revoke ends the user's authorization of the app (either token ends all
// of it). The token goes in the form body, never in the URL.
func (c *OAuthConfig) Revoke(ctx context.Context, token string) error {
	ctx, cancel := c.context(ctx)
	defer cancel()
	u := c.RevokeURL
	if u == "" {
		u = DefaultRevokeURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("zoom oauth revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("zoom oauth revoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return newOAuthError("revoke", resp.StatusCode, body)
}

// API is the API host for a token whose api_url is tokenAPIURL (as stored
// with it): APIURL when set, else tokenAPIURL, else Zoom's.
func (c *OAuthConfig) API(tokenAPIURL string) string {
	switch {
	case c.APIURL != "":
		return strings.TrimRight(c.APIURL, "/")
	case tokenAPIURL != "":
		return strings.TrimRight(tokenAPIURL, "/")
	}
	return DefaultAPIURL
}

func (c *OAuthConfig) fromOAuth2(t *oauth2.Token) *Token {
	apiURL, _ := t.Extra("api_url").(string)
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, APIURL: c.API(apiURL)}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scope = strings.Fields(s)
	}
	return out
}

// oauthErr turns x/oauth2's error into an *OAuthError without its text,
// which quotes the response body.
func oauthErr(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return newOAuthError(op, re.Response.StatusCode, re.Body)
	}
	return fmt.Errorf("zoom oauth %s: %w", op, err)
}

func newOAuthError(op string, status int, body []byte) *OAuthError {
	var b struct {
		Error       string `json:"error"`
		Reason      string `json:"reason"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &b)
	e := &OAuthError{Op: op, Status: status, Code: b.Error, Reason: b.Reason}
	if e.Reason == "" {
		e.Reason = b.Description
	}
	switch {
	case b.Error == "invalid_grant":
		e.kind = ErrInvalidGrant
	case b.Error == "invalid_client" || status == http.StatusUnauthorized:
		e.kind = ErrInvalidClient
	case (op == "refresh" || op == "revoke") && status == http.StatusBadRequest:
		// Zoom answers a spent, expired or revoked refresh token with
		// 400 {"reason":"Invalid Token!","error":"invalid_request"}:
		// for a refresh or revoke, any 400 but a client error means the grant is gone.
		e.kind = ErrInvalidGrant
	case b.Error == "invalid_request":
		e.kind = ErrInvalidRequest
	}
	return e
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
