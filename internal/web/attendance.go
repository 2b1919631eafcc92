package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"kaisai/internal/event"
	"kaisai/internal/store"
)

// Attendance in Zoom meetings on 申込者一覧 (DESIGN.md §6): each row's
// 参加時間, the 受付 and 参加時間 cells kept live while the meeting runs,
// and the participants no application matched, with 照合 by hand.

const (
	// liveInterval is how often 申込者一覧 of a Zoom event asks for its
	// check-ins and attendance.
	liveInterval = "3s"
	// maxMatchChoices is the largest schedule whose applications are offered
	// in a <select>; above it the organizer types an id or an e-mail.
	maxMatchChoices = 500
)

// hasZoom reports whether any group of the event meets on Zoom: only then
// has the list attendance to show.
func hasZoom(groups []store.GroupWithSchedules) bool {
	for _, g := range groups {
		if g.Venue == event.VenueZoom {
			return true
		}
	}
	return false
}

// attendanceView is an application's 参加時間 as a cell shows it.
type attendanceView struct {
	Joined    bool  // a join is recorded; nothing is shown without one
	InMeeting bool  // 参加中
	Minutes   int64 // closed sessions, overlaps counted once, rounded up
}

func newAttendanceView(a store.Attendance) attendanceView {
	return attendanceView{Joined: a.Sessions > 0, InMeeting: a.InMeeting, Minutes: a.Minutes()}
}

// attendanceViews are the attendance of the rows, in one query.
func (s *Server) attendanceViews(ctx context.Context, e *event.Event, rows []store.ApplicationRow) (map[int64]attendanceView, error) {
	ids := make([]int64, len(rows))
	for i, a := range rows {
		ids[i] = a.ID
	}
	as, err := s.store.Attendances(ctx, e.OrgID, e.ID, ids)
	if err != nil {
		return nil, err
	}
	views := make(map[int64]attendanceView, len(as))
	for id, a := range as {
		views[id] = newAttendanceView(a)
	}
	return views, nil
}

// liveURL is what the list's rows poll: the list's own query, so the
// answer is about the same page, and the ids of the rows shown.
func liveURL(e *event.Event, aq store.ApplicantQuery, rows []store.ApplicationRow) string {
	u := applicantsURL(e.ID, aq, aq.Page)
	ids := make([]string, len(rows))
	for i, a := range rows {
		ids[i] = strconv.FormatInt(a.ID, 10)
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	u = strings.Replace(u, "/applications", "/applications/live", 1)
	return u + sep + "ids=" + strings.Join(ids, ",")
}

// parseIDs reads the live request's ids: at most one page of them.
func parseIDs(s string) (map[int64]bool, bool) {
	ids := map[int64]bool{}
	if s == "" {
		return ids, true
	}
	parts := strings.Split(s, ",")
	if len(parts) > applicantsPerPage {
		return nil, false
	}
	for _, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		ids[id] = true
	}
	return ids, true
}

// actionsShown sums up what decides a row's actions cell (受付する or
// 受付を取り消す, 入金済にする, …). The cell carries it in a hidden input that the
// list's poll sends back, and the poll swaps the cell only when it no
// longer matches: a check-in from Zoom replaces 受付する with 受付を取り消す, and
// a button being clicked or focused is otherwise left in place.
func actionsShown(a event.Application) string {
	return fmt.Sprintf("%d:%s:%s:%t", a.ID, a.Status, a.Payment, !a.CheckedInAt.IsZero())
}

// staleActions are the rows whose actions cell shows another state than
// theirs now, by what the page sent back (shown: actionsShown values). A
// row the page said nothing of is stale.
func staleActions(rows []store.ApplicationRow, shown []string) map[int64]bool {
	seen := make(map[string]bool, len(shown))
	for _, v := range shown {
		seen[v] = true
	}
	stale := map[int64]bool{}
	for _, a := range rows {
		if !seen[actionsShown(a.Application)] {
			stale[a.ID] = true
		}
	}
	return stale
}

// applicationsLive answers the list's poll with out-of-band swaps: the 受付
// and 参加時間 cells of the rows asked for, their actions cells where these
// show another state than the row's now (see actionsShown), and the
// unmatched participants —
// the whole section only when its people changed (so a choice being made
// in its forms survives), else just their minutes.
func (s *Server) applicationsLive(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	want, ok := parseIDs(r.URL.Query().Get("ids"))
	if !ok {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	groups, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !hasZoom(groups) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	aq := applicantQuery(r)
	page, err := s.store.Applicants(r.Context(), e.OrgID, e.ID, aq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Only rows the page has: a row that moved off it is left to the
	// list's own refresh.
	var rows []store.ApplicationRow
	for _, a := range page.Rows {
		if want[a.ID] {
			rows = append(rows, a)
		}
	}
	att, err := s.attendanceViews(r.Context(), &e, rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := applicantsURL(e.ID, aq, aq.Page)
	ub, err := s.unmatched(r.Context(), &e, groups, back, r.URL.Query().Get("seen"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderFragment(w, r, "applications", "live", map[string]any{"Event": &e, "Loc": e.Location(),
		"Rows": rows, "Attendance": att, "Unmatched": ub, "Back": back,
		"StaleActions": staleActions(rows, r.URL.Query()["shown"])})
}

// unmatchedBlock is the section 申込と照合できなかった参加者.
type unmatchedBlock struct {
	Event *event.Event
	Rows  []unmatchedRow
	// Seen identifies who is listed; the page sends it back when it polls.
	Seen string
	// Changed: the page's section lists other people (or none yet), so the
	// live answer replaces it whole.
	Changed bool
	Back    string
}

// unmatchedRow is one participant and how to match them.
type unmatchedRow struct {
	store.UnmatchedParticipant
	Attendance attendanceView
	Schedule   event.Schedule
	// Choices are the schedule's 申込済 applications; nil with TooMany,
	// where the organizer types an id or e-mail instead.
	Choices []store.ApplicationRow
	TooMany bool
}

// unmatched builds the section; seen is what the page shows (its Seen),
// "" for a page being built. The schedule's applications are read only
// when the section is to be rendered whole.
func (s *Server) unmatched(ctx context.Context, e *event.Event, groups []store.GroupWithSchedules, back, seen string) (*unmatchedBlock, error) {
	ps, err := s.store.UnmatchedParticipants(ctx, e.OrgID, e.ID)
	if err != nil {
		return nil, err
	}
	b := &unmatchedBlock{Event: e, Seen: participantsSeen(ps), Back: back}
	b.Changed = seen != b.Seen
	schedules := map[int64]event.Schedule{}
	for _, g := range groups {
		for _, sc := range g.Schedules {
			schedules[sc.ID] = sc
		}
	}
	type choices struct {
		rows    []store.ApplicationRow
		tooMany bool
	}
	bySchedule := map[int64]choices{}
	for _, p := range ps {
		row := unmatchedRow{UnmatchedParticipant: p, Attendance: newAttendanceView(p.Attendance),
			Schedule: schedules[p.ScheduleID]}
		if b.Changed {
			c, ok := bySchedule[p.ScheduleID]
			if !ok {
				page, err := s.store.Applicants(ctx, e.OrgID, e.ID, store.ApplicantQuery{ScheduleID: p.ScheduleID,
					Status: event.Applied, Page: 1, PerPage: maxMatchChoices})
				if err != nil {
					return nil, err
				}
				c = choices{rows: page.Rows, tooMany: page.Total > maxMatchChoices}
				if c.tooMany {
					c.rows = nil
				}
				bySchedule[p.ScheduleID] = c
			}
			row.Choices, row.TooMany = c.rows, c.tooMany
		}
		b.Rows = append(b.Rows, row)
	}
	return b, nil
}

// participantsSeen sums up who the section lists (not their minutes, which
// the live answer updates cell by cell).
func participantsSeen(ps []store.UnmatchedParticipant) string {
	h := sha256.New()
	for _, p := range ps {
		fmt.Fprintf(h, "%d\x00%d\x00%s\x00%s\x00%d\n", p.ID, p.ScheduleID, p.Name, p.Email, p.FirstJoin.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// zoomParticipantMatch is 「この申込者として受付」: an unmatched participant
// becomes the chosen application's, which is checked in from Zoom at the
// first join. The choice is an application id, or (for a schedule too
// large for a list) an id or e-mail typed in.
func (s *Server) zoomParticipantMatch(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	sessionID, ok := pathID(r, "sessionID")
	if !ok {
		s.notFound(w, r)
		return
	}
	// The participant first, so that another organization's (or an
	// already matched one) is a 404 whatever the form says.
	ps, err := s.store.UnmatchedParticipants(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var p *store.UnmatchedParticipant
	for i := range ps {
		if ps[i].ID == sessionID {
			p = &ps[i]
		}
	}
	if p == nil {
		s.notFound(w, r)
		return
	}
	if !s.parseForm(w, r) {
		return
	}
	appID, key, err := s.matchChoice(r.Context(), p, r.PostForm.Get("application"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if key != "" {
		s.renderError(w, r, http.StatusBadRequest, key)
		return
	}
	m, _ := memberFrom(r.Context())
	// The store refuses an application that does not exist, is of another
	// schedule or is not 申込済, with a message for the organizer.
	if err := s.store.MatchZoomParticipant(r.Context(), e.OrgID, e.ID, sessionID, appID, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, &e), "flash.zoom_participant_matched")
}

// matchChoice reads the chosen application: its id, or an e-mail of the
// participant's schedule. A non-empty key says why there is none.
func (s *Server) matchChoice(ctx context.Context, p *store.UnmatchedParticipant, v string) (int64, string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return 0, "zoom.unmatched.choose", nil
	case strings.Contains(v, "@"):
		id, err := s.store.ApplicationByEmailUnscoped(ctx, p.ScheduleID, v)
		if err != nil {
			return 0, "", err
		}
		if id == 0 {
			return 0, "zoom.unmatched.no_email", nil
		}
		return id, "", nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, "zoom.unmatched.bad_choice", nil
	}
	return id, "", nil
}
