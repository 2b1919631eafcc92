package store_test

// Tests of the organizer's management of applications (申込者一覧): search,
// filters and paging; 受付, 機密事項メモ, 登録内容修正, 繰り上げ and 削除; the
// activity log each change writes; and the mail each change puts in the
// outbox, on SQLite and PostgreSQL.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// testClock is a store clock that only moves when told to.
type testClock struct{ unixNano atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.unixNano.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.unixNano.Load()) }
func (c *testClock) Advance(d time.Duration) { c.unixNano.Add(int64(d)) }

// openAt opens a migrated store whose clock is c.
func openAt(t *testing.T, db testdb.DB, c *testClock) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	return st
}

// owner is the member that newFixture's organization was created with.
func owner(t *testing.T, st *store.Store, f fixture) event.Member {
	t.Helper()
	ms, err := st.Members(context.Background(), f.org.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("members of %d: %v, %v", f.org.ID, ms, err)
	}
	return ms[0]
}

// applyTo applies name and email to a schedule of f's event (e may be a
// changed copy of f.event, e.g. made paid), each time as a new form.
func applyTo(t *testing.T, st *store.Store, e *event.Event, scheduleID int64, name, email string) event.Application {
	t.Helper()
	res, err := st.Apply(context.Background(), e, event.ApplicationInput{ScheduleID: scheduleID, Name: name,
		Email: email, SubmitKey: "key-" + rand.Text()})
	if err != nil {
		t.Fatalf("apply %s <%s>: %v", name, email, err)
	}
	return res.Application
}

// addSchedule adds a second schedule to f's group, two days after the first.
func addSchedule(t *testing.T, st *store.Store, f fixture, capacity int) event.Schedule {
	t.Helper()
	sc := event.Schedule{OrgID: f.org.ID, EventID: f.event.ID, GroupID: f.group.ID,
		StartsAt: f.schedule.StartsAt.Add(48 * time.Hour), EndsAt: f.schedule.EndsAt.Add(48 * time.Hour), Capacity: capacity}
	if _, err := st.CreateSchedule(context.Background(), &sc, ""); err != nil {
		t.Fatal(err)
	}
	return sc
}

// makePaid turns f's event into a paid one and returns it.
func makePaid(t *testing.T, st *store.Store, f fixture) event.Event {
	t.Helper()
	paid := f.event
	paid.Fee, paid.PriceJPY = event.FeePaid, 3000
	if err := st.UpdateEvent(context.Background(), &paid); err != nil {
		t.Fatal(err)
	}
	return paid
}

// mails counts an application's outbox rows by kind.
func mails(t *testing.T, st *store.Store, applicationID int64) map[event.MailKind]int {
	t.Helper()
	rows, err := st.WriteDB().QueryContext(context.Background(),
		`SELECT kind, COUNT(*) FROM outbox WHERE application_id = $1 GROUP BY kind`, applicationID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[event.MailKind]int{}
	for rows.Next() {
		var k event.MailKind
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		m[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// activity returns an application's history.
func activity(t *testing.T, st *store.Store, f fixture, applicationID int64) []store.ActivityEntry {
	t.Helper()
	es, err := st.Activity(context.Background(), f.org.ID, applicationID)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func actions(es []store.ActivityEntry) []string {
	var as []string
	for _, e := range es {
		as = append(as, e.Action)
	}
	return as
}

// reload reads an application as it is stored.
func reload(t *testing.T, st *store.Store, f fixture, id int64) event.Application {
	t.Helper()
	a, err := st.Application(context.Background(), f.org.ID, f.event.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wantKey fails unless err is a domain error (*event.Error) with key.
func wantKey(t *testing.T, what string, err error, key string) {
	t.Helper()
	var ee *event.Error
	if !errors.As(err, &ee) || ee.Key != key {
		t.Errorf("%s: err = %v, want %s", what, err, key)
	}
}

func ids(rows []store.ApplicationRow) []int64 {
	var is []int64
	for _, r := range rows {
		is = append(is, r.ID)
	}
	return is
}

// TestApplicantsPaging: 120 applications in pages of 50, oldest first.
func TestApplicantsPaging(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 200, false)
		var all []int64
		for i := range 120 {
			res, err := st.Apply(ctx, &f.event, input(f, i))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, res.Application.ID)
		}
		for _, tc := range []struct {
			page     int
			from, to int // indexes into all
		}{
			{0, 0, 50}, // no page is the first
			{1, 0, 50},
			{2, 50, 100},
			{3, 100, 120},
			{4, 120, 120},
		} {
			p, err := st.Applicants(ctx, f.org.ID, f.event.ID, store.ApplicantQuery{Page: tc.page, PerPage: 50})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 120 {
				t.Errorf("page %d: Total = %d, want 120", tc.page, p.Total)
			}
			if got, want := ids(p.Rows), all[tc.from:tc.to]; !slices.Equal(got, want) {
				t.Errorf("page %d: ids %v, want %v", tc.page, got, want)
			}
		}
		p, err := st.Applicants(ctx, f.org.ID, f.event.ID, store.ApplicantQuery{Page: 1, PerPage: 50})
		if err != nil {
			t.Fatal(err)
		}
		if r := p.Rows[0]; r.Email != "p0@example.com" || !r.StartsAt.Equal(f.schedule.StartsAt) {
			t.Errorf("first row = %+v, want p0@example.com starting %v", r, f.schedule.StartsAt)
		}
	})
}

// TestApplicantsSearch: part of the name or e-mail, ASCII case ignored, and
// LIKE's % _ and \ taken as the characters they are.
func TestApplicantsSearch(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 50, false)
		people := []struct{ name, email string }{
			{"Alice Smith", "alice@example.com"},  // 0
			{"Bob_Jones", "bob@example.org"},      // 1
			{"BobXJones", "bobx@example.org"},     // 2: matches b_j only if _ is a wildcard
			{"100% 満足", "d@example.net"},          // 3
			{"1000 満足", "e@example.net"},          // 4: matches 0% only if % is a wildcard
			{"山田 花子", "Hanako.Yamada@Example.JP"}, // 5
			{`C:\dir`, "backslash@example.net"},   // 6
			{"Cxdir", "cxdir@example.net"},        // 7
			{"Zed", "z%z@example.net"},            // 8
		}
		var id []int64
		for _, p := range people {
			id = append(id, applyTo(t, st, &f.event, f.schedule.ID, p.name, p.email).ID)
		}
		for _, tc := range []struct {
			search string
			want   []int // indexes into people
		}{
			{"", []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
			{"alice", []int{0}},
			{"ALICE", []int{0}},
			{"  Smi  ", []int{0}},
			{"bob", []int{1, 2}},
			{"EXAMPLE.ORG", []int{1, 2}},
			{"b_j", []int{1}},
			{"_", []int{1}},
			{"0%", []int{3}},
			{"%", []int{3, 8}},
			{"z%z", []int{8}},
			{`\`, []int{6}},
			{`c:\d`, []int{6}},
			{"山田", []int{5}},
			{"hanako.yamada@example.jp", []int{5}},
			{"@example.net", []int{3, 4, 6, 7, 8}},
			{"満足", []int{3, 4}},
			{"nobody", nil},
		} {
			p, err := st.Applicants(ctx, f.org.ID, f.event.ID, store.ApplicantQuery{Search: tc.search, Page: 1, PerPage: 50})
			if err != nil {
				t.Fatalf("search %q: %v", tc.search, err)
			}
			var want []int64
			for _, i := range tc.want {
				want = append(want, id[i])
			}
			if got := ids(p.Rows); !slices.Equal(got, want) || p.Total != len(want) {
				t.Errorf("search %q: ids %v (Total %d), want %v", tc.search, got, p.Total, want)
			}
		}
	})
}

// TestApplicantsFilters: by schedule, by status, and both with a search.
func TestApplicantsFilters(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 1, true)
		sc2 := addSchedule(t, st, f, 5)
		a1 := applyTo(t, st, &f.event, f.schedule.ID, "一郎", "ichiro@example.com") // applied
		a2 := applyTo(t, st, &f.event, f.schedule.ID, "二郎", "jiro@example.com")   // waitlisted
		a3 := applyTo(t, st, &f.event, sc2.ID, "三郎", "saburo@example.com")        // applied
		a4 := applyTo(t, st, &f.event, sc2.ID, "四郎", "shiro@example.com")         // cancelled
		a5 := applyTo(t, st, &f.event, sc2.ID, "五郎 ichiro", "goro@example.com")   // applied
		if a2.Status != event.Waitlisted {
			t.Fatalf("second application of one seat: %s, want waitlisted", a2.Status)
		}
		if _, err := st.CancelByToken(ctx, a4.Token); err != nil {
			t.Fatal(err)
		}
		other := newFixture(t, st, "other@example.com", 5, false)
		applyTo(t, st, &other.event, other.schedule.ID, "他社 一郎", "ichiro@example.com")

		for _, tc := range []struct {
			name string
			q    store.ApplicantQuery
			want []int64
		}{
			{"all", store.ApplicantQuery{}, []int64{a1.ID, a2.ID, a3.ID, a4.ID, a5.ID}},
			{"schedule 1", store.ApplicantQuery{ScheduleID: f.schedule.ID}, []int64{a1.ID, a2.ID}},
			{"schedule 2", store.ApplicantQuery{ScheduleID: sc2.ID}, []int64{a3.ID, a4.ID, a5.ID}},
			{"another event's schedule", store.ApplicantQuery{ScheduleID: other.schedule.ID}, nil},
			{"applied", store.ApplicantQuery{Status: event.Applied}, []int64{a1.ID, a3.ID, a5.ID}},
			{"waitlisted", store.ApplicantQuery{Status: event.Waitlisted}, []int64{a2.ID}},
			{"cancelled", store.ApplicantQuery{Status: event.Cancelled}, []int64{a4.ID}},
			{"schedule 2 applied", store.ApplicantQuery{ScheduleID: sc2.ID, Status: event.Applied}, []int64{a3.ID, a5.ID}},
			{"search ichiro", store.ApplicantQuery{Search: "ichiro"}, []int64{a1.ID, a5.ID}},
			{"search ichiro, schedule 2", store.ApplicantQuery{Search: "ichiro", ScheduleID: sc2.ID}, []int64{a5.ID}},
			{"search ichiro, waitlisted", store.ApplicantQuery{Search: "ichiro", Status: event.Waitlisted}, nil},
		} {
			tc.q.Page, tc.q.PerPage = 1, 50
			p, err := st.Applicants(ctx, f.org.ID, f.event.ID, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := ids(p.Rows); !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
				t.Errorf("%s: ids %v (Total %d), want %v", tc.name, got, p.Total, tc.want)
			}
		}
	})
}

// TestSetCheckIn: 受付 records when and how; a second click keeps the first
// time; undo clears it; only 申込済 may be checked in.
func TestSetCheckIn(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := newTestClock()
		st := openAt(t, db, clk)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 1, true)
		m := owner(t, st, f)
		applied := applyTo(t, st, &f.event, f.schedule.ID, "受付 太郎", "taro@example.com")
		waitlisted := applyTo(t, st, &f.event, f.schedule.ID, "待ち 次郎", "jiro@example.com")
		cancelled := applyTo(t, st, &f.event, f.schedule.ID, "取消 三郎", "saburo@example.com")
		if _, err := st.CancelByToken(ctx, cancelled.Token); err != nil {
			t.Fatal(err)
		}

		clk.Advance(10 * time.Minute)
		first := clk.Now()
		a, err := st.SetCheckIn(ctx, f.org.ID, f.event.ID, applied.ID, m.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if !a.CheckedInAt.Equal(first) || a.CheckinSource != event.CheckinManual {
			t.Errorf("returned after check-in: at %v source %q, want %v manual", a.CheckedInAt, a.CheckinSource, first)
		}
		a = reload(t, st, f, applied.ID)
		if !a.CheckedInAt.Equal(first) || a.CheckinSource != event.CheckinManual {
			t.Errorf("stored after check-in: at %v source %q, want %v manual", a.CheckedInAt, a.CheckinSource, first)
		}

		clk.Advance(5 * time.Minute)
		if a, err = st.SetCheckIn(ctx, f.org.ID, f.event.ID, applied.ID, m.ID, true); err != nil {
			t.Fatal(err)
		}
		if !a.CheckedInAt.Equal(first) {
			t.Errorf("second check-in returned %v, want the first time %v", a.CheckedInAt, first)
		}
		if a = reload(t, st, f, applied.ID); !a.CheckedInAt.Equal(first) {
			t.Errorf("second check-in stored %v, want the first time %v", a.CheckedInAt, first)
		}
		if got := actions(activity(t, st, f, applied.ID)); !slices.Equal(got, []string{store.ActApplied, store.ActCheckedIn}) {
			t.Errorf("history after two check-ins: %v, want one checked_in", got)
		}

		if a, err = st.SetCheckIn(ctx, f.org.ID, f.event.ID, applied.ID, m.ID, false); err != nil {
			t.Fatal(err)
		}
		if !a.CheckedInAt.IsZero() || a.CheckinSource != "" {
			t.Errorf("returned after undo: at %v source %q, want none", a.CheckedInAt, a.CheckinSource)
		}
		if a = reload(t, st, f, applied.ID); !a.CheckedInAt.IsZero() || a.CheckinSource != "" {
			t.Errorf("stored after undo: at %v source %q, want none", a.CheckedInAt, a.CheckinSource)
		}
		want := []string{store.ActApplied, store.ActCheckedIn, store.ActCheckinUndone}
		if got := actions(activity(t, st, f, applied.ID)); !slices.Equal(got, want) {
			t.Errorf("history after undo: %v, want %v", got, want)
		}
		// Checked in again after an undo: the new time.
		clk.Advance(time.Minute)
		if a, err = st.SetCheckIn(ctx, f.org.ID, f.event.ID, applied.ID, m.ID, true); err != nil || !a.CheckedInAt.Equal(clk.Now()) {
			t.Errorf("check-in after undo: at %v, %v; want %v", a.CheckedInAt, err, clk.Now())
		}

		for _, x := range []event.Application{waitlisted, cancelled} {
			_, err := st.SetCheckIn(ctx, f.org.ID, f.event.ID, x.ID, m.ID, true)
			wantKey(t, "check-in of "+x.Name, err, "applications.checkin_not_applied")
			if got := reload(t, st, f, x.ID); !got.CheckedInAt.IsZero() || got.CheckinSource != "" {
				t.Errorf("%s checked in anyway: %v %q", x.Name, got.CheckedInAt, got.CheckinSource)
			}
			for _, e := range activity(t, st, f, x.ID) {
				if e.Action == store.ActCheckedIn {
					t.Errorf("%s: a refused check-in was logged", x.Name)
				}
			}
		}
	})
}

// TestSetMemo: the memo is saved and logged, once per change.
func TestSetMemo(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		m := owner(t, st, f)
		a := applyTo(t, st, &f.event, f.schedule.ID, "メモ 花子", "hanako@example.com")
		const memo = "車椅子でご来場。\n駐車場を手配済み。"
		got, err := st.SetMemo(ctx, f.org.ID, f.event.ID, a.ID, m.ID, memo)
		if err != nil {
			t.Fatal(err)
		}
		if got.Memo != memo || reload(t, st, f, a.ID).Memo != memo {
			t.Errorf("memo returned %q, stored %q; want %q", got.Memo, reload(t, st, f, a.ID).Memo, memo)
		}
		if _, err := st.SetMemo(ctx, f.org.ID, f.event.ID, a.ID, m.ID, memo); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetMemo(ctx, f.org.ID, f.event.ID, a.ID, m.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := reload(t, st, f, a.ID).Memo; got != "" {
			t.Errorf("cleared memo stored as %q", got)
		}
		want := []string{store.ActApplied, store.ActMemo, store.ActMemo}
		if got := actions(activity(t, st, f, a.ID)); !slices.Equal(got, want) {
			t.Errorf("history: %v, want %v (saving the same memo again logs nothing)", got, want)
		}
	})
}

// TestEditApplicant: 登録内容修正 changes name and e-mail and logs old → new;
// an address live on the same schedule is refused and nothing changes.
func TestEditApplicant(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		sc2 := addSchedule(t, st, f, 5)
		m := owner(t, st, f)
		a := applyTo(t, st, &f.event, f.schedule.ID, "修正 前", "before@example.com")
		b := applyTo(t, st, &f.event, f.schedule.ID, "別の人", "taken@example.com")
		gone := applyTo(t, st, &f.event, f.schedule.ID, "取消済", "gone@example.com")
		applyTo(t, st, &f.event, sc2.ID, "別日程", "elsewhere@example.com")
		if _, err := st.CancelByToken(ctx, gone.Token); err != nil {
			t.Fatal(err)
		}

		got, err := st.EditApplicant(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "修正 後", "after@example.com")
		if err != nil {
			t.Fatal(err)
		}
		stored := reload(t, st, f, a.ID)
		if got.Name != "修正 後" || got.Email != "after@example.com" || stored.Name != "修正 後" || stored.Email != "after@example.com" {
			t.Errorf("after edit: returned %s <%s>, stored %s <%s>", got.Name, got.Email, stored.Name, stored.Email)
		}
		es := activity(t, st, f, a.ID)
		if last := es[len(es)-1]; last.Action != store.ActEdited ||
			last.Detail != "修正 前 → 修正 後, before@example.com → after@example.com" || last.MemberName != m.Name {
			t.Errorf("edit logged as %+v", last)
		}
		// Only the name: the detail names only the name.
		if _, err := st.EditApplicant(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "修正 再", "after@example.com"); err != nil {
			t.Fatal(err)
		}
		es = activity(t, st, f, a.ID)
		if last := es[len(es)-1]; last.Detail != "修正 後 → 修正 再" {
			t.Errorf("name-only edit detail %q", last.Detail)
		}
		// Nothing changed: nothing logged.
		if _, err := st.EditApplicant(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "修正 再", "after@example.com"); err != nil {
			t.Fatal(err)
		}
		if n := len(activity(t, st, f, a.ID)); n != len(es) {
			t.Errorf("an edit that changes nothing was logged (%d entries, want %d)", n, len(es))
		}

		// The address of another live application on the same schedule, in
		// any case.
		for _, email := range []string{"taken@example.com", "TAKEN@Example.com"} {
			_, err := st.EditApplicant(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "乗っ取り", email)
			var fe event.FieldErrors
			if !errors.As(err, &fe) || fe[0].Key != "apply.already_applied" || fe[0].Field != "email" {
				t.Errorf("edit to %s: err = %v, want apply.already_applied on email", email, err)
			}
			if s := reload(t, st, f, a.ID); s.Name != "修正 再" || s.Email != "after@example.com" {
				t.Errorf("refused edit to %s changed the row: %s <%s>", email, s.Name, s.Email)
			}
		}
		if n := len(activity(t, st, f, a.ID)); n != len(es) {
			t.Errorf("a refused edit was logged (%d entries, want %d)", n, len(es))
		}
		if s := reload(t, st, f, b.ID); s.Email != "taken@example.com" {
			t.Errorf("the other application changed: %s", s.Email)
		}
		// A cancelled application's address, or one live on another
		// schedule, is free on this one.
		for _, email := range []string{"gone@example.com", "elsewhere@example.com"} {
			if _, err := st.EditApplicant(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "修正 再", email); err != nil {
				t.Errorf("edit to %s: %v", email, err)
			}
		}
	})
}

// TestPromote: 繰り上げ takes a free seat; with none it changes nothing; only
// a waitlisted application may be promoted.
func TestPromote(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 1, true)
		m := owner(t, st, f)
		seated := applyTo(t, st, &f.event, f.schedule.ID, "席あり", "seated@example.com")
		waiting := applyTo(t, st, &f.event, f.schedule.ID, "待ち", "waiting@example.com")
		if waiting.Status != event.Waitlisted {
			t.Fatalf("second applicant for one seat: %s", waiting.Status)
		}

		if _, err := st.Promote(ctx, f.org.ID, f.event.ID, waiting.ID, m.ID); !errors.Is(err, store.ErrNoSeatLeft) {
			t.Errorf("promote with no seat: err = %v, want ErrNoSeatLeft", err)
		}
		if got := reload(t, st, f, waiting.ID).Status; got != event.Waitlisted {
			t.Errorf("refused promotion left status %s, want waitlisted", got)
		}
		if got := seatsTaken(t, st, f); got != 1 {
			t.Errorf("refused promotion: seats_taken %d, want 1", got)
		}
		if got := actions(activity(t, st, f, waiting.ID)); !slices.Equal(got, []string{store.ActWaitlisted}) {
			t.Errorf("refused promotion logged: %v", got)
		}
		if got := mails(t, st, waiting.ID)[event.MailPromoted]; got != 0 {
			t.Errorf("refused promotion sent %d mails", got)
		}

		// The seated one cancels: the seat is free.
		if _, err := st.CancelByToken(ctx, seated.Token); err != nil {
			t.Fatal(err)
		}
		a, err := st.Promote(ctx, f.org.ID, f.event.ID, waiting.ID, m.ID)
		if err != nil {
			t.Fatalf("promote with a free seat: %v", err)
		}
		if a.Status != event.Applied || reload(t, st, f, waiting.ID).Status != event.Applied {
			t.Errorf("promoted: returned %s, stored %s; want applied", a.Status, reload(t, st, f, waiting.ID).Status)
		}
		if got := seatsTaken(t, st, f); got != 1 {
			t.Errorf("after promotion seats_taken %d, want 1", got)
		}

		// Promoting what is not waitlisted: applied, cancelled.
		for _, x := range []event.Application{waiting, seated} {
			if _, err := st.Promote(ctx, f.org.ID, f.event.ID, x.ID, m.ID); !errors.Is(err, store.ErrNotWaitlisted) {
				t.Errorf("promote %s: err = %v, want ErrNotWaitlisted", x.Name, err)
			}
		}
		if got := seatsTaken(t, st, f); got != 1 {
			t.Errorf("after refused promotions seats_taken %d, want 1", got)
		}
		if got := reload(t, st, f, seated.ID).Status; got != event.Cancelled {
			t.Errorf("cancelled application promoted to %s", got)
		}

		// A larger capacity makes a seat too.
		third := applyTo(t, st, &f.event, f.schedule.ID, "三人目", "third@example.com")
		if third.Status != event.Waitlisted {
			t.Fatalf("third applicant: %s", third.Status)
		}
		sc := f.schedule
		sc.Capacity = 2
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Promote(ctx, f.org.ID, f.event.ID, third.ID, m.ID); err != nil {
			t.Errorf("promote after raising capacity: %v", err)
		}
		if got := seatsTaken(t, st, f); got != 2 {
			t.Errorf("seats_taken %d, want 2", got)
		}
	})
}

// TestConcurrentPromotions: promotions racing for free seats take exactly the
// free seats, never more.
func TestConcurrentPromotions(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		for _, tc := range []struct{ free, waiting int }{{1, 2}, {1, 2}, {1, 2}, {3, 10}} {
			t.Run(fmt.Sprintf("%d seats for %d", tc.free, tc.waiting), func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t, st, "owner-"+rand.Text()+"@example.com", tc.free, true)
				m := owner(t, st, f)
				var seated, waiting []event.Application
				for i := range tc.free + tc.waiting {
					a := applyTo(t, st, &f.event, f.schedule.ID, fmt.Sprintf("参加者%d", i), fmt.Sprintf("p%d@example.com", i))
					if i < tc.free {
						seated = append(seated, a)
					} else {
						waiting = append(waiting, a)
					}
				}
				for _, a := range seated {
					if _, err := st.CancelByToken(ctx, a.Token); err != nil {
						t.Fatal(err)
					}
				}
				errs := make([]error, len(waiting))
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, a := range waiting {
					wg.Go(func() {
						<-start
						_, errs[i] = st.Promote(ctx, f.org.ID, f.event.ID, a.ID, m.ID)
					})
				}
				close(start)
				wg.Wait()
				promoted := 0
				for i, err := range errs {
					switch {
					case err == nil:
						promoted++
						if got := reload(t, st, f, waiting[i].ID).Status; got != event.Applied {
							t.Errorf("promoted %d stored as %s", i, got)
						}
					case errors.Is(err, store.ErrNoSeatLeft):
						if got := reload(t, st, f, waiting[i].ID).Status; got != event.Waitlisted {
							t.Errorf("refused %d stored as %s", i, got)
						}
						if n := mails(t, st, waiting[i].ID)[event.MailPromoted]; n != 0 {
							t.Errorf("refused %d was sent %d promotion mails", i, n)
						}
					default:
						t.Errorf("promote %d: %v", i, err)
					}
				}
				if promoted != tc.free {
					t.Errorf("%d promotions succeeded, want %d", promoted, tc.free)
				}
				if got := seatsTaken(t, st, f); got != tc.free {
					t.Errorf("seats_taken %d, want %d", got, tc.free)
				}
				p, err := st.Applicants(ctx, f.org.ID, f.event.ID, store.ApplicantQuery{Status: event.Applied, PerPage: 50})
				if err != nil || p.Total != tc.free {
					t.Errorf("applied after the race: %d, %v; want %d", p.Total, err, tc.free)
				}
			})
		}
	})
}

// TestDeleteApplication: 削除 frees the seat an applied one held (not a
// waitlisted one's) and takes its history and mail with it.
func TestDeleteApplication(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 2, true)
		m := owner(t, st, f)
		keep := applyTo(t, st, &f.event, f.schedule.ID, "残る人", "keep@example.com")
		applied := applyTo(t, st, &f.event, f.schedule.ID, "削除 一郎", "del1@example.com")
		waiting := applyTo(t, st, &f.event, f.schedule.ID, "削除 二郎", "del2@example.com")
		cancelled := applyTo(t, st, &f.event, f.schedule.ID, "削除 三郎", "del3@example.com")
		if waiting.Status != event.Waitlisted {
			t.Fatalf("third applicant for two seats: %s", waiting.Status)
		}
		if _, err := st.SetMemo(ctx, f.org.ID, f.event.ID, applied.ID, m.ID, "消える"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CancelApplication(ctx, f.org.ID, f.event.ID, cancelled.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		if got := seatsTaken(t, st, f); got != 2 {
			t.Fatalf("seats_taken %d, want 2", got)
		}

		for _, tc := range []struct {
			a         event.Application
			seatsLeft int // taken after the delete
		}{
			{waiting, 2},   // held no seat
			{cancelled, 2}, // gave its seat back already
			{applied, 1},
		} {
			if len(activity(t, st, f, tc.a.ID)) == 0 || len(mails(t, st, tc.a.ID)) == 0 {
				t.Fatalf("%s has no history or mail to delete", tc.a.Name)
			}
			if err := st.DeleteApplication(ctx, f.org.ID, f.event.ID, tc.a.ID); err != nil {
				t.Fatalf("delete %s: %v", tc.a.Name, err)
			}
			if got := seatsTaken(t, st, f); got != tc.seatsLeft {
				t.Errorf("after deleting %s seats_taken %d, want %d", tc.a.Name, got, tc.seatsLeft)
			}
			if _, err := st.Application(ctx, f.org.ID, f.event.ID, tc.a.ID); !errors.Is(err, event.ErrNotFound) {
				t.Errorf("deleted %s: err = %v, want not found", tc.a.Name, err)
			}
			if _, err := st.ApplicationByToken(ctx, tc.a.Token); !errors.Is(err, event.ErrNotFound) {
				t.Errorf("deleted %s by token: err = %v, want not found", tc.a.Name, err)
			}
			if es := activity(t, st, f, tc.a.ID); len(es) != 0 {
				t.Errorf("deleted %s keeps its history: %v", tc.a.Name, actions(es))
			}
			if ms := mails(t, st, tc.a.ID); len(ms) != 0 {
				t.Errorf("deleted %s keeps its mail: %v", tc.a.Name, ms)
			}
			if err := st.DeleteApplication(ctx, f.org.ID, f.event.ID, tc.a.ID); !errors.Is(err, event.ErrNotFound) {
				t.Errorf("deleting %s twice: err = %v, want not found", tc.a.Name, err)
			}
			if got := seatsTaken(t, st, f); got != tc.seatsLeft {
				t.Errorf("after deleting %s twice seats_taken %d, want %d", tc.a.Name, got, tc.seatsLeft)
			}
		}
		if got := reload(t, st, f, keep.ID); got.Status != event.Applied || len(activity(t, st, f, keep.ID)) != 1 {
			t.Errorf("the other application was touched: %+v", got)
		}
		// The freed seat is taken by the next applicant.
		if a := applyTo(t, st, &f.event, f.schedule.ID, "次の人", "next@example.com"); a.Status != event.Applied {
			t.Errorf("applicant after delete: %s, want applied", a.Status)
		}
	})
}

// TestActivityLog: each change is logged in order, with the member's name for
// an organizer's change and none for the participant's own.
func TestActivityLog(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 1, true)
		paid := makePaid(t, st, f)
		m := owner(t, st, f)
		first := applyTo(t, st, &paid, f.schedule.ID, "記録 一郎", "ichiro@example.com")
		second := applyTo(t, st, &paid, f.schedule.ID, "記録 二郎", "jiro@example.com")
		mustDo := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		mustDo("paid", st.SetPayment(ctx, f.org.ID, f.event.ID, first.ID, m.ID, event.PaymentPaid))
		mustDo("unpaid", st.SetPayment(ctx, f.org.ID, f.event.ID, first.ID, m.ID, event.PaymentUnpaid))
		_, err := st.SetCheckIn(ctx, f.org.ID, f.event.ID, first.ID, m.ID, true)
		mustDo("check-in", err)
		_, err = st.SetCheckIn(ctx, f.org.ID, f.event.ID, first.ID, m.ID, false)
		mustDo("undo check-in", err)
		_, err = st.SetMemo(ctx, f.org.ID, f.event.ID, first.ID, m.ID, "メモ")
		mustDo("memo", err)
		_, err = st.EditApplicant(ctx, f.org.ID, f.event.ID, first.ID, m.ID, "記録 一朗", "ichiro@example.com")
		mustDo("edit", err)
		_, err = st.CancelByToken(ctx, first.Token) // the participant
		mustDo("cancel", err)
		_, err = st.Promote(ctx, f.org.ID, f.event.ID, second.ID, m.ID)
		mustDo("promote", err)
		_, err = st.CancelApplication(ctx, f.org.ID, f.event.ID, second.ID, m.ID) // the organizer
		mustDo("organizer cancel", err)

		type entry struct{ action, detail, member string }
		for _, tc := range []struct {
			a    event.Application
			want []entry
		}{
			{first, []entry{
				{store.ActApplied, "", ""},
				{store.ActPaid, "", m.Name},
				{store.ActUnpaid, "", m.Name},
				{store.ActCheckedIn, "", m.Name},
				{store.ActCheckinUndone, "", m.Name},
				{store.ActMemo, "", m.Name},
				{store.ActEdited, "記録 一郎 → 記録 一朗", m.Name},
				{store.ActCancelled, "", ""},
			}},
			{second, []entry{
				{store.ActWaitlisted, "", ""},
				{store.ActPromoted, "", m.Name},
				{store.ActCancelled, "", m.Name},
			}},
		} {
			es := activity(t, st, f, tc.a.ID)
			var got []entry
			for i, e := range es {
				got = append(got, entry{e.Action, e.Detail, e.MemberName})
				if e.At.IsZero() || i > 0 && e.At.Before(es[i-1].At) {
					t.Errorf("%s: entry %d at %v, out of order", tc.a.Name, i, e.At)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s history:\n got %v\nwant %v", tc.a.Name, got, tc.want)
			}
		}
		if m.Name == "" {
			t.Fatal("the owner has no name: organizer and participant entries look alike")
		}
	})
}

// TestMailOutbox: the changes a participant must hear of put exactly one mail
// in the outbox; the others put none.
func TestMailOutbox(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 1, true)
		paid := makePaid(t, st, f)
		m := owner(t, st, f)
		var a, w event.Application // applied, then waitlisted
		type counts = map[event.MailKind]int
		steps := []struct {
			name       string
			do         func() error
			wantA      counts
			wantW      counts
			wantFailed bool
		}{
			{"apply", func() error {
				a = applyTo(t, st, &paid, f.schedule.ID, "メール 一郎", "a@example.com")
				return nil
			},
				counts{event.MailApplied: 1}, nil, false},
			{"apply waitlisted", func() error {
				w = applyTo(t, st, &paid, f.schedule.ID, "メール 二郎", "w@example.com")
				return nil
			},
				counts{event.MailApplied: 1}, counts{event.MailApplied: 1}, false},
			{"paid", func() error { return st.SetPayment(ctx, f.org.ID, f.event.ID, a.ID, m.ID, event.PaymentPaid) },
				counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, false},
			{"paid again", func() error { return st.SetPayment(ctx, f.org.ID, f.event.ID, a.ID, m.ID, event.PaymentPaid) },
				counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, false},
			{"unpaid", func() error { return st.SetPayment(ctx, f.org.ID, f.event.ID, a.ID, m.ID, event.PaymentUnpaid) },
				counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, false},
			{"memo", func() error { _, err := st.SetMemo(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "メモ"); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, false},
			{"check-in", func() error { _, err := st.SetCheckIn(ctx, f.org.ID, f.event.ID, a.ID, m.ID, true); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, false},
			{"edit", func() error {
				_, err := st.EditApplicant(ctx, f.org.ID, f.event.ID, a.ID, m.ID, "メール 一朗", "a2@example.com")
				return err
			}, counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, false},
			{"promote with no seat", func() error { _, err := st.Promote(ctx, f.org.ID, f.event.ID, w.ID, m.ID); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1}, counts{event.MailApplied: 1}, true},
			{"cancel", func() error { _, err := st.CancelApplication(ctx, f.org.ID, f.event.ID, a.ID, m.ID); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1, event.MailCancelled: 1}, counts{event.MailApplied: 1}, false},
			{"cancel again", func() error { _, err := st.CancelByToken(ctx, a.Token); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1, event.MailCancelled: 1}, counts{event.MailApplied: 1}, true},
			{"promote", func() error { _, err := st.Promote(ctx, f.org.ID, f.event.ID, w.ID, m.ID); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1, event.MailCancelled: 1},
				counts{event.MailApplied: 1, event.MailPromoted: 1}, false},
			{"promote again", func() error { _, err := st.Promote(ctx, f.org.ID, f.event.ID, w.ID, m.ID); return err },
				counts{event.MailApplied: 1, event.MailPaid: 1, event.MailCancelled: 1},
				counts{event.MailApplied: 1, event.MailPromoted: 1}, true},
		}
		for _, s := range steps {
			err := s.do()
			if (err != nil) != s.wantFailed {
				t.Fatalf("%s: err = %v, want failure %v", s.name, err, s.wantFailed)
			}
			for _, x := range []struct {
				a    *event.Application
				want counts
			}{{&a, s.wantA}, {&w, s.wantW}} {
				if x.a.ID == 0 {
					continue
				}
				if got := mails(t, st, x.a.ID); !equalCounts(got, x.want) {
					t.Errorf("after %s, %s's mails: %v, want %v", s.name, x.a.Name, got, x.want)
				}
			}
		}
	})
}

func equalCounts(a, b map[event.MailKind]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestApplicantMethodsOfOtherOrganizations: another organization's ids, or
// an application looked up under another event, are not found, and nothing
// is changed.
func TestApplicantMethodsOfOtherOrganizations(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		a := newFixture(t, st, "a@example.com", 1, true)
		b := newFixture(t, st, "b@example.com", 5, false)
		paid := makePaid(t, st, a)
		bm := owner(t, st, b)
		applied := applyTo(t, st, &paid, a.schedule.ID, "甲 一郎", "ichiro@example.com")
		waiting := applyTo(t, st, &paid, a.schedule.ID, "甲 二郎", "jiro@example.com")
		// A's second event: A's own ids under the wrong event are not found either.
		a2 := a.event
		a2.ID, a2.Slug = 0, ""
		if _, err := st.CreateEvent(ctx, &a2, ""); err != nil {
			t.Fatal(err)
		}
		historyBefore := map[int64]int{applied.ID: len(activity(t, st, a, applied.ID)), waiting.ID: len(activity(t, st, a, waiting.ID))}

		for _, who := range []struct {
			name           string
			orgID, eventID int64
		}{
			{"another organization", b.org.ID, a.event.ID},
			{"another organization's event", b.org.ID, b.event.ID},
			{"another event", a.org.ID, a2.ID},
		} {
			o, e := who.orgID, who.eventID
			checks := map[string]error{}
			_, checks["SetCheckIn"] = st.SetCheckIn(ctx, o, e, applied.ID, bm.ID, true)
			_, checks["SetMemo"] = st.SetMemo(ctx, o, e, applied.ID, bm.ID, "覗き見")
			_, checks["EditApplicant"] = st.EditApplicant(ctx, o, e, applied.ID, bm.ID, "乗っ取り", "evil@example.com")
			checks["SetPayment"] = st.SetPayment(ctx, o, e, applied.ID, bm.ID, event.PaymentPaid)
			_, checks["CancelApplication"] = st.CancelApplication(ctx, o, e, applied.ID, bm.ID)
			_, checks["Application"] = st.Application(ctx, o, e, applied.ID)
			checks["DeleteApplication"] = st.DeleteApplication(ctx, o, e, applied.ID)
			_, checks["Promote"] = st.Promote(ctx, o, e, waiting.ID, bm.ID)
			for name, err := range checks {
				if !errors.Is(err, event.ErrNotFound) {
					t.Errorf("%s as %s: err = %v, want not found", name, who.name, err)
				}
			}
			if es, err := st.Activity(ctx, o, applied.ID); o != a.org.ID && (err != nil || len(es) != 0) {
				t.Errorf("Activity as %s: %d entries, %v; want none", who.name, len(es), err)
			}
			p, err := st.Applicants(ctx, o, a.event.ID, store.ApplicantQuery{PerPage: 50})
			if o != a.org.ID && (err != nil || p.Total != 0 || len(p.Rows) != 0) {
				t.Errorf("Applicants as %s: Total %d, %d rows, %v; want none", who.name, p.Total, len(p.Rows), err)
			}
			p, err = st.Applicants(ctx, o, e, store.ApplicantQuery{ScheduleID: a.schedule.ID, PerPage: 50})
			if err != nil || p.Total != 0 || len(p.Rows) != 0 {
				t.Errorf("Applicants of A's schedule as %s: Total %d, %d rows, %v; want none", who.name, p.Total, len(p.Rows), err)
			}
		}

		// With a free seat too, Promote under the wrong ids finds nothing.
		sc := a.schedule
		sc.Capacity = 2
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		for _, ids := range [][2]int64{{b.org.ID, a.event.ID}, {b.org.ID, b.event.ID}, {a.org.ID, a2.ID}} {
			if _, err := st.Promote(ctx, ids[0], ids[1], waiting.ID, bm.ID); !errors.Is(err, event.ErrNotFound) {
				t.Errorf("Promote as org %d event %d: err = %v, want not found", ids[0], ids[1], err)
			}
		}

		// A's applications are as they were.
		got := reload(t, st, a, applied.ID)
		if got.Status != event.Applied || got.Payment != event.PaymentUnpaid || !got.CheckedInAt.IsZero() ||
			got.Memo != "" || got.Name != "甲 一郎" || got.Email != "ichiro@example.com" {
			t.Errorf("A's application after B's attempts: %+v", got)
		}
		if got := reload(t, st, a, waiting.ID).Status; got != event.Waitlisted {
			t.Errorf("A's waitlisted application after B's promote: %s", got)
		}
		if got := seatsTaken(t, st, a); got != 1 {
			t.Errorf("A's seats_taken %d, want 1", got)
		}
		for id, n := range historyBefore {
			if got := len(activity(t, st, a, id)); got != n {
				t.Errorf("application %d: %d history entries, want %d", id, got, n)
			}
			if ms := mails(t, st, id); len(ms) != 1 || ms[event.MailApplied] != 1 {
				t.Errorf("application %d mails: %v, want the one applied mail", id, ms)
			}
		}
	})
}
