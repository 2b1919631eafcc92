package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

func openWithSecrets(t testing.TB, db testdb.DB) *store.Store {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{1}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir, Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	return st
}

func expired(n int) store.ZoomTokens {
	return store.ZoomTokens{AccessToken: fmt.Sprintf("access-%d", n), RefreshToken: fmt.Sprintf("refresh-%d", n),
		Expiry: time.Now().Add(-time.Minute), Scopes: []string{"user:read"}, APIURL: "http://zoom.test"}
}

func TestZoomConnectionLinkListUnlink(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		a := newFixture(t, st, "a@example.com", 10, false).org
		b := newFixture(t, st, "b@example.com", 10, false).org
		u := store.ZoomUser{ID: "zu1", AccountID: "acc", Email: "z@example.com", DisplayName: "山田 花子", Type: 2}
		id, err := st.LinkZoomConnection(ctx, a.ID, u, expired(1))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.UnlinkZoomConnection(ctx, a.ID, id); err != nil {
			t.Fatal(err)
		}
		u.DisplayName = "Hanako"
		again, err := st.LinkZoomConnection(ctx, a.ID, u, expired(2))
		if err != nil || again != id {
			t.Fatalf("linked again: id %d (first %d), %v: the same Zoom user must be the same connection", again, id, err)
		}
		list, err := st.ZoomConnections(ctx, a.ID)
		if err != nil || len(list) != 1 || list[0].Status != zoompolicy.Linked || list[0].User.DisplayName != "Hanako" || !list[0].HasTokens {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if _, err := st.ZoomConnection(ctx, b.ID, id); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization's connection: %v, want not found", err)
		}
		if err := st.UnlinkZoomConnection(ctx, b.ID, id); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization unlinked it: %v", err)
		}
		if err := st.UnlinkZoomConnection(ctx, a.ID, id); err != nil {
			t.Fatal(err)
		}
		c, err := st.ZoomConnection(ctx, a.ID, id)
		if err != nil || c.Status != zoompolicy.Unlinked || c.HasTokens {
			t.Fatalf("after unlink: %+v, %v", c, err)
		}
		if _, err := st.ZoomAccessToken(ctx, a.ID, id, "", nil); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Errorf("token of an unlinked connection: %v", err)
		}

		// app_deauthorized: the grant's data goes, the user's name, e-mail
		// and type stay as last seen. One about a grant older than the link
		// (delivered late) leaves the new link alone.
		if _, err := st.LinkZoomConnection(ctx, a.ID, u, expired(3)); err != nil {
			t.Fatal(err)
		}
		linked, _ := st.ZoomConnection(ctx, a.ID, id)
		if linked.LinkedAt.IsZero() || linked.User.AccountID != "acc" || len(linked.Scopes) == 0 || linked.APIURL == "" {
			t.Fatalf("linked: %+v", linked)
		}
		if n, err := st.DeauthorizeZoomUser(ctx, "zu1", time.Now().Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("a late app_deauthorized about an earlier grant unlinked %d connections, %v", n, err)
		}
		if n, err := st.DeauthorizeZoomUser(ctx, "zu1", time.Time{}); err != nil || n != 1 {
			t.Fatalf("deauthorize: %d, %v", n, err)
		}
		c, _ = st.ZoomConnection(ctx, a.ID, id)
		kept := store.ZoomUser{ID: "zu1", Email: "z@example.com", DisplayName: "Hanako", Type: 2}
		if c.Status != zoompolicy.Unlinked || c.HasTokens || !c.TokenExpiry.IsZero() || c.User != kept ||
			len(c.Scopes) != 0 || c.APIURL != "" || !c.LinkedAt.Equal(linked.LinkedAt) {
			t.Errorf("after app_deauthorized: %+v, want no grant left and the user %+v as last seen at %s",
				c, kept, linked.LinkedAt)
		}
		if _, err := st.ZoomStoredTokens(ctx, a.ID, id); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Errorf("tokens after app_deauthorized: %v", err)
		}
		// By account: the same.
		if _, err := st.LinkZoomConnection(ctx, a.ID, u, expired(4)); err != nil {
			t.Fatal(err)
		}
		if n, err := st.DeauthorizeZoomAccount(ctx, "acc", time.Time{}); err != nil || n != 1 {
			t.Fatalf("deauthorize the account: %d, %v", n, err)
		}
		if c, _ = st.ZoomConnection(ctx, a.ID, id); c.Status != zoompolicy.Unlinked || c.HasTokens || c.User != kept {
			t.Errorf("after app_deauthorized of the account: %+v", c)
		}
	})
}

// TestZoomLinkedElsewhere: Zoom keeps one grant per user and app, so the
// same Zoom user linked by a second organization ends the first one's link:
// it becomes 要再連携 (linked elsewhere) without its dead tokens, and its
// owner is mailed once. The first organization linking again turns it round.
func TestZoomLinkedElsewhere(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		a := newFixture(t, st, "a@example.com", 10, false).org
		b := newFixture(t, st, "b@example.com", 10, false).org
		u := store.ZoomUser{ID: "zu-shared", AccountID: "acc", Email: "z@example.com", DisplayName: "山田 花子", Type: 2}
		other := store.ZoomUser{ID: "zu-other", Email: "o@example.com", DisplayName: "別の人", Type: 1}
		linkedElsewhere := func(org int64) bool {
			t.Helper()
			yes, err := st.ZoomUserLinkedElsewhere(ctx, org, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return yes
		}
		conn := func(org, id int64) store.ZoomConnection {
			t.Helper()
			c, err := st.ZoomConnection(ctx, org, id)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		mails := func(org int64) []store.MailRow {
			t.Helper()
			ms, err := st.Mails(ctx, org, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			return ms
		}

		aConn, err := st.LinkZoomConnection(ctx, a.ID, u, expired(1))
		if err != nil {
			t.Fatal(err)
		}
		aOther, err := st.LinkZoomConnection(ctx, a.ID, other, expired(2))
		if err != nil {
			t.Fatal(err)
		}
		if linkedElsewhere(a.ID) || !linkedElsewhere(b.ID) {
			t.Fatal("ZoomUserLinkedElsewhere does not see organization a's link from b only")
		}
		// Linked again in the same organization: nobody else is touched.
		if _, err := st.LinkZoomConnection(ctx, a.ID, u, expired(3)); err != nil {
			t.Fatal(err)
		}
		if len(mails(a.ID)) != 0 {
			t.Fatalf("relinking in the same organization mailed %+v", mails(a.ID))
		}

		bConn, err := st.LinkZoomConnection(ctx, b.ID, u, expired(4))
		if err != nil {
			t.Fatal(err)
		}
		c := conn(a.ID, aConn)
		if c.Status != zoompolicy.RelinkRequired || c.RelinkReason != zoompolicy.RelinkLinkedElsewhere || c.HasTokens ||
			c.User.Email != u.Email || c.RelinkNotifiedAt.IsZero() {
			t.Fatalf("a's link after b linked the same Zoom user: %+v", c)
		}
		if _, err := st.ZoomAccessToken(ctx, a.ID, aConn, "", nil); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Errorf("a's token after b linked: %v", err)
		}
		if c := conn(a.ID, aOther); c.Status != zoompolicy.Linked || !c.HasTokens {
			t.Errorf("a's other Zoom user was touched: %+v", c)
		}
		if c := conn(b.ID, bConn); c.Status != zoompolicy.Linked || !c.HasTokens || c.RelinkReason != "" {
			t.Errorf("b's link: %+v", c)
		}
		if ms := mails(a.ID); len(ms) != 1 || ms[0].Kind != event.MailZoomLinkedElsewhere || ms[0].MemberID == 0 {
			t.Errorf("a's outbox: %+v, want one zoom_linked_elsewhere mail to its owner", ms)
		}
		if len(mails(b.ID)) != 0 {
			t.Errorf("b's outbox: %+v", mails(b.ID))
		}

		// a links it again: b's link ends, a's is whole again.
		if _, err := st.LinkZoomConnection(ctx, a.ID, u, expired(5)); err != nil {
			t.Fatal(err)
		}
		if c := conn(a.ID, aConn); c.Status != zoompolicy.Linked || c.RelinkReason != "" || !c.HasTokens || !c.RelinkNotifiedAt.IsZero() {
			t.Errorf("a relinked: %+v", c)
		}
		if c := conn(b.ID, bConn); c.Status != zoompolicy.RelinkRequired || c.RelinkReason != zoompolicy.RelinkLinkedElsewhere {
			t.Errorf("b after a relinked: %+v", c)
		}
		if ms := mails(b.ID); len(ms) != 1 || ms[0].Kind != event.MailZoomLinkedElsewhere {
			t.Errorf("b's outbox: %+v", ms)
		}

		// app_deauthorized reaches both organizations' rows.
		if n, err := st.DeauthorizeZoomUser(ctx, u.ID, time.Time{}); err != nil || n != 2 {
			t.Fatalf("deauthorize: %d, %v", n, err)
		}
		for _, c := range []store.ZoomConnection{conn(a.ID, aConn), conn(b.ID, bConn)} {
			if c.Status != zoompolicy.Unlinked || c.HasTokens || c.User.DisplayName != u.DisplayName {
				t.Errorf("after app_deauthorized: %+v", c)
			}
		}
	})
}

func TestZoomAccessTokenRefreshesOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		// A second Store on the same database is a second instance (on
		// SQLite, one process: it shares nothing with the first but the
		// file, so only PostgreSQL runs it).
		stores := []*store.Store{st}
		if db.DatabaseURL != "" {
			stores = append(stores, openWithSecrets(t, db))
		}
		org := newFixture(t, st, "a@example.com", 10, false).org
		id, err := st.LinkZoomConnection(ctx, org.ID, store.ZoomUser{ID: "zu1"}, expired(0))
		if err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		var mu sync.Mutex
		current := "refresh-0"
		refresh := func(ctx context.Context, rt string) (store.ZoomTokens, error) {
			n := calls.Add(1)
			mu.Lock()
			defer mu.Unlock()
			if rt != current { // rotated: a spent refresh token is refused
				return store.ZoomTokens{}, fmt.Errorf("spent %q: %w", rt, store.ErrRefreshRefused)
			}
			time.Sleep(20 * time.Millisecond)
			current = fmt.Sprintf("refresh-%d", n)
			return store.ZoomTokens{AccessToken: fmt.Sprintf("access-%d", n), RefreshToken: current,
				Expiry: time.Now().Add(time.Hour)}, nil
		}
		var wg sync.WaitGroup
		got := make([]string, 16)
		for i := range got {
			wg.Go(func() {
				tok, err := stores[i%len(stores)].ZoomAccessToken(ctx, org.ID, id, "", refresh)
				if err != nil {
					t.Error(err)
				}
				got[i] = tok.AccessToken
			})
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("%d refreshes reached Zoom, want 1", n)
		}
		for _, g := range got {
			if g != "access-1" {
				t.Fatalf("tokens = %v, want all access-1", got)
			}
		}
		c, _ := st.ZoomConnection(ctx, org.ID, id)
		if c.Status != zoompolicy.Linked || c.APIURL != "http://zoom.test" {
			t.Errorf("after refresh: %+v", c)
		}
		// A token a call saw refused is refreshed although not expired.
		tok, err := st.ZoomAccessToken(ctx, org.ID, id, "access-1", refresh)
		if err != nil || tok.AccessToken != "access-2" || calls.Load() != 2 {
			t.Fatalf("stale refresh: %v, %v, calls %d", tok, err, calls.Load())
		}

		// Zoom refuses: 要再連携, told once.
		current = "something else"
		if _, err := st.ZoomAccessToken(ctx, org.ID, id, "access-2", refresh); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Fatalf("refused refresh: %v", err)
		}
		c, _ = st.ZoomConnection(ctx, org.ID, id)
		if c.Status != zoompolicy.RelinkRequired {
			t.Fatalf("status = %s, want relink_required", c.Status)
		}
		// The refusal told the owners in its transaction (a zoom_relink
		// mail), so there is nothing left to tell, even after another refusal.
		if c.RelinkNotifiedAt.IsZero() {
			t.Error("relink_notified_at not set by the refusal")
		}
		if _, err := st.ZoomAccessToken(ctx, org.ID, id, "", refresh); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Fatalf("refresh of a 要再連携 connection: %v", err)
		}
		if first, err := st.MarkZoomRelinkNotified(ctx, org.ID, id); first || err != nil {
			t.Errorf("told twice: %v, %v", first, err)
		}
		mails, err := st.Mails(ctx, org.ID, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(mails) != 1 || mails[0].Kind != event.MailZoomRelink || mails[0].MemberID == 0 || mails[0].ApplicationID != 0 {
			t.Errorf("outbox after refusals: %+v", mails)
		}
	})
}

func TestZoomOAuthState(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		f := newFixture(t, st, "a@example.com", 10, false)
		members, err := st.Members(ctx, f.org.ID)
		if err != nil || len(members) == 0 {
			t.Fatal(members, err)
		}
		m := members[0].ID
		if err := st.CreateZoomOAuthState(ctx, "st1", f.org.ID, m, "sess", "verifier1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TakeZoomOAuthState(ctx, "st1", f.org.ID, m, "other session"); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another session took the state: %v", err)
		}
		if err := st.CreateZoomOAuthState(ctx, "st2", f.org.ID, m, "sess", "verifier2"); err != nil {
			t.Fatal(err)
		}
		v, err := st.TakeZoomOAuthState(ctx, "st2", f.org.ID, m, "sess")
		if err != nil || v != "verifier2" {
			t.Fatalf("take = %q, %v", v, err)
		}
		if _, err := st.TakeZoomOAuthState(ctx, "st2", f.org.ID, m, "sess"); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("a state worked twice: %v", err)
		}
	})
}

// TestZoomRefreshMeetsUnlinkOrRelink: a refresh in flight while the
// connection is unlinked (app_deauthorized) or linked again (Zoom ends the
// earlier grant, so its refresh is refused) writes nothing over that: the
// outcome belongs to a grant that is gone. The connection stays 解除済, or
// 連携中 with its new tokens, and nobody is told to relink.
func TestZoomRefreshMeetsUnlinkOrRelink(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		org := newFixture(t, st, "a@example.com", 10, false).org
		u := store.ZoomUser{ID: "zu-race", Email: "z@example.com", DisplayName: "山田", Type: 2}
		refused := func(context.Context, string) (store.ZoomTokens, error) {
			return store.ZoomTokens{}, fmt.Errorf("invalid_grant: %w", store.ErrRefreshRefused)
		}
		granted := func(context.Context, string) (store.ZoomTokens, error) {
			return store.ZoomTokens{AccessToken: "refreshed", RefreshToken: "refreshed-r", Expiry: time.Now().Add(time.Hour)}, nil
		}
		// during runs change while Zoom answers the refresh. On SQLite the
		// refresh holds no transaction, so change runs then; on PostgreSQL
		// the refresh holds the row's lock, so change waits for it and runs
		// after the refresh's outcome is written (wait for it with wg).
		var wg sync.WaitGroup
		during := func(change func() error, answer RefreshAnswer) store.RefreshFunc {
			return func(ctx context.Context, rt string) (store.ZoomTokens, error) {
				wg.Go(func() {
					if err := change(); err != nil {
						t.Error(err)
					}
				})
				if db.DatabaseURL == "" {
					wg.Wait()
				}
				return answer(ctx, rt)
			}
		}
		for _, tc := range []struct {
			name   string
			change func(id int64) error
			answer RefreshAnswer
			status zoompolicy.ConnStatus
			tokens string // the access token left, "" for none
			err    error  // of ZoomAccessToken
		}{
			{"unlinked during a refused refresh", func(int64) error {
				_, err := st.DeauthorizeZoomUser(ctx, u.ID, time.Time{})
				return err
			}, refused, zoompolicy.Unlinked, "", store.ErrZoomRelinkRequired},
			{"unlinked during a refresh", func(int64) error {
				_, err := st.DeauthorizeZoomUser(ctx, u.ID, time.Time{})
				return err
			}, granted, zoompolicy.Unlinked, "", nil},
			{"linked again during a refused refresh", func(int64) error {
				_, err := st.LinkZoomConnection(ctx, org.ID, u, store.ZoomTokens{AccessToken: "relinked", RefreshToken: "relinked-r",
					Expiry: time.Now().Add(time.Hour)})
				return err
			}, refused, zoompolicy.Linked, "relinked", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id, err := st.LinkZoomConnection(ctx, org.ID, u, expired(1))
				if err != nil {
					t.Fatal(err)
				}
				before, _ := st.Mails(ctx, org.ID, 100, 0)
				_, err = st.ZoomAccessToken(ctx, org.ID, id, "", during(func() error { return tc.change(id) }, tc.answer))
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("ZoomAccessToken: %v, want %v", err, tc.err)
				}
				wg.Wait()
				c, err := st.ZoomConnection(ctx, org.ID, id)
				if err != nil || c.Status != tc.status {
					t.Fatalf("status %s, want %s: %+v, %v", c.Status, tc.status, c, err)
				}
				tok, err := st.ZoomStoredTokens(ctx, org.ID, id)
				if tc.tokens == "" && !errors.Is(err, store.ErrZoomRelinkRequired) || tc.tokens != "" && tok.AccessToken != tc.tokens {
					t.Errorf("tokens left %q, %v; want %q", tok.AccessToken, err, tc.tokens)
				}
				if after, _ := st.Mails(ctx, org.ID, 100, 0); db.DatabaseURL == "" && len(after) != len(before) {
					t.Errorf("the organizer was told to relink: %+v", after[0])
				}
			})
		}
	})
}

// RefreshAnswer is how Zoom answers a refresh.
type RefreshAnswer = func(context.Context, string) (store.ZoomTokens, error)
