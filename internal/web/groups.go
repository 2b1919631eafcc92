package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/event"
)

// Schedule groups (日程グループ) and their schedules (日程).

func groupForm(r *http.Request, g *event.ScheduleGroup, p *page) {
	f := r.PostForm
	g.Name, g.Venue, g.Address, g.OnlineURL = f.Get("name"), event.Venue(f.Get("venue")), f.Get("address"), f.Get("online_url")
	g.Zoom = nil
	if g.Venue == event.VenueZoom {
		g.Zoom = zoomSettingsForm(f)
	}
	g.Normalize()
	// The address and 開催URL of a venue not chosen are not saved
	// (Normalize), but the form keeps them, so that switching back loses
	// nothing.
	p.Form = url.Values{"name": {g.Name}, "venue": {string(g.Venue)},
		"address": {strings.TrimSpace(f.Get("address"))}, "online_url": {strings.TrimSpace(f.Get("online_url"))}}
	// The Zoom section keeps what was typed even when another venue was
	// chosen, so that switching back loses nothing.
	z := g.Zoom
	if z == nil {
		z = zoomSettingsForm(f)
		z.Normalize()
	}
	maps.Copy(p.Form, zoomValues(z))
}

func groupValues(g *event.ScheduleGroup) url.Values {
	v := url.Values{"name": {g.Name}, "venue": {string(g.Venue)}, "address": {g.Address}, "online_url": {g.OnlineURL}}
	if g.Zoom != nil {
		maps.Copy(v, zoomValues(g.Zoom))
	}
	return v
}

func (s *Server) groupNew(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	p, d, err := s.groupFormPage(r, &e, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Form = url.Values{"venue": {string(event.VenuePlace)}}
	maps.Copy(p.Form, zoomValues(defaultZoomSettings()))
	p.Form.Set("form_key", newSubmitKey())
	s.prefillZoom(r, p, d)
	s.render(w, r, http.StatusOK, "group_form", p)
}

func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	g := &event.ScheduleGroup{OrgID: e.OrgID, EventID: e.ID}
	p, d, err := s.groupFormPage(r, &e, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groupForm(r, g, p)
	key := formKey(r, p, "group")
	err = s.validateGroup(r, g, p, d, nil, e.Location())
	existing := false
	if err == nil {
		existing, err = s.store.CreateGroup(r.Context(), g, key)
	}
	if s.groupFormFailed(w, r, err, p, d) {
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/groups/%d/schedules/new", e.ID, g.ID), createdFlash(existing, "flash.group_created"))
}

func (s *Server) loadGroup(w http.ResponseWriter, r *http.Request) (event.Event, event.ScheduleGroup, bool) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return e, event.ScheduleGroup{}, false
	}
	id, ok := pathID(r, "groupID")
	if !ok {
		s.notFound(w, r)
		return e, event.ScheduleGroup{}, false
	}
	g, err := s.store.Group(r.Context(), e.OrgID, e.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return e, g, false
	}
	return e, g, true
}

func (s *Server) groupEdit(w http.ResponseWriter, r *http.Request) {
	e, g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	p, d, err := s.groupFormPage(r, &e, &g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Form = groupValues(&g)
	if g.Zoom == nil {
		maps.Copy(p.Form, zoomValues(defaultZoomSettings()))
		s.prefillZoom(r, p, d)
	}
	d.selectHost(p.Val("zoom_host"))
	s.render(w, r, http.StatusOK, "group_form", p)
}

func (s *Server) groupUpdate(w http.ResponseWriter, r *http.Request) {
	e, g, ok := s.loadGroup(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	p, d, err := s.groupFormPage(r, &e, &g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	edited := g
	groupForm(r, &edited, p)
	schedules, err := s.groupSchedules(r, &g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.validateGroup(r, &edited, p, d, schedules, e.Location())
	if err == nil {
		// Moving or deleting meetings changes what participants were told:
		// the organizer confirms it first.
		if d.Confirm, err = s.zoomChangeWarning(r, &g, &edited); err == nil && d.Confirm != nil &&
			r.PostForm.Get("confirm_zoom") != "1" {
			s.render(w, r, http.StatusOK, "group_form", p)
			return
		}
	}
	if err == nil {
		err = s.store.UpdateGroup(r.Context(), &edited)
	}
	if s.groupFormFailed(w, r, err, p, d) {
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), "flash.saved")
}

// groupSchedules are the schedules of a group, for checks that depend on them.
func (s *Server) groupSchedules(r *http.Request, g *event.ScheduleGroup) ([]event.Schedule, error) {
	gs, err := s.store.Groups(r.Context(), g.OrgID, g.EventID)
	if err != nil {
		return nil, err
	}
	for _, x := range gs {
		if x.ID == g.ID {
			return x.Schedules, nil
		}
	}
	return nil, nil
}

// groupFormFailed is formFailed for the group form, whose host list
// follows the host chosen.
func (s *Server) groupFormFailed(w http.ResponseWriter, r *http.Request, err error, p *page, d *groupFormData) bool {
	d.selectHost(p.Val("zoom_host"))
	if err != nil {
		d.Confirm = nil // nothing to confirm until the form is valid
	}
	return s.formFailed(w, r, err, p, "group_form")
}

func (s *Server) groupDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	e, g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	im, err := s.store.GroupImpact(r.Context(), e.OrgID, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.meetingsDeleted(r, &e, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := g.Name
	if name == "" {
		name = e.Title
	}
	s.render(w, r, http.StatusOK, "confirm_delete", confirmDelete{What: "delete.what_group", Name: name, Impact: im,
		IsGroup: true, Meetings: ms, Action: fmt.Sprintf("/events/%d/groups/%d/delete", e.ID, g.ID), Back: fmt.Sprintf("/events/%d", e.ID)})
}

func (s *Server) groupDelete(w http.ResponseWriter, r *http.Request) {
	e, g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteGroup(r.Context(), e.OrgID, e.ID, g.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), "flash.group_deleted")
}

// scheduleForm reads the date, start and end times (in the event's time
// zone) and the capacity.
func scheduleForm(r *http.Request, loc *time.Location, sc *event.Schedule, p *page) {
	f := r.PostForm
	date, start, end := strings.TrimSpace(f.Get("date")), strings.TrimSpace(f.Get("start_time")), strings.TrimSpace(f.Get("end_time"))
	sc.StartsAt, sc.EndsAt = parseLocal(date, start, loc), parseLocal(date, end, loc)
	sc.Capacity, _ = strconv.Atoi(strings.TrimSpace(f.Get("capacity")))
	p.Form = url.Values{"date": {date}, "start_time": {start}, "end_time": {end}, "capacity": {f.Get("capacity")}}
	if f.Get("confirm_past") == "1" {
		p.Form.Set("confirm_past", "1")
	}
}

// validateSchedule checks a schedule as entered (before: as it was, nil for
// a new one), and in a Zoom group also Zoom's bounds on a meeting's length.
// A start in the past is saved only once the organizer ticked
// 「過去の日時のまま保存する」 (confirm_past): until then the form comes back
// asking for it, with all that was entered.
func (s *Server) validateSchedule(r *http.Request, sc, before *event.Schedule, g *event.ScheduleGroup, loc *time.Location) error {
	now := s.now()
	err := sc.Validate(now, loc)
	if err == nil && g.Venue == event.VenueZoom {
		err = sc.ValidateZoom()
	}
	if err == nil && sc.NeedsPastConfirmation(before, now) && r.PostForm.Get("confirm_past") != "1" {
		var fe event.FieldErrors
		fe.Add("confirm_past", "schedules.past_confirm")
		err = fe
	}
	return err
}

func parseLocal(date, clock string, loc *time.Location) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, loc)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func scheduleValues(sc *event.Schedule, loc *time.Location) url.Values {
	return url.Values{"date": {sc.StartsAt.In(loc).Format("2006-01-02")}, "start_time": {sc.StartsAt.In(loc).Format("15:04")},
		"end_time": {sc.EndsAt.In(loc).Format("15:04")}, "capacity": {strconv.Itoa(sc.Capacity)}}
}

func (s *Server) schedulePage(r *http.Request, e *event.Event, g *event.ScheduleGroup, sc *event.Schedule) *page {
	return s.newPage(r, map[string]any{"Event": e, "Group": g, "Schedule": sc, "Zoom": g != nil && g.Venue == event.VenueZoom})
}

func (s *Server) scheduleNew(w http.ResponseWriter, r *http.Request) {
	e, g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	p := s.schedulePage(r, &e, &g, nil)
	p.Form.Set("form_key", newSubmitKey())
	s.render(w, r, http.StatusOK, "schedule_form", p)
}

func (s *Server) scheduleCreate(w http.ResponseWriter, r *http.Request) {
	e, g, ok := s.loadGroup(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	sc := &event.Schedule{OrgID: e.OrgID, EventID: e.ID, GroupID: g.ID}
	p := s.schedulePage(r, &e, &g, nil)
	scheduleForm(r, e.Location(), sc, p)
	key := formKey(r, p, "schedule")
	err := s.validateSchedule(r, sc, nil, &g, e.Location())
	existing := false
	if err == nil {
		existing, err = s.store.CreateSchedule(r.Context(), sc, key)
	}
	if s.formFailed(w, r, err, p, "schedule_form") {
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), createdFlash(existing, "flash.schedule_created"))
}

func (s *Server) loadSchedule(w http.ResponseWriter, r *http.Request) (event.Event, event.Schedule, bool) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return e, event.Schedule{}, false
	}
	id, ok := pathID(r, "scheduleID")
	if !ok {
		s.notFound(w, r)
		return e, event.Schedule{}, false
	}
	sc, err := s.store.Schedule(r.Context(), e.OrgID, e.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return e, sc, false
	}
	return e, sc, true
}

func (s *Server) scheduleEdit(w http.ResponseWriter, r *http.Request) {
	e, sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	p := s.schedulePage(r, &e, nil, &sc)
	p.Form = scheduleValues(&sc, e.Location())
	s.render(w, r, http.StatusOK, "schedule_form", p)
}

func (s *Server) scheduleUpdate(w http.ResponseWriter, r *http.Request) {
	e, sc, ok := s.loadSchedule(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	g, err := s.store.Group(r.Context(), e.OrgID, e.ID, sc.GroupID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.schedulePage(r, &e, &g, &sc)
	edited := sc
	scheduleForm(r, e.Location(), &edited, p)
	err = s.validateSchedule(r, &edited, &sc, &g, e.Location())
	if err == nil {
		err = s.store.UpdateSchedule(r.Context(), &edited)
	}
	if s.formFailed(w, r, err, p, "schedule_form") {
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), "flash.saved")
}

func (s *Server) scheduleDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	e, sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	im, err := s.store.ScheduleImpact(r.Context(), e.OrgID, sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm_delete", confirmDelete{What: "delete.what_schedule",
		Name: i18nDateTime(r, sc.StartsAt, e.Location()), Impact: im,
		Action: fmt.Sprintf("/events/%d/schedules/%d/delete", e.ID, sc.ID), Back: fmt.Sprintf("/events/%d", e.ID)})
}

func (s *Server) scheduleDelete(w http.ResponseWriter, r *http.Request) {
	e, sc, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteSchedule(r.Context(), e.OrgID, e.ID, sc.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), "flash.schedule_deleted")
}
