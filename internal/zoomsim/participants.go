package zoomsim

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/zoom/webhook"
)

// Why a join is refused; Join wraps one of them (test with errors.Is).
var (
	ErrNoMeeting          = errors.New("this meeting ID is not valid")
	ErrPasscodeRequired   = errors.New("this meeting requires a passcode")
	ErrWrongPasscode      = errors.New("the passcode is wrong")
	ErrSignInRequired     = errors.New("this meeting is for authenticated attendees only: sign in to Zoom to join")
	ErrRegistrationNeeded = errors.New("this meeting requires registration: join with your personal registration link")
	ErrRegistrationStatus = errors.New("your registration is not approved")
	ErrNotInMeeting       = errors.New("no such participant in the meeting")
)

// JoinRequest is someone joining a meeting from the Zoom client.
type JoinRequest struct {
	// MeetingID, or a JoinURL: the meeting's (/j/ID?pwd=…) or a
	// registrant's personal one (/w/ID?tk=…&pwd=…). A pwd= that matches
	// stands for the passcode.
	MeetingID int64
	JoinURL   string
	// RegistrantID joins as that registrant, like their personal link.
	RegistrantID string
	// Email signs in to Zoom: a simulated user, or any other Zoom account.
	// Empty joins as a guest.
	Email    string
	Name     string
	Passcode string
}

// Participant is someone in a meeting (or its waiting room).
type Participant struct {
	// ID is the in-meeting participant id (user_id in webhooks and the
	// report); UserID the Zoom user id when signed in ("" for guests).
	ID           string    `json:"id"`
	UserID       string    `json:"user_id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"` // as the API shows it: empty unless Zoom's display rules allow
	RegistrantID string    `json:"registrant_id"`
	JoinTime     time.Time `json:"join_time"`
	Waiting      bool      `json:"waiting"`
}

// live is the running instance of a meeting.
type live struct {
	UUID      string                  `json:"uuid"`
	StartedAt time.Time               `json:"started_at"`
	Next      int                     `json:"next"`
	In        map[string]*participant `json:"in"`      // by participant id
	Waiting   map[string]*participant `json:"waiting"` // waiting room
}

// Join lets someone into a meeting by its rules, or says why not. In a
// meeting with a waiting room, everyone but the host waits until Admit.
func (s *Server) Join(req JoinRequest) (Participant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, pwd, tk := req.MeetingID, "", ""
	if req.JoinURL != "" {
		u, err := url.Parse(req.JoinURL)
		if err != nil {
			return Participant{}, fmt.Errorf("zoomsim: join %q: %w", req.JoinURL, ErrNoMeeting)
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if n, err := strconv.ParseInt(parts[len(parts)-1], 10, 64); err == nil {
			id = n
		}
		pwd, tk = u.Query().Get("pwd"), u.Query().Get("tk")
	}
	m := s.st.Meetings[id]
	if m == nil {
		return Participant{}, fmt.Errorf("zoomsim: join %d: %w", id, ErrNoMeeting)
	}
	host := s.st.Users[m.HostID]
	user := (*User)(nil)
	if req.Email != "" {
		user = s.userByEmailLocked(req.Email)
	}
	isHost := user != nil && user.ID == m.HostID
	var reg *registrant
	for _, r := range m.Registrants {
		if (tk != "" && r.Token == tk) || (req.RegistrantID != "" && r.ID == req.RegistrantID) {
			reg = r
		}
	}
	refuse := func(err error) (Participant, error) {
		return Participant{}, fmt.Errorf("zoomsim: join %d: %w", id, err)
	}
	if !isHost {
		switch {
		case m.Settings.MeetingAuthentication && req.Email == "":
			return refuse(ErrSignInRequired)
		case m.Settings.ApprovalType != 2 && reg == nil:
			return refuse(ErrRegistrationNeeded)
		case reg != nil && reg.Status != "approved":
			return refuse(fmt.Errorf("%w (%s)", ErrRegistrationStatus, reg.Status))
		}
		if m.Password != "" && pwd != encryptedPassword(m.ID, m.Password) {
			switch {
			case req.Passcode == "":
				return refuse(ErrPasscodeRequired)
			case req.Passcode != m.Password:
				return refuse(ErrWrongPasscode)
			}
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	if m.Live == nil {
		s.startLocked(m, now)
	}
	lv := m.Live
	lv.Next++
	p := &participant{ID: strconv.Itoa(16778240 + lv.Next), Name: req.Name, JoinTime: now}
	if user != nil {
		p.UserID = user.ID
	} else if req.Email != "" { // a Zoom user of another account
		sum := sha256.Sum256([]byte(strings.ToLower(req.Email)))
		p.UserID = base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	if p.Name == "" {
		switch {
		case user != nil:
			p.Name = strings.TrimSpace(user.FirstName + " " + user.LastName)
		case reg != nil:
			p.Name = strings.TrimSpace(reg.FirstName + " " + reg.LastName)
		default:
			p.Name = "Guest"
		}
	}
	// Zoom's email display rules: the API shows the email only of users on
	// the host's account and of registrants (who gave it when registering).
	switch {
	case reg != nil:
		p.RegistrantID, p.UserEmail = reg.ID, reg.Email
	case user != nil && host != nil && user.AccountID == host.AccountID:
		p.UserEmail = user.Email
	}
	if m.Settings.WaitingRoom && !isHost {
		lv.Waiting[p.ID] = p
		s.saveLocked()
		return publicParticipant(p, true), nil
	}
	s.enterLocked(m, p)
	return publicParticipant(p, false), nil
}

func publicParticipant(p *participant, waiting bool) Participant {
	return Participant{ID: p.ID, UserID: p.UserID, Name: p.Name, Email: p.UserEmail,
		RegistrantID: p.RegistrantID, JoinTime: p.JoinTime, Waiting: waiting}
}

// startLocked starts a new instance of the meeting: a new UUID, an empty
// report, and meeting.started.
func (s *Server) startLocked(m *meeting, now time.Time) {
	if m.Participants != nil || m.Live != nil {
		m.UUID = newUUID()
	}
	m.Participants = nil
	m.Live = &live{UUID: m.UUID, StartedAt: now, In: map[string]*participant{}, Waiting: map[string]*participant{}}
	o := s.liveObject(m)
	o["start_time"] = now.Format(zoomTime)
	s.emitLocked(m.HostID, webhook.EventMeetingStarted, map[string]any{"account_id": s.accountOf(m.HostID), "object": o})
}

// liveObject is payload.object of meeting.started|ended and participant_*:
// there the meeting id is a string.
func (s *Server) liveObject(m *meeting) map[string]any {
	start := m.StartTime
	if m.Live != nil {
		start = m.Live.StartedAt
	}
	return map[string]any{
		"id": itoa(m.ID), "uuid": m.UUID, "host_id": m.HostID, "topic": m.Topic, "type": m.Type,
		"start_time": start.UTC().Format(zoomTime), "timezone": m.Timezone, "duration": m.Duration,
	}
}

// enterLocked puts p in the meeting, in the report, and sends participant_joined.
func (s *Server) enterLocked(m *meeting, p *participant) {
	p.JoinTime = s.now().UTC().Truncate(time.Second)
	m.Live.In[p.ID] = p
	m.Participants = append(m.Participants, *p)
	o := s.liveObject(m)
	o["participant"] = map[string]any{
		"user_id": p.ID, "user_name": p.Name, "id": p.UserID, "participant_user_id": p.UserID,
		"participant_uuid": p.ID, "join_time": p.JoinTime.Format(zoomTime), "email": p.UserEmail,
		"registrant_id": p.RegistrantID,
	}
	s.emitLocked(m.HostID, webhook.EventParticipantJoined, map[string]any{"account_id": s.accountOf(m.HostID), "object": o})
	s.saveLocked()
}

// Admit lets a participant in from the waiting room.
func (s *Server) Admit(meetingID int64, participantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Meetings[meetingID]
	if m == nil || m.Live == nil || m.Live.Waiting[participantID] == nil {
		return fmt.Errorf("zoomsim: admit %s: %w", participantID, ErrNotInMeeting)
	}
	p := m.Live.Waiting[participantID]
	delete(m.Live.Waiting, participantID)
	s.enterLocked(m, p)
	return nil
}

// Leave takes a participant out of the meeting (or its waiting room).
func (s *Server) Leave(meetingID int64, participantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Meetings[meetingID]
	if m == nil || m.Live == nil {
		return fmt.Errorf("zoomsim: leave %s: %w", participantID, ErrNotInMeeting)
	}
	if m.Live.Waiting[participantID] != nil {
		delete(m.Live.Waiting, participantID)
		s.saveLocked()
		return nil
	}
	p := m.Live.In[participantID]
	if p == nil {
		return fmt.Errorf("zoomsim: leave %s: %w", participantID, ErrNotInMeeting)
	}
	s.leaveLocked(m, p, p.Name+" left the meeting.")
	return nil
}

func (s *Server) leaveLocked(m *meeting, p *participant, reason string) {
	now := s.now().UTC().Truncate(time.Second)
	delete(m.Live.In, p.ID)
	for i := len(m.Participants) - 1; i >= 0; i-- {
		if m.Participants[i].ID == p.ID && m.Participants[i].LeaveTime.IsZero() {
			m.Participants[i].LeaveTime = now
			break
		}
	}
	o := s.liveObject(m)
	o["participant"] = map[string]any{
		"user_id": p.ID, "user_name": p.Name, "id": p.UserID, "participant_user_id": p.UserID,
		"participant_uuid": p.ID, "leave_time": now.Format(zoomTime), "leave_reason": reason,
		"email": p.UserEmail, "registrant_id": p.RegistrantID,
	}
	s.emitLocked(m.HostID, webhook.EventParticipantLeft, map[string]any{"account_id": s.accountOf(m.HostID), "object": o})
	s.saveLocked()
}

// EndMeeting ends the running meeting: everyone leaves, meeting.ended is
// sent, and the report keeps this instance's participants.
func (s *Server) EndMeeting(meetingID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Meetings[meetingID]
	if m == nil || m.Live == nil {
		return fmt.Errorf("zoomsim: end %d: the meeting is not running", meetingID)
	}
	for _, p := range m.Live.In {
		s.leaveLocked(m, p, p.Name+" left the meeting.<br>Reason: Host ended the meeting.")
	}
	o := s.liveObject(m)
	o["end_time"] = s.now().UTC().Format(zoomTime)
	m.Live = nil
	s.emitLocked(m.HostID, webhook.EventMeetingEnded, map[string]any{"account_id": s.accountOf(m.HostID), "object": o})
	s.saveLocked()
	return nil
}
