package store_test

import (
	"context"
	"testing"
	"time"

	"kaisai/internal/testdb"
)

// TestScheduleRevisionCountsMoves: the revision (the calendar entries'
// SEQUENCE) goes up when the 日程 moves, and not when only its capacity
// changes or an edit is refused.
func TestScheduleRevisionCountsMoves(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "owner@example.com", 5, false)
		revision := func() int {
			t.Helper()
			sc, _, err := st.ScheduleByIDUnscoped(ctx, f.schedule.ID)
			if err != nil {
				t.Fatal(err)
			}
			return sc.Revision
		}
		if got := revision(); got != 0 {
			t.Fatalf("new schedule: revision %d, want 0", got)
		}
		sc := f.schedule
		sc.Capacity = 9
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		if got := revision(); got != 0 {
			t.Errorf("capacity changed: revision %d, want 0", got)
		}
		sc.StartsAt = sc.StartsAt.Add(time.Hour)
		sc.EndsAt = sc.EndsAt.Add(time.Hour)
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		if got := revision(); got != 1 {
			t.Errorf("moved: revision %d, want 1", got)
		}
		sc.EndsAt = sc.EndsAt.Add(30 * time.Minute)
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		sc.Capacity = 9
		if err := st.UpdateSchedule(ctx, &sc); err != nil { // saved again unchanged
			t.Fatal(err)
		}
		if got := revision(); got != 2 {
			t.Errorf("end moved, then saved unchanged: revision %d, want 2", got)
		}
	})
}
