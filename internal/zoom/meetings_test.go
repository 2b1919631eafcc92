package zoom

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestMeetingLifecycle(t *testing.T) {
	s := startSim(t)
	cl := s.client(s.link(t, "licensed@example.com"), nil)
	ctx := context.Background()
	start := time.Now().Add(14 * 24 * time.Hour).Truncate(time.Minute)

	created, err := cl.CreateMeeting(ctx, "me", &MeetingRequest{
		Topic: ptr("オンライン説明会"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(start)),
		Duration: ptr(90), Timezone: ptr("Asia/Tokyo"), Agenda: ptr("第1回"), DefaultPassword: ptr(true),
		Settings: &MeetingSettings{
			HostVideo: ptr(true), ParticipantVideo: ptr(false), MuteUponEntry: ptr(true),
			WaitingRoom: ptr(false), ApprovalType: ptr(1), RegistrantsEmailNotification: ptr(false),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID <= 0 || created.JoinURL == "" || created.StartURL == "" || created.RegistrationURL == "" {
		t.Errorf("created meeting lacks its id or URLs: %+v", created)
	}
	if created.StartTime != ZoomTime(start) || created.Duration != 90 || created.Timezone != "Asia/Tokyo" {
		t.Errorf("created %s for %d min in %s, want %s for 90 in Asia/Tokyo", created.StartTime, created.Duration, created.Timezone, ZoomTime(start))
	}
	// default_password: Zoom generated one to the host's policy.
	licensedPolicy := PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true}
	if created.Password == "" || CheckPasscode(created.Password, licensedPolicy) != nil {
		t.Errorf("generated passcode %q does not satisfy the host's policy", created.Password)
	}
	if !strings.Contains(created.JoinURL, "pwd=") {
		t.Errorf("join URL %s does not embed the passcode", created.JoinURL)
	}

	got, err := cl.Meeting(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Topic != "オンライン説明会" || got.JoinURL != created.JoinURL || got.Password != created.Password {
		t.Errorf("get: %+v, want the created %+v", got, created)
	}
	wantSettings := func(m *Meeting, hostVideo, mute bool, approval int) {
		t.Helper()
		st := m.Settings
		if st.HostVideo == nil || *st.HostVideo != hostVideo || st.MuteUponEntry == nil || *st.MuteUponEntry != mute ||
			st.ApprovalType == nil || *st.ApprovalType != approval {
			t.Errorf("settings host_video %v, mute_upon_entry %v, approval_type %v; want %v, %v, %d",
				deref(st.HostVideo), deref(st.MuteUponEntry), deref(st.ApprovalType), hostVideo, mute, approval)
		}
	}
	wantSettings(got, true, true, 1)

	// A PATCH changes the fields it sends and nothing else; the join URL
	// follows the new passcode.
	if err := cl.UpdateMeeting(ctx, created.ID, &MeetingRequest{
		Topic: ptr("オンライン説明会(変更)"), Password: ptr("k4isai9Z"),
		Settings: &MeetingSettings{MuteUponEntry: ptr(false)},
	}); err != nil {
		t.Fatal(err)
	}
	after, err := cl.Meeting(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Topic != "オンライン説明会(変更)" || after.Password != "k4isai9Z" {
		t.Errorf("after PATCH: topic %q, passcode %q", after.Topic, after.Password)
	}
	if after.JoinURL == created.JoinURL || !strings.Contains(after.JoinURL, "pwd=") {
		t.Errorf("join URL %s did not change with the passcode", after.JoinURL)
	}
	if after.StartTime != created.StartTime || after.Duration != 90 || after.Agenda != "第1回" || after.Timezone != "Asia/Tokyo" {
		t.Errorf("PATCH changed fields it did not send: %+v", after)
	}
	wantSettings(after, true, false, 1)

	if err := cl.DeleteMeeting(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"schedule_for_reminder=false", "cancel_meeting_reminder=false"} {
		if !strings.Contains(s.urls.all(), q) {
			t.Errorf("DELETE did not send %s:\n%s", q, s.urls.all())
		}
	}
	_, err = cl.Meeting(ctx, created.ID)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != 3001 || !IsNotFound(err) {
		t.Fatalf("get after delete: %v, want 404 code 3001", err)
	}
	if err := cl.DeleteMeeting(ctx, created.ID); !IsNotFound(err) {
		t.Errorf("deleting twice: %v, want not found", err)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestListMeetings(t *testing.T) {
	s := startSim(t)
	cl := s.client(s.link(t, "licensed@example.com"), nil)
	other := s.client(s.link(t, "numeric@example.com"), nil)
	ctx := context.Background()
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)

	var want []int64
	for i := range 5 {
		m, err := cl.CreateMeeting(ctx, "me", &MeetingRequest{
			Topic: ptr("説明会"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(start.Add(time.Duration(i) * time.Hour))),
			Duration: ptr(60), Agenda: ptr(strings.Repeat("あ", 300)),
		})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ID)
	}
	// Not listed: an instant meeting, and another user's meeting.
	if _, err := cl.CreateMeeting(ctx, "me", &MeetingRequest{Topic: ptr("instant"), Type: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateMeeting(ctx, "me", &MeetingRequest{Topic: ptr("他人"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(start))}); err != nil {
		t.Fatal(err)
	}

	before := strings.Count(s.urls.all(), "/meetings?")
	paged, err := cl.listMeetings(ctx, "me", 2)
	if err != nil {
		t.Fatal(err)
	}
	if pages := strings.Count(s.urls.all(), "/meetings?") - before; pages != 3 {
		t.Errorf("5 meetings in pages of 2 took %d requests, want 3", pages)
	}
	ids := func(ms []Meeting) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	if !slices.Equal(ids(paged), want) {
		t.Errorf("paged list %v, want %v (by start time)", ids(paged), want)
	}
	all, err := cl.ListMeetings(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(all), want) {
		t.Errorf("ListMeetings %v, want %v", ids(all), want)
	}
	got, err := cl.Meeting(ctx, want[0])
	if err != nil {
		t.Fatal(err)
	}
	first := all[0]
	if first.JoinURL != got.JoinURL || first.StartTime != got.StartTime || first.Topic != "説明会" || first.Duration != 60 {
		t.Errorf("listed %+v, want what get says: %+v", first, got)
	}
	// Zoom's list has no passcode and cuts the agenda to 250 characters.
	if first.Password != "" || len([]rune(first.Agenda)) != 250 {
		t.Errorf("listed passcode %q and a %d-character agenda, want none and 250", first.Password, len([]rune(first.Agenda)))
	}
}

func TestBasicHostCannotRequireRegistration(t *testing.T) {
	s := startSim(t)
	cl := s.client(s.link(t, "basic@example.com"), nil)
	_, err := cl.CreateMeeting(context.Background(), "me", &MeetingRequest{
		Topic: ptr("登録制"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(time.Now().Add(time.Hour))),
		Settings: &MeetingSettings{ApprovalType: ptr(1)},
	})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != 200 {
		t.Fatalf("a Basic host asking for registration: %v, want 400 code 200", err)
	}
}

func TestPasscodeAgainstPolicyRefused(t *testing.T) {
	s := startSim(t)
	cl := s.client(s.link(t, "licensed@example.com"), nil)
	const pass = "abcxyz" // the policy wants a number
	if err := CheckPasscode(pass, PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true}); err == nil {
		t.Fatalf("CheckPasscode accepts %q", pass)
	}
	_, err := cl.CreateMeeting(context.Background(), "me", &MeetingRequest{
		Topic: ptr("t"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(time.Now().Add(time.Hour))), Password: ptr(pass),
	})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != 300 {
		t.Fatalf("passcode %q against the host's policy: %v, want 400 code 300", pass, err)
	}
}

func TestZoomTime(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*60*60)
	if got := ZoomTime(time.Date(2030, 5, 1, 10, 0, 30, 500, tokyo)); got != "2030-05-01T01:00:30Z" {
		t.Errorf("ZoomTime = %s, want 2030-05-01T01:00:30Z", got)
	}
}
