package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/auth"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/i18n"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripesim"
	"kaisai/internal/testdb"
)

// Refunds end to end (DESIGN.md §8): kaisai's web forms, payflow asking the
// Stripe simulator over HTTP, its webhooks applied by the job, the sweep.

// manualRefunds: the simulator's refunds wait for its control API.
func manualRefunds(o *stripesim.Options) { o.RefundSettleAfter = -1 }

// orgBrowser is the organizer of a payScene, logged in.
type orgBrowser struct {
	hc   *http.Client
	base string
}

func (p *payScene) organizer(t *testing.T) orgBrowser {
	t.Helper()
	ctx := context.Background()
	var memberID int64
	if err := p.app.Store.WriteDB().QueryRowContext(ctx, `SELECT id FROM members WHERE org_id = $1`, p.org.ID).Scan(&memberID); err != nil {
		t.Fatal(err)
	}
	secret, hash := auth.NewSessionSecret()
	if err := p.app.Store.CreateSession(ctx, hash, memberID, time.Hour); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(p.app.URL())
	jar.SetCookies(u, []*http.Cookie{{Name: "kaisai_session", Value: secret, Path: "/"}})
	return orgBrowser{base: p.app.URL(), hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (o orgBrowser) post(t *testing.T, path string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := o.hc.PostForm(o.base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (o orgBrowser) page(t *testing.T, path string) string {
	t.Helper()
	resp, err := o.hc.Get(o.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// paidByCard applies and pays ¥3,000 by card; the application is 入金済.
func (p *payScene) paidByCard(t *testing.T, email string) event.Application {
	t.Helper()
	loc, a := p.applyOnline(t, email)
	cs := sessionOf(t, loc)
	if err := p.ssim.PayCard(cs, "4242424242424242", email); err != nil {
		t.Fatal(err)
	}
	get(t, p.app.URL()+"/a/"+a.Token+"/paid?session_id="+cs)
	if got := p.application(t, a.ID); got.Payment != event.PaymentPaid {
		t.Fatalf("%s not paid: %+v", email, got)
	}
	return p.application(t, a.ID)
}

func (p *payScene) cancelPath(a event.Application) string {
	return fmt.Sprintf("/events/%d/applications/%d/cancel", p.ze.event.ID, a.ID)
}

func (p *payScene) refunds(t *testing.T, id int64) []store.Refund {
	t.Helper()
	rs, err := p.app.Store.ApplicationRefunds(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// waitRefund waits until the application's refunds are want (statuses,
// oldest first), and returns them.
func (p *payScene) waitRefund(t *testing.T, id int64, want ...payment.RefundStatus) []store.Refund {
	t.Helper()
	return eventually.Value(t, fmt.Sprintf("refunds of %d %v", id, want), func() ([]store.Refund, bool) {
		rs := p.refunds(t, id)
		if len(rs) != len(want) {
			return rs, false
		}
		for i := range rs {
			if rs[i].Status != want[i] {
				return rs, false
			}
		}
		return rs, true
	})
}

// simRefunds are the simulator's refunds of payment intent pi.
func (p *payScene) simRefunds(pi string) []map[string]any {
	var out []map[string]any
	for _, r := range p.ssim.State().Refunds {
		if r["payment_intent"] == pi {
			out = append(out, r)
		}
	}
	return out
}

func (p *payScene) history(t *testing.T, id int64, action string) []store.ActivityEntry {
	t.Helper()
	hist, err := p.app.Store.Activity(context.Background(), p.org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.ActivityEntry
	for _, h := range hist {
		if h.Action == action {
			out = append(out, h)
		}
	}
	return out
}

// refundMails are the 返金のお知らせ mails of the application.
func (p *payScene) refundMails(t *testing.T, id int64) []store.MailRow {
	t.Helper()
	mails, err := p.app.Store.Mails(context.Background(), p.org.ID, 200, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.MailRow
	for _, m := range mails {
		if m.ApplicationID == id && m.Kind == event.MailRefunded {
			out = append(out, m)
		}
	}
	return out
}

// TestOrganizerCancelRefunds: 全額返金, 一部返金 and 返金なし from the
// organizer's cancel form; each refund is asked of Stripe once with its
// amount, shown 返金処理中, and once Stripe settles it (refund.updated)
// 返金済 with its history line and one 返金のお知らせ mail with the amount.
func TestOrganizerCancelRefunds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		p := startPaySceneWith(t, db, 10, false, []func(*app.Config){fastMail(srv)}, manualRefunds)
		org := p.organizer(t)
		full := p.paidByCard(t, "full@example.com")
		part := p.paidByCard(t, "part@example.com")
		none := p.paidByCard(t, "none@example.com")

		form := org.page(t, p.cancelPath(full))
		for _, want := range []string{"全額返金", "一部返金", "返金なし", "3,000円"} {
			if !strings.Contains(form, want) {
				t.Errorf("the cancel form does not say %q", want)
			}
		}
		for _, c := range []struct {
			a    event.Application
			form url.Values
			want int64
		}{
			{full, url.Values{"refund": {"full"}}, 3000},
			{part, url.Values{"refund": {"partial"}, "refund_amount": {"1,000"}}, 1000},
			{none, url.Values{"refund": {"none"}}, 0},
		} {
			status, _, body := org.post(t, p.cancelPath(c.a), c.form)
			if status != http.StatusSeeOther {
				t.Fatalf("cancel %s: %d %s", c.a.Email, status, body)
			}
			if got := p.application(t, c.a.ID); got.Status != event.Cancelled {
				t.Errorf("%s: %s after the cancel", c.a.Email, got.Status)
			}
			if c.want == 0 {
				if rs := p.refunds(t, c.a.ID); len(rs) != 0 {
					t.Errorf("返金なし wrote refunds %+v", rs)
				}
				continue
			}
			rs := p.waitRefund(t, c.a.ID, payment.RefundPending)
			if rs[0].Amount != c.want || rs[0].RefundID == "" || rs[0].RequestedBy == 0 {
				t.Errorf("%s: refund %+v, want ¥%d with Stripe's id, by the member", c.a.Email, rs[0], c.want)
			}
			sim := p.simRefunds(rs[0].PaymentIntentID)
			if len(sim) != 1 || sim[0]["amount"] != float64(c.want) && sim[0]["amount"] != c.want {
				t.Errorf("%s: Stripe holds %v, want one refund of %d", c.a.Email, sim, c.want)
			}
			if len(p.history(t, c.a.ID, store.ActRefundRequested)) != 1 {
				t.Errorf("%s: no 返金を依頼 line", c.a.Email)
			}
		}
		detail := org.page(t, fmt.Sprintf("/events/%d/applications/%d", p.ze.event.ID, part.ID))
		if !strings.Contains(detail, "返金処理中") || !strings.Contains(detail, "1,000円") {
			t.Errorf("the applicant's page does not show the refund in progress")
		}
		list := org.page(t, fmt.Sprintf("/events/%d/applications", p.ze.event.ID))
		if !strings.Contains(list, `class="refund-line"`) {
			t.Errorf("the list does not show the refunds")
		}
		// Stripe settles both: refund.updated moves them to 返金済.
		for _, a := range []event.Application{full, part} {
			rs := p.refunds(t, a.ID)
			if err := p.ssim.SettleRefund(rs[0].RefundID, true, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			a   event.Application
			yen string
		}{{full, "3,000円"}, {part, "1,000円"}} {
			rs := p.waitRefund(t, c.a.ID, payment.RefundSucceeded)
			if rs[0].RefundedAt.IsZero() {
				t.Errorf("%s: refunded_at not set", c.a.Email)
			}
			if n := len(p.history(t, c.a.ID, store.ActRefunded)); n != 1 {
				t.Errorf("%s: %d 返金済 lines, want 1", c.a.Email, n)
			}
			mails := eventually.Value(t, "the 返金のお知らせ of "+c.a.Email, func() ([]store.MailRow, bool) {
				ms := p.refundMails(t, c.a.ID)
				return ms, len(ms) == 1 && ms[0].Body != ""
			})
			if !strings.Contains(mails[0].Subject, "返金のお知らせ") || !strings.Contains(mails[0].Body, c.yen) {
				t.Errorf("%s: mail %q\n%s\nwant the amount %s", c.a.Email, mails[0].Subject, mails[0].Body, c.yen)
			}
			_, _, page := get(t, p.app.URL()+"/a/"+c.a.Token)
			if !strings.Contains(page, "返金済み") {
				t.Errorf("%s: the participant's page does not say 返金済み", c.a.Email)
			}
		}
		p.settled(t, len(p.ssim.Deliveries()))
		if n := len(p.refundMails(t, full.ID)); n != 1 {
			t.Errorf("%d 返金のお知らせ after every event, want 1", n)
		}
		// Delivered through SMTP, once each, with the amount.
		got := eventually.Value(t, "two 返金のお知らせ at the SMTP server", func() (map[string][]mailtest.Message, bool) {
			byTo := map[string][]mailtest.Message{}
			for _, m := range srv.Messages() {
				if strings.Contains(m.Subject, "返金のお知らせ") {
					byTo[m.To[0]] = append(byTo[m.To[0]], m)
				}
			}
			return byTo, len(byTo[full.Email]) == 1 && len(byTo[part.Email]) == 1
		})
		if m := got[part.Email][0]; !strings.Contains(m.Body, "1,000円を返金いたしました") {
			t.Errorf("the 返金のお知らせ says:\n%s", m.Body)
		}
		if n := len(got[none.Email]); n != 0 {
			t.Errorf("返金なし got %d 返金のお知らせ", n)
		}
	})
}

// TestRefundAnswerLost: Stripe makes the refund but its answer never
// comes (to any of the tries of stripe-go and net/http): the row stays 返金処理中 (requesting),
// the sweep asks again with the same key and records Stripe's refund, and
// Stripe holds exactly one refund.
func TestRefundAnswerLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		a := p.paidByCard(t, "lost@example.com")
		p.ssim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultLostAnswer, Op: "PostRefunds"})
		if status, _, body := org.post(t, p.cancelPath(a), url.Values{"refund": {"full"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		rs := p.refunds(t, a.ID)
		if len(rs) != 1 || rs[0].Status != payment.RefundRequesting || rs[0].RefundID != "" || rs[0].LastError == "" {
			t.Fatalf("after the lost answer: %+v, want one row requesting with the error", rs)
		}
		key := rs[0].IdempotencyKey
		if n := len(p.simRefunds(rs[0].PaymentIntentID)); n != 1 {
			t.Fatalf("Stripe holds %d refunds, want 1 (the answer was lost, not the refund)", n)
		}
		// The sweep leaves a fresh row alone; past its staleness it asks again.
		p.ssim.ClearFaults()
		p.offset.Store(int64(6 * time.Minute))
		rs = p.waitRefund(t, a.ID, payment.RefundPending)
		if rs[0].IdempotencyKey != key || rs[0].RefundID == "" {
			t.Errorf("after the sweep: %+v, want the same key and Stripe's refund", rs[0])
		}
		sim := p.simRefunds(rs[0].PaymentIntentID)
		if len(sim) != 1 || sim[0]["id"] != rs[0].RefundID {
			t.Errorf("Stripe holds %v, want exactly the one refund %s", sim, rs[0].RefundID)
		}
	})
}

// TestRefundFailedThenRetried: Stripe fails a refund (refund.failed):
// 失敗 with Stripe's reason on the applicant's page and 「返金を再試行」,
// which asks again with a new key and succeeds.
func TestRefundFailedThenRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		a := p.paidByCard(t, "fail@example.com")
		if status, _, body := org.post(t, p.cancelPath(a), url.Values{"refund": {"partial"}, "refund_amount": {"2000"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		rs := p.waitRefund(t, a.ID, payment.RefundPending)
		if err := p.ssim.SettleRefund(rs[0].RefundID, false, "expired_or_canceled_card"); err != nil {
			t.Fatal(err)
		}
		rs = p.waitRefund(t, a.ID, payment.RefundFailed)
		if rs[0].FailureReason != "expired_or_canceled_card" {
			t.Errorf("failure reason %q", rs[0].FailureReason)
		}
		if len(p.history(t, a.ID, store.ActRefundFailed)) != 1 {
			t.Errorf("no 返金失敗 line")
		}
		self := fmt.Sprintf("/events/%d/applications/%d", p.ze.event.ID, a.ID)
		page := org.page(t, self)
		if !strings.Contains(page, "失敗") || !strings.Contains(page, "expired_or_canceled_card") || !strings.Contains(page, "返金を再試行") {
			t.Errorf("the applicant's page does not show the failure with its reason and 返金を再試行")
		}
		retry := fmt.Sprintf("/events/%d/refunds/%d/retry", p.ze.event.ID, rs[0].ID)
		if status, _, body := org.post(t, retry, url.Values{"back": {self}}); status != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", status, body)
		}
		rs = p.waitRefund(t, a.ID, payment.RefundFailed, payment.RefundPending)
		if rs[1].Amount != 2000 || rs[1].Attempt != 2 || rs[1].IdempotencyKey == rs[0].IdempotencyKey {
			t.Errorf("the retry %+v, want ¥2,000, attempt 2, a new key", rs[1])
		}
		// Retrying the failed one again is refused while the new one lives.
		if status, _, _ := org.post(t, retry, url.Values{"back": {self}}); status != http.StatusConflict {
			t.Errorf("a second retry: %d, want 409", status)
		}
		if err := p.ssim.SettleRefund(rs[1].RefundID, true, ""); err != nil {
			t.Fatal(err)
		}
		p.waitRefund(t, a.ID, payment.RefundFailed, payment.RefundSucceeded)
	})
}

// TestKonbiniRefundAsksForAccount: a コンビニ payment's refund waits in
// requires_action (Stripe asks the participant for a bank account): the
// cancel form, the applicant's page and the participant's page say so;
// the participant gives one and it completes.
func TestKonbiniRefundAsksForAccount(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		loc, a := p.applyOnline(t, "konbini-refund@example.com")
		cs := sessionOf(t, loc)
		if _, err := p.ssim.PayKonbini(cs, a.Email); err != nil {
			t.Fatal(err)
		}
		pi := intentIn(t, p.ssim, cs)
		eventually.True(t, "the voucher recorded", func() bool {
			_, ok, err := p.app.Store.LivePayment(context.Background(), a.ID)
			return err == nil && ok
		})
		if err := p.ssim.PayVoucher(pi, "lawson"); err != nil {
			t.Fatal(err)
		}
		eventually.True(t, "paid by konbini", func() bool { return p.application(t, a.ID).Payment == event.PaymentPaid })
		form := org.page(t, p.cancelPath(p.application(t, a.ID)))
		if !strings.Contains(form, `id="refund-asks-account"`) {
			t.Errorf("the cancel form does not say Stripe asks for a bank account")
		}
		if status, _, body := org.post(t, p.cancelPath(a), url.Values{"refund": {"full"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		rs := p.waitRefund(t, a.ID, payment.RefundRequiresAction)
		if !strings.Contains(org.page(t, fmt.Sprintf("/events/%d/applications/%d", p.ze.event.ID, a.ID)), "refund-asks-account") {
			t.Errorf("the applicant's page does not say Stripe asks for a bank account")
		}
		if _, _, page := get(t, p.app.URL()+"/a/"+a.Token); !strings.Contains(page, "返金先の銀行口座") {
			t.Errorf("the participant's page does not say a bank account will be asked for")
		}
		if err := p.ssim.SettleRefund(rs[0].RefundID, true, ""); err != nil {
			t.Fatal(err)
		}
		p.waitRefund(t, a.ID, payment.RefundSucceeded)
	})
}

// TestCancelFormDoubleSubmit: the organizer's form sent twice at once
// cancels once and refunds once.
func TestCancelFormDoubleSubmit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		a := p.paidByCard(t, "twice@example.com")
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := org.hc.PostForm(org.base+p.cancelPath(a), url.Values{"refund": {"full"}})
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusSeeOther {
				ok++
			} else if s != http.StatusConflict {
				t.Errorf("a submit answered %d, want 303 or 409", s)
			}
		}
		if ok != 1 {
			t.Errorf("%d submits cancelled (%v), want 1", ok, statuses)
		}
		rs := p.waitRefund(t, a.ID, payment.RefundPending)
		if n := len(p.simRefunds(rs[0].PaymentIntentID)); n != 1 {
			t.Errorf("Stripe holds %d refunds, want 1", n)
		}
	})
}

// TestParticipantCancelByPolicy: the event refunds 100% until 3 days
// before and 50% until the day before, and takes cancellations until the
// day before. The participant is told what comes back before confirming;
// a tier that ends between the confirmation and the click changes
// nothing and shows the new amount; past the last day it is refused,
// saying until when it was possible.
func TestParticipantCancelByPolicy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		p := startPayScene(t, db, 10, false, manualRefunds)
		st := p.app.Store
		jst, _ := time.LoadLocation("Asia/Tokyo")
		today := time.Now().In(jst)
		start := time.Date(today.Year(), today.Month(), today.Day()+10, 19, 0, 0, 0, jst)
		sc := p.ze.schedules[0]
		sc.StartsAt, sc.EndsAt = start.UTC(), start.Add(2*time.Hour).UTC()
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		p.ze.event.CancelDays, p.ze.event.RefundTiers = 1, "3:100,1:50"
		if err := st.UpdateEvent(ctx, &p.ze.event); err != nil {
			t.Fatal(err)
		}
		early := p.paidByCard(t, "early@example.com")
		mid := p.paidByCard(t, "mid@example.com")
		stale := p.paidByCard(t, "stale@example.com")
		late := p.paidByCard(t, "late@example.com")

		confirm := func(a event.Application, wantStatus int, want string) {
			t.Helper()
			status, _, page := get(t, p.app.URL()+"/a/"+a.Token+"/cancel")
			if status != wantStatus || !strings.Contains(page, want) {
				t.Errorf("%s: confirmation %d, want %d saying %q", a.Email, status, wantStatus, want)
			}
		}
		cancel := func(a event.Application, refund string) (int, string) {
			t.Helper()
			resp, err := participant.PostForm(p.app.URL()+"/a/"+a.Token+"/cancel", url.Values{"confirm": {"1"}, "refund": {refund}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		// Ten days before: everything back.
		confirm(early, http.StatusOK, "キャンセルすると3,000円が返金されます")
		// A POST without the confirmation only shows it.
		resp, err := participant.PostForm(p.app.URL()+"/a/"+early.Token+"/cancel", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || p.application(t, early.ID).Status != event.Applied {
			t.Errorf("an unconfirmed cancel: %d, %s", resp.StatusCode, p.application(t, early.ID).Status)
		}
		if status, body := cancel(early, "3000"); status != http.StatusSeeOther {
			t.Fatalf("early cancel: %d %s", status, body)
		}
		if rs := p.waitRefund(t, early.ID, payment.RefundPending); rs[0].Amount != 3000 || rs[0].RequestedBy != 0 {
			t.Errorf("early refund %+v", rs[0])
		}
		// The stale participant is shown ¥3,000, then the 3-day tier ends.
		confirm(stale, http.StatusOK, "3,000円")
		twoDaysBefore := time.Date(start.Year(), start.Month(), start.Day()-2, 12, 0, 0, 0, jst)
		p.offset.Store(int64(time.Until(twoDaysBefore)))
		status, body := cancel(stale, "3000")
		if status != http.StatusConflict || !strings.Contains(body, "返金額が変わりました") || !strings.Contains(body, "1,500円") {
			t.Errorf("stale confirmation: %d, want 409 with the new amount", status)
		}
		if got := p.application(t, stale.ID); got.Status != event.Applied || len(p.refunds(t, stale.ID)) != 0 {
			t.Errorf("a stale confirmation changed something: %s, %+v", got.Status, p.refunds(t, stale.ID))
		}
		// Two days before: half back.
		confirm(mid, http.StatusOK, "キャンセルすると1,500円が返金されます")
		if status, body := cancel(mid, "1500"); status != http.StatusSeeOther {
			t.Fatalf("mid cancel: %d %s", status, body)
		}
		if rs := p.waitRefund(t, mid.ID, payment.RefundPending); rs[0].Amount != 1500 {
			t.Errorf("mid refund %+v", rs[0])
		}
		// On the day: refused, saying until when.
		onTheDay := time.Date(start.Year(), start.Month(), start.Day(), 9, 0, 0, 0, jst)
		p.offset.Store(int64(time.Until(onTheDay)))
		lastMinute := time.Date(start.Year(), start.Month(), start.Day()-1, 23, 59, 0, 0, jst)
		confirm(late, http.StatusConflict, i18n.DateTime(i18n.Japanese, lastMinute, jst)+"までで締め切りました")
		if status, _ := cancel(late, "0"); status != http.StatusConflict {
			t.Errorf("late cancel: %d, want 409", status)
		}
		if got := p.application(t, late.ID); got.Status != event.Applied || len(p.refunds(t, late.ID)) != 0 {
			t.Errorf("a refused cancel changed something: %s", got.Status)
		}
		if _, _, page := get(t, p.app.URL()+"/a/"+late.Token); !strings.Contains(page, `id="self-cancel-closed"`) {
			t.Errorf("the participant's page does not say cancelling is closed")
		}
		if n := len(p.simRefunds(p.refunds(t, early.ID)[0].PaymentIntentID)); n != 1 {
			t.Errorf("Stripe holds %d refunds of the early payment", n)
		}
	})
}

// TestRefundWebhookLost: Stripe's refund.updated never arrives; the sweep
// reads the refund back once it has been pending a while, and it is 返金済
// with its mail all the same.
func TestRefundWebhookLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		a := p.paidByCard(t, "nohook@example.com")
		p.ssim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultDropWebhook, Op: "refund.updated"},
			stripesim.Fault{Kind: stripesim.FaultDropWebhook, Op: "charge.refunded"})
		if status, _, body := org.post(t, p.cancelPath(a), url.Values{"refund": {"full"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		rs := p.waitRefund(t, a.ID, payment.RefundPending)
		if err := p.ssim.SettleRefund(rs[0].RefundID, true, ""); err != nil {
			t.Fatal(err)
		}
		p.settled(t, 1) // checkout.session.completed alone
		if got := p.refunds(t, a.ID); got[0].Status != payment.RefundPending {
			t.Fatalf("with no webhook the refund moved: %+v", got[0])
		}
		p.offset.Store(int64(6 * time.Minute))
		p.waitRefund(t, a.ID, payment.RefundSucceeded)
		eventually.True(t, "the 返金のお知らせ", func() bool { return len(p.refundMails(t, a.ID)) == 1 })
	})
}

// TestRefundPaymentAfterCancel: a コンビニ voucher paid after the
// organizer cancelled the application is 要対応; 「返金する」 refunds all of
// it through Stripe and settles the problem.
func TestRefundPaymentAfterCancel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		loc, a := p.applyOnline(t, "after@example.com")
		cs := sessionOf(t, loc)
		if _, err := p.ssim.PayKonbini(cs, a.Email); err != nil {
			t.Fatal(err)
		}
		eventually.True(t, "the voucher recorded", func() bool {
			_, ok, err := p.app.Store.LivePayment(ctx, a.ID)
			return err == nil && ok
		})
		if status, _, body := org.post(t, p.cancelPath(a), url.Values{}); status != http.StatusSeeOther {
			t.Fatalf("cancel the unpaid application: %d %s", status, body)
		}
		if err := p.ssim.PayVoucher(intentIn(t, p.ssim, cs), "familymart"); err != nil {
			t.Fatal(err)
		}
		problems := eventually.Value(t, "the payment after the cancel is 要対応", func() ([]store.PaymentProblem, bool) {
			ps, err := p.app.Store.PaymentProblems(ctx, p.org.ID, p.ze.event.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ps, len(ps) == 1 && ps[0].Problem == payment.ProblemAfterCancel
		})
		self := fmt.Sprintf("/events/%d/applications/%d", p.ze.event.ID, a.ID)
		if page := org.page(t, self); !strings.Contains(page, "返金する") {
			t.Errorf("the problem offers no 返金する")
		}
		refund := fmt.Sprintf("/events/%d/payments/%d/refund", p.ze.event.ID, problems[0].ID)
		if status, _, body := org.post(t, refund, url.Values{"back": {self}}); status != http.StatusSeeOther {
			t.Fatalf("返金する: %d %s", status, body)
		}
		rs := p.waitRefund(t, a.ID, payment.RefundRequiresAction)
		if rs[0].Amount != 3000 || rs[0].PaymentID != problems[0].ID {
			t.Errorf("refund %+v, want all ¥3,000 of the problem payment", rs[0])
		}
		if ps, _ := p.app.Store.PaymentProblems(ctx, p.org.ID, p.ze.event.ID); len(ps) != 0 {
			t.Errorf("the problem is still open: %+v", ps)
		}
		// Asking twice refunds once.
		if status, _, _ := org.post(t, refund, url.Values{"back": {self}}); status != http.StatusConflict {
			t.Errorf("a second 返金する: %d, want 409", status)
		}
		if n := len(p.simRefunds(rs[0].PaymentIntentID)); n != 1 {
			t.Errorf("Stripe holds %d refunds, want 1", n)
		}
	})
}

// TestRefundAskingPastKeyLife: a refund still asking after Stripe may
// have forgotten its key (23 h) is never asked again with it: Stripe's
// refunds of the payment are listed instead. One Stripe made (its answer
// lost every time) is found by the row named in its metadata; one Stripe
// never made (it kept answering 500) is abandoned, for 返金を再試行.
func TestRefundAskingPastKeyLife(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, manualRefunds)
		org := p.organizer(t)
		lost := p.paidByCard(t, "lost-long@example.com")
		failing := p.paidByCard(t, "failing@example.com")
		p.ssim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultLostAnswer, Op: "PostRefunds"})
		if status, _, body := org.post(t, p.cancelPath(lost), url.Values{"refund": {"full"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		p.ssim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultStatus, Op: "PostRefunds", Status: 500})
		if status, _, body := org.post(t, p.cancelPath(failing), url.Values{"refund": {"full"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", status, body)
		}
		p.waitRefund(t, lost.ID, payment.RefundRequesting)
		p.waitRefund(t, failing.ID, payment.RefundRequesting)
		// Stripe keeps failing both ways; a day passes.
		p.ssim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultLostAnswer, Op: "PostRefunds"},
			stripesim.Fault{Kind: stripesim.FaultStatus, Op: "PostRefunds", Status: 500})
		p.offset.Store(int64(24 * time.Hour))
		rs := p.waitRefund(t, lost.ID, payment.RefundPending)
		if sim := p.simRefunds(rs[0].PaymentIntentID); len(sim) != 1 || sim[0]["id"] != rs[0].RefundID {
			t.Errorf("Stripe holds %v, want the one refund %s", sim, rs[0].RefundID)
		}
		rs = p.waitRefund(t, failing.ID, payment.RefundAbandoned)
		if n := len(p.simRefunds(rs[0].PaymentIntentID)); n != 0 {
			t.Errorf("Stripe holds %d refunds of the failing payment, want none", n)
		}
	})
}
