package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"kaisai/internal/calendar"
)

// Transport delivers messages. Mail is sent in sessions: one connection for
// a batch, so a thousand mails do not cost a thousand handshakes.
type Transport interface {
	Open(ctx context.Context) (Session, error)
	// Timeout bounds one message's delivery (and opening a session), so the
	// caller can keep its lease on a mail longer than any attempt takes.
	Timeout() time.Duration
}

// Session is an open connection to the mail server.
type Session interface {
	// Send delivers one message; nil means the server accepted it.
	Send(m *Message) error
	Close() error
}

// RejectedError is a recipient the server refused for good (a 5xx answer to
// RCPT TO): trying the same address again cannot help.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return "recipient rejected: " + e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// DefaultTimeout bounds each SMTP connection and message unless the URL says
// otherwise (?timeout=).
const DefaultTimeout = 30 * time.Second

// SMTP delivers through an SMTP server, configured by a URL:
//
//	smtp://[user[:password]@]host[:port][?starttls=…&timeout=…&auth=…]
//	smtps://[user[:password]@]host[:port][?timeout=…&auth=…]
//
// smtp:// connects in plain text (default port 587) and upgrades with
// STARTTLS as starttls says: "mandatory" (refuse a server without it; the
// default when a user is given, so a password never goes out in clear),
// "opportunistic" (use it when offered; the default without a user) or
// "none". smtps:// speaks TLS from the start (implicit TLS, default port
// 465). timeout is a Go duration (default 30s) bounding the connection and
// each message. With a user, the strongest mechanism both sides support is
// used (PLAIN and LOGIN only over TLS), unless auth names one: plain, login,
// cram-md5, scram-sha-256, … as go-mail spells them. User and password are
// URL-encoded (%40 for @).
type SMTP struct {
	client  *gomail.Client
	timeout time.Duration
	addr    string // host:port, for messages
}

// SMTPOption adjusts an SMTP transport beyond what its URL says.
type SMTPOption func(*smtpSettings)

type smtpSettings struct{ tls *tls.Config }

// WithTLSConfig sets the TLS configuration (for instance, the CA a test
// server's certificate is signed by).
func WithTLSConfig(c *tls.Config) SMTPOption { return func(s *smtpSettings) { s.tls = c } }

// NewSMTP builds the transport from a KAISAI_SMTP_URL; it does not connect.
func NewSMTP(rawURL string, opts ...SMTPOption) (*SMTP, error) {
	var set smtpSettings
	for _, o := range opts {
		o(&set)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("mail: KAISAI_SMTP_URL is not a URL") // the URL may hold a password: not echoed
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("mail: KAISAI_SMTP_URL has no host")
	}
	var copts []gomail.Option
	port := 0
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("mail: KAISAI_SMTP_URL: bad port %q", p)
		}
	}
	user := u.User.Username()
	pass, _ := u.User.Password()
	q := u.Query()
	for k := range q {
		switch k {
		case "starttls", "timeout", "auth":
		default:
			return nil, fmt.Errorf("mail: KAISAI_SMTP_URL: unknown setting %q (known: starttls, timeout, auth)", k)
		}
	}
	switch u.Scheme {
	case "smtp":
		if port == 0 {
			port = 587
		}
		policy := gomail.TLSOpportunistic
		if user != "" {
			policy = gomail.TLSMandatory
		}
		switch v := q.Get("starttls"); v {
		case "":
		case "mandatory":
			policy = gomail.TLSMandatory
		case "opportunistic":
			policy = gomail.TLSOpportunistic
		case "none":
			policy = gomail.NoTLS
		default:
			return nil, fmt.Errorf("mail: KAISAI_SMTP_URL: starttls must be mandatory, opportunistic or none, not %q", v)
		}
		copts = append(copts, gomail.WithTLSPolicy(policy))
	case "smtps":
		if port == 0 {
			port = 465
		}
		if q.Has("starttls") {
			return nil, errors.New("mail: KAISAI_SMTP_URL: starttls does not apply to smtps:// (TLS from the start)")
		}
		copts = append(copts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("mail: KAISAI_SMTP_URL must start with smtp:// or smtps://, not %q", u.Scheme+"://")
	}
	timeout := DefaultTimeout
	if v := q.Get("timeout"); v != "" {
		timeout, err = time.ParseDuration(v)
		if err != nil || timeout <= 0 {
			return nil, fmt.Errorf("mail: KAISAI_SMTP_URL: timeout must be a duration like 30s, not %q", v)
		}
	}
	copts = append(copts, gomail.WithPort(port), gomail.WithTimeout(timeout))
	if set.tls != nil {
		c := set.tls.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		copts = append(copts, gomail.WithTLSConfig(c))
	}
	if user != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if v := q.Get("auth"); v != "" {
			auth = gomail.SMTPAuthType(strings.ToUpper(v))
			switch auth {
			case gomail.SMTPAuthPlain, gomail.SMTPAuthLogin, gomail.SMTPAuthCramMD5, gomail.SMTPAuthXOAUTH2,
				gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1PLUS,
				gomail.SMTPAuthSCRAMSHA256PLUS, gomail.SMTPAuthNTLM:
			default:
				return nil, fmt.Errorf("mail: KAISAI_SMTP_URL: unknown auth %q", v)
			}
		}
		copts = append(copts, gomail.WithSMTPAuth(auth), gomail.WithUsername(user), gomail.WithPassword(pass))
	} else if q.Has("auth") {
		return nil, errors.New("mail: KAISAI_SMTP_URL: auth needs a user (smtp://user:password@host)")
	}
	c, err := gomail.NewClient(host, copts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	return &SMTP{client: c, timeout: timeout, addr: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// Timeout is the bound on one connection or message.
func (t *SMTP) Timeout() time.Duration { return t.timeout }

// Open connects, says EHLO, starts TLS and authenticates as configured.
func (t *SMTP) Open(ctx context.Context) (Session, error) {
	c, err := t.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to SMTP server %s: %w", t.addr, err)
	}
	return &smtpSession{t: t, c: c}, nil
}

type smtpSession struct {
	t *SMTP
	c *gosmtp.Client
}

func (s *smtpSession) Send(m *Message) error {
	msg := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingB64), gomail.WithNoDefaultUserAgent())
	from, to := m.From, m.To
	msg.FromMailAddress(&from)
	msg.ToMailAddress(&to)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	if len(m.Calendar) > 0 {
		msg.AttachReadSeeker(CalendarFile, bytes.NewReader(m.Calendar),
			gomail.WithFileContentType(gomail.ContentType(calendar.ContentType)))
	}
	err := s.t.client.SendWithSMTPClient(s.c, msg)
	if msg.IsDelivered() {
		// The server took the message: an error after that (the RSET that
		// readies the next one) must not make it be sent again.
		return nil
	}
	if err == nil {
		return errors.New("SMTP server did not confirm delivery")
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
		return &RejectedError{Err: err}
	}
	return err
}

func (s *smtpSession) Close() error { return s.t.client.CloseWithSMTPClient(s.c) }
