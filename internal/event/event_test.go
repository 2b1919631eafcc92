package event

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func keys(err error) []string {
	fe, _ := err.(FieldErrors)
	var ks []string
	for _, f := range fe {
		ks = append(ks, f.Field+"="+f.Key)
	}
	return ks
}

func TestEventValidate(t *testing.T) {
	ok := Event{Title: "Go勉強会", Fee: FeeFree, TimeZone: "Asia/Tokyo", Status: StatusDraft}
	tests := []struct {
		name   string
		change func(*Event)
		want   string // "" = valid
	}{
		{"valid free", func(*Event) {}, ""},
		{"valid paid", func(e *Event) { e.Fee, e.PriceJPY = FeePaid, 3000 }, ""},
		{"no title", func(e *Event) { e.Title = "" }, "title=validation.required"},
		{"long title", func(e *Event) { e.Title = strings.Repeat("あ", MaxTitleLen+1) }, "title=validation.too_long"},
		{"title at limit", func(e *Event) { e.Title = strings.Repeat("あ", MaxTitleLen) }, ""},
		{"paid without price", func(e *Event) { e.Fee = FeePaid }, "price=validation.price_range"},
		{"price too high", func(e *Event) { e.Fee, e.PriceJPY = FeePaid, MaxPriceJPY+1 }, "price=validation.price_range"},
		{"payment days unset", func(e *Event) { e.Fee, e.PriceJPY, e.PaymentDays = FeePaid, 3000, 0 }, ""},
		{"payment days 1", func(e *Event) { e.Fee, e.PriceJPY, e.PaymentDays = FeePaid, 3000, 1 }, ""},
		{"payment days at limit", func(e *Event) { e.Fee, e.PriceJPY, e.PaymentDays = FeePaid, 3000, MaxPaymentDays }, ""},
		{"payment days too many", func(e *Event) { e.Fee, e.PriceJPY, e.PaymentDays = FeePaid, 3000, MaxPaymentDays+1 },
			"payment_days=validation.payment_days_range"},
		{"payment days negative", func(e *Event) { e.Fee, e.PriceJPY, e.PaymentDays = FeePaid, 3000, -1 },
			"payment_days=validation.payment_days_range"},
		{"free ignores payment days", func(e *Event) { e.PaymentDays = -1 }, ""},
		{"unknown fee", func(e *Event) { e.Fee = "maybe" }, "fee=validation.choose"},
		{"bad zone", func(e *Event) { e.TimeZone = "Mars/Olympus" }, "time_zone=validation.time_zone"},
		{"local zone", func(e *Event) { e.TimeZone = "Local" }, "time_zone=validation.time_zone"},
		{"bad status", func(e *Event) { e.Status = "secret" }, "status=validation.choose"},
		{"contact e-mail", func(e *Event) { e.Contact = "info@example.jp" }, ""},
		{"contact URL", func(e *Event) { e.Contact = "https://example.jp/contact" }, ""},
		{"contact neither", func(e *Event) { e.Contact = "03-1234-5678" }, "contact=validation.contact"},
		{"contact other scheme", func(e *Event) { e.Contact = "ftp://example.jp" }, "contact=validation.contact"},
		{"contact newline", func(e *Event) { e.Contact = "a@example.jp\nb" }, "contact=validation.bad_text"},
		{"terms URL", func(e *Event) { e.TermsURL = "https://example.jp/terms" }, ""},
		{"terms not a URL", func(e *Event) { e.TermsURL = "example.jp/terms" }, "terms_url=validation.url"},
		{"privacy URL", func(e *Event) { e.PrivacyURL = "http://example.jp/privacy" }, ""},
		{"privacy javascript", func(e *Event) { e.PrivacyURL = "javascript:alert(1)" }, "privacy_url=validation.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.change(&e)
			got := keys(e.Validate())
			if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
				t.Errorf("Validate() = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestEventNormalize(t *testing.T) {
	e := Event{Title: "  勉強会 ", Fee: FeeFree, PriceJPY: 500, PaymentDays: 99}
	e.Normalize()
	if e.Title != "勉強会" || e.PriceJPY != 0 || e.TimeZone != DefaultTimeZone || e.PaymentDays != DefaultPaymentDays {
		t.Errorf("Normalize() = %+v", e)
	}
}

func TestGroupValidate(t *testing.T) {
	tests := []struct {
		g    ScheduleGroup
		want string
	}{
		{ScheduleGroup{Venue: VenuePlace, Address: "東京都千代田区1-1"}, ""},
		{ScheduleGroup{Venue: VenuePlace}, "address=validation.required"},
		{ScheduleGroup{Venue: VenueURL, OnlineURL: "https://example.com/j/1"}, ""},
		{ScheduleGroup{Venue: VenueURL, OnlineURL: "javascript:alert(1)"}, "online_url=validation.url"},
		{ScheduleGroup{Venue: VenueURL, OnlineURL: "https://"}, "online_url=validation.url"},
		{ScheduleGroup{Venue: VenueURL}, "online_url=validation.required"},
		{ScheduleGroup{Venue: "zoom?"}, "venue=validation.choose"},
	}
	for _, tt := range tests {
		tt.g.Normalize()
		got := keys(tt.g.Validate())
		if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
			t.Errorf("%+v: Validate() = %v, want [%s]", tt.g, got, tt.want)
		}
	}
	g := ScheduleGroup{Venue: VenuePlace, Address: "会場", OnlineURL: "https://x.example"}
	g.Normalize()
	if g.OnlineURL != "" {
		t.Error("a place venue keeps no URL")
	}
}

func TestScheduleValidateAndSeats(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		s    Schedule
		want string
	}{
		{Schedule{StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 30}, ""},
		{Schedule{StartsAt: start, EndsAt: start, Capacity: 30}, "ends_at=validation.ends_after_start"},
		{Schedule{EndsAt: start, Capacity: 30}, "starts_at=validation.datetime"},
		{Schedule{StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 0}, "capacity=validation.capacity_range"},
		{Schedule{StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: MaxCapacity + 1}, "capacity=validation.capacity_range"},
	}
	now := start.Add(-30 * 24 * time.Hour)
	for _, tt := range tests {
		got := keys(tt.s.Validate(now, time.UTC))
		if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
			t.Errorf("%+v: Validate() = %v, want [%s]", tt.s, got, tt.want)
		}
	}
	s := Schedule{Capacity: 3, SeatsTaken: 3}
	if s.SeatsLeft() != 0 || !s.Full() {
		t.Errorf("3 of 3 taken: left %d full %v", s.SeatsLeft(), s.Full())
	}
	s.SeatsTaken = 1
	if s.SeatsLeft() != 2 || s.Full() {
		t.Errorf("1 of 3 taken: left %d full %v", s.SeatsLeft(), s.Full())
	}
}

func TestScheduleDatesMakeSense(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC) // 15:00 in Tokyo
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, tokyo) }
	rangeErr := "starts_at=validation.date_range"
	for _, tc := range []struct {
		name  string
		start time.Time
		want  string
	}{
		{"year 1", at(1, 1, 1, 10, 0), rangeErr},
		{"year 9999", at(9999, 12, 31, 10, 0), rangeErr},
		{"the last moment of 1999", at(1999, 12, 31, 23, 0), rangeErr},
		{"the first day of 2000", at(2000, 1, 1, 0, 0), ""},
		{"yesterday (past, but sane)", at(2026, 12, 2, 10, 0), ""},
		{"next year", at(2027, 6, 1, 10, 0), ""},
		{"five years ahead, to the day", at(2031, 12, 3, 22, 0), ""},
		{"five years and a day ahead", at(2031, 12, 4, 13, 0), rangeErr},
	} {
		s := Schedule{StartsAt: tc.start.UTC(), EndsAt: tc.start.Add(time.Hour).UTC(), Capacity: 10}
		err := s.Validate(now, tokyo)
		got := keys(err)
		if tc.want == "" && len(got) != 0 || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
			t.Errorf("%s: Validate() = %v, want [%s]", tc.name, got, tc.want)
		}
		var fe FieldErrors
		if tc.want != "" && errors.As(err, &fe) {
			if args := fmt.Sprint(fe[0].Args...); args != "2000-01-012031-12-03" {
				t.Errorf("%s: the message says the range is %v", tc.name, fe[0].Args)
			}
		}
	}

	past := Schedule{StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)}
	ahead := Schedule{StartsAt: now.Add(time.Minute), EndsAt: now.Add(time.Hour)}
	if !past.Started(now) || !(&Schedule{StartsAt: now}).Started(now) || ahead.Started(now) {
		t.Error("Started: a schedule has begun once its start is not ahead of now")
	}
	for _, tc := range []struct {
		name        string
		s, before   *Schedule
		wantConfirm bool
	}{
		{"a new schedule in the past", &past, nil, true},
		{"a new schedule ahead", &ahead, nil, false},
		{"moved into the past", &past, &ahead, true},
		{"a past schedule whose start stays", &past, &Schedule{StartsAt: past.StartsAt, Capacity: 3}, false},
		{"moved ahead", &ahead, &past, false},
	} {
		if got := tc.s.NeedsPastConfirmation(tc.before, now); got != tc.wantConfirm {
			t.Errorf("%s: NeedsPastConfirmation = %v, want %v", tc.name, got, tc.wantConfirm)
		}
	}
}

func TestApplicationInputValidate(t *testing.T) {
	tests := []struct {
		in   ApplicationInput
		want []string
	}{
		{ApplicationInput{ScheduleID: 1, Name: "山田 太郎", Email: "taro@example.jp"}, nil},
		{ApplicationInput{Name: "山田", Email: "taro@example.jp"}, []string{"schedule_id=validation.choose_schedule"}},
		{ApplicationInput{ScheduleID: 1, Email: "taro@example.jp"}, []string{"name=validation.required"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "Taro <taro@example.jp>"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@localhost"}, []string{"email=validation.email"}},
		// What Zoom takes as a registrant's e-mail (≤ 128 characters, the
		// everyday dot-atom form), and nothing else.
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "o'brien+seminar_2026@mail.example.co.jp"}, nil},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + ".jp"}, nil},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 61) + ".jp"},
			[]string{"email=validation.too_long"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: strings.Repeat("a", 65) + "@example.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: `"taro yamada"@example.jp`}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@[192.0.2.1]"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "たろう@example.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@例え.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro..yamada@example.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: ".taro@example.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@-example.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@example..jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@@example.jp"}, []string{"email=validation.email"}},
		{ApplicationInput{ScheduleID: 1, Name: strings.Repeat("名", MaxNameLen+1), Email: ""},
			[]string{"name=validation.too_long", "email=validation.required"}},
	}
	for _, tt := range tests {
		got := keys(tt.in.Validate())
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%+v: Validate() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestApplicationConsent: an event with a 利用規約 or a プライバシーポリシー
// needs the participant's consent; one with neither does not ask.
func TestApplicationConsent(t *testing.T) {
	in := ApplicationInput{ScheduleID: 1, Name: "山田", Email: "taro@example.jp"}
	for _, tt := range []struct {
		e       Event
		consent bool
		want    string
	}{
		{Event{}, false, ""},
		{Event{TermsURL: "https://example.jp/terms"}, false, "consent=validation.consent"},
		{Event{PrivacyURL: "https://example.jp/privacy"}, false, "consent=validation.consent"},
		{Event{TermsURL: "https://example.jp/terms"}, true, ""},
	} {
		in.Consent = tt.consent
		if got := strings.Join(keys(in.ValidateFor(&tt.e)), ","); got != tt.want {
			t.Errorf("%+v, consent %v: ValidateFor = %q, want %q", tt.e, tt.consent, got, tt.want)
		}
	}
}

// TestEligibility: the online URL is for applied participants, and for a
// paid event only once 入金済.
func TestEligibility(t *testing.T) {
	free := &Event{Fee: FeeFree}
	paid := &Event{Fee: FeePaid, PriceJPY: 1000}
	tests := []struct {
		e    *Event
		a    Application
		want bool
	}{
		{free, Application{Status: Applied}, true},
		{free, Application{Status: Waitlisted}, false},
		{free, Application{Status: Cancelled}, false},
		{paid, Application{Status: Applied, Payment: PaymentUnpaid}, false},
		{paid, Application{Status: Applied, Payment: PaymentPaid}, true},
		{paid, Application{Status: Cancelled, Payment: PaymentPaid}, false},
		{paid, Application{Status: Waitlisted, Payment: PaymentPaid}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Eligible(tt.e); got != tt.want {
			t.Errorf("fee %s, %s/%s: Eligible = %v, want %v", tt.e.Fee, tt.a.Status, tt.a.Payment, got, tt.want)
		}
	}
}

func TestSignupValidate(t *testing.T) {
	in := SignupInput{OrgName: " 株式会社カイサイ ", Name: "佐藤", Email: " Owner@Example.COM ", Password: "0123456789"}
	in.Normalize()
	if in.Email != "owner@example.com" || in.OrgName != "株式会社カイサイ" {
		t.Errorf("Normalize() = %+v", in)
	}
	if err := in.Validate(); err != nil {
		t.Errorf("valid sign-up: %v", err)
	}
	in.Password = "short"
	if got := keys(in.Validate()); len(got) != 1 || got[0] != "password=validation.password_short" {
		t.Errorf("short password: %v", got)
	}
}
