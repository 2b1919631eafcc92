// Package zoom is kaisai's Zoom client: OAuth (authorization code with
// PKCE, explicit refresh, revoke), the REST API calls kaisai makes, Zoom's
// errors as types, and the scopes kaisai needs. It knows Zoom, not kaisai.
//
// Tokens travel only in the Authorization header or a form body: never in
// a URL, a log line or an error.
package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Client.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRetries   = 3
	DefaultMaxRetryWait = 10 * time.Second
)

// TokenFunc gives the access token for a call; the caller refreshes it
// (under its lock) when needed.
type TokenFunc func(ctx context.Context) (string, error)

// Client calls Zoom's REST API as one Zoom user. Set the exported fields
// before first use; a Client is safe for concurrent use.
type Client struct {
	http  *http.Client
	base  string // APIURL + "/v2"
	token TokenFunc

	// Timeout bounds each attempt (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxRetries is how many times an idempotent call is retried after a
	// 429 (DefaultMaxRetries when zero; negative: never).
	MaxRetries int
	// MaxRetryWait is the longest Retry-After waited for; a longer one
	// (a daily limit) is returned at once as the *APIError
	// (DefaultMaxRetryWait when zero).
	MaxRetryWait time.Duration
	// Log receives one debug line per call and a warning per retry;
	// discarded when nil.
	Log *slog.Logger
}

// NewClient is a client of the API at apiURL (Token.APIURL; Zoom's when
// empty), authenticating each call with token. httpClient is
// http.DefaultClient when nil.
func NewClient(httpClient *http.Client, apiURL string, token TokenFunc) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	return &Client{http: httpClient, base: strings.TrimRight(apiURL, "/") + "/v2", token: token}
}

// call is one REST call: path is under /v2 with its segments escaped.
type call struct {
	method, path string
	idempotent   bool
	in, out      any
}

// do runs c, retrying an idempotent call after a 429 within the limits.
func (cl *Client) do(ctx context.Context, c call) error {
	retries := cl.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	if !c.idempotent || retries < 0 {
		retries = 0
	}
	maxWait := orDefault(cl.MaxRetryWait, DefaultMaxRetryWait)
	for attempt := 0; ; attempt++ {
		err := cl.once(ctx, c)
		if !IsRateLimited(err) || attempt >= retries {
			return err
		}
		wait := RetryAfter(err)
		if wait > maxWait {
			return err // a daily limit: the caller reschedules
		}
		wait = max(wait, 100*time.Millisecond)
		cl.logger().WarnContext(ctx, "zoom api rate limited, waiting", "method", c.method, "path", c.path, "wait", wait, "attempt", attempt+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("zoom api %s %s: waiting for Retry-After: %w", c.method, c.path, ctx.Err())
		case <-t.C:
		}
	}
}

func (cl *Client) logger() *slog.Logger {
	if cl.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cl.Log
}

// once makes one attempt of c under the timeout.
func (cl *Client) once(ctx context.Context, c call) (err error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(cl.Timeout, DefaultTimeout))
	defer cancel()
	start := time.Now()
	status := 0
	defer func() {
		cl.logger().DebugContext(ctx, "zoom api", "method", c.method, "path", c.path, "status", status, "duration", time.Since(start), "error", err)
	}()
	tok, err := cl.token(ctx)
	if err != nil {
		return fmt.Errorf("zoom api %s %s: token: %w", c.method, c.path, err)
	}
	var body io.Reader
	if c.in != nil {
		b, err := json.Marshal(c.in)
		if err != nil {
			return fmt.Errorf("zoom api %s %s: %w", c.method, c.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, cl.base+c.path, body)
	if err != nil {
		return fmt.Errorf("zoom api %s %s: %w", c.method, c.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if c.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return fmt.Errorf("zoom api %s %s: %w", c.method, c.path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("zoom api %s %s: reading the answer: %w", c.method, c.path, err)
	}
	if status/100 != 2 {
		e := &APIError{Method: c.method, Path: c.path, Status: status}
		var zb struct {
			Code    int          `json:"code"`
			Message string       `json:"message"`
			Errors  []FieldError `json:"errors"`
		}
		if json.Unmarshal(b, &zb) == nil {
			e.Code, e.Message, e.Fields = zb.Code, zb.Message, zb.Errors
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		if status == http.StatusTooManyRequests {
			e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			e.RateLimitType = resp.Header.Get("X-RateLimit-Type")
		}
		return e
	}
	if c.out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, c.out); err != nil {
		return fmt.Errorf("zoom api %s %s: decoding the answer: %w", c.method, c.path, err)
	}
	return nil
}

// unwrapURLError drops *url.Error's quoting of the URL (which holds no
// secret, but repeats what the caller already says) and keeps its cause.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// request makes one REST call: in (when not nil) is sent as JSON, the
// answer decoded into out (when not nil). Every Zoom method kaisai uses is
// idempotent except POST (creating a meeting or registrant twice is two),
// so only POST is never retried after a 429. A new API method is one call
// of request.
func (cl *Client) request(ctx context.Context, method, path string, in, out any) error {
	return cl.do(ctx, call{method: method, path: path, idempotent: method != http.MethodPost, in: in, out: out})
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// Zoom user types.
const (
	UserBasic    = 1
	UserLicensed = 2
)

// User is GET /users/me (or /users/{userId}).
type User struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	DisplayName string `json:"display_name"`
	Type        int    `json:"type"` // UserBasic, UserLicensed, …
	AccountID   string `json:"account_id"`
	Timezone    string `json:"timezone"`
	Language    string `json:"language"`
	Status      string `json:"status"`
	PMI         int64  `json:"pmi"`
}

// Me is the user whose token the client holds.
func (cl *Client) Me(ctx context.Context) (*User, error) {
	var u User
	if err := cl.request(ctx, http.MethodGet, "/users/me", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// PasscodePolicy is schedule_meeting.meeting_password_requirement: what a
// meeting passcode of this user must look like.
type PasscodePolicy struct {
	Length                      int  `json:"length"`
	HaveLetter                  bool `json:"have_letter"`
	HaveNumber                  bool `json:"have_number"`
	HaveSpecialCharacter        bool `json:"have_special_character"`
	OnlyAllowNumeric            bool `json:"only_allow_numeric"`
	HaveUpperAndLowerCharacters bool `json:"have_upper_and_lower_characters"`
	ConsecutiveCharactersLength int  `json:"consecutive_characters_length"`
	WeakEnhanceDetection        bool `json:"weak_enhance_detection"`
}

// ScheduleMeetingSettings is the part of schedule_meeting kaisai reads.
type ScheduleMeetingSettings struct {
	RequirePasswordForSchedulingNewMeetings bool           `json:"require_password_for_scheduling_new_meetings"`
	RequirePasswordForScheduledMeetings     bool           `json:"require_password_for_scheduled_meetings"`
	EmbedPasswordInJoinLink                 bool           `json:"embed_password_in_join_link"`
	JoinBeforeHost                          bool           `json:"join_before_host"`
	MeetingPasswordRequirement              PasscodePolicy `json:"meeting_password_requirement"`
}

// UserSettings is the part of GET /users/{userId}/settings kaisai reads.
type UserSettings struct {
	ScheduleMeeting ScheduleMeetingSettings `json:"schedule_meeting"`
	InMeeting       struct {
		WaitingRoom bool `json:"waiting_room"`
	} `json:"in_meeting"`
	Feature struct {
		MeetingCapacity int `json:"meeting_capacity"`
	} `json:"feature"`
}

// UserSettings reads a user's settings ("me" for the token's user).
func (cl *Client) UserSettings(ctx context.Context, userID string) (*UserSettings, error) {
	var s UserSettings
	if err := cl.request(ctx, http.MethodGet, "/users/"+seg(userID)+"/settings", nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
