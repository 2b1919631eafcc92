package web

import (
	"net/http"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
)

// The 確認画面 (issue 19, part 4): the application form posts here first;
// what was typed is checked and shown back with what happens next, and its
// 「申し込む」 posts the same values to /e/{slug}/apply. 「修正する」 posts
// them to /e/{slug}, which shows the form again, filled in. Errors are shown
// on the form. The form's submit key rides along unchanged, so a double
// submit of 「申し込む」 still makes one application.

// applyChoice is the chosen 日程 on the 確認画面.
type applyChoice struct {
	Group    store.GroupWithSchedules
	Schedule event.Schedule
	// Waitlist: the 日程 is full and the event waitlists: the application
	// will be キャンセル待ち.
	Waitlist bool
}

// chooseSchedule finds the chosen 日程 among the event's and judges it as
// the store will when applying: a field error for one that is unknown,
// started, or full where the event has no waitlist.
func chooseSchedule(gs []store.GroupWithSchedules, e *event.Event, id int64, now time.Time) (applyChoice, error) {
	for _, g := range gs {
		for _, sc := range g.Schedules {
			if sc.ID != id {
				continue
			}
			switch {
			case sc.Started(now):
				return applyChoice{}, event.FieldErrors{{Field: "schedule_id", Key: store.ErrScheduleClosed.Key}}
			case sc.Full() && !e.WaitlistEnabled:
				return applyChoice{}, event.FieldErrors{{Field: "schedule_id", Key: store.ErrScheduleFull.Key}}
			}
			return applyChoice{Group: g, Schedule: sc, Waitlist: sc.Full()}, nil
		}
	}
	return applyChoice{}, event.FieldErrors{{Field: "schedule_id", Key: "validation.choose_schedule"}}
}

// applyConfirm is the 確認画面 of the application form.
func (s *Server) applyConfirm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	in, p := s.applyForm(r)
	if s.staleForm(w, r, &e, in, p) {
		return
	}
	gs, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = in.ValidateFor(&e)
	var choice applyChoice
	if err == nil {
		choice, err = chooseSchedule(gs, &e, in.ScheduleID, s.now())
	}
	if fe, ok := err.(event.FieldErrors); ok {
		p.Errors = fe
		s.publicEventPage(w, r, &e, p, http.StatusUnprocessableEntity)
		return
	}
	facts, err := s.publicFacts(r.Context(), &e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = map[string]any{"Event": &e, "Loc": e.Location(), "Choice": &choice, "Facts": facts}
	s.render(w, r, http.StatusOK, "apply_confirm", p)
}

// applyEdit is 「修正する」: the public page with its form filled in as it
// was sent.
func (s *Server) applyEdit(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	in, p := s.applyForm(r)
	if s.staleForm(w, r, &e, in, p) {
		return
	}
	s.publicEventPage(w, r, &e, p, http.StatusOK)
}
