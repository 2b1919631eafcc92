package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"kaisai/internal/payment"
)

// CheckoutParams is a Checkout Session for paying one application.
type CheckoutParams struct {
	// ApplicationID is sent as client_reference_id (decimal) and as
	// metadata application_id, of the session and of its PaymentIntent.
	ApplicationID int64
	// PaymentID is kaisai's payments row, sent as metadata payment_id so
	// that an event about the session finds its row even when the answer
	// to this create was lost.
	PaymentID int64
	// Name is the line item's name (event title and schedule).
	Name string
	// Amount is in yen, > 0 (currency jpy, quantity 1).
	Amount int64
	// Email is the customer_email the page starts with.
	Email string
	// Methods are the methods offered: card, konbini, bank_transfer
	// (Stripe's customer_balance with jp_bank_transfer).
	Methods []payment.Method
	// KonbiniDays is expires_after_days of konbini vouchers (1–60,
	// payment.KonbiniDays); 0: Stripe's default (3).
	KonbiniDays int
	// SuccessURL may hold {CHECKOUT_SESSION_ID}, which Stripe fills.
	SuccessURL string
	CancelURL  string
	// ExpiresAt is when the session expires (payment.SessionExpiry);
	// zero: Stripe's default, 24 hours.
	ExpiresAt time.Time
	// Locale of the page: "ja" or "en"; empty: Stripe chooses.
	Locale string
	// IdempotencyKey makes a retried create return the first session
	// (one per application and attempt).
	IdempotencyKey string
}

// Session is a Checkout Session as kaisai reads it.
type Session struct {
	ID, URL, ClientReferenceID string
	// PaymentID is kaisai's payments row named by the session's metadata
	// (0 when absent).
	PaymentID       int64
	Status          string // open, complete, expired
	PaymentStatus   string // paid, unpaid, no_payment_required
	AmountTotal     int64
	Currency        string
	ExpiresAt       time.Time
	PaymentIntentID string
	// Method is the method actually used, when known (from the charge or
	// the pending voucher or transfer), else "".
	Method payment.Method
	// Voucher is the konbini voucher while it waits to be paid.
	Voucher *Voucher
	// Transfer is where to transfer to while a bank transfer is awaited.
	Transfer *Transfer
}

// Voucher is a konbini voucher waiting to be paid.
type Voucher struct {
	Number    string   // the confirmation number (確認番号)
	Stores    []string // familymart, lawson, ministop, seicomart: where it can be paid
	ExpiresAt time.Time
	URL       string // Stripe's page of the voucher (hosted_voucher_url)
}

// Transfer is the bank account (zengin) a bank transfer is awaited at.
type Transfer struct {
	BankName, BranchName, AccountType, AccountNumber, AccountHolder string
	Amount                                                          int64  // yen still to transfer
	URL                                                             string // Stripe's page of the instructions (hosted_instructions_url)
}

// Stripe's names of the online methods.
const (
	typeCard            = "card"
	typeKonbini         = "konbini"
	typeCustomerBalance = "customer_balance"
)

// CreateCheckoutSession creates the hosted payment page for one
// application (POST /v1/checkout/sessions, mode payment, in yen).
//
// Bank transfer needs a Customer to hold the virtual account: the session
// is created with customer_creation=always, so Checkout makes one from
// the e-mail the payer gives, and kaisai needs no call of its own to
// /v1/customers.
func (c *Client) CreateCheckoutSession(ctx context.Context, p CheckoutParams) (Session, error) {
	const op = "POST /v1/checkout/sessions"
	if p.Amount <= 0 {
		return Session{}, fmt.Errorf("stripe %s: amount %d yen is not positive", op, p.Amount)
	}
	if len(p.Methods) == 0 {
		return Session{}, fmt.Errorf("stripe %s: no payment method", op)
	}
	id := strconv.FormatInt(p.ApplicationID, 10)
	meta := map[string]string{"application_id": id}
	if p.PaymentID != 0 {
		meta["payment_id"] = strconv.FormatInt(p.PaymentID, 10)
	}
	sp := &stripego.CheckoutSessionCreateParams{
		Mode: stripego.String(string(stripego.CheckoutSessionModePayment)),
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripego.String("jpy"),
				UnitAmount:  stripego.Int64(p.Amount),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripego.String(p.Name)},
			},
			Quantity: stripego.Int64(1),
		}},
		ClientReferenceID: stripego.String(id),
		Metadata:          meta,
		PaymentIntentData: &stripego.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
	}
	opts := &stripego.CheckoutSessionCreatePaymentMethodOptionsParams{}
	for _, m := range p.Methods {
		switch m {
		case payment.MethodCard:
			sp.PaymentMethodTypes = append(sp.PaymentMethodTypes, stripego.String(typeCard))
		case payment.MethodKonbini:
			sp.PaymentMethodTypes = append(sp.PaymentMethodTypes, stripego.String(typeKonbini))
			if p.KonbiniDays > 0 {
				opts.Konbini = &stripego.CheckoutSessionCreatePaymentMethodOptionsKonbiniParams{ExpiresAfterDays: stripego.Int64(int64(p.KonbiniDays))}
			}
		case payment.MethodBankTransfer:
			sp.PaymentMethodTypes = append(sp.PaymentMethodTypes, stripego.String(typeCustomerBalance))
			opts.CustomerBalance = &stripego.CheckoutSessionCreatePaymentMethodOptionsCustomerBalanceParams{
				FundingType: stripego.String("bank_transfer"),
				BankTransfer: &stripego.CheckoutSessionCreatePaymentMethodOptionsCustomerBalanceBankTransferParams{
					Type: stripego.String("jp_bank_transfer"),
				},
			}
			sp.CustomerCreation = stripego.String(string(stripego.CheckoutSessionCustomerCreationAlways))
		default:
			return Session{}, fmt.Errorf("stripe %s: %q is not an online payment method", op, m)
		}
	}
	if opts.Konbini != nil || opts.CustomerBalance != nil {
		sp.PaymentMethodOptions = opts
	}
	if p.Email != "" {
		sp.CustomerEmail = stripego.String(p.Email)
	}
	if p.SuccessURL != "" {
		sp.SuccessURL = stripego.String(p.SuccessURL)
	}
	if p.CancelURL != "" {
		sp.CancelURL = stripego.String(p.CancelURL)
	}
	if !p.ExpiresAt.IsZero() {
		sp.ExpiresAt = stripego.Int64(p.ExpiresAt.Unix())
	}
	if p.Locale != "" {
		sp.Locale = stripego.String(p.Locale)
	}
	if p.IdempotencyKey != "" {
		sp.SetIdempotencyKey(p.IdempotencyKey)
	}
	cs, err := c.sc.V1CheckoutSessions.Create(ctx, sp)
	if err != nil {
		return Session{}, c.wrap(op, err)
	}
	return sessionOf(cs), nil
}

// CheckoutSession reads a session back with its PaymentIntent and that
// intent's latest charge, so that Method, Voucher and Transfer are
// filled.
func (c *Client) CheckoutSession(ctx context.Context, id string) (Session, error) {
	p := &stripego.CheckoutSessionRetrieveParams{}
	p.AddExpand("payment_intent")
	p.AddExpand("payment_intent.latest_charge")
	cs, err := c.sc.V1CheckoutSessions.Retrieve(ctx, id, p)
	if err != nil {
		return Session{}, c.wrap("GET /v1/checkout/sessions/"+id, err)
	}
	return sessionOf(cs), nil
}

// ExpireCheckoutSession expires an open session, so that it can no
// longer be paid. A session no longer open (complete or already expired)
// is read back as it is, without an error: the caller learns what became
// of it.
func (c *Client) ExpireCheckoutSession(ctx context.Context, id string) (Session, error) {
	cs, err := c.sc.V1CheckoutSessions.Expire(ctx, id, nil)
	if err == nil {
		return sessionOf(cs), nil
	}
	err = c.wrap("POST /v1/checkout/sessions/"+id+"/expire", err)
	if e, ok := asError(err); ok && e.Status == http.StatusBadRequest && e.Type == string(stripego.ErrorTypeInvalidRequest) {
		// Stripe refuses to expire a session that is not open; see
		// whether that is why.
		s, rerr := c.CheckoutSession(ctx, id)
		if rerr == nil && s.Status != string(stripego.CheckoutSessionStatusOpen) {
			return s, nil
		}
		if rerr != nil {
			return Session{}, errors.Join(err, rerr)
		}
	}
	return Session{}, err
}

func sessionOf(cs *stripego.CheckoutSession) Session {
	s := Session{
		ID: cs.ID, URL: cs.URL, ClientReferenceID: cs.ClientReferenceID,
		Status: string(cs.Status), PaymentStatus: string(cs.PaymentStatus),
		AmountTotal: cs.AmountTotal, Currency: string(cs.Currency),
	}
	if v, ok := cs.Metadata["payment_id"]; ok {
		s.PaymentID, _ = strconv.ParseInt(v, 10, 64)
	}
	if cs.ExpiresAt != 0 {
		s.ExpiresAt = time.Unix(cs.ExpiresAt, 0)
	}
	pi := cs.PaymentIntent
	if pi == nil {
		return s
	}
	s.PaymentIntentID = pi.ID
	if ch := pi.LatestCharge; ch != nil && ch.PaymentMethodDetails != nil {
		s.Method = methodOf(string(ch.PaymentMethodDetails.Type))
	}
	na := pi.NextAction
	if na == nil || pi.Status != stripego.PaymentIntentStatusRequiresAction {
		return s
	}
	if k := na.KonbiniDisplayDetails; k != nil {
		s.Method = payment.MethodKonbini
		s.Voucher = voucherOf(k)
	}
	if b := na.DisplayBankTransferInstructions; b != nil {
		s.Method = payment.MethodBankTransfer
		s.Transfer = transferOf(b)
	}
	return s
}

// methodOf is the method of Stripe's payment method type t, "" for one
// kaisai does not offer.
func methodOf(t string) payment.Method {
	switch t {
	case typeCard:
		return payment.MethodCard
	case typeKonbini:
		return payment.MethodKonbini
	case typeCustomerBalance:
		return payment.MethodBankTransfer
	}
	return ""
}

func voucherOf(k *stripego.PaymentIntentNextActionKonbiniDisplayDetails) *Voucher {
	v := &Voucher{URL: k.HostedVoucherURL}
	if k.ExpiresAt != 0 {
		v.ExpiresAt = time.Unix(k.ExpiresAt, 0)
	}
	if st := k.Stores; st != nil {
		// A store is listed when Stripe gives its codes; Number is the
		// first confirmation number (the simulator, like Stripe for most
		// vouchers, gives every store the same one).
		add := func(store, confirmation, code string) {
			if confirmation == "" && code == "" {
				return
			}
			v.Stores = append(v.Stores, store)
			if v.Number == "" {
				v.Number = confirmation
			}
		}
		if x := st.FamilyMart; x != nil {
			add("familymart", x.ConfirmationNumber, x.PaymentCode)
		}
		if x := st.Lawson; x != nil {
			add("lawson", x.ConfirmationNumber, x.PaymentCode)
		}
		if x := st.Ministop; x != nil {
			add("ministop", x.ConfirmationNumber, x.PaymentCode)
		}
		if x := st.Seicomart; x != nil {
			add("seicomart", x.ConfirmationNumber, x.PaymentCode)
		}
	}
	return v
}

func transferOf(b *stripego.PaymentIntentNextActionDisplayBankTransferInstructions) *Transfer {
	t := &Transfer{Amount: b.AmountRemaining, URL: b.HostedInstructionsURL}
	for _, fa := range b.FinancialAddresses {
		if z := fa.Zengin; z != nil {
			t.BankName, t.BranchName, t.AccountType = z.BankName, z.BranchName, z.AccountType
			t.AccountNumber, t.AccountHolder = z.AccountNumber, z.AccountHolderName
			break
		}
	}
	return t
}
