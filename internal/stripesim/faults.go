package stripesim

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Injected faults, by operation and rate: what goes wrong between kaisai
// and Stripe.

// FaultKind is what goes wrong.
type FaultKind string

const (
	// FaultStatus answers Status (5xx; default 500) with Stripe's
	// api_error body, without doing anything.
	FaultStatus FaultKind = "status"
	// FaultRateLimit answers 429 with Stripe's rate_limit error.
	FaultRateLimit FaultKind = "rate_limit"
	// FaultLatency waits Delay, then serves the call.
	FaultLatency FaultKind = "latency"
	// FaultTimeout holds the call for Delay (until the client gives up
	// when 0) and closes the connection without an answer or a change.
	FaultTimeout FaultKind = "timeout"
	// FaultLostAnswer makes the change, then closes the connection
	// without the answer.
	FaultLostAnswer FaultKind = "lost_answer"
	// FaultDropWebhook never sends the event (Op is its type); it is
	// still listed by GET /v1/events.
	FaultDropWebhook FaultKind = "drop_webhook"
	// FaultDuplicateWebhook sends the event twice.
	FaultDuplicateWebhook FaultKind = "duplicate_webhook"
	// FaultReorderWebhook holds the event back until the next one is
	// sent (at most WebhookOptions.ReorderHold), so it arrives after it.
	FaultReorderWebhook FaultKind = "reorder_webhook"
)

var faultKinds = []FaultKind{FaultStatus, FaultRateLimit, FaultLatency, FaultTimeout, FaultLostAnswer,
	FaultDropWebhook, FaultDuplicateWebhook, FaultReorderWebhook}

// Fault is one injected fault. Op is an operationId of spec3.json
// (PostCheckoutSessions, GetPaymentIntentsIntent, PostRefunds, …), a
// route ("POST /v1/refunds") or, for webhook faults, an event type; empty
// matches every call. It hits at Rate (0 < Rate < 1, drawn from the seed
// of SetFaults) or always; with a Count, only the next Count hits.
type Fault struct {
	Kind   FaultKind     `json:"kind"`
	Op     string        `json:"op,omitempty"`
	Rate   float64       `json:"rate,omitempty"`
	Count  int           `json:"count,omitempty"`
	Status int           `json:"status,omitempty"`
	Delay  time.Duration `json:"delay,omitempty"`
}

type faults struct {
	mu   sync.Mutex
	list []*Fault
	rng  *rand.Rand
}

func newFaults() *faults { return &faults{rng: rand.New(rand.NewPCG(1, 1))} }

// SetFaults replaces the injected faults; seed makes the rates repeatable.
func (s *Server) SetFaults(seed uint64, fs ...Fault) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rng = rand.New(rand.NewPCG(seed, seed))
	f.list = nil
	for _, x := range fs {
		if x.Kind == FaultStatus && x.Status == http.StatusTooManyRequests {
			x.Kind = FaultRateLimit
		}
		f.list = append(f.list, &x)
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.SetFaults(1) }

// Faults returns the faults still in force.
func (s *Server) Faults() []Fault {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, len(f.list))
	for i, x := range f.list {
		out[i] = *x
	}
	return out
}

func (f *faults) draw(ops []string, kinds ...FaultKind) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.list {
		if !slices.Contains(kinds, x.Kind) || (x.Op != "" && !slices.Contains(ops, x.Op)) {
			continue
		}
		if x.Rate > 0 && x.Rate < 1 && f.rng.Float64() >= x.Rate {
			continue
		}
		hit := *x
		if x.Count > 0 {
			x.Count--
			if x.Count == 0 {
				f.list = slices.Delete(f.list, i, i+1)
			}
		}
		return &hit
	}
	return nil
}

func (f *faults) webhookFault(event string) FaultKind {
	if x := f.draw([]string{event}, FaultDropWebhook, FaultDuplicateWebhook, FaultReorderWebhook); x != nil {
		return x.Kind
	}
	return ""
}

// applyFaultBefore injects what happens before the call is served; true
// when the call is answered (or abandoned) by the fault.
func (s *Server) applyFaultBefore(w http.ResponseWriter, r *http.Request, op string) bool {
	x := s.faults.draw([]string{op, r.Pattern}, FaultStatus, FaultRateLimit, FaultLatency, FaultTimeout)
	if x == nil {
		return false
	}
	switch x.Kind {
	case FaultStatus:
		status := x.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		writeError(w, &apiError{status: status, Type: "api_error",
			Message: "An unknown error occurred. Please try again later (a fault injected by the simulator)."})
		return true
	case FaultRateLimit:
		writeError(w, &apiError{status: http.StatusTooManyRequests, Type: "invalid_request_error", Code: "rate_limit",
			Message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
			DocURL:  "https://stripe.com/docs/error-codes/rate-limit"})
		return true
	case FaultLatency:
		hold(r, x.Delay)
		return false
	default: // FaultTimeout
		hold(r, x.Delay)
		panic(http.ErrAbortHandler)
	}
}

// applyFaultAfter: the change is made; the answer is lost.
func (s *Server) applyFaultAfter(_ http.ResponseWriter, r *http.Request, op string) bool {
	if s.faults.draw([]string{op, r.Pattern}, FaultLostAnswer) != nil {
		panic(http.ErrAbortHandler)
	}
	return false
}

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

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(errorBody(e))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
