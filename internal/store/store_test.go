package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func open(t testing.TB, db testdb.DB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	return st
}

// fixture is an organization with one published event, one group and one
// schedule of the given capacity, a day from now.
type fixture struct {
	org      event.Organization
	event    event.Event
	group    event.ScheduleGroup
	schedule event.Schedule
}

func newFixture(t testing.TB, st *store.Store, email string, capacity int, waitlist bool) fixture {
	t.Helper()
	ctx := context.Background()
	org, _, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "主催者 " + email, Name: "オーナー", Email: email}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{OrgID: org.ID, Title: "Go勉強会", Fee: event.FeeFree, TimeZone: "Asia/Tokyo",
		Status: event.StatusPublished, WaitlistEnabled: waitlist}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: org.ID, EventID: e.ID, Venue: event.VenueURL, OnlineURL: "https://example.com/live"}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	sc := event.Schedule{OrgID: org.ID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: capacity}
	if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	return fixture{org: org, event: e, group: g, schedule: sc}
}

func input(f fixture, i int) event.ApplicationInput {
	return event.ApplicationInput{ScheduleID: f.schedule.ID, Name: fmt.Sprintf("参加者%d", i),
		Email: fmt.Sprintf("p%d@example.com", i), SubmitKey: fmt.Sprintf("submit-key-%d-%06d-abcdef", f.event.ID, i)}
}

func seatsTaken(t *testing.T, st *store.Store, f fixture) int {
	t.Helper()
	sc, err := st.Schedule(context.Background(), f.org.ID, f.event.ID, f.schedule.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sc.SeatsTaken
}

// TestConcurrentApplicationsNeverOversell fires 200 applications at once at
// 50 seats: exactly 50 are accepted, the rest told it is full (or
// waitlisted), on both databases.
func TestConcurrentApplicationsNeverOversell(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		for _, waitlist := range []bool{false, true} {
			t.Run(fmt.Sprintf("waitlist=%v", waitlist), func(t *testing.T) {
				f := newFixture(t, st, fmt.Sprintf("owner-%v@example.com", waitlist), 50, waitlist)
				const n = 200
				var wg sync.WaitGroup
				results := make([]event.ApplyResult, n)
				errs := make([]error, n)
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						results[i], errs[i] = st.Apply(context.Background(), &f.event, input(f, i))
					})
				}
				close(start)
				wg.Wait()
				applied, waitlisted, full := 0, 0, 0
				for i := range n {
					switch {
					case errors.Is(errs[i], store.ErrScheduleFull):
						full++
					case errs[i] != nil:
						t.Fatalf("application %d: %v", i, errs[i])
					case results[i].Application.Status == event.Applied:
						applied++
					case results[i].Application.Status == event.Waitlisted:
						waitlisted++
					}
				}
				if applied != 50 {
					t.Errorf("applied = %d, want exactly 50", applied)
				}
				if waitlist && (waitlisted != 150 || full != 0) {
					t.Errorf("waitlisted = %d, full = %d; want 150 and 0", waitlisted, full)
				}
				if !waitlist && (full != 150 || waitlisted != 0) {
					t.Errorf("full = %d, waitlisted = %d; want 150 and 0", full, waitlisted)
				}
				if got := seatsTaken(t, st, f); got != 50 {
					t.Errorf("seats_taken = %d, want 50", got)
				}
				page, err := st.Applicants(context.Background(), f.org.ID, f.event.ID, store.ApplicantQuery{PerPage: 1})
				if err != nil {
					t.Fatal(err)
				}
				if want := applied + waitlisted; page.Total != want {
					t.Errorf("stored %d applications, want %d", page.Total, want)
				}
			})
		}
	})
}

// TestDoubleSubmitCreatesOneApplication submits one form (one submit key)
// many times at once.
func TestDoubleSubmitCreatesOneApplication(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		f := newFixture(t, st, "owner@example.com", 10, false)
		in := input(f, 1)
		const n = 8
		var wg sync.WaitGroup
		results := make([]event.ApplyResult, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { results[i], errs[i] = st.Apply(context.Background(), &f.event, in) })
		}
		wg.Wait()
		created := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("submit %d: %v", i, errs[i])
			}
			if !results[i].Existing {
				created++
			}
			if results[i].Application.Token != results[0].Application.Token {
				t.Errorf("submit %d got application %s, want %s", i, results[i].Application.Token, results[0].Application.Token)
			}
		}
		if created != 1 {
			t.Errorf("%d submits created an application, want 1", created)
		}
		if got := seatsTaken(t, st, f); got != 1 {
			t.Errorf("seats_taken = %d, want 1", got)
		}
	})
}

func TestApplyRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 1, false)
		other := newFixture(t, st, "other@example.com", 5, false)

		first, err := st.Apply(ctx, &f.event, input(f, 1))
		if err != nil {
			t.Fatal(err)
		}
		if first.Application.Status != event.Applied || first.Application.Payment != event.PaymentNone {
			t.Errorf("first application = %+v, want applied and no payment state", first.Application)
		}

		// Full, and no waitlist.
		if _, err := st.Apply(ctx, &f.event, input(f, 2)); !errors.Is(err, store.ErrScheduleFull) {
			t.Errorf("second application: err = %v, want ErrScheduleFull", err)
		}
		// A schedule of another event is not a choice of this one.
		wrong := input(f, 3)
		wrong.ScheduleID = other.schedule.ID
		var fe event.FieldErrors
		if _, err := st.Apply(ctx, &f.event, wrong); !errors.As(err, &fe) {
			t.Errorf("schedule of another event: err = %v, want a field error", err)
		}

		// The same address, another form: refused while the first is live.
		again := input(f, 1)
		again.SubmitKey = "another-submit-key-000001"
		again.Email = "P1@Example.com"
		if err := st.UpdateSchedule(ctx, &event.Schedule{OrgID: f.org.ID, EventID: f.event.ID, ID: f.schedule.ID,
			StartsAt: f.schedule.StartsAt, EndsAt: f.schedule.EndsAt, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Apply(ctx, &f.event, again); !errors.As(err, &fe) || fe[0].Key != "apply.already_applied" {
			t.Errorf("same address twice: err = %v, want apply.already_applied", err)
		}

		// Cancelling frees the seat, and then the address may apply again.
		if _, err := st.CancelByToken(ctx, first.Application.Token); err != nil {
			t.Fatal(err)
		}
		if got := seatsTaken(t, st, f); got != 0 {
			t.Errorf("after cancel seats_taken = %d, want 0", got)
		}
		if _, err := st.CancelByToken(ctx, first.Application.Token); !errors.Is(err, store.ErrAlreadyCanceled) {
			t.Errorf("second cancel: err = %v, want ErrAlreadyCanceled", err)
		}
		if got := seatsTaken(t, st, f); got != 0 {
			t.Errorf("after second cancel seats_taken = %d, want 0", got)
		}
		if res, err := st.Apply(ctx, &f.event, again); err != nil || res.Application.Status != event.Applied {
			t.Errorf("apply after cancel: %+v, %v", res, err)
		}
	})
}

func TestPaidApplicationsStartUnpaid(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		paid := f.event
		paid.Fee, paid.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &paid); err != nil {
			t.Fatal(err)
		}
		res, err := st.Apply(ctx, &paid, input(f, 1))
		if err != nil {
			t.Fatal(err)
		}
		a := res.Application
		if a.Payment != event.PaymentUnpaid || a.Eligible(&paid) {
			t.Fatalf("new paid application: payment %q eligible %v; want unpaid, not eligible", a.Payment, a.Eligible(&paid))
		}
		if err := st.SetPayment(ctx, f.org.ID, f.event.ID, a.ID, 0, event.PaymentPaid); err != nil {
			t.Fatal(err)
		}
		a, err = st.ApplicationByToken(ctx, a.Token)
		if err != nil {
			t.Fatal(err)
		}
		if a.Payment != event.PaymentPaid || !a.Eligible(&paid) {
			t.Errorf("after 入金済: payment %q eligible %v", a.Payment, a.Eligible(&paid))
		}
		// With applications, the event may not turn free.
		free := paid
		free.Fee, free.PriceJPY = event.FeeFree, 0
		var fe event.FieldErrors
		if err := st.UpdateEvent(ctx, &free); !errors.As(err, &fe) {
			t.Errorf("paid → free with applications: err = %v, want field error", err)
		}
	})
}

func TestConcurrentCancelsFreeOneSeat(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		f := newFixture(t, st, "owner@example.com", 3, false)
		res, err := st.Apply(context.Background(), &f.event, input(f, 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Apply(context.Background(), &f.event, input(f, 2)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 6 {
			wg.Go(func() {
				_, err := st.CancelByToken(context.Background(), res.Application.Token)
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if !errors.Is(err, store.ErrAlreadyCanceled) {
					t.Errorf("cancel: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d cancels succeeded, want 1", ok)
		}
		if got := seatsTaken(t, st, f); got != 1 {
			t.Errorf("seats_taken = %d, want 1", got)
		}
	})
}

func TestCapacityMayNotFallBelowSeatsTaken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		for i := range 3 {
			if _, err := st.Apply(ctx, &f.event, input(f, i)); err != nil {
				t.Fatal(err)
			}
		}
		sc := f.schedule
		sc.Capacity = 2
		var fe event.FieldErrors
		if err := st.UpdateSchedule(ctx, &sc); !errors.As(err, &fe) || fe[0].Key != "validation.capacity_below_taken" {
			t.Fatalf("capacity 2 under 3 taken: err = %v", err)
		}
		sc.Capacity = 3
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatalf("capacity 3 with 3 taken: %v", err)
		}
	})
}

// TestOtherOrganizationsSeeNothing: every organizer read and write takes the
// organization, and another organization's ids are simply not found.
func TestOtherOrganizationsSeeNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		a := newFixture(t, st, "a@example.com", 5, false)
		b := newFixture(t, st, "b@example.com", 5, false)
		res, err := st.Apply(ctx, &a.event, input(a, 1))
		if err != nil {
			t.Fatal(err)
		}
		bo := b.org.ID
		checks := map[string]error{}
		_, checks["Event"] = st.Event(ctx, bo, a.event.ID)
		_, checks["Group"] = st.Group(ctx, bo, a.event.ID, a.group.ID)
		_, checks["Schedule"] = st.Schedule(ctx, bo, a.event.ID, a.schedule.ID)
		_, checks["Application"] = st.Application(ctx, bo, a.event.ID, res.Application.ID)
		_, checks["EventImpact"] = st.EventImpact(ctx, bo, a.event.ID)
		_, checks["GroupImpact"] = st.GroupImpact(ctx, bo, a.group.ID)
		_, checks["ScheduleImpact"] = st.ScheduleImpact(ctx, bo, a.schedule.ID)
		upd := a.event
		upd.OrgID = bo
		checks["UpdateEvent"] = st.UpdateEvent(ctx, &upd)
		g := a.group
		g.OrgID = bo
		checks["UpdateGroup"] = st.UpdateGroup(ctx, &g)
		g.ID = 0
		_, checks["CreateGroup"] = st.CreateGroup(ctx, &g, "")
		sc := a.schedule
		sc.OrgID = bo
		checks["UpdateSchedule"] = st.UpdateSchedule(ctx, &sc)
		_, checks["CreateSchedule"] = st.CreateSchedule(ctx, &sc, "")
		checks["SetPayment"] = st.SetPayment(ctx, bo, a.event.ID, res.Application.ID, 0, event.PaymentPaid)
		_, checks["CancelApplication"] = st.CancelApplication(ctx, bo, a.event.ID, res.Application.ID, 0)
		checks["DeleteSchedule"] = st.DeleteSchedule(ctx, bo, a.event.ID, a.schedule.ID)
		checks["DeleteGroup"] = st.DeleteGroup(ctx, bo, a.event.ID, a.group.ID)
		checks["DeleteEvent"] = st.DeleteEvent(ctx, bo, a.event.ID)
		for name, err := range checks {
			if !errors.Is(err, event.ErrNotFound) {
				t.Errorf("%s with another organization: err = %v, want not found", name, err)
			}
		}
		list, err := st.Applicants(ctx, bo, a.event.ID, store.ApplicantQuery{PerPage: 50})
		if err != nil || list.Total != 0 || len(list.Rows) != 0 {
			t.Errorf("Applicants of another organization's event: %d rows, %v", list.Total, err)
		}
		// A's data is untouched.
		got, err := st.ApplicationByToken(ctx, res.Application.Token)
		if err != nil || got.Status != event.Applied {
			t.Errorf("A's application after B's attempts: %+v, %v", got, err)
		}
		if taken := seatsTaken(t, st, a); taken != 1 {
			t.Errorf("A's seats_taken = %d, want 1", taken)
		}
	})
}

func TestDeleteImpactAndCascade(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		sc2 := f.schedule
		sc2.ID = 0
		sc2.StartsAt = sc2.StartsAt.Add(48 * time.Hour)
		sc2.EndsAt = sc2.EndsAt.Add(48 * time.Hour)
		if _, err := st.CreateSchedule(ctx, &sc2, ""); err != nil {
			t.Fatal(err)
		}
		var tokens []string
		for i := range 3 {
			res, err := st.Apply(ctx, &f.event, input(f, i))
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, res.Application.Token)
		}
		if _, err := st.CancelByToken(ctx, tokens[2]); err != nil {
			t.Fatal(err)
		}
		im, err := st.EventImpact(ctx, f.org.ID, f.event.ID)
		if err != nil {
			t.Fatal(err)
		}
		if im != (store.Impact{Groups: 1, Schedules: 2, Applications: 2}) {
			t.Errorf("event impact = %+v, want 1 group, 2 schedules, 2 live applications", im)
		}
		im, err = st.ScheduleImpact(ctx, f.org.ID, sc2.ID)
		if err != nil || im.Applications != 0 || im.Schedules != 1 {
			t.Errorf("empty schedule impact = %+v, %v", im, err)
		}
		if err := st.DeleteSchedule(ctx, f.org.ID, f.event.ID, f.schedule.ID); err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if _, err := st.ApplicationByToken(ctx, tok); !errors.Is(err, event.ErrNotFound) {
				t.Errorf("application of a deleted schedule: err = %v, want not found", err)
			}
		}
		if err := st.DeleteEvent(ctx, f.org.ID, f.event.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Schedule(ctx, f.org.ID, f.event.ID, sc2.ID); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("schedule of a deleted event: err = %v", err)
		}
	})
}

func TestTimesRoundTripInUTC(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		f := newFixture(t, st, "owner@example.com", 5, false)
		got, err := st.Schedule(context.Background(), f.org.ID, f.event.ID, f.schedule.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.StartsAt.Equal(f.schedule.StartsAt) || !got.EndsAt.Equal(f.schedule.EndsAt) {
			t.Errorf("times changed on the way: %v–%v, want %v–%v", got.StartsAt, got.EndsAt, f.schedule.StartsAt, f.schedule.EndsAt)
		}
	})
}

func TestEmailIsUniqueAcrossOrganizations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		newFixture(t, st, "owner@example.com", 1, false)
		_, _, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "二つ目", Name: "x", Email: "owner@example.com"}, "hash")
		var fe event.FieldErrors
		if !errors.As(err, &fe) || fe[0].Key != "validation.email_taken" {
			t.Errorf("second sign-up with the same e-mail: err = %v", err)
		}
	})
}

// TestConcurrentMigrations starts several instances' migrations at once on
// one fresh PostgreSQL database: one applies, the others wait, all succeed.
func TestConcurrentMigrations(t *testing.T) {
	db := testdb.Postgres(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			st, err := store.Open(context.Background(), store.Options{DatabaseURL: db.DatabaseURL})
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			errs[i] = st.Migrate(context.Background(), quiet)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	st := open(t, db)
	f := newFixture(t, st, "owner@example.com", 1, false)
	if _, err := st.Apply(context.Background(), &f.event, input(f, 1)); err != nil {
		t.Errorf("schema after concurrent migrations unusable: %v", err)
	}
}

// TestCreateFormSubmittedTwice: one rendered create form, submitted many
// times at once (double click, a second tab), creates one event.
func TestCreateFormSubmittedTwice(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		f := newFixture(t, st, "owner@example.com", 5, false)
		const n = 6
		ids := make([]int64, n)
		created := make([]bool, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				e := event.Event{OrgID: f.org.ID, Title: "二重送信", Fee: event.FeeFree, TimeZone: "Asia/Tokyo", Status: event.StatusDraft}
				existing, err := st.CreateEvent(context.Background(), &e, "form-key-0123456789abcdef")
				if err != nil {
					t.Errorf("submit %d: %v", i, err)
				}
				ids[i], created[i] = e.ID, !existing
			})
		}
		wg.Wait()
		n1 := 0
		for i := range n {
			if created[i] {
				n1++
			}
			if ids[i] != ids[0] || ids[i] == 0 {
				t.Errorf("submit %d answered event %d, want %d", i, ids[i], ids[0])
			}
		}
		if n1 != 1 {
			t.Errorf("%d submits created an event, want 1", n1)
		}
		es, err := st.Events(context.Background(), f.org.ID)
		if err != nil || len(es) != 2 {
			t.Errorf("organization has %d events (%v), want the fixture's and one more", len(es), err)
		}
		// The same key in another organization is another form.
		other := newFixture(t, st, "other@example.com", 5, false)
		e := event.Event{OrgID: other.org.ID, Title: "別の主催者", Fee: event.FeeFree, TimeZone: "Asia/Tokyo", Status: event.StatusDraft}
		if existing, err := st.CreateEvent(context.Background(), &e, "form-key-0123456789abcdef"); err != nil || existing || e.ID == ids[0] {
			t.Errorf("same key, other organization: existing %v id %d err %v", existing, e.ID, err)
		}
	})
}

// TestParticipantCannotCancelAfterStart: once the schedule has started the
// store refuses the participant's cancel (event.ErrCancelClosed) and keeps
// the seat; the organizer may still cancel.
func TestParticipantCannotCancelAfterStart(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		res, err := st.Apply(ctx, &f.event, input(f, 1))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(-time.Hour).Truncate(time.Minute)
		if err := st.UpdateSchedule(ctx, &event.Schedule{OrgID: f.org.ID, EventID: f.event.ID, ID: f.schedule.ID,
			StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CancelByToken(ctx, res.Application.Token); !errors.Is(err, event.ErrCancelClosed) {
			t.Errorf("participant cancel after the start: err = %v, want ErrCancelClosed", err)
		}
		if got := seatsTaken(t, st, f); got != 1 {
			t.Errorf("after refused cancel seats_taken = %d, want 1", got)
		}
		if a, err := st.ApplicationByToken(ctx, res.Application.Token); err != nil || a.Status != event.Applied {
			t.Errorf("after refused cancel: %+v, %v; want still applied", a, err)
		}
		if _, err := st.CancelApplication(ctx, f.org.ID, f.event.ID, res.Application.ID, 0); err != nil {
			t.Errorf("organizer cancel after the start: %v", err)
		}
		if got := seatsTaken(t, st, f); got != 0 {
			t.Errorf("after organizer cancel seats_taken = %d, want 0", got)
		}
	})
}
