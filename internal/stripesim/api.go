package stripesim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiError is Stripe's error body: {"error": {"type", "code", "message",
// "param", "doc_url"}} with the HTTP status.
type apiError struct {
	status  int
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
	Decline string `json:"decline_code,omitempty"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s %s", e.status, e.Type, e.Message) }

func invalid(param, code, format string, args ...any) *apiError {
	e := &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Code: code, Param: param,
		Message: fmt.Sprintf(format, args...)}
	if code != "" {
		e.DocURL = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-")
	}
	return e
}

func missingParam(param string) *apiError {
	return invalid(param, "parameter_missing", "Missing required param: %s.", param)
}

func badParam(param, format string, args ...any) *apiError {
	return invalid(param, "parameter_invalid_empty", format, args...)
}

func unknownParam(param string) *apiError {
	return invalid(param, "parameter_unknown", "Received unknown parameter: %s", param)
}

func noSuch(kind, id, param string) *apiError {
	e := invalid(param, "resource_missing", "No such %s: '%s'", kind, id)
	e.status = http.StatusNotFound
	return e
}

// call is one authenticated /v1 request. Handlers run with s.mu held.
type call struct {
	s       *Server
	r       *http.Request
	acct    *Account
	p       params
	now     time.Time
	reqID   string
	idemKey string
	version string // Stripe-Version asked for, or APIVersion
	dirty   bool
}

type handler func(c *call) (int, map[string]any, *apiError)

// idemEntry is the remembered answer to a request with an Idempotency-Key.
type idemEntry struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Params  string `json:"params"`
	Status  int    `json:"status"`
	Body    []byte `json:"body"`
	Created int64  `json:"created"`
}

// idempotencyTTL: Stripe keeps keys for at least 24 hours.
const idempotencyTTL = 24 * time.Hour

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	v := func(pattern, op string, h handler) { mux.Handle(pattern, s.api(op, h)) }
	v("GET /v1/account", "GetAccount", s.getAccount)
	v("POST /v1/checkout/sessions", "PostCheckoutSessions", s.createSession)
	v("GET /v1/checkout/sessions", "GetCheckoutSessions", s.listSessions)
	v("GET /v1/checkout/sessions/{id}", "GetCheckoutSessionsSession", s.getSession)
	v("GET /v1/checkout/sessions/{id}/line_items", "GetCheckoutSessionsSessionLineItems", s.getLineItems)
	v("POST /v1/checkout/sessions/{id}/expire", "PostCheckoutSessionsSessionExpire", s.expireSessionAPI)
	v("GET /v1/payment_intents/{id}", "GetPaymentIntentsIntent", s.getIntent)
	v("GET /v1/charges/{id}", "GetChargesCharge", s.getCharge)
	v("POST /v1/refunds", "PostRefunds", s.createRefund)
	v("GET /v1/refunds", "GetRefunds", s.listRefunds)
	v("GET /v1/refunds/{id}", "GetRefundsRefund", s.getRefund)
	v("POST /v1/webhook_endpoints", "PostWebhookEndpoints", s.createEndpoint)
	v("GET /v1/webhook_endpoints", "GetWebhookEndpoints", s.listEndpoints)
	v("GET /v1/webhook_endpoints/{id}", "GetWebhookEndpointsWebhookEndpoint", s.getEndpoint)
	v("DELETE /v1/webhook_endpoints/{id}", "DeleteWebhookEndpointsWebhookEndpoint", s.deleteEndpoint)
	v("GET /v1/events", "GetEvents", s.listEvents)
	v("GET /v1/events/{id}", "GetEventsId", s.getEvent)
	v("/v1/", "", func(c *call) (int, map[string]any, *apiError) {
		e := invalid("", "", "Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
			c.r.Method, c.r.URL.Path)
		e.status = http.StatusNotFound
		return 0, nil, e
	})
	s.controlRoutes(mux)
	s.uiRoutes(mux)
	return mux
}

// apiKey reads the key from "Authorization: Bearer KEY" or HTTP Basic
// with the key as the user name, as Stripe accepts both.
func apiKey(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if k, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(k)
	}
	if b, ok := strings.CutPrefix(h, "Basic "); ok {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b))
		if err == nil {
			user, _, _ := strings.Cut(string(raw), ":")
			return user
		}
	}
	return ""
}

func redactKey(k string) string {
	if len(k) <= 12 {
		return k
	}
	i := strings.LastIndexByte(k[:len(k)-4], '_')
	if i < 0 {
		i = 0
	}
	return k[:i+1] + strings.Repeat("*", len(k)-i-5) + k[len(k)-4:]
}

func (s *Server) api(op string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := "req_" + randomID(14)
		w.Header().Set("Request-Id", reqID)
		version := r.Header.Get("Stripe-Version")
		if version == "" {
			version = APIVersion
		}
		w.Header().Set("Stripe-Version", version)
		if s.applyFaultBefore(w, r, op) {
			return
		}
		status, body, idem := s.serveAPI(r, op, h, reqID, version)
		if idem {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		if s.applyFaultAfter(w, r, op) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func errorBody(e *apiError) []byte {
	b, _ := json.Marshal(map[string]any{"error": e})
	return b
}

// serveAPI authenticates, parses, applies idempotency and runs h. It
// returns the status, the body and whether the answer was replayed.
func (s *Server) serveAPI(r *http.Request, op string, h handler, reqID, version string) (int, []byte, bool) {
	fail := func(e *apiError) (int, []byte, bool) { return e.status, errorBody(e), false }
	key := apiKey(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	if key == "" {
		return fail(&apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."})
	}
	acct := s.accountByKeyLocked(key)
	if acct == nil {
		return fail(&apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "Invalid API Key provided: " + redactKey(key)})
	}
	if !strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "rk_test_") {
		return fail(&apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "Invalid API Key provided: " + redactKey(key)})
	}
	var values url.Values
	if r.Method == http.MethodGet || r.Method == http.MethodDelete {
		values = r.URL.Query()
	} else {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return fail(invalid("", "", "Invalid request: unsupported Content-Type %s. If error persists and you need assistance, please contact support@stripe.com.", ct))
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			values, err = url.ParseQuery(string(raw))
		}
		if err != nil {
			return fail(invalid("", "", "Invalid request body: %v", err))
		}
		for k, vs := range r.URL.Query() {
			values[k] = append(values[k], vs...)
		}
	}
	p, err := parseForm(values)
	if err != nil {
		msg := err.Error()
		return fail(invalid("", "", "%s", strings.ToUpper(msg[:1])+msg[1:]))
	}
	idemKey := r.Header.Get("Idempotency-Key")
	var idemID string
	if idemKey != "" && r.Method == http.MethodPost {
		if len(idemKey) > 255 {
			return fail(invalid("", "", "Idempotency-Key must be at most 255 characters long."))
		}
		idemID = acct.ID + " " + idemKey
		if e := s.st.Idem[idemID]; e != nil && s.nowLocked().Unix()-e.Created < int64(idempotencyTTL/time.Second) {
			if e.Method != r.Method || e.Path != r.URL.Path || e.Params != p.canonical() {
				return fail(&apiError{status: http.StatusBadRequest, Type: "idempotency_error",
					Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", idemKey)})
			}
			return e.Status, e.Body, true
		}
	}
	c := &call{s: s, r: r, acct: acct, p: p, now: s.nowLocked(), reqID: reqID, idemKey: idemKey, version: version}
	status, out, aerr := h(c)
	var body []byte
	if aerr != nil {
		status, body = aerr.status, errorBody(aerr)
	} else {
		if exp, ok := p.list("expand"); ok && len(exp) > 0 {
			for _, e := range exp {
				path, _ := e.(string)
				if aerr := s.expandLocked(c, out, path); aerr != nil {
					return fail(aerr)
				}
			}
		}
		body, _ = json.Marshal(out)
	}
	// Stripe saves the answer once the endpoint began to execute: not
	// for requests refused as invalid before anything was done.
	if idemID != "" && (aerr == nil || aerr.status == http.StatusPaymentRequired) {
		s.st.Idem[idemID] = &idemEntry{Method: r.Method, Path: r.URL.Path, Params: p.canonical(), Status: status,
			Body: body, Created: c.now.Unix()}
		c.dirty = true
	}
	if c.dirty {
		s.saveLocked()
	}
	return status, body, false
}

// checkParams refuses parameters the endpoint does not know.
func (c *call) checkParams(known ...string) *apiError {
	keys := make([]string, 0, len(c.p))
	for k := range c.p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k != "expand" && !slices.Contains(known, k) {
			return unknownParam(k)
		}
	}
	return nil
}

// expandLocked replaces an id in out (at a dotted path) by its object.
func (s *Server) expandLocked(c *call, out map[string]any, path string) *apiError {
	if path == "" {
		return invalid("expand", "", "Invalid expand path: ''")
	}
	parts := strings.Split(path, ".")
	var walk func(obj map[string]any, parts []string) *apiError
	walk = func(obj map[string]any, parts []string) *apiError {
		if parts[0] == "data" && obj["object"] == "list" {
			for _, it := range obj["data"].([]any) {
				if m, ok := it.(map[string]any); ok && len(parts) > 1 {
					if e := walk(m, parts[1:]); e != nil {
						return e
					}
				}
			}
			return nil
		}
		field := parts[0]
		if obj["object"] == "checkout.session" && field == "line_items" {
			if cs := s.st.Sessions[obj["id"].(string)]; cs != nil {
				obj["line_items"] = s.lineItemsJSON(cs)
			}
			return nil
		}
		v, ok := obj[field]
		if !ok {
			return invalid("expand", "", "This property cannot be expanded (%s).", path)
		}
		switch x := v.(type) {
		case nil:
			return nil
		case map[string]any:
			if len(parts) > 1 {
				return walk(x, parts[1:])
			}
			return nil
		case string:
			m := s.objectByIDLocked(c.acct.ID, x)
			if m == nil {
				return invalid("expand", "", "This property cannot be expanded (%s).", path)
			}
			obj[field] = m
			if len(parts) > 1 {
				return walk(m, parts[1:])
			}
			return nil
		}
		return invalid("expand", "", "This property cannot be expanded (%s).", path)
	}
	if len(parts) > 4 {
		return invalid("expand", "", "You cannot expand more than 4 levels of a property. Property: %s", path)
	}
	return walk(out, parts)
}

func (s *Server) objectByIDLocked(acct, id string) map[string]any {
	switch {
	case strings.HasPrefix(id, "pi_"):
		if pi := s.st.Intents[id]; pi != nil && pi.Account == acct {
			return s.intentJSON(pi)
		}
	case strings.HasPrefix(id, "ch_"):
		if ch := s.st.Charges[id]; ch != nil && ch.Account == acct {
			return s.chargeJSON(ch)
		}
	case strings.HasPrefix(id, "re_"):
		if r := s.st.Refunds[id]; r != nil && r.Account == acct {
			return s.refundJSON(r)
		}
	case strings.HasPrefix(id, "cs_"):
		if cs := s.st.Sessions[id]; cs != nil && cs.Account == acct {
			return s.sessionJSON(cs)
		}
	}
	return nil
}

// page is a list answer: items newest first, cut by limit,
// starting_after and ending_before.
func page[T any](c *call, url string, items []T, id func(T) string, render func(T) map[string]any) (map[string]any, *apiError) {
	limit := 10
	if l, _ := c.p.str("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return nil, invalid("limit", "parameter_invalid_integer", "Invalid integer: %s", l)
		}
		limit = n
	}
	after, _ := c.p.str("starting_after")
	before, _ := c.p.str("ending_before")
	if after != "" && before != "" {
		return nil, invalid("starting_after", "", "You may only specify one of these parameters: ending_before, starting_after.")
	}
	find := func(want, param string) (int, *apiError) {
		for i, it := range items {
			if id(it) == want {
				return i, nil
			}
		}
		return 0, invalid(param, "resource_missing", "No such object: '%s'", want)
	}
	var sel []T
	hasMore := false
	switch {
	case after != "":
		i, e := find(after, "starting_after")
		if e != nil {
			return nil, e
		}
		sel = items[i+1:]
		hasMore = len(sel) > limit
		sel = sel[:min(limit, len(sel))]
	case before != "":
		i, e := find(before, "ending_before")
		if e != nil {
			return nil, e
		}
		sel = items[:i]
		hasMore = len(sel) > limit
		sel = sel[max(0, len(sel)-limit):]
	default:
		hasMore = len(items) > limit
		sel = items[:min(limit, len(items))]
	}
	data := make([]any, 0, len(sel))
	for _, it := range sel {
		data = append(data, render(it))
	}
	return map[string]any{"object": "list", "data": data, "has_more": hasMore, "url": url}, nil
}

// metadataParam reads metadata[…] within Stripe's limits (50 keys, keys
// up to 40 characters, values up to 500).
func metadataParam(p params, name string) (map[string]string, *apiError) {
	m, ok := p.sub("metadata")
	if !ok {
		return nil, badParam(name, "Invalid object")
	}
	if len(m) > 50 {
		return nil, badParam(name, "Invalid metadata: metadata may have at most 50 keys.")
	}
	out := map[string]string{}
	for k, v := range m {
		sv, ok := v.(string)
		if !ok {
			return nil, badParam(name+"["+k+"]", "Invalid metadata value for key %s: must be a string.", k)
		}
		if len(k) > 40 {
			return nil, badParam(name, "Metadata keys can have up to 40 characters. You passed in a key that is %d characters.", len(k))
		}
		if len(sv) > 500 {
			return nil, badParam(name+"["+k+"]", "Metadata values can have up to 500 characters, but you passed in a value that is %d characters.", len(sv))
		}
		if sv != "" {
			out[k] = sv
		}
	}
	return out, nil
}

func (s *Server) getAccount(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.accountJSON(c.acct), nil
}
