// Package zoomconn calls Zoom's API as one of an organization's linked Zoom
// users: it takes the connection's tokens from the store, which refreshes
// them under its lock, and retries a call once with fresh tokens when Zoom
// refuses the access token. The web handlers and the jobs share it.
package zoomconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"kaisai/internal/store"
	"kaisai/internal/zoom"
)

// Clients makes Zoom API clients for linked connections.
type Clients struct {
	Store *store.Store
	OAuth *zoom.OAuthConfig // the Zoom app; its HTTPClient makes the calls
	Log   *slog.Logger
	// Configure, when set, adjusts each client (timeouts, retries) before use.
	Configure func(*zoom.Client)
}

// Refresher is the store's RefreshFunc for the Zoom app oc: one refresh at
// Zoom's token endpoint, a refused refresh token reported as
// store.ErrRefreshRefused (the connection becomes 要再連携).
func Refresher(oc *zoom.OAuthConfig) store.RefreshFunc {
	return func(ctx context.Context, refreshToken string) (store.ZoomTokens, error) {
		t, err := oc.Refresh(ctx, refreshToken)
		if errors.Is(err, zoom.ErrInvalidGrant) {
			return store.ZoomTokens{}, fmt.Errorf("%w: %w", store.ErrRefreshRefused, err)
		}
		if err != nil {
			return store.ZoomTokens{}, err
		}
		return store.ZoomTokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry,
			Scopes: t.Scope, APIURL: t.APIURL}, nil
	}
}

// Do runs fn with a client of the connection. When Zoom refuses the access
// token (revoked or expired early), the tokens are refreshed and fn runs
// once more; a refused refresh is store.ErrZoomRelinkRequired (the
// connection is then 要再連携). fn may run twice, so it must be safe to
// repeat after an invalid-token answer, which Zoom gives before acting.
func (c *Clients) Do(ctx context.Context, orgID, connID int64, fn func(*zoom.Client) error) error {
	if c == nil || c.OAuth == nil {
		return errors.New("zoomconn: Zoom is not configured")
	}
	refresh := Refresher(c.OAuth)
	stale := ""
	for attempt := 0; ; attempt++ {
		t, err := c.Store.ZoomAccessToken(ctx, orgID, connID, stale, refresh)
		if err != nil {
			return err
		}
		access := t.AccessToken
		// An API URL configured since the tokens were stored applies to them too.
		cl := zoom.NewClient(c.httpClient(), c.OAuth.API(t.APIURL), func(context.Context) (string, error) { return access, nil })
		cl.Log = c.Log
		if c.Configure != nil {
			c.Configure(cl)
		}
		err = fn(cl)
		if !zoom.IsInvalidToken(err) || attempt > 0 {
			return err
		}
		stale = access
	}
}

func (c *Clients) httpClient() *http.Client {
	if c.OAuth.HTTPClient != nil {
		return c.OAuth.HTTPClient
	}
	return http.DefaultClient
}
