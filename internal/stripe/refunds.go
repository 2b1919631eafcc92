package stripe

import (
	"context"
	"strconv"

	stripego "github.com/stripe/stripe-go/v85"
)

// Refund is a refund of (part of) a payment.
type Refund struct {
	ID, PaymentIntentID string
	// Status: pending, requires_action, succeeded, failed, canceled.
	Status        string
	Amount        int64 // yen
	FailureReason string
	// KaisaiRefund is kaisai's refunds row the refund was made for (its
	// metadata kaisai_refund), 0 when it carries none.
	KaisaiRefund int64
}

// CreateRefund refunds amount yen of the payment paymentIntentID (0: all
// that is left) (POST /v1/refunds). The idempotency key makes a retry
// return the first refund rather than refund twice.
func (c *Client) CreateRefund(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string) (Refund, error) {
	return c.CreateRefundFor(ctx, paymentIntentID, amount, idempotencyKey, 0)
}

// CreateRefundFor is CreateRefund for kaisai's refunds row kaisaiRefund
// (not 0), named in the refund's metadata (kaisai_refund), so that an
// event about a refund whose answer was lost still finds its row.
func (c *Client) CreateRefundFor(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string, kaisaiRefund int64) (Refund, error) {
	p := &stripego.RefundCreateParams{PaymentIntent: stripego.String(paymentIntentID)}
	if kaisaiRefund != 0 {
		p.AddMetadata(metadataRefund, strconv.FormatInt(kaisaiRefund, 10))
	}
	if amount > 0 {
		p.Amount = stripego.Int64(amount)
	}
	if idempotencyKey != "" {
		p.SetIdempotencyKey(idempotencyKey)
	}
	r, err := c.sc.V1Refunds.Create(ctx, p)
	if err != nil {
		return Refund{}, c.wrap("POST /v1/refunds", err)
	}
	return refundOf(r), nil
}

// Refund reads a refund back (GET /v1/refunds/{id}).
func (c *Client) Refund(ctx context.Context, id string) (Refund, error) {
	r, err := c.sc.V1Refunds.Retrieve(ctx, id, nil)
	if err != nil {
		return Refund{}, c.wrap("GET /v1/refunds/"+id, err)
	}
	return refundOf(r), nil
}

func refundOf(r *stripego.Refund) Refund {
	out := Refund{ID: r.ID, Status: string(r.Status), Amount: r.Amount, FailureReason: string(r.FailureReason)}
	if r.PaymentIntent != nil {
		out.PaymentIntentID = r.PaymentIntent.ID
	}
	if id, err := strconv.ParseInt(r.Metadata[metadataRefund], 10, 64); err == nil && id > 0 {
		out.KaisaiRefund = id
	}
	return out
}

// metadataRefund names kaisai's refunds row in a refund's metadata.
const metadataRefund = "kaisai_refund"

// RefundsOf lists the refunds of the payment paymentIntentID, newest
// first (GET /v1/refunds?payment_intent=…), every page.
func (c *Client) RefundsOf(ctx context.Context, paymentIntentID string) ([]Refund, error) {
	p := &stripego.RefundListParams{PaymentIntent: stripego.String(paymentIntentID)}
	p.Limit = stripego.Int64(100)
	var out []Refund
	for r, err := range c.sc.V1Refunds.List(ctx, p).All(ctx) {
		if err != nil {
			return nil, c.wrap("GET /v1/refunds", err)
		}
		out = append(out, refundOf(r))
	}
	return out, nil
}
