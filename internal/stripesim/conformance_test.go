package stripesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// spec is Stripe's own OpenAPI file, loaded once per test binary (it
// takes seconds), with a router per simulator base URL.
var (
	specMu    sync.Mutex
	specDoc   *openapi3.T
	specCache = map[string]routers.Router{}
)

func specRouter(t testing.TB, base string) routers.Router {
	t.Helper()
	specMu.Lock()
	defer specMu.Unlock()
	if r, ok := specCache[base]; ok {
		return r
	}
	if specDoc == nil {
		doc, err := openapi3.NewLoader().LoadFromFile("../../../shared/stripe/spec3.json")
		if err != nil {
			t.Fatalf("loading spec3.json: %v", err)
		}
		specDoc = doc
	}
	doc := *specDoc
	doc.Servers = openapi3.Servers{{URL: base + "/"}}
	r, err := gorillamux.NewRouter(&doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	specCache[base] = r
	return r
}

// specOperation finds the operation of spec3.json for a request.
func specOperation(t testing.TB, base string, req *http.Request) (*routers.Route, map[string]string) {
	t.Helper()
	route, params, err := specRouter(t, base).FindRoute(req)
	if err != nil {
		return nil, nil
	}
	return route, params
}

var specOpts = &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}

// specTransport checks every request sent to the simulator's /v1 and
// every answer against spec3.json, and fails the test on a mismatch.
type specTransport struct {
	t    testing.TB
	base string
	next http.RoundTripper
}

func (st *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := st.next
	if next == nil {
		next = http.DefaultTransport
	}
	if !strings.HasPrefix(req.URL.Path, "/v1/") {
		return next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params := specOperation(st.t, st.base, req)
	if route == nil {
		st.t.Errorf("spec: no operation for %s %s", req.Method, req.URL)
		return next.RoundTrip(req)
	}
	in := &openapi3filter.RequestValidationInput{Request: req.Clone(context.Background()), PathParams: params, Route: route, Options: specOpts}
	if err := validateStripeRequest(route, req.URL.Query(), reqBody); err != nil {
		st.t.Errorf("spec: request %s %s does not conform: %v\n%s", req.Method, req.URL.Path, err, reqBody)
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: specOpts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		st.t.Errorf("spec: answer %d to %s %s does not conform: %v\n%s", resp.StatusCode, req.Method, req.URL.Path, err, body)
	}
	return resp, nil
}

// validateStripeRequest checks a request's query and form body against
// its operation. kin-openapi cannot decode Stripe's bracketed forms
// (deepObject arrays of objects), so they are parsed as Stripe reads them
// (parseForm), their strings typed as the schema says, and the result
// validated against the schema: unknown parameters, wrong types, values
// outside an enum, missing required properties.
func validateStripeRequest(route *routers.Route, query url.Values, body []byte) error {
	op := route.Operation
	q, err := parseForm(query)
	if err != nil {
		return err
	}
	for _, pr := range op.Parameters {
		p := pr.Value
		if p.In != "query" {
			continue
		}
		v, ok := q[p.Name]
		if !ok {
			if p.Required {
				return fmt.Errorf("query parameter %s is required", p.Name)
			}
			continue
		}
		delete(q, p.Name)
		if err := p.Schema.Value.VisitJSON(coerce(p.Schema.Value, v)); err != nil {
			return fmt.Errorf("query parameter %s: %w", p.Name, err)
		}
	}
	for k := range q {
		return fmt.Errorf("query parameter %s is not in the spec", k)
	}
	if op.RequestBody == nil {
		if len(body) > 0 {
			return errors.New("a body where the spec has none")
		}
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded")
	if mt == nil {
		return errors.New("no form body in the spec")
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return err
	}
	form, err := parseForm(values)
	if err != nil {
		return err
	}
	sch := mt.Schema.Value
	for k := range form {
		if sch.Properties[k] == nil {
			return fmt.Errorf("body parameter %s is not in the spec", k)
		}
	}
	return sch.VisitJSON(coerce(sch, map[string]any(form)))
}

// coerce types form strings as the schema says (integer, number,
// boolean), trying each alternative of anyOf/oneOf.
func coerce(sch *openapi3.Schema, v any) any {
	alts := append(append(openapi3.SchemaRefs{}, sch.AnyOf...), sch.OneOf...)
	if len(alts) > 0 {
		var first any
		for i, a := range alts {
			c := coerce(a.Value, v)
			if i == 0 {
				first = c
			}
			if a.Value.VisitJSON(c) == nil {
				return c
			}
		}
		return first
	}
	switch x := v.(type) {
	case string:
		switch {
		case sch.Type.Is("integer"):
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return float64(n)
			}
		case sch.Type.Is("number"):
			if n, err := strconv.ParseFloat(x, 64); err == nil {
				return n
			}
		case sch.Type.Is("boolean"):
			if b, err := strconv.ParseBool(x); err == nil {
				return b
			}
		}
		return x
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := sch.Properties[k]; p != nil {
				out[k] = coerce(p.Value, e)
			} else if ap := sch.AdditionalProperties.Schema; ap != nil {
				out[k] = coerce(ap.Value, e)
			} else {
				out[k] = e
			}
		}
		return out
	case params:
		return coerce(sch, map[string]any(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if sch.Items != nil {
				out[i] = coerce(sch.Items.Value, e)
			} else {
				out[i] = e
			}
		}
		return out
	}
	return v
}

// checkEvent validates an event body against components.schemas.event,
// and its data.object against the schema of its object type.
func checkEvent(t testing.TB, base string, body []byte) {
	t.Helper()
	specRouter(t, base)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("event is not JSON: %v", err)
	}
	schemas := specDoc.Components.Schemas
	if err := schemas["event"].Value.VisitJSON(v); err != nil {
		t.Errorf("spec: event does not conform: %v\n%s", err, body)
	}
	obj, _ := v["data"].(map[string]any)["object"].(map[string]any)
	kind, _ := obj["object"].(string)
	sch := schemas[kind]
	if sch == nil {
		t.Errorf("spec: no schema for event object %q", kind)
		return
	}
	if err := sch.Value.VisitJSON(obj); err != nil {
		t.Errorf("spec: %s in event %s does not conform: %v\n%s", kind, v["type"], err, body)
	}
}
