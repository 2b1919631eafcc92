package event

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Zoom's bounds on what a meeting may hold.
const (
	MaxZoomPasscodeLen = 10   // Zoom's longest passcode
	MaxZoomAgendaLen   = 2000 // Zoom's longest agenda
	MaxZoomTopicLen    = 200  // Zoom's longest topic
	MaxZoomMinutes     = 1440 // Zoom's longest meeting duration
)

// ZoomSettings are a Zoom group's meeting settings (DESIGN.md §2), the same
// for every meeting of the group: one per schedule.
type ZoomSettings struct {
	ConnID           int64  // ホスト: the linked Zoom user (zoom_connections.id) who owns the meetings
	Passcode         string // セキュリティ・パスコード; "" for none
	WaitingRoom      bool   // セキュリティ・待機室
	Authentication   bool   // 参加時に認証を求める:Zoomにサインイン
	Registration     bool   // 登録: kaisai pushes applicants as registrants
	HostVideo        bool   // ビデオ (ホスト)
	ParticipantVideo bool   // ビデオ (参加者)
	MuteUponEntry    bool   // オプション: 入室時にミュート
	RegistrantEmails bool   // Zoom's own registrant e-mails (kaisai sends its own; off by default)
	Agenda           string // the meetings' agenda (optional)
}

// Normalize trims what people type.
func (z *ZoomSettings) Normalize() {
	z.Passcode = strings.TrimSpace(z.Passcode)
	z.Agenda = strings.TrimSpace(NormalizeNewlines(z.Agenda))
	if !z.Registration {
		z.RegistrantEmails = false
	}
}

// validate checks the settings as far as they can be checked without asking
// Zoom (the host's passcode policy is checked by who can ask).
func (z *ZoomSettings) validate(fe *FieldErrors) {
	if z.ConnID <= 0 {
		fe.Add("zoom_host", "validation.choose")
	}
	if z.Passcode != "" && !ValidZoomPasscode(z.Passcode) {
		fe.Add("zoom_passcode", "validation.zoom_passcode", MaxZoomPasscodeLen)
	}
	if z.Passcode == "" && !z.WaitingRoom && !z.Authentication {
		// Zoom would turn the waiting room on by itself: say so instead.
		fe.Add("zoom_security", "validation.zoom_security_required")
	}
	if checkText(fe, "zoom_agenda", z.Agenda, true) && utf8.RuneCountInString(z.Agenda) > MaxZoomAgendaLen {
		fe.Add("zoom_agenda", "validation.too_long", MaxZoomAgendaLen)
	}
}

// ValidZoomPasscode reports whether p has Zoom's shape: at most 10
// characters, each a letter, a digit or one of @ - _ *.
func ValidZoomPasscode(p string) bool {
	if p == "" || len(p) > MaxZoomPasscodeLen {
		return false
	}
	for _, c := range p {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("@-_*", c):
		default:
			return false
		}
	}
	return true
}

// ZoomMinutes is a schedule's length as a Zoom meeting's duration, rounded
// up to a whole minute.
func (s *Schedule) ZoomMinutes() int {
	return int((s.EndsAt.Sub(s.StartsAt) + time.Minute - 1) / time.Minute)
}

// ValidateZoom checks what a schedule of a Zoom group must also satisfy:
// Zoom's meeting lasts 1 to 1440 minutes.
func (s *Schedule) ValidateZoom() error {
	var fe FieldErrors
	if m := s.ZoomMinutes(); m < 1 || m > MaxZoomMinutes {
		fe.Add("ends_at", "validation.zoom_duration", MaxZoomMinutes)
	}
	return fe.Err()
}

// ZoomTopic is the topic of an event's meetings: its title, within Zoom's bound.
func ZoomTopic(title string) string {
	if utf8.RuneCountInString(title) <= MaxZoomTopicLen {
		return title
	}
	return string([]rune(title)[:MaxZoomTopicLen])
}
