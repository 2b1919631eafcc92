package zoom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"testing"
)

// predicates are the named readings of Zoom's error answers.
var predicates = map[string]func(error) bool{
	"IsNotFound":        IsNotFound,
	"IsMeetingGone":     IsMeetingGone,
	"IsUserGone":        IsUserGone,
	"IsInvalidToken":    IsInvalidToken,
	"IsLicenseRequired": IsLicenseRequired,
	"IsInvalid":         IsInvalid,
	"IsBadRequest":      IsBadRequest,
	"IsClientError":     IsClientError,
	"IsServerError":     IsServerError,
	"IsPasscodeRefused": IsPasscodeRefused,
	"IsRegistrationOff": IsRegistrationOff,
	"IsRateLimited":     IsRateLimited,
	"IsPerSecondLimit":  IsPerSecondLimit,
	"IsDailyLimit":      IsDailyLimit,
}

// TestErrorPredicates reads Zoom's error answers (status, headers and
// JSON body in Zoom's words, from zoom/Meetings.json and Users.json) as
// the client receives them and checks which predicates hold for each.
func TestErrorPredicates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   []string // the predicates that hold; every other one must not
	}{
		{"meeting does not exist", 404, nil,
			`{"code":3001,"message":"Meeting does not exist: 85746065432."}`,
			[]string{"IsNotFound", "IsMeetingGone", "IsClientError"}},
		{"meeting ID does not exist (code 300)", 404, nil,
			`{"code":300,"message":"Meeting ID does not exist."}`,
			[]string{"IsNotFound", "IsMeetingGone", "IsInvalid", "IsClientError"}},
		{"user does not exist", 404, nil,
			`{"code":1001,"message":"User does not exist: KdYKjnimT4KPd8FFgQt9FQ."}`,
			[]string{"IsNotFound", "IsUserGone", "IsClientError"}},
		{"paid account only", 400, nil,
			`{"code":200,"message":"Only available for paid account: abc123"}`,
			[]string{"IsLicenseRequired", "IsInvalid", "IsBadRequest", "IsClientError"}},
		{"no permission", 400, nil,
			`{"code":200,"message":"No permission."}`,
			[]string{"IsLicenseRequired", "IsInvalid", "IsBadRequest", "IsClientError"}},
		{"passcode field refused", 400, nil,
			`{"code":300,"message":"Validation Failed.","errors":[{"field":"password","message":"Passcode must have at least 8 characters."}]}`,
			[]string{"IsPasscodeRefused", "IsInvalid", "IsBadRequest", "IsClientError"}},
		{"passcode policy", 400, nil,
			`{"code":300,"message":"Passcode may only contain numbers."}`,
			[]string{"IsPasscodeRefused", "IsInvalid", "IsBadRequest", "IsClientError"}},
		{"other field refused", 400, nil,
			`{"code":300,"message":"Validation Failed.","errors":[{"field":"registrants[1].email","message":"Invalid field."}]}`,
			[]string{"IsInvalid", "IsBadRequest", "IsClientError"}},
		{"registration not enabled", 400, nil,
			`{"code":300,"message":"Registration has not been enabled for this meeting: 85746065432."}`,
			[]string{"IsRegistrationOff", "IsInvalid", "IsBadRequest", "IsClientError"}},
		{"registration not enabled (batch, code 404)", 400, nil,
			`{"code":404,"message":"Registration has not been enabled for this meeting: 85746065432."}`,
			[]string{"IsRegistrationOff", "IsInvalid", "IsBadRequest", "IsClientError"}},
		{"hosting not allowed (another 400)", 400, nil,
			`{"code":3161,"message":"Your user account is not allowed meeting hosting and scheduling capabilities."}`,
			[]string{"IsInvalid", "IsBadRequest", "IsClientError"}},
		{"access token expired", 401, nil,
			`{"code":124,"message":"Access token is expired."}`,
			[]string{"IsInvalidToken", "IsClientError"}},
		{"per-second limit", 429, map[string]string{"Retry-After": "1", "X-RateLimit-Type": "QPS"},
			`{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`,
			[]string{"IsRateLimited", "IsPerSecondLimit", "IsClientError"}},
		{"daily limit by its message", 429, map[string]string{"X-RateLimit-Type": "Daily-limit"},
			`{"code":429,"message":"You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."}`,
			[]string{"IsRateLimited", "IsDailyLimit", "IsClientError"}},
		{"daily limit by its wait", 429, map[string]string{"Retry-After": "2099-05-31T00:00:00Z", "X-RateLimit-Type": "Daily-limit"},
			`{"code":429,"message":"Too many requests."}`,
			[]string{"IsRateLimited", "IsDailyLimit", "IsClientError"}},
		{"server error", 503, nil,
			`{"code":503,"message":"Service Unavailable"}`,
			[]string{"IsServerError"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer ts.Close()
			c := NewClient(ts.Client(), ts.URL, func(context.Context) (string, error) { return "t", nil })
			c.MaxRetries = -1
			_, err := c.Me(context.Background())
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status {
				t.Fatalf("Me: %v, want an APIError %d", err, tc.status)
			}
			// Callers see the answer wrapped; the reading must not change.
			for _, e := range []error{err, fmt.Errorf("sync meeting 7: %w", err)} {
				if got := holding(e); !slices.Equal(got, sorted(tc.want)) {
					t.Errorf("%v:\n holds %v\n want  %v", e, got, sorted(tc.want))
				}
			}
		})
	}
}

// TestErrorPredicatesWithoutAnswer: an error that is not Zoom's answer (a
// timeout, a dead connection) satisfies none of them.
func TestErrorPredicatesWithoutAnswer(t *testing.T) {
	for _, err := range []error{nil, context.DeadlineExceeded, errors.New("connection reset by peer")} {
		if got := holding(err); len(got) != 0 {
			t.Errorf("%v: holds %v, want none", err, got)
		}
	}
}

func holding(err error) []string {
	var out []string
	for name, p := range predicates {
		if p(err) {
			out = append(out, name)
		}
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	if s == nil {
		s = []string{}
	}
	return s
}
