package zoom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specChecked records the registrant calls a client makes and checks each
// request and answer against Zoom's Meetings.json.
type specChecked struct {
	t      *testing.T
	router routers.Router

	mu    sync.Mutex
	calls []string // "METHOD /path?query body"
}

func newSpecChecked(t *testing.T, base string) *specChecked {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../../../shared/zoom/Meetings.json")
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: base + "/v2"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specChecked{t: t, router: r}
}

func (sc *specChecked) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	sc.mu.Lock()
	sc.calls = append(sc.calls, req.Method+" "+req.URL.RequestURI()+" "+string(body))
	sc.mu.Unlock()
	if !strings.Contains(req.URL.Path, "registrants") {
		req.Body = io.NopCloser(bytes.NewReader(body))
		return http.DefaultTransport.RoundTrip(req)
	}
	route, params, err := sc.router.FindRoute(req)
	if err != nil {
		sc.t.Errorf("spec: no operation for %s %s: %v", req.Method, req.URL.Path, err)
		req.Body = io.NopCloser(bytes.NewReader(body))
		return http.DefaultTransport.RoundTrip(req)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req.Clone(context.Background()), PathParams: params, Route: route, Options: opts}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		sc.t.Errorf("spec: request %s %s does not conform: %v", req.Method, req.URL.Path, err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(answer)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		sc.t.Errorf("spec: answer %d to %s %s does not conform: %v\n%s", resp.StatusCode, req.Method, req.URL.Path, err, answer)
	}
	return resp, nil
}

// count is how many calls so far start with prefix ("POST /v2/meetings/1/batch_registrants").
func (sc *specChecked) count(prefix string) int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	n := 0
	for _, c := range sc.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (sc *specChecked) last() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.calls[len(sc.calls)-1]
}

// registrationMeeting starts the simulator and creates a scheduled
// meeting with manual approval (approval_type 1) hosted by a licensed
// user; it answers a client whose calls are checked against the spec.
func registrationMeeting(t *testing.T) (*Client, *specChecked, int64) {
	t.Helper()
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	sc := newSpecChecked(t, s.base)
	cl := NewClient(&http.Client{Transport: sc}, tok.APIURL, func(context.Context) (string, error) { return tok.AccessToken, nil })
	m, err := cl.CreateMeeting(context.Background(), "me", &MeetingRequest{
		Topic: ptr("登録制の説明会"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(time.Now().Add(7 * 24 * time.Hour))),
		Duration: ptr(60), Settings: &MeetingSettings{ApprovalType: ptr(1), RegistrantsEmailNotification: ptr(false)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl, sc, m.ID
}

func newRegistrants(n int, prefix string) []NewRegistrant {
	rs := make([]NewRegistrant, n)
	for i := range rs {
		rs[i] = NewRegistrant{Email: fmt.Sprintf("%s%02d@example.org", prefix, i), FirstName: "花子", LastName: fmt.Sprintf("申込%02d", i)}
	}
	return rs
}

func TestAddBatchRegistrants(t *testing.T) {
	cl, sc, id := registrationMeeting(t)
	ctx := context.Background()
	batchCall := fmt.Sprintf("POST /v2/meetings/%d/batch_registrants", id)

	in := newRegistrants(MaxBatchRegistrants, "a")
	added, err := cl.AddBatchRegistrants(ctx, id, in, true)
	if err != nil {
		t.Fatal(err)
	}
	body := sc.last()
	for _, want := range []string{`"auto_approve":true`, `"registrants_confirmation_email":false`} {
		if !strings.Contains(body, want) {
			t.Errorf("batch request does not send %s: %s", want, body)
		}
	}
	if len(added) != len(in) {
		t.Fatalf("added %d registrants, want %d", len(added), len(in))
	}
	ids := map[string]bool{}
	for i, a := range added {
		if a.Email != in[i].Email || a.RegistrantID == "" || !strings.Contains(a.JoinURL, "tk=") {
			t.Errorf("added[%d] = %+v, want %s with a registrant id and a personal join URL", i, a, in[i].Email)
		}
		ids[a.RegistrantID] = true
	}
	if len(ids) != len(in) {
		t.Errorf("%d distinct registrant ids for %d registrants", len(ids), len(in))
	}

	approved, err := cl.Registrants(ctx, id, RegistrantApproved)
	if err != nil {
		t.Fatal(err)
	}
	if len(approved) != len(in) {
		t.Fatalf("%d approved registrants, want %d", len(approved), len(in))
	}
	for i, r := range approved {
		a := added[i]
		if r.ID != a.RegistrantID || r.Email != a.Email || r.JoinURL != a.JoinURL || r.Status != RegistrantApproved ||
			r.FirstName != "花子" || r.LastName != in[i].LastName {
			t.Errorf("listed %+v, want what was added: %+v", r, a)
		}
	}
	if !strings.Contains(sc.last(), "page_size=300") {
		t.Errorf("list did not ask for pages of 300: %s", sc.last())
	}

	// One more than Zoom takes is refused without a call.
	before := sc.count(batchCall)
	if _, err := cl.AddBatchRegistrants(ctx, id, newRegistrants(MaxBatchRegistrants+1, "b"), true); err == nil {
		t.Error("a batch of 31 was accepted")
	} else if ae := (*APIError)(nil); errors.As(err, &ae) {
		t.Errorf("a batch of 31 reached Zoom: %v", err)
	}
	if n := sc.count(batchCall) - before; n != 0 {
		t.Errorf("a batch of 31 made %d calls, want none", n)
	}
	// An empty batch needs no call either.
	if got, err := cl.AddBatchRegistrants(ctx, id, nil, true); err != nil || got != nil || sc.count(batchCall) != before {
		t.Errorf("empty batch: %v, %v, %d calls", got, err, sc.count(batchCall)-before)
	}
}

func TestRegistrantsPending(t *testing.T) {
	cl, _, id := registrationMeeting(t)
	ctx := context.Background()
	// Without auto_approve a meeting with manual approval holds them pending.
	added, err := cl.AddBatchRegistrants(ctx, id, newRegistrants(3, "p"), false)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := cl.Registrants(ctx, id, RegistrantPending)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 3 || pending[0].Status != RegistrantPending {
		t.Fatalf("pending %+v, want the 3 added", pending)
	}
	if approved, err := cl.Registrants(ctx, id, RegistrantApproved); err != nil || len(approved) != 0 {
		t.Fatalf("approved %+v, %v; want none", approved, err)
	}
	// Approving by e-mail alone.
	if err := cl.UpdateRegistrantStatus(ctx, id, RegistrantApprove, []RegistrantRef{{Email: added[1].Email}}); err != nil {
		t.Fatal(err)
	}
	approved, err := cl.Registrants(ctx, id, RegistrantApproved)
	if err != nil {
		t.Fatal(err)
	}
	if len(approved) != 1 || approved[0].ID != added[1].RegistrantID {
		t.Errorf("approved %+v, want only %s", approved, added[1].Email)
	}
}

func TestRegistrantsPaging(t *testing.T) {
	cl, sc, id := registrationMeeting(t)
	ctx := context.Background()
	var want []string
	for _, prefix := range []string{"x", "y"} {
		added, err := cl.AddBatchRegistrants(ctx, id, newRegistrants(MaxBatchRegistrants, prefix), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range added {
			want = append(want, a.RegistrantID)
		}
	}
	list := fmt.Sprintf("GET /v2/meetings/%d/registrants?", id)
	before := sc.count(list)
	got, err := cl.registrants(ctx, id, RegistrantApproved, 7)
	if err != nil {
		t.Fatal(err)
	}
	if pages := sc.count(list) - before; pages != 9 {
		t.Errorf("60 registrants in pages of 7 took %d requests, want 9", pages)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("paged list of %d registrants, want the %d added in order", len(ids), len(want))
	}
}

func TestCancelRegistrants(t *testing.T) {
	cl, sc, id := registrationMeeting(t)
	ctx := context.Background()
	added, err := cl.AddBatchRegistrants(ctx, id, newRegistrants(10, "c"), true)
	if err != nil {
		t.Fatal(err)
	}
	// By id, by e-mail, and by both.
	refs := []RegistrantRef{{ID: added[0].RegistrantID}, {Email: added[3].Email}, {ID: added[7].RegistrantID, Email: added[7].Email}}
	if err := cl.UpdateRegistrantStatus(ctx, id, RegistrantCancel, refs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"cancel"`, `{"id":"` + added[0].RegistrantID + `"}`, `{"email":"` + added[3].Email + `"}`} {
		if !strings.Contains(sc.last(), want) {
			t.Errorf("status request lacks %s: %s", want, sc.last())
		}
	}
	ids := func(status string) []string {
		t.Helper()
		rs, err := cl.Registrants(ctx, id, status)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			if r.Status != status {
				t.Errorf("listed as %s: %+v", status, r)
			}
			out = append(out, r.ID)
		}
		return out
	}
	cancelled := []string{added[0].RegistrantID, added[3].RegistrantID, added[7].RegistrantID}
	approved := ids(RegistrantApproved)
	if len(approved) != 7 {
		t.Errorf("%d approved after cancelling 3 of 10, want 7", len(approved))
	}
	for _, c := range cancelled {
		if slices.Contains(approved, c) {
			t.Errorf("cancelled registrant %s is still approved", c)
		}
	}
	// Zoom has no "cancelled" status: a cancelled registrant is denied.
	if denied := ids(RegistrantDenied); !slices.Equal(denied, cancelled) {
		t.Errorf("denied %v, want the cancelled %v", denied, cancelled)
	}

	// Refused before calling Zoom: too many, or a registrant not named.
	status := fmt.Sprintf("PUT /v2/meetings/%d/registrants/status", id)
	before := sc.count(status)
	tooMany := make([]RegistrantRef, MaxBatchRegistrants+1)
	for i := range tooMany {
		tooMany[i] = RegistrantRef{Email: fmt.Sprintf("z%02d@example.org", i)}
	}
	if err := cl.UpdateRegistrantStatus(ctx, id, RegistrantCancel, tooMany); err == nil {
		t.Error("cancelling 31 registrants in one call was accepted")
	}
	if err := cl.UpdateRegistrantStatus(ctx, id, RegistrantCancel, []RegistrantRef{{ID: added[1].RegistrantID}, {}}); err == nil {
		t.Error("a registrant with neither id nor e-mail was accepted")
	}
	if err := cl.UpdateRegistrantStatus(ctx, id, RegistrantCancel, nil); err != nil {
		t.Errorf("cancelling nobody: %v", err)
	}
	if n := sc.count(status) - before; n != 0 {
		t.Errorf("refused status changes made %d calls, want none", n)
	}
}

// Zoom lets one e-mail be added to a meeting 3 times a UTC day (the
// simulator's RegistrantAddsPerEmail); the 4th add is a 429 until 00:00 UTC.
func TestRegistrantAddsPerEmailPerDay(t *testing.T) {
	cl, sc, id := registrationMeeting(t)
	ctx := context.Background()
	batchCall := fmt.Sprintf("POST /v2/meetings/%d/batch_registrants", id)
	again := []NewRegistrant{{Email: "again@example.org", FirstName: "太郎"}}
	var first string
	for i := range 3 {
		added, err := cl.AddBatchRegistrants(ctx, id, again, true)
		if err != nil {
			t.Fatalf("add %d: %v", i+1, err)
		}
		// Adding an e-mail again keeps its registrant.
		if i == 0 {
			first = added[0].RegistrantID
		} else if added[0].RegistrantID != first {
			t.Errorf("add %d: registrant %s, want the first one %s", i+1, added[0].RegistrantID, first)
		}
	}

	before := sc.count(batchCall)
	// The whole batch is refused, the new e-mail with it.
	_, err := cl.AddBatchRegistrants(ctx, id, append(again, NewRegistrant{Email: "new@example.org", FirstName: "次郎"}), true)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.Code != 429 || !IsRateLimited(err) {
		t.Fatalf("4th add of one e-mail: %v, want 429 code 429", err)
	}
	if !strings.Contains(ae.Message, "again@example.org") {
		t.Errorf("message %q does not name the e-mail", ae.Message)
	}
	untilMidnight := time.Until(time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
	if d := ae.RetryAfter - untilMidnight; d < -time.Minute || d > time.Minute {
		t.Errorf("Retry-After %s, want about %s (00:00 UTC)", ae.RetryAfter, untilMidnight)
	}
	if n := sc.count(batchCall) - before; n != 1 {
		t.Errorf("the refused POST was sent %d times, want once (never retried)", n)
	}
	approved, err := cl.Registrants(ctx, id, RegistrantApproved)
	if err != nil {
		t.Fatal(err)
	}
	if len(approved) != 1 || approved[0].ID != first {
		t.Errorf("approved %+v, want only the first registrant", approved)
	}
}
