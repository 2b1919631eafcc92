// Package mailtest runs a real SMTP server in the test process (emersion's
// go-smtp) that records what it accepts and can fail on purpose: tests of
// kaisai's mail hold a real SMTP conversation with it.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Faults make the server refuse on purpose.
type Faults struct {
	// DataTemp answers the first DataTemp deliveries of each Message-ID
	// with 451 after the whole message was sent (the server did not take it).
	DataTemp int
	// RcptTemp answers the first RcptTemp RCPT TO of each recipient with 451.
	RcptTemp int
	// RcptReject answers RCPT TO of these addresses with 550, for good.
	RcptReject map[string]bool
	// HoldData takes in the first HoldData messages and never answers
	// them (until the server stops): a server that hangs, or a client
	// killed while it waits. They are not accepted.
	HoldData int
}

// Options configure a Server.
type Options struct {
	Faults Faults
	// TLS offers STARTTLS with a certificate made for the test; clients
	// trust it through Server.ClientTLS.
	TLS bool
	// Users, when set, are the only logins accepted (AUTH PLAIN), and
	// mail is refused without one.
	Users map[string]string
}

// Message is a message the server accepted.
type Message struct {
	From    string   // envelope sender
	To      []string // envelope recipients
	Raw     []byte
	Header  netmail.Header
	Subject string // decoded
	Body    string // decoded; of a multipart message, its text/plain part
	// Attachments are the other parts of a multipart message, decoded.
	Attachments []Attachment
}

// Attachment is a part of a multipart message other than its text.
type Attachment struct {
	ContentType string // the whole header value, parameters included
	Filename    string
	Data        []byte
}

// MessageID is the Message-ID header, angle brackets included.
func (m *Message) MessageID() string { return m.Header.Get("Message-ID") }

// Server is a running SMTP server.
type Server struct {
	Addr      string // 127.0.0.1:port
	srv       *smtp.Server
	clientTLS *tls.Config
	opts      Options

	mu        sync.Mutex
	accepted  []Message
	dataTries map[string]int // Message-ID → DATA attempts
	rcptTries map[string]int // recipient → RCPT attempts
	changed   chan struct{}  // closed and replaced whenever accepted grows
	held      int            // messages held so far (Faults.HoldData)
	stopped   chan struct{}  // closed when the server stops
}

// Start starts a server on a free loopback port, stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, dataTries: map[string]int{}, rcptTries: map[string]int{}, changed: make(chan struct{}),
		stopped: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.AllowInsecureAuth = !opts.TLS
	if opts.TLS {
		serverTLS, clientTLS, err := selfSigned()
		if err != nil {
			t.Fatal(err)
		}
		srv.TLSConfig, s.clientTLS = serverTLS, clientTLS
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr, s.srv = ln.Addr().String(), srv
	go srv.Serve(ln)
	t.Cleanup(func() {
		close(s.stopped)
		srv.Close()
	})
	return s
}

// Held is how many messages the server has taken in and left unanswered
// (Faults.HoldData).
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// URL is a KAISAI_SMTP_URL for the server without login; STARTTLS as
// offered (none without TLS).
func (s *Server) URL() string {
	if s.opts.TLS {
		return "smtp://" + s.Addr + "?starttls=mandatory&timeout=5s"
	}
	return "smtp://" + s.Addr + "?starttls=none&timeout=5s"
}

// ClientTLS trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config { return s.clientTLS }

// Messages are the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

// DataAttempts is how many times a message (by Message-ID, with brackets)
// was sent, accepted or not.
func (s *Server) DataAttempts(messageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataTries[messageID]
}

// Wait waits until at least n messages were accepted and returns them all,
// failing the test after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, changed := len(s.accepted), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("SMTP server: %d messages accepted within %v, want %d", got, timeout, n)
		}
	}
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if want, ok := ss.s.opts.Users[username]; !ok || want != password || (identity != "" && identity != username) {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Users != nil && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	f := ss.s.opts.Faults
	if f.RcptReject[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	ss.s.mu.Lock()
	ss.s.rcptTries[to]++
	n := ss.s.rcptTries[to]
	ss.s.mu.Unlock()
	if n <= f.RcptTemp {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Malformed message: " + err.Error()}
	}
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	s := ss.s
	s.mu.Lock()
	if s.held < s.opts.Faults.HoldData {
		s.held++
		s.dataTries[m.MessageID()]++
		s.mu.Unlock()
		<-s.stopped
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Shutting down"}
	}
	defer s.mu.Unlock()
	id := m.MessageID()
	s.dataTries[id]++
	if s.dataTries[id] <= s.opts.Faults.DataTemp {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again"}
	}
	s.accepted = append(s.accepted, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse reads a message as a mail client would: headers, the RFC 2047
// subject, the body in its transfer encoding.
func parse(raw []byte) (Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Raw: raw, Header: msg.Header}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, err
	}
	if mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return m, fmt.Errorf("multipart: %w", err)
			}
			data, err := decodeBody(p, p.Header.Get("Content-Transfer-Encoding"))
			if err != nil {
				return m, err
			}
			ct := p.Header.Get("Content-Type")
			if pt, _, _ := mime.ParseMediaType(ct); pt == "text/plain" && p.FileName() == "" && m.Body == "" {
				m.Body = strings.ReplaceAll(string(data), "\r\n", "\n")
				continue
			}
			m.Attachments = append(m.Attachments, Attachment{ContentType: ct, Filename: p.FileName(), Data: data})
		}
		return m, nil
	}
	body, err := decodeBody(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
	if err != nil {
		return m, err
	}
	m.Body = strings.ReplaceAll(string(body), "\r\n", "\n")
	return m, nil
}

// decodeBody reads a body (or a part) in its transfer encoding.
func decodeBody(r io.Reader, cte string) ([]byte, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(cte) {
	case "base64":
		body, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body)))
		if err != nil {
			return nil, fmt.Errorf("base64 body: %w", err)
		}
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	case "", "7bit", "8bit":
	default:
		return nil, errors.New("unexpected Content-Transfer-Encoding " + cte)
	}
	return body, nil
}

// selfSigned makes a certificate for 127.0.0.1 and a client config that
// trusts it.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client, nil
}
