package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// The participants' pages: a published event with its schedules and the
// application form, and each application's private page.

func (s *Server) loadPublicEvent(w http.ResponseWriter, r *http.Request) (event.Event, bool) {
	e, err := s.store.PublishedEvent(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return e, false
	}
	return e, true
}

// zoomSignIn reports whether joining a group's meetings needs the
// participant signed in to Zoom with the e-mail they applied with (認証).
func zoomSignIn(g event.ScheduleGroup) bool {
	return g.Venue == event.VenueZoom && zoompolicy.SignInRequired(zoompolicy.Of(g.Zoom))
}

func (s *Server) publicEventPage(w http.ResponseWriter, r *http.Request, e *event.Event, p *page, status int) {
	gs, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	facts, err := s.publicFacts(r.Context(), e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	open := 0
	signIn := false
	for _, g := range gs {
		signIn = signIn || zoomSignIn(g.ScheduleGroup)
		for _, sc := range g.Schedules {
			if !sc.Started(now) && (!sc.Full() || e.WaitlistEnabled) {
				open++
			}
		}
	}
	if p.Form.Get("submit_key") == "" {
		p.Form.Set("submit_key", newSubmitKey())
	}
	p.Data = map[string]any{"Event": e, "Groups": gs, "Loc": e.Location(), "Now": now, "Open": open,
		"SignIn": signIn, "Facts": facts}
	s.render(w, r, status, "public_event", p)
}

// publicFacts are what the public page and the 確認画面 say about who holds
// the event and how it is paid.
type publicFacts struct {
	Organizer string // the organization's name (主催)
	// Online: a paid event is paid online, by Methods (カード, コンビニ,
	// 銀行振込, as the organization enabled them); otherwise the organizer
	// tells applicants how to pay.
	Online  bool
	Methods []payment.Method
}

func (s *Server) publicFacts(ctx context.Context, e *event.Event) (publicFacts, error) {
	o, err := s.store.Organization(ctx, e.OrgID)
	if err != nil {
		return publicFacts{}, err
	}
	f := publicFacts{Organizer: o.Name}
	if !e.Paid() || s.pay == nil {
		return f, nil
	}
	c, err := s.store.ConnectedStripe(ctx, e.OrgID)
	switch {
	case errors.Is(err, event.ErrNotFound):
		return f, nil
	case err != nil:
		return f, err
	}
	f.Online, f.Methods = len(c.Methods) > 0, c.Methods
	return f, nil
}

func (s *Server) publicEvent(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok {
		return
	}
	p := s.newPage(r, nil)
	if id := r.URL.Query().Get("schedule"); id != "" {
		p.Form.Set("schedule_id", id)
	}
	s.publicEventPage(w, r, &e, p, http.StatusOK)
}

// publicSeats is the seats-left table alone, which htmx refreshes.
func (s *Server) publicSeats(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok {
		return
	}
	gs, err := s.store.Groups(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderFragment(w, r, "public_event", "seats", map[string]any{"Event": &e, "Groups": gs, "Loc": e.Location(), "Now": s.now()})
}

// applyForm reads the application form into its input and a page holding
// what was typed, to show again.
func (s *Server) applyForm(r *http.Request) (event.ApplicationInput, *page) {
	f := r.PostForm
	in := event.ApplicationInput{Name: f.Get("name"), Email: f.Get("email"), SubmitKey: f.Get("submit_key"),
		Consent: f.Get("consent") == "1"}
	in.ScheduleID, _ = strconv.ParseInt(f.Get("schedule_id"), 10, 64)
	in.Normalize()
	p := s.newPage(r, nil)
	p.Form = url.Values{"name": {in.Name}, "email": {in.Email}, "schedule_id": {f.Get("schedule_id")}, "submit_key": {in.SubmitKey}}
	if in.Consent {
		p.Form.Set("consent", "1")
	}
	return in, p
}

// staleForm answers a form kaisai did not render (no well-formed submit
// key): the form again, with what was typed and a fresh key.
func (s *Server) staleForm(w http.ResponseWriter, r *http.Request, e *event.Event, in event.ApplicationInput, p *page) bool {
	if submitKeyPattern.MatchString(in.SubmitKey) {
		return false
	}
	p.Form.Del("submit_key")
	p.Errors.Add("form", "apply.stale_form")
	s.publicEventPage(w, r, e, p, http.StatusBadRequest)
	return true
}

// apply is 「申し込む」 of the 確認画面 (and of any client posting the form
// at once): the application made, then on to its page or to payment.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadPublicEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	in, p := s.applyForm(r)
	if s.staleForm(w, r, &e, in, p) {
		return
	}
	err := in.ValidateFor(&e)
	var res event.ApplyResult
	if err == nil {
		res, err = s.store.Apply(r.Context(), &e, in)
	}
	if err != nil {
		var fe event.FieldErrors
		var ee *event.Error
		switch {
		case errors.As(err, &fe):
			p.Errors = fe
		case errors.As(err, &ee) && (ee == store.ErrScheduleFull || ee == store.ErrScheduleClosed):
			p.Errors.Add("schedule_id", ee.Key)
		case errors.Is(err, store.ErrSubmitKeyUsed):
			// Someone else's (or an edited) submission of a sent form: a
			// fresh form with what was typed, and nobody's application.
			p.Form.Del("submit_key")
			p.Errors.Add("form", "apply.key_used")
			s.publicEventPage(w, r, &e, p, http.StatusConflict)
			return
		default:
			s.fail(w, r, err)
			return
		}
		s.publicEventPage(w, r, &e, p, http.StatusUnprocessableEntity)
		return
	}
	flash := "flash.applied"
	switch {
	case res.Existing:
		flash = "flash.already_submitted"
	case res.Application.Status == event.Waitlisted:
		flash = "flash.waitlisted"
	case e.Paid() && s.pay != nil:
		// The seat is held 未入金: on to Stripe's page at once, when the
		// organization takes payments online.
		if on, err := s.store.PaymentsOn(r.Context(), e.OrgID); err == nil && on {
			p, err := s.pay.Start(r.Context(), res.Application.Token)
			if err == nil && p.Status == payment.StatusOpen && p.URL != "" {
				http.Redirect(w, r, p.URL, http.StatusSeeOther)
				return
			}
			if err != nil {
				// The application stands; the page offers 「お支払いへ進む」.
				s.log.Warn("payment: start after applying", "application", res.Application.ID, "err", err)
				flash = "flash.applied_pay_later"
			}
		}
	}
	redirect(w, r, "/a/"+res.Application.Token, flash)
}

// loadApplicationByToken reads the application of a private link with its
// event, schedule and group.
func (s *Server) loadApplicationByToken(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	a, err := s.store.ApplicationByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	e, err := s.store.EventByIDUnscoped(r.Context(), a.EventID)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	sc, g, err := s.store.ScheduleByIDUnscoped(r.Context(), a.ScheduleID)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	d := map[string]any{"Application": &a, "Event": &e, "Schedule": &sc, "Group": &g, "Loc": e.Location(),
		"Eligible": a.Eligible(&e), "MayCancel": a.MayCancel(&sc, s.now()) == nil,
		"SignIn": zoomSignIn(g) && a.Active()}
	if g.Venue == event.VenueZoom {
		j, err := s.zoomJoin(r.Context(), &e, &a, &g)
		if err != nil {
			s.fail(w, r, err)
			return nil, false
		}
		d["Join"] = &j
	}
	if err := s.payData(r, d, &e, &a); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if err := s.refundData(r, d, &a); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return d, true
}

// zoomJoin is the join URL a Zoom group's participant sees (DESIGN.md §3).
type zoomJoin struct {
	Access string // none, meeting, personal, pending (zoompolicy.Access)
	URL    string // the meeting's (with its passcode) or the personal one
	// Passcode says the meeting URL carries the meeting's passcode.
	Passcode bool
}

// joinAccess names zoompolicy's Access for the application template.
var joinAccess = map[zoompolicy.Access]string{
	zoompolicy.NoURL: "none", zoompolicy.MeetingURL: "meeting",
	zoompolicy.PersonalURL: "personal", zoompolicy.PendingURL: "pending",
}

func (s *Server) zoomJoin(ctx context.Context, e *event.Event, a *event.Application, g *event.ScheduleGroup) (zoomJoin, error) {
	personal, err := s.personalJoinURL(ctx, a, g)
	if err != nil {
		return zoomJoin{}, err
	}
	j := zoompolicy.JoinFor(g, e, a, personal)
	return zoomJoin{Access: joinAccess[j.Access], URL: j.URL, Passcode: j.Passcode}, nil
}

// personalJoinURL is the application's registrant join URL on its Zoom
// meeting, "" where its group does not register (登録) or it is not
// registered yet.
func (s *Server) personalJoinURL(ctx context.Context, a *event.Application, g *event.ScheduleGroup) (string, error) {
	if !zoompolicy.Registers(g) {
		return "", nil
	}
	regs, err := s.store.ApplicationRegistrantsUnscoped(ctx, []int64{a.ID})
	if err != nil {
		return "", err
	}
	return regs[a.ID].PersonalJoinURL(), nil
}

func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadApplicationByToken(w, r)
	if !ok {
		return
	}
	if d["Calendar"], ok = s.calendarLinks(w, r, d); !ok {
		return
	}
	// The link is the participant's key: keep it out of Referer headers.
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "application", d)
}
