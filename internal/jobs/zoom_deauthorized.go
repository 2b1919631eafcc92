package jobs

import (
	"context"

	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
)

// ZoomAppDeauthorized handles app_deauthorized (DESIGN.md §5): the user
// removed kaisai's app in Zoom (Added Apps → Remove). Every connection to
// that Zoom user linked before the removal loses its tokens and what else
// came with the grant, and is 解除済; the user's name, e-mail and account
// type stay, as last seen, so the organizer knows whom to link again
// (store.DeauthorizeZoomUser says why). One linked again since (the event
// came late) stays linked.
// An event of another app (clientID) is not ours. Running it twice is
// harmless.
func ZoomAppDeauthorized(st *store.Store, clientID string) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		p, err := e.Deauthorization()
		if err != nil {
			return Permanent(err)
		}
		if p.ClientID != "" && clientID != "" && p.ClientID != clientID {
			return nil
		}
		at := p.DeauthorizationTime.Time
		if at.IsZero() {
			at = e.Time()
		}
		if p.UserID == "" {
			_, err = st.DeauthorizeZoomAccount(ctx, p.AccountID, at)
			return err
		}
		_, err = st.DeauthorizeZoomUser(ctx, p.UserID, at)
		return err
	}
}
