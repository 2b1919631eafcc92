package payment

import (
	"errors"
	"testing"

	"kaisai/internal/event"
)

func TestTaxIncluded(t *testing.T) {
	for _, tc := range []struct{ amount, want int64 }{
		{1100, 100},
		{3000, 272}, // 272.72… rounded down
		{5500, 500},
		{9999, 909}, // 909.0…
		{1, 0},
		{0, 0},
		{10_000_000, 909_090},
	} {
		if got := TaxIncluded(tc.amount, TaxRate); got != tc.want {
			t.Errorf("TaxIncluded(%d) = %d, want %d", tc.amount, got, tc.want)
		}
	}
}

// 法人番号 in their real form, as T-numbers: the National Tax Agency's own
// (7000012050002) and others whose check digit is right, and the same
// with one digit changed.
func TestCheckRegistration(t *testing.T) {
	for _, tc := range []struct {
		in         string
		individual bool
		key        string // "" valid
	}{
		{"", false, ""},
		{"T7000012050002", false, ""}, // 国税庁
		{"T1180301018771", false, ""},
		{"T4010401022860", false, ""},
		{"T5010001008813", false, ""},
		{"T8010001066565", false, "billing.registration_check_digit"},
		{"T7000012050003", false, "billing.registration_check_digit"},
		{"T8010001066565", true, ""}, // an individual's: form only
		{"7000012050002", false, "billing.registration_format"},
		{"T700001205000", false, "billing.registration_format"},
		{"T70000120500021", false, "billing.registration_format"},
		{"T70000120500a2", true, "billing.registration_format"},
	} {
		err := CheckRegistration(tc.in, tc.individual)
		var fe event.FieldErrors
		switch {
		case tc.key == "" && err != nil:
			t.Errorf("CheckRegistration(%q, %v): %v", tc.in, tc.individual, err)
		case tc.key != "":
			if !errors.As(err, &fe) {
				t.Errorf("CheckRegistration(%q, %v) = %v, want %s", tc.in, tc.individual, err, tc.key)
			} else if f, _ := fe.For("registration_number"); f.Key != tc.key {
				t.Errorf("CheckRegistration(%q, %v) = %v, want %s", tc.in, tc.individual, err, tc.key)
			}
		}
	}
	for in, want := range map[string]string{
		"T7000012050002": "T7000012050002",
		"ｔ７０００－０１２０５－０００２":    "T7000012050002",
		" t 7000-0120-50002 ": "T7000012050002",
	} {
		if got := NormalizeRegistration(in); got != want {
			t.Errorf("NormalizeRegistration(%q) = %q, want %q", in, got, want)
		}
	}
}
