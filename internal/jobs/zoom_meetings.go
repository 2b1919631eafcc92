package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoompolicy"
)

// Zoom meeting sync (DESIGN.md §4). A change that needs Zoom marks its
// zoom_meetings rows due in its own transaction (package store); after the
// commit the store nudges, and the nudger inserts a SyncZoomMeetings job; a
// periodic job inserts it too, so a change committed just before a crash is
// synced after restart. The job claims due rows under its lease (see
// leased) and reconciles each with Zoom from kaisai's data as it is then:
//
//   - a meeting that should exist and has no Zoom id is created; when an
//     earlier create's answer was lost, the host's meetings are looked up
//     first, so a meeting is never made twice;
//   - one that exists gets a PATCH of only the settings that differ from
//     those last applied, then is read back for its join URL and passcode;
//   - one that should not exist is deleted (already gone is fine).
//
// Every step is idempotent, so a run cut short by a crash or a lost lease
// is simply run again, by another worker within the lease's TTL. A failure is recorded on the row for the organizer,
// with a retry after a backoff when retrying can help.

// Why a sync failed, as the organizer's message key suffix
// (zoom.meeting_error.<kind>).
const (
	ZoomErrTransient   = "transient"    // Zoom unreachable or failing: retried
	ZoomErrRateLimited = "rate_limited" // a per-second limit: retried
	ZoomErrDailyLimit  = "daily_limit"  // the host's 100 creates/updates a day: retried at 00:00 UTC
	ZoomErrPasscode    = "passcode"     // the passcode breaks the host's policy
	ZoomErrLicense     = "license"      // registration needs a licensed host
	ZoomErrHostGone    = "host_gone"    // the host's Zoom user does not exist
	ZoomErrRelink      = "relink"       // the connection needs linking again
	ZoomErrInvalid     = "invalid"      // Zoom refused the settings
	ZoomErrOther       = "other"        // any other refusal
	// ZoomErrStarted: not created, because the schedule had begun
	// (zoompolicy.MayCreate); waits for the schedule to move ahead.
	ZoomErrStarted = zoompolicy.ErrStarted
)

// errScheduleStarted: a create was not sent, the schedule having begun.
var errScheduleStarted = errors.New("the schedule has started: no meeting is created for it")

// ZoomMeetingOptions tune the sync; the zero value of each field is its
// default. Tests shorten them.
type ZoomMeetingOptions struct {
	Batch     int           // rows claimed at once (10)
	Lease     time.Duration // how long a dead worker's rows stay held (store.DefaultLeaseTTL); renewed while it works
	RetryBase time.Duration // wait before the first retry, doubled for each later one (30 s)
	RetryMax  time.Duration // longest wait between attempts (1 h)
	Sweep     time.Duration // how often the periodic job looks for due rows (15 s)
	Nudge     time.Duration // at most one job insert per this (100 ms)
	RunBudget time.Duration // a run stops claiming after this and is snoozed to go on (1 min)
}

func (o ZoomMeetingOptions) withDefaults() ZoomMeetingOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Batch <= 0 {
		o.Batch = 10
	}
	def(&o.Lease, store.DefaultLeaseTTL)
	def(&o.RetryBase, 30*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.Sweep, 15*time.Second)
	def(&o.Nudge, 100*time.Millisecond)
	def(&o.RunBudget, time.Minute)
	return o
}

// SyncZoomMeetingsArgs asks for every due Zoom meeting to be synced.
type SyncZoomMeetingsArgs struct{}

// Kind names the job in River's table.
func (SyncZoomMeetingsArgs) Kind() string { return "sync_zoom_meetings" }

// InsertOpts: one attempt, and not unique. Rows are leased, so jobs
// running side by side never sync one meeting twice; and a unique job left
// "running" by a killed process would block its successors until River
// rescues it (RescueStuckJobsAfter, minutes), while a dead worker's lease
// runs out in Lease. The nudger and the sweep insert few of them.
func (SyncZoomMeetingsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1}
}

// NewZoomMeetingNudger makes the nudger of SyncZoomMeetings (every 0: 100 ms).
func NewZoomMeetingNudger(every time.Duration) *Nudger {
	return NewNudger(every, SyncZoomMeetingsArgs{})
}

// SyncZoomMeetingsWorker reconciles due zoom_meetings rows with Zoom.
type SyncZoomMeetingsWorker struct {
	river.WorkerDefaults[SyncZoomMeetingsArgs]
	Store    *store.Store
	Zoom     *zoomconn.Clients // nil: Zoom is off and nothing is synced
	Options  ZoomMeetingOptions
	Now      func() time.Time
	Log      *slog.Logger
	Stopping <-chan struct{}
	Wake     *Nudger // runs the job again when the next row is due (nil: the sweep does)
}

// Timeout lets a run go on past River's default minute: RunBudget bounds
// the claiming, and a batch claimed before it makes a few calls a row.
func (w *SyncZoomMeetingsWorker) Timeout(*river.Job[SyncZoomMeetingsArgs]) time.Duration {
	return w.Options.RunBudget + 5*time.Minute
}

// Work syncs until nothing is due; past its budget, or when kaisai stops,
// it snoozes the job so that it goes on at once (or at the next start).
// Rows due soon (coalescing, backoff, a dead worker's lease) wake it again.
func (w *SyncZoomMeetingsWorker) Work(ctx context.Context, job *river.Job[SyncZoomMeetingsArgs]) error {
	if w.Zoom == nil {
		return nil
	}
	if ok, err := w.Store.ZoomMeetingsDue(ctx); err != nil || !ok {
		if err != nil {
			return err
		}
		// An idle sweep costs no write; rows held by a dead worker are
		// looked at again when its lease runs out.
		return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextZoomMeetingDue)
	}
	err := leased(ctx, w.Store, job.Kind, w.Options.Lease, w.Log, func(ctx context.Context, l store.Lease) error {
		return drain(ctx, w.Stopping, w.Options.RunBudget, w.Store.ZoomMeetingsDue, func(ctx context.Context) (int, error) {
			tasks, err := w.Store.ClaimZoomMeetings(ctx, l, w.Options.Batch)
			if err != nil {
				return 0, err
			}
			for i, t := range tasks {
				if stopped(ctx, w.Stopping) {
					// Give the rest back: they are due again at once.
					for _, r := range tasks[i:] {
						_ = w.Store.ReleaseZoomMeeting(context.WithoutCancel(ctx), l, r.ID)
					}
					return 0, river.JobSnooze(0)
				}
				if err := w.sync(ctx, l, t); err != nil {
					return 0, err
				}
			}
			return len(tasks), nil
		})
	})
	if err != nil {
		return err
	}
	return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextZoomMeetingDue)
}

// sync reconciles one claimed row with Zoom and records the outcome. Only
// an error recording it is returned: Zoom's answers are the row's state.
func (w *SyncZoomMeetingsWorker) sync(ctx context.Context, l store.Lease, t store.ZoomMeetingTask) error {
	record := context.WithoutCancel(ctx)
	var err error
	switch {
	case t.Spec == nil:
		err = w.remove(ctx, l, t)
		if err == nil {
			return w.Store.ZoomMeetingRemoved(record, l, t.ID)
		}
		var p errPostponed
		if errors.As(err, &p) {
			return p.err
		}
	case t.ZoomState == zoompolicy.DeletedOnZoom:
		// Waits for 再作成; nothing to send.
		_, err := w.Store.ZoomMeetingDeletedOnZoom(record, l, t.ID, t.ZoomID)
		return err
	case t.ZoomID == 0:
		err = w.create(ctx, l, t)
	default:
		err = w.update(ctx, l, t)
	}
	if err == nil || errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	if errors.Is(err, errScheduleStarted) {
		w.Log.Info("zoom meeting: not created, the schedule has started", "row", t.ID, "starts_at", t.Spec.StartsAt)
		return w.Store.ZoomMeetingFailed(record, l, t.ID, t.Rev, w.failure(err, t))
	}
	var gone errMeetingGone
	if errors.As(err, &gone) {
		w.Log.Info("zoom meeting: deleted on Zoom's side", "row", t.ID, "zoom_id", t.ZoomID)
		_, err := w.Store.ZoomMeetingDeletedOnZoom(record, l, t.ID, t.ZoomID)
		return err
	}
	f := w.failure(err, t)
	w.Log.Warn("zoom meeting: sync failed", "row", t.ID, "zoom_id", t.ZoomID, "want", t.Want,
		"kind", f.Kind, "retry_at", f.RetryAt, "create_unknown", !t.CreateStartedAt.IsZero(), "err", err)
	return w.Store.ZoomMeetingFailed(record, l, t.ID, t.Rev, f)
}

// errMeetingGone: Zoom says the meeting does not exist (zoom.IsMeetingGone).
type errMeetingGone struct{ error }

func meetingGone(err error) error {
	if zoom.IsMeetingGone(err) {
		return errMeetingGone{err}
	}
	return err
}

// create makes the meeting, unless a create whose answer was lost made it.
// One create at a time per host: a row whose host is busy waits a moment.
func (w *SyncZoomMeetingsWorker) create(ctx context.Context, l store.Lease, t store.ZoomMeetingTask) error {
	record := context.WithoutCancel(ctx)
	unlock, ok, err := w.lockCreates(ctx, l, t)
	if err != nil || !ok {
		return err
	}
	defer unlock()
	if !t.CreateStartedAt.IsZero() && t.Inflight != "" {
		m, err := w.findCreated(ctx, t)
		if err != nil {
			return err
		}
		if m != nil {
			w.Log.Info("zoom meeting: found the meeting a lost create made", "row", t.ID, "zoom_id", m.ID)
			if err := w.Store.ZoomMeetingAdopted(record, l, t.ID, m.ID, m.JoinURL, m.Password); err != nil {
				return err
			}
			t.ZoomID, t.Applied = m.ID, ""
			return w.update(ctx, l, t)
		}
	}
	if !zoompolicy.MayCreate(t.Spec.Schedule(), w.Now()) {
		return errScheduleStarted
	}
	req := meetingRequest(t.Spec)
	sent, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := w.Store.ZoomMeetingCalling(record, l, t.ID, string(sent), true); err != nil {
		return err
	}
	var m *zoom.Meeting
	err = w.Zoom.Do(ctx, t.OrgID, t.ConnID, func(cl *zoom.Client) (err error) {
		m, err = cl.CreateMeeting(ctx, t.HostZoomUserID, &req)
		return err
	})
	if err != nil {
		return err
	}
	return w.Store.ZoomMeetingSynced(record, l, t.ID, t.Rev, store.ZoomMeetingResult{ZoomID: m.ID, JoinURL: m.JoinURL,
		Passcode: m.Password, Applied: string(sent), Created: true, Registration: takesRegistrants(m)})
}

// takesRegistrants reports whether Zoom says the meeting takes registrants
// (approval_type 0 or 1).
func takesRegistrants(m *zoom.Meeting) bool {
	a := m.Settings.ApprovalType
	return a != nil && (*a == 0 || *a == 1)
}

// createWait is how long a row waits while another worker creates a
// meeting of the same host.
const createWait = 300 * time.Millisecond

// lockCreates takes the host's create lock under the run's lease; when
// another worker holds it, the row is given back to wait a moment (ok
// false, no error).
func (w *SyncZoomMeetingsWorker) lockCreates(ctx context.Context, l store.Lease, t store.ZoomMeetingTask) (unlock func(), ok bool, err error) {
	record := context.WithoutCancel(ctx)
	ok, err = w.Store.LockZoomMeetingCreates(record, l, t.ConnID)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, w.Store.PostponeZoomMeeting(record, l, t.ID, w.Now().Add(createWait))
	}
	return func() {
		if err := w.Store.UnlockZoomMeetingCreates(record, l, t.ConnID); err != nil {
			w.Log.Warn("zoom meeting: unlock creates", "conn", t.ConnID, "err", err)
		}
	}, true, nil
}

// findCreated looks among the host's meetings for the one a create with a
// lost answer made: the topic and start time sent, created since, and not
// already kaisai's (the earliest, should there be several). The caller
// holds the host's create lock, so no other create of this host is under
// way. The answer is read in full (a listed meeting lacks its passcode).
func (w *SyncZoomMeetingsWorker) findCreated(ctx context.Context, t store.ZoomMeetingTask) (*zoom.Meeting, error) {
	var sent zoom.MeetingRequest
	if err := json.Unmarshal([]byte(t.Inflight), &sent); err != nil || sent.Topic == nil || sent.StartTime == nil {
		return nil, nil // nothing to match against: create again
	}
	since := t.CreateStartedAt.Add(-time.Minute) // Zoom's clock may lag kaisai's
	var found *zoom.Meeting
	err := w.Zoom.Do(ctx, t.OrgID, t.ConnID, func(cl *zoom.Client) error {
		found = nil
		list, err := cl.ListMeetings(ctx, t.HostZoomUserID)
		if err != nil {
			return err
		}
		var best *zoom.Meeting
		for i, m := range list {
			created, _ := time.Parse(time.RFC3339, m.CreatedAt)
			if m.Topic != *sent.Topic || m.StartTime != *sent.StartTime || created.Before(since) {
				continue
			}
			known, err := w.Store.ZoomMeetingKnown(ctx, m.ID)
			if err != nil {
				return err
			}
			if !known && (best == nil || m.CreatedAt < best.CreatedAt) {
				best = &list[i]
			}
		}
		if best != nil {
			found, err = cl.Meeting(ctx, best.ID)
		}
		return err
	})
	return found, err
}

// update PATCHes what differs from the settings last applied and reads the
// meeting back.
func (w *SyncZoomMeetingsWorker) update(ctx context.Context, l store.Lease, t store.ZoomMeetingTask) error {
	record := context.WithoutCancel(ctx)
	want := meetingRequest(t.Spec)
	var applied *zoom.MeetingRequest
	if t.Applied != "" {
		applied = new(zoom.MeetingRequest)
		if err := json.Unmarshal([]byte(t.Applied), applied); err != nil {
			applied = nil // unreadable: send everything
		}
	}
	if _, ok := zoompolicy.StartTime(t.Spec.Schedule(), w.Now()); !ok {
		// The schedule has begun: Zoom keeps the start it has (the one
		// last applied, still recorded as such).
		want.StartTime = nil
		if applied != nil {
			want.StartTime = applied.StartTime
		}
	}
	patch, changed := meetingPatch(applied, &want)
	sent, err := json.Marshal(want)
	if err != nil {
		return err
	}
	if !changed {
		return w.Store.ZoomMeetingSynced(record, l, t.ID, t.Rev, store.ZoomMeetingResult{ZoomID: t.ZoomID,
			Applied: string(sent), Registration: t.Spec.Settings.Registration})
	}
	if err := w.Store.ZoomMeetingCalling(record, l, t.ID, string(sent), false); err != nil {
		return err
	}
	var m *zoom.Meeting
	err = w.Zoom.Do(ctx, t.OrgID, t.ConnID, func(cl *zoom.Client) error {
		if err := cl.UpdateMeeting(ctx, t.ZoomID, patch); err != nil {
			return meetingGone(err)
		}
		var err error
		m, err = cl.Meeting(ctx, t.ZoomID)
		return meetingGone(err)
	})
	if err != nil {
		return err
	}
	return w.Store.ZoomMeetingSynced(record, l, t.ID, t.Rev, store.ZoomMeetingResult{ZoomID: t.ZoomID,
		JoinURL: m.JoinURL, Passcode: m.Password, Applied: string(sent), Registration: takesRegistrants(m)})
}

// remove deletes the meeting on Zoom; one already gone is removed too. A
// meeting whose create answer was lost is looked for first.
func (w *SyncZoomMeetingsWorker) remove(ctx context.Context, l store.Lease, t store.ZoomMeetingTask) error {
	id := t.ZoomID
	if id == 0 {
		if t.CreateStartedAt.IsZero() || t.Inflight == "" {
			return nil // never made
		}
		unlock, ok, err := w.lockCreates(ctx, l, t)
		if err != nil || !ok {
			return errPostponed{err}
		}
		defer unlock()
		m, err := w.findCreated(ctx, t)
		if err != nil || m == nil {
			return err
		}
		id = m.ID
	}
	return w.Zoom.Do(ctx, t.OrgID, t.ConnID, func(cl *zoom.Client) error {
		if err := cl.DeleteMeeting(ctx, id); err != nil && meetingGone(err) == err {
			return err
		}
		return nil
	})
}

// errPostponed: the row was given back to wait (or giving it back failed).
type errPostponed struct{ err error }

func (e errPostponed) Error() string { return fmt.Sprintf("postponed: %v", e.err) }

// meetingRequest is the whole of kaisai's side of a meeting.
func meetingRequest(sp *store.ZoomMeetingSpec) zoom.MeetingRequest {
	z := sp.Settings
	approval := 2 // no registration
	if z.Registration {
		approval = 1 // manual: only the registrants kaisai approves get in (DESIGN.md §2)
	}
	minutes := (&event.Schedule{StartsAt: sp.StartsAt, EndsAt: sp.EndsAt}).ZoomMinutes()
	return zoom.MeetingRequest{
		Topic:     ptr(event.ZoomTopic(sp.Title)),
		Type:      ptr(zoom.MeetingScheduled),
		StartTime: ptr(zoom.ZoomTime(sp.StartsAt)),
		Duration:  ptr(min(max(minutes, 1), event.MaxZoomMinutes)),
		Timezone:  ptr(sp.TimeZone),
		Agenda:    ptr(z.Agenda),
		Password:  ptr(z.Passcode),
		// No passcode asked for: Zoom must not make one up.
		DefaultPassword: ptr(false),
		Settings: &zoom.MeetingSettings{
			HostVideo:                    ptr(z.HostVideo),
			ParticipantVideo:             ptr(z.ParticipantVideo),
			MuteUponEntry:                ptr(z.MuteUponEntry),
			WaitingRoom:                  ptr(z.WaitingRoom),
			MeetingAuthentication:        ptr(z.Authentication),
			ApprovalType:                 ptr(approval),
			RegistrantsEmailNotification: ptr(z.RegistrantEmails),
			RegistrantsConfirmationEmail: ptr(z.RegistrantEmails),
		},
	}
}

func ptr[T any](v T) *T { return &v }

// meetingPatch is the part of want that differs from applied (everything
// when applied is nil), and whether there is any. Type and default_password
// only matter when creating.
func meetingPatch(applied, want *zoom.MeetingRequest) (*zoom.MeetingRequest, bool) {
	if applied == nil {
		applied = &zoom.MeetingRequest{}
	}
	patch := zoom.MeetingRequest{Settings: &zoom.MeetingSettings{}}
	changed := diffFields(reflect.ValueOf(applied).Elem(), reflect.ValueOf(want).Elem(), reflect.ValueOf(&patch).Elem())
	changed = diffFields(reflect.ValueOf(applied.Settings), reflect.ValueOf(want.Settings),
		reflect.ValueOf(patch.Settings).Elem()) || changed
	if *patch.Settings == (zoom.MeetingSettings{}) {
		patch.Settings = nil
	}
	patch.Type, patch.DefaultPassword = nil, nil
	return &patch, changed && patch != (zoom.MeetingRequest{})
}

// diffFields copies into out each pointer field of want (a struct of
// pointer fields) whose value differs from a's (a may be a nil pointer),
// skipping nested structs; it reports whether it copied any.
func diffFields(a, want, out reflect.Value) bool {
	if a.Kind() == reflect.Pointer {
		if a.IsNil() {
			a = reflect.Value{}
		} else {
			a = a.Elem()
		}
	}
	if want.Kind() == reflect.Pointer {
		if want.IsNil() {
			return false
		}
		want = want.Elem()
	}
	changed := false
	for i := range want.NumField() {
		wf := want.Field(i)
		if wf.Kind() != reflect.Pointer || wf.IsNil() || wf.Elem().Kind() == reflect.Struct {
			continue
		}
		if a.IsValid() {
			af := a.Field(i)
			if !af.IsNil() && reflect.DeepEqual(af.Elem().Interface(), wf.Elem().Interface()) {
				continue
			}
		}
		out.Field(i).Set(wf)
		changed = true
	}
	return changed
}

// failure says what a failed sync means for the organizer and when to try
// again.
func (w *SyncZoomMeetingsWorker) failure(err error, t store.ZoomMeetingTask) store.ZoomMeetingFailure {
	return zoomFailure(err, t, w.Now(), w.Options)
}

// zoomFailure reads a failed call to Zoom for a meeting (or its registrant
// list): what it means for the organizer and when to try again. Whether a
// create may have happened is the row's to remember, not the failure's:
// see store.ZoomMeetingFailed.
func zoomFailure(err error, t store.ZoomMeetingTask, now time.Time, o ZoomMeetingOptions) store.ZoomMeetingFailure {
	retryAt := now.Add(backoff(o.RetryBase, o.RetryMax, t.Attempts+1))
	f := store.ZoomMeetingFailure{Kind: ZoomErrTransient, Message: err.Error(), RetryAt: retryAt}
	if errors.Is(err, store.ErrZoomRelinkRequired) {
		// Picked up again once the host is linked (rows of an unlinked
		// host are never claimed).
		f.Kind, f.Message, f.RetryAt = ZoomErrRelink, "", now
		return f
	}
	if errors.Is(err, errScheduleStarted) {
		// Nothing to retry: an edit that moves the schedule ahead makes
		// the row due again.
		f.Kind, f.Message, f.RetryAt = ZoomErrStarted, "", time.Time{}
		return f
	}
	var ae *zoom.APIError
	if !errors.As(err, &ae) {
		return f // no answer (a timeout, a dead connection): tried again
	}
	f.Code, f.Message = ae.Code, ae.Message
	for _, fe := range ae.Fields {
		f.Message += " " + fe.Field + ": " + fe.Message
	}
	switch {
	case zoom.IsRateLimited(err):
		f.Kind, f.RetryAt = ZoomErrRateLimited, now.Add(max(ae.RetryAfter, time.Second))
		if zoom.IsDailyLimit(err) {
			// The host's daily meeting writes: Zoom resets them at 00:00 UTC.
			f.Kind, f.RetryAt = ZoomErrDailyLimit, now.UTC().Truncate(24*time.Hour).Add(24*time.Hour)
			if ae.RetryAfter > 0 {
				f.RetryAt = now.Add(ae.RetryAfter)
			}
		}
	case zoom.IsServerError(err):
	case zoom.IsInvalidToken(err):
		f.Kind, f.RetryAt = ZoomErrRelink, retryAt
	case zoom.IsUserGone(err):
		f.Kind, f.RetryAt = ZoomErrHostGone, time.Time{}
	case zoom.IsLicenseRequired(err):
		f.Kind, f.RetryAt = ZoomErrLicense, time.Time{}
	case zoom.IsPasscodeRefused(err):
		f.Kind, f.RetryAt = ZoomErrPasscode, time.Time{}
	case zoom.IsInvalid(err):
		f.Kind, f.RetryAt = ZoomErrInvalid, time.Time{}
	default:
		f.Kind, f.RetryAt = ZoomErrOther, time.Time{}
	}
	return f
}
