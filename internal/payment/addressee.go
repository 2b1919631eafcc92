package payment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"kaisai/internal/event"
)

// DefaultAddressee is the 宛名 of a receipt issued without a name: 上様,
// the customary one.
const DefaultAddressee = "上様"

// MaxAddresseeLen bounds a 宛名, in characters.
const MaxAddresseeLen = 60

// Addressee reads the 宛名 a participant typed for a receipt: spaces
// around it are dropped, and so is a trailing 様 (the receipt prints one) but
// for 上様 itself;
// nothing left gives DefaultAddressee. Too long a name is refused, naming
// the form's field (addressee).
func Addressee(s string) (string, error) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	if s != DefaultAddressee {
		s = strings.TrimFunc(strings.TrimSuffix(s, "様"), unicode.IsSpace)
	}
	if s == "" {
		return DefaultAddressee, nil
	}
	if utf8.RuneCountInString(s) > MaxAddresseeLen {
		var fe event.FieldErrors
		fe.Add("addressee", "validation.too_long", MaxAddresseeLen)
		return "", fe.Err()
	}
	return s, nil
}
