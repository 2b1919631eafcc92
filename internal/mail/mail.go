// Package mail owns kaisai's outgoing e-mail to participants (and the
// organizer's notices): rendering an outbox row into a message (in Japanese,
// from the event's wording or the default of its kind) and delivering it, by SMTP when KAISAI_SMTP_URL is
// set. With no SMTP configured nothing is sent: the rendered mail is kept in
// the outbox and shown to the operator (the dev outbox).
package mail

import (
	"context"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/calendar"
	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// DefaultFrom is the sender when KAISAI_MAIL_FROM is not set.
const DefaultFrom = "kaisai <no-reply@localhost>"

// lang is the language of every mail: participants are written to in Japanese.
const lang = i18n.Japanese

// Message is one rendered e-mail, plain text in UTF-8.
type Message struct {
	From      netmail.Address
	To        netmail.Address // the applicant, with their name as display name
	Subject   string
	Body      string
	MessageID string // without angle brackets; the outbox row's, so the same on every attempt
	Date      time.Time
	// Calendar is the 日程 as an iCalendar object (calendar.ICS), attached
	// as CalendarFile; nil for a mail without one.
	Calendar []byte
}

// CalendarFile is the name of the .ics attached to a mail.
const CalendarFile = "event.ics"

// Renderer turns outbox rows into messages.
type Renderer struct {
	From netmail.Address
	// BaseURL is kaisai's public URL, for the link to the application page.
	BaseURL string
	msgs    *i18n.Catalog
}

// NewRenderer parses from (an RFC 5322 address, "" for DefaultFrom).
func NewRenderer(from, baseURL string) (*Renderer, error) {
	if from == "" {
		from = DefaultFrom
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", from, err)
	}
	msgs, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	return &Renderer{From: *addr, BaseURL: baseURL, msgs: msgs}, nil
}

// DefaultTemplate is the wording of kind that applies while an event has
// none of its own, from the catalog (keys mail.default.<kind>.subject/.body).
func DefaultTemplate(c *i18n.Catalog, kind event.MailKind) event.MailTemplate {
	prefix := "mail.default." + string(kind)
	return event.MailTemplate{Kind: kind, Subject: c.T(lang, prefix+".subject"), Body: c.T(lang, prefix+".body")}
}

// Render fills the event's template of m's kind (or the default) with m's
// application, event and schedule, as for an applicant kaisai has not
// registered on a Zoom meeting: RenderFor gives the personal join URL.
func (r *Renderer) Render(m *store.OutgoingMail, date time.Time) Message {
	return r.RenderFor(m, "", date)
}

// RenderFor is Render with personalURL, the application's own join URL on
// its schedule's Zoom meeting (its registrant's, DESIGN.md §3), or "" while
// it is not registered; see PersonalJoinURLs.
func (r *Renderer) RenderFor(m *store.OutgoingMail, personalURL string, date time.Time) Message {
	if m.Member != nil {
		return r.renderOrganizer(m, date)
	}
	if m.Kind == event.MailApplicationLinks {
		return r.renderLinks(m, date)
	}
	t := DefaultTemplate(r.msgs, m.Kind)
	if m.Template != nil {
		t = *m.Template
	}
	subject, body := t.Render(r.VarsFor(m, personalURL))
	return Message{
		From:      r.From,
		To:        netmail.Address{Name: m.Application.Name, Address: m.Application.Email},
		Subject:   subject,
		Body:      body,
		MessageID: m.MessageID,
		Date:      date,
		Calendar:  r.calendar(m, personalURL, date),
	}
}

// calendar is the .ics of a 申込完了, 繰り上げ or 入金完了 mail (DESIGN.md
// §9): the application's 日程 with the join URL the participant may use
// now (zoompolicy.ParticipantURL), none for キャンセル待ち or 未入金. It is
// made from the data current when the mail is sent, as the body is: a
// retry sends the same entry unless the 日程 changed meanwhile, and then
// the new times, with the SEQUENCE the move bumped. DTSTAMP is when the
// mail was written, so that retries do not differ by it.
func (r *Renderer) calendar(m *store.OutgoingMail, personalURL string, date time.Time) []byte {
	switch m.Kind {
	case event.MailApplied, event.MailPromoted, event.MailPaid:
	default:
		return nil
	}
	a := &m.Application
	if !a.Active() {
		return nil // cancelled before the mail went: nothing to put in a calendar
	}
	stamp := m.CreatedAt
	if stamp.IsZero() {
		stamp = date // a row without its time (tests)
	}
	join := zoompolicy.ParticipantURL(&m.Group, &m.Event, a, personalURL)
	return calendar.ICS(calendar.ForApplication(a, &m.Event, &m.Schedule, &m.Group, join, r.BaseURL,
		CalendarLabels(r.msgs, lang), stamp))
}

// CalendarLabels are the words of a calendar entry's description in lang.
func CalendarLabels(c *i18n.Catalog, lang i18n.Lang) calendar.Labels {
	return calendar.Labels{JoinURL: c.T(lang, "calendar.join_url"), Venue: c.T(lang, "calendar.venue"),
		ApplicationURL: c.T(lang, "calendar.application_url")}
}

// renderOrganizer renders a mail to an organization member (such as
// event.MailZoomRelink) from the default wording of its kind, filled with
// the values taken when it was written, the member's name and the link to
// サービス連携.
func (r *Renderer) renderOrganizer(m *store.OutgoingMail, date time.Time) Message {
	t := DefaultTemplate(r.msgs, m.Kind)
	vars := map[string]string{}
	for k, v := range m.Vars {
		vars[k] = v
	}
	vars["name"] = m.Member.Name
	vars["integrations_url"] = strings.TrimRight(r.BaseURL, "/") + "/integrations"
	subject, body := t.Render(vars)
	return Message{
		From:      r.From,
		To:        netmail.Address{Name: m.Member.Name, Address: m.Member.Email},
		Subject:   subject,
		Body:      body,
		MessageID: m.MessageID,
		Date:      date,
	}
}

// renderLinks renders a 申込内容の確認 mail: the links to the participant's
// applications of the event (m.Links), from the default wording.
func (r *Renderer) renderLinks(m *store.OutgoingMail, date time.Time) Message {
	loc := m.Event.Location()
	base := strings.TrimRight(r.BaseURL, "/")
	var list strings.Builder
	for _, l := range m.Links {
		fmt.Fprintf(&list, "■ %s – %s(%s)\n%s/a/%s\n\n", i18n.DateTime(lang, l.StartsAt, loc), i18n.Time(l.EndsAt, loc),
			r.msgs.T(lang, "application_status."+string(l.Status)), base, l.Token)
	}
	t := DefaultTemplate(r.msgs, m.Kind)
	subject, body := t.Render(map[string]string{"name": m.Application.Name, "event": m.Event.Title,
		"applications": strings.TrimRight(list.String(), "\n")})
	return Message{
		From:      r.From,
		To:        netmail.Address{Name: m.Application.Name, Address: m.Application.Email},
		Subject:   subject,
		Body:      body,
		MessageID: m.MessageID,
		Date:      date,
	}
}

// PersonalJoinURLs are the personal Zoom join URLs of the applications of
// mails whose group registers its applicants on Zoom (登録), by application
// id; an application not registered (yet) has none. It reads them in one
// query, for RenderFor: the URL is the one current when the mail is sent.
func PersonalJoinURLs(ctx context.Context, st *store.Store, mails []store.OutgoingMail) (map[int64]string, error) {
	var ids []int64
	for i := range mails {
		m := &mails[i]
		if m.Member == nil && zoompolicy.Registers(&m.Group) {
			ids = append(ids, m.Application.ID)
		}
	}
	urls := map[int64]string{}
	if len(ids) == 0 {
		return urls, nil
	}
	regs, err := st.ApplicationRegistrantsUnscoped(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("mail: personal join URLs: %w", err)
	}
	for id, reg := range regs {
		if u := reg.PersonalJoinURL(); u != "" {
			urls[id] = u
		}
	}
	return urls, nil
}

// Vars are the values of the placeholders (event.MailPlaceholders) for m,
// as for an applicant not registered on a Zoom meeting (see VarsFor).
func (r *Renderer) Vars(m *store.OutgoingMail) map[string]string {
	return r.VarsFor(m, "")
}

// VarsFor are the values of the placeholders for m, whose application's
// personal Zoom join URL is personalURL ("" for none).
func (r *Renderer) VarsFor(m *store.OutgoingMail, personalURL string) map[string]string {
	a, e, sc, g := &m.Application, &m.Event, &m.Schedule, &m.Group
	loc := e.Location()
	venue := g.Address
	if g.Venue.Online() {
		venue = r.msgs.T(lang, "mail.venue_online")
	}
	price := r.msgs.T(lang, "fee.free")
	if e.Paid() {
		price = i18n.Yen(lang, e.PriceJPY)
	}
	return map[string]string{
		"name":            a.Name,
		"event":           e.Title,
		"schedule":        i18n.DateTime(lang, sc.StartsAt, loc) + " – " + i18n.Time(sc.EndsAt, loc),
		"venue":           venue,
		"status":          r.msgs.T(lang, "application_status."+string(a.Status)),
		"status_note":     r.statusNote(a, e),
		"online_url":      r.onlineURL(a, e, g, personalURL) + r.passcodeNotice(a, e, g, personalURL) + r.signInNotice(a, g),
		"application_url": strings.TrimRight(r.BaseURL, "/") + "/a/" + a.Token,
		"price":           price,
		// The 領収書 page: a paid application's receipt is issued there.
		"receipt_url":   strings.TrimRight(r.BaseURL, "/") + "/a/" + a.Token + "/receipt",
		"refund_amount": r.refundAmount(m),
	}
}

// refundAmount is the amount of the refund a 返金のお知らせ is about, taken
// when the refund succeeded; empty in other mail.
func (r *Renderer) refundAmount(m *store.OutgoingMail) string {
	n, err := strconv.ParseInt(m.Vars["refund_amount"], 10, 64)
	if err != nil {
		return ""
	}
	return i18n.Yen(lang, n)
}

// statusNote is the sentence that says what the application's status means
// for the participant: a seat held, one held until paid, a place on the
// waitlist, or a cancelled application. The 申込完了 mail says it, so that
// a confirmed participant is not told about the waitlist.
func (r *Renderer) statusNote(a *event.Application, e *event.Event) string {
	key := "mail.status_note." + string(a.Status)
	if a.Status == event.Applied && e.Paid() && a.Payment != event.PaymentPaid {
		key = "mail.status_note.applied_unpaid"
	}
	return r.msgs.T(lang, key)
}

// passcodeNotice follows a Zoom join URL that does not carry the meeting's
// passcode (zoompolicy.PasscodeToTell): the participant is told it.
func (r *Renderer) passcodeNotice(a *event.Application, e *event.Event, g *event.ScheduleGroup, personalURL string) string {
	if g.Venue != event.VenueZoom {
		return ""
	}
	j := zoompolicy.JoinFor(g, e, a, personalURL)
	if p := zoompolicy.PasscodeToTell(g, j.URL); p != "" {
		return "\n" + r.msgs.T(lang, "mail.zoom_passcode", p)
	}
	return ""
}

// signInNotice follows the join URL (or what stands for it) of a meeting
// that needs a Zoom sign-in (認証): the participant must sign in with the
// e-mail they applied with. It rides with {online_url}, so every mail that
// mentions the URL says it, an organizer's own wording included.
func (r *Renderer) signInNotice(a *event.Application, g *event.ScheduleGroup) string {
	if g.Venue != event.VenueZoom || !a.Active() || !zoompolicy.SignInRequired(zoompolicy.Of(g.Zoom)) {
		return ""
	}
	return "\n" + r.msgs.T(lang, "mail.zoom_signin", a.Email)
}

// onlineURL is the group's online URL for an eligible applicant (free:
// applied; paid: 入金済), else a sentence saying when it will be given. For
// a Zoom meeting with 登録 an eligible applicant gets their personal join
// URL (personalURL), never the meeting's: until they are registered, a
// sentence says it will be on their application page.
func (r *Renderer) onlineURL(a *event.Application, e *event.Event, g *event.ScheduleGroup, personalURL string) string {
	if g.Venue == event.VenueZoom {
		// The meeting's URL and no URL read as for any online group, below.
		switch j := zoompolicy.JoinFor(g, e, a, personalURL); j.Access {
		case zoompolicy.PersonalURL:
			return j.URL
		case zoompolicy.PendingURL:
			return r.msgs.T(lang, "mail.online_url.personal_pending")
		}
	}
	switch {
	case !g.Venue.Online():
		return r.msgs.T(lang, "mail.online_url.none")
	case a.Eligible(e) && g.OnlineURL == "":
		// A Zoom meeting not made yet: the application page shows it once it is.
		return r.msgs.T(lang, "mail.online_url.pending")
	case a.Eligible(e):
		return g.OnlineURL
	case a.Status == event.Cancelled:
		return r.msgs.T(lang, "mail.online_url.cancelled")
	case a.Status == event.Waitlisted:
		return r.msgs.T(lang, "mail.online_url.waitlisted")
	default: // applied to a paid event, not yet 入金済
		return r.msgs.T(lang, "mail.online_url.unpaid")
	}
}
