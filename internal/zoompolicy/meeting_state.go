package zoompolicy

import "time"

// MeetingFacts are what the organizer-visible state of a managed meeting
// follows from: its host's connection and the meeting row kaisai keeps.
type MeetingFacts struct {
	Host      ConnStatus  // the host's connection
	Want      MeetingWant // what kaisai wants of the meeting
	ZoomSide  ZoomSide    // a change seen on Zoom's side
	ErrorKind string      // why the last attempt failed; "" when it did not (ErrStarted: not created)
	ZoomID    int64       // 0 until created on Zoom
	DueAt     time.Time   // zero unless a change waits to reach Zoom
}

// MeetingStateOf is the meeting's state as shown to the organizer. The
// host's connection comes first (nothing is done for a host not linked),
// then what Zoom's side did, then the last attempt's failure, then the
// work still to do.
func MeetingStateOf(f MeetingFacts) MeetingState {
	switch {
	case f.Host == RelinkRequired:
		return MeetingRelink
	case !f.Host.Usable():
		return MeetingUnmanaged
	case f.ZoomSide == DeletedOnZoom && f.Want == WantPresent:
		return MeetingDeleted
	case f.ErrorKind == ErrStarted && f.Want == WantPresent && f.ZoomID == 0:
		return MeetingNotCreated
	case f.ErrorKind != "":
		return MeetingError
	case f.Want == WantAbsent:
		return MeetingDeleting
	case f.ZoomID == 0:
		return MeetingCreating
	case !f.DueAt.IsZero():
		return MeetingUpdating
	default:
		return MeetingCreated
	}
}

// Managed reports whether kaisai can act on a meeting whose host's
// connection has status host: only while the host is linked.
func Managed(host ConnStatus) bool { return host.Usable() }

// OnZoom reports whether the meeting is there on Zoom as kaisai wants it:
// created, not deleted on Zoom's side, not being deleted by kaisai. Only
// then is its join URL shown and may it be started.
func (f MeetingFacts) OnZoom() bool {
	return f.Want == WantPresent && f.ZoomID != 0 && f.ZoomSide != DeletedOnZoom
}

// CanStart reports whether the organizer may start the meeting from
// kaisai (開始): it is on Zoom and its host is linked.
func CanStart(f MeetingFacts) bool { return f.OnZoom() && f.Host.Usable() }

// Pending reports whether the state is work under way (作成中, 更新中,
// 削除中), which the organizer's page waits for.
func (s MeetingState) Pending() bool {
	return s == MeetingCreating || s == MeetingUpdating || s == MeetingDeleting
}
