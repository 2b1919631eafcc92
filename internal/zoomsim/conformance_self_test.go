package zoomsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// errRecorder records what the spec client reports instead of failing.
type errRecorder struct {
	testing.TB
	errs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *errRecorder) Helper() {}

// TestSpecClientCatchesNonConformance shows the spec check can fail: a
// meeting whose id is a string, and a request with a string duration.
func TestSpecClientCatchesNonConformance(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"85746065432","topic":"t","type":2}`)
	}))
	defer bad.Close()
	rec := &errRecorder{TB: t}
	c := &apiClient{t: rec, base: bad.URL, access: "x", hc: &http.Client{Transport: &specTransport{t: rec, routers: specRouters(t, bad.URL)}}}
	c.do("GET", "/meetings/85746065432", nil)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "answer 200") {
		t.Errorf("a string meeting id: reports %q", rec.errs)
	}
	rec.errs = nil
	c.do("PATCH", "/meetings/85746065432", map[string]any{"duration": "60"})
	if len(rec.errs) == 0 || !strings.Contains(rec.errs[0], "request PATCH") {
		t.Errorf("a string duration: reports %q", rec.errs)
	}
}
