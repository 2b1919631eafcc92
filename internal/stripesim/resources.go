package stripesim

import (
	"time"
)

// The simulator's resources and their JSON in Stripe's shape (the
// schemas of spec3.json: every required property is present, null where
// Stripe has nothing to say).

// Session is a Checkout Session (mode=payment).
type Session struct {
	Seq                int64             `json:"seq"` // creation order
	ID                 string            `json:"id"`
	Account            string            `json:"account"`
	Created            int64             `json:"created"`
	ExpiresAt          int64             `json:"expires_at"`
	Status             string            `json:"status"`         // open | complete | expired
	PaymentStatus      string            `json:"payment_status"` // unpaid | paid
	Currency           string            `json:"currency"`
	LineItems          []LineItem        `json:"line_items"`
	ClientReferenceID  string            `json:"client_reference_id,omitempty"`
	Customer           string            `json:"customer,omitempty"`
	CustomerEmail      string            `json:"customer_email,omitempty"`
	PaymentMethodTypes []string          `json:"payment_method_types"`
	KonbiniDays        int               `json:"konbini_expires_after_days,omitempty"`
	BankTransferType   string            `json:"bank_transfer_type,omitempty"` // jp_bank_transfer
	SuccessURL         string            `json:"success_url,omitempty"`
	CancelURL          string            `json:"cancel_url,omitempty"`
	Locale             string            `json:"locale,omitempty"`
	Metadata           map[string]string `json:"metadata"`
	PaymentIntent      string            `json:"payment_intent,omitempty"`
	PaymentMetadata    map[string]string `json:"payment_intent_metadata,omitempty"`
	Description        string            `json:"description,omitempty"`
}

// LineItem is one line of a session, from price_data.
type LineItem struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	UnitAmount int64  `json:"unit_amount"`
	Quantity   int64  `json:"quantity"`
	Price      string `json:"price"`
	Product    string `json:"product"`
}

func (s *Session) amountTotal() int64 {
	var t int64
	for _, li := range s.LineItems {
		t += li.UnitAmount * li.Quantity
	}
	return t
}

// PaymentIntent is the payment of a completed (or attempted) session.
type PaymentIntent struct {
	ID                 string            `json:"id"`
	Account            string            `json:"account"`
	Created            int64             `json:"created"`
	Amount             int64             `json:"amount"`
	Currency           string            `json:"currency"`
	Status             string            `json:"status"` // requires_payment_method | requires_action | processing | succeeded | canceled
	PaymentMethodTypes []string          `json:"payment_method_types"`
	Method             string            `json:"method,omitempty"` // card | konbini | customer_balance: the one chosen
	PaymentMethod      string            `json:"payment_method,omitempty"`
	Customer           string            `json:"customer,omitempty"`
	Description        string            `json:"description,omitempty"`
	Metadata           map[string]string `json:"metadata"`
	LatestCharge       string            `json:"latest_charge,omitempty"`
	Session            string            `json:"session"`
	LastError          *PaymentError     `json:"last_payment_error,omitempty"`
	CanceledAt         int64             `json:"canceled_at,omitempty"`
	Cancellation       string            `json:"cancellation_reason,omitempty"`
	Konbini            *Voucher          `json:"konbini,omitempty"`
	Transfer           *Transfer         `json:"bank_transfer,omitempty"`
	ThreeDS            bool              `json:"three_d_secure_pending,omitempty"` // a 3-D Secure step is waited for
	ThreeDSCard        string            `json:"three_d_secure_card,omitempty"`
}

// PaymentError is a PaymentIntent's last_payment_error.
type PaymentError struct {
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code,omitempty"`
	Message     string `json:"message"`
	Type        string `json:"type"`
}

// Voucher is the konbini payment slip of a PaymentIntent.
type Voucher struct {
	ConfirmationNumber string `json:"confirmation_number"`
	ExpiresAt          int64  `json:"expires_at"`      // 23:59:59 JST of the last day
	Store              string `json:"store,omitempty"` // where it was paid
}

// Transfer is the bank transfer instruction of a PaymentIntent.
type Transfer struct {
	Type          string `json:"type"` // jp_bank_transfer
	Reference     string `json:"reference"`
	BankCode      string `json:"bank_code"`
	BankName      string `json:"bank_name"`
	BranchCode    string `json:"branch_code"`
	BranchName    string `json:"branch_name"`
	AccountNumber string `json:"account_number"`
	AccountHolder string `json:"account_holder_name"`
	ExpiresAt     int64  `json:"expires_at"` // the simulator lets it lapse then (Checkout: the session's expiry + 7 days... see doc)
}

// Charge is a successful (or failed) payment attempt.
type Charge struct {
	ID             string            `json:"id"`
	Account        string            `json:"account"`
	Created        int64             `json:"created"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Currency       string            `json:"currency"`
	PaymentIntent  string            `json:"payment_intent"`
	Method         string            `json:"method"`
	Status         string            `json:"status"` // succeeded | failed
	Customer       string            `json:"customer,omitempty"`
	Metadata       map[string]string `json:"metadata"`
	Last4          string            `json:"last4,omitempty"`
	FailureCode    string            `json:"failure_code,omitempty"`
	FailureMessage string            `json:"failure_message,omitempty"`
	Store          string            `json:"store,omitempty"`
}

// Refund is a refund of a charge.
type Refund struct {
	Seq           int64             `json:"seq"` // creation order
	ID            string            `json:"id"`
	Account       string            `json:"account"`
	Created       int64             `json:"created"`
	Amount        int64             `json:"amount"`
	Currency      string            `json:"currency"`
	Charge        string            `json:"charge"`
	PaymentIntent string            `json:"payment_intent"`
	Status        string            `json:"status"` // requires_action | pending | succeeded | failed | canceled
	Reason        string            `json:"reason,omitempty"`
	FailureReason string            `json:"failure_reason,omitempty"`
	Metadata      map[string]string `json:"metadata"`
	// InstructionsEmail is where a konbini refund's customer was asked
	// for a bank account (at EmailSentAt; the request lapses at
	// InstructionsExpire).
	InstructionsEmail  string `json:"instructions_email,omitempty"`
	EmailSentAt        int64  `json:"email_sent_at,omitempty"`
	InstructionsExpire int64  `json:"instructions_expire,omitempty"`
}

// WebhookEndpoint is a registered webhook endpoint.
type WebhookEndpoint struct {
	Seq           int64             `json:"seq"` // creation order
	ID            string            `json:"id"`
	Account       string            `json:"account"`
	Created       int64             `json:"created"`
	URL           string            `json:"url"`
	Secret        string            `json:"secret"`
	EnabledEvents []string          `json:"enabled_events"`
	APIVersion    string            `json:"api_version,omitempty"`
	Description   string            `json:"description,omitempty"`
	Metadata      map[string]string `json:"metadata"`
	Status        string            `json:"status"` // enabled | disabled
}

// Event is something that happened, with the object as it was then.
type Event struct {
	Seq        int64          `json:"seq"` // creation order
	ID         string         `json:"id"`
	Account    string         `json:"account"`
	Created    int64          `json:"created"`
	Type       string         `json:"type"`
	APIVersion string         `json:"api_version"`
	Object     map[string]any `json:"object"`
	Previous   map[string]any `json:"previous_attributes,omitempty"`
	Request    string         `json:"request,omitempty"`
	IdemKey    string         `json:"idempotency_key,omitempty"`
	Pending    int            `json:"pending_webhooks"`
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func meta(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// jst is Japan Standard Time (no daylight saving).
var jst = time.FixedZone("JST", 9*60*60)

func (s *Server) sessionJSON(cs *Session) map[string]any {
	total := cs.amountTotal()
	pmo := map[string]any{}
	for _, t := range cs.PaymentMethodTypes {
		switch t {
		case "card":
			pmo["card"] = map[string]any{"request_three_d_secure": "automatic"}
		case "konbini":
			pmo["konbini"] = map[string]any{"expires_after_days": cs.KonbiniDays}
		case "customer_balance":
			pmo["customer_balance"] = map[string]any{
				"bank_transfer": map[string]any{"type": cs.BankTransferType},
				"funding_type":  "bank_transfer",
			}
		}
	}
	url := any(nil)
	if cs.Status == "open" {
		url = s.opts.BaseURL + "/c/pay/" + cs.ID
	}
	var details any
	if cs.CustomerEmail != "" || cs.Status == "complete" {
		details = map[string]any{"email": nullable(cs.CustomerEmail), "name": nil, "phone": nil, "address": nil,
			"tax_exempt": "none", "tax_ids": []any{}}
	}
	return map[string]any{
		"id": cs.ID, "object": "checkout.session", "adaptive_pricing": map[string]any{"enabled": false},
		"after_expiration": nil, "allow_promotion_codes": nil, "amount_subtotal": total, "amount_total": total,
		"automatic_tax":              map[string]any{"enabled": false, "liability": nil, "provider": nil, "status": nil},
		"billing_address_collection": nil, "cancel_url": nullable(cs.CancelURL),
		"client_reference_id": nullable(cs.ClientReferenceID), "client_secret": nil, "collected_information": nil,
		"consent": nil, "consent_collection": nil, "created": cs.Created, "currency": cs.Currency,
		"currency_conversion": nil, "custom_fields": []any{},
		"custom_text": map[string]any{"after_submit": nil, "shipping_address": nil, "submit": nil, "terms_of_service_acceptance": nil},
		"customer":    nullable(cs.Customer), "customer_creation": "if_required", "customer_details": details,
		"customer_email": nullable(cs.CustomerEmail), "discounts": []any{}, "expires_at": cs.ExpiresAt,
		"invoice": nil, "invoice_creation": nil, "livemode": false, "locale": nullable(cs.Locale),
		"metadata": meta(cs.Metadata), "mode": "payment", "payment_intent": nullable(cs.PaymentIntent),
		"payment_link": nil, "payment_method_collection": "if_required",
		"payment_method_options": pmo, "payment_method_types": cs.PaymentMethodTypes,
		"payment_status": cs.PaymentStatus, "phone_number_collection": map[string]any{"enabled": false},
		"recovered_from": nil, "saved_payment_method_options": nil, "setup_intent": nil,
		"shipping_address_collection": nil, "shipping_cost": nil, "shipping_options": []any{},
		"status": cs.Status, "submit_type": nil, "subscription": nil, "success_url": nullable(cs.SuccessURL),
		"total_details": map[string]any{"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
		"ui_mode":       "hosted_page", "url": url,
	}
}

func (s *Server) lineItemsJSON(cs *Session) map[string]any {
	data := []any{}
	for _, li := range cs.LineItems {
		amt := li.UnitAmount * li.Quantity
		data = append(data, map[string]any{
			"id": li.ID, "object": "item", "amount_discount": 0, "amount_subtotal": amt, "amount_tax": 0,
			"amount_total": amt, "currency": cs.Currency, "description": li.Name, "quantity": li.Quantity,
			"price": map[string]any{
				"id": li.Price, "object": "price", "active": false, "billing_scheme": "per_unit", "created": cs.Created,
				"currency": cs.Currency, "custom_unit_amount": nil, "livemode": false, "lookup_key": nil,
				"metadata": map[string]string{}, "nickname": nil, "product": li.Product, "recurring": nil,
				"tax_behavior": "unspecified", "tiers_mode": nil, "transform_quantity": nil, "type": "one_time",
				"unit_amount": li.UnitAmount, "unit_amount_decimal": itoa(li.UnitAmount),
			},
		})
	}
	return map[string]any{"object": "list", "data": data, "has_more": false,
		"url": "/v1/checkout/sessions/" + cs.ID + "/line_items"}
}

func (s *Server) intentJSON(pi *PaymentIntent) map[string]any {
	var next any
	if pi.Status == "requires_action" {
		switch {
		case pi.Konbini != nil:
			store := map[string]any{"confirmation_number": pi.Konbini.ConfirmationNumber, "payment_code": pi.Konbini.ConfirmationNumber}
			next = map[string]any{"type": "konbini_display_details", "konbini_display_details": map[string]any{
				"expires_at": pi.Konbini.ExpiresAt, "hosted_voucher_url": s.opts.BaseURL + "/c/voucher/" + pi.ID,
				"stores": map[string]any{"familymart": store, "lawson": store, "ministop": store, "seicomart": store},
			}}
		case pi.Transfer != nil:
			t := pi.Transfer
			next = map[string]any{"type": "display_bank_transfer_instructions", "display_bank_transfer_instructions": map[string]any{
				"amount_remaining": pi.Amount, "currency": pi.Currency, "reference": t.Reference, "type": t.Type,
				"hosted_instructions_url": s.opts.BaseURL + "/c/transfer/" + pi.ID,
				"financial_addresses": []any{map[string]any{"type": "zengin", "supported_networks": []any{"zengin"},
					"zengin": map[string]any{
						"account_holder_address": emptyAddress(), "bank_address": emptyAddress(),
						"account_holder_name": t.AccountHolder, "account_number": t.AccountNumber, "account_type": "futsu",
						"bank_code": t.BankCode, "bank_name": t.BankName, "branch_code": t.BranchCode, "branch_name": t.BranchName,
					}}},
			}}
		case pi.ThreeDS:
			next = map[string]any{"type": "redirect_to_url", "redirect_to_url": map[string]any{
				"return_url": nil, "url": s.opts.BaseURL + "/c/3ds/" + pi.Session}}
		}
	}
	var lastErr any
	if pi.LastError != nil {
		lastErr = map[string]any{"type": pi.LastError.Type, "code": pi.LastError.Code,
			"decline_code": nullable(pi.LastError.DeclineCode), "message": pi.LastError.Message}
	}
	canceledAt := any(nil)
	if pi.CanceledAt != 0 {
		canceledAt = pi.CanceledAt
	}
	received := int64(0)
	if pi.Status == "succeeded" {
		received = pi.Amount
	}
	pmo := map[string]any{}
	for _, t := range pi.PaymentMethodTypes {
		pmo[t] = map[string]any{}
	}
	return map[string]any{
		"id": pi.ID, "object": "payment_intent", "amount": pi.Amount, "amount_capturable": 0,
		"amount_details": map[string]any{"tip": map[string]any{}}, "amount_received": received, "application": nil,
		"application_fee_amount": nil, "automatic_payment_methods": nil, "canceled_at": canceledAt,
		"cancellation_reason": nullable(pi.Cancellation), "capture_method": "automatic", "client_secret": pi.ID + "_secret_" + pi.ID[3:13],
		"confirmation_method": "automatic", "created": pi.Created, "currency": pi.Currency,
		"customer": nullable(pi.Customer), "description": nullable(pi.Description), "last_payment_error": lastErr,
		"latest_charge": nullable(pi.LatestCharge), "livemode": false, "metadata": meta(pi.Metadata),
		"next_action": next, "on_behalf_of": nil, "payment_method": nullable(pi.PaymentMethod),
		"payment_method_configuration_details": nil, "payment_method_options": pmo,
		"payment_method_types": pi.PaymentMethodTypes, "processing": nil, "receipt_email": nil, "review": nil,
		"setup_future_usage": nil, "shipping": nil, "source": nil, "statement_descriptor": nil,
		"statement_descriptor_suffix": nil, "status": pi.Status, "transfer_data": nil, "transfer_group": nil,
	}
}

func emptyAddress() map[string]any {
	return map[string]any{"city": nil, "country": "JP", "line1": nil, "line2": nil, "postal_code": nil, "state": nil}
}

func (s *Server) chargeJSON(ch *Charge) map[string]any {
	details := map[string]any{"type": ch.Method}
	switch ch.Method {
	case "card":
		details["card"] = map[string]any{"brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2034,
			"funding": "credit", "last4": ch.Last4, "network": "visa", "checks": nil, "fingerprint": nil,
			"installments": nil, "mandate": nil, "network_token": nil, "three_d_secure": nil, "wallet": nil,
			"amount_authorized": ch.Amount, "regulated_status": "unregulated"}
	case "konbini":
		details["konbini"] = map[string]any{"store": map[string]any{"chain": nullable(ch.Store)}}
	case "customer_balance":
		details["customer_balance"] = map[string]any{}
	}
	refunds := []any{}
	s.forRefundsOfLocked(ch.ID, func(r *Refund) { refunds = append(refunds, s.refundJSON(r)) })
	var outcome any
	if ch.Status == "succeeded" {
		outcome = map[string]any{"network_status": "approved_by_network", "reason": nil, "risk_level": "normal",
			"seller_message": "Payment complete.", "type": "authorized", "advice_code": nil, "network_advice_code": nil, "network_decline_code": nil}
	} else {
		outcome = map[string]any{"network_status": "declined_by_network", "reason": "generic_decline", "risk_level": "normal",
			"seller_message": "The bank did not return any further details with this decline.", "type": "issuer_declined",
			"advice_code": nil, "network_advice_code": nil, "network_decline_code": nil}
	}
	captured := int64(0)
	if ch.Status == "succeeded" {
		captured = ch.Amount
	}
	return map[string]any{
		"id": ch.ID, "object": "charge", "amount": ch.Amount, "amount_captured": captured,
		"amount_refunded": ch.AmountRefunded, "application": nil, "application_fee": nil, "application_fee_amount": nil,
		"balance_transaction":             nil,
		"billing_details":                 map[string]any{"address": nil, "email": nil, "name": nil, "phone": nil, "tax_id": nil},
		"calculated_statement_descriptor": "KAISAI", "captured": ch.Status == "succeeded", "created": ch.Created,
		"currency": ch.Currency, "customer": nullable(ch.Customer), "description": nil, "disputed": false,
		"failure_balance_transaction": nil, "failure_code": nullable(ch.FailureCode),
		"failure_message": nullable(ch.FailureMessage), "fraud_details": map[string]any{}, "livemode": false,
		"metadata": meta(ch.Metadata), "on_behalf_of": nil, "outcome": outcome, "paid": ch.Status == "succeeded",
		"payment_intent": ch.PaymentIntent, "payment_method": nil, "payment_method_details": details,
		"receipt_email": nil, "receipt_number": nil, "receipt_url": s.opts.BaseURL + "/c/receipt/" + ch.ID,
		"refunded": ch.AmountRefunded >= ch.Amount && ch.Amount > 0,
		"refunds":  map[string]any{"object": "list", "data": refunds, "has_more": false, "url": "/v1/charges/" + ch.ID + "/refunds"},
		"review":   nil, "shipping": nil, "source_transfer": nil, "statement_descriptor": nil,
		"statement_descriptor_suffix": nil, "status": ch.Status, "transfer_data": nil, "transfer_group": nil,
	}
}

func (s *Server) refundJSON(r *Refund) map[string]any {
	m := map[string]any{
		"id": r.ID, "object": "refund", "amount": r.Amount, "balance_transaction": nil, "charge": r.Charge,
		"created": r.Created, "currency": r.Currency,
		"metadata": meta(r.Metadata), "payment_intent": r.PaymentIntent,
		"reason": nullable(r.Reason), "receipt_number": nil, "source_transfer_reversal": nil, "status": r.Status,
		"transfer_reversal": nil,
	}
	if r.FailureReason != "" {
		m["failure_reason"] = r.FailureReason
	}
	if r.InstructionsEmail != "" {
		m["instructions_email"] = r.InstructionsEmail
	}
	if r.Status == "requires_action" {
		m["next_action"] = map[string]any{"type": "display_details", "display_details": map[string]any{
			"email_sent": map[string]any{"email_sent_at": r.EmailSentAt, "email_sent_to": r.InstructionsEmail},
			"expires_at": r.InstructionsExpire,
		}}
	}
	return m
}

func (s *Server) endpointJSON(e *WebhookEndpoint, withSecret bool) map[string]any {
	m := map[string]any{
		"id": e.ID, "object": "webhook_endpoint", "api_version": nullable(e.APIVersion), "application": nil,
		"created": e.Created, "description": nullable(e.Description), "enabled_events": e.EnabledEvents,
		"livemode": false, "metadata": meta(e.Metadata), "status": e.Status, "url": e.URL,
	}
	if withSecret {
		m["secret"] = e.Secret
	}
	return m
}

func (s *Server) accountJSON(a *Account) map[string]any {
	return map[string]any{
		"id": a.ID, "object": "account",
		"business_profile": map[string]any{"name": a.DisplayName, "mcc": nil, "product_description": nil,
			"support_address": nil, "support_email": nil, "support_phone": nil, "support_url": nil, "url": nil},
		"business_type": "company", "charges_enabled": true, "country": a.Country, "created": a.Created,
		"default_currency": "jpy", "details_submitted": true, "email": nullable(a.Email), "payouts_enabled": true,
		"metadata": map[string]string{}, "type": "standard",
		"settings": map[string]any{
			"dashboard": map[string]any{"display_name": a.DisplayName, "timezone": "Asia/Tokyo"},
			"branding":  map[string]any{"icon": nil, "logo": nil, "primary_color": nil, "secondary_color": nil},
			"card_payments": map[string]any{"decline_on": map[string]any{"avs_failure": false, "cvc_failure": false},
				"statement_descriptor_prefix": nil, "statement_descriptor_prefix_kana": nil, "statement_descriptor_prefix_kanji": nil},
			"payments": map[string]any{"statement_descriptor": "KAISAI", "statement_descriptor_kana": "ｶｲｻｲ",
				"statement_descriptor_kanji": "開催"},
		},
	}
}

func (s *Server) eventJSON(e *Event) map[string]any {
	data := map[string]any{"object": e.Object}
	if e.Previous != nil {
		data["previous_attributes"] = e.Previous
	}
	return map[string]any{
		"id": e.ID, "object": "event", "api_version": e.APIVersion, "created": e.Created, "data": data,
		"livemode": false, "pending_webhooks": e.Pending,
		"request": map[string]any{"id": nullable(e.Request), "idempotency_key": nullable(e.IdemKey)},
		"type":    e.Type,
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
