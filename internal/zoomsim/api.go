package zoomsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// apiError is Zoom's REST error body. Validation failures also list the
// fields, as Zoom does: {"code":300,"message":"Validation Failed.","errors":[…]}.
type apiError struct {
	status  int
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %d %s", e.status, e.Code, e.Message) }

func zerr(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalidField(field, message string) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 300, Message: "Validation Failed.",
		Errors: []fieldError{{Field: field, Message: message}}}
}

func errUserNotFound(id string) *apiError {
	return zerr(http.StatusNotFound, 1001, "User does not exist: %s.", id)
}

func errMeetingNotFound(id string) *apiError {
	return zerr(http.StatusNotFound, 3001, "Meeting does not exist: %s.", id)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /oauth/revoke", s.revoke)

	mux.Handle("GET /v2/users/{userId}", s.api(s.getUser))
	mux.Handle("GET /v2/users/{userId}/settings", s.api(s.getUserSettings))
	mux.Handle("POST /v2/users/{userId}/meetings", s.api(s.createMeeting))
	mux.Handle("GET /v2/users/{userId}/meetings", s.api(s.listMeetings))
	mux.Handle("GET /v2/meetings/{meetingId}", s.api(s.getMeeting))
	mux.Handle("PATCH /v2/meetings/{meetingId}", s.api(s.updateMeeting))
	mux.Handle("DELETE /v2/meetings/{meetingId}", s.api(s.deleteMeeting))
	mux.Handle("POST /v2/meetings/{meetingId}/registrants", s.api(s.addRegistrant))
	mux.Handle("GET /v2/meetings/{meetingId}/registrants", s.api(s.listRegistrants))
	mux.Handle("POST /v2/meetings/{meetingId}/batch_registrants", s.api(s.batchRegistrants))
	mux.Handle("PUT /v2/meetings/{meetingId}/registrants/status", s.api(s.registrantStatus))
	mux.Handle("DELETE /v2/meetings/{meetingId}/registrants/{registrantId}", s.api(s.deleteRegistrant))
	mux.Handle("GET /v2/past_meetings/{meetingId}/participants", s.api(s.pastParticipants))
	mux.Handle("/v2/", s.api(func(*call) (int, any, error) {
		return 0, nil, zerr(http.StatusNotFound, 404, "Not Found")
	}))
	s.controlRoutes(mux)
	s.uiRoutes(mux)
	return mux
}

// call is one authenticated REST request. Handlers run with s.mu held, so
// they see and change the state atomically.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	user *User // the token's user
	dirt bool  // state changed: save it
}

// api authenticates a /v2 request with its Bearer token and runs h under the
// state lock; h answers with a status and a body (nil: none), or an error.
func (s *Server) api(h func(*call) (int, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			// Zoom answers bad input with an error code, never a crash: a
			// bug here must not take the simulator down either.
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("zoomsim: panic", "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, zerr(500, 500, "Internal error."))
			}
		}()
		if s.injectTransport(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		c := &call{s: s, w: w, r: r}
		status, body, err := func() (int, any, error) {
			s.mu.Lock()
			// Deferred, so that a panic in h does not leave the state locked.
			defer s.mu.Unlock()
			status, body, err := s.authenticate(c)
			if err == nil {
				err = s.admit(c)
			}
			if err == nil {
				status, body, err = h(c)
			}
			if c.dirt {
				s.saveLocked()
			}
			return status, body, err
		}()
		if err == nil {
			if x := s.faults.draw(callTarget(r), FaultLostAnswer); x != nil {
				// Done, but the answer never reaches the caller.
				hold(r, x.Delay)
				panic(http.ErrAbortHandler)
			}
		}
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			writeJSON(w, ae.status, ae)
		case err != nil:
			s.log.Error("zoomsim: handler", "path", r.URL.Path, "err", err)
			writeJSON(w, http.StatusInternalServerError, zerr(500, 500, "Internal error."))
		case body == nil:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, body)
		}
	})
}

func (s *Server) authenticate(c *call) (int, any, error) {
	if c.r.URL.Query().Has("access_token") {
		return 0, nil, zerr(http.StatusUnauthorized, 124, "Invalid access token, this access token is not supported as query parameter string.")
	}
	auth := c.r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "bearer ")
	}
	t := s.st.Access[strings.TrimSpace(tok)]
	if !ok || t == nil {
		return 0, nil, zerr(http.StatusUnauthorized, 124, "Invalid access token.")
	}
	if !s.now().Before(t.Expires) {
		return 0, nil, zerr(http.StatusUnauthorized, 124, "Access token is expired.")
	}
	c.user = s.st.Users[t.UserID]
	if c.user == nil {
		return 0, nil, zerr(http.StatusUnauthorized, 124, "Invalid access token.")
	}
	return 0, nil, nil
}

// pathUser resolves {userId}: "me", the user's id or e-mail. A user-managed
// app acts only for the user who authorized it; anyone else does not exist.
func (c *call) pathUser() (*User, error) {
	id := c.r.PathValue("userId")
	if id == "me" || id == c.user.ID || equalFoldASCII(id, c.user.Email) {
		return c.user, nil
	}
	return nil, errUserNotFound(id)
}

// pathMeeting resolves {meetingId} to a meeting of the token's user.
func (c *call) pathMeeting() (*meeting, error) {
	raw := c.r.PathValue("meetingId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, errMeetingNotFound(raw)
	}
	m := c.s.st.Meetings[id]
	if m == nil {
		return nil, errMeetingNotFound(raw)
	}
	if m.HostID != c.user.ID {
		return nil, zerr(http.StatusBadRequest, 3000, "Cannot access meeting info.")
	}
	return m, nil
}

// decode reads a JSON body into v. Malformed JSON and wrong types answer
// 300, as Zoom does, naming the field when it can.
func (c *call) decode(v any) error {
	dec := json.NewDecoder(c.r.Body)
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalidField(te.Field, "Invalid field.")
		}
		return zerr(http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
	}
	if dec.More() {
		return zerr(http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
	}
	return nil
}
