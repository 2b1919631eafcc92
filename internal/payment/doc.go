// Package payment holds the rules of paying for an application as pure
// functions (DESIGN.md §8): which payment methods exist and how they are
// stored, the payment deadline (支払期限), whether a completed payment
// matches what was asked, when a new Checkout Session should expire and
// for how many days a konbini voucher may run. Nothing here does I/O or
// knows Stripe's wire format; the store asks these functions and writes
// the outcome, the Stripe client (internal/stripe) carries it out.
//
// Days are Japanese days: a deadline and a konbini voucher both end at
// 23:59:59 JST (Stripe's vouchers lapse then), so a voucher issued for
// KonbiniDays days never outlives the deadline it was issued under.
package payment
