package zoomsim

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type meeting struct {
	ID           int64           `json:"id"`
	UUID         string          `json:"uuid"`
	HostID       string          `json:"host_id"`
	Topic        string          `json:"topic"`
	Type         int             `json:"type"`
	StartTime    time.Time       `json:"start_time"`
	Duration     int             `json:"duration"`
	Timezone     string          `json:"timezone"`
	Agenda       string          `json:"agenda"`
	Password     string          `json:"password"`
	PreSchedule  bool            `json:"pre_schedule"`
	CreatedAt    time.Time       `json:"created_at"`
	StartToken   string          `json:"start_token"`
	Settings     meetingSettings `json:"settings"`
	Registrants  []*registrant   `json:"registrants"`
	Participants []participant   `json:"participants"`   // the report of the last instance
	Live         *live           `json:"live,omitempty"` // running now (participants.go)
}

// meetingSettings are the settings the simulator keeps, named as Zoom's.
type meetingSettings struct {
	HostVideo                    bool   `json:"host_video"`
	ParticipantVideo             bool   `json:"participant_video"`
	JoinBeforeHost               bool   `json:"join_before_host"`
	MuteUponEntry                bool   `json:"mute_upon_entry"`
	ApprovalType                 int    `json:"approval_type"`
	RegistrationType             int    `json:"registration_type"`
	WaitingRoom                  bool   `json:"waiting_room"`
	MeetingAuthentication        bool   `json:"meeting_authentication"`
	RegistrantsEmailNotification bool   `json:"registrants_email_notification"`
	RegistrantsConfirmationEmail bool   `json:"registrants_confirmation_email"`
	Audio                        string `json:"audio"`
	AutoRecording                string `json:"auto_recording"`
	CloseRegistration            bool   `json:"close_registration"`
}

type participant struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	UserID       string    `json:"user_id"`
	RegistrantID string    `json:"registrant_id"`
	UserEmail    string    `json:"user_email"`
	JoinTime     time.Time `json:"join_time"`
	LeaveTime    time.Time `json:"leave_time"`
}

// meetingRequest is the body of create and update: pointers tell an
// absent field from a zero one.
type meetingRequest struct {
	Topic           *string          `json:"topic"`
	Type            *int             `json:"type"`
	StartTime       *string          `json:"start_time"`
	Duration        *int             `json:"duration"`
	Timezone        *string          `json:"timezone"`
	Agenda          *string          `json:"agenda"`
	Password        *string          `json:"password"`
	DefaultPassword *bool            `json:"default_password"`
	PreSchedule     *bool            `json:"pre_schedule"`
	Settings        *settingsRequest `json:"settings"`
}

type settingsRequest struct {
	HostVideo                    *bool   `json:"host_video"`
	ParticipantVideo             *bool   `json:"participant_video"`
	JoinBeforeHost               *bool   `json:"join_before_host"`
	MuteUponEntry                *bool   `json:"mute_upon_entry"`
	ApprovalType                 *int    `json:"approval_type"`
	RegistrationType             *int    `json:"registration_type"`
	WaitingRoom                  *bool   `json:"waiting_room"`
	MeetingAuthentication        *bool   `json:"meeting_authentication"`
	RegistrantsEmailNotification *bool   `json:"registrants_email_notification"`
	RegistrantsConfirmationEmail *bool   `json:"registrants_confirmation_email"`
	Audio                        *string `json:"audio"`
	AutoRecording                *string `json:"auto_recording"`
	CloseRegistration            *bool   `json:"close_registration"`
}

// apply merges a request into m, checking each field as Zoom does.
func (req *meetingRequest) apply(m *meeting, host *User, now time.Time) error {
	if req.Topic != nil {
		if utf8.RuneCountInString(*req.Topic) > 200 {
			return invalidField("topic", "The topic can have a maximum of 200 characters.")
		}
		m.Topic = *req.Topic
	}
	if req.Type != nil {
		switch *req.Type {
		case 1, 2, 3, 8, 10:
			m.Type = *req.Type
		default:
			return invalidField("type", "Invalid field.")
		}
	}
	if req.Agenda != nil {
		if utf8.RuneCountInString(*req.Agenda) > 2000 {
			return invalidField("agenda", "The agenda can have a maximum of 2000 characters.")
		}
		m.Agenda = *req.Agenda
	}
	if req.Duration != nil {
		if *req.Duration < 1 || *req.Duration > 1440 {
			return invalidField("duration", "Invalid field.")
		}
		m.Duration = *req.Duration
	}
	if req.Timezone != nil && *req.Timezone != "" {
		if _, err := time.LoadLocation(*req.Timezone); err != nil {
			return invalidField("timezone", "Invalid field.")
		}
		m.Timezone = *req.Timezone
	}
	if req.StartTime != nil {
		t, err := parseStartTime(*req.StartTime, m.Timezone)
		if err != nil {
			return invalidField("start_time", "Invalid field.")
		}
		if t.Before(now) { // as Zoom documents: a past start is now
			t = now
		}
		m.StartTime = t.UTC().Truncate(time.Second)
	}
	if req.PreSchedule != nil {
		if *req.PreSchedule && m.Type != 2 && m.Type != 3 {
			return zerr(http.StatusBadRequest, 3000, "Prescheduling is only available for scheduled meetings (type 2) and recurring meetings with no fixed time (type 3).")
		}
		m.PreSchedule = *req.PreSchedule
	}
	if req.Password != nil {
		if err := checkPasscode(*req.Password, host.Policy); err != nil {
			return err
		}
		m.Password = *req.Password
	}
	if st := req.Settings; st != nil {
		set := func(dst *bool, src *bool) {
			if src != nil {
				*dst = *src
			}
		}
		ms := &m.Settings
		set(&ms.HostVideo, st.HostVideo)
		set(&ms.ParticipantVideo, st.ParticipantVideo)
		set(&ms.JoinBeforeHost, st.JoinBeforeHost)
		set(&ms.MuteUponEntry, st.MuteUponEntry)
		set(&ms.WaitingRoom, st.WaitingRoom)
		set(&ms.MeetingAuthentication, st.MeetingAuthentication)
		set(&ms.RegistrantsEmailNotification, st.RegistrantsEmailNotification)
		set(&ms.RegistrantsConfirmationEmail, st.RegistrantsConfirmationEmail)
		set(&ms.CloseRegistration, st.CloseRegistration)
		if st.ApprovalType != nil {
			if *st.ApprovalType < 0 || *st.ApprovalType > 2 {
				return invalidField("settings.approval_type", "Invalid field.")
			}
			ms.ApprovalType = *st.ApprovalType
		}
		if st.RegistrationType != nil {
			if *st.RegistrationType < 1 || *st.RegistrationType > 3 {
				return invalidField("settings.registration_type", "Invalid field.")
			}
			ms.RegistrationType = *st.RegistrationType
		}
		if st.Audio != nil {
			switch *st.Audio {
			case "both", "telephony", "voip", "thirdParty":
				ms.Audio = *st.Audio
			default:
				return invalidField("settings.audio", "Invalid field.")
			}
		}
		if st.AutoRecording != nil {
			switch *st.AutoRecording {
			case "local", "cloud", "none":
				ms.AutoRecording = *st.AutoRecording
			default:
				return invalidField("settings.auto_recording", "Invalid field.")
			}
		}
	}
	if m.Settings.ApprovalType != 2 {
		// Registration needs a licensed host and a meeting with a fixed time.
		if host.Type != UserLicensed {
			return zerr(http.StatusBadRequest, 200, "Only available for paid users: %s.", host.ID)
		}
		if m.Type != 2 && m.Type != 8 {
			return invalidField("settings.approval_type", "Registration is only available for scheduled meetings (type 2) and recurring meetings with a fixed time (type 8).")
		}
	}
	return nil
}

// finish applies what Zoom decides by itself: a meeting has at least one of
// passcode, waiting room and authentication, so the waiting room is turned
// on when none is; the waiting room turns join before host off.
func (m *meeting) finish() {
	if m.Password == "" && !m.Settings.WaitingRoom && !m.Settings.MeetingAuthentication {
		m.Settings.WaitingRoom = true
	}
	if m.Settings.WaitingRoom {
		m.Settings.JoinBeforeHost = false
	}
}

func parseStartTime(v, tz string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}, err
		}
		loc = l
	}
	return time.ParseInLocation("2006-01-02T15:04:05", v, loc)
}

const passcodeSpecials = "@-_*"

// checkPasscode applies Zoom's passcode rules: at most 10 characters of
// [a-zA-Z0-9@-_*], and the account's passcode requirement.
func checkPasscode(p string, pol PasscodePolicy) error {
	if p == "" {
		return nil // no passcode; the waiting room rule applies
	}
	bad := func(msg string) error { return invalidField("password", msg) }
	if len(p) > 10 {
		return bad("Passcode can have a maximum of 10 characters.")
	}
	var letter, number, special, upper, lower bool
	for _, r := range p {
		switch {
		case 'a' <= r && r <= 'z':
			letter, lower = true, true
		case 'A' <= r && r <= 'Z':
			letter, upper = true, true
		case '0' <= r && r <= '9':
			number = true
		case strings.ContainsRune(passcodeSpecials, r):
			special = true
		default:
			return bad("Passcode may only contain the following characters: [a-z A-Z 0-9 @ - _ *].")
		}
	}
	switch {
	case len(p) < pol.Length:
		return bad(fmt.Sprintf("Passcode must have at least %d characters.", pol.Length))
	case pol.OnlyAllowNumeric && (letter || special):
		return bad("Passcode may only contain numbers.")
	case pol.HaveLetter && !letter:
		return bad("Passcode must contain at least 1 letter.")
	case pol.HaveNumber && !number:
		return bad("Passcode must contain at least 1 number.")
	case pol.HaveSpecialCharacter && !special:
		return bad("Passcode must contain at least 1 special character.")
	case pol.HaveUpperAndLowerCharacters && !(upper && lower):
		return bad("Passcode must include both uppercase and lowercase letters.")
	case pol.ConsecutiveCharactersLength > 0 && longestRun(p) >= pol.ConsecutiveCharactersLength:
		return bad(fmt.Sprintf("Passcode can have at most %d consecutive characters.", pol.ConsecutiveCharactersLength-1))
	}
	return nil
}

// longestRun is the length of the longest run of identical (1111) or
// ascending (abcd, 1234) characters in p. Users.json documents
// consecutive_characters_length n as allowing at most n-1 of them.
func longestRun(p string) int {
	best, run := 0, 0
	for i := range len(p) {
		if i > 0 && (p[i] == p[i-1] || (p[i] == p[i-1]+1 && sameClass(p[i], p[i-1]))) {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

// sameClass reports whether a and b are both digits, both lower case or
// both upper case letters: "@A" is not a sequence.
func sameClass(a, b byte) bool {
	class := func(c byte) int {
		switch {
		case '0' <= c && c <= '9':
			return 1
		case 'a' <= c && c <= 'z':
			return 2
		case 'A' <= c && c <= 'Z':
			return 3
		}
		return 0
	}
	return class(a) != 0 && class(a) == class(b)
}

// generatePasscode makes a passcode that satisfies the policy, as Zoom does
// for default_password: random candidates until one has no run longer than
// the policy allows (the first, nearly always).
func generatePasscode(pol PasscodePolicy) string {
	var p string
	for range 100 {
		p = passcodeCandidate(pol)
		if checkPasscode(p, pol) == nil {
			break
		}
	}
	return p
}

func passcodeCandidate(pol PasscodePolicy) string {
	n := max(pol.Length, 6)
	n = min(n, 10)
	if pol.OnlyAllowNumeric {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + randInt(10))
		}
		return string(b)
	}
	const lowers, uppers, digits = "abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789"
	pick := func(set string) byte { return set[randInt(len(set))] }
	b := []byte{pick(lowers), pick(uppers), pick(digits)}
	if pol.HaveSpecialCharacter {
		b = append(b, pick(passcodeSpecials))
	}
	all := lowers + uppers + digits
	for len(b) < n {
		b = append(b, pick(all))
	}
	for i := len(b) - 1; i > 0; i-- { // shuffle
		j := randInt(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// encryptedPassword is what Zoom puts in join URLs as pwd=: derived from the
// passcode, so a changed passcode changes the URL.
func encryptedPassword(id int64, password string) string {
	if password == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(strconv.FormatInt(id, 10) + "\x00" + password))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

// meetingJSON is the meeting object of Zoom's answers.
type meetingJSON struct {
	UUID              string          `json:"uuid"`
	ID                int64           `json:"id"`
	HostID            string          `json:"host_id"`
	HostEmail         string          `json:"host_email"`
	Topic             string          `json:"topic"`
	Type              int             `json:"type"`
	Status            string          `json:"status"`
	StartTime         string          `json:"start_time,omitempty"`
	Duration          int             `json:"duration"`
	Timezone          string          `json:"timezone"`
	Agenda            string          `json:"agenda"`
	CreatedAt         string          `json:"created_at"`
	StartURL          string          `json:"start_url"`
	JoinURL           string          `json:"join_url"`
	RegistrationURL   string          `json:"registration_url,omitempty"`
	Password          string          `json:"password"`
	H323Password      string          `json:"h323_password"`
	PSTNPassword      string          `json:"pstn_password"`
	EncryptedPassword string          `json:"encrypted_password"`
	PreSchedule       bool            `json:"pre_schedule"`
	Settings          meetingSettings `json:"settings"`
	CreationSource    string          `json:"creation_source"`
}

const zoomTime = "2006-01-02T15:04:05Z"

func (s *Server) meetingJSON(m *meeting) meetingJSON {
	host := s.st.Users[m.HostID]
	hostEmail := ""
	if host != nil {
		hostEmail = host.Email
	}
	id := strconv.FormatInt(m.ID, 10)
	j := meetingJSON{
		UUID: m.UUID, ID: m.ID, HostID: m.HostID, HostEmail: hostEmail, Topic: m.Topic, Type: m.Type,
		Status: "waiting", Duration: m.Duration, Timezone: m.Timezone, Agenda: m.Agenda,
		CreatedAt: m.CreatedAt.UTC().Format(zoomTime),
		StartURL:  s.opts.BaseURL + "/s/" + id + "?zak=" + m.StartToken,
		JoinURL:   s.joinURL(m), Password: m.Password, EncryptedPassword: encryptedPassword(m.ID, m.Password),
		PreSchedule: m.PreSchedule, Settings: m.Settings, CreationSource: "open_api",
	}
	if m.Live != nil {
		j.Status = "started"
	}
	if !m.StartTime.IsZero() {
		j.StartTime = m.StartTime.UTC().Format(zoomTime)
	}
	if m.Password != "" {
		digits := numericPasscode(m.ID, m.Password)
		j.H323Password, j.PSTNPassword = digits, digits
	}
	if m.Settings.ApprovalType != 2 {
		j.RegistrationURL = s.opts.BaseURL + "/meeting/register/" + id
	}
	return j
}

func (s *Server) joinURL(m *meeting) string {
	u := s.opts.BaseURL + "/j/" + strconv.FormatInt(m.ID, 10)
	if p := encryptedPassword(m.ID, m.Password); p != "" {
		u += "?pwd=" + p
	}
	return u
}

// numericPasscode is the phone passcode Zoom derives from the passcode.
func numericPasscode(id int64, password string) string {
	sum := sha256.Sum256([]byte(password + strconv.FormatInt(id, 10)))
	var b strings.Builder
	for _, c := range sum[:6] {
		b.WriteByte('0' + c%10)
	}
	return b.String()
}

func (s *Server) createMeeting(c *call) (int, any, error) {
	host, err := c.pathUser()
	if err != nil {
		return 0, nil, err
	}
	var req meetingRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	m := &meeting{
		HostID: host.ID, Type: 2, Duration: 60, Timezone: host.Timezone, CreatedAt: now, StartTime: now,
		UUID: newUUID(), StartToken: randomID(40),
		Settings: meetingSettings{ApprovalType: 2, RegistrationType: 1, Audio: "voip", AutoRecording: "none"},
	}
	if err := req.apply(m, host, now); err != nil {
		return 0, nil, err
	}
	if m.Type == 1 {
		m.StartTime = now
	}
	if m.Password == "" && req.Password == nil && (req.DefaultPassword == nil || *req.DefaultPassword) && host.RequirePasscode {
		m.Password = generatePasscode(host.Policy)
	}
	m.finish()
	for {
		m.ID = randomMeetingID()
		if s.st.Meetings[m.ID] == nil {
			break
		}
	}
	s.st.Meetings[m.ID] = m
	c.dirt = true
	s.emitMeetingCreatedLocked(m, c.user)
	return http.StatusCreated, s.meetingJSON(m), nil
}

func (s *Server) getMeeting(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.meetingJSON(m), nil
}

func (s *Server) updateMeeting(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	var req meetingRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	updated := *m // all or nothing: a refused update changes nothing
	if err := req.apply(&updated, c.user, s.now().UTC().Truncate(time.Second)); err != nil {
		return 0, nil, err
	}
	updated.finish()
	before := *m
	*m = updated
	c.dirt = true
	s.emitMeetingUpdatedLocked(&before, m, c.user)
	return http.StatusNoContent, nil, nil
}

func (s *Server) deleteMeeting(c *call) (int, any, error) {
	m, err := c.pathMeeting()
	if err != nil {
		return 0, nil, err
	}
	delete(s.st.Meetings, m.ID)
	c.dirt = true
	s.emitMeetingDeletedLocked(m, c.user)
	return http.StatusNoContent, nil, nil
}

// Meeting returns a copy of a meeting's Zoom object (for tests).
func (s *Server) Meeting(id int64) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Meetings[id]
	if m == nil {
		return nil, false
	}
	j := s.meetingJSON(m)
	return map[string]any{"topic": j.Topic, "password": j.Password, "join_url": j.JoinURL,
		"waiting_room": j.Settings.WaitingRoom, "approval_type": j.Settings.ApprovalType, "registrants": len(m.Registrants)}, true
}
