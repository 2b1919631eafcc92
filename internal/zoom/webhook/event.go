package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event names kaisai subscribes to (and the challenge, which is not a subscription).
const (
	EventURLValidation         = "endpoint.url_validation"
	EventMeetingCreated        = "meeting.created"
	EventMeetingUpdated        = "meeting.updated"
	EventMeetingDeleted        = "meeting.deleted"
	EventMeetingStarted        = "meeting.started"
	EventMeetingEnded          = "meeting.ended"
	EventParticipantJoined     = "meeting.participant_joined"
	EventParticipantLeft       = "meeting.participant_left"
	EventRegistrationCreated   = "meeting.registration_created"
	EventRegistrationCancelled = "meeting.registration_cancelled"
	EventAppDeauthorized       = "app_deauthorized"
)

// Parse and payload decoding failures.
var (
	ErrMalformedEvent = errors.New("zoom webhook: malformed event")
	// ErrWrongEvent: a payload accessor was called on an event of another kind.
	ErrWrongEvent = errors.New("zoom webhook: payload asked of the wrong event")
)

// Event is the envelope of every delivery. Payload stays raw so that an event kaisai does
// not know can be stored as received; the accessors below decode the ones it does.
type Event struct {
	Event string `json:"event"`
	// EventTS is when the event happened, in Unix milliseconds. app_deauthorized has none
	// at the top level (Marketplace.json puts an event_ts inside its payload), so 0 is valid.
	EventTS int64           `json:"event_ts"`
	Payload json.RawMessage `json:"payload"`
}

// Time is EventTS as a time, or the zero time when Zoom sent none.
func (e Event) Time() time.Time {
	if e.EventTS == 0 {
		return time.Time{}
	}
	return time.UnixMilli(e.EventTS).UTC()
}

// Parse decodes a delivery's envelope. It refuses anything but one JSON object with a
// non-empty event name; it does not look into the payload.
func Parse(body []byte) (Event, error) {
	var e Event
	// Unmarshal refuses trailing data, non-objects and wrong field types; null decodes to
	// an empty envelope and is refused for its missing name below.
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	if strings.TrimSpace(e.Event) == "" {
		return Event{}, fmt.Errorf("%w: no event name", ErrMalformedEvent)
	}
	return e, nil
}

// decode unmarshals the payload into dst after checking e is one of kinds.
func (e Event) decode(dst any, kinds ...string) error {
	ok := false
	for _, k := range kinds {
		ok = ok || e.Event == k
	}
	if !ok {
		return fmt.Errorf("%w: %q", ErrWrongEvent, e.Event)
	}
	p := bytes.TrimSpace(e.Payload)
	if len(p) == 0 || p[0] != '{' {
		return fmt.Errorf("%w: %s payload is not an object", ErrMalformedEvent, e.Event)
	}
	if err := json.Unmarshal(p, dst); err != nil {
		return fmt.Errorf("%w: %s payload: %v", ErrMalformedEvent, e.Event, err)
	}
	return nil
}

// URLValidationPayload is the payload of endpoint.url_validation.
type URLValidationPayload struct {
	PlainToken string `json:"plainToken"`
}

// URLValidation decodes an endpoint.url_validation payload.
func (e Event) URLValidation() (URLValidationPayload, error) {
	var p URLValidationPayload
	if err := e.decode(&p, EventURLValidation); err != nil {
		return p, err
	}
	if p.PlainToken == "" {
		return p, fmt.Errorf("%w: no plainToken", ErrMalformedEvent)
	}
	return p, nil
}

// MeetingPayload is the payload of meeting.created, updated, deleted, started and ended.
type MeetingPayload struct {
	AccountID  string  `json:"account_id"`
	Operator   string  `json:"operator,omitempty"`    // e-mail of who made the change
	OperatorID string  `json:"operator_id,omitempty"` // their Zoom user id
	Operation  string  `json:"operation,omitempty"`   // "single" or "all" (occurrences)
	Object     Meeting `json:"object"`
	// OldObject (meeting.updated) holds only the fields that changed, with their old values.
	OldObject json.RawMessage `json:"old_object,omitempty"`
	// TimeStamp (meeting.updated): when the change was made, Unix milliseconds.
	TimeStamp int64 `json:"time_stamp,omitempty"`
}

// Meeting is the payload.object common to the meeting events. In meeting.updated only id
// is guaranteed; the rest are the changed fields' new values.
type Meeting struct {
	ID        MeetingID `json:"id"`
	UUID      string    `json:"uuid,omitempty"` // one meeting instance; changes per occurrence
	HostID    string    `json:"host_id,omitempty"`
	Topic     string    `json:"topic,omitempty"`
	Type      int       `json:"type,omitempty"`
	StartTime Time      `json:"start_time,omitzero"`
	EndTime   Time      `json:"end_time,omitzero"` // meeting.ended
	Duration  int       `json:"duration,omitempty"`
	Timezone  string    `json:"timezone,omitempty"`
	JoinURL   string    `json:"join_url,omitempty"`
	Password  string    `json:"password,omitempty"`
	Agenda    string    `json:"agenda,omitempty"`

	RegistrationURL string       `json:"registration_url,omitempty"`
	Occurrences     []Occurrence `json:"occurrences,omitempty"`
	// Settings and Recurrence vary by event and are large; kept raw.
	Settings   json.RawMessage `json:"settings,omitempty"`
	Recurrence json.RawMessage `json:"recurrence,omitempty"`
}

// Occurrence is one occurrence of a recurring meeting with a fixed time (type 8).
type Occurrence struct {
	OccurrenceID string `json:"occurrence_id"`
	StartTime    Time   `json:"start_time,omitzero"`
	Duration     int    `json:"duration,omitempty"`
	Status       string `json:"status,omitempty"` // "available" or "deleted"
}

// Meeting decodes the payload of a meeting.created|updated|deleted|started|ended event.
func (e Event) Meeting() (MeetingPayload, error) {
	var p MeetingPayload
	err := e.decode(&p, EventMeetingCreated, EventMeetingUpdated, EventMeetingDeleted,
		EventMeetingStarted, EventMeetingEnded)
	return p, err
}

// ParticipantPayload is the payload of meeting.participant_joined and _left.
type ParticipantPayload struct {
	AccountID string                 `json:"account_id"`
	Object    MeetingWithParticipant `json:"object"`
}

// MeetingWithParticipant is the meeting object of a participant event.
type MeetingWithParticipant struct {
	Meeting
	Participant Participant `json:"participant"`
}

// Participant is who joined or left. Email is empty for guests and, with exceptions, for
// users outside the host's account; RegistrantID is set when they joined through a
// registrant's link, which makes it the reliable key for check-in.
type Participant struct {
	// UserID is the participant's id within this meeting instance only.
	UserID   string `json:"user_id"`
	UserName string `json:"user_name,omitempty"`
	// ID is deprecated by Zoom in favour of ParticipantUserID; both are the Zoom user id
	// of a signed-in participant and empty otherwise.
	ID                string `json:"id,omitempty"`
	ParticipantUserID string `json:"participant_user_id,omitempty"`
	// ParticipantUUID identifies the participant for this meeting and its breakout rooms.
	ParticipantUUID string `json:"participant_uuid,omitempty"`
	Email           string `json:"email"`
	RegistrantID    string `json:"registrant_id,omitempty"`
	CustomerKey     string `json:"customer_key,omitempty"`
	PhoneNumber     string `json:"phone_number,omitempty"`
	JoinTime        Time   `json:"join_time,omitzero"`  // participant_joined
	LeaveTime       Time   `json:"leave_time,omitzero"` // participant_left
	LeaveReason     string `json:"leave_reason,omitempty"`
	// DateTime is not in Zoom's schema, yet Zoom's own participant_joined example carries
	// it instead of the required join_time; kept so JoinedAt can fall back to it.
	DateTime Time `json:"date_time,omitzero"`
}

// JoinedAt is when the participant joined: join_time, or date_time when Zoom sent only that.
func (p Participant) JoinedAt() time.Time {
	if !p.JoinTime.IsZero() {
		return p.JoinTime.Time
	}
	return p.DateTime.Time
}

// Participant decodes the payload of a meeting.participant_joined or _left event.
func (e Event) Participant() (ParticipantPayload, error) {
	var p ParticipantPayload
	err := e.decode(&p, EventParticipantJoined, EventParticipantLeft)
	return p, err
}

// RegistrationPayload is the payload of meeting.registration_created and _cancelled.
type RegistrationPayload struct {
	AccountID  string                `json:"account_id"`
	Operator   string                `json:"operator,omitempty"` // registration_cancelled
	OperatorID string                `json:"operator_id,omitempty"`
	Object     MeetingWithRegistrant `json:"object"`
}

// MeetingWithRegistrant is the meeting object of a registration event.
type MeetingWithRegistrant struct {
	Meeting
	Registrant Registrant `json:"registrant"`
}

// Registrant is the registrant a registration event is about. registration_cancelled
// carries only id, names and email.
type Registrant struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email"`
	Status    string `json:"status,omitempty"` // "approved" or "pending"
	JoinURL   string `json:"join_url,omitempty"`

	ParticipantPinCode int64 `json:"participant_pin_code,omitempty"`

	Address               string           `json:"address,omitempty"`
	City                  string           `json:"city,omitempty"`
	Country               string           `json:"country,omitempty"`
	Zip                   string           `json:"zip,omitempty"`
	State                 string           `json:"state,omitempty"`
	Phone                 string           `json:"phone,omitempty"`
	Industry              string           `json:"industry,omitempty"`
	Org                   string           `json:"org,omitempty"`
	JobTitle              string           `json:"job_title,omitempty"`
	PurchasingTimeFrame   string           `json:"purchasing_time_frame,omitempty"`
	RoleInPurchaseProcess string           `json:"role_in_purchase_process,omitempty"`
	NoOfEmployees         string           `json:"no_of_employees,omitempty"`
	Comments              string           `json:"comments,omitempty"`
	CustomQuestions       []CustomQuestion `json:"custom_questions,omitempty"`
}

// CustomQuestion is a registrant's answer to a custom registration question.
type CustomQuestion struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Registration decodes the payload of a meeting.registration_created or _cancelled event.
func (e Event) Registration() (RegistrationPayload, error) {
	var p RegistrationPayload
	err := e.decode(&p, EventRegistrationCreated, EventRegistrationCancelled)
	return p, err
}

// DeauthorizationPayload is the payload of app_deauthorized: the user removed the app.
type DeauthorizationPayload struct {
	AccountID           string `json:"account_id"`
	UserID              string `json:"user_id"`
	ClientID            string `json:"client_id"`
	DeauthorizationTime Time   `json:"deauthorization_time,omitzero"`
	// Signature is, per Marketplace.json, a unique id of this deauthorization, not a
	// signature to check; the delivery is verified by x-zm-signature like any other.
	Signature string `json:"signature,omitempty"`
	// EventTS is a number in the schema but "2024-09-08 15:58:40" in Zoom's example: raw.
	EventTS json.RawMessage `json:"event_ts,omitempty"`
}

// Deauthorization decodes the payload of an app_deauthorized event.
func (e Event) Deauthorization() (DeauthorizationPayload, error) {
	var p DeauthorizationPayload
	if err := e.decode(&p, EventAppDeauthorized); err != nil {
		return p, err
	}
	if p.UserID == "" && p.AccountID == "" {
		return p, fmt.Errorf("%w: app_deauthorized names no user or account", ErrMalformedEvent)
	}
	return p, nil
}

// MeetingID is Zoom's numeric meeting id. Zoom's webhooks send it as a JSON number in
// meeting.created|updated|deleted and registration_*, and as a string in meeting.started,
// ended and participant_* (webhooks/Meetings.json); both decode here. An empty string or
// null is 0 (participant_joined does not require id). It always encodes as a number.
type MeetingID int64

// UnmarshalJSON accepts 1234567890 or "1234567890".
func (id *MeetingID) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*id = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("meeting id %.40q is not a non-negative integer", s)
	}
	*id = MeetingID(n)
	return nil
}

// String formats the id as Zoom's API paths want it.
func (id MeetingID) String() string { return strconv.FormatInt(int64(id), 10) }

// Time is a time from a webhook payload. Zoom writes RFC 3339 in UTC
// ("2021-07-13T21:44:51Z", "2020-06-17T13:52:28.632Z"); the participant schemas also allow
// an empty or blank string, which is the zero time. A zone-less "2006-01-02 15:04:05" or
// "2006-01-02T15:04:05" is taken as UTC. It encodes as RFC 3339 in UTC.
type Time struct{ time.Time }

var zonelessLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// UnmarshalJSON parses the layouts above; anything else non-empty is an error.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = v.UTC()
		return nil
	}
	for _, layout := range zonelessLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("time %.40q is not RFC 3339", s)
}

// MarshalJSON writes RFC 3339 in UTC, or "" for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}
