package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kaisai/internal/event"
	"kaisai/internal/mail"
	"kaisai/internal/store"
)

// The organizer's mail screens: an event's mail wording (メール文面) with its
// placeholders, and the organization's mail log, which with no SMTP server
// configured is the dev outbox.

// mailKindView is one kind of mail on the wording form.
type mailKindView struct {
	Kind   event.MailKind
	Label  string
	Custom bool // the event has its own wording of this kind
}

// placeholderView is a placeholder with its explanation.
type placeholderView struct{ Name, Help string }

func (s *Server) mailTemplatesPage(w http.ResponseWriter, r *http.Request, e *event.Event, p *page, custom map[event.MailKind]bool, status int) {
	kinds := make([]mailKindView, len(event.MailKinds))
	for i, k := range event.MailKinds {
		kinds[i] = mailKindView{Kind: k, Label: p.T("mail.kind." + string(k)), Custom: custom[k]}
	}
	phs := make([]placeholderView, len(event.MailPlaceholders))
	for i, n := range event.MailPlaceholders {
		phs[i] = placeholderView{Name: "{" + n + "}", Help: p.T("mail.placeholder." + n)}
	}
	p.Data = map[string]any{"Event": e, "Kinds": kinds, "Placeholders": phs, "Reminders": s.remindersView(r, e, p)}
	s.render(w, r, status, "mail_templates", p)
}

// mailTemplatesLoad reads an event's wording of each kind, the default where
// it has none.
func (s *Server) mailTemplatesLoad(r *http.Request, e *event.Event) (url.Values, map[event.MailKind]bool, error) {
	form := url.Values{}
	custom := map[event.MailKind]bool{}
	for _, k := range event.MailKinds {
		t, err := s.store.MailTemplate(r.Context(), e.OrgID, e.ID, k)
		switch {
		case err == nil:
			custom[k] = true
		case errors.Is(err, event.ErrNotFound):
			t = mail.DefaultTemplate(s.msgs, k)
		default:
			return nil, nil, err
		}
		form.Set(string(k)+"_subject", t.Subject)
		form.Set(string(k)+"_body", t.Body)
	}
	return form, custom, nil
}

func (s *Server) mailTemplates(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	form, custom, err := s.mailTemplatesLoad(r, &e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, nil)
	p.Form = form
	s.mailTemplatesPage(w, r, &e, p, custom, http.StatusOK)
}

// mailTemplatesSave stores the wording of all four kinds, or, if any has an
// unknown placeholder or is empty or too long, nothing. A kind left as the
// default is not stored, so it follows the default.
func (s *Server) mailTemplatesSave(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	_, custom, err := s.mailTemplatesLoad(r, &e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, nil)
	var save []event.MailTemplate
	var reset []event.MailKind
	for _, k := range event.MailKinds {
		// parseForm made the bodies' line ends LF and refused a subject
		// with any.
		t := event.MailTemplate{Kind: k, Subject: strings.TrimSpace(r.PostForm.Get(string(k) + "_subject")),
			Body: r.PostForm.Get(string(k) + "_body")}
		p.Form.Set(string(k)+"_subject", t.Subject)
		p.Form.Set(string(k)+"_body", t.Body)
		if err := t.Validate(); err != nil {
			var fe event.FieldErrors
			if !errors.As(err, &fe) {
				s.fail(w, r, err)
				return
			}
			p.Errors = append(p.Errors, fe...)
			continue
		}
		switch def := mail.DefaultTemplate(s.msgs, k); {
		case t.Subject != def.Subject || strings.TrimRight(t.Body, "\n") != strings.TrimRight(def.Body, "\n"):
			save = append(save, t)
		case custom[k]:
			reset = append(reset, k)
		}
	}
	if len(p.Errors) > 0 {
		p.Errors.Add("form", "mail_templates.not_saved")
		s.mailTemplatesPage(w, r, &e, p, custom, http.StatusUnprocessableEntity)
		return
	}
	if err := s.store.SaveMailTemplates(r.Context(), e.OrgID, e.ID, save); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, k := range reset {
		if err := s.store.ResetMailTemplate(r.Context(), e.OrgID, e.ID, k); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	redirect(w, r, fmt.Sprintf("/events/%d/mail", e.ID), "flash.mail_templates_saved")
}

// mailTemplateReset drops the event's wording of one kind (the form's kind):
// the default applies again.
func (s *Server) mailTemplateReset(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	k := event.MailKind(r.PostForm.Get("kind"))
	if !k.Valid() {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.store.ResetMailTemplate(r.Context(), e.OrgID, e.ID, k); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/mail", e.ID), "flash.mail_template_reset")
}

// mailView is a row of the mail log.
type mailView struct {
	store.MailRow
	KindLabel, StatusLabel string
}

const mailsPerPage = 50

// mails is the organization's mail log, newest first.
func (s *Server) mails(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	pageNo, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	rows, err := s.store.Mails(r.Context(), m.OrgID, mailsPerPage+1, (pageNo-1)*mailsPerPage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	more := len(rows) > mailsPerPage
	rows = rows[:min(len(rows), mailsPerPage)]
	p := s.newPage(r, nil)
	views := make([]mailView, len(rows))
	for i, row := range rows {
		views[i] = mailView{MailRow: row, KindLabel: p.T("mail.kind." + string(row.Kind)),
			StatusLabel: p.T("mail_status." + string(row.Status))}
	}
	data := map[string]any{"Mails": views, "DevOutbox": s.devMail,
		"Loc": (&event.Event{TimeZone: event.DefaultTimeZone}).Location()}
	if pageNo > 1 {
		data["Newer"] = fmt.Sprintf("/mails?page=%d", pageNo-1)
	}
	if more {
		data["Older"] = fmt.Sprintf("/mails?page=%d", pageNo+1)
	}
	p.Data = data
	s.render(w, r, http.StatusOK, "mails", p)
}

// mailRetry sends a failed mail again (再送).
func (s *Server) mailRetry(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "mailID")
	if !ok {
		s.notFound(w, r)
		return
	}
	m, _ := memberFrom(r.Context())
	if err := s.store.RetryMail(r.Context(), m.OrgID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/mails", "flash.mail_retried")
}
