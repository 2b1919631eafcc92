package zoom

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// MeetingSettings are the settings kaisai sets on a meeting. In a request a nil field is not sent.
type MeetingSettings struct {
	HostVideo                    *bool `json:"host_video,omitempty"`
	ParticipantVideo             *bool `json:"participant_video,omitempty"`
	JoinBeforeHost               *bool `json:"join_before_host,omitempty"`
	MuteUponEntry                *bool `json:"mute_upon_entry,omitempty"`
	WaitingRoom                  *bool `json:"waiting_room,omitempty"`
	MeetingAuthentication        *bool `json:"meeting_authentication,omitempty"`
	ApprovalType                 *int  `json:"approval_type,omitempty"` // 0 automatic, 1 manual, 2 no registration
	RegistrantsEmailNotification *bool `json:"registrants_email_notification,omitempty"`
	RegistrantsConfirmationEmail *bool `json:"registrants_confirmation_email,omitempty"`
}

// MeetingRequest is the body of POST /users/{userId}/meetings and PATCH /meetings/{meetingId}: only non-nil fields are sent (a PATCH changes only those).
type MeetingRequest struct {
	Topic           *string          `json:"topic,omitempty"`
	Type            *int             `json:"type,omitempty"`
	StartTime       *string          `json:"start_time,omitempty"` // UTC, "2006-01-02T15:04:05Z"
	Duration        *int             `json:"duration,omitempty"`   // minutes
	Timezone        *string          `json:"timezone,omitempty"`
	Agenda          *string          `json:"agenda,omitempty"`
	Password        *string          `json:"password,omitempty"`
	DefaultPassword *bool            `json:"default_password,omitempty"`
	Settings        *MeetingSettings `json:"settings,omitempty"`
}

// Meeting is Zoom's meeting object as kaisai reads it (create, get and list answers).
//
// A list answer carries fewer fields than a get: no password, start_url,
// registration_url nor settings (they are zero), and an agenda cut to 250
// characters.
type Meeting struct {
	ID              int64           `json:"id"`
	UUID            string          `json:"uuid"`
	HostID          string          `json:"host_id"`
	Topic           string          `json:"topic"`
	Type            int             `json:"type"`
	StartTime       string          `json:"start_time"`
	Duration        int             `json:"duration"`
	Timezone        string          `json:"timezone"`
	Agenda          string          `json:"agenda"`
	Password        string          `json:"password"`
	JoinURL         string          `json:"join_url"`
	StartURL        string          `json:"start_url"`
	RegistrationURL string          `json:"registration_url"`
	CreatedAt       string          `json:"created_at"`
	Settings        MeetingSettings `json:"settings"`
}

// MeetingScheduled is Zoom's type 2, a scheduled meeting.
const MeetingScheduled = 2

const zoomTimeLayout = "2006-01-02T15:04:05Z"

// ZoomTime formats t as Zoom's UTC start_time.
func ZoomTime(t time.Time) string { return t.UTC().Format(zoomTimeLayout) }

func meetingPath(meetingID int64) string {
	return "/meetings/" + strconv.FormatInt(meetingID, 10)
}

// CreateMeeting creates a meeting hosted by userID ("me" for the token's
// user). It is a POST, so it is never retried after a 429 (see request):
// a retry could create the meeting twice.
func (cl *Client) CreateMeeting(ctx context.Context, userID string, req *MeetingRequest) (*Meeting, error) {
	var m Meeting
	if err := cl.request(ctx, http.MethodPost, "/users/"+seg(userID)+"/meetings", req, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Meeting reads a meeting; a deleted one is IsNotFound (404, code 3001).
func (cl *Client) Meeting(ctx context.Context, meetingID int64) (*Meeting, error) {
	var m Meeting
	if err := cl.request(ctx, http.MethodGet, meetingPath(meetingID), nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// UpdateMeeting changes the fields of req that are not nil. Zoom answers
// nothing: read the meeting back for its join URL and passcode.
func (cl *Client) UpdateMeeting(ctx context.Context, meetingID int64, req *MeetingRequest) error {
	return cl.request(ctx, http.MethodPatch, meetingPath(meetingID), req, nil)
}

// DeleteMeeting deletes a meeting without Zoom's cancellation e-mails to
// the host (schedule_for_reminder) or the registrants
// (cancel_meeting_reminder): kaisai tells its applicants itself.
func (cl *Client) DeleteMeeting(ctx context.Context, meetingID int64) error {
	q := url.Values{"schedule_for_reminder": {"false"}, "cancel_meeting_reminder": {"false"}}
	return cl.request(ctx, http.MethodDelete, meetingPath(meetingID)+"?"+q.Encode(), nil, nil)
}

// listPageSize is the largest page Zoom's List meetings gives.
const listPageSize = 300

// ListMeetings returns every scheduled and upcoming meeting of the user, following next_page_token through all pages (page_size 300).
//
// It asks for type=scheduled: the user's live and upcoming meetings plus
// past ones not yet expired. type=upcoming would leave out the past ones,
// but Zoom gives it only six months of meetings, so an event scheduled
// further ahead would silently be missing; a caller that wants only the
// meetings that have not ended filters on start_time and duration.
// Instant meetings are never listed, and a listed meeting has no
// password or settings (see Meeting).
func (cl *Client) ListMeetings(ctx context.Context, userID string) ([]Meeting, error) {
	return cl.listMeetings(ctx, userID, listPageSize)
}

// listMeetings is ListMeetings with a page size, so that tests can page
// through a few meetings.
func (cl *Client) listMeetings(ctx context.Context, userID string, pageSize int) ([]Meeting, error) {
	return allPages[Meeting](ctx, cl, "list meetings of "+userID, "/users/"+seg(userID)+"/meetings",
		url.Values{"type": {"scheduled"}}, "meetings", pageSize)
}
