// Package payment holds the pure rules of paid applications (DESIGN.md §8).
//
// WIP stub: only what 決済設定 needs, with the signatures of
// /work/notes/client-api.md; replaced by the i17-client branch.
package payment

import (
	"errors"
	"fmt"
	"strings"
)

// Method is how an application was paid.
type Method string

// The payment methods.
const (
	MethodCard         Method = "card"
	MethodKonbini      Method = "konbini"
	MethodBankTransfer Method = "bank_transfer"
	MethodManual       Method = "manual" // 手動 = marked by the organizer
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	switch m {
	case MethodCard, MethodKonbini, MethodBankTransfer, MethodManual:
		return true
	}
	return false
}

var online = []Method{MethodCard, MethodKonbini, MethodBankTransfer}

// ParseMethods reads methods stored as "card,konbini": online methods only,
// each once, in the canonical order.
func ParseMethods(s string) ([]Method, error) {
	seen := map[Method]bool{}
	for _, f := range strings.Split(s, ",") {
		m := Method(strings.TrimSpace(f))
		if m == "" {
			continue
		}
		if m == MethodManual || !m.Valid() {
			return nil, fmt.Errorf("payment: %q is not an online payment method", m)
		}
		seen[m] = true
	}
	var out []Method
	for _, m := range online {
		if seen[m] {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("payment: no payment method")
	}
	return out, nil
}

// FormatMethods is the stored form of methods.
func FormatMethods(ms []Method) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(m)
	}
	return strings.Join(parts, ",")
}
