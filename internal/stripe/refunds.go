package stripe

import (
	"context"

	stripego "github.com/stripe/stripe-go/v85"
)

// Refund is a refund of (part of) a payment.
type Refund struct {
	ID, PaymentIntentID string
	// Status: pending, requires_action, succeeded, failed, canceled.
	Status        string
	Amount        int64 // yen
	FailureReason string
}

// CreateRefund refunds amount yen of the payment paymentIntentID (0: all
// that is left) (POST /v1/refunds). The idempotency key makes a retry
// return the first refund rather than refund twice.
func (c *Client) CreateRefund(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string) (Refund, error) {
	p := &stripego.RefundCreateParams{PaymentIntent: stripego.String(paymentIntentID)}
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
	return out
}
