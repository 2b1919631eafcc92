package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"kaisai/internal/event"
	"kaisai/internal/zoompolicy"
)

const eventColumns = `e.id, e.org_id, e.slug, e.title, e.description, e.fee, e.price_jpy, e.time_zone,
	e.status, e.waitlist_enabled, e.payment_days, e.self_cancel_off, e.cancel_days, e.refund_tiers,
	e.receipt_purpose, e.contact, e.terms_url, e.privacy_url, e.created_at, e.updated_at`

func scanEvent(sc interface{ Scan(...any) error }, e *event.Event, extra ...any) error {
	return sc.Scan(append([]any{&e.ID, &e.OrgID, &e.Slug, &e.Title, &e.Description, &e.Fee, &e.PriceJPY,
		&e.TimeZone, &e.Status, &e.WaitlistEnabled, &e.PaymentDays, &e.SelfCancelOff, &e.CancelDays, &e.RefundTiers,
		&e.ReceiptPurpose, &e.Contact, &e.TermsURL, &e.PrivacyURL, &e.CreatedAt, &e.UpdatedAt}, extra...)...)
}

// EventSummary is a row of イベント一覧.
type EventSummary struct {
	event.Event
	Schedules    int
	Applications int // live (not cancelled)
}

// Events lists an organization's events, newest first.
func (s *Store) Events(ctx context.Context, orgID int64) (_ []EventSummary, err error) {
	defer wrap(&err, "store.Events(org %d)", orgID)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+eventColumns+`,
		  (SELECT COUNT(*) FROM schedules sc WHERE sc.event_id = e.id),
		  (SELECT COUNT(*) FROM applications a WHERE a.event_id = e.id AND a.status <> 'cancelled')
		FROM events e WHERE e.org_id = $1 ORDER BY e.id DESC`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []EventSummary
	for rows.Next() {
		var e EventSummary
		if err := scanEvent(rows, &e.Event, &e.Schedules, &e.Applications); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// Event returns one of an organization's events.
func (s *Store) Event(ctx context.Context, orgID, id int64) (_ event.Event, err error) {
	defer wrap(&err, "store.Event(org %d, id %d)", orgID, id)
	var e event.Event
	err = scanEvent(s.reader().QueryRowContext(ctx,
		`SELECT `+eventColumns+` FROM events e WHERE e.org_id = $1 AND e.id = $2`, orgID, id), &e)
	return e, notFound(err)
}

// PublishedEvent returns an event by its public slug, only if published.
func (s *Store) PublishedEvent(ctx context.Context, slug string) (_ event.Event, err error) {
	defer wrap(&err, "store.PublishedEvent()")
	var e event.Event
	err = scanEvent(s.reader().QueryRowContext(ctx,
		`SELECT `+eventColumns+` FROM events e WHERE e.slug = $1 AND e.status = 'published'`, slug), &e)
	return e, notFound(err)
}

// CreateEvent stores a new event and gives it its public slug. formKey
// identifies the rendered form: submitted again, it finds the first event
// (existing is true and e.ID is that event's). An empty key is not checked.
func (s *Store) CreateEvent(ctx context.Context, e *event.Event, formKey string) (existing bool, err error) {
	defer wrap(&err, "store.CreateEvent(org %d)", e.OrgID)
	now := s.nowUTC()
	e.CreatedAt, e.UpdatedAt = now, now
	e.Slug = randomSlug()
	e.ID, existing, err = s.createOnce(ctx, e.OrgID, formKey, func(tx *Tx) (id int64, err error) {
		err = tx.QueryRowContext(ctx, `INSERT INTO events
		(org_id, slug, title, description, fee, price_jpy, time_zone, status, waitlist_enabled, payment_days,
		 self_cancel_off, cancel_days, refund_tiers, receipt_purpose, contact, terms_url, privacy_url,
		 created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
			e.OrgID, e.Slug, e.Title, e.Description, e.Fee, e.PriceJPY, e.TimeZone, e.Status, e.WaitlistEnabled,
			paymentDays(e), e.SelfCancelOff, e.CancelDays, e.RefundTiers, e.ReceiptPurpose, e.Contact, e.TermsURL,
			e.PrivacyURL, now, now).Scan(&id)
		return id, err
	})
	if err != nil {
		return false, err
	}
	return existing, nil
}

// UpdateEvent saves an organizer's edit of an event. Switching between free
// and paid once applications exist is refused: their payment state would lie.
func (s *Store) UpdateEvent(ctx context.Context, e *event.Event) (err error) {
	defer wrap(&err, "store.UpdateEvent(org %d, id %d)", e.OrgID, e.ID)
	e.UpdatedAt = s.nowUTC()
	return s.Tx(ctx, func(tx *Tx) error {
		var oldFee event.Fee
		var live int
		err := tx.QueryRowContext(ctx, `SELECT e.fee,
			  (SELECT COUNT(*) FROM applications a WHERE a.event_id = e.id)
			FROM events e WHERE e.org_id = $1 AND e.id = $2`, e.OrgID, e.ID).Scan(&oldFee, &live)
		if err != nil {
			return notFound(err)
		}
		if oldFee != e.Fee && live > 0 {
			return event.FieldErrors{{Field: "fee", Key: "validation.fee_locked"}}
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET title = $1, description = $2, fee = $3, price_jpy = $4,
			time_zone = $5, status = $6, waitlist_enabled = $7, payment_days = $8, self_cancel_off = $9,
			cancel_days = $10, refund_tiers = $11, receipt_purpose = $12, contact = $13, terms_url = $14,
			privacy_url = $15, updated_at = $16
			WHERE org_id = $17 AND id = $18`,
			e.Title, e.Description, e.Fee, e.PriceJPY, e.TimeZone, e.Status, e.WaitlistEnabled, paymentDays(e),
			e.SelfCancelOff, e.CancelDays, e.RefundTiers, e.ReceiptPurpose, e.Contact, e.TermsURL, e.PrivacyURL,
			e.UpdatedAt, e.OrgID, e.ID)
		if err != nil {
			return err
		}
		// The title is the meetings' topic, the time zone theirs.
		return s.planZoomMeetings(ctx, tx, e.OrgID, `sc.event_id = ?`, e.ID)
	})
}

// paymentDays is the event's 支払期限 in days, the default when unset.
func paymentDays(e *event.Event) int {
	if e.PaymentDays == 0 {
		return event.DefaultPaymentDays
	}
	return e.PaymentDays
}

// DeleteEvent deletes an event with its groups, schedules and applications;
// its Zoom meetings are to be deleted.
func (s *Store) DeleteEvent(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.DeleteEvent(org %d, id %d)", orgID, id)
	return s.Tx(ctx, func(tx *Tx) error {
		if _, err := s.retireZoomMeetings(ctx, tx, orgID, `event_id = ?`, id); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM events WHERE org_id = $1 AND id = $2`, orgID, id)
		return rowsOrNotFound(r, err)
	})
}

// Impact counts what deleting something takes with it, for the confirmation.
type Impact struct {
	Groups       int
	Schedules    int
	Applications int // live ones; cancelled ones go too
}

// EventImpact says what deleting an event loses.
func (s *Store) EventImpact(ctx context.Context, orgID, id int64) (_ Impact, err error) {
	defer wrap(&err, "store.EventImpact(org %d, id %d)", orgID, id)
	return s.impact(ctx, "e", orgID, id)
}

// GroupImpact says what deleting a schedule group loses.
func (s *Store) GroupImpact(ctx context.Context, orgID, id int64) (_ Impact, err error) {
	defer wrap(&err, "store.GroupImpact(org %d, id %d)", orgID, id)
	return s.impact(ctx, "g", orgID, id)
}

// ScheduleImpact says what deleting a schedule loses.
func (s *Store) ScheduleImpact(ctx context.Context, orgID, id int64) (_ Impact, err error) {
	defer wrap(&err, "store.ScheduleImpact(org %d, id %d)", orgID, id)
	return s.impact(ctx, "sc", orgID, id)
}

// impact counts what deleting the row alias (e, g or sc) of orgID with id
// loses.
func (s *Store) impact(ctx context.Context, alias string, orgID, id int64) (Impact, error) {
	var im Impact
	var found int
	// The row picks the subtree; no row at all means it does not exist (or
	// is another organization's).
	err := s.reader().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT g.id), COUNT(DISTINCT sc.id), COUNT(DISTINCT a.id)
		FROM events e
		LEFT JOIN schedule_groups g ON g.event_id = e.id
		LEFT JOIN schedules sc ON sc.group_id = g.id
		LEFT JOIN applications a ON a.schedule_id = sc.id AND a.status <> 'cancelled'
		WHERE `+alias+`.org_id = $1 AND `+alias+`.id = $2`, orgID, id).Scan(&found, &im.Groups, &im.Schedules, &im.Applications)
	if err != nil {
		return im, err
	}
	if found == 0 {
		return im, errNotFound
	}
	return im, nil
}

// Groups returns an event's schedule groups with their schedules, by start.
func (s *Store) Groups(ctx context.Context, orgID, eventID int64) (_ []GroupWithSchedules, err error) {
	defer wrap(&err, "store.Groups(org %d, event %d)", orgID, eventID)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+groupColumns+` FROM schedule_groups g
		WHERE g.org_id = $1 AND g.event_id = $2 ORDER BY g.id`, orgID, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var gs []GroupWithSchedules
	byID := map[int64]int{}
	for rows.Next() {
		var g GroupWithSchedules
		if err := scanGroup(rows, &g.ScheduleGroup); err != nil {
			return nil, err
		}
		byID[g.ID] = len(gs)
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	scs, err := s.schedules(ctx, orgID, eventID)
	if err != nil {
		return nil, err
	}
	for _, sc := range scs {
		if i, ok := byID[sc.GroupID]; ok {
			gs[i].Schedules = append(gs[i].Schedules, sc)
		}
	}
	return gs, nil
}

// GroupWithSchedules is a schedule group and its dates.
type GroupWithSchedules struct {
	event.ScheduleGroup
	Schedules []event.Schedule
}

const groupColumns = `g.id, g.org_id, g.event_id, g.name, g.venue, g.address, g.online_url, g.created_at,
	g.zoom_conn_id, g.zoom_passcode, g.zoom_waiting_room, g.zoom_authentication, g.zoom_registration,
	g.zoom_host_video, g.zoom_participant_video, g.zoom_mute_upon_entry, g.zoom_registrant_emails, g.zoom_agenda`

func scanGroup(sc interface{ Scan(...any) error }, g *event.ScheduleGroup) error {
	var z event.ZoomSettings
	var conn sql.NullInt64
	err := sc.Scan(&g.ID, &g.OrgID, &g.EventID, &g.Name, &g.Venue, &g.Address, &g.OnlineURL, &g.CreatedAt,
		&conn, &z.Passcode, &z.WaitingRoom, &z.Authentication, &z.Registration, &z.HostVideo, &z.ParticipantVideo,
		&z.MuteUponEntry, &z.RegistrantEmails, &z.Agenda)
	g.Zoom = nil
	if g.Venue == event.VenueZoom {
		z.ConnID = conn.Int64
		g.Zoom = &z
	}
	return err
}

// zoomColumns are a group's Zoom settings as written: zero values for a
// group of another venue.
func zoomColumns(g *event.ScheduleGroup) []any {
	z := g.Zoom
	if g.Venue != event.VenueZoom || z == nil {
		return []any{nil, "", false, false, false, false, false, false, false, ""}
	}
	return []any{z.ConnID, z.Passcode, z.WaitingRoom, z.Authentication, z.Registration, z.HostVideo,
		z.ParticipantVideo, z.MuteUponEntry, z.RegistrantEmails, z.Agenda}
}

// Group returns one schedule group of an event.
func (s *Store) Group(ctx context.Context, orgID, eventID, id int64) (_ event.ScheduleGroup, err error) {
	defer wrap(&err, "store.Group(org %d, event %d, id %d)", orgID, eventID, id)
	var g event.ScheduleGroup
	err = scanGroup(s.reader().QueryRowContext(ctx, `SELECT `+groupColumns+` FROM schedule_groups g
		WHERE g.org_id = $1 AND g.event_id = $2 AND g.id = $3`, orgID, eventID, id), &g)
	return g, notFound(err)
}

// ErrZoomHostUnavailable: the chosen ホスト is not a linked Zoom user of the
// organization.
var ErrZoomHostUnavailable = event.FieldErrors{{Field: "zoom_host", Key: "validation.zoom_host_unavailable"}}

// checkZoomHost refuses a Zoom group whose host is not one of the
// organization's linked Zoom users. keep is a host the group has already:
// saving the group again with it is allowed even while it is not linked.
func checkZoomHost(ctx context.Context, tx *Tx, g *event.ScheduleGroup, keep int64) error {
	if g.Venue != event.VenueZoom || g.Zoom == nil || g.Zoom.ConnID == keep {
		return nil
	}
	var status zoompolicy.ConnStatus
	err := tx.QueryRowContext(ctx, `SELECT status FROM zoom_connections WHERE org_id = $1 AND id = $2`,
		g.OrgID, g.Zoom.ConnID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !status.Usable()) {
		return ErrZoomHostUnavailable
	}
	return err
}

// CreateGroup adds a schedule group to an event of the organization; formKey
// as for CreateEvent.
func (s *Store) CreateGroup(ctx context.Context, g *event.ScheduleGroup, formKey string) (existing bool, err error) {
	defer wrap(&err, "store.CreateGroup(org %d, event %d)", g.OrgID, g.EventID)
	g.CreatedAt = s.nowUTC()
	g.ID, existing, err = s.createOnce(ctx, g.OrgID, formKey, func(tx *Tx) (id int64, err error) {
		if err := checkZoomHost(ctx, tx, g, 0); err != nil {
			return 0, err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO schedule_groups
		(org_id, event_id, name, venue, address, online_url, created_at, zoom_conn_id, zoom_passcode,
		 zoom_waiting_room, zoom_authentication, zoom_registration, zoom_host_video, zoom_participant_video,
		 zoom_mute_upon_entry, zoom_registrant_emails, zoom_agenda)
		SELECT e.org_id, e.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
		FROM events e WHERE e.org_id = $1 AND e.id = $2
		RETURNING id`, append([]any{g.OrgID, g.EventID, g.Name, g.Venue, g.Address, g.OnlineURL, g.CreatedAt},
			zoomColumns(g)...)...).Scan(&id)
		return id, notFound(err)
	})
	return existing, err
}

// UpdateGroup saves an edit of a schedule group, and plans what Zoom needs
// for it in the same transaction: new settings update the group's meetings,
// a new host moves them (deleted and created again), and leaving Zoom
// deletes them.
func (s *Store) UpdateGroup(ctx context.Context, g *event.ScheduleGroup) (err error) {
	defer wrap(&err, "store.UpdateGroup(org %d, event %d, id %d)", g.OrgID, g.EventID, g.ID)
	return s.Tx(ctx, func(tx *Tx) error {
		var keep sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT zoom_conn_id FROM schedule_groups
			WHERE org_id = $1 AND event_id = $2 AND id = $3`, g.OrgID, g.EventID, g.ID).Scan(&keep)
		if err != nil {
			return notFound(err)
		}
		if err := checkZoomHost(ctx, tx, g, keep.Int64); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE schedule_groups SET name = $1, venue = $2, address = $3, online_url = $4,
			zoom_conn_id = $5, zoom_passcode = $6, zoom_waiting_room = $7, zoom_authentication = $8,
			zoom_registration = $9, zoom_host_video = $10, zoom_participant_video = $11,
			zoom_mute_upon_entry = $12, zoom_registrant_emails = $13, zoom_agenda = $14
			WHERE org_id = $15 AND event_id = $16 AND id = $17`,
			append(append([]any{g.Name, g.Venue, g.Address, g.OnlineURL}, zoomColumns(g)...),
				g.OrgID, g.EventID, g.ID)...)
		if err != nil {
			return err
		}
		return s.planZoomMeetings(ctx, tx, g.OrgID, `sc.group_id = ?`, g.ID)
	})
}

// DeleteGroup deletes a schedule group with its schedules and applications;
// its Zoom meetings are to be deleted.
func (s *Store) DeleteGroup(ctx context.Context, orgID, eventID, id int64) (err error) {
	defer wrap(&err, "store.DeleteGroup(org %d, event %d, id %d)", orgID, eventID, id)
	return s.Tx(ctx, func(tx *Tx) error {
		if _, err := s.retireZoomMeetings(ctx, tx, orgID, `group_id = ?`, id); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM schedule_groups WHERE org_id = $1 AND event_id = $2 AND id = $3`,
			orgID, eventID, id)
		return rowsOrNotFound(r, err)
	})
}

const scheduleColumns = `sc.id, sc.org_id, sc.event_id, sc.group_id, sc.starts_at, sc.ends_at, sc.capacity,
	sc.seats_taken, sc.created_at, sc.revision`

func scanSchedule(sc interface{ Scan(...any) error }, s *event.Schedule) error {
	return sc.Scan(&s.ID, &s.OrgID, &s.EventID, &s.GroupID, &s.StartsAt, &s.EndsAt, &s.Capacity,
		&s.SeatsTaken, &s.CreatedAt, &s.Revision)
}

// schedules returns an event's schedules, by start.
func (s *Store) schedules(ctx context.Context, orgID, eventID int64) ([]event.Schedule, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+scheduleColumns+` FROM schedules sc
		WHERE sc.org_id = $1 AND sc.event_id = $2 ORDER BY sc.starts_at, sc.id`, orgID, eventID)
	if err != nil {
		return nil, fmt.Errorf("schedules: %w", err)
	}
	defer rows.Close()
	var scs []event.Schedule
	for rows.Next() {
		var sc event.Schedule
		if err := scanSchedule(rows, &sc); err != nil {
			return nil, err
		}
		scs = append(scs, sc)
	}
	return scs, rows.Err()
}

// Schedule returns one schedule of an event.
func (s *Store) Schedule(ctx context.Context, orgID, eventID, id int64) (_ event.Schedule, err error) {
	defer wrap(&err, "store.Schedule(org %d, event %d, id %d)", orgID, eventID, id)
	var sc event.Schedule
	err = scanSchedule(s.reader().QueryRowContext(ctx, `SELECT `+scheduleColumns+` FROM schedules sc
		WHERE sc.org_id = $1 AND sc.event_id = $2 AND sc.id = $3`, orgID, eventID, id), &sc)
	return sc, notFound(err)
}

// CreateSchedule adds a schedule to a group of the organization's event;
// formKey as for CreateEvent.
func (s *Store) CreateSchedule(ctx context.Context, sc *event.Schedule, formKey string) (existing bool, err error) {
	defer wrap(&err, "store.CreateSchedule(org %d, event %d, group %d)", sc.OrgID, sc.EventID, sc.GroupID)
	sc.CreatedAt = s.nowUTC()
	sc.ID, existing, err = s.createOnce(ctx, sc.OrgID, formKey, func(tx *Tx) (id int64, err error) {
		err = tx.QueryRowContext(ctx, `INSERT INTO schedules
		(org_id, event_id, group_id, starts_at, ends_at, capacity, seats_taken, created_at)
		SELECT g.org_id, g.event_id, g.id, $4, $5, $6, 0, $7 FROM schedule_groups g
		WHERE g.org_id = $1 AND g.event_id = $2 AND g.id = $3
		RETURNING id`, sc.OrgID, sc.EventID, sc.GroupID, sc.StartsAt.UTC(), sc.EndsAt.UTC(), sc.Capacity,
			sc.CreatedAt).Scan(&id)
		if err != nil {
			return 0, notFound(err)
		}
		return id, s.planZoomMeetings(ctx, tx, sc.OrgID, `sc.id = ?`, id)
	})
	return existing, err
}

// UpdateSchedule saves an edit of a schedule's times and capacity. The
// capacity may not fall below the seats already taken.
func (s *Store) UpdateSchedule(ctx context.Context, sc *event.Schedule) (err error) {
	defer wrap(&err, "store.UpdateSchedule(org %d, event %d, id %d)", sc.OrgID, sc.EventID, sc.ID)
	return s.Tx(ctx, func(tx *Tx) error {
		// A move (new start or end) bumps the revision, the SEQUENCE of the
		// participants' calendar entries; compared here, not in SQL, so that
		// both databases compare times alike.
		var was event.Schedule
		if err := tx.QueryRowContext(ctx, `SELECT starts_at, ends_at FROM schedules WHERE org_id = $1 AND event_id = $2 AND id = $3`,
			sc.OrgID, sc.EventID, sc.ID).Scan(&was.StartsAt, &was.EndsAt); err != nil {
			return notFound(err)
		}
		moved := 0
		if !was.StartsAt.Equal(sc.StartsAt) || !was.EndsAt.Equal(sc.EndsAt) {
			moved = 1
		}
		r, err := tx.ExecContext(ctx, `UPDATE schedules SET starts_at = $1, ends_at = $2, capacity = $3, revision = revision + $7
			WHERE org_id = $4 AND event_id = $5 AND id = $6 AND seats_taken <= $3`,
			sc.StartsAt.UTC(), sc.EndsAt.UTC(), sc.Capacity, sc.OrgID, sc.EventID, sc.ID, moved)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 1 {
			return s.planZoomMeetings(ctx, tx, sc.OrgID, `sc.id = ?`, sc.ID)
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT seats_taken FROM schedules WHERE org_id = $1 AND event_id = $2 AND id = $3`,
			sc.OrgID, sc.EventID, sc.ID).Scan(&taken); err != nil {
			return notFound(err)
		}
		return event.FieldErrors{{Field: "capacity", Key: "validation.capacity_below_taken", Args: []any{taken}}}
	})
}

// DeleteSchedule deletes a schedule with its applications; its Zoom meeting
// is to be deleted.
func (s *Store) DeleteSchedule(ctx context.Context, orgID, eventID, id int64) (err error) {
	defer wrap(&err, "store.DeleteSchedule(org %d, event %d, id %d)", orgID, eventID, id)
	return s.Tx(ctx, func(tx *Tx) error {
		if _, err := s.retireZoomMeetings(ctx, tx, orgID, `schedule_id = ?`, id); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM schedules WHERE org_id = $1 AND event_id = $2 AND id = $3`,
			orgID, eventID, id)
		return rowsOrNotFound(r, err)
	})
}

// createOnce runs create in a transaction and records formKey with the id it
// made. A key seen before returns the id made then, with existing true.
func (s *Store) createOnce(ctx context.Context, orgID int64, formKey string, create func(*Tx) (int64, error)) (id int64, existing bool, err error) {
	lookup := func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT created_id FROM form_submissions WHERE form_key = $1 AND org_id = $2`,
			formKey, orgID).Scan(&id)
	}
	err = s.Tx(ctx, func(tx *Tx) error {
		if formKey != "" {
			switch err := lookup(tx); {
			case err == nil:
				existing = true
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		var err error
		if id, err = create(tx); err != nil || formKey == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO form_submissions (form_key, org_id, created_id, created_at)
			VALUES ($1, $2, $3, $4)`, formKey, orgID, id, tx.now)
		if isUniqueViolation(err) {
			return errDuplicateInsert
		}
		return err
	})
	if errors.Is(err, errDuplicateInsert) {
		// The same form, submitted at the same moment, won; this
		// transaction made nothing.
		if err := lookup(s.write); err != nil {
			return 0, false, fmt.Errorf("form submitted twice: %w", err)
		}
		return id, true, nil
	}
	return id, existing, err
}

// updateOne runs a write that must touch a row: none means not found (or
// another organization's).
func (s *Store) updateOne(ctx context.Context, query string, args ...any) error {
	r, err := s.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// randomSlug returns 26 characters of base32 randomness (130 bits).
func randomSlug() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 26)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b)
}
