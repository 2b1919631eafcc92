package zoompolicy

import "slices"

// The states kaisai keeps of its Zoom side (DESIGN.md §3, §4, §6): of a
// linked Zoom user, of a managed meeting, of a registrant, of a webhook
// delivery and of an attendance row. The store writes them as these strings;
// each type lists its values (ConnStatuses, …) so a value read or parsed can
// be checked, and a test of the store checks the literals of its SQL.

// ConnStatus is the status of a linked Zoom user (zoom_connections.status).
type ConnStatus string

const (
	Linked         ConnStatus = "linked"          // 連携中
	RelinkRequired ConnStatus = "relink_required" // 要再連携: Zoom refused the refresh, or ended the grant
	Unlinked       ConnStatus = "unlinked"        // 解除済: unlinked from kaisai or from Zoom
)

// ConnStatuses are the valid connection statuses.
func ConnStatuses() []ConnStatus { return []ConnStatus{Linked, RelinkRequired, Unlinked} }

// Valid reports whether s is one of ConnStatuses.
func (s ConnStatus) Valid() bool { return slices.Contains(ConnStatuses(), s) }

// Usable reports whether kaisai may call Zoom with the connection's tokens:
// only while linked. Its meetings are managed, its registrant lists synced.
func (s ConnStatus) Usable() bool { return s == Linked }

// RelinkReason is why a connection is 要再連携 (zoom_connections.relink_reason).
type RelinkReason string

const (
	RelinkRefused         RelinkReason = ""                 // Zoom refused the refresh token
	RelinkLinkedElsewhere RelinkReason = "linked_elsewhere" // another organization linked the same Zoom user
)

// RelinkReasons are the valid reasons.
func RelinkReasons() []RelinkReason { return []RelinkReason{RelinkRefused, RelinkLinkedElsewhere} }

// Valid reports whether r is one of RelinkReasons.
func (r RelinkReason) Valid() bool { return slices.Contains(RelinkReasons(), r) }

// MeetingWant is what kaisai wants of a managed meeting (zoom_meetings.want).
type MeetingWant string

const (
	WantPresent MeetingWant = "present" // the schedule's meeting: to create or keep up to date
	WantAbsent  MeetingWant = "absent"  // to delete on Zoom
)

// MeetingWants are the valid wants.
func MeetingWants() []MeetingWant { return []MeetingWant{WantPresent, WantAbsent} }

// Valid reports whether w is one of MeetingWants.
func (w MeetingWant) Valid() bool { return slices.Contains(MeetingWants(), w) }

// ZoomSide is a change made to a meeting on Zoom's side, not by kaisai
// (zoom_meetings.zoom_state).
type ZoomSide string

const (
	UnchangedOnZoom ZoomSide = ""        // none seen
	DeletedOnZoom   ZoomSide = "deleted" // the meeting was deleted on Zoom
	ChangedOnZoom   ZoomSide = "changed" // its settings were changed on Zoom (ZoomMeeting.ZoomChanges)
)

// ZoomSides are the valid values.
func ZoomSides() []ZoomSide { return []ZoomSide{UnchangedOnZoom, DeletedOnZoom, ChangedOnZoom} }

// Valid reports whether z is one of ZoomSides.
func (z ZoomSide) Valid() bool { return slices.Contains(ZoomSides(), z) }

// ErrStarted is the failure kind (zoom_meetings.error_kind) of a meeting the
// sync did not create because its schedule had begun (MayCreate): shown as
// MeetingNotCreated, not as an error. Other kinds are message key suffixes
// of Zoom's failures.
const ErrStarted = "started"

// MeetingState is a managed meeting's state as the organizer sees it
// (MeetingStateOf).
type MeetingState string

const (
	MeetingCreating  MeetingState = "creating"  // 作成中
	MeetingCreated   MeetingState = "created"   // 作成済
	MeetingUpdating  MeetingState = "updating"  // 更新中
	MeetingDeleting  MeetingState = "deleting"  // 削除中
	MeetingError     MeetingState = "error"     // エラー
	MeetingDeleted   MeetingState = "deleted"   // Zoomで削除済み
	MeetingUnmanaged MeetingState = "unmanaged" // 管理対象外 (連携解除)
	MeetingRelink    MeetingState = "relink"    // 要再連携: Zoom refused the host's tokens
	// MeetingNotCreated (作成しません): the schedule had begun before the
	// meeting was made, so none is.
	MeetingNotCreated MeetingState = "not_created"
)

// MeetingStates are the valid states.
func MeetingStates() []MeetingState {
	return []MeetingState{MeetingCreating, MeetingCreated, MeetingUpdating, MeetingDeleting, MeetingError,
		MeetingDeleted, MeetingUnmanaged, MeetingRelink, MeetingNotCreated}
}

// Valid reports whether s is one of MeetingStates.
func (s MeetingState) Valid() bool { return slices.Contains(MeetingStates(), s) }

// RegistrantStatus is kaisai's record of a registrant it put on a meeting's
// list (zoom_registrants.status).
type RegistrantStatus string

const (
	RegistrantAdding     RegistrantStatus = "adding"     // sent to Zoom; the answer is not known yet
	RegistrantRegistered RegistrantStatus = "registered" // on Zoom's list, approved
	RegistrantCancelled  RegistrantStatus = "cancelled"  // cancelled on Zoom (kept for the history)
	RegistrantFailed     RegistrantStatus = "failed"     // Zoom refused the add; retried with the list
)

// RegistrantStatuses are the valid statuses.
func RegistrantStatuses() []RegistrantStatus {
	return []RegistrantStatus{RegistrantAdding, RegistrantRegistered, RegistrantCancelled, RegistrantFailed}
}

// Valid reports whether s is one of RegistrantStatuses.
func (s RegistrantStatus) Valid() bool { return slices.Contains(RegistrantStatuses(), s) }

// OnZoomList reports whether the registrant is on Zoom's list, approved:
// only then is its personal join URL known and shown.
func (s RegistrantStatus) OnZoomList() bool { return s == RegistrantRegistered }

// Answered reports whether Zoom has answered kaisai's add: registered, or
// refused (failed). A mail that carries the personal join URL waits for it.
func (s RegistrantStatus) Answered() bool { return s == RegistrantRegistered || s == RegistrantFailed }

// Live reports whether the row still stands for someone on (or being put
// on) Zoom's list: every status but cancelled.
func (s RegistrantStatus) Live() bool { return s != RegistrantCancelled }

// WebhookStatus is the processing state of a stored Zoom webhook delivery
// (zoom_webhook_events.status).
type WebhookStatus string

const (
	WebhookPending   WebhookStatus = "pending"   // waiting to be processed (or for its next attempt)
	WebhookProcessed WebhookStatus = "processed" // a handler took it
	WebhookIgnored   WebhookStatus = "ignored"   // no handler for its event: kept, not acted on
	WebhookFailed    WebhookStatus = "failed"    // its handler failed on the last attempt
)

// WebhookStatuses are the valid statuses.
func WebhookStatuses() []WebhookStatus {
	return []WebhookStatus{WebhookPending, WebhookProcessed, WebhookIgnored, WebhookFailed}
}

// Valid reports whether s is one of WebhookStatuses.
func (s WebhookStatus) Valid() bool { return slices.Contains(WebhookStatuses(), s) }

// Done reports whether the delivery is finished with: processed, or
// ignored for want of a handler.
func (s WebhookStatus) Done() bool { return s == WebhookProcessed || s == WebhookIgnored }
