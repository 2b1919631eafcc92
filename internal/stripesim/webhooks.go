package stripesim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook endpoints, events and their delivery.
//
// Stripe's delivery rules (docs.stripe.com/webhooks): every event is sent
// to every enabled endpoint of the account that subscribes to its type,
// as a JSON POST signed with the endpoint's secret in Stripe-Signature:
// t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">. A delivery that gets
// no 2xx is retried with exponential backoff for up to three days. The
// simulator uses the schedule below (Stripe does not publish its exact
// one) and signs each attempt with the time it is made (Options.WallClock,
// the real time), not the business clock tests move.
var stripeRetryDelays = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

const stripeWebhookTimeout = 10 * time.Second

// WebhookOptions tune webhook delivery; the zero value is Stripe's behaviour.
type WebhookOptions struct {
	// TimeScale multiplies the retry delays (0 or 1: real time; 0.0001
	// turns a minute into 6 ms). RetryDelays, when set, replace them.
	TimeScale   float64
	RetryDelays []time.Duration
	// Timeout is how long an endpoint may take to answer.
	Timeout time.Duration
	// Client sends the deliveries; a client with Timeout when nil.
	Client *http.Client
	// ReorderHold is how long a reorder_webhook fault holds an event back
	// when no other follows (default two seconds).
	ReorderHold time.Duration
}

// Delivery is one event sent (or being sent) to one endpoint.
type Delivery struct {
	ID         int       `json:"id"`
	EventID    string    `json:"event_id"`
	Event      string    `json:"event"` // its type
	EndpointID string    `json:"endpoint_id"`
	URL        string    `json:"url"`
	Body       []byte    `json:"-"`
	Attempts   []Attempt `json:"attempts"`
	// NextAttempt is when the next retry is due (real time, see
	// Options.WallClock); zero when none is waiting.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// Delivered: an attempt got a 2xx. Done: no attempt is left to make
	// (delivered, given up, or dropped by a fault).
	Delivered bool `json:"delivered"`
	Done      bool `json:"done"`
	Dropped   bool `json:"dropped"`
	Duplicate bool `json:"duplicate"` // a second copy sent by a fault
}

// Attempt is one POST of a delivery, At the real time it was made (the
// t of its signature): the status answered (0 when the
// endpoint did not answer in time or could not be reached).
type Attempt struct {
	At        time.Time `json:"at"`
	Status    int       `json:"status"`
	Err       string    `json:"error,omitempty"`
	Signature string    `json:"signature"`
}

type webhooks struct {
	opts   WebhookOptions
	client *http.Client
	start  sync.Once

	mu         sync.Mutex
	deliveries []*Delivery
	queue      []*Delivery
	held       []*Delivery // put aside by an out-of-order fault
	wake       chan struct{}
	changed    chan struct{}
	closed     bool
	epoch      int // Reset forgets the retries scheduled before it
	ctx        context.Context
	stop       context.CancelFunc
}

func newWebhooks(opts WebhookOptions) *webhooks {
	if opts.Timeout <= 0 {
		opts.Timeout = stripeWebhookTimeout
	}
	if opts.ReorderHold <= 0 {
		opts.ReorderHold = 2 * time.Second
	}
	if opts.RetryDelays == nil {
		scale := opts.TimeScale
		if scale <= 0 {
			scale = 1
		}
		for _, d := range stripeRetryDelays {
			opts.RetryDelays = append(opts.RetryDelays, time.Duration(float64(d)*scale))
		}
	}
	c := opts.Client
	if c == nil {
		c = &http.Client{Timeout: opts.Timeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &webhooks{opts: opts, client: c, wake: make(chan struct{}, 1), changed: make(chan struct{}), ctx: ctx, stop: cancel}
}

func (s *Server) hooksQueue() *webhooks {
	s.hooks.start.Do(func() { go s.hooks.run(s) })
	return s.hooks
}

// Close stops webhook delivery. With a state file, the deliveries not
// done are resumed by the next server started from it; otherwise they
// are abandoned.
func (s *Server) Close() {
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		h.stop()
	}
}

// Deliveries returns a copy of every delivery so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	h := s.hooksQueue()
	s.mu.Lock()
	defer s.mu.Unlock()
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
			return ds, fmt.Errorf("stripesim: waiting for webhooks: %w", ctx.Err())
		}
	}
}

func (h *webhooks) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *webhooks) wakeUp() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// emitLocked records an event (object as it is now) and queues it for
// every enabled endpoint of the account that subscribes to it.
func (s *Server) emitLocked(acct, typ string, object, previous map[string]any, reqID, idemKey string) {
	var targets []*WebhookEndpoint
	for _, e := range sortedBySeq(s.st.Endpoints, func(e *WebhookEndpoint) int64 { return e.Seq }) {
		if e.Account == acct && e.Status == "enabled" && (slices.Contains(e.EnabledEvents, "*") || slices.Contains(e.EnabledEvents, typ)) {
			targets = append(targets, e)
		}
	}
	ev := &Event{ID: newID("evt"), Seq: s.nextSeqLocked(), Account: acct, Created: s.nowLocked().Unix(), Type: typ,
		APIVersion: APIVersion, Object: object, Previous: previous, Request: reqID, IdemKey: idemKey, Pending: len(targets)}
	s.st.Events = append(s.st.Events, ev)
	if len(targets) == 0 {
		return
	}
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range targets {
		// Each endpoint gets the event in the API version it was made with.
		shown := *ev
		if e.APIVersion != "" {
			shown.APIVersion = e.APIVersion
		}
		body, err := json.Marshal(s.eventJSON(&shown))
		if err != nil {
			s.log.Error("stripesim: event body", "type", typ, "err", err)
			continue
		}
		d := &Delivery{ID: len(h.deliveries) + 1, EventID: ev.ID, Event: typ, EndpointID: e.ID, URL: e.URL, Body: body}
		h.deliveries = append(h.deliveries, d)
		switch s.faults.webhookFault(typ) {
		case FaultDropWebhook:
			d.Done, d.Dropped = true, true
			continue
		case FaultDuplicateWebhook:
			dup := *d
			dup.ID, dup.Duplicate = len(h.deliveries)+1, true
			h.deliveries = append(h.deliveries, &dup)
			h.queue = append(h.queue, d, &dup)
			h.queue = append(h.queue, h.held...) // a duplicated event is sent too: what was held goes after it
			h.held = nil
			continue
		case FaultReorderWebhook:
			h.held = append(h.held, d)
			time.AfterFunc(h.opts.ReorderHold, func() { h.release() })
			continue
		}
		h.queue = append(h.queue, d)
		h.queue = append(h.queue, h.held...) // what was held goes after it
		h.held = nil
	}
	h.notifyLocked()
	h.wakeUp()
}

// scheduleLocked queues d when at has come (now, by the wall clock), or
// sets a timer for it.
func (h *webhooks) scheduleLocked(d *Delivery, at, now time.Time) {
	d.NextAttempt = at
	wait := at.Sub(now)
	if wait <= 0 {
		h.queue = append(h.queue, d)
		h.wakeUp()
		return
	}
	epoch := h.epoch
	time.AfterFunc(wait, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.closed || h.epoch != epoch {
			return
		}
		h.queue = append(h.queue, d)
		h.wakeUp()
	})
}

// savedDelivery is a Delivery as the state file keeps it, with its body.
type savedDelivery struct {
	Delivery
	Body json.RawMessage `json:"body"`
}

// savedLocked is every delivery for the state file.
func (h *webhooks) savedLocked() []savedDelivery {
	out := make([]savedDelivery, len(h.deliveries))
	for i, d := range h.deliveries {
		out[i] = savedDelivery{Delivery: *d, Body: d.Body}
	}
	return out
}

// restore takes back the deliveries of a state file: those not done are
// queued, or wait for their next attempt.
func (s *Server) restoreDeliveries(saved []savedDelivery) {
	if len(saved) == 0 {
		return
	}
	h := s.hooksQueue()
	h.mu.Lock()
	defer h.mu.Unlock()
	now := s.opts.WallClock()
	for _, sd := range saved {
		d := sd.Delivery
		d.Body = []byte(sd.Body)
		h.deliveries = append(h.deliveries, &d)
		if !d.Done {
			h.scheduleLocked(&d, d.NextAttempt, now)
		}
	}
	h.notifyLocked()
}

func (h *webhooks) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queue = append(h.queue, h.held...)
	h.held = nil
	h.wakeUp()
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

// Sign is the Stripe-Signature header value for body at t with secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// attempt POSTs a delivery once, signed with the endpoint's current
// secret, and schedules the next retry when it fails. An endpoint deleted
// or disabled meanwhile gets nothing more.
func (s *Server) attempt(d *Delivery) {
	s.mu.Lock()
	e := s.st.Endpoints[d.EndpointID]
	s.mu.Unlock()
	now := s.opts.WallClock()
	h := s.hooks
	var status int
	var sig, errText string
	if e != nil && e.Status == "enabled" {
		sig = Sign(e.Secret, now, d.Body)
		status, errText = h.post(d.URL, sig, d.Body)
	}
	// The outcome is recorded and saved under s.mu, which Deliveries takes
	// too: whoever sees the attempt finds it in the state file.
	s.mu.Lock()
	h.mu.Lock()
	if e == nil || e.Status != "enabled" {
		d.Done, d.NextAttempt = true, time.Time{}
	} else {
		d.Attempts = append(d.Attempts, Attempt{At: now, Status: status, Err: errText, Signature: sig})
		d.NextAttempt = time.Time{}
		switch {
		case status >= 200 && status < 300:
			d.Delivered, d.Done = true, true
		case len(d.Attempts) > len(h.opts.RetryDelays):
			d.Done = true
		case h.closed:
			// Left for a server started from the state file to retry.
			d.NextAttempt = now.Add(h.opts.RetryDelays[len(d.Attempts)-1])
		default:
			h.scheduleLocked(d, now.Add(h.opts.RetryDelays[len(d.Attempts)-1]), now)
		}
	}
	done := d.Done
	h.mu.Unlock()
	if done {
		s.eventDoneLocked(d)
	}
	s.saveLocked()
	s.mu.Unlock()
	h.mu.Lock()
	h.notifyLocked()
	h.mu.Unlock()
}

// eventDoneLocked lowers the event's pending_webhooks.
func (s *Server) eventDoneLocked(d *Delivery) {
	if d.Duplicate {
		return
	}
	for i := len(s.st.Events) - 1; i >= 0; i-- {
		if ev := s.st.Events[i]; ev.ID == d.EventID {
			if ev.Pending > 0 {
				ev.Pending--
			}
			return
		}
	}
}

func (h *webhooks) post(url, sig string, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", sig)
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, ""
}

// The events the simulator sends; enabled_events may name them or "*".
var knownEvents = []string{
	"checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
	"checkout.session.expired", "charge.refunded", "refund.created", "refund.updated", "refund.failed",
}

func (s *Server) createEndpoint(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("url", "enabled_events", "api_version", "description", "metadata", "connect"); e != nil {
		return 0, nil, e
	}
	raw, _ := c.p.str("url")
	if raw == "" {
		return 0, nil, missingParam("url")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, nil, invalid("url", "url_invalid", "Invalid URL: %s", raw)
	}
	evs, ok := c.p.list("enabled_events")
	if !ok {
		return 0, nil, badParam("enabled_events", "Invalid array")
	}
	if len(evs) == 0 {
		return 0, nil, missingParam("enabled_events")
	}
	e := &WebhookEndpoint{ID: newID("we"), Seq: s.nextSeqLocked(), Account: c.acct.ID, Created: c.now.Unix(), URL: raw,
		Secret: "whsec_" + randomID(32), Status: "enabled"}
	for i, v := range evs {
		name, _ := v.(string)
		if !validEventName(name) {
			return 0, nil, invalid("enabled_events["+strconv.Itoa(i)+"]", "parameter_invalid_string",
				"Invalid enabled_events[%d]: %s is not a valid event type", i, name)
		}
		e.EnabledEvents = append(e.EnabledEvents, name)
	}
	if conn, _ := c.p.str("connect"); conn == "true" {
		return 0, nil, badParam("connect", "The simulator does not do Connect.")
	}
	e.APIVersion, _ = c.p.str("api_version")
	if e.APIVersion != "" && !strings.Contains(e.APIVersion, "-") {
		return 0, nil, invalid("api_version", "parameter_invalid_string", "Invalid API version: %s", e.APIVersion)
	}
	e.Description, _ = c.p.str("description")
	md, ae := metadataParam(c.p, "metadata")
	if ae != nil {
		return 0, nil, ae
	}
	e.Metadata = md
	n := 0
	for _, o := range s.st.Endpoints {
		if o.Account == c.acct.ID {
			n++
		}
	}
	if n >= 16 {
		return 0, nil, badParam("url", "You have reached the maximum of 16 test webhook endpoints.")
	}
	s.st.Endpoints[e.ID] = e
	c.dirty = true
	return http.StatusOK, s.endpointJSON(e, true), nil
}

// validEventName: Stripe refuses a name it does not know; the names are
// those of spec3.json (eventtypes_gen.go), "*" among them.
func validEventName(name string) bool {
	return slices.Contains(stripeEventTypes, name)
}

func (s *Server) endpointOf(c *call) (*WebhookEndpoint, *apiError) {
	id := c.r.PathValue("id")
	e := s.st.Endpoints[id]
	if e == nil || e.Account != c.acct.ID {
		return nil, noSuch("webhook endpoint", id, "webhook_endpoint")
	}
	return e, nil
}

func (s *Server) getEndpoint(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	e, ae := s.endpointOf(c)
	if ae != nil {
		return 0, nil, ae
	}
	return http.StatusOK, s.endpointJSON(e, false), nil
}

func (s *Server) listEndpoints(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("limit", "starting_after", "ending_before"); e != nil {
		return 0, nil, e
	}
	var list []*WebhookEndpoint
	for _, e := range s.st.Endpoints {
		if e.Account == c.acct.ID {
			list = append(list, e)
		}
	}
	slices.SortFunc(list, func(a, b *WebhookEndpoint) int { return int(b.Seq - a.Seq) })
	out, ae := page(c, "/v1/webhook_endpoints", list, func(e *WebhookEndpoint) string { return e.ID },
		func(e *WebhookEndpoint) map[string]any { return s.endpointJSON(e, false) })
	if ae != nil {
		return 0, nil, ae
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteEndpoint(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	e, ae := s.endpointOf(c)
	if ae != nil {
		return 0, nil, ae
	}
	delete(s.st.Endpoints, e.ID)
	c.dirty = true
	return http.StatusOK, map[string]any{"id": e.ID, "object": "webhook_endpoint", "deleted": true}, nil
}

// eventRetention: Stripe lists events of the last 30 days.
const eventRetention = 30 * 24 * time.Hour

func (s *Server) listEvents(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("limit", "starting_after", "ending_before", "type", "types", "created", "delivery_success"); e != nil {
		return 0, nil, e
	}
	typ, _ := c.p.str("type")
	types, ok := c.p.list("types")
	if !ok {
		return 0, nil, badParam("types", "Invalid array")
	}
	if typ != "" && len(types) > 0 {
		return 0, nil, badParam("types", "You may only specify one of these parameters: type, types.")
	}
	created, ae := createdFilter(c.p)
	if ae != nil {
		return 0, nil, ae
	}
	match := func(t string) bool {
		if typ != "" {
			if strings.HasSuffix(typ, ".*") {
				return strings.HasPrefix(t, strings.TrimSuffix(typ, "*"))
			}
			return t == typ
		}
		if len(types) > 0 {
			return slices.Contains(types, any(t))
		}
		return true
	}
	oldest := c.now.Add(-eventRetention).Unix()
	var list []*Event
	for i := len(s.st.Events) - 1; i >= 0; i-- {
		ev := s.st.Events[i]
		if ev.Account == c.acct.ID && ev.Created >= oldest && match(ev.Type) && created(ev.Created) {
			list = append(list, ev)
		}
	}
	out, ae := page(c, "/v1/events", list, func(e *Event) string { return e.ID }, s.eventJSON)
	if ae != nil {
		return 0, nil, ae
	}
	return http.StatusOK, out, nil
}

func (s *Server) getEvent(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	id := c.r.PathValue("id")
	for _, ev := range s.st.Events {
		if ev.ID == id && ev.Account == c.acct.ID {
			return http.StatusOK, s.eventJSON(ev), nil
		}
	}
	return 0, nil, noSuch("event", id, "id")
}
