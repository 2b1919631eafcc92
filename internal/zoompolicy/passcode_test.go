package zoompolicy

import (
	"testing"

	"kaisai/internal/event"
)

func TestPasscodeToTell(t *testing.T) {
	zoom := func(pass string) *event.ScheduleGroup {
		return &event.ScheduleGroup{Venue: event.VenueZoom, Zoom: &event.ZoomSettings{Passcode: pass}}
	}
	for _, c := range []struct {
		name string
		g    *event.ScheduleGroup
		url  string
		want string
	}{
		{"embedded in the meeting URL", zoom("abc123"), "https://zoom.us/j/1?pwd=xyz", ""},
		{"embedded in a personal URL", zoom("abc123"), "https://zoom.us/w/1?tk=t&pwd=xyz", ""},
		{"not embedded", zoom("abc123"), "https://zoom.us/w/1?tk=t", "abc123"},
		{"no passcode", zoom(""), "https://zoom.us/w/1?tk=t", ""},
		{"no URL", zoom("abc123"), "", ""},
		{"not Zoom", &event.ScheduleGroup{Venue: event.VenueURL}, "https://meet.example/x", ""},
	} {
		if got := PasscodeToTell(c.g, c.url); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
