package web

import (
	"net/http"
	"strings"

	"kaisai/internal/calendar"
	"kaisai/internal/event"
	"kaisai/internal/mail"
	"kaisai/internal/zoompolicy"
)

// The participant's calendar entry (DESIGN.md §9): GET /a/{token}/calendar.ics
// and the application page's 「Googleカレンダーに追加」 link, the same entry
// as the mails attach, with the join URL only where the participant may
// join (zoompolicy.ParticipantURL).

// calendarView is what the partial calendar_links.html shows.
type calendarView struct {
	ICS    string // the .ics download
	Google string // Google Calendar's form, filled in
	// JoinLater says the entry has no join URL yet but will once the
	// participant may join (an online group, キャンセル待ち or 未入金).
	JoinLater bool
}

// calendarEntry is the entry of the application the page data d is about
// (loadApplicationByToken), worded in the reader's language.
func (s *Server) calendarEntry(r *http.Request, d map[string]any) (calendar.Entry, error) {
	a, e := d["Application"].(*event.Application), d["Event"].(*event.Event)
	sc, g := d["Schedule"].(*event.Schedule), d["Group"].(*event.ScheduleGroup)
	personal, err := s.personalJoinURL(r.Context(), a, g)
	if err != nil {
		return calendar.Entry{}, err
	}
	join := zoompolicy.ParticipantURL(g, e, a, personal)
	return calendar.ForApplication(a, e, sc, g, join, s.publicBase(r), mail.CalendarLabels(s.msgs, langOf(r)), s.now()), nil
}

// calendarLinks are the page's calendar links; none for a cancelled
// application (ok false: the answer is written).
func (s *Server) calendarLinks(w http.ResponseWriter, r *http.Request, d map[string]any) (_ *calendarView, ok bool) {
	a, g := d["Application"].(*event.Application), d["Group"].(*event.ScheduleGroup)
	if !a.Active() {
		return nil, true
	}
	entry, err := s.calendarEntry(r, d)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return &calendarView{ICS: "/a/" + a.Token + "/calendar.ics", Google: calendar.GoogleURL(entry),
		JoinLater: g.Venue.Online() && !a.Eligible(d["Event"].(*event.Event))}, true
}

// calendarICS answers GET /a/{token}/calendar.ics: the entry to import. A
// cancelled application's says so (STATUS:CANCELLED), which takes it out of
// a calendar that imported it.
func (s *Server) calendarICS(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadApplicationByToken(w, r)
	if !ok {
		return
	}
	entry, err := s.calendarEntry(r, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+mail.CalendarFile+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(calendar.ICS(entry))
}

// publicBase is kaisai's public URL, for the links and UID of an entry:
// the one the mails use when it is configured, else where the request came.
func (s *Server) publicBase(r *http.Request) string {
	if s.stripe.PublicURL != nil {
		if u := strings.TrimRight(s.stripe.PublicURL(), "/"); u != "" {
			return u
		}
	}
	scheme := "http"
	if r.TLS != nil || s.secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
