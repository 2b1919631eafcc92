package zoompolicy

import (
	"slices"
	"time"

	"kaisai/internal/event"
)

// Meeting is what the policy needs of a meeting's settings.
type Meeting struct {
	Authentication bool // 参加時に認証を求める:Zoomにサインイン
	Registration   bool // 登録
}

// Of is the policy view of a group's Zoom settings.
func Of(z *event.ZoomSettings) Meeting {
	if z == nil {
		return Meeting{}
	}
	return Meeting{Authentication: z.Authentication, Registration: z.Registration}
}

// Registers reports whether group g puts its applicants on a Zoom
// registrant list: a Zoom group with 登録. Only then do they have a
// registrant (state and personal join URL) to read or show.
func Registers(g *event.ScheduleGroup) bool {
	return g.Venue == event.VenueZoom && Of(g.Zoom).Registration
}

// Registrant reports whether the application belongs on the meeting's Zoom
// registrant list: only with 登録, and only once eligible — free: 申込済;
// paid: 申込済 and 入金済. キャンセル待ち, キャンセル and 未入金 never are.
func Registrant(m Meeting, e *event.Event, a *event.Application) bool {
	return m.Registration && a.Eligible(e)
}

// Access is which join URL a participant may see.
type Access int

const (
	// NoURL: not eligible (yet): no join URL at all.
	NoURL Access = iota
	// MeetingURL: the meeting's join URL, with its passcode.
	MeetingURL
	// PersonalURL: the participant's own registrant join URL.
	PersonalURL
	// PendingURL: eligible for a meeting with 登録, but not registered on
	// Zoom yet: the meeting's URL would lead to Zoom's own registration
	// (which needs the host's approval), so the personal one is awaited.
	PendingURL
)

// JoinAccess is the join URL an application's participant may see, given
// whether kaisai has registered them on Zoom (registered: a registrant join
// URL is known). With 登録 the personal URL (awaited until registered),
// else the meeting's; nothing before the application is eligible.
func JoinAccess(m Meeting, e *event.Event, a *event.Application, registered bool) Access {
	switch {
	case !a.Eligible(e):
		return NoURL
	case m.Registration && registered:
		return PersonalURL
	case m.Registration:
		return PendingURL
	default:
		return MeetingURL
	}
}

// Join is the join URL a participant of a Zoom group sees (DESIGN.md §3).
type Join struct {
	Access Access
	// URL is the personal join URL (PersonalURL) or the meeting's, with its
	// passcode (MeetingURL; "" while the meeting is not made on Zoom yet).
	URL string
	// Passcode says the meeting's URL carries the meeting's passcode.
	Passcode bool
}

// JoinFor is which join URL the participant of application a, in Zoom group
// g of event e, sees on their page and in kaisai's mails. personalURL is
// their registrant join URL, "" while kaisai has not registered them.
func JoinFor(g *event.ScheduleGroup, e *event.Event, a *event.Application, personalURL string) Join {
	switch JoinAccess(Of(g.Zoom), e, a, personalURL != "") {
	case PersonalURL:
		return Join{Access: PersonalURL, URL: personalURL}
	case PendingURL:
		return Join{Access: PendingURL}
	case MeetingURL:
		return Join{Access: MeetingURL, URL: g.OnlineURL, Passcode: g.Zoom != nil && g.Zoom.Passcode != ""}
	default:
		return Join{Access: NoURL}
	}
}

// ParticipantURL is the URL the participant of application a may join
// group g's 日程 with, or "" where they may not (yet): the one rule behind
// the join URL of the application page, the mails and the calendar entries
// (DESIGN.md §3, §9). A Zoom group gives JoinFor's URL (personal where
// registered, else the meeting's); a group with a manual 開催URL gives it
// once the application is eligible (free: 申込済; paid: 入金済); a 会場 group
// has none. Never the host's start URL.
func ParticipantURL(g *event.ScheduleGroup, e *event.Event, a *event.Application, personalURL string) string {
	switch {
	case g.Venue == event.VenueZoom:
		switch j := JoinFor(g, e, a, personalURL); j.Access {
		case PersonalURL, MeetingURL:
			return j.URL
		}
		return ""
	case g.Venue.Online() && a.Eligible(e):
		return g.OnlineURL
	default:
		return ""
	}
}

// SignInRequired reports whether joining the meeting needs the participant
// signed in to Zoom with the e-mail they applied with (認証 ON, with or
// without 登録): Zoom lets nobody else in (with 登録) or checks them in by
// that e-mail alone (without). Participants are told so wherever the join
// URL or the meeting is shown: the public page, the application page and
// the mails that carry the URL.
func SignInRequired(m Meeting) bool { return m.Authentication }

// Match is how a participant's join is matched to an application for 自動受付.
type Match int

const (
	// ManualOnly: no automatic check-in (認証 OFF, 登録 OFF: anyone with the URL).
	ManualOnly Match = iota
	// ByRegistrantID: the join's registrant id (登録 ON, 認証 OFF).
	ByRegistrantID
	// ByRegistrantIDOrEmail: the registrant id, else the signed-in e-mail
	// (認証 ON, 登録 ON).
	ByRegistrantIDOrEmail
	// ByEmail: the signed-in e-mail equal to the application's (認証 ON,
	// 登録 OFF); Zoom shows it only for participants on the host's account,
	// so other joins are left for manual 受付.
	ByEmail
)

// CheckInMatch is how joins to the meeting are matched.
func CheckInMatch(m Meeting) Match {
	switch {
	case m.Registration && m.Authentication:
		return ByRegistrantIDOrEmail
	case m.Registration:
		return ByRegistrantID
	case m.Authentication:
		return ByEmail
	default:
		return ManualOnly
	}
}

// Participant is what a join tells of who joined: the registrant id of a
// personal join link, and the e-mail Zoom shows (signed in, or given at
// registration). The name is never matched on: names are not unique, and a
// guest may type any.
type Participant struct {
	RegistrantID, Email, Name string
}

// Candidates are the applications of the meeting's schedule a join may be
// matched to: by the registrant id kaisai registered them under, and by
// their e-mail as event.NormalizeEmail gives it. A caller may hold only the
// entries for the keys JoinKeys names.
type Candidates struct {
	ByRegistrant, ByEmail map[string]int64
}

// MatchedBy is what a join was matched to its application by, as an
// attendance row records it (zoom_attendance.matched_by).
type MatchedBy string

const (
	Unmatched           MatchedBy = ""           // left for manual 受付
	MatchedByRegistrant MatchedBy = "registrant" // the join's registrant id
	MatchedByEmail      MatchedBy = "email"      // the signed-in e-mail
	MatchedByHand       MatchedBy = "manual"     // an organizer matched it by hand
)

// MatchedBys are the valid values.
func MatchedBys() []MatchedBy {
	return []MatchedBy{Unmatched, MatchedByRegistrant, MatchedByEmail, MatchedByHand}
}

// Valid reports whether b is one of MatchedBys.
func (b MatchedBy) Valid() bool { return slices.Contains(MatchedBys(), b) }

// JoinKeys are the keys a join is matched by under the meeting's policy:
// the registrant id with 登録, the e-mail with 認証, "" for a key not
// consulted (or not given).
func JoinKeys(m Meeting, p Participant) (registrantID, email string) {
	how := CheckInMatch(m)
	if how == ByRegistrantID || how == ByRegistrantIDOrEmail {
		registrantID = p.RegistrantID
	}
	if (how == ByEmail || how == ByRegistrantIDOrEmail) && p.Email != "" {
		email = event.NormalizeEmail(p.Email)
	}
	return registrantID, email
}

// MatchJoin is the application a join is checked in to for 自動受付, and
// what matched it: the registrant id first, else the e-mail, compared
// without case and surrounding space; each only as CheckInMatch allows.
// ok is false for a join left to manual 受付.
func MatchJoin(m Meeting, p Participant, c Candidates) (applicationID int64, by MatchedBy, ok bool) {
	registrantID, email := JoinKeys(m, p)
	if id := c.ByRegistrant[registrantID]; registrantID != "" && id != 0 {
		return id, MatchedByRegistrant, true
	}
	if id := c.ByEmail[email]; email != "" && id != 0 {
		return id, MatchedByEmail, true
	}
	return 0, Unmatched, false
}

// MayCreate reports whether kaisai may create a Zoom meeting for the
// schedule at now: only before it starts. A meeting made for a date
// already begun (or long gone) reaches nobody in time, and Zoom would list
// it among the host's upcoming meetings; the schedule is shown without a
// meeting instead. 再作成 makes a meeting too, and is refused the same way.
func MayCreate(sc *event.Schedule, now time.Time) bool { return !sc.Started(now) }

// StartTime is the start time kaisai sends to Zoom for the schedule's
// meeting at now: the schedule's own while it lies ahead. Once it has
// begun nothing is sent (ok false): an update leaves the start Zoom holds
// as it is, so a meeting under way is never moved into the past.
func StartTime(sc *event.Schedule, now time.Time) (start time.Time, ok bool) {
	if sc.Started(now) {
		return time.Time{}, false
	}
	return sc.StartsAt, true
}
