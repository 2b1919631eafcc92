package web

import (
	"net/http"
	"net/url"
	"strings"

	"kaisai/internal/payment"
	"kaisai/internal/store"
)

// 請求情報 (DESIGN.md §8): the issuer printed on the organization's 領収書 —
// 発行者名, 住所 and the インボイス 登録番号, a corporation's (法人, its check
// digit verified) or a sole proprietor's (個人事業者, which has none: only
// its form is checked, and only once that is chosen).

const billingPath = "/settings/billing"

// Registrant kinds of the form's choice.
const (
	registrantCorporate  = "corporate"
	registrantIndividual = "individual"
)

func billingValues(b store.BillingProfile) url.Values {
	v := url.Values{"billing_name": {b.Name}, "billing_address": {b.Address},
		"registration_number": {b.Registration}, "registrant": {registrantCorporate}}
	if b.Individual {
		v.Set("registrant", registrantIndividual)
	}
	return v
}

func (s *Server) billing(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	b, err := s.store.BillingProfile(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, ok := s.billingPage(w, r)
	if !ok {
		return
	}
	p.Form = billingValues(b)
	s.render(w, r, http.StatusOK, "billing", p)
}

// billingPage is the page, with the organization's name offered as the
// 発行者名's placeholder.
func (s *Server) billingPage(w http.ResponseWriter, r *http.Request) (*page, bool) {
	m, _ := memberFrom(r.Context())
	org, err := s.store.Organization(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return s.newPage(r, map[string]any{"OrgName": org.Name}), true
}

func (s *Server) billingSave(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	m, _ := memberFrom(r.Context())
	f := r.PostForm
	// Only an explicit 個人事業者 skips the check digit.
	b := store.BillingProfile{Name: strings.TrimSpace(f.Get("billing_name")),
		Address:      payment.NormalizeBillingAddress(f.Get("billing_address")),
		Registration: payment.NormalizeRegistration(f.Get("registration_number")),
		Individual:   f.Get("registrant") == registrantIndividual}
	p, ok := s.billingPage(w, r)
	if !ok {
		return
	}
	p.Form = billingValues(b)
	err := payment.CheckBillingProfile(b.Name, b.Address, b.Registration, b.Individual)
	if err == nil {
		err = s.store.SetBillingProfile(r.Context(), m.OrgID, b)
	}
	if s.formFailed(w, r, err, p, "billing") {
		return
	}
	redirect(w, r, billingPath, "flash.saved")
}
