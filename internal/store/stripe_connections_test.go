package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// rawDB opens the test database beside the store, to tamper with rows.
func rawDB(t testing.TB, db testdb.DB) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", db.DatabaseURL
	if dsn == "" {
		driver, dsn = "sqlite", "file:"+filepath.Join(db.DataDir, "kaisai.db")+"?_pragma=busy_timeout(10000)"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

var testAccount = store.StripeAccount{ID: "acct_1Test", DisplayName: "開催テスト株式会社"}

func connectStripe(t testing.TB, st *store.Store, orgID int64, key, endpoint, secret string) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := st.BeginStripeConnection(ctx, orgID, testAccount, key, "http://stripe.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteStripeConnection(ctx, orgID, id, endpoint, secret); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestStripeConnectionLifecycle: 決済設定 from the key's check to 解除:
// connecting, connected with its endpoint, methods, one connected account
// per organization, the secrets for the webhook handler, and 解除 deleting
// them; another organization sees none of it.
func TestStripeConnectionLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		a := newFixture(t, st, "a@example.com", 10, false).org
		b := newFixture(t, st, "b@example.com", 10, false).org

		id, err := st.BeginStripeConnection(ctx, a.ID, testAccount, "rk_test_A", "http://stripe.test")
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.StripeConnection(ctx, a.ID, id)
		if err != nil || c.Status != store.StripeConnecting || !c.HasKey || c.Account != testAccount || c.APIURL != "http://stripe.test" {
			t.Fatalf("connecting: %+v, %v", c, err)
		}
		if _, _, err := st.StripeConnectionSecrets(ctx, id); !errors.Is(err, store.ErrStripeNotConnected) {
			t.Errorf("secrets of a connection still connecting: %v, want not connected", err)
		}
		if k, err := st.StripeConnectionKey(ctx, a.ID, id); err != nil || k != "rk_test_A" {
			t.Errorf("key = %q, %v", k, err)
		}
		if _, err := st.StripeConnectionKey(ctx, b.ID, id); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization's key: %v, want not found", err)
		}
		if _, err := st.ConnectedStripe(ctx, a.ID); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("connected before its endpoint: %v", err)
		}
		if err := st.CompleteStripeConnection(ctx, b.ID, id, "we_1", "whsec_1"); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization completed it: %v", err)
		}
		if err := st.CompleteStripeConnection(ctx, a.ID, id, "we_1", "whsec_1"); err != nil {
			t.Fatal(err)
		}
		c, err = st.ConnectedStripe(ctx, a.ID)
		if err != nil || c.ID != id || c.Status != store.StripeConnected || c.WebhookEndpointID != "we_1" ||
			payment.FormatMethods(c.Methods) != "card,konbini,bank_transfer" {
			t.Fatalf("connected: %+v, %v", c, err)
		}
		wc, secrets, err := st.StripeConnectionSecrets(ctx, id)
		if err != nil || wc.OrgID != a.ID || secrets.Key != "rk_test_A" || secrets.WebhookSecret != "whsec_1" {
			t.Fatalf("for the webhook: %+v %v, %v", wc, secrets.Key, err)
		}
		if s := secrets.String() + " " + strings.TrimSpace(fmtAll(secrets)); strings.Contains(s, "whsec_1") || strings.Contains(s, "rk_test_A") {
			t.Errorf("the secrets print: %s", s)
		}
		if _, _, err := st.StripeConnectionSecrets(ctx, id+1000); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("no such connection: %v", err)
		}
		if err := st.CompleteStripeConnection(ctx, a.ID, id, "we_2", "whsec_2"); !errors.Is(err, store.ErrStripeNotConnected) {
			t.Errorf("completed twice: %v, want not connected (no longer connecting)", err)
		}

		// One connected account per organization.
		if _, err := st.BeginStripeConnection(ctx, a.ID, testAccount, "sk_test_B", "http://stripe.test"); !errors.Is(err, store.ErrStripeConnected) {
			t.Errorf("a second account: %v, want already connected", err)
		}

		// Methods: at least one, online only; another organization's not at all.
		if err := st.SetStripeMethods(ctx, a.ID, id, []payment.Method{payment.MethodBankTransfer, payment.MethodKonbini}); err != nil {
			t.Fatal(err)
		}
		if c, _ := st.StripeConnection(ctx, a.ID, id); payment.FormatMethods(c.Methods) != "konbini,bank_transfer" {
			t.Errorf("methods = %v", c.Methods)
		}
		var fe event.FieldErrors
		if err := st.SetStripeMethods(ctx, a.ID, id, nil); !errors.As(err, &fe) || fe[0].Key != "stripe.methods_required" {
			t.Errorf("no method: %v", err)
		}
		if err := st.SetStripeMethods(ctx, a.ID, id, []payment.Method{payment.MethodManual}); !errors.As(err, &fe) {
			t.Errorf("manual as an online method: %v", err)
		}
		if err := st.SetStripeMethods(ctx, b.ID, id, []payment.Method{payment.MethodCard}); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization's methods: %v", err)
		}
		if list, err := st.StripeConnections(ctx, b.ID); err != nil || len(list) != 0 {
			t.Errorf("another organization lists %+v, %v", list, err)
		}

		// 解除: key and secret gone, the row kept; connecting again is a new row.
		if err := st.DisconnectStripeConnection(ctx, b.ID, id); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization disconnected it: %v", err)
		}
		if err := st.DisconnectStripeConnection(ctx, a.ID, id); err != nil {
			t.Fatal(err)
		}
		c, err = st.StripeConnection(ctx, a.ID, id)
		if err != nil || c.Status != store.StripeDisconnected || c.HasKey || c.DisconnectedAt.IsZero() {
			t.Fatalf("disconnected: %+v, %v", c, err)
		}
		if _, _, err := st.StripeConnectionSecrets(ctx, id); !errors.Is(err, store.ErrStripeNotConnected) {
			t.Errorf("secrets after 解除: %v", err)
		}
		if _, err := st.StripeConnectionKey(ctx, a.ID, id); !errors.Is(err, store.ErrStripeNotConnected) {
			t.Errorf("key after 解除: %v", err)
		}
		if err := st.SetStripeMethods(ctx, a.ID, id, []payment.Method{payment.MethodCard}); !errors.Is(err, store.ErrStripeNotConnected) {
			t.Errorf("methods after 解除: %v", err)
		}
		var keyLeft, secretLeft int
		raw := rawDB(t, db)
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(key_enc), COUNT(webhook_secret_enc) FROM stripe_connections WHERE id = $1`, id).
			Scan(&keyLeft, &secretLeft); err != nil || keyLeft+secretLeft != 0 {
			t.Errorf("after 解除 the row holds %d keys, %d secrets (%v)", keyLeft, secretLeft, err)
		}
		id2 := connectStripe(t, st, a.ID, "sk_test_C", "we_3", "whsec_3")
		list, err := st.StripeConnections(ctx, a.ID)
		if err != nil || len(list) != 2 || list[0].ID != id2 || list[1].ID != id {
			t.Errorf("connections, newest first: %+v, %v", list, err)
		}
		if err := st.DisconnectStripeConnection(ctx, 9001, 9002); err == nil ||
			!strings.HasPrefix(err.Error(), "store.DisconnectStripeConnection(org 9001, id 9002): ") {
			t.Errorf("wrapped error: %v", err)
		}
	})
}

func fmtAll(s store.StripeSecrets) string {
	var b strings.Builder
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		b.WriteString(" " + fmt.Sprintf(f, s))
	}
	return b.String()
}

// TestStripeSecretsBoundToRowAndKind: a sealed key or secret moved to
// another connection, or to the other column, does not open.
func TestStripeSecretsBoundToRowAndKind(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		a := newFixture(t, st, "a@example.com", 10, false).org
		b := newFixture(t, st, "b@example.com", 10, false).org
		ida := connectStripe(t, st, a.ID, "sk_test_A", "we_a", "whsec_a")
		idb := connectStripe(t, st, b.ID, "sk_test_B", "we_b", "whsec_b")
		raw := rawDB(t, db)
		if _, err := raw.ExecContext(ctx, `UPDATE stripe_connections SET key_enc = (SELECT key_enc FROM stripe_connections WHERE id = $1)
			WHERE id = $2`, ida, idb); err != nil {
			t.Fatal(err)
		}
		if _, s, err := st.StripeConnectionSecrets(ctx, idb); err == nil || errors.Is(err, store.ErrStripeNotConnected) {
			t.Errorf("a's key copied to b's row opened: %q, %v", s.Key, err)
		}
		if _, err := raw.ExecContext(ctx, `UPDATE stripe_connections SET key_enc = webhook_secret_enc WHERE id = $1`, ida); err != nil {
			t.Fatal(err)
		}
		if k, err := st.StripeConnectionKey(ctx, a.ID, ida); err == nil {
			t.Errorf("the secret copied to the key column opened as the key: %q", k)
		}
	})
}

// TestStripeOneConnectedAtOnce: connections completed at once (two
// organizers of one organization connecting together, on two instances):
// exactly one is connected, the others are told.
func TestStripeOneConnectedAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := openWithSecrets(t, db)
		// Two instances on one database: on PostgreSQL their transactions
		// run side by side, and only the index stops the second.
		stores := []*store.Store{st, openWithSecrets(t, db)}
		a := newFixture(t, st, "a@example.com", 10, false).org
		const n = 4
		ids := make([]int64, n)
		for i := range ids {
			id, err := st.BeginStripeConnection(ctx, a.ID, testAccount, "sk_test_X", "http://stripe.test")
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = id
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { errs[i] = stores[i%2].CompleteStripeConnection(ctx, a.ID, id, "we", "whsec") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrStripeConnected):
				t.Errorf("a losing completion: %v, want already connected", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d connections completed, want 1: %v", ok, errs)
		}
	})
}

// TestStripeNeedsSecretKey: without a key to seal with, no Stripe key is stored.
func TestStripeNeedsSecretKey(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		a := newFixture(t, st, "a@example.com", 10, false).org
		if _, err := st.BeginStripeConnection(context.Background(), a.ID, testAccount, "sk_test_A", "http://stripe.test"); !errors.Is(err, store.ErrStripeNoSecrets) {
			t.Errorf("no secret key: %v", err)
		}
	})
}

// TestEventPaymentDays: 支払期限 is stored with the event, 7 days unless set.
func TestEventPaymentDays(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		f := newFixture(t, st, "a@example.com", 10, false)
		e, err := st.Event(ctx, f.org.ID, f.event.ID)
		if err != nil || e.PaymentDays != event.DefaultPaymentDays {
			t.Fatalf("default: %d, %v", e.PaymentDays, err)
		}
		e.PaymentDays = 14
		if err := st.UpdateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		if e, err = st.Event(ctx, f.org.ID, f.event.ID); err != nil || e.PaymentDays != 14 {
			t.Errorf("updated: %d, %v", e.PaymentDays, err)
		}
		paid := event.Event{OrgID: f.org.ID, Title: "有料", Fee: event.FeePaid, PriceJPY: 3000, PaymentDays: 3,
			TimeZone: "Asia/Tokyo", Status: event.StatusDraft}
		if _, err := st.CreateEvent(ctx, &paid, ""); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Event(ctx, f.org.ID, paid.ID); err != nil || got.PaymentDays != 3 {
			t.Errorf("created: %d, %v", got.PaymentDays, err)
		}
	})
}
