package zoomsim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The control API under /_sim/: what the exported methods of *Server do,
// over HTTP with JSON in and out, for tests in other processes and for
// people with curl. It is no part of Zoom. Bad input answers 400 with
// {"error": "…"}; an unknown meeting 404; a refused join 403.

// Snapshot is the whole visible state: what GET /_sim/state answers and
// what the web UI shows.
type Snapshot struct {
	Users    []User            `json:"users"`
	Apps     []AppState        `json:"apps"`
	Meetings []MeetingSnapshot `json:"meetings"`
	Summary  Summary           `json:"summary"`
}

// AppState is an app and the users who have added (authorized) it.
type AppState struct {
	App
	AuthorizedUsers []string `json:"authorized_users"` // e-mails
}

// MeetingSnapshot is a meeting as the API shows it, with its registrants
// and, while it runs, who is in it and who waits.
type MeetingSnapshot struct {
	meetingJSON
	Registrants  []RegistrantSnapshot `json:"registrants"`
	Participants []Participant        `json:"participants"`
	Waiting      []Participant        `json:"waiting"`
}

// RegistrantSnapshot is one registrant of a meeting.
type RegistrantSnapshot struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Status    string `json:"status"`
	JoinURL   string `json:"join_url"`
}

// Summary counts what there is.
type Summary struct {
	Users        int `json:"users"`
	Apps         int `json:"apps"`
	Meetings     int `json:"meetings"`
	Running      int `json:"running"`
	Registrants  int `json:"registrants"`
	Participants int `json:"participants"`
	Deliveries   int `json:"webhook_deliveries"`
}

// State returns a snapshot of users, apps and meetings, sorted for display.
func (s *Server) State() Snapshot {
	s.mu.Lock()
	var snap Snapshot
	for _, u := range s.st.Users {
		snap.Users = append(snap.Users, *u)
	}
	slices.SortFunc(snap.Users, func(a, b User) int { return strings.Compare(a.Email, b.Email) })
	for _, a := range s.st.Apps {
		as := AppState{App: *a, AuthorizedUsers: []string{}}
		for _, u := range snap.Users {
			if s.authorizedLocked(a.ClientID, u.ID) {
				as.AuthorizedUsers = append(as.AuthorizedUsers, u.Email)
			}
		}
		snap.Apps = append(snap.Apps, as)
	}
	slices.SortFunc(snap.Apps, func(a, b AppState) int { return strings.Compare(a.ClientID, b.ClientID) })
	for _, m := range s.st.Meetings {
		ms := MeetingSnapshot{meetingJSON: s.meetingJSON(m), Registrants: []RegistrantSnapshot{},
			Participants: []Participant{}, Waiting: []Participant{}}
		for _, r := range m.Registrants {
			ms.Registrants = append(ms.Registrants, RegistrantSnapshot{ID: r.ID, Email: r.Email,
				FirstName: r.FirstName, LastName: r.LastName, Status: r.Status, JoinURL: s.registrantJoinURL(m, r)})
		}
		if m.Live != nil {
			for _, p := range m.Live.In {
				ms.Participants = append(ms.Participants, publicParticipant(p, false))
			}
			for _, p := range m.Live.Waiting {
				ms.Waiting = append(ms.Waiting, publicParticipant(p, true))
			}
			snap.Summary.Running++
		}
		byJoin := func(a, b Participant) int { return a.JoinTime.Compare(b.JoinTime)*2 + strings.Compare(a.ID, b.ID) }
		slices.SortFunc(ms.Participants, byJoin)
		slices.SortFunc(ms.Waiting, byJoin)
		snap.Summary.Registrants += len(ms.Registrants)
		snap.Summary.Participants += len(ms.Participants)
		snap.Meetings = append(snap.Meetings, ms)
	}
	slices.SortFunc(snap.Meetings, func(a, b MeetingSnapshot) int {
		if c := strings.Compare(a.StartTime, b.StartTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	s.mu.Unlock()
	snap.Summary.Users, snap.Summary.Apps, snap.Summary.Meetings = len(snap.Users), len(snap.Apps), len(snap.Meetings)
	snap.Summary.Deliveries = len(s.Deliveries())
	return snap
}

// Reset goes back to the seed: users, apps, meetings, tokens, plans, rate
// limit counts, faults, the token lifetime set since and the list of
// webhook deliveries are forgotten, and the seed is added again (users get
// new ids).
func (s *Server) Reset() error {
	s.mu.Lock()
	s.st = newState()
	s.tokenTTL = s.opts.AccessTokenTTL
	s.limits.reset()
	clear(s.limits.plans)
	s.saveLocked()
	s.mu.Unlock()
	s.ClearFaults()
	h := s.hooksQueue()
	h.mu.Lock()
	h.deliveries, h.queue = nil, nil
	clear(h.validation)
	h.notifyLocked()
	h.mu.Unlock()
	for _, a := range s.opts.Seed.Apps {
		if _, err := s.AddApp(a); err != nil {
			return err
		}
	}
	for _, u := range s.opts.Seed.Users {
		if _, err := s.AddUser(u); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.State())
	})
	mux.HandleFunc("POST /_sim/users", s.ctlAddUser)
	mux.HandleFunc("POST /_sim/apps", s.ctlAddApp)
	mux.HandleFunc("POST /_sim/plan", s.ctlPlan)
	mux.HandleFunc("POST /_sim/token-lifetime", s.ctlTokenLifetime)
	mux.HandleFunc("POST /_sim/faults", s.ctlSetFaults)
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/meetings/{id}/join", s.ctlJoin)
	mux.HandleFunc("POST /_sim/meetings/{id}/admit", s.ctlParticipant(s.Admit))
	mux.HandleFunc("POST /_sim/meetings/{id}/leave", s.ctlParticipant(s.Leave))
	mux.HandleFunc("POST /_sim/meetings/{id}/end", func(w http.ResponseWriter, r *http.Request) {
		id, ok := ctlMeetingID(w, r)
		if !ok {
			return
		}
		if err := s.EndMeeting(id); err != nil {
			ctlError(w, http.StatusConflict, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/remove-app", s.ctlRemoveApp)
	mux.HandleFunc("GET /_sim/webhooks", s.ctlWebhooks)
	mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reset(); err != nil {
			ctlError(w, http.StatusInternalServerError, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		ctlError(w, http.StatusNotFound, errors.New("no such control route"))
	})
}

func ctlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": strings.TrimPrefix(err.Error(), "zoomsim: ")})
}

// ctlDecode reads a JSON object; unknown fields are refused, so a typo
// does not silently do nothing.
func ctlDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("bad JSON body: %w", err))
		return false
	}
	return true
}

func ctlMeetingID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("bad meeting id %q", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// ctlAddUser: POST /_sim/users, a User object (email required; type 1
// Basic or 2 Licensed; require_passcode and policy; password "password"
// when empty). Answers 201 with the user.
func (s *Server) ctlAddUser(w http.ResponseWriter, r *http.Request) {
	var u User
	if !ctlDecode(w, r, &u) {
		return
	}
	if u.Type != 0 && u.Type != UserBasic && u.Type != UserLicensed {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("type must be 1 (Basic) or 2 (Licensed), not %d", u.Type))
		return
	}
	if !validEmail(u.Email) {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("bad email %q", u.Email))
		return
	}
	if u.Policy.Length < 0 || u.Policy.Length > 10 {
		ctlError(w, http.StatusBadRequest, errors.New("policy.length must be 0–10"))
		return
	}
	if u.Password == "" {
		u.Password = "password"
	}
	u, err := s.AddUser(u)
	if err != nil {
		ctlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

// ctlAddApp: POST /_sim/apps, an App object; with event_url, the endpoint
// is set (and validated) as SetWebhookEndpoint does. Answers 201.
func (s *Server) ctlAddApp(w http.ResponseWriter, r *http.Request) {
	var a App
	if !ctlDecode(w, r, &a) {
		return
	}
	if len(a.RedirectURIs) == 0 {
		ctlError(w, http.StatusBadRequest, errors.New("redirect_uris: at least one is needed"))
		return
	}
	if a.EventURL != "" && a.SecretToken == "" {
		ctlError(w, http.StatusBadRequest, errors.New("secret_token is needed with event_url"))
		return
	}
	eventURL, secret := a.EventURL, a.SecretToken
	a.EventURL, a.SecretToken = "", ""
	a, err := s.AddApp(a)
	if err != nil {
		ctlError(w, http.StatusBadRequest, err)
		return
	}
	if eventURL != "" {
		if err := s.SetWebhookEndpoint(a.ClientID, eventURL, secret); err != nil {
			ctlError(w, http.StatusBadRequest, err)
			return
		}
		a.EventURL, a.SecretToken = eventURL, secret
	}
	writeJSON(w, http.StatusCreated, a)
}

// ctlPlan: POST /_sim/plan {"email" or "account_id", "plan": "Free"|"Pro"|"Business"}.
func (s *Server) ctlPlan(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email     string `json:"email"`
		AccountID string `json:"account_id"`
		Plan      Plan   `json:"plan"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	switch req.Plan {
	case PlanFree, PlanPro, PlanBusiness:
	default:
		ctlError(w, http.StatusBadRequest, fmt.Errorf("plan must be Free, Pro or Business, not %q", req.Plan))
		return
	}
	if req.Email != "" {
		u, ok := s.User(req.Email)
		if !ok {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("no user %s", req.Email))
			return
		}
		req.AccountID = u.AccountID
	}
	if req.AccountID == "" {
		ctlError(w, http.StatusBadRequest, errors.New("email or account_id is needed"))
		return
	}
	s.SetPlan(req.AccountID, req.Plan)
	w.WriteHeader(http.StatusNoContent)
}

// ctlTokenLifetime: POST /_sim/token-lifetime {"access_token": "30s"}
// sets the lifetime of access tokens given from now on.
func (s *Server) ctlTokenLifetime(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccessToken string `json:"access_token"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	d, err := time.ParseDuration(req.AccessToken)
	if err == nil {
		err = s.SetAccessTokenTTL(d)
	}
	if err != nil {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("access_token: %w", err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var faultKinds = map[string]FaultKind{
	"status": FaultStatus, "latency": FaultLatency, "timeout": FaultTimeout,
	"token_expired": FaultTokenExpired, "token_revoked": FaultTokenRevoked, "drop_webhook": FaultDropWebhook,
	"lost_answer": FaultLostAnswer, "rate_limit": FaultRateLimit,
}

// ctlSetFaults: POST /_sim/faults {"seed": 1, "faults": [{"kind":
// "status"|"latency"|"timeout"|"token_expired"|"token_revoked"|"drop_webhook"|"lost_answer"|"rate_limit",
// "op", "meeting", "rate", "count", "status", "delay": "2s", "rate_limit_type"}]}
// replaces the faults. No rate with a count: the next count calls.
func (s *Server) ctlSetFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Seed   uint64 `json:"seed"`
		Faults []struct {
			Kind    string  `json:"kind"`
			Op      string  `json:"op"`
			Meeting int64   `json:"meeting"`
			Rate    float64 `json:"rate"`
			Count   int     `json:"count"`
			Status  int     `json:"status"`
			Delay   string  `json:"delay"`
			Type    string  `json:"rate_limit_type"`
		} `json:"faults"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	var fs []Fault
	for i, f := range req.Faults {
		kind, ok := faultKinds[f.Kind]
		if !ok {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].kind: unknown %q", i, f.Kind))
			return
		}
		if f.Rate < 0 || f.Rate > 1 {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].rate must be 0–1", i))
			return
		}
		if f.Status != 0 && f.Status != http.StatusTooManyRequests && (f.Status < 500 || f.Status > 599) {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].status must be 5xx or 429", i))
			return
		}
		if f.Count < 0 {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].count must not be negative", i))
			return
		}
		if f.Type != "" && f.Type != "QPS" && f.Type != "Daily-limit" {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].rate_limit_type must be QPS or Daily-limit", i))
			return
		}
		var delay time.Duration
		if f.Delay != "" {
			d, err := time.ParseDuration(f.Delay)
			if err != nil || d < 0 {
				ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].delay: bad duration %q", i, f.Delay))
				return
			}
			delay = d
		}
		fs = append(fs, Fault{Kind: kind, Op: f.Op, Meeting: f.Meeting, Rate: f.Rate, Count: f.Count, Status: f.Status, Delay: delay,
			RateLimitType: f.Type})
	}
	s.SetFaults(req.Seed, fs...)
	w.WriteHeader(http.StatusNoContent)
}

// ctlJoin: POST /_sim/meetings/{id}/join {"email", "name", "passcode",
// "registrant_id", "join_url"}: 200 with the participant (waiting: true
// in a waiting room), 404 for an unknown meeting, 403 with the reason
// when the meeting's rules refuse the join.
func (s *Server) ctlJoin(w http.ResponseWriter, r *http.Request) {
	id, ok := ctlMeetingID(w, r)
	if !ok {
		return
	}
	var req struct {
		Email        string `json:"email"`
		Name         string `json:"name"`
		Passcode     string `json:"passcode"`
		RegistrantID string `json:"registrant_id"`
		JoinURL      string `json:"join_url"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	p, err := s.Join(JoinRequest{MeetingID: id, JoinURL: req.JoinURL, RegistrantID: req.RegistrantID,
		Email: req.Email, Name: req.Name, Passcode: req.Passcode})
	switch {
	case errors.Is(err, ErrNoMeeting):
		ctlError(w, http.StatusNotFound, err)
	case err != nil:
		ctlError(w, http.StatusForbidden, err)
	default:
		writeJSON(w, http.StatusOK, p)
	}
}

// ctlParticipant serves admit and leave: {"participant_id": "…"}.
func (s *Server) ctlParticipant(do func(int64, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := ctlMeetingID(w, r)
		if !ok {
			return
		}
		var req struct {
			ParticipantID string `json:"participant_id"`
		}
		if !ctlDecode(w, r, &req) {
			return
		}
		if err := do(id, req.ParticipantID); err != nil {
			ctlError(w, http.StatusNotFound, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// ctlRemoveApp: POST /_sim/remove-app {"email", "client_id"}.
func (s *Server) ctlRemoveApp(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email    string `json:"email"`
		ClientID string `json:"client_id"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	if err := s.RemoveApp(req.Email, req.ClientID); err != nil {
		ctlError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deliveryJSON is a Delivery with its body as JSON, not base64.
type deliveryJSON struct {
	ID        int             `json:"id"`
	ClientID  string          `json:"client_id"`
	URL       string          `json:"url"`
	Event     string          `json:"event"`
	Body      json.RawMessage `json:"body"`
	Attempts  []Attempt       `json:"attempts"`
	Delivered bool            `json:"delivered"`
	Done      bool            `json:"done"`
	Dropped   bool            `json:"dropped"`
}

// ctlWebhooks: GET /_sim/webhooks[?event=meeting.updated] lists deliveries, oldest first.
func (s *Server) ctlWebhooks(w http.ResponseWriter, r *http.Request) {
	event := r.URL.Query().Get("event")
	out := []deliveryJSON{}
	for _, d := range s.Deliveries() {
		if event != "" && d.Event != event {
			continue
		}
		out = append(out, deliveryJSON{ID: d.ID, ClientID: d.ClientID, URL: d.URL, Event: d.Event, Body: d.Body,
			Attempts: d.Attempts, Delivered: d.Delivered, Done: d.Done, Dropped: d.Dropped})
	}
	writeJSON(w, http.StatusOK, out)
}
