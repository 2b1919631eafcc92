package zoomsim

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is what goes wrong.
type FaultKind int

const (
	// FaultStatus answers Status (500, 502 or 503) with a Zoom-like body.
	FaultStatus FaultKind = iota + 1
	// FaultLatency delays the answer by Delay, then answers normally.
	FaultLatency
	// FaultTimeout holds the request until the client gives up or for
	// Delay when set, then drops the connection without an answer.
	FaultTimeout
	// FaultTokenExpired answers 401 code 124 "Access token is expired."
	// as if the token had expired.
	FaultTokenExpired
	// FaultTokenRevoked revokes the call's access token (it stays
	// invalid) and answers 401 code 124 "Invalid access token.".
	FaultTokenRevoked
	// FaultDropWebhook drops webhook deliveries of the event named by Op
	// (every event when Op is empty).
	FaultDropWebhook
	// FaultLostAnswer carries the call out, then holds it for Delay (0:
	// until the client gives up) and drops the connection without an
	// answer: the caller cannot know that it succeeded.
	FaultLostAnswer
	// FaultRateLimit answers 429 exactly as the rate limiter does when a
	// limit is hit (limits.go): Zoom's body and the X-RateLimit-* and
	// Retry-After headers, with the account's figures (Zoom's published
	// ones when the limits are off). RateLimitType picks the limit:
	// "QPS" (the default) or "Daily-limit". A FaultStatus with Status 429
	// is this fault.
	FaultRateLimit
)

// Fault is one injected fault.
type Fault struct {
	Kind FaultKind
	// Op is the operation: its route ("POST /v2/users/{userId}/meetings")
	// or its operationId in Zoom's spec ("meetingCreate"); for
	// FaultDropWebhook, an event ("meeting.created"). Empty: every one.
	Op string
	// Meeting, when set, limits the fault to calls on that meeting (the
	// {meetingId} of their route), so that one meeting's calls can fail
	// while another's, timed beside it, do not. Webhooks are never on one.
	Meeting int64
	// Rate is the probability, 0–1, that a matching call is hit; zero
	// means every matching call, with no draw.
	Rate float64
	// Count, when positive, is how many calls it hits before it is spent:
	// with no Rate, "fail the next Count calls".
	Count int
	// Status is the answer of FaultStatus (500 when zero).
	Status int
	// Delay is the latency of FaultLatency and the hold of FaultTimeout and
	// FaultLostAnswer.
	Delay time.Duration
	// RateLimitType is the limit a FaultRateLimit reports as hit: "QPS"
	// (when empty) or "Daily-limit" (the host's daily meeting writes for
	// meetingCreate and meetingUpdate, the account's daily limit otherwise).
	RateLimitType string
}

// faults are the injected faults, with their own lock: they are drawn
// before the state lock is taken, and by webhook senders.
type faults struct {
	mu   sync.Mutex
	list []*Fault
	rng  *rand.Rand
}

func newFaults() *faults { return &faults{rng: rand.New(rand.NewPCG(1, 1))} }

// SetFaults replaces the injected faults. seed makes the draws
// deterministic.
func (s *Server) SetFaults(seed uint64, fs ...Fault) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rng = rand.New(rand.NewPCG(seed, seed))
	f.list = f.list[:0]
	for _, x := range fs {
		if x.Kind == FaultStatus && x.Status == http.StatusTooManyRequests {
			x.Kind = FaultRateLimit
		}
		f.list = append(f.list, &x)
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = nil
}

// target is what a fault is drawn for: an API call's route, its
// operationId and its {meetingId} (empty when it has none), or a webhook's
// event in both op and opID.
type target struct{ op, opID, meeting string }

// callTarget is the target of an API request.
func callTarget(r *http.Request) target {
	return target{op: r.Pattern, opID: operations[r.Pattern].id, meeting: r.PathValue("meetingId")}
}

// draw picks the first fault among kinds that matches t and hits.
func (f *faults) draw(t target, kinds ...FaultKind) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.list {
		if !hasKind(kinds, x.Kind) || (x.Op != "" && x.Op != t.op && x.Op != t.opID) ||
			(x.Meeting != 0 && strconv.FormatInt(x.Meeting, 10) != t.meeting) {
			continue
		}
		if x.Rate > 0 && x.Rate < 1 && f.rng.Float64() >= x.Rate {
			continue
		}
		hit := *x
		if x.Count > 0 {
			x.Count--
			if x.Count == 0 {
				f.list = append(f.list[:i:i], f.list[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

func hasKind(kinds []FaultKind, k FaultKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// dropWebhook reports whether a delivery of event is to be dropped, for
// the webhook sender to consult before each attempt.
func (s *Server) dropWebhook(event string) bool {
	return s.faults.draw(target{op: event, opID: event}, FaultDropWebhook) != nil
}

// injectTransport applies 5xx, latency and timeout faults to a /v2 request
// before it is handled; it reports whether it answered.
func (s *Server) injectTransport(w http.ResponseWriter, r *http.Request) bool {
	x := s.faults.draw(callTarget(r), FaultStatus, FaultLatency, FaultTimeout)
	if x == nil {
		return false
	}
	switch x.Kind {
	case FaultStatus:
		status := x.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		writeJSON(w, status, zerr(status, status, "%s", http.StatusText(status)))
		return true
	case FaultLatency:
		t := time.NewTimer(x.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		return false
	default: // FaultTimeout
		hold(r, x.Delay)
		// Drop the connection without an answer.
		panic(http.ErrAbortHandler)
	}
}

// hold keeps a request waiting for d, or until the client gives up when d
// is zero.
func hold(r *http.Request, d time.Duration) {
	if d <= 0 {
		<-r.Context().Done()
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// admit applies token and rate limit faults and the rate limits to an
// authenticated call (with s.mu held).
func (s *Server) admit(c *call) error {
	if x := s.faults.draw(callTarget(c.r), FaultTokenExpired, FaultTokenRevoked, FaultRateLimit); x != nil {
		switch x.Kind {
		case FaultRateLimit:
			return s.limits.injected(c, x.RateLimitType == "Daily-limit")
		case FaultTokenExpired:
			return zerr(http.StatusUnauthorized, 124, "Access token is expired.")
		}
		tok, _ := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
		delete(s.st.Access, strings.TrimSpace(tok))
		c.dirt = true
		return zerr(http.StatusUnauthorized, 124, "Invalid access token.")
	}
	return s.limits.admitRate(c)
}
