package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// 領収書 (DESIGN.md §8): one per paid application, numbered from the
// organization's receipt_seq when first issued, and fixed then: what it
// says (amount, tax, issuer, 但し書き) is a snapshot, so that a later edit
// of the event or the billing profile never changes a receipt someone holds.
// Issuing again changes only the 宛名 and counts the issue (再発行).

// Activity actions of receipts.
const (
	ActReceiptIssued   = "receipt_issued"
	ActReceiptReissued = "receipt_reissued"
)

// Errors of issuing a receipt, each a message the participant sees.
var (
	ErrReceiptUnpaid = event.Errorf(event.EConflict, "receipt.not_paid")
	ErrReceiptFree   = event.Errorf(event.EConflict, "receipt.free_event")
)

// Receipt is a 領収書 as issued, with the refunds made since.
type Receipt struct {
	ID            int64
	OrgID         int64
	EventID       int64
	ApplicationID int64
	PaymentID     int64 // 0: paid by hand
	Number        int64 // the organization's receipt number
	Addressee     string
	Purpose       string // 但し書き
	Amount        int64  // yen, tax included
	TaxRate       int    // percent
	Tax           int64  // 消費税額, rounded down once
	IssuerName    string
	IssuerAddress string
	Registration  string // 登録番号, "" when not registered
	IssuedAt      time.Time
	ReissuedAt    time.Time // zero: never re-issued
	IssueCount    int
	// Refunds are the money returned on the application (refunds that
	// succeeded), oldest first.
	Refunds []ReceiptRefund
}

// ReceiptRefund is one refund a receipt mentions.
type ReceiptRefund struct {
	Amount     int64
	RefundedAt time.Time
}

// Reissued reports whether the receipt was issued more than once: it then
// says 再発行.
func (r *Receipt) Reissued() bool { return r.IssueCount > 1 }

const receiptColumns = `r.id, r.org_id, r.event_id, r.application_id, r.payment_id, r.number, r.addressee, r.purpose,
	r.amount, r.tax_rate, r.tax, r.issuer_name, r.issuer_address, r.registration_number, r.issued_at, r.reissued_at,
	r.issue_count`

func receiptWhere(ctx context.Context, q querier, where string, args ...any) (Receipt, error) {
	var r Receipt
	var paymentID sql.NullInt64
	var reissued sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT `+receiptColumns+` FROM receipts r WHERE `+where, args...).Scan(
		&r.ID, &r.OrgID, &r.EventID, &r.ApplicationID, &paymentID, &r.Number, &r.Addressee, &r.Purpose,
		&r.Amount, &r.TaxRate, &r.Tax, &r.IssuerName, &r.IssuerAddress, &r.Registration, &r.IssuedAt, &reissued,
		&r.IssueCount)
	if err != nil {
		return r, notFound(err)
	}
	r.PaymentID, r.IssuedAt, r.ReissuedAt = paymentID.Int64, r.IssuedAt.UTC(), timeOf(reissued)
	r.Refunds, err = receiptRefunds(ctx, q, r.ApplicationID)
	return r, err
}

// receiptRefunds are the application's refunds that returned money.
func receiptRefunds(ctx context.Context, q querier, applicationID int64) ([]ReceiptRefund, error) {
	// Two columns, not COALESCE: SQLite would give the text of the time.
	rows, err := q.QueryContext(ctx, `SELECT amount, refunded_at, updated_at FROM refunds
		WHERE application_id = $1 AND status = $2 ORDER BY COALESCE(refunded_at, updated_at), id`,
		applicationID, payment.RefundSucceeded)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReceiptRefund
	for rows.Next() {
		var f ReceiptRefund
		var refunded sql.NullTime
		var updated time.Time
		if err := rows.Scan(&f.Amount, &refunded, &updated); err != nil {
			return nil, err
		}
		f.RefundedAt = timeOf(refunded)
		if f.RefundedAt.IsZero() {
			f.RefundedAt = updated.UTC()
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Receipt is the receipt of an application, with its refunds; ErrNotFound
// when none was issued.
func (s *Store) Receipt(ctx context.Context, applicationID int64) (_ Receipt, err error) {
	defer wrap(&err, "store.Receipt(application %d)", applicationID)
	return receiptWhere(ctx, s.reader(), `r.application_id = $1`, applicationID)
}

// IssueReceipt issues the receipt of an application that is 入金済, to
// addressee (read by payment.Addressee: "" is 上様). The first issue takes the
// organization's next receipt number and fixes what the receipt says: the
// amount paid (the paid session's amount when paid online, the event's
// price when marked paid by hand) with its consumption tax, the 但し書き
// and the organization's billing profile. Issuing again re-issues it
// (再発行) to addressee, counting the issue. A free event's application, or
// one not paid, is refused (ErrReceiptFree, ErrReceiptUnpaid).
//
// The application's row is locked first, so that two first issues of the
// same application at once make one receipt and take one number; the
// organization's counter is then taken by one UPDATE, so two applications'
// first issues never share a number. A number is never given again, even
// when its application is deleted.
func (s *Store) IssueReceipt(ctx context.Context, applicationID int64, addressee string) (_ Receipt, err error) {
	defer wrap(&err, "store.IssueReceipt(application %d)", applicationID)
	var r Receipt
	if addressee, err = payment.Addressee(addressee); err != nil {
		return r, err
	}
	err = s.Tx(ctx, func(tx *Tx) error {
		// Lock the application (PostgreSQL holds the row until commit; on
		// SQLite the transaction is the only writer anyway).
		res, err := tx.ExecContext(ctx, `UPDATE applications SET payment = payment WHERE id = $1`, applicationID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		a, err := applicationWhere(ctx, tx, `a.id = $1`, applicationID)
		if err != nil {
			return err
		}
		var e event.Event
		if err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e WHERE e.id = $1`, a.EventID), &e); err != nil {
			return notFound(err)
		}
		switch {
		case a.Payment == event.PaymentNone:
			return ErrReceiptFree
		case a.Payment != event.PaymentPaid:
			return ErrReceiptUnpaid
		}
		r, err = receiptWhere(ctx, tx, `r.application_id = $1`, a.ID)
		switch {
		case err == nil:
			return s.reissueReceipt(ctx, tx, &a, &r, addressee)
		case !errors.Is(err, errNotFound):
			return err
		}
		r, err = s.firstReceipt(ctx, tx, &a, &e, addressee)
		return err
	})
	return r, err
}

// firstReceipt writes the application's receipt.
func (s *Store) firstReceipt(ctx context.Context, tx *Tx, a *event.Application, e *event.Event, addressee string) (Receipt, error) {
	r := Receipt{OrgID: a.OrgID, EventID: a.EventID, ApplicationID: a.ID, Addressee: addressee,
		Purpose: payment.ReceiptPurpose(e), Amount: e.PriceJPY, TaxRate: payment.TaxRate, IssuedAt: tx.now, IssueCount: 1}
	var paymentID sql.NullInt64
	if a.PaidVia != string(payment.MethodManual) {
		// Paid online: the amount Stripe confirmed, of the latest paid session.
		err := tx.QueryRowContext(ctx, `SELECT id, paid_amount FROM payments
			WHERE application_id = $1 AND status = $2 ORDER BY paid_at DESC, id DESC LIMIT 1`,
			a.ID, payment.StatusPaid).Scan(&r.PaymentID, &r.Amount)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			r.Amount = e.PriceJPY
		case err != nil:
			return r, err
		default:
			paymentID = sql.NullInt64{Int64: r.PaymentID, Valid: true}
		}
	}
	r.Tax = payment.TaxIncluded(r.Amount, r.TaxRate)
	err := tx.QueryRowContext(ctx, `UPDATE organizations SET receipt_seq = receipt_seq + 1 WHERE id = $1
		RETURNING receipt_seq, CASE WHEN billing_name = '' THEN name ELSE billing_name END, billing_address, billing_registration`,
		a.OrgID).Scan(&r.Number, &r.IssuerName, &r.IssuerAddress, &r.Registration)
	if err != nil {
		return r, notFound(err)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO receipts (org_id, event_id, application_id, payment_id, number, addressee,
		purpose, amount, tax_rate, tax, issuer_name, issuer_address, registration_number, issued_at, issue_count)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1) RETURNING id`,
		r.OrgID, r.EventID, r.ApplicationID, paymentID, r.Number, r.Addressee, r.Purpose, r.Amount, r.TaxRate, r.Tax,
		r.IssuerName, r.IssuerAddress, r.Registration, r.IssuedAt).Scan(&r.ID)
	if err != nil {
		return r, err
	}
	if r.Refunds, err = receiptRefunds(ctx, tx, a.ID); err != nil {
		return r, err
	}
	return r, s.logActivity(ctx, tx, a, 0, ActReceiptIssued, receiptDetail(&r))
}

// reissueReceipt issues r again, to addressee.
func (s *Store) reissueReceipt(ctx context.Context, tx *Tx, a *event.Application, r *Receipt, addressee string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE receipts SET addressee = $1, issue_count = issue_count + 1, reissued_at = $2
		WHERE id = $3`, addressee, tx.now, r.ID); err != nil {
		return err
	}
	r.Addressee, r.IssueCount, r.ReissuedAt = addressee, r.IssueCount+1, tx.now
	return s.logActivity(ctx, tx, a, 0, ActReceiptReissued, receiptDetail(r))
}

// receiptDetail is a history line's detail: the receipt's number and 宛名.
func receiptDetail(r *Receipt) string {
	return fmt.Sprintf("No. %06d %s", r.Number, r.Addressee)
}
