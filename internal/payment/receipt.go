package payment

import (
	"strings"
	"unicode"

	"kaisai/internal/event"
)

// TaxRate is the consumption tax rate (標準税率, percent) of a seminar's
// fee; kaisai's prices include it.
const TaxRate = 10

// TaxIncluded is the consumption tax included in amount yen at rate
// percent, rounded down: computed once per receipt, as the インボイス制度
// requires (never per line and summed).
func TaxIncluded(amount int64, rate int) int64 {
	if amount <= 0 || rate <= 0 {
		return 0
	}
	return amount * int64(rate) / int64(100+rate)
}

// NormalizeRegistration reads a 登録番号 as people type it: full-width
// digits and letters, a lower-case t, spaces and hyphens are accepted.
func NormalizeRegistration(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		case r == 'ｔ' || r == 'Ｔ' || r == 't':
			r = 'T'
		case unicode.IsSpace(r) || r == '-' || r == 'ー' || r == '－' || r == '‐':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckRegistration checks a 適格請求書発行事業者登録番号, normalized: "T" and
// 13 digits. A corporation's number is its 法人番号, whose first digit is a
// check digit over the other twelve; a sole proprietor's (individual) has
// none, and is checked by its form only. "" (not registered) is valid.
// The error names the form's field (registration_number).
func CheckRegistration(s string, individual bool) error {
	if s == "" {
		return nil
	}
	var fe event.FieldErrors
	digits, ok := strings.CutPrefix(s, "T")
	if !ok || len(digits) != 13 || strings.Trim(digits, "0123456789") != "" {
		fe.Add("registration_number", "billing.registration_format")
		return fe.Err()
	}
	if !individual && CorporateCheckDigit(digits[1:]) != int(digits[0]-'0') {
		fe.Add("registration_number", "billing.registration_check_digit")
		return fe.Err()
	}
	return nil
}

// CorporateCheckDigit is the check digit of a 法人番号 whose other twelve
// digits are d12: 9 − (Σ Pn×Qn mod 9), Pn the n-th digit from the right
// and Qn 1 where n is odd, 2 where it is even.
func CorporateCheckDigit(d12 string) int {
	sum := 0
	for n := 1; n <= 12; n++ {
		p := int(d12[12-n] - '0')
		q := 1
		if n%2 == 0 {
			q = 2
		}
		sum += p * q
	}
	return 9 - sum%9
}
