package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
)

// 申込内容の確認メールを再送: a participant who lost their application page
// enters their e-mail on the event's page and is mailed the links to their
// applications of that event. The page lives under the event, and so do the
// links it sends: an organizer's mail speaks for one organization only.
// The answer is the same whether or not the address applied.

func (s *Server) linksPage(w http.ResponseWriter, r *http.Request, e *event.Event, p *page, status int) {
	p.Data = map[string]any{"Event": e}
	s.render(w, r, status, "resend_links", p)
}

func (s *Server) linksForm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok {
		return
	}
	s.linksPage(w, r, &e, s.newPage(r, nil), http.StatusOK)
}

func (s *Server) linksRequest(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	email := event.NormalizeEmail(r.PostForm.Get("email"))
	p := s.newPage(r, nil)
	p.Form.Set("email", email)
	switch {
	case email == "":
		p.Errors.Add("email", "validation.required")
	case utf8.RuneCountInString(email) > event.MaxEmailLen:
		p.Errors.Add("email", "validation.too_long", event.MaxEmailLen)
	case !event.ValidEmail(email):
		p.Errors.Add("email", "validation.email")
	}
	if len(p.Errors) > 0 {
		s.linksPage(w, r, &e, p, http.StatusUnprocessableEntity)
		return
	}
	err := s.store.RequestApplicationLinks(r.Context(), &e, email, clientIP(r))
	var tooMany *store.TooManyLinkRequests
	switch {
	case errors.As(err, &tooMany):
		wait := max(tooMany.RetryAt.Sub(s.now()), time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
		p.Errors.Add("email", "links.too_many", i18n.DateTime(p.Lang, tooMany.RetryAt, e.Location()))
		s.linksPage(w, r, &e, p, http.StatusTooManyRequests)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/e/"+e.Slug+"/links", "flash.links_sent")
}
