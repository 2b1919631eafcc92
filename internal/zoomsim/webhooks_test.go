package zoomsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"kaisai/internal/zoom/webhook"
)

const testSecretToken = "whsec-test-token"

// receiver is an app's event endpoint: it verifies every delivery with
// webhook.Verify, answers the URL validation challenge, and fails the
// first failFirst deliveries of other events with 500.
type receiver struct {
	t     *testing.T
	clock func() time.Time
	srv   *httptest.Server

	mu        sync.Mutex
	failFirst int
	got       []webhook.Event
	bodies    [][]byte
}

func newReceiver(t *testing.T, clock func() time.Time) *receiver {
	rc := &receiver{t: t, clock: clock}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(testSecretToken, r.Header, body, rc.clock(), 0); err != nil {
		rc.t.Errorf("delivery does not verify: %v\n%s", err, body)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev, err := webhook.Parse(body)
	if err != nil {
		rc.t.Errorf("delivery does not parse: %v", err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if ev.Event == webhook.EventURLValidation {
		p, err := ev.URLValidation()
		if err != nil {
			rc.t.Errorf("url_validation: %v", err)
		}
		writeJSON(w, http.StatusOK, webhook.URLValidationResponse(testSecretToken, p.PlainToken))
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failFirst > 0 {
		rc.failFirst--
		http.Error(w, "try later", http.StatusInternalServerError)
		return
	}
	rc.got = append(rc.got, ev)
	rc.bodies = append(rc.bodies, body)
	w.WriteHeader(http.StatusOK)
}

// startHookedSim is startSim with short retries and the test app's
// endpoint set to a new receiver (validated).
func startHookedSim(t *testing.T) (*testSim, *receiver) {
	t.Helper()
	ts := startSim(t, Options{Webhooks: WebhookOptions{RetryDelays: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}}})
	t.Cleanup(ts.Close)
	rc := newReceiver(t, ts.clock.Now)
	if err := ts.SetWebhookEndpoint(testClientID, rc.srv.URL, testSecretToken); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ts, func(ds []Delivery) bool {
		_, known := ts.WebhookValidated(testClientID)
		return known
	})
	if ok, _ := ts.WebhookValidated(testClientID); !ok {
		t.Fatalf("endpoint validation failed: %+v", ts.Deliveries())
	}
	return ts, rc
}

func waitFor(t *testing.T, ts *testSim, cond func([]Delivery) bool) []Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ds, err := ts.WaitDeliveries(ctx, cond)
	if err != nil {
		t.Fatalf("%v; deliveries: %+v", err, ds)
	}
	return ds
}

// waitEvents waits until every delivery is done and the events named have
// been delivered, in that order, and returns the delivered events' bodies.
func waitEvents(t *testing.T, ts *testSim, names ...string) []Delivery {
	t.Helper()
	return waitFor(t, ts, func(ds []Delivery) bool {
		var got []string
		for _, d := range ds {
			if !d.Done {
				return false
			}
			if d.Event != webhook.EventURLValidation && d.Delivered {
				got = append(got, d.Event)
			}
		}
		if len(got) != len(names) {
			return false
		}
		for i := range got {
			if got[i] != names[i] {
				t.Fatalf("events %v, want %v", got, names)
			}
		}
		return true
	})
}

// webhookSchemas are the request body schemas of Zoom's webhook documents.
// kin-openapi loads OpenAPI 3.0 documents, and these are 3.1 with only a
// top-level "webhooks" (no paths), which its loader does not read; so each
// event's schema is decoded as JSON into an openapi3.Schema and bodies are
// checked with VisitJSON.
var (
	schemaOnce sync.Once
	schemas    map[string]*openapi3.Schema
	schemaErr  error
)

func webhookSchema(t *testing.T, event string) *openapi3.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schemas = map[string]*openapi3.Schema{}
		for _, f := range []string{"Meetings.json", "Marketplace.json"} {
			raw, err := os.ReadFile("../../../shared/zoom/webhooks/" + f)
			if err != nil {
				schemaErr = err
				return
			}
			var doc struct {
				Webhooks map[string]struct {
					Post struct {
						RequestBody struct {
							Content map[string]struct {
								Schema json.RawMessage `json:"schema"`
							} `json:"content"`
						} `json:"requestBody"`
					} `json:"post"`
				} `json:"webhooks"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				schemaErr = err
				return
			}
			for name, h := range doc.Webhooks {
				raw := fixOldObjectRef(h.Post.RequestBody.Content["application/json"].Schema)
				s := openapi3.NewSchema()
				if err := json.Unmarshal(raw, s); err != nil {
					schemaErr = err
					return
				}
				schemas[name] = s
			}
		}
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	s := schemas[event]
	if s == nil {
		t.Fatalf("no schema for %s", event)
	}
	return s
}

// fixOldObjectRef works around a flaw of Meetings.json: meeting.updated's
// payload.old_object is {"$ref": "#/paths/meeting.updated/…/object"}, a
// reference to a path the document does not have (the webhook is under
// "webhooks"). It means payload.object's schema, so that is put in its place.
func fixOldObjectRef(raw json.RawMessage) json.RawMessage {
	var sch map[string]any
	if json.Unmarshal(raw, &sch) != nil {
		return raw
	}
	props, _ := sch["properties"].(map[string]any)
	payload, _ := props["payload"].(map[string]any)
	pp, _ := payload["properties"].(map[string]any)
	old, _ := pp["old_object"].(map[string]any)
	if _, isRef := old["$ref"]; !isRef {
		return raw
	}
	pp["old_object"] = pp["object"]
	return mustJSON(sch)
}

// checkBody validates a delivered body against its event's schema.
func checkBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	ev, _ := v["event"].(string)
	if err := webhookSchema(t, ev).VisitJSON(v); err != nil {
		t.Errorf("%s body does not conform to its schema: %v\n%s", ev, err, body)
	}
	return v
}

func TestWebhookMeetingEvents(t *testing.T) {
	ts, rc := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	out := c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "Webhooks", "type": 2,
		"start_time": "2030-05-01T10:00:00Z", "settings": map[string]any{"approval_type": 0}})
	path := meetingPath(out)
	id := int64(out["id"].(float64))
	c.must(204, "PATCH", path, map[string]any{"topic": "Renamed"})
	c.must(204, "PATCH", path, map[string]any{"topic": "Renamed"}) // no change: no event
	reg := c.must(201, "POST", path+"/registrants", map[string]any{"email": "a@example.org", "first_name": "A"})
	c.must(204, "PUT", path+"/registrants/status", map[string]any{"action": "cancel",
		"registrants": []any{map[string]any{"id": reg["registrant_id"]}}})
	if err := ts.EditMeeting(id, []byte(`{"duration":90}`)); err != nil {
		t.Fatal(err)
	}
	c.must(204, "DELETE", path, nil)
	ds := waitEvents(t, ts, "meeting.created", "meeting.updated", "meeting.registration_created",
		"meeting.registration_cancelled", "meeting.updated", "meeting.deleted")
	for _, d := range ds {
		if d.Event == webhook.EventURLValidation {
			continue
		}
		if len(d.Attempts) != 1 || d.Attempts[0].Status != 200 {
			t.Errorf("%s: attempts %+v", d.Event, d.Attempts)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, body := range rc.bodies {
		v := checkBody(t, body)
		p := v["payload"].(map[string]any)
		obj := p["object"].(map[string]any)
		if got := int64(obj["id"].(float64)); got != id {
			t.Errorf("%s: object.id %v, want the number %d", rc.got[i].Event, obj["id"], id)
		}
		if rc.got[i].Time() != ts.clock.Now().Truncate(time.Millisecond) {
			t.Errorf("%s: event_ts %v", rc.got[i].Event, rc.got[i].Time())
		}
	}
	upd, err := rc.got[1].Meeting()
	if err != nil || upd.Object.Topic != "Renamed" {
		t.Errorf("meeting.updated: %+v %v", upd, err)
	}
	var u struct {
		Payload struct {
			OldObject map[string]any `json:"old_object"`
		}
	}
	_ = json.Unmarshal(rc.bodies[4], &u)
	if u.Payload.OldObject["duration"] != float64(60) {
		t.Errorf("old_object of the Zoom-side edit: %v", u.Payload.OldObject)
	}
}

func TestWebhookRetrySchedule(t *testing.T) {
	ts, rc := startHookedSim(t)
	rc.mu.Lock()
	rc.failFirst = 2
	rc.mu.Unlock()
	c := ts.client(t, "licensed@example.com")
	c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "Retry"})
	ds := waitEvents(t, ts, "meeting.created")
	d := ds[len(ds)-1]
	if len(d.Attempts) != 3 || d.Attempts[0].Status != 500 || d.Attempts[1].Status != 500 || d.Attempts[2].Status != 200 {
		t.Fatalf("attempts %+v, want 500, 500, 200", d.Attempts)
	}

	// An endpoint that never accepts gets the first attempt and three retries.
	rc.mu.Lock()
	rc.failFirst = 100
	rc.mu.Unlock()
	c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "Never"})
	ds = waitFor(t, ts, func(ds []Delivery) bool { return ds[len(ds)-1].Done })
	d = ds[len(ds)-1]
	if d.Delivered || len(d.Attempts) != 4 {
		t.Fatalf("attempts %+v, want 4 failed", d.Attempts)
	}
}

func TestZoomRetryDelays(t *testing.T) {
	h := newWebhooks(WebhookOptions{TimeScale: 0.001})
	want := []time.Duration{300 * time.Millisecond, 1200 * time.Millisecond, 3600 * time.Millisecond}
	for i, d := range h.opts.RetryDelays {
		if d != want[i] {
			t.Errorf("retry %d after %v, want %v", i+1, d, want[i])
		}
	}
	if h := newWebhooks(WebhookOptions{}); h.opts.RetryDelays[2] != time.Hour || h.opts.Timeout != 3*time.Second {
		t.Errorf("Zoom's schedule: %v, timeout %v", h.opts.RetryDelays, h.opts.Timeout)
	}
}

func TestWebhookValidationFails(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"plainToken": "x", "encryptedToken": "y"})
	}))
	defer bad.Close()
	if err := ts.SetWebhookEndpoint(testClientID, bad.URL, testSecretToken); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ts, func([]Delivery) bool { _, known := ts.WebhookValidated(testClientID); return known })
	if ok, _ := ts.WebhookValidated(testClientID); ok {
		t.Error("a wrong encryptedToken passed validation")
	}
}

func TestRemoveApp(t *testing.T) {
	ts, rc := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	if err := ts.RemoveApp("licensed@example.com", testClientID); err != nil {
		t.Fatal(err)
	}
	status, body := c.do("GET", "/users/me", nil)
	if status != 401 || body["code"] != float64(124) {
		t.Errorf("after removal: %d %v", status, body)
	}
	waitEvents(t, ts, "app_deauthorized")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	checkBody(t, rc.bodies[0])
	p, err := rc.got[0].Deauthorization()
	u, _ := ts.User("licensed@example.com")
	if err != nil || p.UserID != u.ID || p.ClientID != testClientID || p.AccountID != u.AccountID {
		t.Errorf("app_deauthorized: %+v %v", p, err)
	}
	if err := ts.RemoveApp("licensed@example.com", testClientID); err == nil {
		t.Error("removing an app twice succeeded")
	}
}

// meeting.registration_approved is sent when the host approves a pending
// or denied registrant (PUT …/registrants/status, action approve), not for
// a registrant approved as it registers (auto_approve, or a meeting that
// approves automatically): that one's registration_created says so.
func TestWebhookRegistrationApproved(t *testing.T) {
	ts, rc := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	path := registrationMeeting(t, c, 1) // manual approval
	p := c.must(201, "POST", path+"/registrants", map[string]any{"email": "p@example.org", "first_name": "P&Q", "last_name": "<R>"})
	c.must(201, "POST", path+"/registrants", map[string]any{"email": "auto@example.org", "first_name": "Auto", "auto_approve": true})
	d := c.must(201, "POST", path+"/registrants", map[string]any{"email": "d@example.org", "first_name": "D"})
	c.must(204, "PUT", path+"/registrants/status", map[string]any{"action": "deny",
		"registrants": []any{map[string]any{"id": d["registrant_id"]}}})
	c.must(204, "PUT", path+"/registrants/status", map[string]any{"action": "approve", "registrants": []any{
		map[string]any{"id": p["registrant_id"]},
		map[string]any{"email": "auto@example.org"}, // already approved: nothing to send
		map[string]any{"email": "D@example.org"},
	}})
	waitEvents(t, ts, "meeting.created", "meeting.registration_created", "meeting.registration_created",
		"meeting.registration_created", "meeting.registration_approved", "meeting.registration_approved")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	host, _ := ts.User("licensed@example.com")
	for i, want := range []any{p["registrant_id"], d["registrant_id"]} {
		v := checkBody(t, rc.bodies[4+i])
		pl := v["payload"].(map[string]any)
		reg := pl["object"].(map[string]any)["registrant"].(map[string]any)
		if reg["id"] != want || pl["operator"] != host.Email || pl["operator_id"] != host.ID || pl["account_id"] != host.AccountID ||
			reg["join_url"] == "" {
			t.Errorf("registration_approved %d: %s", i, rc.bodies[4+i])
		}
	}
	if reg := rc.bodies[4]; !strings.Contains(string(reg), `"first_name":"P&Q","id":`) {
		t.Errorf("registrant's name: %s", reg)
	}
}
