package stripesim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// APIVersion is the version the simulator answers as (that of
// ../shared/stripe/spec3.json); a request's Stripe-Version is accepted and
// echoed, and a webhook endpoint keeps the version it was created with.
const APIVersion = "2026-08-26.dahlia"

// Options configure a simulator.
type Options struct {
	// BaseURL is the simulator's public URL (checkout pages, vouchers).
	// Start fills it in when empty.
	BaseURL string
	// StateFile, when set, keeps the state across restarts.
	StateFile string
	// Now is the simulator's business clock; time.Now when nil. SetClock
	// and Advance change it. Objects' created, expiries and events'
	// created follow it.
	Now func() time.Time
	// WallClock is the real time (time.Now when nil): webhook deliveries
	// are signed with it, as Stripe signs each attempt when it is made, so
	// that a receiver checking the 5-minute tolerance against its own
	// clock accepts them however far Advance moved the business clock.
	// Retries are scheduled on it too.
	WallClock func() time.Time
	// Seed is added at start (an account whose id exists is kept).
	Seed   Seed
	Logger *slog.Logger
	// Webhooks tune webhook delivery (retry schedule, timeout).
	Webhooks WebhookOptions
	// RefundSettleAfter is how long a refund stays pending before it
	// succeeds by itself (default 10 seconds of the simulator's clock);
	// negative: never (the control API settles it).
	RefundSettleAfter time.Duration
	// TickEvery is how often a started server applies the passing of time
	// (expiries, refunds); default one second. Tests call Tick or Advance.
	TickEvery time.Duration
}

// Seed is the initial data.
type Seed struct {
	Accounts []Account
}

// Account is a Stripe account with its API keys.
type Account struct {
	ID            string `json:"id"`
	DisplayName   string `json:"display_name"`
	Email         string `json:"email"`
	Country       string `json:"country"`
	SecretKey     string `json:"secret_key"`     // sk_test_…
	RestrictedKey string `json:"restricted_key"` // rk_test_…
	Created       int64  `json:"created"`
}

// DefaultSeed is what `kaisai stripesim` starts with: one Japanese
// account in test mode with fixed keys, so that a development kaisai can
// be configured once.
func DefaultSeed() Seed {
	return Seed{Accounts: []Account{{
		ID: "acct_1KaisaiSimulator", DisplayName: "開催テスト株式会社", Email: "organizer@example.com", Country: "JP",
		SecretKey:     "sk_test_51KaisaiSimulatorSecretKeyForDevelopment000000",
		RestrictedKey: "rk_test_51KaisaiSimulatorRestrictedKeyForDevelopment0",
	}}}
}

// Server is a running (or ready to run) simulator.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	faults  *faults

	mu     sync.Mutex
	now    func() time.Time
	offset time.Duration // added by Advance
	st     *state
	hooks  *webhooks
}

// state is everything the simulator knows; it is what the state file holds.
type state struct {
	Accounts  map[string]*Account         `json:"accounts"`
	Sessions  map[string]*Session         `json:"sessions"`
	Intents   map[string]*PaymentIntent   `json:"payment_intents"`
	Charges   map[string]*Charge          `json:"charges"`
	Refunds   map[string]*Refund          `json:"refunds"`
	Endpoints map[string]*WebhookEndpoint `json:"webhook_endpoints"`
	Events    []*Event                    `json:"events"` // oldest first
	Idem      map[string]*idemEntry       `json:"idempotency"`
	Seq       int64                       `json:"seq"` // orders objects created in one second
}

// stateFile is what the state file holds: the state and the webhook
// deliveries (kept by the delivery queue, under its own lock).
type stateFile struct {
	*state
	Deliveries []savedDelivery `json:"webhook_deliveries,omitempty"`
}

func newState() *state {
	return &state{Accounts: map[string]*Account{}, Sessions: map[string]*Session{}, Intents: map[string]*PaymentIntent{},
		Charges: map[string]*Charge{}, Refunds: map[string]*Refund{}, Endpoints: map[string]*WebhookEndpoint{},
		Idem: map[string]*idemEntry{}}
}

// New builds a simulator, loading the state file if there is one.
func New(opts Options) (*Server, error) {
	if opts.RefundSettleAfter == 0 {
		opts.RefundSettleAfter = 10 * time.Second
	}
	if opts.TickEvery <= 0 {
		opts.TickEvery = time.Second
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now, st: newState(), faults: newFaults()}
	s.hooks = newWebhooks(opts.Webhooks)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.WallClock == nil {
		s.opts.WallClock = time.Now
	}
	if opts.StateFile != "" {
		b, err := os.ReadFile(opts.StateFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("stripesim: %w", err)
		default:
			f := stateFile{state: newState()}
			if err := json.Unmarshal(b, &f); err != nil {
				return nil, fmt.Errorf("stripesim: state file %s: %w", opts.StateFile, err)
			}
			s.st = f.state
			s.restoreDeliveries(f.Deliveries)
		}
	}
	s.mu.Lock()
	err := s.addSeedLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Server) addSeedLocked() error {
	for _, a := range s.opts.Seed.Accounts {
		if _, ok := s.st.Accounts[a.ID]; ok && a.ID != "" {
			continue
		}
		if _, err := s.addAccountLocked(a); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves the simulator.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (port 0 picks one) and serves until ctx ends,
// applying the passing of time every Options.TickEvery. It returns the
// base URL, and sets it as the BaseURL if none was given.
func (s *Server) Start(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("stripesim: %w", err)
	}
	base := "http://" + ln.Addr().String()
	s.mu.Lock()
	if s.opts.BaseURL == "" {
		s.opts.BaseURL = base
	} else {
		base = s.opts.BaseURL
	}
	s.mu.Unlock()
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdownCtx)
	}()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("stripesim: serve", "err", err)
		}
	}()
	go func() {
		t := time.NewTicker(s.opts.TickEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Tick()
			}
		}
	}()
	return base, nil
}

// BaseURL is the simulator's public URL.
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.BaseURL
}

// SetBaseURL sets the public URL (for servers run by httptest).
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.BaseURL = u
}

// SetClock replaces the simulator's clock (for tests); what Advance added
// is forgotten.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now, s.offset = now, 0
	s.mu.Unlock()
	s.Tick()
}

// Advance moves the simulator's clock forward by d and applies what
// happens meanwhile (sessions and vouchers expire, refunds settle).
func (s *Server) Advance(d time.Duration) error {
	if d < 0 {
		return errors.New("stripesim: the clock does not go back")
	}
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
	s.Tick()
	return nil
}

// Now is the simulator's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.now().Add(s.offset) }

// AddAccount adds an account; empty id and keys are generated.
func (s *Server) AddAccount(a Account) (Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addAccountLocked(a)
}

func (s *Server) addAccountLocked(a Account) (Account, error) {
	if a.ID == "" {
		a.ID = "acct_" + randomID(16)
	}
	if a.SecretKey == "" {
		a.SecretKey = "sk_test_" + randomID(99)
	}
	if a.RestrictedKey == "" {
		a.RestrictedKey = "rk_test_" + randomID(99)
	}
	if a.Country == "" {
		a.Country = "JP"
	}
	if a.Created == 0 {
		a.Created = s.nowLocked().Unix()
	}
	if _, ok := s.st.Accounts[a.ID]; ok {
		return Account{}, fmt.Errorf("stripesim: account %s exists", a.ID)
	}
	for _, o := range s.st.Accounts {
		if o.SecretKey == a.SecretKey || o.RestrictedKey == a.RestrictedKey {
			return Account{}, errors.New("stripesim: that key belongs to another account")
		}
	}
	s.st.Accounts[a.ID] = &a
	s.saveLocked()
	return a, nil
}

// accountByKeyLocked finds the account of an API key.
func (s *Server) accountByKeyLocked(key string) *Account {
	for _, a := range s.st.Accounts {
		if key == a.SecretKey || key == a.RestrictedKey {
			return a
		}
	}
	return nil
}

// saveLocked writes the state file, if any: a temporary file renamed over
// the old one, so a crash leaves either the old or the new state.
func (s *Server) saveLocked() {
	if s.opts.StateFile == "" {
		return
	}
	if err := s.writeState(); err != nil {
		s.log.Error("stripesim: saving state", "file", s.opts.StateFile, "err", err)
	}
}

func (s *Server) writeState() error {
	h := s.hooks
	h.mu.Lock()
	b, err := json.Marshal(stateFile{state: s.st, Deliveries: h.savedLocked()})
	h.mu.Unlock()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(s.opts.StateFile), ".stripesim-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.opts.StateFile)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomID is the random part of a Stripe id.
func randomID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[randInt(len(idAlphabet))]
	}
	return string(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + randInt(10))
	}
	return string(b)
}

// newID is a Stripe object id: prefix_ and 24 random characters
// (checkout sessions: cs_test_ and 58).
func newID(prefix string) string {
	if prefix == "cs_test" {
		return "cs_test_" + randomID(58)
	}
	return prefix + "_" + randomID(24)
}

func (s *Server) nextSeqLocked() int64 {
	s.st.Seq++
	return s.st.Seq
}
