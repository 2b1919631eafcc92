package jobs

import (
	"context"
	"errors"
	"fmt"

	"kaisai/internal/store"
	"kaisai/internal/zoom"
)

// ZoomRefresher is the store's RefreshFunc for the Zoom app oc: one refresh
// at Zoom's token endpoint, a refused refresh token reported as
// store.ErrRefreshRefused (the connection becomes 要再連携).
func ZoomRefresher(oc *zoom.OAuthConfig) store.RefreshFunc {
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
