package zoom

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/zoomsim"
)

func TestInstancePathSegment(t *testing.T) {
	for _, c := range []struct{ uuid, want string }{
		{"4444AAAiAAAAAiAiAiiAii==", "4444AAAiAAAAAiAiAiiAii=="},
		{"ab/cd+ef==", "ab%2Fcd+ef=="},                             // one "/" inside: encoded once
		{"/ajXp112QmuoKj4854875==", "%252FajXp112QmuoKj4854875=="}, // begins with "/": twice
		{"ab//cd==", "ab%252F%252Fcd=="},                           // contains "//": twice
	} {
		if got := instancePathSegment(c.uuid); got != c.want {
			t.Errorf("instancePathSegment(%q) = %q, want %q", c.uuid, got, c.want)
		}
	}
}

// TestPastParticipants reads a meeting instance's report by its UUID
// through every page: one entry per stay, leave times and durations of
// those who left, and Zoom's e-mail display rules (guests show none).
func TestPastParticipants(t *testing.T) {
	s := startSim(t)
	tok := s.link(t, "licensed@example.com")
	sc := newSpecChecked(t, s.base)
	cl := NewClient(&http.Client{Transport: sc}, tok.APIURL, func(context.Context) (string, error) { return tok.AccessToken, nil })
	ctx := context.Background()
	m, err := cl.CreateMeeting(ctx, "me", &MeetingRequest{
		Topic: ptr("報告を読む会"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(time.Now().Add(time.Hour))),
		Duration: ptr(60), Settings: &MeetingSettings{WaitingRoom: ptr(false)},
	})
	if err != nil {
		t.Fatal(err)
	}
	join := func(name string) zoomsim.Participant {
		t.Helper()
		p, err := s.srv.Join(zoomsim.JoinRequest{JoinURL: m.JoinURL, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	uuid := func() string {
		for _, ms := range s.srv.State().Meetings {
			if ms.ID == m.ID {
				return ms.UUID
			}
		}
		t.Fatal("the meeting is gone")
		return ""
	}
	// Instances until one's UUID holds a "/", which must travel encoded.
	for i := 0; ; i++ {
		join("最初")
		if strings.Contains(uuid(), "/") || i == 40 {
			break
		}
		if err := s.srv.EndMeeting(m.ID); err != nil {
			t.Fatal(err)
		}
	}
	inst := uuid()
	a := join("出入りする人")
	for i := range 5 {
		join("ゲスト" + string(rune('A'+i)))
	}
	if err := s.srv.Leave(m.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	join("出入りする人") // back again: a second entry with a new participant id
	if err := s.srv.EndMeeting(m.ID); err != nil {
		t.Fatal(err)
	}
	report := "GET /v2/past_meetings/"
	before := sc.count(report)
	got, err := cl.pastParticipants(ctx, inst, 3)
	if err != nil {
		t.Fatal(err)
	}
	if pages := sc.count(report) - before; pages != 3 {
		t.Errorf("8 entries in pages of 3 took %d requests, want 3", pages)
	}
	if len(got) != 8 {
		t.Fatalf("report of %d entries, want 8 (one per stay): %+v", len(got), got)
	}
	ids := map[string]bool{}
	stays := 0
	for _, p := range got {
		ids[p.UserID] = true
		if p.JoinTime.IsZero() || p.LeaveTime.IsZero() || p.LeaveTime.Before(p.JoinTime) {
			t.Errorf("entry without a join and a later leave: %+v", p)
		}
		if p.UserEmail != "" {
			t.Errorf("a guest's e-mail shown: %+v", p)
		}
		if p.Name == "出入りする人" {
			stays++
		}
	}
	if len(ids) != 8 || stays != 2 {
		t.Errorf("%d distinct participant ids and %d stays of the one who came back, want 8 and 2", len(ids), stays)
	}
	if strings.Contains(inst, "/") {
		// The same report through a UUID encoded twice, as Zoom asks for
		// one that begins with "/" or contains "//".
		twice := url.PathEscape(url.PathEscape(inst))
		var page struct {
			Participants []PastParticipant `json:"participants"`
		}
		if err := cl.request(ctx, http.MethodGet, "/past_meetings/"+twice+"/participants?page_size=300", nil, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Participants) != 8 {
			t.Errorf("by the UUID encoded twice: %d entries, want 8", len(page.Participants))
		}
	} else {
		t.Logf("no instance UUID with a slash in 40 tries: %s", inst)
	}
	if _, err := cl.PastParticipants(ctx, "bm90LWEtbWVldGluZw=="); !IsNotFound(err) {
		t.Errorf("report of an unknown instance: %v, want not found", err)
	}
}
