// Package stripesim is a stateful stand-in for Stripe in Japan: the /v1
// subset kaisai uses (../shared/stripe/README.md), with Stripe's wire
// conventions, Japanese payment methods (card, konbini, bank transfer),
// webhooks signed and retried as Stripe does, a hosted Checkout page and
// a web UI in Japanese, fault injection, and a clock tests can move.
//
// It knows Stripe, not kaisai. cmd/kaisai links it (kaisai stripesim); no
// package under internal/ imports it outside tests.
//
// Running it:
//
//	srv, err := stripesim.New(stripesim.Options{Seed: stripesim.DefaultSeed()})
//	base, err := srv.Start(ctx, "127.0.0.1:0") // http://127.0.0.1:NNNN
//
// or `kaisai stripesim --addr 127.0.0.1:9091 [--state FILE] [--seed=false]`
// (the web UI is at /; the startup log shows the seeded account's keys).
// With a state file, the state is loaded at start and written after every
// change (a temporary file, then renamed). It holds the webhook
// deliveries too, with their attempts: a server started from it resumes
// those not done, sending at once the retries that fell due meanwhile.
//
// # The API
//
// Requests are application/x-www-form-urlencoded with bracketed keys
// (line_items[0][price_data][currency]=jpy, metadata[k]=v, expand[]=…),
// answers JSON in the shapes of spec3.json. The key comes as "Authorization:
// Bearer sk_test_…" (or HTTP Basic, the key as user name); a secret
// (sk_test_) or restricted (rk_test_) key of an account is accepted, any
// other answers 401. Stripe-Version is accepted and echoed; Request-Id is
// set. Errors are {"error": {"type", "code", "message", "param",
// "doc_url"}} with 400 (invalid_request_error; unknown parameters are
// refused), 401, 402, 404 (resource_missing), 429 (rate_limit) or 5xx
// (api_error, injected). A POST with an Idempotency-Key is answered once:
// the same key with the same parameters gets the first answer again
// (Idempotent-Replayed: true), with other parameters 400 idempotency_error;
// keys are kept 24 hours, per account.
//
//	GET    /v1/account
//	POST   /v1/checkout/sessions                mode=payment; line_items with price_data (jpy);
//	                                            payment_method_types card | konbini | customer_balance,
//	                                            payment_method_options[konbini][expires_after_days] (1–60, 3),
//	                                            payment_method_options[customer_balance][funding_type]=bank_transfer
//	                                            and [bank_transfer][type]=jp_bank_transfer; client_reference_id,
//	                                            customer, customer_email, success_url, cancel_url,
//	                                            expires_at (30 min – 24 h; default 24 h), metadata, locale,
//	                                            payment_intent_data[metadata|description]
//	GET    /v1/checkout/sessions                limit, starting_after, ending_before, payment_intent, customer,
//	                                            status, created
//	GET    /v1/checkout/sessions/{id}           expand[]=line_items, payment_intent, payment_intent.latest_charge
//	GET    /v1/checkout/sessions/{id}/line_items
//	POST   /v1/checkout/sessions/{id}/expire
//	GET    /v1/payment_intents/{id}             next_action: konbini_display_details (the voucher),
//	                                            display_bank_transfer_instructions (zengin account)
//	GET    /v1/charges/{id}
//	POST   /v1/refunds                          payment_intent or charge, amount, reason, metadata,
//	                                            instructions_email (konbini)
//	GET    /v1/refunds, /v1/refunds/{id}
//	POST   /v1/webhook_endpoints                url, enabled_events ("*" or event names: those of spec3.json,
//	                                            eventtypes_gen.go; another → 400 on enabled_events[N]),
//	                                            api_version, description, metadata → with its secret whsec_…
//	GET    /v1/webhook_endpoints, /v1/webhook_endpoints/{id}
//	DELETE /v1/webhook_endpoints/{id}
//	GET    /v1/events                           type (or prefix.*), types[], created, limit, starting_after,
//	                                            ending_before; 30 days kept
//	GET    /v1/events/{id}
//
// A Checkout Session is paid on its hosted page (GET /c/pay/{id}, ui.go)
// or through the control API. By card, 4242 4242 4242 4242 succeeds
// (checkout.session.completed, payment_status=paid), 4000 0000 0000 0002
// is declined (the session stays open for another try), 4000 0000 0000
// 3220 asks for a 3-D Secure step first. コンビニ issues a voucher
// expiring at 23:59:59 JST expires_after_days days later, and 銀行振込 a
// zengin account to transfer to: the session completes with
// payment_status=unpaid (checkout.session.completed), and the money
// arrives later (checkout.session.async_payment_succeeded) or the voucher
// lapses (checkout.session.async_payment_failed). An open session expires
// at expires_at (checkout.session.expired). A refund is created pending
// (charge.refunded, refund.created) and succeeds after
// Options.RefundSettleAfter (refund.updated), or is settled by the control
// API (refund.updated, and refund.failed).
//
// Konbini refunds: cash cannot go back through the store, so Stripe
// e-mails the customer (at instructions_email, or the e-mail given when
// paying) for a bank account and refunds there. Such a refund is created
// in requires_action with next_action {"type": "display_details",
// "display_details": {"email_sent": {"email_sent_at", "email_sent_to"},
// "expires_at"}} (charge.refunded and refund.created, amount_refunded
// counts it at once), and time does not settle it: the control API or
// the UI completes it, the customer having given an account
// (→ succeeded, refund.updated), or fails it (→ failed, refund.updated
// and refund.failed, amount_refunded goes back down). expires_at is 45
// days on, the time Stripe documents for bank transfer refunds, which ask
// the same; the simulator shows it but does not act on it, and does not
// offer POST /v1/refunds/{id}/cancel.
//
// Pages for people (ui.go), in Japanese, each under the banner saying
// this is a simulator:
//
//	GET  /                    accounts and keys, sessions, payment intents (vouchers and transfers to pay
//	                          or let lapse), refunds to settle, webhook endpoints, deliveries with their
//	                          attempts, the clock; its forms POST to /_ui/… and come back with ?msg=
//	GET  /c/pay/{session}     the hosted Checkout page (the session's url): カード, コンビニ, 銀行振込;
//	                          paid by card, it redirects (303) to success_url with {CHECKOUT_SESSION_ID}
//	                          filled; a declined card answers 402 with the page and its message
//	GET  /c/3ds/{session}     the 3-D Secure step (認証する / 認証に失敗する)
//	GET  /c/voucher/{intent}  the konbini voucher (hosted_voucher_url)
//	GET  /c/transfer/{intent} the bank transfer details (hosted_instructions_url)
//
// # Time
//
// The clock is Options.Now plus what Advance added. Expiries and refunds
// fall due on every API call, on Tick, on Advance, and every
// Options.TickEvery while started. Objects and events are created on it.
// Webhook deliveries are not: as at Stripe, each attempt is signed with
// the real time it is made (Options.WallClock, time.Now), and retries
// wait real time, so a receiver checking the signature's 5-minute
// tolerance against its own clock accepts them after Advance too.
//
// # Webhooks
//
// Every event is recorded (GET /v1/events) with the object as it was at
// that moment, and POSTed to every enabled endpoint of the account whose
// enabled_events hold it or "*", with Stripe-Signature:
// t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint secret>
// (t is the real time of the attempt, see Time). A delivery that gets no 2xx is
// retried 1 and 5 minutes, 30 minutes, 2, 5 and then every 10 hours after
// each failure, about three days in all (Options.Webhooks.TimeScale
// shortens that). Deliveries and WaitDeliveries show the attempts.
//
// # Tests
//
// conformance_test.go checks every request the tests send and every
// answer and event body against ../shared/stripe/spec3.json;
// stripego_test.go drives the simulator with stripe-go v85 unchanged and
// verifies deliveries with webhook.ConstructEventWithOptions;
// stripemock_test.go sends the same calls to Stripe's stripe-mock when it
// is installed.
//
// # The control API
//
// The exported methods of *Server: AddAccount, SetClock, Advance, Tick,
// PayCard, ConfirmThreeDSecure, PayKonbini, PayBankTransfer, PayVoucher,
// LapseVoucher, SettleRefund, SetFaults, ClearFaults, Faults, Deliveries,
// WaitDeliveries, Events, State, Reset, Close. The same over HTTP, JSON in
// and out (control.go; no part of Stripe, no key). Bad input answers 400
// {"error": "…"}, an unknown object 404, a state that does not allow it 409:
//
//	GET    /_sim/state                            {"now", "accounts" (with keys), "checkout_sessions",
//	                                              "payment_intents", "charges", "refunds",
//	                                              "webhook_endpoints" (with secrets), "events",
//	                                              "webhook_deliveries"}
//	GET    /_sim/clock                            {"now"}
//	POST   /_sim/clock                            {"advance": "25h"}: the clock moves on, what falls due
//	                                              happens → {"now"}
//	POST   /_sim/accounts                         an Account {"id", "display_name", "email", "country",
//	                                              "secret_key", "restricted_key"}, all optional → 201
//	POST   /_sim/checkout/sessions/{id}/pay       {"method": "card" | "konbini" | "customer_balance",
//	                                              "card": "4242424242424242", "email"} → {"outcome":
//	                                              "succeeded" | "declined" | "requires_action" | "voucher" |
//	                                              "transfer", "payment_intent"}
//	POST   /_sim/checkout/sessions/{id}/three_d_secure  {"ok": true | false} → 204
//	POST   /_sim/payment_intents/{id}/pay         {"store": "familymart" | "lawson" | "ministop" |
//	                                              "seicomart"}: the voucher is paid, or the transfer
//	                                              arrives → 204
//	POST   /_sim/payment_intents/{id}/lapse       the voucher or transfer lapses unpaid → 204
//	POST   /_sim/refunds/{id}/succeed             a pending refund succeeds, or the customer of a konbini
//	                                              refund (requires_action) gives an account and it succeeds → 204
//	POST   /_sim/refunds/{id}/fail                {"failure_reason": "declined"}, pending or requires_action → 204
//	GET    /_sim/faults                           the faults in force
//	POST   /_sim/faults                           {"seed", "faults": [{"kind": "status" | "rate_limit" |
//	                                              "latency" | "timeout" | "lost_answer" | "drop_webhook" |
//	                                              "duplicate_webhook" | "reorder_webhook", "op", "rate",
//	                                              "count", "status" (5xx; 429 = rate_limit), "delay": "2s"}]}
//	                                              replaces them → 204. "op" is an operationId of spec3.json
//	                                              (PostCheckoutSessions, PostRefunds, …), a route
//	                                              ("POST /v1/refunds") or, for webhooks, an event type; no
//	                                              "rate" with a "count": the next count calls
//	DELETE /_sim/faults                           clears them → 204
//	GET    /_sim/webhooks[?event=…]               deliveries, oldest first, with "body" as JSON and
//	                                              "attempts" (each with its "signature")
//	POST   /_sim/reset                            back to the seed → 204
package stripesim
