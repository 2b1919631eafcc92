package web

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
)

// The Zoom section of the 日程グループ form (「Zoomミーティングを作成する」,
// DESIGN.md §2): the host, security, 登録, video and options of the group's
// meetings. What only Zoom knows (the host's licence and passcode policy) is
// checked here, before saving, so the organizer hears it at once instead of
// from a failed job.

// zoomPolicyTimeout bounds the form's call to Zoom for the host's passcode
// policy: the form must not hang on Zoom.
const zoomPolicyTimeout = 3 * time.Second

// groupFormData is what the group form shows besides the form values.
type groupFormData struct {
	Event *event.Event
	Group *event.ScheduleGroup // nil for a new group
	// Stored are the group's Zoom settings as saved, nil when it has none:
	// what the form cannot offer keeps these (event.EditZoomSettings).
	Stored *event.ZoomSettings
	Hosts  []hostOption
	// AnyLinked: some host can be chosen; else the form links to /integrations.
	AnyLinked bool
	// Selected is the chosen host, nil when none is.
	Selected *hostOption
	// Offer is what the form offers for the chosen host.
	Offer event.ZoomOffer
	// PasscodeFallback: the host's passcode policy could not be read, so
	// the pre-filled passcode is a plain one (saving still works).
	PasscodeFallback bool
	// ToZoom is what choosing Zoom does to a group of another venue that
	// has dates (a meeting created for each), nil otherwise.
	ToZoom *warningLine
	// Confirm is the warning the organizer must confirm before the edit
	// is saved (meetings moved or deleted), nil when there is none.
	Confirm *zoomWarning
}

// hostOption is a Zoom connection offered as ホスト.
type hostOption struct {
	ID          string
	Name, Email string
	TypeKey     string // zoom.type.licensed, …
	Linked      bool
	Status      zoompolicy.ConnStatus
	// Current: the group's host now, which may be kept while not linked
	// (its meetings wait for re-linking).
	Current bool
	Host    event.ZoomHost
	// NoRegistration is why 登録 cannot be turned on with this host ("" when it can).
	NoRegistration string
}

// zoomTypeKey names a Zoom user's account type as last seen.
func zoomTypeKey(userType int) string {
	switch userType {
	case zoom.UserBasic:
		return "zoom.type.basic"
	case zoom.UserLicensed:
		return "zoom.type.licensed"
	case 0:
		return "zoom.type.unknown"
	}
	return "zoom.type.other"
}

func (s *Server) groupFormPage(r *http.Request, e *event.Event, g *event.ScheduleGroup) (*page, *groupFormData, error) {
	conns, err := s.store.ZoomConnections(r.Context(), e.OrgID)
	if err != nil {
		return nil, nil, err
	}
	d := &groupFormData{Event: e, Group: g}
	if g != nil && g.Venue == event.VenueZoom {
		d.Stored = g.Zoom
	}
	for _, c := range conns {
		h := hostOption{ID: strconv.FormatInt(c.ID, 10), Name: c.User.DisplayName, Email: c.User.Email,
			TypeKey: zoomTypeKey(c.User.Type), Linked: c.Status.Usable(), Status: c.Status,
			Current: d.Stored != nil && d.Stored.ConnID == c.ID, Host: c.Host()}
		h.NoRegistration = h.Host.NoRegistration()
		d.Hosts = append(d.Hosts, h)
		d.AnyLinked = d.AnyLinked || h.Linked
	}
	if g != nil && g.Venue != event.VenueZoom {
		schedules, err := s.groupSchedules(r, g)
		if err != nil {
			return nil, nil, err
		}
		if n := len(schedules); n > 0 {
			d.ToZoom = &warningLine{Key: "groups.zoom_impact_create", N: n}
		}
	}
	return s.newPage(r, d), d, nil
}

// selectHost records the chosen host, and what the form offers with it (登録
// needs a host linked with a Licensed account).
func (d *groupFormData) selectHost(id string) {
	d.Selected = nil
	host := event.ZoomHost{}
	for i := range d.Hosts {
		if d.Hosts[i].ID == id {
			d.Selected, host = &d.Hosts[i], d.Hosts[i].Host
		}
	}
	d.Offer = event.OfferZoomSettings(d.Stored, host)
}

// host is the organization's Zoom user of a connection id, nil for none.
func (d *groupFormData) host(connID int64) *event.ZoomHost {
	for i := range d.Hosts {
		if d.Hosts[i].Host.ConnID == connID {
			return &d.Hosts[i].Host
		}
	}
	return nil
}

// defaultHost is the host a new Zoom section starts with: the first linked one.
func (d *groupFormData) defaultHost() string {
	for _, h := range d.Hosts {
		if h.Linked {
			return h.ID
		}
	}
	return ""
}

// defaultZoomSettings are a new Zoom section's choices: a passcode (filled
// in by prefillZoom), the host's video on, participants muted on entry.
func defaultZoomSettings() *event.ZoomSettings {
	return &event.ZoomSettings{HostVideo: true, MuteUponEntry: true}
}

// zoomSettingsForm reads the Zoom section of a submitted group form.
func zoomSettingsForm(f url.Values) *event.ZoomSettings {
	connID, _ := strconv.ParseInt(strings.TrimSpace(f.Get("zoom_host")), 10, 64)
	return &event.ZoomSettings{ConnID: connID, Passcode: f.Get("zoom_passcode"),
		WaitingRoom: f.Get("zoom_waiting_room") == "1", Authentication: f.Get("zoom_authentication") == "1",
		Registration: f.Get("zoom_registration") == "1", HostVideo: f.Get("zoom_host_video") == "on",
		ParticipantVideo: f.Get("zoom_participant_video") == "on", MuteUponEntry: f.Get("zoom_mute_upon_entry") == "1",
		RegistrantEmails: f.Get("zoom_registrant_emails") == "1", Agenda: f.Get("zoom_agenda")}
}

// zoomValues are the form values of Zoom settings.
func zoomValues(z *event.ZoomSettings) url.Values {
	v := url.Values{"zoom_passcode": {z.Passcode}, "zoom_agenda": {z.Agenda},
		"zoom_host_video": {onOff(z.HostVideo)}, "zoom_participant_video": {onOff(z.ParticipantVideo)}}
	if z.ConnID > 0 {
		v.Set("zoom_host", strconv.FormatInt(z.ConnID, 10))
	}
	for name, on := range map[string]bool{"zoom_waiting_room": z.WaitingRoom, "zoom_authentication": z.Authentication,
		"zoom_registration": z.Registration, "zoom_mute_upon_entry": z.MuteUponEntry,
		"zoom_registrant_emails": z.RegistrantEmails} {
		if on {
			v.Set(name, "1")
		}
	}
	return v
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// prefillZoom chooses the default host and a passcode that satisfies its
// policy. When the policy cannot be read (Zoom unreachable, Zoom off), the
// passcode is of letters and digits, which most policies accept; the check
// on saving says otherwise.
func (s *Server) prefillZoom(r *http.Request, p *page, d *groupFormData) {
	host := p.Val("zoom_host")
	if host == "" {
		host = d.defaultHost()
		p.Form.Set("zoom_host", host)
	}
	d.selectHost(host)
	passcode := ""
	if d.Selected != nil && d.Selected.Linked {
		connID, _ := strconv.ParseInt(host, 10, 64)
		if st, err := s.hostSettings(r.Context(), d.Event.OrgID, connID); err == nil {
			passcode = zoom.GeneratePasscode(st.ScheduleMeeting.MeetingPasswordRequirement)
		}
	}
	if passcode == "" {
		passcode, d.PasscodeFallback = fallbackPasscode(), true
	}
	p.Form.Set("zoom_passcode", passcode)
}

// hostSettings reads a linked host's Zoom settings, within zoomPolicyTimeout.
func (s *Server) hostSettings(ctx context.Context, orgID, connID int64) (*zoom.UserSettings, error) {
	if s.zoomAPI == nil {
		return nil, errors.New("web: Zoom is off")
	}
	ctx, cancel := context.WithTimeout(ctx, zoomPolicyTimeout)
	defer cancel()
	var st *zoom.UserSettings
	err := s.zoomAPI.Do(ctx, orgID, connID, func(cl *zoom.Client) error {
		var err error
		st, err = cl.UserSettings(ctx, "me")
		return err
	})
	if err != nil {
		s.log.Warn("zoom host settings unavailable", "org", orgID, "conn", connID, "err", err)
		return nil, err
	}
	return st, nil
}

// fallbackPasscode is a passcode of letters and digits, which most hosts'
// policies accept, for when the host's policy cannot be read.
func fallbackPasscode() string {
	return zoom.GeneratePasscode(zoom.PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true})
}

// validateGroup checks a group as the domain does and, for Zoom, decides
// with the group's stored settings what is saved (event.EditZoomSettings:
// what the form could not offer keeps its stored value; a change kaisai
// cannot carry out, such as 登録 for a host without a licence, is refused),
// then what needs the host: the passcode must satisfy the host's policy
// (skipped when Zoom cannot tell it: the job then reports Zoom's refusal),
// and the group's schedules must fit Zoom's meeting length. The form's
// values follow what is saved.
func (s *Server) validateGroup(r *http.Request, g *event.ScheduleGroup, p *page, d *groupFormData, schedules []event.Schedule, loc *time.Location) error {
	var fe event.FieldErrors
	if err := g.Validate(); err != nil && !errors.As(err, &fe) {
		return err
	}
	if g.Venue != event.VenueZoom {
		return fe.Err()
	}
	z, refused := event.EditZoomSettings(d.Stored, g.Zoom, d.host(g.Zoom.ConnID))
	g.Zoom = &z
	fe = append(fe, refused...)
	for name := range p.Form {
		if strings.HasPrefix(name, "zoom_") {
			p.Form.Del(name)
		}
	}
	maps.Copy(p.Form, zoomValues(g.Zoom))
	d.selectHost(strconv.FormatInt(z.ConnID, 10))
	if h := d.Selected; h != nil && h.Linked {
		if _, bad := fe.For("zoom_passcode"); !bad {
			s.checkHostPasscode(r.Context(), d.Event.OrgID, g.Zoom, &fe)
		}
	}
	var tooLong []string
	for i := range schedules {
		if schedules[i].ValidateZoom() != nil {
			tooLong = append(tooLong, i18nDateTime(r, schedules[i].StartsAt, loc))
		}
	}
	if len(tooLong) > 0 {
		fe.Add("venue", "validation.zoom_schedules_too_long", strings.Join(tooLong, ", "), event.MaxZoomMinutes)
	}
	return fe.Err()
}

// checkHostPasscode asks the host's passcode policy of Zoom and the domain
// whether the passcode is refused (event.CheckZoomPasscode).
func (s *Server) checkHostPasscode(ctx context.Context, orgID int64, z *event.ZoomSettings, fe *event.FieldErrors) {
	st, err := s.hostSettings(ctx, orgID, z.ConnID)
	if err != nil {
		return
	}
	p := event.ZoomPasscodePolicy{Required: st.ScheduleMeeting.RequirePasswordForSchedulingNewMeetings}
	var pe *zoom.PasscodeError
	if errors.As(zoom.CheckPasscode(z.Passcode, st.ScheduleMeeting.MeetingPasswordRequirement), &pe) {
		p.Breach = event.ZoomPasscodeBreach{Rule: pe.Rule, Min: pe.Min, Max: pe.Max}
	}
	*fe = append(*fe, event.CheckZoomPasscode(z.Passcode, p)...)
}

// zoomWarning is what an edit of a Zoom group does to its meetings, which
// the organizer confirms before it is saved: each line a message key and
// its count (the plural form follows it; 0 for a text without a count),
// DESIGN.md §4.
type zoomWarning struct {
	Lines []warningLine
}

type warningLine struct {
	Key string
	N   int
}

// zoomChangeWarning is the warning an edit of a Zoom group needs confirmed
// when it has live meetings: another venue deletes them (and the personal
// join URLs of their registrants stop working); a new host deletes them and
// creates them again on the new host (new join URLs and passcodes; with
// 登録 kept on, the registrants are registered again on the new meetings,
// else their personal URLs just stop working). Moving to Zoom from another
// venue only creates meetings and needs no confirmation. nil when there is
// none.
func (s *Server) zoomChangeWarning(r *http.Request, old, edited *event.ScheduleGroup) (*zoomWarning, error) {
	if old.Venue != event.VenueZoom || old.Zoom == nil {
		return nil, nil
	}
	move := edited.Venue == event.VenueZoom
	if move && edited.Zoom.ConnID == old.Zoom.ConnID {
		return nil, nil
	}
	im, err := s.store.GroupZoomImpact(r.Context(), old.OrgID, old.ID)
	if err != nil || im.Meetings == 0 {
		return nil, err
	}
	w := &zoomWarning{}
	add := func(key string, n int) { w.Lines = append(w.Lines, warningLine{Key: key, N: n}) }
	switch {
	case !move:
		add("groups.zoom_impact_delete", im.Meetings)
		if im.Registrants == 0 {
			add("groups.zoom_impact_delete_urls", 0)
		} else {
			add("groups.zoom_impact_registrants_lost", im.Registrants)
		}
	default:
		add("groups.zoom_impact_move", im.Meetings)
		switch {
		case im.Registrants == 0:
		case edited.Zoom.Registration:
			add("groups.zoom_impact_registrants_moved", im.Registrants)
		default:
			add("groups.zoom_impact_registrants_lost", im.Registrants)
		}
		add("groups.zoom_impact_move_tell", 0)
	}
	return w, nil
}
