package payment

// Stand-in for i17-client's method.go/amount.go until it lands (dropped at merge).

import (
	"errors"
	"time"
)

type Method string

const (
	MethodCard         Method = "card"
	MethodKonbini      Method = "konbini"
	MethodBankTransfer Method = "bank_transfer"
	MethodManual       Method = "manual"
)

var (
	ErrAmountMismatch   = errors.New("payment: amount differs from the price")
	ErrCurrencyMismatch = errors.New("payment: currency is not JPY")
)

func CheckAmount(asked, got int64, currency string) error {
	if currency != "jpy" {
		return ErrCurrencyMismatch
	}
	if asked != got {
		return ErrAmountMismatch
	}
	return nil
}

func Deadline(appliedAt time.Time, days int, startsAt time.Time) time.Time {
	d := appliedAt.AddDate(0, 0, days)
	if d.After(startsAt) {
		return startsAt
	}
	return d
}
