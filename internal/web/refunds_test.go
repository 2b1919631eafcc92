package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestCancelRefundFormBadInput: the organizer's cancel form of an
// application paid through Stripe refuses a missing choice, an unknown
// one, an amount of 0, one above what was paid and one that is not a
// number, each with its message on the form (422), and changes nothing;
// an application paid by hand says the refund is made outside kaisai and
// is cancelled with 返金なし only.
func TestCancelRefundFormBadInput(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("返金フォーム", "refund-form@example.com")
		eventID := owner.createEvent(eventSpec{Title: "有料セミナー", Paid: true, Price: 3000})
		groupID := owner.addGroup(eventID, placeGroup("大阪市"))
		scheduleID := owner.addSchedule(eventID, groupID, 5)
		public := owner.publicPath(eventID)
		newClient(t, a).apply(public, scheduleID, "カード 払子", "card@example.com")
		newClient(t, a).apply(public, scheduleID, "手動 払男", "manual@example.com")
		rows := owner.applications(eventID)
		if len(rows) != 2 {
			t.Fatalf("applications: %+v", rows)
		}
		ids := map[string]int64{}
		for _, r := range rows {
			ids[r.Email] = r.ID
		}
		card, manual := ids["card@example.com"], ids["manual@example.com"]
		var orgID int64
		if err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT org_id FROM events WHERE id = $1`, eventID).Scan(&orgID); err != nil {
			t.Fatal(err)
		}
		// Paid by card through Stripe (as the webhook would have made it),
		// and by hand.
		err := a.Store.Tx(ctx, func(tx *store.Tx) error {
			now := time.Now().UTC()
			if _, err := tx.ExecContext(ctx, `INSERT INTO payments (org_id, event_id, application_id, connection_id, attempt,
				idempotency_key, status, amount, session_id, expires_at, method, paid_amount, currency, payment_intent_id,
				created_at, updated_at, paid_at)
				VALUES ($1, $2, $3, 1, 1, 'k-1', 'paid', 3000, 'cs_form', $4, 'card', 3000, 'jpy', 'pi_form', $4, $4, $4)`,
				orgID, eventID, card, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE applications SET payment = 'paid', paid_via = 'card' WHERE id = $1`, card); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE applications SET payment = 'paid', paid_via = 'manual' WHERE id = $1`, manual)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		cardPath := fmt.Sprintf("/events/%d/applications/%d/cancel", eventID, card)
		form := owner.get(cardPath)
		wantStatus(t, form, http.StatusOK)
		wantText(t, form, ja("refund.kind.full"), ja("refund.kind.partial"), ja("refund.kind.none"), "3,000円")

		for _, c := range []struct {
			name string
			form url.Values
			want string
		}{
			{"no choice", url.Values{}, ja("refund.choose")},
			{"unknown choice", url.Values{"refund": {"all"}}, ja("refund.choose")},
			{"amount 0", url.Values{"refund": {"partial"}, "refund_amount": {"0"}}, ja("refund.amount_range", 3000)},
			{"amount over paid", url.Values{"refund": {"partial"}, "refund_amount": {"3001"}}, ja("refund.amount_range", 3000)},
			{"not a number", url.Values{"refund": {"partial"}, "refund_amount": {"千円"}}, ja("refund.amount_number")},
			{"no amount", url.Values{"refund": {"partial"}}, ja("refund.amount_number")},
		} {
			r := owner.post(cardPath, c.form)
			if r.Status != http.StatusUnprocessableEntity || !r.Has(c.want) {
				t.Errorf("%s: want 422 with %q, got %s", c.name, c.want, r)
			}
		}
		var status string
		var refunds int
		if err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT status, (SELECT COUNT(*) FROM refunds) FROM applications
			WHERE id = $1`, card).Scan(&status, &refunds); err != nil {
			t.Fatal(err)
		}
		if status != "applied" || refunds != 0 {
			t.Errorf("bad input changed something: %s, %d refunds", status, refunds)
		}
		// A full-width amount is read; the form keeps what was typed on error.
		r := owner.post(cardPath, url.Values{"refund": {"partial"}, "refund_amount": {"５０００"}})
		if r.Status != http.StatusUnprocessableEntity || !r.Has(ja("refund.amount_range", 3000)) {
			t.Errorf("５０００: %s", r)
		}

		manualPath := fmt.Sprintf("/events/%d/applications/%d/cancel", eventID, manual)
		wantText(t, owner.get(manualPath), ja("refund.outside_kaisai"))
		r = owner.post(manualPath, url.Values{"refund": {"full"}})
		if r.Status != http.StatusUnprocessableEntity || !r.Has(ja("refund.not_online")) {
			t.Errorf("a refund of a payment by hand: %s", r)
		}
		wantStatus(t, owner.post(manualPath, url.Values{"refund": {"none"}}), http.StatusSeeOther)
		if err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT status, (SELECT COUNT(*) FROM refunds) FROM applications
			WHERE id = $1`, manual).Scan(&status, &refunds); err != nil {
			t.Fatal(err)
		}
		if status != "cancelled" || refunds != 0 {
			t.Errorf("返金なし of a payment by hand: %s, %d refunds", status, refunds)
		}
	})
}
