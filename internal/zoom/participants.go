package zoom

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PastParticipant is one participant session in a past meeting's report:
// Zoom assigns a new UserID on every join, so a participant who left and
// came back has one entry per stay.
type PastParticipant struct {
	ID           string    `json:"id"`      // the Zoom user's id; empty for guests
	UserID       string    `json:"user_id"` // the in-meeting participant id, as in webhooks
	Name         string    `json:"name"`
	UserEmail    string    `json:"user_email"` // empty unless Zoom's e-mail display rules allow
	RegistrantID string    `json:"registrant_id"`
	JoinTime     time.Time `json:"join_time"`
	LeaveTime    time.Time `json:"leave_time"`
	Duration     int       `json:"duration"` // seconds
	Status       string    `json:"status"`   // in_meeting, in_waiting_room
}

// PastParticipantsPageSize is the largest page of Get past meeting
// participants.
const PastParticipantsPageSize = 300

// PastParticipants reads the participants report of one meeting instance,
// named by its UUID (as in meeting.ended), following next_page_token
// through every page.
func (cl *Client) PastParticipants(ctx context.Context, instanceUUID string) ([]PastParticipant, error) {
	return cl.pastParticipants(ctx, instanceUUID, PastParticipantsPageSize)
}

func (cl *Client) pastParticipants(ctx context.Context, instanceUUID string, pageSize int) ([]PastParticipant, error) {
	return allPages[PastParticipant](ctx, cl, fmt.Sprintf("past participants of %q", instanceUUID),
		"/past_meetings/"+instancePathSegment(instanceUUID)+"/participants", nil, "participants", pageSize)
}

// instancePathSegment is a meeting UUID as a path segment: Zoom wants a
// UUID that begins with "/" or contains "//" encoded twice.
func instancePathSegment(uuid string) string {
	s := seg(uuid)
	if strings.HasPrefix(uuid, "/") || strings.Contains(uuid, "//") {
		s = seg(s)
	}
	return s
}
