package event

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on what organizers and participants may enter.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 10000
	MaxNameLen        = 100
	// MaxEmailLen is Zoom's limit on a registrant's e-mail (its API spec:
	// 128 characters): any applicant may end up on a Zoom registrant list,
	// and an address Zoom refuses there is refused here, at the form.
	MaxEmailLen   = 128
	MaxAddressLen = 500
	MaxURLLen     = 2000
	MaxPriceJPY   = 10_000_000
	MaxCapacity   = 100_000
	// 支払期限: an unpaid application lapses this many days after applying.
	DefaultPaymentDays = 7
	MaxPaymentDays     = 60
	DefaultTimeZone    = "Asia/Tokyo"
)

// Fee says whether an event is free (無料) or paid (有料).
type Fee string

const (
	FeeFree Fee = "free"
	FeePaid Fee = "paid"
)

// Status is whether an event is visible to participants: 公開 or 下書き.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
)

// Event is a seminar or event (セミナー / イベント) of one organization.
type Event struct {
	ID              int64
	OrgID           int64
	Slug            string // unguessable public identifier used in participant URLs
	Title           string
	Description     string
	Fee             Fee
	PriceJPY        int64 // tax-inclusive; 0 for a free event
	TimeZone        string
	Status          Status
	WaitlistEnabled bool // キャンセル待ち: a full schedule waitlists instead of refusing
	// PaymentDays is the 支払期限 of a paid event: an application still
	// 未入金 this many days after applying lapses (never after its schedule
	// starts; package payment decides).
	PaymentDays int
	// The キャンセル・返金ポリシー of a paid event (package payment reads it
	// with payment.PolicyOf): SelfCancelOff forbids participants to cancel
	// a paid application themselves (by default they may); CancelDays is
	// until how many days before the schedule's date they may (0: until it
	// starts); RefundTiers what they get back then ("3:100,1:50"; "": nothing).
	SelfCancelOff bool
	CancelDays    int
	RefundTiers   string
	// ReceiptPurpose is the 但し書き of the event's 領収書 ("": the default).
	ReceiptPurpose string
	// Contact is the public page's お問い合わせ先: an e-mail address or an
	// http(s) URL ("": none). TermsURL and PrivacyURL are the organizer's
	// 利用規約 and プライバシーポリシー; with either set, applying needs the
	// participant's consent (ApplicationInput.Consent).
	Contact    string
	TermsURL   string
	PrivacyURL string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Location returns the event's time zone, or Asia/Tokyo when it is unknown.
func (e *Event) Location() *time.Location {
	if loc, err := time.LoadLocation(e.TimeZone); err == nil {
		return loc
	}
	loc, _ := time.LoadLocation(DefaultTimeZone)
	return loc
}

// Published reports whether participants may see and apply to the event.
func (e *Event) Published() bool { return e.Status == StatusPublished }

// Paid reports whether the event charges a fee.
func (e *Event) Paid() bool { return e.Fee == FeePaid }

// Normalize trims what people type and fills in defaults.
func (e *Event) Normalize() {
	e.Title = strings.TrimSpace(e.Title)
	e.Description = strings.TrimSpace(NormalizeNewlines(e.Description))
	e.TimeZone = strings.TrimSpace(e.TimeZone)
	e.Contact = strings.TrimSpace(e.Contact)
	e.TermsURL = strings.TrimSpace(e.TermsURL)
	e.PrivacyURL = strings.TrimSpace(e.PrivacyURL)
	if e.TimeZone == "" {
		e.TimeZone = DefaultTimeZone
	}
	if e.Fee == FeeFree {
		e.PriceJPY = 0
		if e.PaymentDays < 1 || e.PaymentDays > MaxPaymentDays {
			e.PaymentDays = DefaultPaymentDays // not asked of a free event
		}
	}
	if e.PaymentDays == 0 {
		e.PaymentDays = DefaultPaymentDays
	}
}

// Validate checks the event as an organizer entered it.
func (e *Event) Validate() error {
	var fe FieldErrors
	if checkText(&fe, "title", e.Title, false) {
		switch n := utf8.RuneCountInString(e.Title); {
		case n == 0:
			fe.Add("title", "validation.required")
		case n > MaxTitleLen:
			fe.Add("title", "validation.too_long", MaxTitleLen)
		}
	}
	if checkText(&fe, "description", e.Description, true) && utf8.RuneCountInString(e.Description) > MaxDescriptionLen {
		fe.Add("description", "validation.too_long", MaxDescriptionLen)
	}
	switch e.Fee {
	case FeeFree:
	case FeePaid:
		if e.PriceJPY < 1 || e.PriceJPY > MaxPriceJPY {
			fe.Add("price", "validation.price_range", MaxPriceJPY)
		}
		if e.PaymentDays < 0 || e.PaymentDays > MaxPaymentDays { // 0: unset, the default
			fe.Add("payment_days", "validation.payment_days_range", MaxPaymentDays)
		}
	default:
		fe.Add("fee", "validation.choose")
	}
	if _, err := time.LoadLocation(e.TimeZone); err != nil || e.TimeZone == "Local" {
		fe.Add("time_zone", "validation.time_zone")
	}
	if e.Status != StatusDraft && e.Status != StatusPublished {
		fe.Add("status", "validation.choose")
	}
	if checkText(&fe, "contact", e.Contact, false) && e.Contact != "" && !validWebURL(e.Contact) && !ValidEmail(e.Contact) {
		fe.Add("contact", "validation.contact")
	}
	for _, u := range []struct{ field, url string }{{"terms_url", e.TermsURL}, {"privacy_url", e.PrivacyURL}} {
		if checkText(&fe, u.field, u.url, false) && u.url != "" && !validWebURL(u.url) {
			fe.Add(u.field, "validation.url")
		}
	}
	return fe.Err()
}

// ContactEmail reports whether the お問い合わせ先 is an e-mail address
// (else it is a URL, or empty).
func (e *Event) ContactEmail() bool { return e.Contact != "" && !validWebURL(e.Contact) }

// NeedsConsent reports whether applying asks the participant to agree to
// the organizer's 利用規約 and/or プライバシーポリシー.
func (e *Event) NeedsConsent() bool { return e.TermsURL != "" || e.PrivacyURL != "" }

// Venue is where a schedule group is held.
type Venue string

const (
	VenuePlace Venue = "place" // 会場: a physical address
	VenueURL   Venue = "url"   // 開催URL: any online URL entered by hand
	VenueZoom  Venue = "zoom"  // Zoom: kaisai creates a meeting per schedule (ScheduleGroup.Zoom)
)

// Online reports whether participants join through a URL.
func (v Venue) Online() bool { return v == VenueURL || v == VenueZoom }

// ScheduleGroup (日程グループ) is a set of dates of one event held in the same
// place.
type ScheduleGroup struct {
	ID        int64
	OrgID     int64
	EventID   int64
	Name      string
	Venue     Venue
	Address   string // for VenuePlace
	OnlineURL string // for VenueURL; shown only to eligible applicants
	// Zoom holds the meeting settings of a VenueZoom group; nil for the others.
	Zoom      *ZoomSettings
	CreatedAt time.Time
}

// Normalize trims what people type and drops the field the venue does not use.
func (g *ScheduleGroup) Normalize() {
	g.Name = strings.TrimSpace(g.Name)
	g.Address = strings.TrimSpace(g.Address)
	g.OnlineURL = strings.TrimSpace(g.OnlineURL)
	switch g.Venue {
	case VenuePlace:
		g.OnlineURL, g.Zoom = "", nil
	case VenueURL:
		g.Address, g.Zoom = "", nil
	case VenueZoom:
		g.Address, g.OnlineURL = "", ""
		if g.Zoom == nil {
			g.Zoom = &ZoomSettings{}
		}
		g.Zoom.Normalize()
	}
}

// Validate checks the group as an organizer entered it.
func (g *ScheduleGroup) Validate() error {
	var fe FieldErrors
	if checkText(&fe, "name", g.Name, false) && utf8.RuneCountInString(g.Name) > MaxTitleLen {
		fe.Add("name", "validation.too_long", MaxTitleLen)
	}
	switch g.Venue {
	case VenuePlace:
		if !checkText(&fe, "address", g.Address, false) {
			break
		}
		switch n := utf8.RuneCountInString(g.Address); {
		case n == 0:
			fe.Add("address", "validation.required")
		case n > MaxAddressLen:
			fe.Add("address", "validation.too_long", MaxAddressLen)
		}
	case VenueURL:
		if !checkText(&fe, "online_url", g.OnlineURL, false) {
			break
		}
		if g.OnlineURL == "" {
			fe.Add("online_url", "validation.required")
		} else if !validWebURL(g.OnlineURL) {
			fe.Add("online_url", "validation.url")
		}
	case VenueZoom:
		if g.Zoom == nil {
			g.Zoom = &ZoomSettings{}
		}
		g.Zoom.validate(&fe)
	default:
		fe.Add("venue", "validation.choose")
	}
	return fe.Err()
}

func validWebURL(s string) bool {
	if len(s) > MaxURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Schedule (日程) is one date of an event: start, end and capacity (定員).
type Schedule struct {
	ID         int64
	OrgID      int64
	EventID    int64
	GroupID    int64
	StartsAt   time.Time
	EndsAt     time.Time
	Capacity   int
	SeatsTaken int // applications with status 申込済
	CreatedAt  time.Time
	// Revision counts the times the schedule moved (start or end changed):
	// the SEQUENCE of its participants' calendar entries.
	Revision int
}

// SeatsLeft is how many more applications the schedule accepts.
func (s *Schedule) SeatsLeft() int { return max(s.Capacity-s.SeatsTaken, 0) }

// Full reports whether the schedule takes no more applications.
func (s *Schedule) Full() bool { return s.SeatsLeft() == 0 }

// MaxYearsAhead bounds how far ahead a schedule may be: its dates lie
// between 2000-01-01 (in the event's time zone) and this many years from
// now. A date outside is a slip of the date picker (0001-01-01,
// 9999-12-31), never an event, and must not reach Zoom.
const MaxYearsAhead = 5

// ScheduleDateRange is the first and the last day a schedule may be on, at
// now, as midnight in loc (the event's time zone).
func ScheduleDateRange(now time.Time, loc *time.Location) (first, last time.Time) {
	y, m, d := now.In(loc).AddDate(MaxYearsAhead, 0, 0).Date()
	return time.Date(2000, time.January, 1, 0, 0, 0, 0, loc), time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Validate checks the schedule as an organizer entered it, at now, its
// dates read in loc (the event's time zone).
func (s *Schedule) Validate(now time.Time, loc *time.Location) error {
	var fe FieldErrors
	if s.StartsAt.IsZero() {
		fe.Add("starts_at", "validation.datetime")
	}
	if s.EndsAt.IsZero() {
		fe.Add("ends_at", "validation.datetime")
	}
	first, last := ScheduleDateRange(now, loc)
	end := last.AddDate(0, 0, 1) // the whole of the last day
	outside := func(t time.Time) bool { return !t.IsZero() && (t.Before(first) || !t.Before(end)) }
	if outside(s.StartsAt) || outside(s.EndsAt) {
		fe.Add("starts_at", "validation.date_range", first.Format("2006-01-02"), last.Format("2006-01-02"))
	}
	if !s.StartsAt.IsZero() && !s.EndsAt.IsZero() && !s.EndsAt.After(s.StartsAt) {
		fe.Add("ends_at", "validation.ends_after_start")
	}
	if s.Capacity < 1 || s.Capacity > MaxCapacity {
		fe.Add("capacity", "validation.capacity_range", MaxCapacity)
	}
	return fe.Err()
}

// Started reports whether the schedule has begun at now (its start is not
// ahead of now).
func (s *Schedule) Started(now time.Time) bool { return !now.Before(s.StartsAt) }

// NeedsPastConfirmation reports whether saving the schedule needs the
// organizer to confirm a start in the past: a new schedule (before nil),
// or one whose start moved, that has begun at now. A past schedule whose
// start stays (its capacity edited, say) saves as it is.
func (s *Schedule) NeedsPastConfirmation(before *Schedule, now time.Time) bool {
	moved := before == nil || !before.StartsAt.Equal(s.StartsAt)
	return moved && !s.StartsAt.IsZero() && s.Started(now)
}

// NormalizeEmail trims an address and lower-cases it, for comparisons and for
// organizer logins. Applications keep the address as typed.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a bare e-mail address of the everyday
// form every mail system and Zoom take: a dot-atom local part of ASCII
// (RFC 5322's atext: no quoted strings, no spaces), at most 64 octets, and
// a host name of letters, digits and hyphens with at least one dot (no
// address literal, no raw non-ASCII domain); at most MaxEmailLen in all.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLen {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(local) > 64 || !dotAtom(local) || !hostName(domain) {
		return false
	}
	_, err := mail.ParseAddress(s) // the same verdict as the mail library that sends to it
	return err == nil
}

// dotAtom reports whether s is atoms of atext separated by single dots.
func dotAtom(s string) bool {
	for atom := range strings.SplitSeq(s, ".") {
		if atom == "" {
			return false
		}
		for _, c := range []byte(atom) {
			if !isAtext(c) {
				return false
			}
		}
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// hostName reports whether s is a domain name of two labels or more, each
// 1–63 letters, digits or inner hyphens.
func hostName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
