package web_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/web"
)

// stripeExpired is a checkout.session.expired event for a session kaisai
// never made: a valid delivery that the job stores and ignores. No
// read-back of the session is needed to apply it.
func stripeExpired(eventID string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2025-01-01","created":1764770000,"livemode":false,`+
		`"pending_webhooks":1,"type":"checkout.session.expired","data":{"object":{"id":"cs_test_unknown_%s",`+
		`"object":"checkout.session","status":"expired","payment_status":"unpaid","amount_total":3000,"currency":"jpy",`+
		`"client_reference_id":"1","metadata":{}}}}`, eventID, eventID)
}

// stripeHook is a connection's webhook endpoint as 決済設定 leaves it:
// the connection's id and its signing secret.
type stripeHook struct {
	id     int64
	secret string
}

// connectStripeHook stores a connected Stripe account for org with its
// own signing secret (the key is never used: the events below need no
// read-back).
func connectStripeHook(t testing.TB, st *store.Store, orgID int64, secret string) stripeHook {
	t.Helper()
	ctx := context.Background()
	id, err := st.BeginStripeConnection(ctx, orgID, store.StripeAccount{ID: "acct_" + secret[len(secret)-6:], DisplayName: "決済テスト"},
		"sk_test_unused", "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteStripeConnection(ctx, orgID, id, "we_"+secret[len(secret)-6:], secret); err != nil {
		t.Fatal(err)
	}
	return stripeHook{id: id, secret: secret}
}

func newOrg(t testing.TB, st *store.Store, email string) int64 {
	t.Helper()
	org, _, err := st.CreateOrganization(context.Background(), event.SignupInput{OrgName: "決済社", Name: "主催者", Email: email}, "x")
	if err != nil {
		t.Fatal(err)
	}
	return org.ID
}

// stripeSignature is the Stripe-Signature header of body at t, as Stripe
// makes it (stripe-go's own test signer).
func stripeSignature(secret string, t time.Time, body []byte) string {
	return stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: t}).Header
}

// postStripe POSTs body to path with the Stripe-Signature header sig
// (none when empty).
func postStripe(t *testing.T, a *app.App, path string, body []byte, sig string) webhookResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return webhookResp{res.StatusCode, string(b)}
}

func stripeRows(t testing.TB, st *store.Store) []store.StripeWebhookRow {
	t.Helper()
	rows, err := st.StripeWebhooks(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestStripeWebhookIntake: through real HTTP, a delivery signed with the
// connection's secret is stored once and answered 200, and Stripe's retry
// of it adds nothing; a forged, tampered, stale, unsigned or oversized
// delivery, or one to an unknown, disconnected (解除済) or malformed
// endpoint, is refused with its 4xx and writes nothing.
func TestStripeWebhookIntake(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		st := a.Store
		org := newOrg(t, st, "owner@hooks.example")
		gone := connectStripeHook(t, st, org, "whsec_formerly_valid_000001")
		if err := st.DisconnectStripeConnection(context.Background(), org, gone.id); err != nil {
			t.Fatal(err)
		}
		hook := connectStripeHook(t, st, org, "whsec_the_right_secret_000002")
		path := "/webhooks/stripe/" + strconv.FormatInt(hook.id, 10)
		now := time.Now()

		t.Run("refused deliveries write nothing", func(t *testing.T) {
			body := stripeExpired("evt_refused")
			tampered := bytes.Replace(body, []byte(`"amount_total":3000`), []byte(`"amount_total":30`), 1)
			big := []byte(`{"id":"evt_big","object":"event","type":"checkout.session.expired","data":{"object":{"id":"cs_x","pad":"`)
			big = append(big, bytes.Repeat([]byte("a"), 1<<20)...)
			big = append(big, `"}}}`...)
			for _, tc := range []struct {
				name string
				path string
				body []byte
				sig  string
				want int
			}{
				{"forged (another secret)", path, body, stripeSignature("whsec_a_guessed_secret", now, body), http.StatusBadRequest},
				{"tampered body", path, tampered, stripeSignature(hook.secret, now, body), http.StatusBadRequest},
				{"stale (6 minutes old)", path, body, stripeSignature(hook.secret, now.Add(-6*time.Minute), body), http.StatusBadRequest},
				{"no Stripe-Signature", path, body, "", http.StatusBadRequest},
				{"garbled Stripe-Signature", path, body, "t=abc,v1=zz", http.StatusBadRequest},
				{"signed, not an event", path, []byte(`{"hello":"world"}`), stripeSignature(hook.secret, now, []byte(`{"hello":"world"}`)), http.StatusBadRequest},
				{"unknown connection", "/webhooks/stripe/987654", body, stripeSignature(hook.secret, now, body), http.StatusNotFound},
				{"disconnected connection (解除済)", "/webhooks/stripe/" + strconv.FormatInt(gone.id, 10), body,
					stripeSignature(gone.secret, now, body), http.StatusNotFound},
				{"non-numeric connection", "/webhooks/stripe/abc", body, stripeSignature(hook.secret, now, body), http.StatusNotFound},
				{"zero connection", "/webhooks/stripe/0", body, stripeSignature(hook.secret, now, body), http.StatusNotFound},
				{"oversized (> 1 MiB)", path, big, stripeSignature(hook.secret, now, big), http.StatusRequestEntityTooLarge},
			} {
				r := postStripe(t, a, tc.path, tc.body, tc.sig)
				if r.status != tc.want || !strings.Contains(r.body, `"error"`) {
					t.Errorf("%s: %d %s, want %d with a JSON error", tc.name, r.status, r.body, tc.want)
				}
			}
			if rows := stripeRows(t, st); len(rows) != 0 {
				t.Fatalf("refused deliveries stored %+v", rows)
			}
		})

		t.Run("stored once, retries add nothing", func(t *testing.T) {
			body := stripeExpired("evt_once_1")
			for i := range 3 { // Stripe's retries: the same event, signed again
				r := postStripe(t, a, path, body, stripeSignature(hook.secret, now.Add(time.Duration(i)*time.Second), body))
				if r.status != http.StatusOK || !strings.Contains(r.body, `"received":true`) {
					t.Fatalf("delivery %d: %d %s", i, r.status, r.body)
				}
				rows := stripeRows(t, st)
				if len(rows) != 1 {
					t.Fatalf("after delivery %d: %d rows, want 1: %+v", i, len(rows), rows)
				}
				if w := rows[0]; w.ConnectionID != hook.id || w.EventID != "evt_once_1" || w.Type != "checkout.session.expired" {
					t.Fatalf("stored %+v", w)
				}
			}
			// Another event is another row.
			other := stripeExpired("evt_once_2")
			if r := postStripe(t, a, path, other, stripeSignature(hook.secret, now, other)); r.status != http.StatusOK {
				t.Fatalf("second event: %d %s", r.status, r.body)
			}
			if rows := stripeRows(t, st); len(rows) != 2 {
				t.Fatalf("%d rows after a second event, want 2", len(rows))
			}
		})
	})
}

// FuzzStripeWebhook throws bodies and signature headers at the intake of
// a connected endpoint: it never answers 5xx, never stores a delivery not
// validly signed with the endpoint's secret, and stores at most one row
// for one that is.
func FuzzStripeWebhook(f *testing.F) {
	const secret = "whsec_fuzzing_secret_000003"
	f.Add(stripeExpired("evt_seed_valid"), "", true, int64(0))
	f.Add(stripeExpired("evt_seed_stale"), "", true, int64(-400))
	f.Add([]byte("\x00\xffgarbage\n"), "t=1,v1=00", false, int64(0))
	f.Add([]byte(`{"id":"evt_trunc","object":"event","type":"checkout.session.comp`), "", true, int64(0))
	f.Add([]byte(`{"id":"evt_trunc","object":"event","type":"checkout.session.comp`), "", false, int64(0))
	f.Add([]byte(`{"id":"","type":"","data":null}`), "", true, int64(0))
	f.Add([]byte(`{"id":"evt_x","type":"checkout.session.completed","data":{"object":[]}}`), "", true, int64(0))
	f.Add([]byte(`null`), "t=,v1=", false, int64(0))
	f.Add(stripeExpired("evt_seed_forged"), "t=1764770000,v1="+hex.EncodeToString(bytes.Repeat([]byte{7}, 32)), false, int64(0))

	db := testdb.SQLite(f)
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{1}, secretbox.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: db.DataDir, Secrets: box})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := st.Migrate(ctx, quiet); err != nil {
		f.Fatal(err)
	}
	hook := connectStripeHook(f, st, newOrg(f, st, "owner@fuzz.example"), secret)
	srv, err := web.New(web.Config{Store: st, Log: quiet})
	if err != nil {
		f.Fatal(err)
	}
	path := "/webhooks/stripe/" + strconv.FormatInt(hook.id, 10)

	f.Fuzz(func(t *testing.T, body []byte, sig string, sign bool, skewSec int64) {
		now := time.Now()
		if sign {
			sig = stripeSignature(secret, now.Add(time.Duration(skewSec%1000)*time.Second), body)
		}
		// What Stripe's own verifier says of it, without the tolerance
		// (the handler's clock reads a moment later).
		_, verr := stripewebhook.ConstructEventWithOptions(body, sig, secret, stripewebhook.ConstructEventOptions{
			Tolerance: 5 * time.Minute, IgnoreAPIVersionMismatch: true})
		before := len(stripeRows(t, st))
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", sig)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		after := len(stripeRows(t, st))
		if rec.Code >= 500 {
			t.Fatalf("answered %d: %s", rec.Code, rec.Body)
		}
		if verr != nil {
			if after != before {
				t.Fatalf("a delivery not validly signed (%v) stored a row (status %d)", verr, rec.Code)
			}
			if rec.Code == http.StatusOK {
				t.Fatalf("a delivery not validly signed (%v) got 200", verr)
			}
			return
		}
		if after > before+1 {
			t.Fatalf("one delivery stored %d rows", after-before)
		}
		if after == before+1 && rec.Code != http.StatusOK {
			t.Fatalf("stored a delivery but answered %d", rec.Code)
		}
	})
}
