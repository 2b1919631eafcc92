package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
)

// What the organizer sees of the money (DESIGN.md §8): in 申込者一覧, how
// each paid application was paid, its 支払期限 and the voucher or
// transfer awaited; on the event page the totals and the payments that
// need a person (要対応), settled by 参加に戻す or 対応済みにする.

// moneyView is the 入金状況 cell of an application of a paid event.
type moneyView struct {
	Via      string    // catalog key of how it was paid ("" while unpaid)
	Due      time.Time // 支払期限 while unpaid; zero when none
	Awaiting string    // catalog key of the method awaited (コンビニ, 銀行振込); "" when none
	Expires  time.Time // the voucher's expiry, when known
	Paid     store.Payment
}

// moneyViews are the 入金状況 cells of rows (all of the event when rows is
// nil), keyed by application id.
func (s *Server) moneyViews(ctx context.Context, e *event.Event, rows []store.ApplicationRow, all bool) (map[int64]moneyView, error) {
	out := map[int64]moneyView{}
	if !e.Paid() {
		return out, nil
	}
	var ids []int64
	if !all {
		ids = make([]int64, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
	}
	money, err := s.store.ApplicationsMoney(ctx, e.OrgID, e.ID, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		var v moneyView
		m := money[r.ID]
		switch {
		case r.Payment == event.PaymentPaid:
			if r.PaidVia != "" {
				v.Via = "payment.method." + r.PaidVia
			}
			v.Paid = m.Paid
		case r.Payment == event.PaymentUnpaid && r.Status == event.Applied:
			v.Due = r.PaymentDueAt
			if p := m.Pending; p.ID != 0 {
				v.Awaiting = "applications.awaiting"
				if p.Method != "" {
					v.Awaiting = "payment.method." + string(p.Method)
				}
				if p.Method == payment.MethodKonbini {
					var vo stripe.Voucher
					if json.Unmarshal([]byte(p.Instructions), &vo) == nil {
						v.Expires = vo.ExpiresAt
					}
				}
			}
		}
		out[r.ID] = v
	}
	return out, nil
}

// eventMoney adds to the event page its totals and 要対応, for a paid event.
func (s *Server) eventMoney(ctx context.Context, e *event.Event, data map[string]any) error {
	if !e.Paid() {
		return nil
	}
	t, err := s.store.PaymentTotals(ctx, e.OrgID, e.ID)
	if err != nil {
		return err
	}
	problems, err := s.store.PaymentProblems(ctx, e.OrgID, e.ID)
	if err != nil {
		return err
	}
	data["Money"], data["Problems"] = &t, problems
	return nil
}

// paymentBack is where settling a payment returns: the event page, or
// the applicant's page or list (as back allows).
func paymentBack(r *http.Request, e *event.Event) string {
	if b := r.PostForm.Get("back"); b == fmt.Sprintf("/events/%d", e.ID) {
		return b
	}
	return back(r, e)
}

// paymentAction settles the payment of the path, then returns.
func (s *Server) paymentAction(w http.ResponseWriter, r *http.Request, flash string,
	act func(e *event.Event, paymentID, memberID int64) error) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	id, ok := pathID(r, "paymentID")
	if !ok {
		s.notFound(w, r)
		return
	}
	m, _ := memberFrom(r.Context())
	if err := act(&e, id, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, paymentBack(r, &e), flash)
}

// paymentReinstate is 「参加に戻す」 for a payment after the cancellation.
func (s *Server) paymentReinstate(w http.ResponseWriter, r *http.Request) {
	s.paymentAction(w, r, "flash.payment_reinstated", func(e *event.Event, id, memberID int64) error {
		_, err := s.store.ReinstatePayment(r.Context(), e.OrgID, e.ID, id, memberID)
		return err
	})
}

// paymentResolve is 「対応済みにする」: settled outside kaisai.
func (s *Server) paymentResolve(w http.ResponseWriter, r *http.Request) {
	s.paymentAction(w, r, "flash.payment_resolved", func(e *event.Event, id, memberID int64) error {
		return s.store.ResolvePayment(r.Context(), e.OrgID, e.ID, id, memberID)
	})
}
