package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// The organizer's 申込者一覧: per event or per schedule, searchable and
// paged, with the everyday actions (入金済, 受付, 繰り上げ, キャンセル) on each
// row and the rest (メモ, 登録内容修正, 削除, history) on the applicant's page.

const (
	applicantsPerPage = 50
	maxMemoLen        = 2000
)

// applicantQuery reads the list's filters from the URL.
func applicantQuery(r *http.Request) store.ApplicantQuery {
	q := r.URL.Query()
	aq := store.ApplicantQuery{Search: strings.TrimSpace(q.Get("q")), PerPage: applicantsPerPage}
	aq.ScheduleID, _ = strconv.ParseInt(q.Get("schedule"), 10, 64)
	aq.Page, _ = strconv.Atoi(q.Get("page"))
	aq.Page = max(aq.Page, 1)
	switch st := event.ApplicationStatus(q.Get("status")); st {
	case event.Applied, event.Waitlisted, event.Cancelled:
		aq.Status = st
	}
	if p := q.Get("payment"); slices.Contains(store.PaymentFilters, p) {
		aq.Payment = p
	}
	return aq
}

func applicantsURL(eventID int64, aq store.ApplicantQuery, page int) string {
	v := url.Values{}
	if aq.Search != "" {
		v.Set("q", aq.Search)
	}
	if aq.ScheduleID != 0 {
		v.Set("schedule", strconv.FormatInt(aq.ScheduleID, 10))
	}
	if aq.Status != "" {
		v.Set("status", string(aq.Status))
	}
	if aq.Payment != "" {
		v.Set("payment", aq.Payment)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	u := fmt.Sprintf("/events/%d/applications", eventID)
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

func (s *Server) applicationList(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	aq := applicantQuery(r)
	page, err := s.store.Applicants(r.Context(), e.OrgID, e.ID, aq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var schedules []event.Schedule
	zoomRegistering := map[int64]bool{} // schedules whose applicants are Zoom registrants
	for i := range groups {
		schedules = append(schedules, groups[i].Schedules...)
		for _, sc := range groups[i].Schedules {
			zoomRegistering[sc.ID] = zoompolicy.Registers(&groups[i].ScheduleGroup)
		}
	}
	pages := max((page.Total+applicantsPerPage-1)/applicantsPerPage, 1)
	if aq.Page > pages {
		// That page is gone (its last rows were deleted, or promoted out of
		// a status filter): show the last one.
		aq.Page = pages
		if page, err = s.store.Applicants(r.Context(), e.OrgID, e.ID, aq); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	regs, err := s.registrantViews(r.Context(), page.Rows, zoomRegistering)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	money, err := s.moneyViews(r.Context(), &e, page.Rows, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	refunds, err := s.refundsOfRows(r, &e, page.Rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	showZoom := false
	for _, on := range zoomRegistering {
		showZoom = showZoom || on
	}
	back := applicantsURL(e.ID, aq, aq.Page)
	data := map[string]any{"Event": &e, "Loc": e.Location(), "Page": page, "Query": aq, "Schedules": schedules,
		"Zoom": regs, "ZoomColumn": showZoom, "Money": money, "Refunds": refunds, "PaymentFilters": store.PaymentFilters,
		"Back": back, "Pages": pages,
		"Prev": pageLink(aq.Page > 1, applicantsURL(e.ID, aq, aq.Page-1)),
		"Next": pageLink(aq.Page < pages, applicantsURL(e.ID, aq, aq.Page+1)),
		"CSV":  strings.Replace(applicantsURL(e.ID, aq, 1), "/applications", "/applications.csv", 1)}
	if hasZoom(groups) {
		// 参加時間, and the poll that keeps it and 受付 live.
		att, err := s.attendanceViews(r.Context(), &e, page.Rows)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Attendance"], data["AttendanceColumn"] = att, true
		data["Live"], data["LiveEvery"] = liveURL(&e, aq, page.Rows), liveInterval
	}
	if r.Header.Get("HX-Request") == "true" {
		// htmx refreshes the list in place, so new applicants appear live.
		s.renderFragment(w, r, "applications", "list", data)
		return
	}
	if hasZoom(groups) {
		ub, err := s.unmatched(r.Context(), &e, groups, back, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Unmatched"] = ub
	}
	s.render(w, r, http.StatusOK, "applications", data)
}

func pageLink(ok bool, u string) string {
	if !ok {
		return ""
	}
	return u
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

// back is where an action returns: the list as it was (its filters and page)
// or the applicant's page; anything else falls back to the list.
func back(r *http.Request, e *event.Event) string {
	list := fmt.Sprintf("/events/%d/applications", e.ID)
	b := r.PostForm.Get("back")
	if b == list || strings.HasPrefix(b, list+"?") || strings.HasPrefix(b, list+"/") && !strings.Contains(b, "//") {
		return b
	}
	return list
}

// applicationAction runs one of the row actions and returns to where the
// organizer was.
func (s *Server) applicationAction(w http.ResponseWriter, r *http.Request, flash string,
	act func(e *event.Event, a *event.Application, memberID int64) error) {
	e, a, ok := s.loadApplication(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	m, _ := memberFrom(r.Context())
	if err := act(&e, &a, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, &e), flash)
}

// applicationPayment sets 入金済 or back to 未入金.
func (s *Server) applicationPayment(w http.ResponseWriter, r *http.Request) {
	s.applicationAction(w, r, "flash.saved", func(e *event.Event, a *event.Application, memberID int64) error {
		return s.store.SetPayment(r.Context(), e.OrgID, e.ID, a.ID, memberID, event.Payment(r.PostForm.Get("payment")))
	})
}

// applicationCheckIn marks 受付 (manual check-in) or undoes it.
func (s *Server) applicationCheckIn(w http.ResponseWriter, r *http.Request) {
	s.applicationAction(w, r, "flash.saved", func(e *event.Event, a *event.Application, memberID int64) error {
		_, err := s.store.SetCheckIn(r.Context(), e.OrgID, e.ID, a.ID, memberID, r.PostForm.Get("checked_in") == "1")
		return err
	})
}

func (s *Server) applicationPromote(w http.ResponseWriter, r *http.Request) {
	s.applicationAction(w, r, "flash.promoted", func(e *event.Event, a *event.Application, memberID int64) error {
		_, err := s.store.Promote(r.Context(), e.OrgID, e.ID, a.ID, memberID)
		return err
	})
}

// applicationShow is one applicant: details, 機密事項メモ, 登録内容修正 and history.
func (s *Server) applicationShow(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok {
		return
	}
	p := s.newPage(r, nil)
	p.Form = url.Values{"name": {a.Name}, "email": {a.Email}, "memo": {a.Memo}}
	s.renderApplicant(w, r, p, &e, &a, http.StatusOK)
}

func (s *Server) renderApplicant(w http.ResponseWriter, r *http.Request, p *page, e *event.Event, a *event.Application, status int) {
	log, err := s.store.Activity(r.Context(), e.OrgID, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc, g, err := s.store.ScheduleByIDUnscoped(r.Context(), a.ScheduleID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Event": e, "Application": a, "Schedule": &sc, "Loc": e.Location(), "Activity": log,
		"Self": fmt.Sprintf("/events/%d/applications/%d", e.ID, a.ID)}
	if e.Paid() {
		ps, err := s.store.ApplicationPayments(r.Context(), e.OrgID, a.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var problems []store.Payment
		for _, p := range ps {
			if p.Problem != payment.ProblemNone {
				problems = append(problems, p)
			}
		}
		data["Payments"], data["Problems"] = ps, problems
		rs, err := s.store.ApplicationRefunds(r.Context(), a.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Refunds"] = rs
	}
	if zoompolicy.Registers(&g) {
		regs, err := s.store.ApplicationRegistrantsUnscoped(r.Context(), []int64{a.ID})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Zoom"] = newRegistrantView(regs[a.ID])
	}
	if g.Venue == event.VenueZoom {
		as, err := s.store.Attendances(r.Context(), e.OrgID, e.ID, []int64{a.ID})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Attendance"] = newAttendanceView(as[a.ID])
	}
	p.Data = data
	s.render(w, r, status, "application_detail", p)
}

func (s *Server) applicationMemo(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	memo := strings.TrimSpace(event.NormalizeNewlines(r.PostForm.Get("memo")))
	if bad, long := event.CheckText(memo, true) != nil, utf8.RuneCountInString(memo) > maxMemoLen; bad || long {
		p := s.newPage(r, nil)
		p.Form = url.Values{"name": {a.Name}, "email": {a.Email}, "memo": {memo}}
		if bad {
			p.Errors.Add("memo", "validation.bad_text")
		} else {
			p.Errors.Add("memo", "validation.too_long", maxMemoLen)
		}
		s.renderApplicant(w, r, p, &e, &a, http.StatusUnprocessableEntity)
		return
	}
	m, _ := memberFrom(r.Context())
	if _, err := s.store.SetMemo(r.Context(), e.OrgID, e.ID, a.ID, m.ID, memo); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/applications/%d", e.ID, a.ID), "flash.saved")
}

// applicationEdit is 登録内容修正: the applicant's name and e-mail.
func (s *Server) applicationEdit(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	in := event.ApplicationInput{ScheduleID: a.ScheduleID, Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email")}
	in.Normalize()
	p := s.newPage(r, nil)
	p.Form = url.Values{"name": {in.Name}, "email": {in.Email}, "memo": {a.Memo}}
	err := in.Validate()
	if err == nil {
		m, _ := memberFrom(r.Context())
		_, err = s.store.EditApplicant(r.Context(), e.OrgID, e.ID, a.ID, m.ID, in.Name, in.Email)
	}
	if fe := (event.FieldErrors{}); errors.As(err, &fe) {
		p.Errors = fe
		s.renderApplicant(w, r, p, &e, &a, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/applications/%d", e.ID, a.ID), "flash.saved")
}

func (s *Server) applicationDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "confirm_delete", confirmDelete{What: "delete.what_application",
		Name: a.Name + " <" + a.Email + ">", IsApplication: true,
		Action: fmt.Sprintf("/events/%d/applications/%d/delete", e.ID, a.ID),
		Back:   fmt.Sprintf("/events/%d/applications/%d", e.ID, a.ID)})
}

func (s *Server) applicationDelete(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteApplication(r.Context(), e.OrgID, e.ID, a.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/applications", e.ID), "flash.application_deleted")
}
