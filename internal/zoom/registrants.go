package zoom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Registrant statuses and status actions.
//
// Zoom lists a registrant as approved, pending or denied, nothing else: a
// registrant cancelled with RegistrantCancel is listed as denied.
const (
	RegistrantApproved = "approved"
	RegistrantPending  = "pending"
	RegistrantDenied   = "denied"
	RegistrantCancel   = "cancel"  // action of UpdateRegistrantStatus
	RegistrantApprove  = "approve" // action of UpdateRegistrantStatus
	// MaxBatchRegistrants is Zoom's limit per batch call and per status call.
	MaxBatchRegistrants = 30
)

// NewRegistrant is one registrant to add.
type NewRegistrant struct {
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
}

// AddedRegistrant is Zoom's answer for one added registrant.
type AddedRegistrant struct {
	Email        string `json:"email"`
	RegistrantID string `json:"registrant_id"`
	JoinURL      string `json:"join_url"` // the registrant's personal join URL
}

// Registrant is one registrant as listed.
type Registrant struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Status    string `json:"status"` // RegistrantApproved, RegistrantPending, RegistrantDenied
	JoinURL   string `json:"join_url"`
}

// RegistrantRef names a registrant in a status change: by id, by e-mail,
// or both. An empty field is not sent, so that Zoom never sees "email":"".
type RegistrantRef struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
}

func registrantsPath(meetingID int64) string { return meetingPath(meetingID) + "/registrants" }

// AddBatchRegistrants adds up to MaxBatchRegistrants registrants to a
// meeting with registration, approved at once when autoApprove, without
// Zoom's confirmation e-mail (registrants_confirmation_email false). More
// than MaxBatchRegistrants is refused before calling Zoom; none is no call.
//
// Zoom's preconditions (Meetings.json, "Perform batch registration"): the
// host is a Licensed user, and the meeting requires registration
// (approval_type 0 or 1, not 2) and is a scheduled meeting (type 2):
// instant and recurring meetings are refused (400 code 303). A meeting
// without registration is 400 code 404. auto_approve matters only for a
// meeting with manual approval (approval_type 1); with approval_type 0
// registrants are approved anyway.
//
// An e-mail already registered keeps its registrant id and join URL. Zoom
// lets the same e-mail be added to a meeting only a few times a day, and
// refuses the whole batch with a 429 beyond that: being a POST, the call
// is never retried (see request), and a caller that does not know whether
// an add went through should list the registrants before adding again.
func (cl *Client) AddBatchRegistrants(ctx context.Context, meetingID int64, rs []NewRegistrant, autoApprove bool) ([]AddedRegistrant, error) {
	if len(rs) > MaxBatchRegistrants {
		return nil, fmt.Errorf("zoom: adding %d registrants to meeting %d in one batch: at most %d", len(rs), meetingID, MaxBatchRegistrants)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	in := struct {
		AutoApprove                  bool            `json:"auto_approve"`
		RegistrantsConfirmationEmail bool            `json:"registrants_confirmation_email"`
		Registrants                  []NewRegistrant `json:"registrants"`
	}{autoApprove, false, rs}
	var out struct {
		Registrants []AddedRegistrant `json:"registrants"`
	}
	if err := cl.request(ctx, http.MethodPost, meetingPath(meetingID)+"/batch_registrants", in, &out); err != nil {
		return nil, err
	}
	return out.Registrants, nil
}

// registrantsPageSize is the largest page Zoom's List meeting registrants
// gives.
const registrantsPageSize = 300

// Registrants lists a meeting's registrants of one status
// (RegistrantApproved, …; Zoom's default, approved, when empty), following
// next_page_token through all pages (page_size 300).
func (cl *Client) Registrants(ctx context.Context, meetingID int64, status string) ([]Registrant, error) {
	return cl.registrants(ctx, meetingID, status, registrantsPageSize)
}

// registrants is Registrants with a page size, so that tests can page
// through a few registrants.
func (cl *Client) registrants(ctx context.Context, meetingID int64, status string, pageSize int) ([]Registrant, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	return allPages[Registrant](ctx, cl, fmt.Sprintf("list registrants of meeting %d", meetingID),
		registrantsPath(meetingID), q, "registrants", pageSize)
}

// UpdateRegistrantStatus applies action (RegistrantCancel, RegistrantApprove,
// …) to up to MaxBatchRegistrants registrants. More is refused before
// calling Zoom, and so is a reference with neither id nor e-mail; none is
// no call (the spec does not say what Zoom does with an action on no
// registrants, so it is never asked).
//
// Zoom answers 204 whether or not a registrant matched or could change:
// read the registrants back to know. Cancelling an approved or pending
// registrant lists it as denied. The call is a PUT, retried after a 429.
func (cl *Client) UpdateRegistrantStatus(ctx context.Context, meetingID int64, action string, rs []RegistrantRef) error {
	if len(rs) > MaxBatchRegistrants {
		return fmt.Errorf("zoom: %s of %d registrants of meeting %d in one call: at most %d", action, len(rs), meetingID, MaxBatchRegistrants)
	}
	for i, r := range rs {
		if r.ID == "" && r.Email == "" {
			return fmt.Errorf("zoom: %s of registrant %d of meeting %d: neither id nor e-mail", action, i, meetingID)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	in := struct {
		Action      string          `json:"action"`
		Registrants []RegistrantRef `json:"registrants"`
	}{action, rs}
	return cl.request(ctx, http.MethodPut, registrantsPath(meetingID)+"/status", in, nil)
}
