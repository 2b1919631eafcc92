package zoomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"kaisai/internal/zoom/webhook"
)

// Zoom's delivery rules (developers.zoom.us/blog/webhook-delays): an
// endpoint must answer 200 or 204 within three seconds; otherwise Zoom
// retries three times, 5 minutes after the first attempt, 20 minutes after
// the first retry and 60 minutes after the second, then gives up.
var zoomRetryDelays = []time.Duration{5 * time.Minute, 20 * time.Minute, 60 * time.Minute}

const zoomWebhookTimeout = 3 * time.Second

// WebhookOptions tune webhook delivery; the zero value is Zoom's behaviour.
type WebhookOptions struct {
	// TimeScale multiplies Zoom's retry delays (0 or 1: real time; 0.001
	// turns 5 minutes into 300 ms). RetryDelays, when set, replace them.
	TimeScale   float64
	RetryDelays []time.Duration
	// Timeout is how long an endpoint may take to answer (Zoom: 3 s).
	Timeout time.Duration
	// Client sends the deliveries; a client with Timeout when nil.
	Client *http.Client
}

// Delivery is one webhook event sent (or being sent) to one app's endpoint.
type Delivery struct {
	ID       int
	ClientID string
	URL      string
	Event    string
	Body     []byte
	Attempts []Attempt
	// Delivered: an attempt got a 2xx. Done: no attempt is left to make
	// (delivered, given up, or dropped by a fault).
	Delivered bool
	Done      bool
	Dropped   bool
}

// Attempt is one POST of a delivery: the status answered (0 when the
// endpoint did not answer in time or could not be reached).
type Attempt struct {
	At     time.Time
	Status int
	Err    string
}

// webhooks is the delivery queue of one server: one goroutine sends first
// attempts in the order the events happened; retries are timers that put
// the delivery back in the queue. Never held together with Server.mu.
type webhooks struct {
	opts   WebhookOptions
	client *http.Client
	start  sync.Once

	mu         sync.Mutex
	deliveries []*Delivery
	queue      []*Delivery
	wake       chan struct{}
	changed    chan struct{} // closed and replaced on every change, for waiters
	validation map[string]bool
	closed     bool
	stop       context.CancelFunc
	ctx        context.Context
}

func newWebhooks(opts WebhookOptions) *webhooks {
	if opts.Timeout <= 0 {
		opts.Timeout = zoomWebhookTimeout
	}
	if opts.RetryDelays == nil {
		scale := opts.TimeScale
		if scale <= 0 {
			scale = 1
		}
		for _, d := range zoomRetryDelays {
			opts.RetryDelays = append(opts.RetryDelays, time.Duration(float64(d)*scale))
		}
	}
	c := opts.Client
	if c == nil {
		c = &http.Client{Timeout: opts.Timeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &webhooks{opts: opts, client: c, wake: make(chan struct{}, 1), changed: make(chan struct{}),
		validation: map[string]bool{}, ctx: ctx, stop: cancel}
}

// hooksQueue returns the server's queue, starting its goroutine on first use.
func (s *Server) hooksQueue() *webhooks {
	s.hooks.start.Do(func() { go s.hooks.run(s) })
	return s.hooks
}

// Close stops webhook delivery; pending retries are abandoned.
func (s *Server) Close() {
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		h.stop()
	}
}

// SetWebhookEndpoint sets an app's event notification endpoint URL and
// secret token, as on the app's Feature page, and sends Zoom's
// endpoint.url_validation challenge to it; WebhookValidated tells the
// result. An empty url turns the app's events off.
func (s *Server) SetWebhookEndpoint(clientID, url, secretToken string) error {
	s.mu.Lock()
	app := s.st.Apps[clientID]
	if app == nil {
		s.mu.Unlock()
		return fmt.Errorf("zoomsim: no app %s", clientID)
	}
	app.EventURL, app.SecretToken = url, secretToken
	s.saveLocked()
	s.mu.Unlock()
	h := s.hooksQueue()
	h.mu.Lock()
	delete(h.validation, clientID)
	h.mu.Unlock()
	if url != "" {
		s.sendValidation(clientID, url, secretToken)
	}
	return nil
}

// WebhookValidated reports whether the app's endpoint answered its last
// endpoint.url_validation correctly; known is false until it answered.
func (s *Server) WebhookValidated(clientID string) (passed, known bool) {
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	passed, known = h.validation[clientID]
	return passed, known
}

// Deliveries returns a copy of every delivery so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Delivery, len(h.deliveries))
	for i, d := range h.deliveries {
		out[i] = *d
		out[i].Attempts = slices.Clone(d.Attempts)
	}
	return out
}

// WaitDeliveries waits until cond holds for the deliveries, or ctx ends.
func (s *Server) WaitDeliveries(ctx context.Context, cond func([]Delivery) bool) ([]Delivery, error) {
	h := s.hooksQueue()
	for {
		h.mu.Lock()
		ch := h.changed
		h.mu.Unlock()
		ds := s.Deliveries()
		if cond(ds) {
			return ds, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ds, fmt.Errorf("zoomsim: waiting for webhooks: %w", ctx.Err())
		}
	}
}

func (h *webhooks) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// emitLocked queues event for every app with an endpoint that the host
// has authorized. The caller holds s.mu; payload is marshalled now, so
// later changes do not leak into it.
func (s *Server) emitLocked(hostID, event string, payload any) {
	var targets []*App
	for _, a := range s.st.Apps {
		if a.EventURL != "" && s.authorizedLocked(a.ClientID, hostID) {
			targets = append(targets, a)
		}
	}
	if len(targets) == 0 {
		return
	}
	s.emitToLocked(targets, event, payload, true)
}

func (s *Server) emitToLocked(targets []*App, event string, payload any, withTS bool) {
	env := map[string]any{"event": event, "payload": payload}
	if withTS {
		env["event_ts"] = s.now().UnixMilli()
	}
	body, err := webhookJSON(env)
	if err != nil {
		s.log.Error("zoomsim: webhook body", "event", event, "err", err)
		return
	}
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range targets {
		d := &Delivery{ID: len(h.deliveries) + 1, ClientID: a.ClientID, URL: a.EventURL, Event: event, Body: body}
		if s.dropWebhook(event) { // an injected fault: Zoom never sends it
			d.Done, d.Dropped = true, true
			h.deliveries = append(h.deliveries, d)
			continue
		}
		h.deliveries = append(h.deliveries, d)
		h.queue = append(h.queue, d)
	}
	h.notifyLocked()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// authorizedLocked: the user has a live authorization of the app.
func (s *Server) authorizedLocked(clientID, userID string) bool {
	for _, t := range s.st.Refresh {
		if t.ClientID == clientID && t.UserID == userID {
			return true
		}
	}
	for _, t := range s.st.Access {
		if t.ClientID == clientID && t.UserID == userID {
			return true
		}
	}
	return false
}

func (h *webhooks) run(s *Server) {
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.wake:
		}
		for {
			h.mu.Lock()
			if len(h.queue) == 0 || h.closed {
				h.mu.Unlock()
				break
			}
			d := h.queue[0]
			h.queue = h.queue[1:]
			h.mu.Unlock()
			s.attempt(d)
		}
	}
}

// attempt POSTs a delivery once, signed with the app's current secret
// token, and schedules the next retry when it fails.
func (s *Server) attempt(d *Delivery) {
	s.mu.Lock()
	app := s.st.Apps[d.ClientID]
	secret := ""
	if app != nil {
		secret = app.SecretToken
	}
	now := s.now()
	s.mu.Unlock()
	h := s.hooks
	status, errText := h.post(d.URL, secret, now, d.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	d.Attempts = append(d.Attempts, Attempt{At: now, Status: status, Err: errText})
	switch {
	case status >= 200 && status < 300:
		d.Delivered, d.Done = true, true
	case len(d.Attempts) > len(h.opts.RetryDelays) || h.closed:
		d.Done = true
	default:
		delay := h.opts.RetryDelays[len(d.Attempts)-1]
		time.AfterFunc(delay, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.closed {
				return
			}
			h.queue = append(h.queue, d)
			select {
			case h.wake <- struct{}{}:
			default:
			}
		})
	}
	h.notifyLocked()
}

func (h *webhooks) post(url, secret string, now time.Time, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Zoom Marketplace/1.0a")
	webhook.SetHeaders(req.Header, secret, now, body)
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, ""
}

// sendValidation posts endpoint.url_validation and checks the answer: 200
// with {plainToken, encryptedToken = hex(HMAC-SHA256(secret, plainToken))}.
// It is not retried, as at Zoom (the developer clicks Validate again).
func (s *Server) sendValidation(clientID, url, secret string) {
	h := s.hooksQueue()
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	plain := randomID(22)
	body, _ := webhookJSON(map[string]any{
		"event": webhook.EventURLValidation, "event_ts": now.UnixMilli(),
		"payload": map[string]string{"plainToken": plain},
	})
	go func() {
		passed, status, errText := h.validate(url, secret, now, body, plain)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.validation[clientID] = passed
		h.deliveries = append(h.deliveries, &Delivery{
			ID: len(h.deliveries) + 1, ClientID: clientID, URL: url, Event: webhook.EventURLValidation, Body: body,
			Attempts: []Attempt{{At: now, Status: status, Err: errText}}, Delivered: passed, Done: true,
		})
		h.notifyLocked()
	}()
}

func (h *webhooks) validate(url, secret string, now time.Time, body []byte, plain string) (bool, int, string) {
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	webhook.SetHeaders(req.Header, secret, now, body)
	resp, err := h.client.Do(req)
	if err != nil {
		return false, 0, err.Error()
	}
	defer resp.Body.Close()
	var got webhook.URLValidation
	if resp.StatusCode != http.StatusOK {
		return false, resp.StatusCode, "status is not 200"
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&got); err != nil {
		return false, resp.StatusCode, "answer is not JSON: " + err.Error()
	}
	if got != webhook.URLValidationResponse(secret, plain) {
		return false, resp.StatusCode, "wrong plainToken or encryptedToken"
	}
	return true, resp.StatusCode, ""
}

// RemoveApp is the user's Added Apps → Remove: it ends the user's
// authorization of the app (every token of it is refused from now on) and
// sends app_deauthorized to the app's endpoint.
func (s *Server) RemoveApp(userEmail, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByEmailLocked(userEmail)
	app := s.st.Apps[clientID]
	switch {
	case u == nil:
		return fmt.Errorf("zoomsim: no user %s", userEmail)
	case app == nil:
		return fmt.Errorf("zoomsim: no app %s", clientID)
	case !s.authorizedLocked(clientID, u.ID):
		return errors.New("zoomsim: the user has not added the app")
	}
	s.revokeGrantLocked(clientID, u.ID)
	s.saveLocked()
	if app.EventURL == "" {
		return nil
	}
	now := s.now()
	// Marketplace.json: no top-level event_ts; the payload has one, and a
	// signature of the payload with the app's secret token (legacy
	// verification, kept by Zoom for compatibility).
	payload := map[string]any{
		"account_id": u.AccountID, "user_id": u.ID, "client_id": clientID,
		"deauthorization_time": now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"event_ts":             now.UnixMilli(),
	}
	payload["signature"] = webhook.Sign(app.SecretToken, webhook.Timestamp(now), mustJSON(payload))[3:]
	s.emitToLocked([]*App{app}, webhook.EventAppDeauthorized, payload, false)
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and numbers are passed
	}
	return b
}

// Payloads, shaped like the examples of webhooks/Meetings.json: meeting ids
// are numbers in meeting.created|updated|deleted and registration_*, and
// strings in meeting.started|ended and participant_*.

func (s *Server) accountOf(userID string) string {
	if u := s.st.Users[userID]; u != nil {
		return u.AccountID
	}
	return ""
}

// meetingEventObject is payload.object of meeting.created and deleted.
func (s *Server) meetingEventObject(m *meeting) map[string]any {
	j := s.meetingJSON(m)
	o := map[string]any{
		"uuid": m.UUID, "id": m.ID, "host_id": m.HostID, "topic": m.Topic, "type": m.Type,
		"duration": m.Duration, "timezone": m.Timezone, "join_url": j.JoinURL, "password": m.Password,
	}
	if j.StartTime != "" {
		o["start_time"] = j.StartTime
	}
	return o
}

func (s *Server) emitMeetingCreatedLocked(m *meeting, operator *User) {
	o := s.meetingEventObject(m)
	o["settings"] = map[string]any{"use_pmi": false, "alternative_hosts": "", "join_before_host": m.Settings.JoinBeforeHost}
	s.emitLocked(m.HostID, webhook.EventMeetingCreated, map[string]any{
		"account_id": s.accountOf(m.HostID), "operator": operator.Email, "operator_id": operator.ID,
		"operation": "single", "object": o,
	})
}

func (s *Server) emitMeetingDeletedLocked(m *meeting, operator *User) {
	o := s.meetingEventObject(m)
	delete(o, "join_url")
	delete(o, "password")
	s.emitLocked(m.HostID, webhook.EventMeetingDeleted, map[string]any{
		"account_id": s.accountOf(m.HostID), "operator": operator.Email, "operator_id": operator.ID,
		"operation": "single", "object": o,
	})
}

// emitMeetingUpdatedLocked sends meeting.updated with, as Zoom does, only
// the changed fields in object and their earlier values in old_object. An
// update that changes nothing sends nothing.
func (s *Server) emitMeetingUpdatedLocked(before, after *meeting, operator *User) {
	flat := func(m *meeting) map[string]any {
		var o map[string]any
		_ = json.Unmarshal(mustJSON(s.meetingJSON(m)), &o)
		keep := map[string]bool{"topic": true, "type": true, "start_time": true, "duration": true, "timezone": true,
			"agenda": true, "password": true, "join_url": true, "registration_url": true, "settings": true}
		for k := range o {
			if !keep[k] {
				delete(o, k)
			}
		}
		return o
	}
	oldAll, newAll := flat(before), flat(after)
	obj, old := map[string]any{"id": after.ID}, map[string]any{"id": before.ID}
	changed := false
	for k, nv := range newAll {
		ov := oldAll[k]
		if k == "settings" {
			ns, _ := nv.(map[string]any)
			os, _ := ov.(map[string]any)
			nd, od := map[string]any{}, map[string]any{}
			for sk, sv := range ns {
				if fmt.Sprint(os[sk]) != fmt.Sprint(sv) {
					nd[sk], od[sk] = sv, os[sk]
				}
			}
			if len(nd) > 0 {
				obj[k], old[k], changed = nd, od, true
			}
			continue
		}
		if fmt.Sprint(ov) != fmt.Sprint(nv) {
			obj[k], changed = nv, true
			if ov != nil {
				old[k] = ov
			}
		}
	}
	if !changed {
		return
	}
	s.emitLocked(after.HostID, webhook.EventMeetingUpdated, map[string]any{
		"account_id": s.accountOf(after.HostID), "operator": operator.Email, "operator_id": operator.ID,
		"operation": "single", "object": obj, "old_object": old, "time_stamp": s.now().UnixMilli(),
	})
}

// registrationObject is payload.object of the registration events.
func (s *Server) registrationObject(m *meeting, registrant map[string]any) map[string]any {
	o := s.meetingEventObject(m)
	delete(o, "join_url")
	delete(o, "password")
	o["start_time"] = m.StartTime.UTC().Format(zoomTime)
	o["registrant"] = registrant
	return o
}

func (s *Server) emitRegistrationCreatedLocked(m *meeting, r *registrant) {
	s.emitLocked(m.HostID, webhook.EventRegistrationCreated, map[string]any{
		"account_id": s.accountOf(m.HostID),
		"object": s.registrationObject(m, map[string]any{
			"id": r.ID, "first_name": r.FirstName, "last_name": r.LastName, "email": r.Email,
			"status": r.Status, "join_url": s.registrantJoinURL(m, r), "custom_questions": []any{},
		}),
	})
}

// emitRegistrationApprovedLocked sends meeting.registration_approved. Its
// payload names the operator, "the user who approved the meeting
// registration" (webhooks/Meetings.json), so Zoom sends it when a user
// approves a pending or denied registrant (PUT …/registrants/status,
// action approve), not for one approved as it registers (auto_approve, a
// meeting without manual approval): that one's registration_created has
// status approved and nobody approved it.
func (s *Server) emitRegistrationApprovedLocked(m *meeting, r *registrant, operator *User) {
	s.emitLocked(m.HostID, "meeting.registration_approved", map[string]any{
		"account_id": s.accountOf(m.HostID), "operator": operator.Email, "operator_id": operator.ID,
		"object": s.registrationObject(m, map[string]any{
			"id": r.ID, "first_name": r.FirstName, "last_name": r.LastName, "email": r.Email,
			"join_url": s.registrantJoinURL(m, r),
		}),
	})
}

func (s *Server) emitRegistrationCancelledLocked(m *meeting, r *registrant, operator *User) {
	s.emitLocked(m.HostID, webhook.EventRegistrationCancelled, map[string]any{
		"account_id": s.accountOf(m.HostID), "operator": operator.Email, "operator_id": operator.ID,
		"object": s.registrationObject(m, map[string]any{
			"id": r.ID, "first_name": r.FirstName, "last_name": r.LastName, "email": r.Email,
		}),
	})
}

// EditMeeting changes a meeting "on the Zoom side", as its host would in
// Zoom's web portal, with the same rules as PATCH /meetings/{id}, and sends
// meeting.updated. body is a PATCH body.
func (s *Server) EditMeeting(id int64, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Meetings[id]
	if m == nil {
		return errMeetingNotFound(itoa(id))
	}
	host := s.st.Users[m.HostID]
	var req meetingRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return zerr(http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
	}
	updated := *m
	if err := req.apply(&updated, host, s.now().UTC().Truncate(time.Second)); err != nil {
		return err
	}
	updated.finish()
	before := *m
	*m = updated
	s.saveLocked()
	s.emitMeetingUpdatedLocked(&before, m, host)
	return nil
}

// DeleteMeeting deletes a meeting "on the Zoom side" and sends meeting.deleted.
func (s *Server) DeleteMeeting(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Meetings[id]
	if m == nil {
		return errMeetingNotFound(itoa(id))
	}
	delete(s.st.Meetings, id)
	s.saveLocked()
	s.emitMeetingDeletedLocked(m, s.st.Users[m.HostID])
	return nil
}

// webhookJSON marshals a webhook body as JavaScript's JSON.stringify
// writes the value JSON.parse reads from it, byte for byte: a receiver
// may verify x-zm-signature over such a re-serialized body (Zoom's Node
// SDK, @zoom/rivet, does), and Zoom's bodies survive that. Go's encoder
// writes what JSON.stringify does (compact; keys sorted, an order
// JSON.parse keeps since no key here is an array index, which JavaScript
// would move first; numbers as ES6 writes them; \b \f \n \r \t;
// \u00xx, lower case, for other control characters) except that it
// escapes <, >, & and U+2028, U+2029 as \uXXXX and writes invalid UTF-8
// as \ufffd, which JSON.stringify writes as the characters themselves.
// So every \uXXXX that is not a control character is written out.
func webhookJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		// An escape: \uXXXX, or a backslash and one character.
		if b[i+1] == 'u' {
			r, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
			if err == nil && r >= 0x20 && !utf16.IsSurrogate(rune(r)) {
				out = utf8.AppendRune(out, rune(r))
				i += 5
				continue
			}
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out, nil
}
