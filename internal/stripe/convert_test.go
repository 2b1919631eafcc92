package stripe

import (
	"slices"
	"testing"

	stripego "github.com/stripe/stripe-go/v85"
)

// TestVoucherStores: a store Stripe gives only a payment code for is
// still listed; one it leaves out is not.
func TestVoucherStores(t *testing.T) {
	v := voucherOf(&stripego.PaymentIntentNextActionKonbiniDisplayDetails{
		ExpiresAt: 1796313599, HostedVoucherURL: "https://payments.stripe.com/konbini/voucher/x",
		Stores: &stripego.PaymentIntentNextActionKonbiniDisplayDetailsStores{
			FamilyMart: &stripego.PaymentIntentNextActionKonbiniDisplayDetailsStoresFamilyMart{PaymentCode: "123456789012"},
			Lawson:     &stripego.PaymentIntentNextActionKonbiniDisplayDetailsStoresLawson{ConfirmationNumber: "0120-555", PaymentCode: "L1"},
			Seicomart:  &stripego.PaymentIntentNextActionKonbiniDisplayDetailsStoresSeicomart{ConfirmationNumber: "0120-777", PaymentCode: "S1"},
		},
	})
	if v.Number != "0120-555" || !slices.Equal(v.Stores, []string{"familymart", "lawson", "seicomart"}) || v.ExpiresAt.Unix() != 1796313599 {
		t.Errorf("voucher %+v", v)
	}
	for typ, want := range map[string]string{"card": "card", "konbini": "konbini", "customer_balance": "bank_transfer", "paypay": "", "": ""} {
		if got := methodOf(typ); string(got) != want {
			t.Errorf("methodOf(%q) = %q", typ, got)
		}
	}
}
