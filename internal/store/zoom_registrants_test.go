package store_test

import (
	"testing"

	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// TestPersonalJoinURL: only a registered registrant has a personal URL to show.
func TestPersonalJoinURL(t *testing.T) {
	const u = "https://zoom.example/w/1?tk=me"
	tests := []struct {
		status zoompolicy.RegistrantStatus
		want   string
	}{
		{zoompolicy.RegistrantRegistered, u},
		{zoompolicy.RegistrantAdding, ""},
		{zoompolicy.RegistrantCancelled, ""},
		{zoompolicy.RegistrantFailed, ""},
		{"", ""},
	}
	for _, tt := range tests {
		r := store.ApplicationRegistrant{Status: tt.status, JoinURL: u}
		if got := r.PersonalJoinURL(); got != tt.want {
			t.Errorf("status %q: PersonalJoinURL = %q, want %q", tt.status, got, tt.want)
		}
	}
}
