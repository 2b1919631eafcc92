package zoompolicy

import (
	"testing"
	"time"
)

// TestMeetingStateOf: one row per state, and one per priority between two
// states whose conditions both hold.
func TestMeetingStateOf(t *testing.T) {
	due := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	// created is a meeting made on Zoom, with nothing to do.
	created := MeetingFacts{Host: Linked, Want: WantPresent, ZoomID: 81234567890}
	with := func(change func(*MeetingFacts)) MeetingFacts {
		f := created
		change(&f)
		return f
	}
	for _, tt := range []struct {
		name  string
		facts MeetingFacts
		want  MeetingState
	}{
		{"created", created, MeetingCreated},
		{"creating", with(func(f *MeetingFacts) { f.ZoomID, f.DueAt = 0, due }), MeetingCreating},
		{"updating", with(func(f *MeetingFacts) { f.DueAt = due }), MeetingUpdating},
		{"deleting", with(func(f *MeetingFacts) { f.Want, f.DueAt = WantAbsent, due }), MeetingDeleting},
		{"error", with(func(f *MeetingFacts) { f.ErrorKind = "other" }), MeetingError},
		{"deleted on Zoom", with(func(f *MeetingFacts) { f.ZoomSide = DeletedOnZoom }), MeetingDeleted},
		{"changed on Zoom is still created", with(func(f *MeetingFacts) { f.ZoomSide = ChangedOnZoom }), MeetingCreated},
		{"not created: started", with(func(f *MeetingFacts) { f.ZoomID, f.ErrorKind = 0, ErrStarted }), MeetingNotCreated},
		{"unmanaged: host unlinked", with(func(f *MeetingFacts) { f.Host = Unlinked }), MeetingUnmanaged},
		{"unmanaged: unknown host status", with(func(f *MeetingFacts) { f.Host = "" }), MeetingUnmanaged},
		{"relink", with(func(f *MeetingFacts) { f.Host = RelinkRequired }), MeetingRelink},

		// priorities
		{"relink over deleted on Zoom", with(func(f *MeetingFacts) { f.Host, f.ZoomSide = RelinkRequired, DeletedOnZoom }), MeetingRelink},
		{"unmanaged over error", with(func(f *MeetingFacts) { f.Host, f.ErrorKind = Unlinked, "other" }), MeetingUnmanaged},
		{"deleted on Zoom over error", with(func(f *MeetingFacts) { f.ZoomSide, f.ErrorKind = DeletedOnZoom, "other" }), MeetingDeleted},
		{"deleting over deleted on Zoom", with(func(f *MeetingFacts) { f.Want, f.ZoomSide = WantAbsent, DeletedOnZoom }), MeetingDeleting},
		{"not created over error", with(func(f *MeetingFacts) { f.ZoomID, f.ErrorKind, f.DueAt = 0, ErrStarted, due }), MeetingNotCreated},
		{"started after creation is no longer not created", with(func(f *MeetingFacts) { f.ErrorKind = ErrStarted }), MeetingError},
		{"started while deleting is an error", with(func(f *MeetingFacts) { f.Want, f.ZoomID, f.ErrorKind = WantAbsent, 0, ErrStarted }), MeetingError},
		{"error over deleting", with(func(f *MeetingFacts) { f.Want, f.ErrorKind = WantAbsent, "other" }), MeetingError},
		{"error over creating", with(func(f *MeetingFacts) { f.ZoomID, f.ErrorKind = 0, "other" }), MeetingError},
		{"deleting over creating", with(func(f *MeetingFacts) { f.Want, f.ZoomID = WantAbsent, 0 }), MeetingDeleting},
		{"creating over updating", with(func(f *MeetingFacts) { f.ZoomID, f.DueAt = 0, due }), MeetingCreating},
		{"creating without a due time", with(func(f *MeetingFacts) { f.ZoomID = 0 }), MeetingCreating},
	} {
		if got := MeetingStateOf(tt.facts); got != tt.want {
			t.Errorf("%s: %+v is %s, want %s", tt.name, tt.facts, got, tt.want)
		}
		if !tt.want.Valid() {
			t.Errorf("%s: %s is not among MeetingStates", tt.name, tt.want)
		}
	}
}

// TestMeetingOnZoom: a meeting is on Zoom while wanted, created and not
// deleted on Zoom's side; it may be started only with its host linked.
func TestMeetingOnZoom(t *testing.T) {
	on := MeetingFacts{Host: Linked, Want: WantPresent, ZoomID: 1}
	for _, tt := range []struct {
		name          string
		change        func(*MeetingFacts)
		onZoom, start bool
	}{
		{"created", func(*MeetingFacts) {}, true, true},
		{"changed on Zoom", func(f *MeetingFacts) { f.ZoomSide = ChangedOnZoom }, true, true},
		{"failed update", func(f *MeetingFacts) { f.ErrorKind = "other" }, true, true},
		{"not created yet", func(f *MeetingFacts) { f.ZoomID = 0 }, false, false},
		{"being deleted", func(f *MeetingFacts) { f.Want = WantAbsent }, false, false},
		{"deleted on Zoom", func(f *MeetingFacts) { f.ZoomSide = DeletedOnZoom }, false, false},
		{"host relink required", func(f *MeetingFacts) { f.Host = RelinkRequired }, true, false},
		{"host unlinked", func(f *MeetingFacts) { f.Host = Unlinked }, true, false},
	} {
		f := on
		tt.change(&f)
		if got := f.OnZoom(); got != tt.onZoom {
			t.Errorf("%s: OnZoom %v, want %v", tt.name, got, tt.onZoom)
		}
		if got := CanStart(f); got != tt.start {
			t.Errorf("%s: CanStart %v, want %v", tt.name, got, tt.start)
		}
	}
}

// TestStateDecisions: the decisions taken on single states.
func TestStateDecisions(t *testing.T) {
	for _, s := range ConnStatuses() {
		if s.Usable() != (s == Linked) || Managed(s) != (s == Linked) {
			t.Errorf("connection %s: usable %v, managed %v", s, s.Usable(), Managed(s))
		}
	}
	for _, s := range RegistrantStatuses() {
		answered := s == RegistrantRegistered || s == RegistrantFailed
		if s.OnZoomList() != (s == RegistrantRegistered) || s.Live() != (s != RegistrantCancelled) || s.Answered() != answered {
			t.Errorf("registrant %s: on the list %v, live %v, answered %v", s, s.OnZoomList(), s.Live(), s.Answered())
		}
	}
	for _, s := range WebhookStatuses() {
		if s.Done() != (s == WebhookProcessed || s == WebhookIgnored) {
			t.Errorf("webhook %s: done %v", s, s.Done())
		}
	}
	pending := map[MeetingState]bool{MeetingCreating: true, MeetingUpdating: true, MeetingDeleting: true}
	for _, s := range MeetingStates() {
		if s.Pending() != pending[s] {
			t.Errorf("meeting %s: pending %v", s, s.Pending())
		}
	}
}

// TestValid: the declared values are valid, others are not.
func TestValid(t *testing.T) {
	check := func(name string, valid bool, want bool) {
		t.Helper()
		if valid != want {
			t.Errorf("%s: Valid %v, want %v", name, valid, want)
		}
	}
	for _, v := range ConnStatuses() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range RelinkReasons() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range MeetingWants() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range ZoomSides() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range MeetingStates() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range RegistrantStatuses() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range WebhookStatuses() {
		check(string(v), v.Valid(), true)
	}
	for _, v := range MatchedBys() {
		check(string(v), v.Valid(), true)
	}
	check("conn Linked", ConnStatus("Linked").Valid(), false)
	check("conn empty", ConnStatus("").Valid(), false)
	check("want empty", MeetingWant("").Valid(), false)
	check("zoom side gone", ZoomSide("gone").Valid(), false)
	check("meeting state empty", MeetingState("").Valid(), false)
	check("registrant pending", RegistrantStatus("pending").Valid(), false)
	check("webhook sent", WebhookStatus("sent").Valid(), false)
	check("matched by name", MatchedBy("name").Valid(), false)
	check("relink reason other", RelinkReason("other").Valid(), false)
}
