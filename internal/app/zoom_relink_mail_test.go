package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// TestZoomRelinkMailedOnce: a refresh Zoom refuses marks the connection
// 要再連携 and writes one zoom_relink mail to the organization's owner, which
// is delivered with the link to サービス連携; a second refusal tells no one
// again. Linking again resets this, so a later refusal tells them again.
func TestZoomRelinkMailedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		srv := mailtest.Start(t, mailtest.Options{})
		a := apptest.Start(t, db, fastMail(srv))
		f := newMailFixture(t, a.Store, 10)
		var ownerEmail string
		if err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT email FROM members WHERE org_id = $1 AND role = 'owner'`,
			f.org.ID).Scan(&ownerEmail); err != nil {
			t.Fatal(err)
		}
		user := store.ZoomUser{ID: "zu-relink", AccountID: "za", Email: "host@zoom.example", DisplayName: "山田 ホスト", Type: 2}
		expired := store.ZoomTokens{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Hour),
			APIURL: "https://api.zoom.example"}
		link := func() int64 {
			id, err := a.Store.LinkZoomConnection(ctx, f.org.ID, user, expired)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		refused := func(context.Context, string) (store.ZoomTokens, error) {
			return store.ZoomTokens{}, fmt.Errorf("invalid_grant: %w", store.ErrRefreshRefused)
		}
		id := link()
		for i := 0; i < 2; i++ {
			if _, err := a.Store.ZoomAccessToken(ctx, f.org.ID, id, "", refused); !errors.Is(err, store.ErrZoomRelinkRequired) {
				t.Fatalf("refresh %d: err = %v, want ErrZoomRelinkRequired", i, err)
			}
		}
		srv.Wait(t, 1, 10*time.Second)
		mailSettled(t, a.Store)
		got := srv.Messages()
		if len(got) != 1 {
			t.Fatalf("the SMTP server received %d messages, want 1", len(got))
		}
		m := got[0]
		if m.To[0] != ownerEmail || !strings.Contains(m.Subject, "Zoomとの連携が切れました") {
			t.Errorf("received subject %q to %v", m.Subject, m.To)
		}
		for _, want := range []string{"オーナー 様", "山田 ホスト", "host@zoom.example", a.URL() + "/integrations"} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("body lacks %q:\n%s", want, m.Body)
			}
		}
		rows := waitOutbox(t, a.Store, f.org.ID, 1)
		if r := rows[0]; r.Kind != event.MailZoomRelink || r.Status != event.MailSent || r.To != ownerEmail ||
			r.ApplicationID != 0 || r.EventID != 0 || r.MemberID == 0 || r.Body != m.Body {
			t.Errorf("outbox row %+v", r)
		}
		c, err := a.Store.ZoomConnection(ctx, f.org.ID, id)
		if err != nil || c.Status != zoompolicy.RelinkRequired || c.RelinkNotifiedAt.IsZero() {
			t.Fatalf("connection %+v, %v", c, err)
		}

		// Linked again and refused again: told again.
		if link() != id {
			t.Fatal("relinking made another connection")
		}
		if _, err := a.Store.ZoomAccessToken(ctx, f.org.ID, id, "", refused); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Fatalf("refresh after relink: err = %v", err)
		}
		srv.Wait(t, 2, 10*time.Second)
		waitOutbox(t, a.Store, f.org.ID, 2)
	})
}
