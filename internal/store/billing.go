package store

import (
	"context"
)

// BillingProfile is an organization's 請求情報: the issuer printed on its
// 領収書 (DESIGN.md §8). Registration is the 適格請求書発行事業者登録番号,
// normalized ("T" and 13 digits; "" when not registered); Individual says
// it is a sole proprietor's (個人事業者), which has no check digit. The
// caller checks it (payment.CheckRegistration) before storing it.
type BillingProfile struct {
	Name         string // 発行者名
	Address      string // 住所; may be empty
	Registration string // 登録番号
	Individual   bool
}

// BillingProfile returns the organization's billing profile (all empty
// when never set).
func (s *Store) BillingProfile(ctx context.Context, orgID int64) (_ BillingProfile, err error) {
	defer wrap(&err, "store.BillingProfile(org %d)", orgID)
	var b BillingProfile
	err = s.reader().QueryRowContext(ctx, `SELECT billing_name, billing_address, billing_registration, billing_individual
		FROM organizations WHERE id = $1`, orgID).Scan(&b.Name, &b.Address, &b.Registration, &b.Individual)
	return b, notFound(err)
}

// SetBillingProfile stores the organization's billing profile. Receipts
// issued before keep the issuer they were issued with.
func (s *Store) SetBillingProfile(ctx context.Context, orgID int64, b BillingProfile) (err error) {
	defer wrap(&err, "store.SetBillingProfile(org %d)", orgID)
	if b.Registration == "" {
		b.Individual = false // no number, nothing to say of its kind
	}
	r, err := s.exec(ctx, `UPDATE organizations SET billing_name = $1, billing_address = $2,
		billing_registration = $3, billing_individual = $4 WHERE id = $5`,
		b.Name, b.Address, b.Registration, b.Individual, orgID)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errNotFound
	}
	return nil
}
