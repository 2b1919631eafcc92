package payment

import (
	"strings"
	"testing"

	"kaisai/internal/event"
)

func TestReceiptPurpose(t *testing.T) {
	for _, tc := range []struct{ stored, want string }{
		{"", DefaultReceiptPurpose},
		{"   ", DefaultReceiptPurpose},
		{"講座受講料として", "講座受講料として"},
	} {
		if got := ReceiptPurpose(&event.Event{ReceiptPurpose: tc.stored}); got != tc.want {
			t.Errorf("ReceiptPurpose(%q) = %q, want %q", tc.stored, got, tc.want)
		}
	}
}

func TestValidateReceiptPurpose(t *testing.T) {
	for _, tc := range []struct {
		in  string
		key string // "" valid
	}{
		{"", ""},
		{"セミナー参加費として", ""},
		{strings.Repeat("あ", MaxReceiptPurposeLen), ""},
		{strings.Repeat("あ", MaxReceiptPurposeLen+1), "validation.too_long"},
		{"参加費\nとして", "validation.bad_text"},
		{"参加費\u202eとして", "validation.bad_text"},
	} {
		err := ValidateReceiptPurpose(tc.in)
		fe, _ := err.(event.FieldErrors)
		got := ""
		if f, ok := fe.For("receipt_purpose"); ok {
			got = f.Key
		}
		if got != tc.key || (err != nil) != (tc.key != "") {
			t.Errorf("ValidateReceiptPurpose(%q) = %v, want %q", tc.in, err, tc.key)
		}
	}
}
