package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/htmltest"
	"kaisai/internal/jobs"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/testdb"
)

// mailTemplateForm is the wording form as kaisai shows it, with changes.
func mailTemplateForm(t *testing.T, c *client, eventID int64, changes map[string]string) url.Values {
	t.Helper()
	r := c.get(fmt.Sprintf("/events/%d/mail", eventID))
	wantStatus(t, r, http.StatusOK)
	f := url.Values{}
	for _, k := range event.MailKinds {
		f.Set(string(k)+"_subject", fieldValue(t, r, string(k)+"_subject"))
		f.Set(string(k)+"_body", fieldValue(t, r, string(k)+"_body"))
	}
	for k, v := range changes {
		f.Set(k, v)
	}
	return f
}

// fieldValue reads an input's value or a textarea's text from a page.
func fieldValue(t *testing.T, r *resp, name string) string {
	t.Helper()
	doc := r.doc(t)
	if in := doc.First(`input[name="` + name + `"]`); in.Valid() {
		return in.Attr("value")
	}
	if ta := doc.First(`textarea[name="` + name + `"]`); ta.Valid() {
		return ta.RawText()
	}
	t.Fatalf("no field %s on the page: %s", name, r)
	return ""
}

// mailRow is a row of the mail log.
type mailRow struct {
	ID            string
	Status, Text  string // data-status, and the row's text
	Subject, Body string
}

// mailLog reads /mails, newest first.
func (c *client) mailLog() (*resp, []mailRow) {
	c.t.Helper()
	r := c.get("/mails")
	wantStatus(c.t, r, http.StatusOK)
	var rows []mailRow
	for _, tr := range r.doc(c.t).Find("tr.mail") {
		row := mailRow{ID: tr.Attr("data-id"), Status: tr.Attr("data-status"), Text: tr.Text()}
		if body := tr.First("div.mail-body"); body.Valid() {
			row.Body = body.RawText()
			// The subject is the text of the cell that holds the body,
			// before the body's <details>.
			if td := tr.Find("td"); len(td) > 3 {
				row.Subject = strings.TrimSpace(strings.TrimSuffix(td[3].Text(), td[3].First("details").Text()))
			}
		}
		rows = append(rows, row)
	}
	return r, rows
}

// waitMailLog polls /mails until n mails are there and none is 送信待ち.
func (c *client) waitMailLog(n int) (*resp, []mailRow) {
	c.t.Helper()
	type seen struct {
		r    *resp
		Rows []mailRow
	}
	got := eventually.Value(c.t, fmt.Sprintf("the mail log to show %d delivered mails", n), func() (seen, bool) {
		r, rows := c.mailLog()
		pending := 0
		for _, row := range rows {
			if row.Status == "pending" {
				pending++
			}
		}
		return seen{r, rows}, len(rows) == n && pending == 0
	})
	return got.r, got.Rows
}

// TestMailTemplates: the wording form shows the defaults and the
// placeholders; a template with an unknown placeholder is refused with a
// clear Japanese message and nothing is saved; a saved wording is used for
// the next mail; resetting brings the default back. Without SMTP the mail
// is kept and shown in the mail log, which says so.
func TestMailTemplates(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		c := newClient(t, a)
		c.signup("メール主催", "owner@mail.example")
		eventID := c.createEvent(eventSpec{Title: "メール設定セミナー"})
		mailPath := fmt.Sprintf("/events/%d/mail", eventID)

		r := c.get(fmt.Sprintf("/events/%d", eventID))
		if !r.doc(t).Has(`a[href="` + mailPath + `"]`) {
			t.Fatalf("the event page does not link to its mail wording: %s", r)
		}
		r = c.get(mailPath)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("mail_templates.title"), ja("mail.kind.applied"), ja("mail.kind.promoted"),
			"{online_url}", ja("mail.placeholder.online_url"), "{application_url}", ja("mail.placeholder.application_url"),
			"{receipt_url}", ja("mail.placeholder.receipt_url"))
		defaults := mailTemplateForm(t, c, eventID, nil)
		if defaults.Get("applied_subject") != ja("mail.default.applied.subject") || defaults.Get("paid_body") != ja("mail.default.paid.body") {
			t.Fatalf("the form does not show the defaults: %v", defaults)
		}

		// {foo} is refused, and the valid change beside it is not saved either.
		bad := mailTemplateForm(t, c, eventID, map[string]string{
			"applied_subject": "{foo} のお知らせ",
			"paid_subject":    "{name}様、ご入金ありがとうございます",
		})
		r = c.post(mailPath, bad)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("mail_templates.not_saved"),
			ja("validation.unknown_placeholder", "{foo}", "{name} {event} {schedule} {venue} {status} {status_note} {online_url} {application_url} {price} {receipt_url} {refund_amount}"),
			"{foo} のお知らせ")
		if !strings.Contains(r.Text(), "不明な差し込み項目 {foo} があります") {
			t.Fatalf("the refusal is not the clear Japanese message: %s", r)
		}
		if got := mailTemplateForm(t, c, eventID, nil); got.Encode() != defaults.Encode() {
			t.Fatalf("a refused form saved something: %v", got)
		}

		// A valid wording is saved and used for the next mail.
		custom := mailTemplateForm(t, c, eventID, map[string]string{
			"applied_subject": "{name}様 【{event}】受付完了",
			"applied_body":    "{name}様\r\n{schedule} / {venue}\r\nURL: {online_url}\r\n確認: {application_url}\r\n",
		})
		wantRedirect(t, c.post(mailPath, custom), mailPath)
		r = c.get(mailPath)
		wantText(t, r, ja("mail_templates.custom"), ja("mail_templates.reset"), "{name}様 【{event}】受付完了")
		if got := mailTemplateForm(t, c, eventID, nil); got.Get("paid_subject") != ja("mail.default.paid.subject") {
			t.Errorf("an untouched kind changed: %q", got.Get("paid_subject"))
		}

		groupID := c.addGroup(eventID, urlGroup("https://meet.example/mail"))
		scheduleID := c.addSchedule(eventID, groupID, 5)
		public := c.publicPath(eventID)
		token := newClient(t, a).apply(public, scheduleID, "山田 太郎", "taro@mail.example")

		r, rows := c.waitMailLog(1)
		wantText(t, r, ja("mails.dev_outbox"), ja("mail_status.kept"), ja("mail.kind.applied"), "taro@mail.example")
		if rows[0].Status != "kept" || rows[0].Subject != "山田 太郎様 【メール設定セミナー】受付完了" {
			t.Fatalf("mail log row: %+v", rows[0])
		}
		for _, want := range []string{"山田 太郎様\n", "URL: https://meet.example/mail\n", "確認: " + a.URL() + "/a/" + token, " / " + ja("mail.venue_online")} {
			if !strings.Contains(rows[0].Body, want) {
				t.Errorf("the kept body lacks %q:\n%s", want, rows[0].Body)
			}
		}

		// Reset: the default applies to the next mail.
		wantRedirect(t, c.post(mailPath+"/reset", url.Values{"kind": {"applied"}}), mailPath)
		if got := mailTemplateForm(t, c, eventID, nil); got.Get("applied_subject") != ja("mail.default.applied.subject") {
			t.Fatalf("after reset the form shows %q", got.Get("applied_subject"))
		}
		newClient(t, a).apply(public, scheduleID, "佐藤 花子", "hanako@mail.example")
		_, rows = c.waitMailLog(2)
		if rows[0].Subject != "【メール設定セミナー】お申し込みを受け付けました" {
			t.Errorf("after reset the mail's subject is %q", rows[0].Subject)
		}
		wantStatus(t, c.post(mailPath+"/reset", url.Values{"kind": {"nonsense"}}), http.StatusBadRequest)

		// Saving the defaults as they are stores nothing of the event's own.
		wantRedirect(t, c.post(mailPath, mailTemplateForm(t, c, eventID, nil)), mailPath)
		wantNoText(t, c.get(mailPath), ja("mail_templates.custom"))
	})
}

// TestMailLogRetry: over SMTP, a mail the server refused until kaisai gave
// up shows as 送信失敗 with the server's answer; 再送 delivers it once.
func TestMailLogRetry(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{RcptTemp: 1}})
	a := startKaisai(t, testdb.SQLite(t), func(cfg *app.Config) {
		cfg.SMTPURL = srv.URL()
		cfg.Mail = jobs.MailOptions{MaxAttempts: 1, Sweep: 200 * time.Millisecond}
	})
	c := newClient(t, a)
	c.signup("再送主催", "owner@retry.example")
	eventID := c.createEvent(eventSpec{Title: "再送セミナー"})
	groupID := c.addGroup(eventID, placeGroup("東京都港区1-1"))
	scheduleID := c.addSchedule(eventID, groupID, 5)
	newClient(t, a).apply(c.publicPath(eventID), scheduleID, "鈴木 一郎", "ichiro@retry.example")

	r, rows := c.waitMailLog(1)
	wantNoText(t, r, ja("mails.dev_outbox"))
	wantText(t, r, ja("mail_status.failed"), ja("mails.failed_reason"), "451", ja("mails.retry"))
	if rows[0].Status != "failed" || len(srv.Messages()) != 0 {
		t.Fatalf("row %+v, %d accepted", rows[0], len(srv.Messages()))
	}
	r = c.post("/mails/"+rows[0].ID+"/retry", nil)
	wantRedirect(t, r, "/mails")
	got := srv.Wait(t, 1, 10*time.Second)
	r, rows = c.waitMailLog(1)
	wantText(t, r, ja("mail_status.sent"))
	if rows[0].Status != "sent" || got[0].Subject != "【再送セミナー】お申し込みを受け付けました" {
		t.Errorf("after 再送: row %+v, subject %q", rows[0], got[0].Subject)
	}
	// A mail that did not fail is not retried.
	wantStatus(t, c.post("/mails/"+rows[0].ID+"/retry", nil), http.StatusNotFound)
	eventually.True(t, "the outbox to be idle", func() bool {
		idle, err := a.Store.OutboxIdle(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return idle
	})
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("the SMTP server accepted %d messages, want 1", n)
	}
}

// TestMailLogTellsWhatHappened: each row of /mails says what the store
// knows of its mail. Kept in the dev outbox: 未送信, with when it was kept
// and no 送信日時. Refused for now by the SMTP server: 送信待ち with the next
// attempt and the server's answer. Refused for good: 送信失敗 with why.
// Taken by the server: 送信済 with its 送信日時.
func TestMailLogTellsWhatHappened(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		// sentAt reports whether a row of the page shows a 送信日時.
		sentAt := func(r *resp) bool {
			return slices.ContainsFunc(r.doc(t).Find("small.mail-when"), func(n htmltest.Node) bool {
				return strings.HasPrefix(n.Text(), ja("mails.sent_at")+" ")
			})
		}
		rowOf := func(rows []mailRow, to string) mailRow {
			t.Helper()
			for _, r := range rows {
				if strings.Contains(r.Text, to) {
					return r
				}
			}
			t.Fatalf("no mail to %s in the log: %+v", to, rows)
			return mailRow{}
		}

		if !t.Run("a mail kept in the dev outbox reads 未送信 with when it was kept, and no 送信日時", func(t *testing.T) {
			// The dev outbox: nothing is sent.
			a := startKaisai(t, db)
			c := newClient(t, a)
			c.signup("送信箱", "owner@outbox.example")
			eventID := c.createEvent(eventSpec{Title: "送信箱セミナー"})
			scheduleID := c.addSchedule(eventID, c.addGroup(eventID, placeGroup("東京都港区1-1")), 5)
			newClient(t, a).apply(c.publicPath(eventID), scheduleID, "保管 太郎", "kept@outbox.example")
			r, rows := c.waitMailLog(1)
			kept := rowOf(rows, "kept@outbox.example")
			if kept.Status != "kept" || !strings.Contains(kept.Text, ja("mail_status.kept")) || !strings.Contains(kept.Text, ja("mails.kept_at")) {
				t.Errorf("a kept mail reads %q, want %s with %s", kept.Text, ja("mail_status.kept"), ja("mails.kept_at"))
			}
			if strings.Contains(kept.Text, ja("mails.sent_at")) || sentAt(r) {
				t.Errorf("a mail kept in the dev outbox shows a 送信日時: %s", r)
			}
		}) {
			return
		}

		// Over SMTP: one address refused for now (retried in an hour), one
		// for good, one taken.
		srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{RcptTemp: 1,
			RcptReject: map[string]bool{"gone@smtp.example": true}}})
		smtpDB := testdb.SQLite(t) // a kaisai of its own: the dev outbox's workers would keep its mail
		if db.Name == "postgres" {
			smtpDB = testdb.Postgres(t)
		}
		b := startKaisai(t, smtpDB, func(cfg *app.Config) {
			cfg.SMTPURL = srv.URL()
			cfg.Mail = jobs.MailOptions{MaxAttempts: 5, RetryBase: time.Hour, Sweep: 200 * time.Millisecond}
		})
		c := newClient(t, b)
		c.signup("SMTP主催", "owner@smtp.example")
		eventID := c.createEvent(eventSpec{Title: "SMTPセミナー"})
		scheduleID := c.addSchedule(eventID, c.addGroup(eventID, placeGroup("東京都港区2-2")), 5)
		var failed mailRow // refused for good, retried below
		public := c.publicPath(eventID)
		newClient(t, b).apply(public, scheduleID, "待ち 一郎", "later@smtp.example")
		newClient(t, b).apply(public, scheduleID, "不達 二郎", "gone@smtp.example")

		if !t.Run("a mail refused for now reads 送信待ち with its next attempt and the server's answer; one refused for good, 送信失敗 with why", func(t *testing.T) {
			var r *resp
			var pending mailRow
			eventually.Value(t, "the log to show one mail waiting for a retry and one failed", func() ([]mailRow, bool) {
				var rows []mailRow
				r, rows = c.mailLog()
				if len(rows) != 2 {
					return rows, false
				}
				pending, failed = rowOf(rows, "later@smtp.example"), rowOf(rows, "gone@smtp.example")
				return rows, pending.Status == "pending" && strings.Contains(pending.Text, "451") && failed.Status == "failed"
			})
			for _, want := range []string{ja("mail_status.pending"), ja("mails.next_attempt"), ja("mails.attempts", 1), ja("mails.last_error")} {
				if !strings.Contains(pending.Text, want) {
					t.Errorf("a mail waiting for its retry reads %q, without %q", pending.Text, want)
				}
			}
			for _, want := range []string{ja("mail_status.failed"), ja("mails.failed_reason"), "550", ja("mails.retry")} {
				if !strings.Contains(failed.Text, want) {
					t.Errorf("a failed mail reads %q, without %q", failed.Text, want)
				}
			}
			if sentAt(r) {
				t.Errorf("mails the server did not take show a 送信日時: %s", r)
			}
		}) {
			return
		}

		if !t.Run("a mail the server took reads 送信済 with its 送信日時", func(t *testing.T) {
			// Taken: 送信済 with its time. (The server takes an address the
			// second time it sees it: the waiting participant's second
			// application.)
			wantRedirect(t, c.post("/mails/"+failed.ID+"/retry", nil), "/mails")
			second := c.addSchedule(eventID, c.addGroup(eventID, placeGroup("東京都港区3-3")), 5)
			newClient(t, b).apply(public, second, "待ち 一郎", "later@smtp.example")
			srv.Wait(t, 1, 10*time.Second)
			var r *resp
			var sent mailRow
			eventually.True(t, "a mail to be shown sent", func() bool {
				var rows []mailRow
				r, rows = c.mailLog()
				for _, row := range rows {
					if row.Status == "sent" {
						sent = row
					}
				}
				return sent.ID != ""
			})
			if !strings.Contains(sent.Text, ja("mail_status.sent")) || !strings.Contains(sent.Text, ja("mails.sent_at")) ||
				!sentAt(r) {
				t.Errorf("a sent mail reads %q, want %s with %s", sent.Text, ja("mail_status.sent"), ja("mails.sent_at"))
			}
		}) {
			return
		}
	})
}
