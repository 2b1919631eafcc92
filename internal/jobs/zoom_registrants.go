package jobs

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoompolicy"
)

// Registrant sync (DESIGN.md §3). A change to an application that can
// change who belongs on its schedule's meeting's registrant list marks the
// list due in the same transaction; the store nudges after commit, a sweep
// catches what a crash dropped, and a periodic check reads Zoom's own list
// to repair drift. The job leases due lists and reconciles each: the
// applications the policy (package zoompolicy) wants registered, against
// the registrants kaisai recorded —
//
//   - adds whose answer was lost (a timeout, a killed process) are looked
//     up in Zoom's list first, because Zoom allows an e-mail only a few adds
//     a day;
//   - registrants no longer wanted are cancelled, 30 per call;
//   - missing ones are added, 30 per call, approved at once; each batch is
//     recorded before it is sent.
//
// Registrants are keyed by lower-cased e-mail, never the host's, at most
// 4,999 a meeting (Zoom's limit).

// MaxRegistrants is Zoom's limit of registrants per meeting.
const MaxRegistrants = 4999

// SyncZoomRegistrantsArgs asks for every due registrant list to be synced.
type SyncZoomRegistrantsArgs struct{}

// Kind names the job in River's table.
func (SyncZoomRegistrantsArgs) Kind() string { return "sync_zoom_registrants" }

// InsertOpts: one attempt, not unique, like SyncZoomMeetings (lists are leased).
func (SyncZoomRegistrantsArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// NewZoomRegistrantNudger makes the nudger of SyncZoomRegistrants.
func NewZoomRegistrantNudger(every time.Duration) *Nudger {
	return NewNudger(every, SyncZoomRegistrantsArgs{})
}

// CheckRegistrantsArgs asks for the registrant lists not read from Zoom
// lately to be checked against Zoom's (the periodic repair).
type CheckRegistrantsArgs struct{}

// Kind names the job in River's table.
func (CheckRegistrantsArgs) Kind() string { return "check_zoom_registrants" }

// CheckRegistrantsWorker makes stale lists due; their sync then reads Zoom's.
type CheckRegistrantsWorker struct {
	river.WorkerDefaults[CheckRegistrantsArgs]
	Store *store.Store
	Every time.Duration
	Now   func() time.Time
}

// Work marks the lists last checked more than Every ago.
func (w *CheckRegistrantsWorker) Work(ctx context.Context, _ *river.Job[CheckRegistrantsArgs]) error {
	_, err := w.Store.CheckRegistrantLists(ctx, w.Now().Add(-w.Every))
	return err
}

// SyncZoomRegistrantsWorker reconciles due registrant lists with Zoom.
type SyncZoomRegistrantsWorker struct {
	river.WorkerDefaults[SyncZoomRegistrantsArgs]
	Store    *store.Store
	Zoom     *zoomconn.Clients // nil: Zoom is off
	Options  ZoomMeetingOptions
	Check    time.Duration // how often Zoom's own list is read (1 h)
	Now      func() time.Time
	Log      *slog.Logger
	Stopping <-chan struct{}
	Wake     *Nudger // runs the job again when the next list is due (nil: the sweep does)
}

// Timeout lets a long list (thousands of registrants at Zoom's pace) go on
// past River's default minute.
func (w *SyncZoomRegistrantsWorker) Timeout(*river.Job[SyncZoomRegistrantsArgs]) time.Duration {
	return w.Options.RunBudget + 5*time.Minute
}

// Work syncs until nothing is due; a list due soon (its backoff, a dead
// worker's lease) wakes it again.
func (w *SyncZoomRegistrantsWorker) Work(ctx context.Context, job *river.Job[SyncZoomRegistrantsArgs]) error {
	if w.Zoom == nil {
		return nil
	}
	if ok, err := w.Store.RegistrantListsDue(ctx); err != nil || !ok {
		if err != nil {
			return err
		}
		return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextRegistrantListDue)
	}
	err := leased(ctx, w.Store, job.Kind, w.Options.Lease, w.Log, func(ctx context.Context, l store.Lease) error {
		return drain(ctx, w.Stopping, w.Options.RunBudget, w.Store.RegistrantListsDue, func(ctx context.Context) (int, error) {
			tasks, err := w.Store.ClaimRegistrantLists(ctx, l, 1)
			if err != nil {
				return 0, err
			}
			for _, t := range tasks {
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
	return wakeForNext(ctx, w.Wake, w.Now, w.Store.NextRegistrantListDue)
}

// Quick retries: a failed call costs its batch seconds, not the list a
// backoff. After a transient failure (Zoom 5xx, a timeout, a dropped
// connection) the run tries the list again at once, after looking up any add
// whose answer was lost, as long as each pass moves the list on; only
// quickRetries failures in a row with no progress (about 16 s of Zoom
// failing everything) give the list back to wait out the list's backoff.
const quickRetries = 7

// quickDelay is the wait before quick retry n (from 1): none for the first
// (most failures are one call's), then 250 ms, doubled each time.
func quickDelay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return 250 * time.Millisecond << (n - 2)
}

// sync reconciles one list and records the outcome; only an error
// recording it is returned.
func (w *SyncZoomRegistrantsWorker) sync(ctx context.Context, l store.Lease, t store.RegistrantListTask) error {
	record := context.WithoutCancel(ctx)
	moved := false // some registrant was added or cancelled in this run
	for failures := 0; ; {
		checked, progress, err := w.reconcile(ctx, l, t)
		moved = moved || progress
		if checked {
			t.Checked = w.Now()
		}
		switch {
		case err == nil:
			return w.Store.RegistrantListSynced(record, l, t.MeetingRowID, t.Rev, checked)
		case errors.Is(err, store.ErrLeaseLost):
			return err
		case errors.Is(err, errStopping) || stopped(ctx, w.Stopping):
			return nil // the list stays due; the lease's end frees it
		case zoom.IsRegistrationOff(err):
			// Zoom does not take registrants (yet): the list waits until
			// the meeting's settings with 登録 are applied, then goes at once.
			w.Log.Info("zoom registrants: waiting for the meeting's registration to be applied", "meeting_row", t.MeetingRowID)
			return w.Store.RegistrantListAwaitsSettings(record, l, t.MeetingRowID)
		}
		var gone errMeetingGone
		if errors.As(err, &gone) {
			// The meeting is deleted on Zoom's side: so recorded, and the
			// list (given back) waits for 再作成, which pushes it again.
			if _, err := w.Store.ZoomMeetingDeletedOnZoom(record, store.Lease{}, t.MeetingRowID, t.ZoomID); err != nil {
				return err
			}
			return w.Store.RegistrantListFailed(record, l, t.MeetingRowID, w.Now(), "meeting deleted on Zoom", moved)
		}
		attempts := t.Attempts
		if moved {
			attempts = 0 // progress: the backoff starts again
		}
		f := zoomFailure(err, store.ZoomMeetingTask{Attempts: attempts, ZoomID: t.ZoomID}, w.Now(), w.Options)
		if progress {
			failures = 0
		} else {
			failures++
		}
		if f.Kind == ZoomErrTransient && failures <= quickRetries {
			w.Log.Info("zoom registrants: a call failed, trying again", "meeting_row", t.MeetingRowID,
				"failures", failures, "err", err)
			if !w.pause(ctx, quickDelay(failures)) {
				return nil // stopping: the list stays due
			}
			continue
		}
		retry := f.RetryAt
		if retry.IsZero() {
			retry = w.Now().Add(w.Options.RetryMax)
		}
		w.Log.Warn("zoom registrants: sync failed", "meeting_row", t.MeetingRowID, "zoom_id", t.ZoomID,
			"kind", f.Kind, "retry_at", retry, "err", err)
		return w.Store.RegistrantListFailed(record, l, t.MeetingRowID, retry, f.Kind+": "+f.Message, moved)
	}
}

// pause waits d; false when kaisai stops or the run ends meanwhile.
func (w *SyncZoomRegistrantsWorker) pause(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-w.Stopping:
	case <-ctx.Done():
	}
	return false
}

// reconcile brings Zoom's registrant list in line with the applications;
// checked reports that Zoom's list was read (and drift repaired), progress
// that some registrant was added or cancelled on Zoom.
func (w *SyncZoomRegistrantsWorker) reconcile(ctx context.Context, l store.Lease, t store.RegistrantListTask) (checked, progress bool, err error) {
	record := context.WithoutCancel(ctx)
	if !t.Registration || t.ScheduleID == 0 {
		return false, false, nil // no registration: Zoom lets anyone in with the URL
	}
	want, err := w.wanted(ctx, t)
	if err != nil {
		return false, false, err
	}
	rows, err := w.Store.MeetingRegistrantsUnscoped(ctx, t.MeetingRowID)
	if err != nil {
		return false, false, err
	}
	var stale []int64 // adds whose outcome is unknown
	for _, r := range rows {
		if r.Status == zoompolicy.RegistrantAdding {
			stale = append(stale, r.ID)
		}
	}
	if len(stale) > 0 || w.checkDue(t) {
		var found bool
		if rows, found, err = w.repair(ctx, l, t, rows); err != nil {
			return false, false, err
		}
		checked, progress = true, found
	}

	// Cancel who is no longer wanted (or now has another e-mail).
	var failed error // a transient failure of a batch, the others going on
	var cancel []store.RegistrantRow
	var drop []int64
	have := map[string]bool{} // registered, or refused by Zoom as it is: not sent again
	for _, r := range rows {
		if a, ok := want[r.Email]; ok && a.ID == r.ApplicationID {
			if r.Status.OnZoomList() || r.Status == zoompolicy.RegistrantFailed && r.ErrorKind == ZoomErrInvalid {
				have[r.Email] = true
			}
			continue
		}
		if r.Status.OnZoomList() {
			cancel = append(cancel, r)
		} else {
			drop = append(drop, r.ID) // failed: never on Zoom
		}
	}
	if err := w.Store.RegistrantsCancelled(record, l, t.MeetingRowID, drop); err != nil {
		return checked, progress, err
	}
	for batch := range slices.Chunk(cancel, zoom.MaxBatchRegistrants) {
		refs := make([]zoom.RegistrantRef, len(batch))
		ids := make([]int64, len(batch))
		for i, r := range batch {
			refs[i], ids[i] = zoom.RegistrantRef{ID: r.RegistrantID, Email: r.Email}, r.ID
		}
		err := w.call(ctx, t, func(cl *zoom.Client) error {
			return cl.UpdateRegistrantStatus(ctx, t.ZoomID, zoom.RegistrantCancel, refs)
		})
		if w.passOn(ctx, err, t, &failed) {
			continue
		}
		if err != nil {
			return checked, progress, err
		}
		if err := w.Store.RegistrantsCancelled(record, l, t.MeetingRowID, ids); err != nil {
			return checked, progress, err
		}
		progress = true
	}

	// Add who is missing, in the applications' order.
	var add []event.Application
	for _, a := range want {
		if !have[event.NormalizeEmail(a.Email)] {
			add = append(add, a)
		}
	}
	slices.SortFunc(add, func(a, b event.Application) int { return int(a.ID - b.ID) })
	for batch := range slices.Chunk(add, zoom.MaxBatchRegistrants) {
		if stopped(ctx, w.Stopping) {
			return checked, progress, errStopping
		}
		added, err := w.addBatch(ctx, l, t, batch)
		progress = progress || added
		if w.passOn(ctx, err, t, &failed) {
			continue
		}
		if err != nil {
			return checked, progress, err
		}
	}
	return checked, progress, failed
}

// passOn reports whether a batch's failure lets the pass go on with the
// next batches: a transient one (no answer, Zoom 5xx) costs its own batch,
// whose rows are looked up and sent again on the next pass; *failed keeps
// it for the pass's outcome. Anything else (a refusal, a long wait, the
// host's tokens) ends the pass.
func (w *SyncZoomRegistrantsWorker) passOn(ctx context.Context, err error, t store.RegistrantListTask, failed *error) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, store.ErrLeaseLost) || meetingGone(err) != err {
		return false
	}
	if zoomFailure(err, store.ZoomMeetingTask{}, w.Now(), w.Options).Kind != ZoomErrTransient {
		return false
	}
	w.Log.Info("zoom registrants: a batch failed, the others go on", "meeting_row", t.MeetingRowID, "err", err)
	*failed = err
	return true
}

// errStopping ends a sync early when kaisai stops; the list stays due.
var errStopping = errors.New("kaisai is stopping")

// wanted are the applications the policy puts on the list, by lower-cased
// e-mail: never the host, at most MaxRegistrants (the first applications).
func (w *SyncZoomRegistrantsWorker) wanted(ctx context.Context, t store.RegistrantListTask) (map[string]event.Application, error) {
	e, apps, err := w.Store.RegistrantCandidatesUnscoped(ctx, t.ScheduleID)
	if err != nil {
		return nil, err
	}
	m := zoompolicy.Meeting{Registration: t.Registration, Authentication: t.Authentication}
	host := event.NormalizeEmail(t.HostEmail)
	want := map[string]event.Application{}
	for i := range apps {
		a := &apps[i]
		email := event.NormalizeEmail(a.Email)
		if email == host || !zoompolicy.Registrant(m, &e, a) {
			continue
		}
		if _, dup := want[email]; dup {
			continue
		}
		if len(want) == MaxRegistrants {
			w.Log.Warn("zoom registrants: more eligible applications than Zoom allows", "meeting_row", t.MeetingRowID,
				"max", MaxRegistrants)
			break
		}
		want[email] = *a
	}
	return want, nil
}

// checkDue reports whether Zoom's own list should be read now.
func (w *SyncZoomRegistrantsWorker) checkDue(t store.RegistrantListTask) bool {
	every := w.Check
	if every <= 0 {
		every = time.Hour
	}
	return t.Checked.IsZero() || w.Now().Sub(t.Checked) >= every
}

// repair reads Zoom's approved registrants and brings kaisai's rows in line:
// an add whose answer was lost is registered if Zoom has it, else forgotten
// (to be added again); a registrant Zoom no longer has is forgotten too.
// found reports that some add whose answer was lost turned out to be on Zoom.
func (w *SyncZoomRegistrantsWorker) repair(ctx context.Context, l store.Lease, t store.RegistrantListTask, rows []store.RegistrantRow) (_ []store.RegistrantRow, found bool, err error) {
	record := context.WithoutCancel(ctx)
	var onZoom []zoom.Registrant
	err = w.call(ctx, t, func(cl *zoom.Client) (err error) {
		onZoom, err = cl.Registrants(ctx, t.ZoomID, zoom.RegistrantApproved)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	byEmail := make(map[string]zoom.Registrant, len(onZoom))
	for _, r := range onZoom {
		byEmail[event.NormalizeEmail(r.Email)] = r
	}
	var registered []store.RegisteredRow
	var forget []int64
	for _, r := range rows {
		z, ok := byEmail[r.Email]
		switch {
		case r.Status == zoompolicy.RegistrantAdding && ok:
			registered = append(registered, store.RegisteredRow{ID: r.ID, RegistrantID: z.ID, JoinURL: z.JoinURL})
		case r.Status == zoompolicy.RegistrantAdding, r.Status.OnZoomList() && !ok:
			forget = append(forget, r.ID)
		}
	}
	if len(forget) > 0 {
		w.Log.Info("zoom registrants: not on Zoom, to be added again", "meeting_row", t.MeetingRowID, "n", len(forget))
	}
	if err := w.Store.RegistrantsRegistered(record, l, t.MeetingRowID, registered); err != nil {
		return nil, false, err
	}
	if err := w.Store.RegistrantsForgotten(record, l, t.MeetingRowID, forget); err != nil {
		return nil, false, err
	}
	rows, err = w.Store.MeetingRegistrantsUnscoped(ctx, t.MeetingRowID)
	return rows, len(registered) > 0, err
}

// addBatch records up to 30 adds, sends them, and records Zoom's answer;
// added reports that Zoom registered some. An entry Zoom refuses (its
// e-mail's daily adds used up, or a field Zoom finds invalid) is marked
// failed with Zoom's words, and the rest of the batch is sent again at once.
func (w *SyncZoomRegistrantsWorker) addBatch(ctx context.Context, l store.Lease, t store.RegistrantListTask, batch []event.Application) (added bool, err error) {
	record := context.WithoutCancel(ctx)
	for len(batch) > 0 {
		news := make([]store.NewRegistrantRow, len(batch))
		regs := make([]zoom.NewRegistrant, len(batch))
		for i, a := range batch {
			email := event.NormalizeEmail(a.Email)
			news[i] = store.NewRegistrantRow{ApplicationID: a.ID, Email: email}
			regs[i] = zoom.NewRegistrant{Email: email, FirstName: registrantName(a.Name)}
		}
		ids, err := w.Store.RegistrantsAdding(record, l, t.OrgID, t.MeetingRowID, news)
		if err != nil {
			return added, err
		}
		var answer []zoom.AddedRegistrant
		err = w.call(ctx, t, func(cl *zoom.Client) (err error) {
			answer, err = cl.AddBatchRegistrants(ctx, t.ZoomID, regs, true)
			return err
		})
		refused := refusedEntries(err, news)
		if len(refused) > 0 {
			// Nothing of the batch was added: the refused entries wait (an
			// e-mail's daily limit: with the list's next sync; an invalid
			// field: until the application changes or 再試行), the rest go
			// again now.
			for i, why := range refused {
				w.Log.Warn("zoom registrants: Zoom refused an entry", "meeting_row", t.MeetingRowID,
					"application", batch[i].ID, "kind", why.kind, "why", why.message)
				if err := w.Store.RegistrantsFailed(record, l, t.MeetingRowID, ids[i:i+1], why.kind, why.message); err != nil {
					return added, err
				}
			}
			rest := make([]event.Application, 0, len(batch))
			for i, a := range batch {
				if _, out := refused[i]; !out {
					rest = append(rest, a)
				}
			}
			batch = rest
			continue
		}
		var ae *zoom.APIError
		if errors.As(err, &ae) && zoom.IsClientError(err) && !zoom.IsRateLimited(err) &&
			!zoom.IsInvalidToken(err) && meetingGone(err) == err && !zoom.IsRegistrationOff(err) {
			// A definite refusal of the whole batch: nothing was added.
			kind := ZoomErrInvalid
			if zoom.IsLicenseRequired(err) {
				kind = ZoomErrLicense
			}
			if ferr := w.Store.RegistrantsFailed(record, l, t.MeetingRowID, ids, kind, ae.Message); ferr != nil {
				return added, ferr
			}
			return added, err
		}
		if err != nil {
			// No answer, or one that does not say what Zoom did: the rows
			// stay "adding", looked up before anything is sent again.
			return added, err
		}
		byEmail := make(map[string]zoom.AddedRegistrant, len(answer))
		for _, a := range answer {
			byEmail[event.NormalizeEmail(a.Email)] = a
		}
		done := make([]store.RegisteredRow, 0, len(ids))
		for i, n := range news {
			if a, ok := byEmail[n.Email]; ok {
				done = append(done, store.RegisteredRow{ID: ids[i], RegistrantID: a.RegistrantID, JoinURL: a.JoinURL})
			}
		}
		return len(done) > 0, w.Store.RegistrantsRegistered(record, l, t.MeetingRowID, done)
	}
	return added, nil
}

// refusal is why Zoom refused one entry of a batch.
type refusal struct{ kind, message string }

// refusedEntries are the entries of a batch that Zoom's answer refuses by
// name, by index: an e-mail whose daily adds are used up (a 429 naming it),
// or entries whose fields Zoom finds invalid (a validation failure naming
// registrants[i]). None for any other answer.
func refusedEntries(err error, news []store.NewRegistrantRow) map[int]refusal {
	if i := overAddedEmail(err, news); i >= 0 {
		return map[int]refusal{i: {ZoomErrDailyLimit, err.Error()}}
	}
	var out map[int]refusal
	for i, why := range zoom.RefusedEntries(err, "registrants") {
		if i >= len(news) {
			return nil // not this batch's numbering: the whole batch is refused
		}
		if out == nil {
			out = map[int]refusal{}
		}
		out[i] = refusal{ZoomErrInvalid, why}
	}
	return out
}

// overAddedEmail is the index of the e-mail whose daily adds a 429 names
// (Zoom: "… permitted for (email) this particular registrant"); -1 for any
// other answer.
func overAddedEmail(err error, news []store.NewRegistrantRow) int {
	var ae *zoom.APIError
	if !zoom.IsRateLimited(err) || !errors.As(err, &ae) {
		return -1
	}
	msg := strings.ToLower(ae.Message)
	for i, n := range news {
		if strings.Contains(msg, "("+n.Email+")") || strings.Contains(msg, " "+n.Email+" ") {
			return i
		}
	}
	return -1
}

// call runs fn as the meeting's host. A per-second 429 means Zoom did
// nothing, so even an add is sent again; a longer wait (a daily limit) is
// returned. Zoom counts per-second limits ("QPS") in windows of a second
// and says Retry-After in whole seconds, so the first 429 in a row waits
// only for the next second to begin; a second one in a row waits as long
// as Zoom asks.
func (w *SyncZoomRegistrantsWorker) call(ctx context.Context, t store.RegistrantListTask, fn func(*zoom.Client) error) error {
	for limited := 0; ; limited++ {
		err := w.Zoom.Do(ctx, t.OrgID, t.ConnID, func(cl *zoom.Client) error { return meetingGone(fn(cl)) })
		if !zoom.IsRateLimited(err) {
			return err
		}
		wait := zoom.RetryAfter(err)
		if wait > 10*time.Second {
			return err
		}
		if zoom.IsPerSecondLimit(err) && limited == 0 {
			now := time.Now()
			wait = now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond).Sub(now)
		}
		wait = max(wait, 5*time.Millisecond)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// registrantName is the first_name Zoom requires (1–64 characters).
func registrantName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return "-"
	}
	if len(r) > 64 {
		r = r[:64]
	}
	return string(r)
}
