package calendar

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"

	"kaisai/internal/event"
)

var tokyo = time.FixedZone("JST", 9*60*60)

// parse reads ics back with emersion/go-ical, a parser that shares nothing
// with the writer, and returns its one VEVENT and the calendar.
func parse(t *testing.T, ics []byte) (*ical.Calendar, ical.Event) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(ics)).Decode()
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, ics)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d VEVENTs, want 1", len(evs))
	}
	return cal, evs[0]
}

func text(t *testing.T, ev ical.Event, name string) string {
	t.Helper()
	p := ev.Props.Get(name)
	if p == nil {
		return ""
	}
	s, err := p.Text()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// checkLines checks the octets of a content stream: CRLF after every line
// and nowhere else, no line longer than 75 octets, no line that starts or
// ends inside a UTF-8 character.
func checkLines(t *testing.T, ics []byte) {
	t.Helper()
	s := string(ics)
	if !strings.HasSuffix(s, "\r\n") {
		t.Errorf("does not end in CRLF")
	}
	for i, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, l)
		}
	}
}

func TestICS(t *testing.T) {
	start := time.Date(2026, 12, 24, 19, 0, 0, 0, tokyo)
	longJa := strings.Repeat("年末特別セミナー「確定申告の基礎」、", 6)
	tests := []struct {
		name  string
		entry Entry
		// folded: the output must have continuation lines
		folded bool
	}{
		{"plain", Entry{UID: "application-1-schedule-2@kaisai.example", Sequence: 0, Start: start,
			End: start.Add(90 * time.Minute), Summary: "Go入門", Status: Confirmed}, false},
		{"long Japanese title folded", Entry{UID: "application-3-schedule-4@kaisai.example", Sequence: 2, Start: start,
			End: start.Add(time.Hour), Summary: longJa, Description: "参加URL: https://zoom.example/w/1?tk=abc&pwd=x\n申込ページ: https://kaisai.example/a/tok",
			Location: "東京都千代田区丸の内1-1-1、ビル3F; 会議室A", URL: "https://kaisai.example/a/tok", Status: Tentative}, true},
		{"escapes", Entry{UID: "application-5-schedule-6@kaisai.example", Sequence: 7, Start: start,
			End: start.Add(time.Hour), Summary: `a,b;c\d` + "\r\ne:f\x01", Description: "line1\nline2\n\nline4", Status: Cancelled}, false},
		{"exactly 75 octets, then one ASCII over", Entry{UID: "u", Start: start, End: start,
			Summary: strings.Repeat("x", 75-len("SUMMARY:")) + "y", Status: Confirmed}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.entry.Stamp = time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)
			ics := ICS(tt.entry)
			checkLines(t, ics)
			if got := bytes.Contains(ics, []byte("\r\n ")); got != tt.folded {
				t.Errorf("folded = %v, want %v:\n%s", got, tt.folded, ics)
			}
			cal, ev := parse(t, ics)
			if m := cal.Props.Get("METHOD"); m == nil || m.Value != "PUBLISH" {
				t.Errorf("METHOD = %v, want PUBLISH", m)
			}
			if v := cal.Props.Get("VERSION"); v == nil || v.Value != "2.0" {
				t.Errorf("VERSION = %v, want 2.0", v)
			}
			if got := text(t, ev, "UID"); got != tt.entry.UID {
				t.Errorf("UID = %q, want %q", got, tt.entry.UID)
			}
			seq, err := ev.Props.Get("SEQUENCE").Int()
			if err != nil || seq != tt.entry.Sequence {
				t.Errorf("SEQUENCE = %d (%v), want %d", seq, err, tt.entry.Sequence)
			}
			wantSummary := strings.NewReplacer("\r\n", "\n", "\x01", "").Replace(tt.entry.Summary)
			if got := text(t, ev, "SUMMARY"); got != wantSummary {
				t.Errorf("SUMMARY = %q, want %q", got, wantSummary)
			}
			if got := text(t, ev, "DESCRIPTION"); got != tt.entry.Description {
				t.Errorf("DESCRIPTION = %q, want %q", got, tt.entry.Description)
			}
			if got := text(t, ev, "LOCATION"); got != tt.entry.Location {
				t.Errorf("LOCATION = %q, want %q", got, tt.entry.Location)
			}
			if tt.entry.URL != "" {
				if u, err := ev.Props.URI("URL"); err != nil || u.String() != tt.entry.URL {
					t.Errorf("URL = %v (%v), want %q", u, err, tt.entry.URL)
				}
			}
			for name, want := range map[string]time.Time{"DTSTART": tt.entry.Start, "DTEND": tt.entry.End, "DTSTAMP": tt.entry.Stamp} {
				p := ev.Props.Get(name)
				if p == nil || !strings.HasSuffix(p.Value, "Z") || p.Params.Get("TZID") != "" {
					t.Errorf("%s = %+v, want a UTC time", name, p)
					continue
				}
				got, err := p.DateTime(time.UTC)
				if err != nil || !got.Equal(want) {
					t.Errorf("%s = %v (%v), want %v", name, got, err, want)
				}
			}
			if st, err := ev.Status(); err != nil || string(st) != string(tt.entry.Status) {
				t.Errorf("STATUS = %q (%v), want %q", st, err, tt.entry.Status)
			}
		})
	}
}

// TestICSUTC: a 19:00 start in Tokyo is 10:00 UTC, written with Z.
func TestICSUTC(t *testing.T) {
	start := time.Date(2026, 12, 24, 19, 0, 0, 0, tokyo)
	ics := string(ICS(Entry{UID: "u", Start: start, End: start.Add(time.Hour), Stamp: start}))
	for _, want := range []string{"\r\nDTSTART:20261224T100000Z\r\n", "\r\nDTEND:20261224T110000Z\r\n"} {
		if !strings.Contains(ics, want) {
			t.Errorf("missing %q in\n%s", want, ics)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a,b", `a\,b`},
		{"a;b", `a\;b`},
		{`a\b`, `a\\b`},
		{"a\nb", `a\nb`},
		{"a\r\nb", `a\nb`},
		{"a:b", "a:b"}, // a colon is not escaped in TEXT
		{`"q"`, `"q"`},
		{"tab\there", "tab\there"},
		{"bell\x07", "bell"},
		{"日本語、句読点。", "日本語、句読点。"}, // the ideographic comma is not a comma
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFoldNeverSplitsAUTF8Character folds lines of 3-octet characters at
// every offset against the 75-octet limit.
func TestFoldNeverSplitsAUTF8Character(t *testing.T) {
	for pad := 0; pad < 3; pad++ {
		s := "SUMMARY:" + strings.Repeat("x", pad) + strings.Repeat("日", 80)
		var b strings.Builder
		fold(&b, s)
		out := b.String()
		checkLines(t, []byte(out))
		if got := strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""); got != s {
			t.Errorf("pad %d: unfolded %q, want %q", pad, got, s)
		}
	}
}

func TestForApplication(t *testing.T) {
	start := time.Date(2026, 12, 24, 19, 0, 0, 0, tokyo)
	free := &event.Event{Title: "年末セミナー", Fee: event.FeeFree}
	paid := &event.Event{Title: "有料講座", Fee: event.FeePaid, PriceJPY: 3000}
	sc := &event.Schedule{ID: 7, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Revision: 3}
	online := &event.ScheduleGroup{Venue: event.VenueURL, OnlineURL: "https://meet.example/room"}
	place := &event.ScheduleGroup{Venue: event.VenuePlace, Address: "東京都千代田区丸の内1-1-1"}
	labels := Labels{JoinURL: "参加URL", Venue: "会場", ApplicationURL: "申込ページ"}
	const join = "https://zoom.example/w/1?tk=me"
	tests := []struct {
		name         string
		a            *event.Application
		e            *event.Event
		g            *event.ScheduleGroup
		joinURL      string
		wantLocation string
		wantStatus   Status
	}{
		{"online, eligible", &event.Application{ID: 5, Token: "tok", Status: event.Applied}, free, online, join, join, Confirmed},
		{"online, キャンセル待ち", &event.Application{ID: 5, Token: "tok", Status: event.Waitlisted}, free, online, "", "", Tentative},
		{"online, 未入金", &event.Application{ID: 5, Token: "tok", Status: event.Applied, Payment: event.PaymentUnpaid}, paid, online, "", "", Tentative},
		{"online, 入金済", &event.Application{ID: 5, Token: "tok", Status: event.Applied, Payment: event.PaymentPaid}, paid, online, join, join, Confirmed},
		{"会場", &event.Application{ID: 5, Token: "tok", Status: event.Applied}, free, place, "", place.Address, Confirmed},
		{"キャンセル", &event.Application{ID: 5, Token: "tok", Status: event.Cancelled}, free, online, "", "", Cancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ForApplication(tt.a, tt.e, sc, tt.g, tt.joinURL, "https://kaisai.example:8443/", labels, start)
			if e.UID != "application-5-schedule-7@kaisai.example" {
				t.Errorf("UID = %q", e.UID)
			}
			if e.Sequence != 3 || e.Summary != tt.e.Title || !e.Start.Equal(sc.StartsAt) || !e.End.Equal(sc.EndsAt) {
				t.Errorf("entry = %+v", e)
			}
			if e.Location != tt.wantLocation || e.Status != tt.wantStatus {
				t.Errorf("location %q, status %s; want %q, %s", e.Location, e.Status, tt.wantLocation, tt.wantStatus)
			}
			page := "https://kaisai.example:8443/a/tok"
			if e.URL != page || !strings.Contains(e.Description, "申込ページ: "+page) {
				t.Errorf("application page missing: URL %q, description %q", e.URL, e.Description)
			}
			if hasJoin := strings.Contains(e.Description, "参加URL"); hasJoin != (tt.joinURL != "") {
				t.Errorf("description %q: join URL shown = %v, want %v", e.Description, hasJoin, tt.joinURL != "")
			}
			if strings.Contains(e.Description, online.OnlineURL) {
				t.Errorf("description %q carries the group's URL, not the participant's", e.Description)
			}
		})
	}
}

func TestGoogleURL(t *testing.T) {
	start := time.Date(2026, 12, 24, 19, 0, 0, 0, tokyo)
	e := Entry{Summary: "年末セミナー & 懇親会", Start: start, End: start.Add(2 * time.Hour),
		Description: "参加URL: https://zoom.example/w/1?tk=a&b=c\n申込ページ: https://kaisai.example/a/tok",
		Location:    "東京都千代田区1-1 #3F"}
	u, err := url.Parse(GoogleURL(e))
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "calendar.google.com" || u.Path != "/calendar/render" {
		t.Errorf("URL %s", u)
	}
	q := u.Query()
	want := map[string]string{"action": "TEMPLATE", "text": e.Summary, "dates": "20261224T100000Z/20261224T120000Z",
		"details": e.Description, "location": e.Location}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("query %v, want only %v", q, want)
	}
}
