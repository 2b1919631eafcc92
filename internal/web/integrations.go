package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"kaisai/internal/auth"
	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
)

// サービス連携: the organization's linked Zoom users, linking one more
// (OAuth with PKCE, the state bound to the member's session) and 解除.

// zoomConnView is one linked Zoom user on the page.
type zoomConnView struct {
	store.ZoomConnection
	TypeKey   string // zoom.type.basic / zoom.type.licensed / …
	StatusKey string // zoom.status.linked / …
	// HintKey explains 要再連携: why, and what to do.
	HintKey string
	// LastSeen is when the name, e-mail and type were last seen, for a
	// Zoom user that is not linked ("" when linked, or not known).
	LastSeen string
}

func (s *Server) integrations(w http.ResponseWriter, r *http.Request) {
	s.renderIntegrations(w, r, s.newPage(r, nil), http.StatusOK)
}

func (s *Server) renderIntegrations(w http.ResponseWriter, r *http.Request, p *page, status int) {
	m, _ := memberFrom(r.Context())
	conns, err := s.store.ZoomConnections(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]zoomConnView, len(conns))
	for i, c := range conns {
		v := zoomConnView{ZoomConnection: c, StatusKey: "zoom.status." + string(c.Status), TypeKey: zoomTypeKey(c.User.Type)}
		// 要再連携 shows here every time; "told once" is the e-mail's (relink_notified_at)
		if c.Status == zoompolicy.RelinkRequired {
			v.HintKey = "zoom.relink_hint"
			if c.RelinkReason == zoompolicy.RelinkLinkedElsewhere {
				v.HintKey = "zoom.relink_hint_linked_elsewhere"
			}
		}
		if c.Status != zoompolicy.Linked && !c.LinkedAt.IsZero() {
			v.LastSeen = i18nDateTime(r, c.LinkedAt, (&event.Event{TimeZone: event.DefaultTimeZone}).Location())
		}
		views[i] = v
	}
	p.Data = map[string]any{"Connections": views, "Unavailable": s.zoomOff}
	s.render(w, r, status, "integrations", p)
}

func randomState() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionHashOf(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return auth.SessionHash(c.Value)
}

// zoomLinkStart sends the organizer to Zoom's consent page.
func (s *Server) zoomLinkStart(w http.ResponseWriter, r *http.Request) {
	if s.zoom == nil {
		s.renderError(w, r, http.StatusServiceUnavailable, s.zoomOff)
		return
	}
	m, _ := memberFrom(r.Context())
	state, verifier := randomState(), zoom.GenerateVerifier()
	if err := s.store.CreateZoomOAuthState(r.Context(), state, m.OrgID, m.ID, sessionHashOf(r), verifier); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, s.zoom.AuthCodeURL(state, verifier), http.StatusSeeOther)
}

// zoomLinkCallback is where Zoom sends the organizer back: exchange the
// code, learn who the Zoom user is, check the granted scopes, save.
func (s *Server) zoomLinkCallback(w http.ResponseWriter, r *http.Request) {
	if s.zoom == nil { // the page says why Zoom is off
		http.Redirect(w, r, "/integrations", http.StatusSeeOther)
		return
	}
	m, _ := memberFrom(r.Context())
	q := r.URL.Query()
	verifier, err := s.store.TakeZoomOAuthState(r.Context(), q.Get("state"), m.OrgID, m.ID, sessionHashOf(r))
	if errors.Is(err, event.ErrNotFound) {
		// A stale or foreign state (a reload, another session, an attack):
		// back to the page, where linking can start again.
		redirect(w, r, "/integrations", "flash.zoom_bad_state")
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Get("error") != "" || q.Get("code") == "" { // the organizer did not allow it
		redirect(w, r, "/integrations", "flash.zoom_denied")
		return
	}
	tok, err := s.zoom.Exchange(r.Context(), q.Get("code"), verifier)
	if err != nil {
		s.log.Warn("zoom link: exchange", "err", err)
		s.renderError(w, r, http.StatusBadGateway, "zoom.exchange_failed")
		return
	}
	if missing := zoom.MissingScopes(tok.Scope, zoom.NeededScopes); len(missing) > 0 {
		s.revokeQuietly(r.Context(), tok.RefreshToken)
		s.renderError(w, r, http.StatusBadRequest, "zoom.missing_scopes", strings.Join(missing, ", "))
		return
	}
	access := tok.AccessToken
	cl := zoom.NewClient(s.zoom.HTTPClient, tok.APIURL, func(context.Context) (string, error) { return access, nil })
	cl.Log = s.log
	u, err := cl.Me(r.Context())
	if err != nil {
		s.log.Warn("zoom link: users/me", "err", err)
		s.renderError(w, r, http.StatusBadGateway, "zoom.exchange_failed")
		return
	}
	name := u.DisplayName
	if name == "" {
		name = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	// Zoom has ended another organization's link to this user already (one
	// grant per user and app, see store.LinkZoomConnection): say so.
	flash := "flash.zoom_linked"
	if elsewhere, err := s.store.ZoomUserLinkedElsewhere(r.Context(), m.OrgID, u.ID); err != nil {
		s.fail(w, r, err)
		return
	} else if elsewhere {
		flash = "flash.zoom_linked_elsewhere_ended"
	}
	_, err = s.store.LinkZoomConnection(r.Context(), m.OrgID,
		store.ZoomUser{ID: u.ID, AccountID: u.AccountID, Email: u.Email, DisplayName: name, Type: u.Type},
		store.ZoomTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry,
			Scopes: tok.Scope, APIURL: tok.APIURL})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/integrations", flash)
}

func (s *Server) revokeQuietly(ctx context.Context, token string) {
	if err := s.zoom.Revoke(ctx, token); err != nil && !errors.Is(err, zoom.ErrInvalidGrant) {
		s.log.Warn("zoom: revoke", "err", err)
	}
}

func (s *Server) zoomConnOf(w http.ResponseWriter, r *http.Request) (store.ZoomConnection, bool) {
	m, _ := memberFrom(r.Context())
	id, ok := pathID(r, "connID")
	if !ok {
		s.notFound(w, r)
		return store.ZoomConnection{}, false
	}
	c, err := s.store.ZoomConnection(r.Context(), m.OrgID, id)
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

// zoomUnlinkConfirm asks before 解除, saying that meetings stay on Zoom.
func (s *Server) zoomUnlinkConfirm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.zoomConnOf(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "zoom_unlink", map[string]any{"Conn": c})
}

// zoomUnlink revokes the authorization at Zoom (one already gone is fine),
// deletes the tokens and marks the connection 解除済.
func (s *Server) zoomUnlink(w http.ResponseWriter, r *http.Request) {
	c, ok := s.zoomConnOf(w, r)
	if !ok {
		return
	}
	if s.zoom != nil {
		t, err := s.store.ZoomStoredTokens(r.Context(), c.OrgID, c.ID)
		switch {
		case errors.Is(err, store.ErrZoomRelinkRequired): // no tokens left: nothing to revoke
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			if err := s.zoom.Revoke(r.Context(), t.RefreshToken); err != nil && !errors.Is(err, zoom.ErrInvalidGrant) {
				s.log.Warn("zoom unlink: revoke", "conn", c.ID, "err", err)
				s.renderError(w, r, http.StatusBadGateway, "zoom.revoke_failed")
				return
			}
		}
	}
	if err := s.store.UnlinkZoomConnection(r.Context(), c.OrgID, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/integrations", "flash.zoom_unlinked")
}
