package zoomsim

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type registrant struct {
	ID         string    `json:"id"`
	Email      string    `json:"email"`
	FirstName  string    `json:"first_name"`
	LastName   string    `json:"last_name"`
	Status     string    `json:"status"` // approved, pending, denied
	CreateTime time.Time `json:"create_time"`
	Token      string    `json:"token"` // tk= of the personal join URL
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func (s *Server) registrantJoinURL(m *meeting, r *registrant) string {
	u := s.opts.BaseURL + "/w/" + itoa(m.ID) + "?tk=" + r.Token
	if p := encryptedPassword(m.ID, m.Password); p != "" {
		u += "&pwd=" + p
	}
	return u
}

type registrantRequest struct {
	FirstName   *string `json:"first_name"`
	LastName    *string `json:"last_name"`
	Email       *string `json:"email"`
	AutoApprove *bool   `json:"auto_approve"`
}

// checkRegistrant validates one registrant as Zoom does; field is the
// prefix of the names in errors ("" or "registrants[3].").
func checkRegistrant(prefix string, first, last, email *string) error {
	switch {
	case email == nil || *email == "":
		return invalidField(prefix+"email", "This field is required.")
	case utf8.RuneCountInString(*email) > 128 || !validEmail(*email):
		return invalidField(prefix+"email", "Invalid field.")
	case first == nil || *first == "":
		return invalidField(prefix+"first_name", "This field is required.")
	case utf8.RuneCountInString(*first) > 64:
		return invalidField(prefix+"first_name", "Invalid field.")
	case last != nil && utf8.RuneCountInString(*last) > 64:
		return invalidField(prefix+"last_name", "Invalid field.")
	}
	return nil
}

func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e[strings.LastIndexByte(e, '@'):], ".")
}

// register adds or renews a registrant: an e-mail already registered keeps
// its registrant id and join URL, as at Zoom.
func (s *Server) register(m *meeting, email, first, last string, autoApprove bool) *registrant {
	status := "pending"
	if m.Settings.ApprovalType == 0 || autoApprove {
		status = "approved"
	}
	for _, r := range m.Registrants {
		if equalFoldASCII(r.Email, email) {
			r.FirstName, r.LastName = first, last
			if r.Status != "approved" {
				r.Status = status
			}
			return r
		}
	}
	r := &registrant{ID: randomID(22), Email: email, FirstName: first, LastName: last, Status: status,
		CreateTime: s.now().UTC().Truncate(time.Second), Token: randomID(43)}
	m.Registrants = append(m.Registrants, r)
	s.emitRegistrationCreatedLocked(m, r)
	return r
}

func (c *call) hostEmail(m *meeting, email string) bool {
	h := c.s.st.Users[m.HostID]
	return h != nil && equalFoldASCII(h.Email, email)
}

func (s *Server) addRegistrant(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == 3001 {
		// meetingRegistrantCreate documents code 1001 for an unknown
		// meeting (Meetings.json), where the other operations say 3001.
		ae.Code = 1001
	}
	if err != nil {
		return 0, nil, err
	}
	var req registrantRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if m.Settings.ApprovalType == 2 {
		return 0, nil, zerr(http.StatusBadRequest, 300, "Registration has not been enabled for this meeting: %d.", m.ID)
	}
	if err := checkRegistrant("", req.FirstName, req.LastName, req.Email); err != nil {
		return 0, nil, err
	}
	if c.hostEmail(m, *req.Email) {
		return 0, nil, zerr(http.StatusBadRequest, 3027, "Host cannot register.")
	}
	if err := s.admitRegistrants(c, m, []string{*req.Email}); err != nil {
		return 0, nil, err
	}
	last := ""
	if req.LastName != nil {
		last = *req.LastName
	}
	r := s.register(m, *req.Email, *req.FirstName, last, req.AutoApprove != nil && *req.AutoApprove)
	c.dirt = true
	return http.StatusCreated, map[string]any{
		"id": m.ID, "registrant_id": r.ID, "join_url": s.registrantJoinURL(m, r), "topic": m.Topic,
		"start_time": m.StartTime.UTC().Format(zoomTime), "occurrences": []any{},
	}, nil
}

type batchRequest struct {
	AutoApprove                  *bool `json:"auto_approve"`
	RegistrantsConfirmationEmail *bool `json:"registrants_confirmation_email"`
	Registrants                  []struct {
		Email     *string `json:"email"`
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
	} `json:"registrants"`
}

func (s *Server) batchRegistrants(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	var req batchRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if m.Type != 2 {
		return 0, nil, zerr(http.StatusBadRequest, 303, "This API can only be used for scheduled meeting(meeting type: 2). Batch registration is not supported for other meeting types.")
	}
	if m.Settings.ApprovalType == 2 {
		// Zoom documents error code 404 in a 400 answer here.
		return 0, nil, zerr(http.StatusBadRequest, 404, "Registration has not been enabled for this meeting: %d.", m.ID)
	}
	if len(req.Registrants) == 0 {
		return 0, nil, invalidField("registrants", "This field is required.")
	}
	if len(req.Registrants) > 30 {
		return 0, nil, invalidField("registrants", "A maximum of 30 registrants can be added at a time.")
	}
	for i, r := range req.Registrants {
		if err := checkRegistrant("registrants["+strconv.Itoa(i)+"].", r.FirstName, r.LastName, r.Email); err != nil {
			return 0, nil, err
		}
		if c.hostEmail(m, *r.Email) {
			return 0, nil, zerr(http.StatusBadRequest, 3027, "Host cannot register.")
		}
	}
	emails := make([]string, len(req.Registrants))
	for i, r := range req.Registrants {
		emails[i] = *r.Email
	}
	if err := s.admitRegistrants(c, m, emails); err != nil {
		return 0, nil, err
	}
	out := make([]map[string]any, 0, len(req.Registrants))
	for _, in := range req.Registrants {
		last := ""
		if in.LastName != nil {
			last = *in.LastName
		}
		r := s.register(m, *in.Email, *in.FirstName, last, req.AutoApprove != nil && *req.AutoApprove)
		out = append(out, map[string]any{"email": r.Email, "registrant_id": r.ID, "join_url": s.registrantJoinURL(m, r)})
	}
	c.dirt = true
	// The spec's response key is 201 while its text says 200 OK; 201 it is.
	return http.StatusCreated, map[string]any{"registrants": out}, nil
}

// pageToken is an opaque next_page_token: the offset, bound to the list it
// pages through.
func pageToken(list string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + "\x00" + strconv.Itoa(offset)))
}

func parsePageToken(list, tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	l, off, ok := strings.Cut(string(b), "\x00")
	n, err := strconv.Atoi(off)
	if !ok || l != list || err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// paging reads page_size (default 30, at most 300), next_page_token and the
// older page_number.
func (c *call) paging(list string) (offset, size, page int, err error) {
	q := c.r.URL.Query()
	size = 30
	if v := q.Get("page_size"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 {
			return 0, 0, 0, invalidField("page_size", "Invalid field.")
		}
		size = min(n, 300)
	}
	page = 1
	if v := q.Get("page_number"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 {
			return 0, 0, 0, invalidField("page_number", "Invalid field.")
		}
		page = n
		offset = (n - 1) * size
	}
	if v := q.Get("next_page_token"); v != "" {
		n, ok := parsePageToken(list, v)
		if !ok {
			return 0, 0, 0, zerr(http.StatusBadRequest, 300, "The next page token is invalid or expired.")
		}
		offset = n
		page = n/size + 1
	}
	return offset, size, page, nil
}

func (s *Server) listRegistrants(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	status := c.r.URL.Query().Get("status")
	switch status {
	case "":
		status = "approved"
	case "approved", "pending", "denied":
	default:
		return 0, nil, invalidField("status", "Invalid field.")
	}
	offset, size, page, err := c.paging("registrants:" + itoa(m.ID) + ":" + status)
	if err != nil {
		return 0, nil, err
	}
	var matched []*registrant
	for _, r := range m.Registrants {
		if r.Status == status {
			matched = append(matched, r)
		}
	}
	list := []map[string]any{}
	for i := offset; i < len(matched) && i < offset+size; i++ {
		r := matched[i]
		list = append(list, map[string]any{
			"id": r.ID, "email": r.Email, "first_name": r.FirstName, "last_name": r.LastName,
			"status": r.Status, "create_time": r.CreateTime.UTC().Format(zoomTime),
			"join_url": s.registrantJoinURL(m, r), "custom_questions": []any{},
		})
	}
	next := ""
	if offset+size < len(matched) {
		next = pageToken("registrants:"+itoa(m.ID)+":"+status, offset+size)
	}
	return http.StatusOK, map[string]any{
		"page_count": (len(matched) + size - 1) / size, "page_number": page, "page_size": size,
		"total_records": len(matched), "next_page_token": next, "registrants": list,
	}, nil
}

type statusRequest struct {
	Action      *string `json:"action"`
	Registrants []struct {
		ID    *string `json:"id"`
		Email *string `json:"email"`
	} `json:"registrants"`
}

func (s *Server) registrantStatus(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	var req statusRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Action == nil {
		return 0, nil, invalidField("action", "This field is required.")
	}
	var from []string
	var to string
	switch *req.Action {
	case "approve":
		from, to = []string{"pending", "denied"}, "approved"
	case "deny":
		from, to = []string{"pending"}, "denied"
	case "cancel": // a cancelled registrant is listed as denied
		from, to = []string{"approved", "pending"}, "denied"
	default:
		return 0, nil, invalidField("action", "Invalid field.")
	}
	if len(req.Registrants) > 30 {
		return 0, nil, invalidField("registrants", "A maximum of 30 registrants can be updated at a time.")
	}
	if m.Settings.ApprovalType == 2 {
		return 0, nil, zerr(http.StatusBadRequest, 300, "Registration has not been enabled for this meeting: %d.", m.ID)
	}
	for _, want := range req.Registrants {
		for _, r := range m.Registrants {
			if (want.ID != nil && *want.ID == r.ID) || (want.Email != nil && equalFoldASCII(*want.Email, r.Email)) {
				for _, f := range from {
					if r.Status == f {
						r.Status = to
						switch *req.Action {
						case "cancel":
							s.emitRegistrationCancelledLocked(m, r, c.user)
						case "approve":
							s.emitRegistrationApprovedLocked(m, r, c.user)
						}
					}
				}
			}
		}
	}
	c.dirt = true
	return http.StatusNoContent, nil, nil
}

func (s *Server) deleteRegistrant(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	if m.Settings.ApprovalType == 2 {
		return 0, nil, zerr(http.StatusBadRequest, 300, "Registration has not been enabled for this meeting: %d.", m.ID)
	}
	id := c.r.PathValue("registrantId")
	for i, r := range m.Registrants {
		if r.ID == id {
			m.Registrants = append(m.Registrants[:i], m.Registrants[i+1:]...)
			c.dirt = true
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, zerr(http.StatusBadRequest, 300, "The value that you entered for the Registrant ID field is invalid. Enter a valid value and try again.")
}

func (s *Server) pastParticipants(c *call) (int, any, error) {
	if c.user.Type != UserLicensed {
		return 0, nil, zerr(http.StatusBadRequest, 200, "Only available for paid account: %s", c.user.AccountID)
	}
	m, err := c.pastMeeting()
	if err != nil {
		return 0, nil, err
	}
	offset, size, _, err := c.paging("participants:" + itoa(m.ID))
	if err != nil {
		return 0, nil, err
	}
	list := []map[string]any{}
	for i := offset; i < len(m.Participants) && i < offset+size; i++ {
		p := m.Participants[i]
		e := map[string]any{
			// id is the Zoom user's id (blank for guests), user_id the
			// in-meeting participant id, as in the spec.
			"id": p.UserID, "user_id": p.ID, "name": p.Name, "user_email": p.UserEmail,
			"registrant_id": p.RegistrantID, "join_time": p.JoinTime.UTC().Format(zoomTime),
			"failover": false, "status": "in_meeting", "internal_user": false,
		}
		if !p.LeaveTime.IsZero() {
			e["leave_time"] = p.LeaveTime.UTC().Format(zoomTime)
			e["duration"] = int(p.LeaveTime.Sub(p.JoinTime) / time.Second)
		}
		list = append(list, e)
	}
	next := ""
	if offset+size < len(m.Participants) {
		next = pageToken("participants:"+itoa(m.ID), offset+size)
	}
	return http.StatusOK, map[string]any{
		"page_count": (len(m.Participants) + size - 1) / size, "page_size": size,
		"total_records": len(m.Participants), "next_page_token": next, "participants": list,
	}, nil
}

// pastMeeting is the meeting of a past-meeting path: a meeting ID (its
// latest instance) or an instance's UUID, encoded twice when it begins
// with "/" or contains "//", as Zoom asks. The simulator keeps the report
// of the latest instance only; another instance's UUID is not found.
func (c *call) pastMeeting() (*meeting, error) {
	raw := c.r.PathValue("meetingId")
	if _, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return c.pathMeeting()
	}
	uuid := raw
	if strings.Contains(uuid, "%") {
		if u, err := url.PathUnescape(uuid); err == nil {
			uuid = u
		}
	}
	for _, m := range c.s.st.Meetings {
		if m.UUID == uuid && m.HostID == c.user.ID {
			return m, nil
		}
	}
	return nil, errMeetingNotFound(raw)
}
