package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"kaisai/internal/auth"
	"kaisai/internal/event"
)

const sessionCookie = "kaisai_session"

type memberKey struct{}

func memberFrom(ctx context.Context) (event.Member, bool) {
	m, ok := ctx.Value(memberKey{}).(event.Member)
	return m, ok
}

// currentMember returns the member of the request's session, if any.
func (s *Server) currentMember(r *http.Request) (event.Member, bool) {
	if m, ok := memberFrom(r.Context()); ok {
		return m, true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return event.Member{}, false
	}
	m, err := s.store.SessionMember(r.Context(), auth.SessionHash(c.Value))
	if err != nil {
		if !errors.Is(err, event.ErrNotFound) {
			s.logFailure(r, "session lookup", "err", err)
		}
		return event.Member{}, false
	}
	return m, true
}

// requireMember lets a logged-in member through and sends anyone else to the
// login page, saying so when their session has expired.
func (s *Server) requireMember(next http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.currentMember(r)
		if !ok && clientGone(r) {
			// Not a logged-out member: one who left before we knew.
			s.clientClosed(w, r, r.Context().Err())
			return
		}
		if !ok {
			q := url.Values{}
			if r.Method == http.MethodGet {
				q.Set("next", r.URL.RequestURI())
			}
			if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
				setFlash(w, r, "/login", "flash.session_expired")
				s.clearSessionCookie(w)
			}
			if r.Header.Get("HX-Request") == "true" {
				// An htmx refresh must not swap the login page into a
				// fragment: htmx sends the whole page there instead.
				w.Header().Set("HX-Redirect", "/login?"+q.Encode())
				w.WriteHeader(http.StatusNoContent)
				return
			}
			http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memberKey{}, m)))
	}
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, memberID int64) error {
	secret, hash := auth.NewSessionSecret()
	if err := s.store.CreateSession(r.Context(), hash, memberID, sessionTTL); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// Login rate limits: failures counted over a window, per address and per client IP.
const (
	loginWindow       = 15 * time.Minute
	maxFailuresPerKey = 5
	maxFailuresPerIP  = 30
)

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, nil)
	p.Form.Set("next", r.URL.Query().Get("next"))
	s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	email := event.NormalizeEmail(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	p := s.newPage(r, nil)
	p.Form.Set("email", email)
	p.Form.Set("next", r.PostForm.Get("next"))
	ip := clientIP(r)

	byEmail, byIP, err := s.store.LoginFailures(r.Context(), email, ip, s.now().Add(-loginWindow))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if byEmail >= maxFailuresPerKey || byIP >= maxFailuresPerIP {
		w.Header().Set("Retry-After", "900")
		p.Errors.Add("email", "login.too_many", int(loginWindow/time.Minute))
		s.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	}

	m, hash, err := s.store.MemberForLogin(r.Context(), email)
	ok := false
	switch {
	case errors.Is(err, event.ErrNotFound):
		auth.CheckNobody(password)
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		ok, err = auth.CheckPassword(password, hash)
		if err != nil {
			s.log.Error("stored password hash unreadable", "member", m.ID, "err", err)
		}
	}
	if !ok {
		if err := s.store.RecordLoginFailure(r.Context(), email, ip); err != nil {
			s.logFailure(r, "record login failure", "err", err)
		}
		p.Errors.Add("email", "login.failed")
		s.render(w, r, http.StatusUnauthorized, "login", p)
		return
	}
	if err := s.store.ClearLoginFailures(r.Context(), email); err != nil {
		s.logFailure(r, "clear login failures", "err", err)
	}
	if err := s.startSession(w, r, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	if next == "/" {
		next = "/events"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.store.DeleteSession(r.Context(), auth.SessionHash(c.Value)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	redirect(w, r, "/login", "flash.logged_out")
}

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", nil)
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	in := event.SignupInput{OrgName: r.PostForm.Get("org_name"), Name: r.PostForm.Get("name"),
		Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password")}
	in.Normalize()
	p := s.newPage(r, nil)
	p.Form = url.Values{"org_name": {in.OrgName}, "name": {in.Name}, "email": {in.Email}}
	err := in.Validate()
	var hash string
	if err == nil {
		hash, err = auth.HashPassword(in.Password, s.pwParams)
	}
	if err == nil {
		var m event.Member
		_, m, err = s.store.CreateOrganization(r.Context(), in, hash)
		if err == nil {
			err = s.startSession(w, r, m.ID)
		}
	}
	if s.formFailed(w, r, err, p, "signup") {
		return
	}
	redirect(w, r, "/events", "flash.welcome")
}

// formFailed re-renders a form with its field errors (422), or answers any
// other error; it reports whether err was not nil.
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, err error, p *page, name string) bool {
	if err == nil {
		return false
	}
	var fe event.FieldErrors
	if errors.As(err, &fe) {
		p.Errors = fe
		s.render(w, r, http.StatusUnprocessableEntity, name, p)
		return true
	}
	s.fail(w, r, err)
	return true
}

func (s *Server) memberList(w http.ResponseWriter, r *http.Request) {
	s.renderMembers(w, r, s.newPage(r, nil), http.StatusOK)
}

func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, p *page, status int) {
	m, _ := memberFrom(r.Context())
	ms, err := s.store.Members(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	org, err := s.store.Organization(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = map[string]any{"Members": ms, "Org": org}
	s.render(w, r, status, "members", p)
}

func (s *Server) memberAdd(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	if !m.Owner() {
		s.renderError(w, r, http.StatusForbidden, "members.owner_only")
		return
	}
	if !s.parseForm(w, r) {
		return
	}
	in := event.MemberInput{Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password")}
	in.Normalize()
	p := s.newPage(r, nil)
	p.Form = url.Values{"name": {in.Name}, "email": {in.Email}}
	err := in.Validate()
	var hash string
	if err == nil {
		hash, err = auth.HashPassword(in.Password, s.pwParams)
	}
	if err == nil {
		_, err = s.store.AddMember(r.Context(), m.OrgID, in, hash)
	}
	var fe event.FieldErrors
	if errors.As(err, &fe) {
		p.Errors = fe
		s.renderMembers(w, r, p, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/members", "flash.member_added")
}
