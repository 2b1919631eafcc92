package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// commonTimeZones are offered first in the event form; any IANA name is accepted.
var commonTimeZones = []string{"Asia/Tokyo", "UTC", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore",
	"America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris"}

func (s *Server) eventList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	es, err := s.store.EventOverviews(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "events", eventListData(es, s.now()))
}

// eventForm reads the event form into e and the page's form values; the
// errors are those of the parts Validate does not check (the policy).
func eventForm(r *http.Request, e *event.Event, p *page) event.FieldErrors {
	f := r.PostForm
	e.Title = f.Get("title")
	e.Description = f.Get("description")
	e.Fee = event.Fee(f.Get("fee"))
	e.TimeZone = f.Get("time_zone")
	e.Status = event.Status(f.Get("status"))
	e.WaitlistEnabled = f.Get("waitlist") == "1"
	e.Contact, e.TermsURL, e.PrivacyURL = f.Get("contact"), f.Get("terms_url"), f.Get("privacy_url")
	price := strings.TrimSpace(strings.ReplaceAll(f.Get("price"), ",", ""))
	e.PriceJPY = 0
	if price != "" {
		n, err := strconv.ParseInt(price, 10, 64)
		if err != nil {
			n = -1 // out of range: Validate says what is allowed
		}
		e.PriceJPY = n
	}
	// 支払期限: empty is the default; anything but a number is out of range.
	e.PaymentDays = 0
	if days := strings.TrimSpace(f.Get("payment_days")); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n == 0 {
			n = -1
		}
		e.PaymentDays = n
	}
	e.Normalize()
	p.Form = url.Values{"title": {e.Title}, "description": {e.Description}, "fee": {string(e.Fee)},
		"price": {f.Get("price")}, "time_zone": {e.TimeZone}, "status": {string(e.Status)},
		"payment_days": {f.Get("payment_days")}, "contact": {e.Contact}, "terms_url": {e.TermsURL},
		"privacy_url": {e.PrivacyURL}}
	if e.WaitlistEnabled {
		p.Form.Set("waitlist", "1")
	}
	return policyForm(f, e, p.Form)
}

// validateEvent is what is wrong with the event form: Validate's verdict,
// then what eventForm found.
func validateEvent(e *event.Event, read event.FieldErrors) error {
	fe, _ := e.Validate().(event.FieldErrors)
	return append(fe, read...).Err()
}

func eventValues(e *event.Event) url.Values {
	v := url.Values{"title": {e.Title}, "description": {e.Description}, "fee": {string(e.Fee)},
		"time_zone": {e.TimeZone}, "status": {string(e.Status)}, "payment_days": {strconv.Itoa(e.PaymentDays)},
		"contact": {e.Contact}, "terms_url": {e.TermsURL}, "privacy_url": {e.PrivacyURL}}
	if e.Paid() {
		v.Set("price", strconv.FormatInt(e.PriceJPY, 10))
	}
	if e.WaitlistEnabled {
		v.Set("waitlist", "1")
	}
	policyValues(e, v)
	return v
}

func (s *Server) eventFormPage(r *http.Request, e *event.Event) *page {
	return s.newPage(r, map[string]any{"Event": e, "TimeZones": commonTimeZones})
}

func (s *Server) eventNew(w http.ResponseWriter, r *http.Request) {
	e := &event.Event{Fee: event.FeeFree, TimeZone: event.DefaultTimeZone, Status: event.StatusDraft,
		PaymentDays: event.DefaultPaymentDays}
	p := s.eventFormPage(r, nil)
	p.Form = eventValues(e)
	p.Form.Set("form_key", newSubmitKey())
	s.render(w, r, http.StatusOK, "event_form", p)
}

func (s *Server) eventCreate(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	m, _ := memberFrom(r.Context())
	e := &event.Event{OrgID: m.OrgID}
	p := s.eventFormPage(r, nil)
	read := eventForm(r, e, p)
	key := formKey(r, p, "event")
	err := validateEvent(e, read)
	existing := false
	if err == nil {
		existing, err = s.store.CreateEvent(r.Context(), e, key)
	}
	if s.formFailed(w, r, err, p, "event_form") {
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), createdFlash(existing, "flash.event_created"))
}

// loadEvent reads the {eventID} of an organizer URL, answering 404 itself
// for an id that is malformed, unknown or another organization's.
func (s *Server) loadEvent(w http.ResponseWriter, r *http.Request) (event.Event, bool) {
	id, ok := pathID(r, "eventID")
	if !ok {
		s.notFound(w, r)
		return event.Event{}, false
	}
	m, _ := memberFrom(r.Context())
	e, err := s.store.Event(r.Context(), m.OrgID, id)
	if err != nil {
		s.fail(w, r, err)
		return e, false
	}
	return e, true
}

func (s *Server) eventShow(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	gs, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	zb, err := s.zoomMeetings(r, &e, gs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Event": &e, "Groups": gs, "Loc": e.Location(), "PublicURL": "/e/" + e.Slug, "Zoom": zb,
		"PublicFullURL": s.publicEventURL(r, &e)}
	if err := s.eventMoney(r.Context(), &e, data); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.eventDashboard(r, &e, gs, data); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "event_show", data)
}

func (s *Server) eventEdit(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	p := s.eventFormPage(r, &e)
	p.Form = eventValues(&e)
	s.render(w, r, http.StatusOK, "event_form", p)
}

func (s *Server) eventUpdate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	p := s.eventFormPage(r, &e)
	edited := e
	read := eventForm(r, &edited, p)
	err := validateEvent(&edited, read)
	if err == nil {
		err = s.store.UpdateEvent(r.Context(), &edited)
	}
	if s.formFailed(w, r, err, p, "event_form") {
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), "flash.saved")
}

// confirmDelete is the data of the confirmation page every deletion passes.
type confirmDelete struct {
	What    string // message key of what is deleted
	Name    string
	Impact  store.Impact
	Action  string
	Back    string
	IsEvent bool
	IsGroup bool
	// IsApplication: deleting one applicant, not a part of the event.
	IsApplication bool
	// Meetings are the Zoom meetings the deletion deletes on Zoom too.
	Meetings []deletedMeeting
}

// deletedMeeting is a Zoom meeting a deletion deletes: its 日程 and ID.
type deletedMeeting struct {
	When   string // the schedule's date and time
	ZoomID int64  // 0 while it is still being created
}

// meetingsDeleted lists the wanted Zoom meetings of an event's schedules,
// of one group (or all for groupID 0), which deleting it deletes on Zoom.
func (s *Server) meetingsDeleted(r *http.Request, e *event.Event, groupID int64) ([]deletedMeeting, error) {
	ms, err := s.store.EventZoomMeetings(r.Context(), e.OrgID, e.ID)
	if err != nil {
		return nil, err
	}
	gs, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		return nil, err
	}
	when := map[int64]string{}
	for _, g := range gs {
		if groupID != 0 && g.ID != groupID {
			continue
		}
		for _, sc := range g.Schedules {
			when[sc.ID] = i18nDateTime(r, sc.StartsAt, e.Location()) + " – " + sc.EndsAt.In(e.Location()).Format("15:04")
		}
	}
	var out []deletedMeeting
	for _, m := range ms {
		w, ok := when[m.ScheduleID]
		if ok && m.Want == zoompolicy.WantPresent {
			out = append(out, deletedMeeting{When: w, ZoomID: m.ZoomID})
		}
	}
	return out, nil
}

func (s *Server) eventDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	im, err := s.store.EventImpact(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.meetingsDeleted(r, &e, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm_delete", confirmDelete{What: "delete.what_event", Name: e.Title,
		Impact: im, IsEvent: true, IsGroup: true, Meetings: ms,
		Action: fmt.Sprintf("/events/%d/delete", e.ID), Back: fmt.Sprintf("/events/%d", e.ID)})
}

func (s *Server) eventDelete(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteEvent(r.Context(), e.OrgID, e.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/events", "flash.event_deleted")
}
