package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// clock is a settable clock for a store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestZoomEditsCoalesce: each edit makes its meeting due the coalescing
// delay after that edit, so quick successive edits are synced once, from
// the data as it is then.
func TestZoomEditsCoalesce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		c := &clock{now: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
		box, err := secretbox.New(bytes.Repeat([]byte{1}, secretbox.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir, Secrets: box,
			Now: c.Now, ZoomCoalesce: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx, quiet); err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, st, "coalesce@example.com", 10, false)
		conn, err := st.LinkZoomConnection(ctx, f.org.ID, store.ZoomUser{ID: "host", Type: 2}, expired(1))
		if err != nil {
			t.Fatal(err)
		}
		f.group.Venue, f.group.Zoom = event.VenueZoom, &event.ZoomSettings{ConnID: conn, Passcode: "abc123", WaitingRoom: true}
		if err := st.UpdateGroup(ctx, &f.group); err != nil {
			t.Fatal(err)
		}
		due := func() time.Time {
			t.Helper()
			m, err := st.ScheduleZoomMeeting(ctx, f.org.ID, f.schedule.ID)
			if err != nil {
				t.Fatal(err)
			}
			return m.DueAt
		}
		start := c.Now()
		if got := due(); !got.Equal(start.Add(2 * time.Second)) {
			t.Fatalf("a new meeting is due at %s, want %s", got, start.Add(2*time.Second))
		}
		c.Add(time.Second)
		f.event.Title = "変えた題"
		if err := st.UpdateEvent(ctx, &f.event); err != nil {
			t.Fatal(err)
		}
		if got := due(); !got.Equal(start.Add(3 * time.Second)) {
			t.Errorf("after an edit a second later the meeting is due at %s, want %s", got, start.Add(3*time.Second))
		}
		if ok, err := st.ZoomMeetingsDue(ctx); err != nil || ok {
			t.Errorf("due within the coalescing delay: %v, %v", ok, err)
		}
		c.Add(2 * time.Second)
		if ok, err := st.ZoomMeetingsDue(ctx); err != nil || !ok {
			t.Errorf("not due after the coalescing delay: %v, %v", ok, err)
		}
	})
}
