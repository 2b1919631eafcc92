// Package calendar owns the calendar entries kaisai hands its participants
// (DESIGN.md §9): an application's 日程 as an iCalendar object (RFC 5545,
// attached to the 申込完了 and 入金完了 mails and offered on the application
// page) and as a 「Googleカレンダーに追加」 link. Pure functions: the caller
// says which join URL the participant may see (zoompolicy.ParticipantURL).
//
// The iCalendar text is written here rather than by a library: of the Go
// libraries at hand one does not fold long lines and the other escapes
// characters RFC 5545 does not (":"), which strict readers refuse. Tests
// read the output back with a separate parser.
package calendar

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kaisai/internal/event"
)

// Status is an entry's STATUS (RFC 5545 §3.8.1.11).
type Status string

const (
	Confirmed Status = "CONFIRMED" // the seat is the participant's
	Tentative Status = "TENTATIVE" // キャンセル待ち, or 未入金 in a paid event
	Cancelled Status = "CANCELLED" // キャンセル
)

// Entry is one application's 日程 as a calendar event.
type Entry struct {
	UID         string
	Sequence    int       // bumped each time the 日程 moves
	Stamp       time.Time // DTSTAMP: when the object was made
	Start, End  time.Time
	Summary     string // the event's title
	Description string
	Location    string
	URL         string // the application page
	Status      Status
}

// UID is the entry's identifier: stable for one application on one 日程, so
// a calendar that imports a later copy replaces the earlier one. host is
// kaisai's public host name.
func UID(applicationID, scheduleID int64, host string) string {
	return fmt.Sprintf("application-%d-schedule-%d@%s", applicationID, scheduleID, host)
}

// Labels are the words of the description, in the reader's language.
type Labels struct {
	JoinURL        string // 参加URL
	Venue          string // 会場
	ApplicationURL string // 申込ページ
}

// ForApplication is the entry of application a, on schedule sc of group g
// of event e. joinURL is the URL the participant may join with
// (zoompolicy.ParticipantURL; "" where they may not); baseURL is kaisai's
// public URL; stamp is DTSTAMP.
func ForApplication(a *event.Application, e *event.Event, sc *event.Schedule, g *event.ScheduleGroup,
	joinURL, baseURL string, l Labels, stamp time.Time) Entry {
	base := strings.TrimRight(baseURL, "/")
	host := "kaisai"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	page := base + "/a/" + a.Token
	var desc []string
	location := ""
	if g.Venue == event.VenuePlace && g.Address != "" {
		location = g.Address
		desc = append(desc, l.Venue+": "+g.Address)
	}
	if joinURL != "" {
		location = joinURL
		desc = append(desc, l.JoinURL+": "+joinURL)
	}
	desc = append(desc, l.ApplicationURL+": "+page)
	status := Confirmed
	switch {
	case a.Status == event.Cancelled:
		status = Cancelled
	case !a.Eligible(e):
		status = Tentative
	}
	return Entry{
		UID:         UID(a.ID, sc.ID, host),
		Sequence:    sc.Revision,
		Stamp:       stamp,
		Start:       sc.StartsAt,
		End:         sc.EndsAt,
		Summary:     e.Title,
		Description: strings.Join(desc, "\n"),
		Location:    location,
		URL:         page,
		Status:      status,
	}
}

// ContentType is the media type of ICS's output.
const ContentType = "text/calendar; charset=utf-8; method=PUBLISH"

// ICS is the entry as an iCalendar object with METHOD:PUBLISH: information
// to keep, not an invitation to answer. Times are in UTC; lines end in CRLF
// and are folded at 75 octets, never inside a UTF-8 character.
func ICS(e Entry) []byte {
	var b strings.Builder
	line := func(name, value string) { fold(&b, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//kaisai//kaisai//JA")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("BEGIN", "VEVENT")
	line("UID", Text(e.UID))
	line("SEQUENCE", strconv.Itoa(e.Sequence))
	line("DTSTAMP", utc(e.Stamp))
	line("DTSTART", utc(e.Start))
	line("DTEND", utc(e.End))
	line("SUMMARY", Text(e.Summary))
	if e.Description != "" {
		line("DESCRIPTION", Text(e.Description))
	}
	if e.Location != "" {
		line("LOCATION", Text(e.Location))
	}
	if e.URL != "" {
		line("URL", e.URL) // a URI, not TEXT: not escaped
	}
	if e.Status != "" {
		line("STATUS", string(e.Status))
	}
	line("END", "VEVENT")
	line("END", "VCALENDAR")
	return []byte(b.String())
}

// utc is a DATE-TIME in UTC form (RFC 5545 §3.3.5, FORM #2).
func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// Text escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon and
// comma are escaped, a line break becomes \n, and other control characters
// (which TEXT does not allow) are dropped.
func Text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// maxLine is the longest a content line may be, in octets, without its CRLF.
const maxLine = 75

// fold writes a content line, folded (RFC 5545 §3.1) so that no line is
// longer than maxLine octets: a continuation line starts with a space,
// which counts. A UTF-8 character is never split.
func fold(b *strings.Builder, s string) {
	limit := maxLine
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = maxLine - 1
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}

// GoogleURL is the 「Googleカレンダーに追加」 link: Google Calendar's form
// for a new event, filled with the entry.
func GoogleURL(e Entry) string {
	q := []string{
		"action=TEMPLATE",
		"text=" + url.QueryEscape(e.Summary),
		"dates=" + utc(e.Start) + "/" + utc(e.End),
	}
	if e.Description != "" {
		q = append(q, "details="+url.QueryEscape(e.Description))
	}
	if e.Location != "" {
		q = append(q, "location="+url.QueryEscape(e.Location))
	}
	return "https://calendar.google.com/calendar/render?" + strings.Join(q, "&")
}
