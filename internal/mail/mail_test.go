package mail_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/mail"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/store"
)

var catalog = func() *i18n.Catalog {
	c, err := i18n.Load()
	if err != nil {
		panic(err)
	}
	return c
}()

func ja(key string) string {
	if !catalog.Has(i18n.Japanese, key) {
		panic("no message " + key)
	}
	return catalog.T(i18n.Japanese, key)
}

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// outgoing is an outbox row as ClaimMail gives it: a free online event on
// Saturday 2026-07-04 13:00–15:00 Tokyo time.
func outgoing(kind event.MailKind) store.OutgoingMail {
	start := time.Date(2026, 7, 4, 13, 0, 0, 0, tokyo)
	return store.OutgoingMail{
		ID: 7, Kind: kind, MessageID: "0123456789abcdef@kaisai",
		Application: event.Application{ID: 3, EventID: 2, ScheduleID: 5, Token: "tok-en_123", Name: "山田 太郎",
			Email: "taro@example.com", Status: event.Applied, Payment: event.PaymentNone},
		Event:    event.Event{ID: 2, Title: "Go勉強会 #1", Fee: event.FeeFree, TimeZone: "Asia/Tokyo"},
		Schedule: event.Schedule{ID: 5, StartsAt: start.UTC(), EndsAt: start.Add(2 * time.Hour).UTC()},
		Group:    event.ScheduleGroup{Venue: event.VenueURL, OnlineURL: "https://meet.example/abc?pwd=1"},
	}
}

func renderer(t *testing.T) *mail.Renderer {
	t.Helper()
	r, err := mail.NewRenderer("", "https://kaisai.example/")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRenderPlaceholders: every placeholder is filled as the participant
// should read it, in Japanese, whatever the state of the application.
func TestRenderPlaceholders(t *testing.T) {
	r := renderer(t)
	base := outgoing(event.MailApplied)
	vars := r.Vars(&base)
	want := map[string]string{
		"name":            "山田 太郎",
		"event":           "Go勉強会 #1",
		"schedule":        "2026年7月4日(土) 13:00 – 15:00",
		"venue":           "オンライン",
		"status":          "申込済",
		"online_url":      "https://meet.example/abc?pwd=1",
		"application_url": "https://kaisai.example/a/tok-en_123",
		"price":           "無料",
		"receipt_url":     "https://kaisai.example/a/tok-en_123/receipt",
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("{%s} = %q, want %q", k, vars[k], v)
		}
	}
	if len(vars) != len(event.MailPlaceholders) {
		t.Errorf("Vars fills %d placeholders, event.MailPlaceholders lists %d", len(vars), len(event.MailPlaceholders))
	}

	// The online URL only for an eligible applicant; otherwise when it comes.
	cases := []struct {
		name   string
		change func(m *store.OutgoingMail)
		url    string
		status string
		price  string
		venue  string
	}{
		{"paid, unpaid", func(m *store.OutgoingMail) {
			m.Event.Fee, m.Event.PriceJPY, m.Application.Payment = event.FeePaid, 12000, event.PaymentUnpaid
		}, ja("mail.online_url.unpaid"), "申込済", "12,000円", "オンライン"},
		{"paid, paid", func(m *store.OutgoingMail) {
			m.Event.Fee, m.Event.PriceJPY, m.Application.Payment = event.FeePaid, 3000, event.PaymentPaid
		}, "https://meet.example/abc?pwd=1", "申込済", "3,000円", "オンライン"},
		{"waitlisted", func(m *store.OutgoingMail) { m.Application.Status = event.Waitlisted },
			ja("mail.online_url.waitlisted"), "キャンセル待ち", "無料", "オンライン"},
		{"cancelled", func(m *store.OutgoingMail) { m.Application.Status = event.Cancelled },
			ja("mail.online_url.cancelled"), "キャンセル", "無料", "オンライン"},
		{"at a venue", func(m *store.OutgoingMail) {
			m.Group = event.ScheduleGroup{Venue: event.VenuePlace, Address: "東京都千代田区1-1"}
		}, ja("mail.online_url.none"), "申込済", "無料", "東京都千代田区1-1"},
	}
	for _, c := range cases {
		m := outgoing(event.MailApplied)
		c.change(&m)
		v := r.Vars(&m)
		if v["online_url"] != c.url || v["status"] != c.status || v["price"] != c.price || v["venue"] != c.venue {
			t.Errorf("%s: online_url %q, status %q, price %q, venue %q; want %q, %q, %q, %q", c.name,
				v["online_url"], v["status"], v["price"], v["venue"], c.url, c.status, c.price, c.venue)
		}
		if strings.Contains(v["online_url"], "meet.example") != (c.url == "https://meet.example/abc?pwd=1") {
			t.Errorf("%s: the online URL leaked or is missing: %q", c.name, v["online_url"])
		}
	}

	// The schedule is shown in the event's time zone.
	m := outgoing(event.MailApplied)
	m.Event.TimeZone = "UTC"
	if got := r.Vars(&m)["schedule"]; got != "2026年7月4日(土) 04:00 – 06:00" {
		t.Errorf("schedule in UTC = %q", got)
	}
}

// TestRenderDefaultsAndOwnWording: each kind's default is valid, Japanese
// and fully filled; an event's own wording replaces it.
func TestRenderDefaultsAndOwnWording(t *testing.T) {
	r := renderer(t)
	date := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	subjects := map[event.MailKind]string{
		event.MailApplied:        "【Go勉強会 #1】お申し込みを受け付けました",
		event.MailPaid:           "【Go勉強会 #1】ご入金を確認しました",
		event.MailCancelled:      "【Go勉強会 #1】キャンセルを受け付けました",
		event.MailPromoted:       "【Go勉強会 #1】キャンセル待ちから参加が確定しました",
		event.MailPaymentExpired: "【Go勉強会 #1】お支払い期限を過ぎたためキャンセルとなりました",
		event.MailRefunded:       "【Go勉強会 #1】返金のお知らせ",
		event.MailReminder:       "【Go勉強会 #1】開催のお知らせ(リマインド)",
	}
	for _, k := range event.MailKinds {
		def := mail.DefaultTemplate(catalog, k)
		if err := def.Validate(); err != nil {
			t.Errorf("default %s template is invalid: %v", k, err)
		}
		m := outgoing(k)
		msg := r.Render(&m, date)
		if msg.Subject != subjects[k] {
			t.Errorf("%s subject = %q, want %q", k, msg.Subject, subjects[k])
		}
		if strings.ContainsAny(msg.Subject+msg.Body, "{}") {
			t.Errorf("%s mail has an unfilled placeholder:\n%s\n%s", k, msg.Subject, msg.Body)
		}
		if !strings.HasPrefix(msg.Body, "山田 太郎 様\n") || !strings.Contains(msg.Body, "https://kaisai.example/a/tok-en_123") {
			t.Errorf("%s body lacks the name or the application link:\n%s", k, msg.Body)
		}
		if msg.To.Name != "山田 太郎" || msg.To.Address != "taro@example.com" || msg.From.Address != "no-reply@localhost" ||
			msg.From.Name != "kaisai" || msg.MessageID != "0123456789abcdef@kaisai" || !msg.Date.Equal(date) {
			t.Errorf("%s envelope: %+v", k, msg)
		}
	}
	m := outgoing(event.MailApplied)
	m.Template = &event.MailTemplate{Kind: event.MailApplied, Subject: "{name}様: {event}\n(受付)", Body: "{schedule} / {price} / {unknown}"}
	msg := r.Render(&m, date)
	if msg.Subject != "山田 太郎様: Go勉強会 #1 (受付)" {
		t.Errorf("own subject = %q (a subject is one line)", msg.Subject)
	}
	if msg.Body != "2026年7月4日(土) 13:00 – 15:00 / 無料 / {unknown}" {
		t.Errorf("own body = %q", msg.Body)
	}
}

// TestMailCatalogKeys: the keys this package and the mail screens build from
// kinds and placeholders are in both catalogs (the web's key scan cannot see
// keys built at run time).
func TestMailCatalogKeys(t *testing.T) {
	var keys []string
	for _, k := range event.MailKinds {
		keys = append(keys, "mail.default."+string(k)+".subject", "mail.default."+string(k)+".body", "mail.kind."+string(k))
	}
	for _, p := range event.MailPlaceholders {
		keys = append(keys, "mail.placeholder."+p)
	}
	for _, s := range event.MailStatuses() {
		keys = append(keys, "mail_status."+string(s))
	}
	keys = append(keys, "mail.venue_online", "mail.online_url.none", "mail.online_url.cancelled",
		"mail.online_url.waitlisted", "mail.online_url.unpaid", "mail.online_url.pending", "mail.online_url.personal_pending")
	for _, k := range keys {
		for _, l := range i18n.Langs {
			if !catalog.Has(l, k) {
				t.Errorf("%q is missing from messages.%s.json", k, l)
			}
		}
	}
	// The English defaults keep the same placeholders.
	for _, k := range event.MailKinds {
		jaT, enT := mail.DefaultTemplate(catalog, k), event.MailTemplate{Kind: k,
			Subject: catalog.T(i18n.English, "mail.default."+string(k)+".subject"),
			Body:    catalog.T(i18n.English, "mail.default."+string(k)+".body")}
		if err := enT.Validate(); err != nil {
			t.Errorf("English default %s: %v", k, err)
		}
		for _, p := range event.MailPlaceholders {
			ph := "{" + p + "}"
			if strings.Contains(jaT.Subject+jaT.Body, ph) != strings.Contains(enT.Subject+enT.Body, ph) {
				t.Errorf("default %s: %s is in one language's wording only", k, ph)
			}
		}
	}
}

func send(t *testing.T, tr mail.Transport, m *mail.Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := tr.Open(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	return sess.Send(m)
}

// TestSMTPDelivery holds a real SMTP conversation: the message arrives as
// a mail client reads it, the Japanese subject and name encoded, the body
// in UTF-8, the Message-ID as given.
func TestSMTPDelivery(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	tr, err := mail.NewSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	r := renderer(t)
	date := time.Date(2026, 6, 1, 18, 30, 0, 0, tokyo)
	var sent []mail.Message
	for _, k := range event.MailKinds {
		m := outgoing(k)
		m.MessageID = string(k) + "-0001@kaisai"
		msg := r.Render(&m, date)
		if err := send(t, tr, &msg); err != nil {
			t.Fatalf("send %s: %v", k, err)
		}
		sent = append(sent, msg)
	}
	got := srv.Wait(t, len(sent), 5*time.Second)
	if len(got) != len(sent) {
		t.Fatalf("server accepted %d messages, want %d", len(got), len(sent))
	}
	for i, g := range got {
		w := sent[i]
		if g.From != "no-reply@localhost" || len(g.To) != 1 || g.To[0] != "taro@example.com" {
			t.Errorf("envelope from %q to %v", g.From, g.To)
		}
		if g.Subject != w.Subject || g.Body != w.Body {
			t.Errorf("message %d read back as subject %q, body:\n%s\nwant %q:\n%s", i, g.Subject, g.Body, w.Subject, w.Body)
		}
		if g.MessageID() != "<"+w.MessageID+">" {
			t.Errorf("Message-ID %q, want <%s>", g.MessageID(), w.MessageID)
		}
		to, err := g.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != "山田 太郎" || to[0].Address != "taro@example.com" {
			t.Errorf("To header %q parses as %v, %v", g.Header.Get("To"), to, err)
		}
		from, err := g.Header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].String() != `"kaisai" <no-reply@localhost>` {
			t.Errorf("From header %q parses as %v, %v", g.Header.Get("From"), from, err)
		}
		if d, err := g.Header.Date(); err != nil || !d.Equal(date) {
			t.Errorf("Date header %q = %v, %v", g.Header.Get("Date"), d, err)
		}
		if w.Calendar != nil {
			// 申込完了, 繰り上げ, 入金完了: the text and the .ics.
			if ct := g.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/mixed") {
				t.Errorf("with a calendar: Content-Type %q", ct)
			}
			if len(g.Attachments) != 1 || !strings.HasPrefix(g.Attachments[0].ContentType, "text/calendar") ||
				string(g.Attachments[0].Data) != string(w.Calendar) {
				t.Errorf("message %d (%s): attachments %+v, want its calendar", i, w.Subject, g.Attachments)
			}
		} else if ct := g.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
			t.Errorf("Content-Type %q", ct)
		}
		// Headers travel as ASCII: the Japanese is RFC 2047 encoded.
		head := string(g.Raw[:strings.Index(string(g.Raw), "\r\n\r\n")])
		for _, c := range head {
			if c > 127 {
				t.Fatalf("raw header has non-ASCII text:\n%s", head)
			}
		}
		if !regexp.MustCompile(`(?i)\nSubject:\s+=\?UTF-8\?b\?`).MatchString(head) {
			t.Errorf("subject is not RFC 2047 encoded:\n%s", head)
		}
	}
}

// TestSMTPLoginOverSTARTTLS: with a user in the URL, the password goes only
// over TLS; a wrong one is refused; a server without STARTTLS is refused.
func TestSMTPLoginOverSTARTTLS(t *testing.T) {
	users := map[string]string{"kaisai@example.com": "p@ss:word"}
	srv := mailtest.Start(t, mailtest.Options{TLS: true, Users: users})
	m := outgoing(event.MailApplied)
	msg := renderer(t).Render(&m, time.Now())

	tr, err := mail.NewSMTP("smtp://kaisai%40example.com:p%40ss%3Aword@"+srv.Addr+"?timeout=5s", mail.WithTLSConfig(srv.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, tr, &msg); err != nil {
		t.Fatalf("send with login over STARTTLS: %v", err)
	}
	if got := srv.Wait(t, 1, 5*time.Second); got[0].Subject != msg.Subject {
		t.Errorf("subject %q", got[0].Subject)
	}

	bad, err := mail.NewSMTP("smtp://kaisai%40example.com:wrong@"+srv.Addr+"?timeout=5s", mail.WithTLSConfig(srv.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, bad, &msg); err == nil {
		t.Error("a wrong password was accepted")
	}

	// Without TLS on offer, a user in the URL means STARTTLS is mandatory.
	plain := mailtest.Start(t, mailtest.Options{Users: users})
	tr, err = mail.NewSMTP("smtp://kaisai%40example.com:p%40ss%3Aword@" + plain.Addr + "?timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, tr, &msg); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("login to a server without STARTTLS: err = %v, want a STARTTLS refusal", err)
	}
	if n := len(plain.Messages()); n != 0 {
		t.Errorf("%d messages went out without TLS", n)
	}
}

// TestSMTPRefusals: a recipient refused for good is a RejectedError; a
// temporary refusal is not.
func TestSMTPRefusals(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{
		RcptReject: map[string]bool{"nobody@example.com": true}, RcptTemp: 1, DataTemp: 1}})
	tr, err := mail.NewSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	r := renderer(t)
	m := outgoing(event.MailApplied)
	m.Application.Email = "nobody@example.com"
	msg := r.Render(&m, time.Now())
	var rej *mail.RejectedError
	if err := send(t, tr, &msg); !errors.As(err, &rej) {
		t.Errorf("550 at RCPT: err = %v, want a RejectedError", err)
	}
	m = outgoing(event.MailApplied)
	msg = r.Render(&m, time.Now())
	for i, stage := range []string{"RCPT", "DATA"} {
		if err := send(t, tr, &msg); err == nil || errors.As(err, &rej) {
			t.Errorf("451 at %s: err = %v, want a temporary error", stage, err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("attempt %d: %d messages accepted", i+1, n)
		}
	}
	if err := send(t, tr, &msg); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if got := srv.Messages(); len(got) != 1 || srv.DataAttempts(got[0].MessageID()) != 2 {
		t.Errorf("accepted %d messages after %d DATA attempts", len(got), srv.DataAttempts("<0123456789abcdef@kaisai>"))
	}
}

// TestNewSMTPURL: the settings a URL may carry, and the mistakes it refuses
// without echoing the password.
func TestNewSMTPURL(t *testing.T) {
	good := []string{
		"smtp://mail.example.com",
		"smtp://user:secret@mail.example.com:2525?starttls=opportunistic",
		"smtp://127.0.0.1:1025?starttls=none",
		"smtps://user:secret@mail.example.com",
		"smtps://user:secret@mail.example.com:465?timeout=10s&auth=login",
		"smtp://user:secret@mail.example.com?auth=cram-md5",
	}
	for _, u := range good {
		if _, err := mail.NewSMTP(u); err != nil {
			t.Errorf("NewSMTP(%q): %v", u, err)
		}
	}
	bad := []string{
		"http://user:secret@mail.example.com",
		"smtp://",
		"smtp://mail.example.com:99999",
		"smtp://mail.example.com?starttls=sometimes",
		"smtps://mail.example.com?starttls=none",
		"smtp://mail.example.com?timeout=soon",
		"smtp://mail.example.com?tls=1",
		"smtp://mail.example.com?auth=plain",
		"smtp://user:secret@mail.example.com?auth=rot13",
		"smtp://user:secret@mail.exa mple.com",
	}
	for _, u := range bad {
		_, err := mail.NewSMTP(u)
		if err == nil {
			t.Errorf("NewSMTP(%q) accepted it", u)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("NewSMTP(%q) error shows the password: %v", u, err)
		}
	}
}

// TestOnlineURLZoomRegistration: for a Zoom meeting with 登録, {online_url}
// is the participant's personal join URL once registered and a sentence
// pointing to the application page before; never the meeting's URL. Without
// 登録 it is the meeting's URL, and before eligibility the usual sentence.
func TestOnlineURLZoomRegistration(t *testing.T) {
	r := renderer(t)
	const meeting, personal = "https://zoom.example/j/1?pwd=abc", "https://zoom.example/w/1?tk=personal"
	zoomGroup := func(registration bool) event.ScheduleGroup {
		return event.ScheduleGroup{Venue: event.VenueZoom, OnlineURL: meeting,
			Zoom: &event.ZoomSettings{Registration: registration, Passcode: "abc"}}
	}
	cases := []struct {
		name         string
		registration bool
		unpaid       bool
		personal     string
		want         string
	}{
		// A personal URL without pwd= is followed by the passcode.
		{"registered", true, false, personal, personal + "\n" + catalog.T(i18n.Japanese, "mail.zoom_passcode", "abc")},
		{"registered, passcode in the URL", true, false, personal + "&pwd=abc", personal + "&pwd=abc"},
		{"not registered yet", true, false, "", ja("mail.online_url.personal_pending")},
		{"unpaid", true, true, personal, ja("mail.online_url.unpaid")},
		{"without 登録", false, false, "", meeting},
	}
	for _, c := range cases {
		m := outgoing(event.MailApplied)
		m.Group = zoomGroup(c.registration)
		if c.unpaid {
			m.Event.Fee, m.Event.PriceJPY, m.Application.Payment = event.FeePaid, 1000, event.PaymentUnpaid
		}
		if got := r.VarsFor(&m, c.personal)["online_url"]; got != c.want {
			t.Errorf("%s: {online_url} = %q, want %q", c.name, got, c.want)
		}
		msg := r.RenderFor(&m, c.personal, time.Now())
		if c.registration && strings.Contains(msg.Body, meeting) {
			t.Errorf("%s: the meeting's URL leaked into a mail of a meeting with 登録:\n%s", c.name, msg.Body)
		}
	}
}
