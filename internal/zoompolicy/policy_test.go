package zoompolicy

import (
	"testing"
	"time"

	"kaisai/internal/event"
)

// TestPolicyTable walks DESIGN.md §3: every combination of 認証 × 登録 ×
// 無料/有料 × application state.
func TestPolicyTable(t *testing.T) {
	free := &event.Event{Fee: event.FeeFree}
	paid := &event.Event{Fee: event.FeePaid, PriceJPY: 3000}
	app := func(s event.ApplicationStatus, p event.Payment) *event.Application {
		return &event.Application{Status: s, Payment: p}
	}
	type state struct {
		name string
		e    *event.Event
		a    *event.Application
		ok   bool // eligible: free 申込済, paid 申込済 + 入金済
	}
	states := []state{
		{"free 申込済", free, app(event.Applied, event.PaymentNone), true},
		{"free キャンセル待ち", free, app(event.Waitlisted, event.PaymentNone), false},
		{"free キャンセル", free, app(event.Cancelled, event.PaymentNone), false},
		{"paid 申込済 未入金", paid, app(event.Applied, event.PaymentUnpaid), false},
		{"paid 申込済 入金済", paid, app(event.Applied, event.PaymentPaid), true},
		{"paid キャンセル 入金済", paid, app(event.Cancelled, event.PaymentPaid), false},
		{"paid キャンセル待ち 未入金", paid, app(event.Waitlisted, event.PaymentUnpaid), false},
	}
	for _, m := range []struct {
		name  string
		m     Meeting
		match Match
	}{
		{"認証ON 登録ON", Meeting{Authentication: true, Registration: true}, ByRegistrantIDOrEmail},
		{"認証OFF 登録ON", Meeting{Registration: true}, ByRegistrantID},
		{"認証ON 登録OFF", Meeting{Authentication: true}, ByEmail},
		{"認証OFF 登録OFF", Meeting{}, ManualOnly},
	} {
		if got := CheckInMatch(m.m); got != m.match {
			t.Errorf("%s: check-in match %v, want %v", m.name, got, m.match)
		}
		for _, s := range states {
			wantReg := m.m.Registration && s.ok
			if got := Registrant(m.m, s.e, s.a); got != wantReg {
				t.Errorf("%s, %s: registrant %v, want %v", m.name, s.name, got, wantReg)
			}
			for _, registered := range []bool{false, true} {
				want := NoURL
				switch {
				case !s.ok:
				case m.m.Registration && registered:
					want = PersonalURL
				case m.m.Registration:
					want = PendingURL
				default:
					want = MeetingURL
				}
				if got := JoinAccess(m.m, s.e, s.a, registered); got != want {
					t.Errorf("%s, %s, registered %v: access %v, want %v", m.name, s.name, registered, got, want)
				}
			}
		}
	}
	if Of(nil) != (Meeting{}) || Of(&event.ZoomSettings{Registration: true}) != (Meeting{Registration: true}) {
		t.Error("Of does not carry the settings")
	}
}

func TestSignInRequired(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    Meeting
		want bool
	}{
		{"認証ON 登録ON", Meeting{Authentication: true, Registration: true}, true},
		{"認証ON 登録OFF", Meeting{Authentication: true}, true},
		{"認証OFF 登録ON", Meeting{Registration: true}, false},
		{"認証OFF 登録OFF", Meeting{}, false},
	} {
		if got := SignInRequired(tt.m); got != tt.want {
			t.Errorf("%s: SignInRequired = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNoMeetingForAStartedSchedule(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		start     time.Time
		mayCreate bool
	}{
		{"tomorrow", now.Add(24 * time.Hour), true},
		{"in a minute", now.Add(time.Minute), true},
		{"starting now", now, false},
		{"under way", now.Add(-30 * time.Minute), false},
		{"long gone", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		sc := &event.Schedule{StartsAt: tt.start, EndsAt: tt.start.Add(time.Hour)}
		if got := MayCreate(sc, now); got != tt.mayCreate {
			t.Errorf("%s: MayCreate = %v, want %v", tt.name, got, tt.mayCreate)
		}
		start, ok := StartTime(sc, now)
		if ok != tt.mayCreate || ok && !start.Equal(tt.start) || !ok && !start.IsZero() {
			t.Errorf("%s: StartTime = %v, %v; want the schedule's start only while it is ahead", tt.name, start, ok)
		}
	}
}

// TestJoinFor: the URL a participant sees, its passcode and when none.
func TestJoinFor(t *testing.T) {
	free := &event.Event{Fee: event.FeeFree}
	paid := &event.Event{Fee: event.FeePaid, PriceJPY: 3000}
	applied := &event.Application{Status: event.Applied}
	unpaid := &event.Application{Status: event.Applied, Payment: event.PaymentUnpaid}
	waitlisted := &event.Application{Status: event.Waitlisted}
	const meeting, personal = "https://zoom.example/j/1?pwd=abc", "https://zoom.example/w/1?tk=me"
	group := func(z *event.ZoomSettings, url string) *event.ScheduleGroup {
		return &event.ScheduleGroup{Venue: event.VenueZoom, Zoom: z, OnlineURL: url}
	}
	withPasscode := &event.ZoomSettings{Passcode: "123456"}
	registration := &event.ZoomSettings{Registration: true, Passcode: "123456"}
	tests := []struct {
		name     string
		g        *event.ScheduleGroup
		e        *event.Event
		a        *event.Application
		personal string
		want     Join
	}{
		{"meeting URL with passcode", group(withPasscode, meeting), free, applied, "", Join{Access: MeetingURL, URL: meeting, Passcode: true}},
		{"meeting URL, no passcode", group(&event.ZoomSettings{}, meeting), free, applied, "", Join{Access: MeetingURL, URL: meeting}},
		{"no settings", group(nil, meeting), free, applied, "", Join{Access: MeetingURL, URL: meeting}},
		{"meeting not made yet", group(withPasscode, ""), free, applied, "", Join{Access: MeetingURL, Passcode: true}},
		{"without 登録 a personal URL is not used", group(withPasscode, meeting), free, applied, personal, Join{Access: MeetingURL, URL: meeting, Passcode: true}},
		{"登録, registered", group(registration, meeting), free, applied, personal, Join{Access: PersonalURL, URL: personal}},
		{"登録, not registered yet", group(registration, meeting), free, applied, "", Join{Access: PendingURL}},
		{"paid, 未入金", group(withPasscode, meeting), paid, unpaid, "", Join{Access: NoURL}},
		{"paid, 未入金, 登録 with a stale URL", group(registration, meeting), paid, unpaid, personal, Join{Access: NoURL}},
		{"キャンセル待ち", group(withPasscode, meeting), free, waitlisted, "", Join{Access: NoURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JoinFor(tt.g, tt.e, tt.a, tt.personal); got != tt.want {
				t.Errorf("JoinFor = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestParticipantURL: the one URL a participant may join with, for every
// kind of group; none before they are eligible, none at a 会場.
func TestParticipantURL(t *testing.T) {
	free := &event.Event{Fee: event.FeeFree}
	paid := &event.Event{Fee: event.FeePaid, PriceJPY: 3000}
	applied := &event.Application{Status: event.Applied}
	unpaid := &event.Application{Status: event.Applied, Payment: event.PaymentUnpaid}
	paidApp := &event.Application{Status: event.Applied, Payment: event.PaymentPaid}
	waitlisted := &event.Application{Status: event.Waitlisted}
	cancelled := &event.Application{Status: event.Cancelled}
	const meeting, personal, manual = "https://zoom.example/j/1?pwd=abc", "https://zoom.example/w/1?tk=me", "https://meet.example/room"
	zoom := &event.ScheduleGroup{Venue: event.VenueZoom, Zoom: &event.ZoomSettings{Passcode: "1"}, OnlineURL: meeting}
	zoomReg := &event.ScheduleGroup{Venue: event.VenueZoom, Zoom: &event.ZoomSettings{Registration: true}, OnlineURL: meeting}
	url := &event.ScheduleGroup{Venue: event.VenueURL, OnlineURL: manual}
	place := &event.ScheduleGroup{Venue: event.VenuePlace, Address: "東京都千代田区1-1", OnlineURL: manual}
	tests := []struct {
		name     string
		g        *event.ScheduleGroup
		e        *event.Event
		a        *event.Application
		personal string
		want     string
	}{
		{"Zoom, free, applied", zoom, free, applied, "", meeting},
		{"Zoom, 登録, registered", zoomReg, free, applied, personal, personal},
		{"Zoom, 登録, not yet registered", zoomReg, free, applied, "", ""},
		{"Zoom, paid, 未入金", zoom, paid, unpaid, "", ""},
		{"Zoom, paid, 入金済", zoom, paid, paidApp, "", meeting},
		{"Zoom, キャンセル待ち", zoom, free, waitlisted, "", ""},
		{"開催URL, free, applied", url, free, applied, "", manual},
		{"開催URL, paid, 未入金", url, paid, unpaid, "", ""},
		{"開催URL, paid, 入金済", url, paid, paidApp, "", manual},
		{"開催URL, キャンセル待ち", url, free, waitlisted, "", ""},
		{"開催URL, キャンセル", url, free, cancelled, "", ""},
		{"会場", place, free, applied, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParticipantURL(tt.g, tt.e, tt.a, tt.personal); got != tt.want {
				t.Errorf("ParticipantURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRegisters: only a Zoom group with 登録 has registrants.
func TestRegisters(t *testing.T) {
	tests := []struct {
		name string
		g    event.ScheduleGroup
		want bool
	}{
		{"Zoom, 登録", event.ScheduleGroup{Venue: event.VenueZoom, Zoom: &event.ZoomSettings{Registration: true}}, true},
		{"Zoom, 登録 and 認証", event.ScheduleGroup{Venue: event.VenueZoom, Zoom: &event.ZoomSettings{Registration: true, Authentication: true}}, true},
		{"Zoom, no 登録", event.ScheduleGroup{Venue: event.VenueZoom, Zoom: &event.ZoomSettings{Authentication: true}}, false},
		{"Zoom, no settings", event.ScheduleGroup{Venue: event.VenueZoom}, false},
		{"online URL with stale Zoom settings", event.ScheduleGroup{Venue: event.VenueURL, Zoom: &event.ZoomSettings{Registration: true}}, false},
		{"会場", event.ScheduleGroup{Venue: event.VenuePlace}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Registers(&tt.g); got != tt.want {
				t.Errorf("Registers = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMatchJoin walks DESIGN.md §3's 自動受付 column: which of a
// participant's registrant id and e-mail identify the application, per
// CheckInMatch case (認証 × 登録).
func TestMatchJoin(t *testing.T) {
	const regApp, emailApp = 11, 22
	c := Candidates{
		ByRegistrant: map[string]int64{"reg-known": regApp, "reg-no-app": 0},
		ByEmail:      map[string]int64{"known@example.com": emailApp},
	}
	var (
		onOn   = Meeting{Authentication: true, Registration: true} // ByRegistrantIDOrEmail
		offOn  = Meeting{Registration: true}                       // ByRegistrantID
		onOff  = Meeting{Authentication: true}                     // ByEmail
		offOff = Meeting{}                                         // ManualOnly
	)
	for _, tc := range []struct {
		name string
		m    Meeting
		p    Participant
		id   int64
		by   MatchedBy
	}{
		{"ON/ON registrant", onOn, Participant{RegistrantID: "reg-known", Email: "known@example.com"}, regApp, MatchedByRegistrant},
		{"ON/ON registrant unknown to kaisai, e-mail known", onOn, Participant{RegistrantID: "reg-zoom-side", Email: "known@example.com"}, emailApp, MatchedByEmail},
		{"ON/ON registrant without application, e-mail known", onOn, Participant{RegistrantID: "reg-no-app", Email: "known@example.com"}, emailApp, MatchedByEmail},
		{"ON/ON e-mail alone", onOn, Participant{Email: "known@example.com"}, emailApp, MatchedByEmail},
		{"ON/ON neither", onOn, Participant{RegistrantID: "reg-zoom-side", Email: "other@example.com"}, 0, Unmatched},
		{"OFF/ON registrant", offOn, Participant{RegistrantID: "reg-known"}, regApp, MatchedByRegistrant},
		{"OFF/ON e-mail is not enough", offOn, Participant{Email: "known@example.com"}, 0, Unmatched},
		{"OFF/ON unknown registrant", offOn, Participant{RegistrantID: "reg-zoom-side", Email: "known@example.com"}, 0, Unmatched},
		{"ON/OFF e-mail", onOff, Participant{Email: "known@example.com"}, emailApp, MatchedByEmail},
		{"ON/OFF e-mail case and space", onOff, Participant{Email: "  Known@EXAMPLE.com\t"}, emailApp, MatchedByEmail},
		{"ON/ON e-mail case and space", onOn, Participant{Email: " KNOWN@example.COM "}, emailApp, MatchedByEmail},
		{"ON/OFF inner space is another e-mail", onOff, Participant{Email: "known @example.com"}, 0, Unmatched},
		{"ON/OFF blank e-mail", onOff, Participant{Email: "   "}, 0, Unmatched},
		{"ON/OFF a registrant id means nothing", onOff, Participant{RegistrantID: "reg-known"}, 0, Unmatched},
		{"ON/OFF another e-mail", onOff, Participant{Email: "other@example.com"}, 0, Unmatched},
		{"OFF/OFF manual only", offOff, Participant{RegistrantID: "reg-known", Email: "known@example.com"}, 0, Unmatched},
		{"registrant id case matters", offOn, Participant{RegistrantID: "REG-KNOWN"}, 0, Unmatched},
	} {
		id, by, ok := MatchJoin(tc.m, tc.p, c)
		if id != tc.id || by != tc.by || ok != (tc.id != 0) {
			t.Errorf("%s: matched %d by %v (ok %v), want %d by %v", tc.name, id, by, ok, tc.id, tc.by)
		}
	}
}
