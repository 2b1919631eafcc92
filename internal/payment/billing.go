package payment

import (
	"strings"
	"unicode/utf8"

	"kaisai/internal/event"
)

// Bounds of the billing profile (請求情報) printed on receipts.
const (
	MaxIssuerNameLen    = 100
	MaxIssuerAddressLen = 500
)

// CheckBillingProfile checks the issuer of an organization's 領収書 as
// the organizer entered it (trimmed, registration normalized with
// NormalizeRegistration): a name, an optional address of a few lines, and
// an optional 登録番号 checked as a corporation's or, when individual, as a
// sole proprietor's (CheckRegistration). Errors name the form's fields
// (billing_name, billing_address, registration_number).
func CheckBillingProfile(name, address, registration string, individual bool) error {
	var fe event.FieldErrors
	switch {
	case event.CheckText(name, false) != nil:
		fe.Add("billing_name", "validation.bad_text")
	case name == "":
		fe.Add("billing_name", "validation.required")
	case utf8.RuneCountInString(name) > MaxIssuerNameLen:
		fe.Add("billing_name", "validation.too_long", MaxIssuerNameLen)
	}
	switch {
	case event.CheckText(address, true) != nil:
		fe.Add("billing_address", "validation.bad_text")
	case utf8.RuneCountInString(address) > MaxIssuerAddressLen:
		fe.Add("billing_address", "validation.too_long", MaxIssuerAddressLen)
	}
	if err := CheckRegistration(registration, individual); err != nil {
		fe = append(fe, err.(event.FieldErrors)...)
	}
	return fe.Err()
}

// NormalizeBillingAddress trims an address and makes its line ends LF.
func NormalizeBillingAddress(s string) string {
	return strings.TrimSpace(event.NormalizeNewlines(s))
}
