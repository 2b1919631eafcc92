package zoompolicy

import (
	"net/url"

	"kaisai/internal/event"
)

// PasscodeToTell is the passcode a participant must be told beside join URL
// u of Zoom group g: the meeting's passcode where u does not carry it
// (Zoom's join URLs carry it as pwd=), else "". No URL, no passcode.
func PasscodeToTell(g *event.ScheduleGroup, u string) string {
	if g.Venue != event.VenueZoom || g.Zoom == nil || g.Zoom.Passcode == "" || u == "" {
		return ""
	}
	if p, err := url.Parse(u); err == nil && p.Query().Get("pwd") != "" {
		return ""
	}
	return g.Zoom.Passcode
}
