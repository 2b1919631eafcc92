package payment

import (
	"errors"
	"strings"
	"testing"

	"kaisai/internal/event"
)

func TestAddressee(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		tooLong  bool
	}{
		{"", DefaultAddressee, false},
		{"   　", DefaultAddressee, false},
		{"様", DefaultAddressee, false},
		{"上様", "上様", false},
		{" 上様 ", "上様", false},
		{"山田 太郎", "山田 太郎", false},
		{"　山田 太郎 様 ", "山田 太郎", false},
		{"株式会社かいさい", "株式会社かいさい", false},
		{strings.Repeat("あ", MaxAddresseeLen), strings.Repeat("あ", MaxAddresseeLen), false},
		{strings.Repeat("あ", MaxAddresseeLen+1), "", true},
	} {
		got, err := Addressee(tc.in)
		var fe event.FieldErrors
		if tc.tooLong {
			if !errors.As(err, &fe) || fe[0].Field != "addressee" || fe[0].Key != "validation.too_long" {
				t.Errorf("Addressee(%q) = %q, %v; want a too_long error on addressee", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Addressee(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
