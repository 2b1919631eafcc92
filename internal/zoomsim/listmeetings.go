package zoomsim

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// List meetings (GET /users/{userId}/meetings), as Meetings.json
// describes it: only scheduled meetings (never instant ones), only
// unexpired ones, ordered by start time, paged by next_page_token. from,
// to and the deprecated page_number are not simulated.

const (
	listPageSizeDefault = 30
	listPageSizeMax     = 300
	// pageTokenTTL: "This token's expiration period is 15 minutes."
	pageTokenTTL = 15 * time.Minute
	// listWindow: upcoming and previous meetings are "a maximum of 6
	// months of meeting data".
	listWindow = 6 * 30 * day
	// meetingExpiry: a non-recurring meeting's ID expires 30 days after
	// its scheduled start (Zoom's help center, "Meeting ID").
	meetingExpiry = 30 * day
)

// meetingListItem is one entry of the list: fewer fields than the meeting
// object (no passcode, no settings, no start_url), as in the spec.
type meetingListItem struct {
	UUID      string `json:"uuid"`
	ID        int64  `json:"id"`
	HostID    string `json:"host_id"`
	Topic     string `json:"topic"`
	Type      int    `json:"type"`
	StartTime string `json:"start_time,omitempty"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
	Agenda    string `json:"agenda,omitempty"`
	CreatedAt string `json:"created_at"`
	JoinURL   string `json:"join_url"`
}

type meetingList struct {
	PageSize      int               `json:"page_size"`
	NextPageToken string            `json:"next_page_token"`
	TotalRecords  int               `json:"total_records"`
	Meetings      []meetingListItem `json:"meetings"`
}

// listFilter reports whether m belongs in a list of that type at now.
func listFilter(typ string, now time.Time) (func(*meeting) bool, bool) {
	end := func(m *meeting) time.Time { return m.StartTime.Add(time.Duration(m.Duration) * time.Minute) }
	over := func(m *meeting) bool { return m.Live == nil && !end(m).After(now) }
	upcoming := func(m *meeting) bool {
		return m.Live != nil || (!over(m) && m.StartTime.Before(now.Add(listWindow)))
	}
	switch typ {
	case "", "scheduled": // previous (unexpired), live and upcoming
		return func(*meeting) bool { return true }, true
	case "live":
		return func(m *meeting) bool { return m.Live != nil }, true
	case "upcoming", "upcoming_meetings":
		return upcoming, true
	case "previous_meetings":
		return func(m *meeting) bool { return over(m) && end(m).After(now.Add(-listWindow)) }, true
	}
	return nil, false
}

// listed reports whether List meetings shows m at all: scheduled and
// recurring meetings that have not expired.
func listed(m *meeting, now time.Time) bool {
	switch m.Type {
	case 2:
		return m.Live != nil || now.Before(m.StartTime.Add(meetingExpiry))
	case 3, 8:
		return true
	}
	return false // instant (1) and screen-share (10) meetings
}

// meetingsCursor is where a page ends: the list type, and the start time and id
// of the page's last meeting (so a meeting deleted between pages shifts
// nothing), with the time the token expires. It is opaque to clients.
type meetingsCursor struct {
	typ     string
	start   time.Time
	id      int64
	expires time.Time
}

func (p meetingsCursor) encode() string {
	s := strings.Join([]string{p.typ, strconv.FormatInt(p.start.Unix(), 10), strconv.FormatInt(p.id, 10), strconv.FormatInt(p.expires.Unix(), 10)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeMeetingsCursor(v string) (meetingsCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return meetingsCursor{}, false
	}
	f := strings.Split(string(b), "|")
	if len(f) != 4 {
		return meetingsCursor{}, false
	}
	var n [3]int64
	for i, s := range f[1:] {
		if n[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return meetingsCursor{}, false
		}
	}
	return meetingsCursor{typ: f[0], start: time.Unix(n[0], 0).UTC(), id: n[1], expires: time.Unix(n[2], 0).UTC()}, true
}

// compareMeetings orders meetings by start time, then id.
func compareMeetings(a, b *meeting) int {
	return cmp.Or(a.StartTime.Compare(b.StartTime), cmp.Compare(a.ID, b.ID))
}

func (s *Server) listMeetings(c *call) (int, any, error) {
	host, err := c.pathUser()
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	now := s.now().UTC()
	typ := q.Get("type")
	keep, ok := listFilter(typ, now)
	if !ok {
		return 0, nil, invalidField("type", "Invalid field.")
	}
	size := listPageSizeDefault
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, invalidField("page_size", "Invalid field.")
		}
		if n > 0 {
			size = min(n, listPageSizeMax)
		}
	}
	var from *meetingsCursor
	if v := q.Get("next_page_token"); v != "" {
		tok, ok := decodeMeetingsCursor(v)
		if !ok || tok.typ != typ || !now.Before(tok.expires) {
			return 0, nil, zerr(http.StatusBadRequest, 300, "The next page token is invalid or expired.")
		}
		from = &tok
	}

	var all []*meeting
	for _, m := range s.st.Meetings {
		if m.HostID == host.ID && listed(m, now) && keep(m) {
			all = append(all, m)
		}
	}
	slices.SortFunc(all, compareMeetings)
	rest := all
	if from != nil {
		mark := &meeting{StartTime: from.start, ID: from.id}
		i, _ := slices.BinarySearchFunc(all, mark, compareMeetings)
		for i < len(all) && compareMeetings(all[i], mark) <= 0 {
			i++
		}
		rest = all[i:]
	}
	page := rest[:min(size, len(rest))]
	out := meetingList{PageSize: size, TotalRecords: len(all), Meetings: make([]meetingListItem, 0, len(page))}
	for _, m := range page {
		out.Meetings = append(out.Meetings, s.meetingListItem(m))
	}
	if len(rest) > len(page) {
		last := page[len(page)-1]
		out.NextPageToken = meetingsCursor{typ: typ, start: last.StartTime, id: last.ID, expires: now.Add(pageTokenTTL)}.encode()
	}
	return http.StatusOK, out, nil
}

func (s *Server) meetingListItem(m *meeting) meetingListItem {
	it := meetingListItem{
		UUID: m.UUID, ID: m.ID, HostID: m.HostID, Topic: m.Topic, Type: m.Type, Duration: m.Duration,
		Timezone: m.Timezone, Agenda: truncateRunes(m.Agenda, 250), CreatedAt: m.CreatedAt.UTC().Format(zoomTime),
		JoinURL: s.joinURL(m),
	}
	if !m.StartTime.IsZero() {
		it.StartTime = m.StartTime.UTC().Format(zoomTime)
	}
	return it
}

// truncateRunes cuts s to n characters: "The length of agenda gets
// truncated to 250 characters when you list all of a user's meetings."
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
