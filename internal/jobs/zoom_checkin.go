package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoompolicy"
)

// 自動受付 and attendance (DESIGN.md §3, §6). Each participant session of a
// managed meeting is recorded from meeting.participant_joined and _left, and
// once more from the past-participants report read after meeting.ended,
// which fills in what the webhooks missed (Zoom retries a webhook only
// three times). A session is matched to an application of the meeting's
// schedule as the policy says — by the registrant id of a personal join
// link, else (with 認証) by the signed-in e-mail — and that application is
// checked in, source zoom, at the join time. A session that matches
// nothing (a guest, another e-mail) is kept for manual matching. A join to
// a meeting that is not kaisai's changes nothing; handling anything twice
// changes nothing either.

// ZoomParticipants handles meeting.participant_joined and _left, a batch
// at a time: the sessions of a batch are recorded, and their applications
// checked in, in one transaction per meeting. A participant_left gives the
// leave time of a session, which the attendance minutes are computed from.
func ZoomParticipants(st *store.Store) WebhookBatchHandler {
	return func(ctx context.Context, es []webhook.Event) []error {
		errs := make([]error, len(es))
		type group struct {
			m        store.CheckInMeeting
			sessions []store.ZoomSession
			events   []int // indexes in es
		}
		groups := map[int64]*group{} // by Zoom meeting id; nil: not kaisai's
		var order []int64
		for i, e := range es {
			p, err := e.Participant()
			if err != nil {
				errs[i] = Permanent(err)
				continue
			}
			zoomID := int64(p.Object.ID)
			g, seen := groups[zoomID]
			if !seen {
				m, err := st.CheckInMeetingByZoomID(ctx, zoomID)
				switch {
				case errors.Is(err, event.ErrNotFound):
				case err != nil:
					errs[i] = err
					continue
				default:
					g = &group{m: m}
					order = append(order, zoomID)
				}
				groups[zoomID] = g
			}
			if g == nil {
				continue // a meeting kaisai does not manage
			}
			z, err := participantSession(ctx, st, g.m, e, p)
			if err != nil {
				errs[i] = err
				continue
			}
			g.sessions, g.events = append(g.sessions, z), append(g.events, i)
		}
		for _, id := range order {
			g := groups[id]
			if len(g.sessions) == 0 {
				continue
			}
			if _, err := st.RecordZoomSessions(ctx, g.m, g.sessions); err != nil {
				for _, i := range g.events {
					errs[i] = err
				}
			}
		}
		return errs
	}
}

// participantSession is the session a participant event tells of, matched
// to an application by the meeting's policy.
func participantSession(ctx context.Context, st *store.Store, m store.CheckInMeeting, e webhook.Event, p webhook.ParticipantPayload) (store.ZoomSession, error) {
	who := p.Object.Participant
	z := store.ZoomSession{
		InstanceUUID: instanceOf(p.Object.Meeting), ParticipantID: who.UserID,
		Name: who.UserName, Email: who.Email, RegistrantID: who.RegistrantID,
	}
	if z.ParticipantID == "" {
		z.ParticipantID = who.ParticipantUUID
	}
	if z.ParticipantID == "" {
		return z, Permanent(fmt.Errorf("%s without a participant id", e.Event))
	}
	if e.Event == webhook.EventParticipantJoined {
		if z.JoinedAt = who.JoinedAt(); z.JoinedAt.IsZero() {
			z.JoinedAt = e.Time()
		}
	} else {
		if z.LeftAt = who.LeaveTime.Time; z.LeftAt.IsZero() {
			z.LeftAt = e.Time()
		}
	}
	joiner := zoompolicy.Participant{RegistrantID: z.RegistrantID, Email: z.Email, Name: z.Name}
	c, err := candidatesFor(m, joiner,
		func(id string) (int64, error) { return st.ApplicationByRegistrantUnscoped(ctx, m.MeetingRowID, id) },
		func(email string) (int64, error) { return st.ApplicationByEmailUnscoped(ctx, m.ScheduleID, email) })
	if err != nil {
		return z, err
	}
	z.ApplicationID, z.MatchedBy = match(m, joiner, c)
	return z, nil
}

// instanceOf is the meeting instance a live event is about: its UUID, or
// for a payload without one, the meeting id.
func instanceOf(m webhook.Meeting) string {
	if m.UUID != "" {
		return m.UUID
	}
	return strconv.FormatInt(int64(m.ID), 10)
}

// policyOf is the policy view of the meeting's settings.
func policyOf(m store.CheckInMeeting) zoompolicy.Meeting {
	return zoompolicy.Meeting{Registration: m.Registration, Authentication: m.Authentication}
}

// candidatesFor reads the applications the participant's join may match:
// one per key the policy consults.
func candidatesFor(m store.CheckInMeeting, who zoompolicy.Participant,
	byRegistrant, byEmail func(string) (int64, error)) (zoompolicy.Candidates, error) {
	c := zoompolicy.Candidates{ByRegistrant: map[string]int64{}, ByEmail: map[string]int64{}}
	registrantID, email := zoompolicy.JoinKeys(policyOf(m), who)
	if registrantID != "" {
		id, err := byRegistrant(registrantID)
		if err != nil {
			return c, err
		}
		c.ByRegistrant[registrantID] = id
	}
	if email != "" {
		id, err := byEmail(email)
		if err != nil {
			return c, err
		}
		c.ByEmail[email] = id
	}
	return c, nil
}

// match is the application the policy checks the participant in to, and
// by what (0 and zoompolicy.Unmatched for none).
func match(m store.CheckInMeeting, who zoompolicy.Participant, c zoompolicy.Candidates) (int64, zoompolicy.MatchedBy) {
	id, by, _ := zoompolicy.MatchJoin(policyOf(m), who, c)
	return id, by
}

// ZoomMeetingEnded handles meeting.ended: it reads the instance's
// past-participants report, every page, and records each session as the
// webhooks would have. An error (Zoom not reachable, the report not there
// yet) retries the event with the webhook backoff. A host who is not
// linked, or whose account has no reports (Basic), leaves the webhooks'
// record. Either way the stays still open then end at the meeting's end.
func ZoomMeetingEnded(st *store.Store, zc *zoomconn.Clients) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		p, err := e.Meeting()
		if err != nil {
			return Permanent(err)
		}
		if zc == nil {
			return nil
		}
		m, err := st.CheckInMeetingByZoomID(ctx, int64(p.Object.ID))
		if errors.Is(err, event.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		instance := instanceOf(p.Object)
		_, err = ReadZoomReport(ctx, st, zc, m, instance)
		var perm permanentError
		if err != nil && !errors.As(err, &perm) {
			return err // the report is asked for again, before anything is closed
		}
		// The report is read, or cannot be: who is still in stayed to the end.
		if end := p.Object.EndTime.Time; !end.IsZero() {
			if _, cerr := st.CloseZoomStays(ctx, instance, end); cerr != nil {
				return cerr
			}
		}
		return err
	}
}

// ReadZoomReport records the past-participants report of one instance of
// the meeting m and returns how many applications it checked in.
func ReadZoomReport(ctx context.Context, st *store.Store, zc *zoomconn.Clients, m store.CheckInMeeting, instanceUUID string) (int, error) {
	var report []zoom.PastParticipant
	err := zc.Do(ctx, m.OrgID, m.ConnID, func(cl *zoom.Client) (err error) {
		report, err = cl.PastParticipants(ctx, instanceUUID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrZoomRelinkRequired):
		return 0, nil // the host is not linked: the webhooks' record stands
	case zoom.IsBadRequest(err) && !zoom.IsNotFound(err):
		return 0, Permanent(err) // e.g. code 200: reports need a paid account
	case err != nil:
		return 0, err // also "does not exist": the report may not be ready yet
	}
	ix, err := st.CheckInIndexOf(ctx, m)
	if err != nil {
		return 0, err
	}
	c := zoompolicy.Candidates{ByRegistrant: ix.ByRegistrant, ByEmail: ix.ByEmail}
	sessions := make([]store.ZoomSession, 0, len(report))
	for _, r := range report {
		if r.UserID == "" || r.Status == "in_waiting_room" {
			continue
		}
		z := store.ZoomSession{InstanceUUID: instanceUUID, ParticipantID: r.UserID, Name: r.Name,
			Email: r.UserEmail, RegistrantID: r.RegistrantID, JoinedAt: r.JoinTime, LeftAt: r.LeaveTime}
		z.ApplicationID, z.MatchedBy = match(m,
			zoompolicy.Participant{RegistrantID: z.RegistrantID, Email: z.Email, Name: z.Name}, c)
		sessions = append(sessions, z)
	}
	// In chunks, so that a big report does not hold the writer long.
	const chunk = 200
	total := 0
	for len(sessions) > 0 {
		n, err := st.RecordZoomSessions(ctx, m, sessions[:min(chunk, len(sessions))])
		if err != nil {
			return total, err
		}
		total += n
		sessions = sessions[min(chunk, len(sessions)):]
	}
	return total, nil
}

// ReportOptions tune the search for reports never read; the zero value of
// each field is its default.
type ReportOptions struct {
	Every time.Duration // how often to look (15 min)
	// After is how long after a schedule's end a stay with no leave means
	// that meeting.ended was missed (30 min).
	After time.Duration
	// Within is how far back to look: a report that cannot be read (a
	// Basic host) is not asked for for ever (48 h).
	Within time.Duration
}

func (o ReportOptions) withDefaults() ReportOptions {
	if o.Every <= 0 {
		o.Every = 15 * time.Minute
	}
	if o.After == 0 {
		o.After = 30 * time.Minute
	}
	if o.Within <= 0 {
		o.Within = 48 * time.Hour
	}
	return o
}

// ReadMissedReportsArgs asks for the reports of meetings whose
// meeting.ended never came to be read.
type ReadMissedReportsArgs struct{}

// Kind names the job in River's table.
func (ReadMissedReportsArgs) Kind() string { return "read_missed_zoom_reports" }

// ReadMissedReportsWorker reads the report of each instance that still has
// stays without a leave well after its schedule ended: Zoom gave up on its
// meeting.ended (or on participant_left webhooks).
type ReadMissedReportsWorker struct {
	river.WorkerDefaults[ReadMissedReportsArgs]
	Store   *store.Store
	Zoom    *zoomconn.Clients // nil: Zoom is off
	Options ReportOptions     // with defaults applied
	Now     func() time.Time
	Log     *slog.Logger
}

// Work reads up to 20 reports; one that fails is logged and asked for
// again next time.
func (w *ReadMissedReportsWorker) Work(ctx context.Context, _ *river.Job[ReadMissedReportsArgs]) error {
	if w.Zoom == nil {
		return nil
	}
	now := w.Now()
	open, err := w.Store.OpenZoomInstances(ctx, now.Add(-w.Options.After), now.Add(-w.Options.Within), 20)
	if err != nil {
		return err
	}
	for _, o := range open {
		n, err := ReadZoomReport(ctx, w.Store, w.Zoom, o.Meeting, o.InstanceUUID)
		if err != nil {
			w.Log.WarnContext(ctx, "zoom report not read", "meeting", o.Meeting.ZoomID, "instance", o.InstanceUUID, "err", err)
			continue
		}
		w.Log.InfoContext(ctx, "zoom report read for a missed meeting.ended", "meeting", o.Meeting.ZoomID,
			"instance", o.InstanceUUID, "checked_in", n)
	}
	return nil
}
