package event

import (
	"errors"
	"testing"
)

func TestCheckText(t *testing.T) {
	cases := []struct {
		name      string
		s         string
		oneLine   bool // accepted in a one-line field
		multiLine bool // accepted in a multi-line field
	}{
		{"empty", "", true, true},
		{"Japanese", "山田 太郎", true, true},
		{"emoji and accents", "Zoë 🎉 Ünïcødé", true, true},
		{"Arabic with marks", "\u200fسلام\u200e", true, true},
		{"replacement char as text", "\ufffd", true, true},
		{"line feed", "一行目\n二行目", false, true},
		{"tab", "A\tB", false, true},
		{"carriage return", "A\rB", false, false},
		{"CRLF", "A\r\nB", false, false},
		{"NUL", "A\x00B", false, false},
		{"ESC", "A\x1b[31mB", false, false},
		{"BEL", "A\aB", false, false},
		{"DEL", "A\x7fB", false, false},
		{"C1 NEL", "A\u0085B", false, false},
		{"C1 CSI", "A\u009bB", false, false},
		{"invalid UTF-8", "A\xffB", false, false},
		{"truncated UTF-8", "山"[:2], false, false},
		{"overlong NUL", "A\xc0\x80B", false, false},
		{"UTF-8 surrogate", "\xed\xa0\x80", false, false},
		{"RLO", "invoice\u202efdp.exe", false, false},
		{"LRE", "\u202aA", false, false},
		{"PDF", "A\u202c", false, false},
		{"RLI", "\u2067A", false, false},
		{"PDI", "A\u2069", false, false},
		{"line separator", "A\u2028B", false, true},
		{"paragraph separator", "A\u2029B", false, true},
	}
	for _, tc := range cases {
		if got := CheckText(tc.s, false) == nil; got != tc.oneLine {
			t.Errorf("%s: one-line accepted = %v, want %v", tc.name, got, tc.oneLine)
		}
		err := CheckText(tc.s, true)
		if got := err == nil; got != tc.multiLine {
			t.Errorf("%s: multi-line accepted = %v, want %v", tc.name, got, tc.multiLine)
		}
		var te *TextError
		if err != nil && !errors.As(err, &te) {
			t.Errorf("%s: %v is not a *TextError", tc.name, err)
		}
	}
}

func TestNormalizeNewlines(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"a\r\nb\r\n":   "a\nb\n",
		"a\rb":         "a\nb",
		"a\r\r\nb":     "a\n\nb",
		"a\nb":         "a\nb",
		"改行\r\nなし\rあり": "改行\nなし\nあり",
	} {
		got := NormalizeNewlines(in)
		if got != want {
			t.Errorf("NormalizeNewlines(%q) = %q, want %q", in, got, want)
		}
		if CheckText(got, true) != nil {
			t.Errorf("NormalizeNewlines(%q) = %q is not multi-line text", in, got)
		}
	}
}

// TestValidateRefusesNonText: each domain type refuses a field that is not
// text with validation.bad_text on that field, whoever calls it.
func TestValidateRefusesNonText(t *testing.T) {
	badField := func(t *testing.T, err error, field string) {
		t.Helper()
		var fe FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("want field errors on %s, got %v", field, err)
		}
		if f, ok := fe.For(field); !ok || f.Key != "validation.bad_text" {
			t.Fatalf("want validation.bad_text on %s, got %v", field, fe)
		}
	}
	okEvent := func() Event {
		return Event{Title: "勉強会", Description: "説明", Fee: FeeFree, TimeZone: DefaultTimeZone, Status: StatusDraft}
	}

	e := okEvent()
	e.Title = "A\x00B"
	badField(t, e.Validate(), "title")
	e = okEvent()
	e.Title = "一行\n二行"
	badField(t, e.Validate(), "title")
	e = okEvent()
	e.Description = "説明\x1b[2J"
	badField(t, e.Validate(), "description")
	e = okEvent()
	e.Description = "一行目\r\n二行目\r三行目"
	e.Normalize()
	if err := e.Validate(); err != nil || e.Description != "一行目\n二行目\n三行目" {
		t.Fatalf("a multi-line description: %v, %q", err, e.Description)
	}

	g := ScheduleGroup{Name: "第1部\u202e", Venue: VenuePlace, Address: "東京都"}
	badField(t, g.Validate(), "name")
	g = ScheduleGroup{Venue: VenuePlace, Address: "東京都\r\n千代田区"}
	badField(t, g.Validate(), "address")
	g = ScheduleGroup{Venue: VenueURL, OnlineURL: "https://example.com/\x07"}
	badField(t, g.Validate(), "online_url")
	g = ScheduleGroup{Venue: VenueZoom, Zoom: &ZoomSettings{ConnID: 1, WaitingRoom: true, Agenda: "議題\x00"}}
	badField(t, g.Validate(), "zoom_agenda")

	in := ApplicationInput{ScheduleID: 1, Name: "A\xffB", Email: "a@example.com"}
	badField(t, in.Validate(), "name")
	in = ApplicationInput{ScheduleID: 1, Name: "山田\r\nBcc: x@example.com", Email: "a@example.com"}
	badField(t, in.Validate(), "name")
	in = ApplicationInput{ScheduleID: 1, Name: "山田", Email: "a\x00@example.com"}
	badField(t, in.Validate(), "email")

	mt := MailTemplate{Kind: MailApplied, Subject: "件名\r\nBcc: x@example.com", Body: "本文"}
	badField(t, mt.Validate(), "applied_subject")
	mt = MailTemplate{Kind: MailApplied, Subject: "件名", Body: "本文\u202e"}
	badField(t, mt.Validate(), "applied_body")
	mt = MailTemplate{Kind: MailApplied, Subject: "件名", Body: "本文\n\t{name} 様"}
	if err := mt.Validate(); err != nil {
		t.Fatalf("a multi-line body with a tab: %v", err)
	}

	su := SignupInput{OrgName: "主催\x00者", Name: "山田", Email: "a@example.com", Password: "long enough password"}
	badField(t, su.Validate(), "org_name")
	su = SignupInput{OrgName: "主催者", Name: "山田", Email: "a@example.com", Password: "long enough\x00password"}
	badField(t, su.Validate(), "password")
	mi := MemberInput{Name: "佐藤\x1b", Email: "b@example.com", Password: "long enough password"}
	badField(t, mi.Validate(), "name")
}
