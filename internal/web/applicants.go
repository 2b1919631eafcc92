package web

import (
	"fmt"
	"net/http"

	"kaisai/internal/event"
)

// The organizer's view of an event's applications (申込者一覧).

func (s *Server) applicationList(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	as, err := s.store.Applications(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Event": &e, "Applications": as, "Loc": e.Location()}
	if r.Header.Get("HX-Request") == "true" {
		// htmx refreshes the list in place, so new applicants appear live.
		s.renderFragment(w, r, "applications", "list", data)
		return
	}
	s.render(w, r, http.StatusOK, "applications", data)
}

func (s *Server) loadApplication(w http.ResponseWriter, r *http.Request) (event.Event, event.Application, bool) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return e, event.Application{}, false
	}
	id, ok := pathID(r, "appID")
	if !ok {
		s.notFound(w, r)
		return e, event.Application{}, false
	}
	a, err := s.store.Application(r.Context(), e.OrgID, e.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return e, a, false
	}
	return e, a, true
}

// applicationPayment sets 入金済 or back to 未入金.
func (s *Server) applicationPayment(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	if !e.Paid() {
		s.renderError(w, r, http.StatusBadRequest, "applications.not_paid_event")
		return
	}
	if !a.Active() {
		s.renderError(w, r, http.StatusConflict, "applications.cancelled_payment")
		return
	}
	m, _ := memberFrom(r.Context())
	if err := s.store.SetPayment(r.Context(), e.OrgID, e.ID, a.ID, m.ID, event.Payment(r.PostForm.Get("payment"))); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/applications", e.ID), "flash.saved")
}

func (s *Server) applicationCancel(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok {
		return
	}
	m, _ := memberFrom(r.Context())
	if _, err := s.store.CancelApplication(r.Context(), e.OrgID, e.ID, a.ID, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/applications", e.ID), "flash.application_cancelled")
}
