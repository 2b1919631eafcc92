package zoomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specs are Zoom's own OpenAPI files, loaded once (loading is what takes
// the time, seconds under -race), with a router per simulator base URL.
var (
	specMu    sync.Mutex
	specDocs  = map[string]*openapi3.T{}
	specCache = map[string][]routers.Router{}
)

func specRouters(t testing.TB, base string) []routers.Router {
	t.Helper()
	specMu.Lock()
	defer specMu.Unlock()
	if rs, ok := specCache[base]; ok {
		return rs
	}
	var rs []routers.Router
	for _, name := range []string{"Meetings.json", "Users.json"} {
		loaded := specDocs[name]
		if loaded == nil {
			var err error
			loaded, err = openapi3.NewLoader().LoadFromFile("../../../shared/zoom/" + name)
			if err != nil {
				t.Fatalf("loading %s: %v", name, err)
			}
			// doc.Validate is skipped: it fails only because Zoom's OAuth
			// security scheme has no tokenUrl.
			if name == "Users.json" {
				relaxUserSettings(loaded)
			}
			specDocs[name] = loaded
		}
		// The router matches on the servers: a copy of the document with
		// the simulator's base, sharing everything else (read only).
		doc := *loaded
		doc.Servers = openapi3.Servers{{URL: base + "/v2"}}
		r, err := gorillamux.NewRouter(&doc)
		if err != nil {
			t.Fatalf("router for %s: %v", name, err)
		}
		rs = append(rs, r)
	}
	specCache[base] = rs
	return rs
}

// relaxUserSettings works around a flaw of Users.json: the answer of GET
// /users/{userId}/settings is a oneOf of four objects none of which forbids
// other properties, and one of which has no properties at all, so every
// answer matches several and no answer can satisfy "exactly one". The
// settings object (the first) is what Zoom answers without ?option=.
func relaxUserSettings(doc *openapi3.T) {
	op := doc.Paths.Find("/users/{userId}/settings").Get
	mt := op.Responses.Status(200).Value.Content.Get("application/json")
	if s := mt.Schema.Value; len(s.OneOf) > 0 {
		mt.Schema = s.OneOf[0]
	}
}

// specTransport checks every request sent to the simulator's /v2 and every
// answer against Zoom's specifications, and fails the test on a mismatch.
type specTransport struct {
	t       testing.TB
	routers []routers.Router
}

func (st *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st.t.Helper()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	var route *routers.Route
	var params map[string]string
	for _, r := range st.routers {
		if rt, p, err := r.FindRoute(req); err == nil {
			route, params = rt, p
			break
		}
	}
	if route == nil {
		st.t.Errorf("spec: no operation for %s %s", req.Method, req.URL)
		return http.DefaultTransport.RoundTrip(req)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req.Clone(context.Background()), PathParams: params, Route: route, Options: opts}
	in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		st.t.Errorf("spec: request %s %s does not conform: %v", req.Method, req.URL.Path, err)
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		st.t.Errorf("spec: answer %d to %s %s does not conform: %v\n%s", resp.StatusCode, req.Method, req.URL.Path, err, body)
	}
	return resp, nil
}

// apiClient calls the simulator's REST API as one user, every exchange
// checked against the spec.
type apiClient struct {
	t      testing.TB
	base   string
	access string
	hc     *http.Client
}

func (ts *testSim) client(t testing.TB, email string) *apiClient {
	access, _ := ts.login(t, email)
	return &apiClient{t: t, base: ts.base, access: access,
		hc: &http.Client{Transport: &specTransport{t: t, routers: specRouters(t, ts.base)}}}
}

// do sends a request; body is marshalled unless it is a string (sent as is).
// It returns the status and the decoded answer (nil when empty).
func (c *apiClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+"/v2"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.access)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

// must calls do and fails unless the status is want.
func (c *apiClient) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	status, out := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

func meetingPath(out map[string]any) string {
	return fmt.Sprintf("/meetings/%d", int64(out["id"].(float64)))
}

// unchecked is the same client without the spec checks, for requests the
// spec itself forbids (Zoom must still answer them properly).
func (c *apiClient) unchecked() *apiClient {
	u := *c
	u.hc = http.DefaultClient
	return &u
}
