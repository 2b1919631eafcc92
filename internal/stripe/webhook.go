package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// WebhookTolerance is how old a delivery's signed timestamp may be.
const WebhookTolerance = 5 * time.Minute

// ErrBadSignature: a delivery's Stripe-Signature is missing, malformed,
// does not match the body under the endpoint's secret, or is older than
// WebhookTolerance. The delivery is not from Stripe, or is a replay.
var ErrBadSignature = errors.New("stripe: webhook signature not valid")

// Event is a verified webhook delivery as kaisai reads it. Of the object
// it carries, Session is filled for checkout.session.* events, Refund for
// refund.* events, and ChargePaymentIntentID (the charge's payment) for
// charge.* events.
type Event struct {
	ID, Type              string
	Created               time.Time
	Session               *Session
	Refund                *Refund
	ChargePaymentIntentID string
}

// ParseEvent verifies a delivery (body as received, its Stripe-Signature
// header, the endpoint's secret) with stripe-go's webhook package and
// reads it. Any problem with the signature or its timestamp is
// ErrBadSignature; a signed body that is not an event is another error.
//
// The event's API version is not checked against stripe-go's: kaisai's
// endpoint is created in stripe-go's version, and an endpoint left from
// an older one still carries the few stable fields read here; refusing
// those deliveries would only make Stripe retry them for three days.
func ParseEvent(body []byte, sigHeader, secret string) (Event, error) {
	ev, err := webhook.ConstructEventWithOptions(body, sigHeader, secret, webhook.ConstructEventOptions{
		Tolerance:                WebhookTolerance,
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		for _, bad := range []error{webhook.ErrNotSigned, webhook.ErrInvalidHeader, webhook.ErrNoValidSignature, webhook.ErrTooOld} {
			if errors.Is(err, bad) {
				return Event{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
			}
		}
		return Event{}, fmt.Errorf("stripe: webhook body: %w", err)
	}
	return decode(ev)
}

// DecodeEvent reads an event verified before (stored by the intake)
// without checking its signature again.
func DecodeEvent(body []byte) (Event, error) {
	var ev stripego.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("stripe: stored event: %w", err)
	}
	return decode(ev)
}

func decode(ev stripego.Event) (Event, error) {
	if ev.ID == "" || ev.Type == "" || ev.Data == nil || len(ev.Data.Raw) == 0 {
		return Event{}, errors.New("stripe: webhook body is not an event")
	}
	out := Event{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0)}
	raw := ev.Data.Raw
	switch {
	case strings.HasPrefix(out.Type, "checkout.session."):
		var cs stripego.CheckoutSession
		if err := json.Unmarshal(raw, &cs); err != nil {
			return Event{}, fmt.Errorf("stripe: webhook %s %s: %w", out.Type, out.ID, err)
		}
		s := sessionOf(&cs)
		out.Session = &s
	case strings.HasPrefix(out.Type, "refund."):
		var r stripego.Refund
		if err := json.Unmarshal(raw, &r); err != nil {
			return Event{}, fmt.Errorf("stripe: webhook %s %s: %w", out.Type, out.ID, err)
		}
		rf := refundOf(&r)
		out.Refund = &rf
	case strings.HasPrefix(out.Type, "charge."):
		var ch stripego.Charge
		if err := json.Unmarshal(raw, &ch); err != nil {
			return Event{}, fmt.Errorf("stripe: webhook %s %s: %w", out.Type, out.ID, err)
		}
		if ch.PaymentIntent != nil {
			out.ChargePaymentIntentID = ch.PaymentIntent.ID
		}
	}
	return out, nil
}
