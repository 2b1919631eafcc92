package web

import (
	"context"
	"net/http"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// The Zoom column of 申込者一覧 and the applicant's page: for schedules of a
// Zoom group with 登録, where each application stands on the meeting's
// registrant list (DESIGN.md §3), and 再試行 for a refused add.

// registrantStateKeys name the registrant states ("" = none yet: 未登録).
var registrantStateKeys = map[zoompolicy.RegistrantStatus]string{
	"":                              "zoom.registrant_state.none",
	zoompolicy.RegistrantAdding:     "zoom.registrant_state.adding",
	zoompolicy.RegistrantRegistered: "zoom.registrant_state.registered",
	zoompolicy.RegistrantCancelled:  "zoom.registrant_state.cancelled",
	zoompolicy.RegistrantFailed:     "zoom.registrant_state.failed",
}

// registrantErrorKeys explain why Zoom refused an add (the registrant sync's
// error kinds); an unknown kind reads as "other".
var registrantErrorKeys = map[string]string{
	"invalid":     "zoom.registrant_error.invalid",
	"license":     "zoom.registrant_error.license",
	"daily_limit": "zoom.registrant_error.daily_limit",
	"other":       "zoom.registrant_error.other",
}

// registrantView is one application's registrant state as the organizer
// sees it.
type registrantView struct {
	Status   string // CSS class: none, adding, registered, cancelled, failed
	StateKey string
	ErrorKey string // エラー only
	Message  string // Zoom's own message, エラー only
	Failed   bool   // 再試行 is offered
}

func newRegistrantView(r store.ApplicationRegistrant) registrantView {
	key, ok := registrantStateKeys[r.Status]
	if !ok {
		key = registrantStateKeys[zoompolicy.RegistrantAdding]
	}
	v := registrantView{Status: string(r.Status), StateKey: key}
	if v.Status == "" {
		v.Status = "none"
	}
	if r.Status == zoompolicy.RegistrantFailed {
		v.Failed, v.Message = true, r.ErrorMessage
		if v.ErrorKey = registrantErrorKeys[r.ErrorKind]; v.ErrorKey == "" {
			v.ErrorKey = registrantErrorKeys["other"]
		}
	}
	return v
}

// registrantViews are the registrant states of the rows whose schedule is in
// a group with 登録 (registering, by schedule id), in one query.
func (s *Server) registrantViews(ctx context.Context, rows []store.ApplicationRow, registering map[int64]bool) (map[int64]registrantView, error) {
	var ids []int64
	for _, a := range rows {
		if registering[a.ScheduleID] {
			ids = append(ids, a.ID)
		}
	}
	views := make(map[int64]registrantView, len(ids))
	if len(ids) == 0 {
		return views, nil
	}
	regs, err := s.store.ApplicationRegistrantsUnscoped(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		views[id] = newRegistrantView(regs[id])
	}
	return views, nil
}

// applicationZoomRetry is 再試行 for an application Zoom refused: its
// schedule's registrant list is synced again at once.
func (s *Server) applicationZoomRetry(w http.ResponseWriter, r *http.Request) {
	s.applicationAction(w, r, "flash.zoom_registrants_retry", func(e *event.Event, a *event.Application, _ int64) error {
		return s.store.RetryRegistrants(r.Context(), e.OrgID, a.ScheduleID)
	})
}
