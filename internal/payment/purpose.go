package payment

import (
	"strings"
	"unicode/utf8"

	"kaisai/internal/event"
)

// DefaultReceiptPurpose is the 但し書き of a 領収書 whose event names none.
// It is printed on a Japanese document, so it is Japanese whatever the
// reader's language.
const DefaultReceiptPurpose = "セミナー参加費として"

// MaxReceiptPurposeLen bounds the 但し書き (characters): one line of a receipt.
const MaxReceiptPurposeLen = 60

// ReceiptPurpose is the 但し書き printed on the event's 領収書: the
// organizer's wording, or DefaultReceiptPurpose.
func ReceiptPurpose(e *event.Event) string {
	if p := strings.TrimSpace(e.ReceiptPurpose); p != "" {
		return p
	}
	return DefaultReceiptPurpose
}

// ValidateReceiptPurpose checks the 但し書き as the organizer entered it
// (trimmed; "" is the default); the error names the form's field
// (receipt_purpose).
func ValidateReceiptPurpose(s string) error {
	var fe event.FieldErrors
	switch {
	case event.CheckText(s, false) != nil:
		fe.Add("receipt_purpose", "validation.bad_text")
	case utf8.RuneCountInString(s) > MaxReceiptPurposeLen:
		fe.Add("receipt_purpose", "validation.too_long", MaxReceiptPurposeLen)
	}
	return fe.Err()
}
