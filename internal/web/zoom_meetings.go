package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
)

// The Zoom meetings of an event's schedules, on the event page, each in its
// 日程's row: their state as the sync left it (DESIGN.md §4), and the
// organizer's actions on them — 再試行, kaisaiの設定を再適用, 再作成, and
// ホストとして開始. A Zoom group's card sums up its settings.

// meetingErrorKeys explain each kind of failure the sync records
// (store.ZoomMeetingFailure.Kind); an unknown kind reads as "other".
var meetingErrorKeys = map[string]string{
	"transient":    "zoom.meeting_error.transient",
	"rate_limited": "zoom.meeting_error.rate_limited",
	"daily_limit":  "zoom.meeting_error.daily_limit",
	"passcode":     "zoom.meeting_error.passcode",
	"license":      "zoom.meeting_error.license",
	"host_gone":    "zoom.meeting_error.host_gone",
	"relink":       "zoom.meeting_error.relink",
	"invalid":      "zoom.meeting_error.invalid",
	"other":        "zoom.meeting_error.other",
	"started":      "zoom.meeting_error.started",
}

// zoomFieldKeys name the meeting fields Zoom reports changed on its side;
// a field not listed is shown as Zoom names it.
var zoomFieldKeys = map[string]string{
	"topic":                           "zoom.field.topic",
	"start_time":                      "zoom.field.start_time",
	"duration":                        "zoom.field.duration",
	"timezone":                        "zoom.field.timezone",
	"password":                        "zoom.field.passcode",
	"agenda":                          "zoom.field.agenda",
	"settings.waiting_room":           "zoom.field.waiting_room",
	"settings.meeting_authentication": "zoom.field.authentication",
	"settings.approval_type":          "zoom.field.registration",
	"settings.host_video":             "zoom.field.host_video",
	"settings.participant_video":      "zoom.field.participant_video",
	"settings.mute_upon_entry":        "zoom.field.mute_upon_entry",
	"settings.registrants_email_notification": "zoom.field.registrant_emails",
	"settings.registrants_confirmation_email": "zoom.field.registrant_emails",
}

// meetingView is one meeting as the event page shows it.
type meetingView struct {
	store.ZoomMeeting
	State     zoompolicy.MeetingState
	When      string // the schedule's date, "" when the schedule is gone
	GroupName string
	ErrorKey  string   // explanation of the last failure
	Changes   []string // settings changed on Zoom's side, named for people
	// OnZoom: the meeting exists on Zoom and is wanted (its join URL is shown).
	OnZoom bool
	// CanStart: the meeting exists on Zoom and its host is linked.
	CanStart bool
	// OtherHost: the meeting's host is not the group's (a meeting of the
	// previous host, being deleted), so the meeting names its host.
	OtherHost bool
	// Started: the schedule has begun, so no meeting is made for it any
	// more (zoompolicy.MayCreate): no 再作成, nor 再試行 of a create.
	Started bool
}

// zoomBlock is the Zoom part of the event page's groups.
type zoomBlock struct {
	Event    *event.Event
	Meetings []meetingView
	// BySchedule are the meetings of each schedule (by its id), shown in
	// the schedule's row.
	BySchedule map[int64][]meetingView
	// Orphans are the meetings whose schedule is gone (being deleted, or
	// left for the organizer to look at): shown below the groups.
	Orphans []meetingView
	// Hosts are the organization's Zoom connections by id, for the groups'
	// settings summary.
	Hosts map[int64]store.ZoomConnection
	// Pending: some meeting is being created, updated or deleted, so the
	// groups refresh themselves.
	Pending bool
	// Show: the event has a Zoom group or meetings.
	Show bool
}

// zoomMeetings builds the Zoom part of an event's groups.
func (s *Server) zoomMeetings(r *http.Request, e *event.Event, gs []store.GroupWithSchedules) (*zoomBlock, error) {
	ms, err := s.store.EventZoomMeetings(r.Context(), e.OrgID, e.ID)
	if err != nil {
		return nil, err
	}
	b := &zoomBlock{Event: e, Show: len(ms) > 0, BySchedule: map[int64][]meetingView{},
		Hosts: map[int64]store.ZoomConnection{}}
	for _, g := range gs {
		if g.Venue == event.VenueZoom {
			conns, err := s.store.ZoomConnections(r.Context(), e.OrgID)
			if err != nil {
				return nil, err
			}
			for _, c := range conns {
				b.Hosts[c.ID] = c
			}
			break
		}
	}
	type where struct {
		when, group string
		sc          event.Schedule
		conn        int64 // the group's host, 0 when it has none
	}
	schedules := map[int64]where{}
	for _, g := range gs {
		b.Show = b.Show || g.Venue == event.VenueZoom
		name := g.Name
		if name == "" {
			name = s.msgs.T(langOf(r), "groups.unnamed")
		}
		for _, sc := range g.Schedules {
			var conn int64
			if g.Zoom != nil {
				conn = g.Zoom.ConnID
			}
			schedules[sc.ID] = where{i18nDateTime(r, sc.StartsAt, e.Location()), name, sc, conn}
		}
	}
	for _, m := range ms {
		v := meetingView{ZoomMeeting: m, State: m.State(), When: schedules[m.ScheduleID].when,
			GroupName: schedules[m.ScheduleID].group}
		if m.ErrorKind != "" {
			v.ErrorKey = meetingErrorKeys[m.ErrorKind]
			if v.ErrorKey == "" {
				v.ErrorKey = meetingErrorKeys["other"]
			}
		}
		if m.ZoomState == zoompolicy.ChangedOnZoom {
			for _, f := range m.ZoomChanges {
				if k, ok := zoomFieldKeys[f]; ok {
					f = s.msgs.T(langOf(r), k)
				}
				v.Changes = append(v.Changes, f)
			}
		}
		sc, ok := schedules[m.ScheduleID]
		if ok {
			v.Started = !zoompolicy.MayCreate(&sc.sc, s.now())
		}
		v.OtherHost = !ok || sc.conn != m.ConnID
		v.OnZoom, v.CanStart = m.Facts().OnZoom(), zoompolicy.CanStart(m.Facts())
		b.Pending = b.Pending || v.State.Pending()
		b.Meetings = append(b.Meetings, v)
		if ok {
			b.BySchedule[m.ScheduleID] = append(b.BySchedule[m.ScheduleID], v)
		} else {
			b.Orphans = append(b.Orphans, v)
		}
	}
	return b, nil
}

// zoomMeetingsBlock answers the event's groups alone, with their schedules
// and meetings, for their own refresh while a meeting is pending (htmx).
func (s *Server) zoomMeetingsBlock(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	gs, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.zoomMeetings(r, &e, gs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderFragment(w, r, "event_show", "groups", map[string]any{"Event": &e, "Groups": gs, "Loc": e.Location(), "Zoom": b})
}

// loadMeeting reads the {meetingID} of an event's URL: a meeting of
// another event (or organization) is a 404.
func (s *Server) loadMeeting(w http.ResponseWriter, r *http.Request) (event.Event, store.ZoomMeeting, bool) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return e, store.ZoomMeeting{}, false
	}
	id, ok := pathID(r, "meetingID")
	if !ok {
		s.notFound(w, r)
		return e, store.ZoomMeeting{}, false
	}
	m, err := s.store.ZoomMeeting(r.Context(), e.OrgID, id)
	if err != nil {
		s.fail(w, r, err)
		return e, m, false
	}
	if m.EventID != e.ID {
		s.notFound(w, r)
		return e, m, false
	}
	return e, m, true
}

// zoomMeetingAction runs one of the store's actions on a meeting and goes
// back to the event page.
func (s *Server) zoomMeetingAction(w http.ResponseWriter, r *http.Request, flash string,
	act func(ctx context.Context, orgID, id int64) error) {
	e, m, ok := s.loadMeeting(w, r)
	if !ok {
		return
	}
	if err := act(r.Context(), e.OrgID, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), flash)
}

// zoomMeetingRetry: 再試行, at once, whatever the backoff.
func (s *Server) zoomMeetingRetry(w http.ResponseWriter, r *http.Request) {
	s.zoomMeetingAction(w, r, "flash.zoom_meeting_retry", s.store.RetryZoomMeeting)
}

// zoomMeetingReapply: kaisaiの設定を再適用, undoing changes made on Zoom.
func (s *Server) zoomMeetingReapply(w http.ResponseWriter, r *http.Request) {
	s.zoomMeetingAction(w, r, "flash.zoom_meeting_reapply", s.store.ReapplyZoomMeeting)
}

// zoomMeetingRecreate: 再作成, a new meeting (new join URL) for the schedule;
// refused once the schedule has begun (zoompolicy.MayCreate), when the
// sync would not create it anyway.
func (s *Server) zoomMeetingRecreate(w http.ResponseWriter, r *http.Request) {
	e, m, ok := s.loadMeeting(w, r)
	if !ok {
		return
	}
	if m.ScheduleID != 0 {
		sc, err := s.store.Schedule(r.Context(), e.OrgID, e.ID, m.ScheduleID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !zoompolicy.MayCreate(&sc, s.now()) {
			s.renderError(w, r, http.StatusConflict, "zoom.recreate_started")
			return
		}
	}
	if err := s.store.RecreateZoomMeeting(r.Context(), e.OrgID, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d", e.ID), "flash.zoom_meeting_recreate")
}

// zoomStartTimeout bounds the call for a start URL.
const zoomStartTimeout = 10 * time.Second

// zoomMeetingStart: ホストとして開始. The start URL signs the host in, so it
// is fetched fresh from Zoom for each click and only ever sent as this
// redirect: never stored, never shown.
func (s *Server) zoomMeetingStart(w http.ResponseWriter, r *http.Request) {
	e, m, ok := s.loadMeeting(w, r)
	if !ok {
		return
	}
	if !m.Facts().OnZoom() {
		s.renderError(w, r, http.StatusConflict, "zoom.start_no_meeting")
		return
	}
	if !m.Managed() {
		s.renderError(w, r, http.StatusConflict, "zoom.start_unmanaged")
		return
	}
	if s.zoomAPI == nil {
		s.renderError(w, r, http.StatusServiceUnavailable, "zoom.start_unavailable")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), zoomStartTimeout)
	defer cancel()
	var start string
	err := s.zoomAPI.Do(ctx, e.OrgID, m.ConnID, func(cl *zoom.Client) error {
		zm, err := cl.Meeting(ctx, m.ZoomID)
		if err == nil {
			start = zm.StartURL
		}
		return err
	})
	if err != nil || !(strings.HasPrefix(start, "https://") || strings.HasPrefix(start, "http://")) {
		s.log.Warn("zoom start url", "org", e.OrgID, "meeting", m.ID, "err", err)
		key := "zoom.start_failed"
		if zoom.IsNotFound(err) {
			key = "zoom.start_no_meeting"
		}
		s.renderError(w, r, http.StatusBadGateway, key)
		return
	}
	// The start URL carries the host's token: keep it out of Referer
	// headers and caches.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, start, http.StatusSeeOther)
}
