package stripesim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Checkout Sessions, PaymentIntents, Charges and Refunds over /v1.

var sessionParams = []string{"mode", "line_items", "payment_method_types", "payment_method_options", "success_url",
	"cancel_url", "client_reference_id", "customer", "customer_email", "customer_creation", "expires_at", "metadata",
	"locale", "payment_intent_data", "submit_type", "ui_mode", "currency"}

var konbiniLimits = [2]int64{120, 300_000}

func (s *Server) createSession(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(sessionParams...); e != nil {
		return 0, nil, e
	}
	p := c.p
	mode, _ := p.str("mode")
	switch mode {
	case "":
		return 0, nil, missingParam("mode")
	case "payment":
	case "setup", "subscription":
		return 0, nil, badParam("mode", "The simulator supports only mode=payment (kaisai uses no other).")
	default:
		return 0, nil, invalid("mode", "parameter_invalid_string", "Invalid mode: must be one of payment, setup, or subscription")
	}
	if ui, _ := p.str("ui_mode"); ui != "" && ui != "hosted_page" {
		return 0, nil, badParam("ui_mode", "The simulator supports only ui_mode=hosted_page.")
	}
	cs := &Session{ID: newID("cs_test"), Seq: s.nextSeqLocked(), Account: c.acct.ID, Created: c.now.Unix(), Status: "open", PaymentStatus: "unpaid"}
	items, ok := p.list("line_items")
	if !ok {
		return 0, nil, badParam("line_items", "Invalid array")
	}
	if len(items) == 0 {
		return 0, nil, invalid("line_items", "parameter_missing", "You must provide at least one of `line_items` or `prices` in `payment` mode.")
	}
	for i, raw := range items {
		name := "line_items[" + strconv.Itoa(i) + "]"
		li, ok := raw.(map[string]any)
		if !ok {
			return 0, nil, badParam(name, "Invalid object")
		}
		item, cur, e := lineItem(params(li), name)
		if e != nil {
			return 0, nil, e
		}
		if cs.Currency != "" && cur != cs.Currency {
			return 0, nil, badParam(name+"[price_data][currency]", "All line items must have the same currency.")
		}
		cs.Currency = cur
		cs.LineItems = append(cs.LineItems, item)
	}
	total := cs.amountTotal()
	if total > 99_999_999 {
		return 0, nil, invalid("line_items", "amount_too_large", "The Checkout Session's total amount due must be no more than ¥99,999,999.")
	}
	if cs.Currency == "jpy" && total < 50 {
		return 0, nil, invalid("line_items", "amount_too_small", "The Checkout Session's total amount due must add up to at least ¥50")
	}
	types, ok := p.list("payment_method_types")
	if !ok {
		return 0, nil, badParam("payment_method_types", "Invalid array")
	}
	if len(types) == 0 {
		types = []any{"card"}
	}
	for i, t := range types {
		ts, _ := t.(string)
		switch ts {
		case "card", "konbini", "customer_balance":
		default:
			return 0, nil, invalid("payment_method_types["+strconv.Itoa(i)+"]", "parameter_invalid_string",
				"The payment method type provided: %s is invalid. This payment method is available to Stripe accounts in JP and your Stripe account is in JP... the simulator knows card, konbini and customer_balance.", ts)
		}
		if slices.Contains(cs.PaymentMethodTypes, ts) {
			continue
		}
		cs.PaymentMethodTypes = append(cs.PaymentMethodTypes, ts)
	}
	opts, ok := p.sub("payment_method_options")
	if !ok {
		return 0, nil, badParam("payment_method_options", "Invalid object")
	}
	for k := range opts {
		if k != "card" && k != "konbini" && k != "customer_balance" {
			return 0, nil, unknownParam("payment_method_options[" + k + "]")
		}
	}
	if slices.Contains(cs.PaymentMethodTypes, "konbini") {
		if cs.Currency != "jpy" {
			return 0, nil, badParam("payment_method_types", "The currency provided (%s) is invalid for one or more payment method types: konbini. Payment method type konbini supports jpy.", cs.Currency)
		}
		if total < konbiniLimits[0] || total > konbiniLimits[1] {
			return 0, nil, invalid("line_items", "amount_too_small", "The amount must be between ¥120 and ¥300,000 for konbini payments.")
		}
		cs.KonbiniDays = 3
		if k, _ := opts.sub("konbini"); k != nil {
			if d, _ := k.str("expires_after_days"); d != "" {
				n, err := strconv.Atoi(d)
				if err != nil || n < 1 || n > 60 {
					return 0, nil, invalid("payment_method_options[konbini][expires_after_days]", "parameter_invalid_integer",
						"expires_after_days must be between 1 and 60.")
				}
				cs.KonbiniDays = n
			}
		}
	} else if k, _ := opts.sub("konbini"); k != nil {
		return 0, nil, badParam("payment_method_options[konbini]", "payment_method_options[konbini] is given, but konbini is not in payment_method_types.")
	}
	if slices.Contains(cs.PaymentMethodTypes, "customer_balance") {
		cb, _ := opts.sub("customer_balance")
		if cb == nil {
			return 0, nil, missingParam("payment_method_options[customer_balance][funding_type]")
		}
		if ft, _ := cb.str("funding_type"); ft != "bank_transfer" {
			return 0, nil, invalid("payment_method_options[customer_balance][funding_type]", "parameter_invalid_string",
				"funding_type must be bank_transfer.")
		}
		bt, _ := cb.sub("bank_transfer")
		t := ""
		if bt != nil {
			t, _ = bt.str("type")
		}
		switch t {
		case "":
			return 0, nil, missingParam("payment_method_options[customer_balance][bank_transfer][type]")
		case "jp_bank_transfer":
		default:
			return 0, nil, badParam("payment_method_options[customer_balance][bank_transfer][type]",
				"The simulator's accounts are in Japan: bank_transfer[type] must be jp_bank_transfer, not %s.", t)
		}
		if cs.Currency != "jpy" {
			return 0, nil, badParam("payment_method_types", "jp_bank_transfer supports jpy only.")
		}
		cs.BankTransferType = t
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"success_url", &cs.SuccessURL}, {"cancel_url", &cs.CancelURL}} {
		v, _ := p.str(f.name)
		if v == "" {
			continue
		}
		u, err := url.Parse(strings.ReplaceAll(v, "{CHECKOUT_SESSION_ID}", "x"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 5000 {
			return 0, nil, invalid(f.name, "url_invalid", "Not a valid URL")
		}
		*f.dst = v
	}
	cs.ClientReferenceID, _ = p.str("client_reference_id")
	if utf8.RuneCountInString(cs.ClientReferenceID) > 200 {
		return 0, nil, invalid("client_reference_id", "string_length_exceeded", "client_reference_id may be at most 200 characters.")
	}
	cs.Customer, _ = p.str("customer")
	cs.CustomerEmail, _ = p.str("customer_email")
	if cs.Customer != "" && cs.CustomerEmail != "" {
		return 0, nil, badParam("customer_email", "You may only specify one of these parameters: customer, customer_email.")
	}
	if cs.Customer != "" && !strings.HasPrefix(cs.Customer, "cus_") {
		return 0, nil, noSuch("customer", cs.Customer, "customer")
	}
	cs.Locale, _ = p.str("locale")
	cs.ExpiresAt = c.now.Add(24 * time.Hour).Unix()
	if v, _ := p.str("expires_at"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, nil, invalid("expires_at", "parameter_invalid_integer", "Invalid integer: %s", v)
		}
		if n < c.now.Add(30*time.Minute).Unix() || n > c.now.Add(24*time.Hour).Unix() {
			return 0, nil, badParam("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.")
		}
		cs.ExpiresAt = n
	}
	md, e := metadataParam(p, "metadata")
	if e != nil {
		return 0, nil, e
	}
	cs.Metadata = md
	if pd, ok := p.sub("payment_intent_data"); !ok {
		return 0, nil, badParam("payment_intent_data", "Invalid object")
	} else if pd != nil {
		for k := range pd {
			if k != "metadata" && k != "description" {
				return 0, nil, unknownParam("payment_intent_data[" + k + "]")
			}
		}
		pm, e := metadataParam(pd, "payment_intent_data[metadata]")
		if e != nil {
			return 0, nil, e
		}
		cs.PaymentMetadata = pm
		cs.Description, _ = pd.str("description")
	}
	s.st.Sessions[cs.ID] = cs
	c.dirty = true
	return http.StatusOK, s.sessionJSON(cs), nil
}

func lineItem(p params, name string) (LineItem, string, *apiError) {
	for k := range p {
		if k != "price_data" && k != "quantity" {
			if k == "price" {
				v, _ := p.str("price")
				return LineItem{}, "", noSuch("price", v, name+"[price]")
			}
			return LineItem{}, "", unknownParam(name + "[" + k + "]")
		}
	}
	pd, ok := p.sub("price_data")
	if !ok || pd == nil {
		return LineItem{}, "", missingParam(name + "[price_data]")
	}
	cur, _ := pd.str("currency")
	if cur == "" {
		return LineItem{}, "", missingParam(name + "[price_data][currency]")
	}
	cur = strings.ToLower(cur)
	if cur != "jpy" {
		return LineItem{}, "", badParam(name+"[price_data][currency]", "The simulator's accounts settle in Japan: currency must be jpy, not %s.", cur)
	}
	ua, _ := pd.str("unit_amount")
	if ua == "" {
		return LineItem{}, "", missingParam(name + "[price_data][unit_amount]")
	}
	amount, err := strconv.ParseInt(ua, 10, 64)
	if err != nil || amount < 0 {
		return LineItem{}, "", invalid(name+"[price_data][unit_amount]", "parameter_invalid_integer", "Invalid non-negative integer")
	}
	prod, _ := pd.sub("product_data")
	pname := ""
	if prod != nil {
		pname, _ = prod.str("name")
	}
	if pname == "" {
		return LineItem{}, "", missingParam(name + "[price_data][product_data][name]")
	}
	qs, _ := p.str("quantity")
	if qs == "" {
		return LineItem{}, "", missingParam(name + "[quantity]")
	}
	q, err := strconv.ParseInt(qs, 10, 64)
	if err != nil || q < 1 || q > 999_999 {
		return LineItem{}, "", invalid(name+"[quantity]", "parameter_invalid_integer", "Invalid positive integer")
	}
	return LineItem{ID: newID("li"), Name: pname, UnitAmount: amount, Quantity: q, Price: newID("price"), Product: newID("prod")}, cur, nil
}

func (s *Server) sessionOf(c *call) (*Session, *apiError) {
	id := c.r.PathValue("id")
	cs := s.st.Sessions[id]
	if cs == nil || cs.Account != c.acct.ID {
		return nil, noSuch("checkout.session", id, "session")
	}
	return cs, nil
}

func (s *Server) getSession(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	cs, e := s.sessionOf(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.sessionJSON(cs), nil
}

func (s *Server) getLineItems(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("limit", "starting_after", "ending_before"); e != nil {
		return 0, nil, e
	}
	cs, e := s.sessionOf(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.lineItemsJSON(cs), nil
}

func (s *Server) listSessions(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("limit", "starting_after", "ending_before", "payment_intent", "customer", "status", "created"); e != nil {
		return 0, nil, e
	}
	pi, _ := c.p.str("payment_intent")
	cus, _ := c.p.str("customer")
	status, _ := c.p.str("status")
	var list []*Session
	for _, cs := range s.st.Sessions {
		if cs.Account != c.acct.ID || (pi != "" && cs.PaymentIntent != pi) || (cus != "" && cs.Customer != cus) ||
			(status != "" && cs.Status != status) {
			continue
		}
		list = append(list, cs)
	}
	created, e := createdFilter(c.p)
	if e != nil {
		return 0, nil, e
	}
	list = slices.DeleteFunc(list, func(cs *Session) bool { return !created(cs.Created) })
	slices.SortFunc(list, func(a, b *Session) int { return int(b.Seq - a.Seq) })
	out, e := page(c, "/v1/checkout/sessions", list, func(cs *Session) string { return cs.ID }, s.sessionJSON)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, out, nil
}

// createdFilter reads created=N or created[gt|gte|lt|lte]=N.
func createdFilter(p params) (func(int64) bool, *apiError) {
	if v, ok := p["created"].(string); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, invalid("created", "parameter_invalid_integer", "Invalid integer: %s", v)
		}
		return func(t int64) bool { return t == n }, nil
	}
	m, ok := p.sub("created")
	if !ok || m == nil {
		return func(int64) bool { return true }, nil
	}
	var tests []func(int64) bool
	for k, v := range m {
		sv, _ := v.(string)
		n, err := strconv.ParseInt(sv, 10, 64)
		if err != nil {
			return nil, invalid("created["+k+"]", "parameter_invalid_integer", "Invalid integer: %s", sv)
		}
		switch k {
		case "gt":
			tests = append(tests, func(t int64) bool { return t > n })
		case "gte":
			tests = append(tests, func(t int64) bool { return t >= n })
		case "lt":
			tests = append(tests, func(t int64) bool { return t < n })
		case "lte":
			tests = append(tests, func(t int64) bool { return t <= n })
		default:
			return nil, unknownParam("created[" + k + "]")
		}
	}
	return func(t int64) bool {
		for _, f := range tests {
			if !f(t) {
				return false
			}
		}
		return true
	}, nil
}

func (s *Server) expireSessionAPI(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	cs, e := s.sessionOf(c)
	if e != nil {
		return 0, nil, e
	}
	if cs.Status != "open" {
		return 0, nil, invalid("", "", "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"%s\".", cs.Status)
	}
	s.expireSessionLocked(cs, c.reqID, c.idemKey)
	c.dirty = true
	return http.StatusOK, s.sessionJSON(cs), nil
}

func (s *Server) getIntent(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("client_secret"); e != nil {
		return 0, nil, e
	}
	id := c.r.PathValue("id")
	pi := s.st.Intents[id]
	if pi == nil || pi.Account != c.acct.ID {
		return 0, nil, noSuch("payment_intent", id, "intent")
	}
	return http.StatusOK, s.intentJSON(pi), nil
}

func (s *Server) getCharge(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	id := c.r.PathValue("id")
	ch := s.st.Charges[id]
	if ch == nil || ch.Account != c.acct.ID {
		return 0, nil, noSuch("charge", id, "charge")
	}
	return http.StatusOK, s.chargeJSON(ch), nil
}

func (s *Server) createRefund(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("payment_intent", "charge", "amount", "reason", "metadata", "instructions_email"); e != nil {
		return 0, nil, e
	}
	piID, _ := c.p.str("payment_intent")
	chID, _ := c.p.str("charge")
	var ch *Charge
	switch {
	case piID == "" && chID == "":
		return 0, nil, invalid("", "parameter_missing", "One of the following params should be provided for this request: payment_intent or charge.")
	case piID != "" && chID != "":
		return 0, nil, badParam("charge", "You may only specify one of these parameters: charge, payment_intent.")
	case piID != "":
		pi := s.st.Intents[piID]
		if pi == nil || pi.Account != c.acct.ID {
			return 0, nil, noSuch("payment_intent", piID, "payment_intent")
		}
		if pi.Status != "succeeded" || pi.LatestCharge == "" {
			return 0, nil, invalid("payment_intent", "",
				"This PaymentIntent (%s) does not have a successful charge to refund.", piID)
		}
		ch = s.st.Charges[pi.LatestCharge]
	default:
		ch = s.st.Charges[chID]
		if ch == nil || ch.Account != c.acct.ID {
			return 0, nil, noSuch("charge", chID, "charge")
		}
	}
	left := ch.Amount - ch.AmountRefunded
	if left <= 0 {
		return 0, nil, invalid("charge", "charge_already_refunded", "Charge %s has already been refunded.", ch.ID)
	}
	amount := left
	if a, _ := c.p.str("amount"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 1 {
			return 0, nil, invalid("amount", "parameter_invalid_integer", "Invalid positive integer")
		}
		if n > left {
			return 0, nil, invalid("amount", "amount_too_large", "Refund amount (¥%d) is greater than unrefunded amount on charge (¥%d)", n, left)
		}
		amount = n
	}
	reason, _ := c.p.str("reason")
	switch reason {
	case "", "duplicate", "fraudulent", "requested_by_customer":
	default:
		return 0, nil, invalid("reason", "parameter_invalid_string", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
	}
	md, e := metadataParam(c.p, "metadata")
	if e != nil {
		return 0, nil, e
	}
	email, _ := c.p.str("instructions_email")
	if email != "" && !strings.Contains(email, "@") {
		return 0, nil, invalid("instructions_email", "email_invalid", "Invalid email address: %s", email)
	}
	r := &Refund{ID: newID("re"), Seq: s.nextSeqLocked(), Account: c.acct.ID, Created: c.now.Unix(), Amount: amount, Currency: ch.Currency,
		Charge: ch.ID, PaymentIntent: ch.PaymentIntent, Status: "pending", Reason: reason, Metadata: md}
	if ch.Method == "konbini" {
		// Cash cannot go back to the till: Stripe e-mails the customer for
		// a bank account, and the refund waits for it.
		if pi := s.st.Intents[ch.PaymentIntent]; email == "" && pi != nil && s.st.Sessions[pi.Session] != nil {
			email = s.st.Sessions[pi.Session].CustomerEmail
		}
		if email == "" {
			return 0, nil, missingParam("instructions_email")
		}
		r.Status, r.InstructionsEmail, r.EmailSentAt = "requires_action", email, c.now.Unix()
		r.InstructionsExpire = c.now.Add(refundInstructionsValid).Unix()
	}
	prevRefunded := ch.AmountRefunded
	s.st.Refunds[r.ID] = r
	ch.AmountRefunded += amount
	s.emitLocked(c.acct.ID, "charge.refunded", s.chargeJSON(ch), map[string]any{"amount_refunded": prevRefunded}, c.reqID, c.idemKey)
	s.emitLocked(c.acct.ID, "refund.created", s.refundJSON(r), nil, c.reqID, c.idemKey)
	c.dirty = true
	return http.StatusOK, s.refundJSON(r), nil
}

func (s *Server) getRefund(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams(); e != nil {
		return 0, nil, e
	}
	id := c.r.PathValue("id")
	r := s.st.Refunds[id]
	if r == nil || r.Account != c.acct.ID {
		return 0, nil, noSuch("refund", id, "refund")
	}
	return http.StatusOK, s.refundJSON(r), nil
}

func (s *Server) listRefunds(c *call) (int, map[string]any, *apiError) {
	if e := c.checkParams("limit", "starting_after", "ending_before", "payment_intent", "charge", "created"); e != nil {
		return 0, nil, e
	}
	pi, _ := c.p.str("payment_intent")
	ch, _ := c.p.str("charge")
	created, e := createdFilter(c.p)
	if e != nil {
		return 0, nil, e
	}
	var list []*Refund
	for _, r := range s.st.Refunds {
		if r.Account == c.acct.ID && (pi == "" || r.PaymentIntent == pi) && (ch == "" || r.Charge == ch) && created(r.Created) {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b *Refund) int { return int(b.Seq - a.Seq) })
	out, e := page(c, "/v1/refunds", list, func(r *Refund) string { return r.ID }, s.refundJSON)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, out, nil
}

func (s *Server) forRefundsOfLocked(charge string, f func(*Refund)) {
	var list []*Refund
	for _, r := range s.st.Refunds {
		if r.Charge == charge {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b *Refund) int { return int(b.Seq - a.Seq) })
	for _, r := range list {
		f(r)
	}
}
