package payment

import (
	"strings"
	"testing"

	"kaisai/internal/event"
)

func TestCheckBillingProfile(t *testing.T) {
	for _, tc := range []struct {
		name, address, reg string
		individual         bool
		field, key         string // "" valid
	}{
		{"開催テスト株式会社", "", "", false, "", ""},
		{"開催テスト株式会社", "東京都千代田区1-1\n3階", "T7000012050002", false, "", ""},
		{"", "", "", false, "billing_name", "validation.required"},
		{strings.Repeat("名", MaxIssuerNameLen+1), "", "", false, "billing_name", "validation.too_long"},
		{"名前\t", "", "", false, "billing_name", "validation.bad_text"},
		{"開催", strings.Repeat("住", MaxIssuerAddressLen+1), "", false, "billing_address", "validation.too_long"},
		{"開催", "住所\u202e", "", false, "billing_address", "validation.bad_text"},
		{"開催", "", "T7000012050003", false, "registration_number", "billing.registration_check_digit"},
		{"山田太郎", "", "T7000012050003", true, "", ""},
		{"開催", "", "T70000120500", true, "registration_number", "billing.registration_format"},
		{"開催", "", "7000012050002", false, "registration_number", "billing.registration_format"},
	} {
		err := CheckBillingProfile(tc.name, tc.address, tc.reg, tc.individual)
		fe, _ := err.(event.FieldErrors)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%q %q %q: %v", tc.name, tc.address, tc.reg, err)
			}
			continue
		}
		if f, ok := fe.For(tc.field); !ok || f.Key != tc.key {
			t.Errorf("%q %q %q: %v, want %s on %s", tc.name, tc.address, tc.reg, err, tc.key, tc.field)
		}
	}
}
