package zoomsim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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

// Options configure a simulator.
type Options struct {
	// BaseURL is the simulator's public URL, used in api_url, join URLs
	// and the consent page. Start fills it in when empty.
	BaseURL string
	// StateFile, when set, keeps the state across restarts.
	StateFile string
	// AccessTokenTTL is the lifetime of access tokens (Zoom: 1 hour, the
	// default); SetAccessTokenTTL changes it later.
	AccessTokenTTL time.Duration
	// Now is the clock; time.Now when nil. SetClock changes it later.
	Now func() time.Time
	// Seed is added to the state at start (apps and users that already
	// exist, by client id or e-mail, are kept as they are).
	Seed   Seed
	Logger *slog.Logger
	// Limits are the rate limits (limits.go); nil: Zoom's, ZoomLimits().
	Limits *Limits
	// Webhooks tune webhook delivery (retry schedule, timeout).
	Webhooks WebhookOptions
}

// Seed is the initial data: apps and users.
type Seed struct {
	Apps  []App
	Users []User
}

// App is a user-managed OAuth app registered on the Marketplace.
type App struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	// EventURL and SecretToken are the app's event subscription (webhooks.go).
	EventURL    string `json:"event_url,omitempty"`
	SecretToken string `json:"secret_token,omitempty"`
}

// User types, as in Zoom's user object.
const (
	UserBasic    = 1
	UserLicensed = 2
)

// PasscodePolicy is the account's meeting passcode requirement
// (settings.schedule_meeting.meeting_password_requirement).
type PasscodePolicy struct {
	Length                      int  `json:"length"`
	HaveLetter                  bool `json:"have_letter"`
	HaveNumber                  bool `json:"have_number"`
	HaveSpecialCharacter        bool `json:"have_special_character"`
	HaveUpperAndLowerCharacters bool `json:"have_upper_and_lower_characters"`
	OnlyAllowNumeric            bool `json:"only_allow_numeric"`
	ConsecutiveCharactersLength int  `json:"consecutive_characters_length"`
	WeakEnhanceDetection        bool `json:"weak_enhance_detection"`
}

// User is a simulated Zoom user.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Password  string `json:"password"` // for the consent page
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Type      int    `json:"type"`
	AccountID string `json:"account_id"`
	Timezone  string `json:"timezone"`
	// RequirePasscode is "Require a passcode when scheduling new meetings".
	RequirePasscode bool           `json:"require_passcode"`
	Policy          PasscodePolicy `json:"policy"`
	PMI             int64          `json:"pmi"`
	CreatedAt       time.Time      `json:"created_at"`
}

// DefaultSeed is what `kaisai zoomsim` starts with: the app kaisai uses by
// default (client id "kaisai-dev", secret "kaisai-dev-secret") and three
// users: a licensed one with a 6-character passcode policy, a licensed
// one whose passcodes must be numeric, and a Basic one. Every password is
// "password".
func DefaultSeed() Seed {
	return Seed{
		Apps: []App{{
			ClientID: "kaisai-dev", ClientSecret: "kaisai-dev-secret",
			RedirectURIs: []string{"http://127.0.0.1:8080/integrations/zoom/callback", "http://localhost:8080/integrations/zoom/callback"},
			Scopes:       []string{"meeting:read", "meeting:write", "user:read"},
		}},
		Users: []User{
			{Email: "licensed@example.com", Password: "password", FirstName: "Hanako", LastName: "Yamada", Type: UserLicensed,
				RequirePasscode: true, Policy: PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true}},
			{Email: "numeric@example.com", Password: "password", FirstName: "Taro", LastName: "Suzuki", Type: UserLicensed,
				RequirePasscode: true, Policy: PasscodePolicy{Length: 8, OnlyAllowNumeric: true}},
			{Email: "basic@example.com", Password: "password", FirstName: "Jiro", LastName: "Tanaka", Type: UserBasic,
				RequirePasscode: true, Policy: PasscodePolicy{Length: 6}},
		},
	}
}

// Server is a running (or ready to run) simulator.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	limits  *limiter // rate limits, used with mu held
	faults  *faults  // injected faults, with their own lock

	mu       sync.Mutex
	now      func() time.Time
	tokenTTL time.Duration // of access tokens given from now on
	st       *state
	hooks    *webhooks // webhook deliveries; has its own lock
}

// state is everything the simulator knows; it is what the state file holds.
type state struct {
	Apps     map[string]*App      `json:"apps"`  // by client id
	Users    map[string]*User     `json:"users"` // by id
	Codes    map[string]*authCode `json:"codes"`
	Access   map[string]*token    `json:"access_tokens"`
	Refresh  map[string]*token    `json:"refresh_tokens"`
	Meetings map[int64]*meeting   `json:"meetings"`
}

func newState() *state {
	return &state{
		Apps: map[string]*App{}, Users: map[string]*User{}, Codes: map[string]*authCode{},
		Access: map[string]*token{}, Refresh: map[string]*token{}, Meetings: map[int64]*meeting{},
	}
}

// New builds a simulator, loading the state file if there is one.
func New(opts Options) (*Server, error) {
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = time.Hour
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now, tokenTTL: opts.AccessTokenTTL, st: newState(),
		hooks: newWebhooks(opts.Webhooks)}
	s.limits, s.faults = newLimiter(opts.Limits), newFaults()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.StateFile != "" {
		b, err := os.ReadFile(opts.StateFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("zoomsim: %w", err)
		default:
			st := newState()
			if err := json.Unmarshal(b, st); err != nil {
				return nil, fmt.Errorf("zoomsim: state file %s: %w", opts.StateFile, err)
			}
			s.st = st
		}
	}
	for _, a := range opts.Seed.Apps {
		if _, ok := s.st.Apps[a.ClientID]; !ok {
			if _, err := s.AddApp(a); err != nil {
				return nil, err
			}
		}
	}
	for _, u := range opts.Seed.Users {
		if s.userByEmail(u.Email) == nil {
			if _, err := s.AddUser(u); err != nil {
				return nil, err
			}
		}
	}
	s.handler = s.routes()
	return s, nil
}

// Handler serves the simulator.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (port 0 picks one) and serves until ctx ends. It
// returns the base URL, and sets it as the BaseURL if none was given.
func (s *Server) Start(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("zoomsim: %w", err)
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
			s.log.Error("zoomsim: serve", "err", err)
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

// SetClock replaces the simulator's clock (for tests).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddApp registers an OAuth app; an empty client id or secret is generated.
func (s *Server) AddApp(a App) (App, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ClientID == "" {
		a.ClientID = randomID(22)
	}
	if a.ClientSecret == "" {
		a.ClientSecret = randomID(32)
	}
	if _, ok := s.st.Apps[a.ClientID]; ok {
		return App{}, fmt.Errorf("zoomsim: app %s exists", a.ClientID)
	}
	s.st.Apps[a.ClientID] = &a
	s.saveLocked()
	return a, nil
}

// AddUser adds a Zoom user; id, account id, type and time zone get defaults.
func (s *Server) AddUser(u User) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Email == "" {
		return User{}, errors.New("zoomsim: a user needs an e-mail")
	}
	if s.userByEmailLocked(u.Email) != nil {
		return User{}, fmt.Errorf("zoomsim: user %s exists", u.Email)
	}
	if u.ID == "" {
		u.ID = randomID(22)
	}
	if u.AccountID == "" {
		u.AccountID = randomID(22)
	}
	if u.Type == 0 {
		u.Type = UserLicensed
	}
	if u.Timezone == "" {
		u.Timezone = "Asia/Tokyo"
	}
	if u.PMI == 0 {
		u.PMI = randomMeetingID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now().UTC().Truncate(time.Second)
	}
	s.st.Users[u.ID] = &u
	s.saveLocked()
	return u, nil
}

// SetUserType changes a user's type, as an account admin would (a
// licence taken away makes the user Basic).
func (s *Server) SetUserType(email string, userType int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByEmailLocked(email)
	if u == nil {
		return fmt.Errorf("zoomsim: no user %s", email)
	}
	u.Type = userType
	s.saveLocked()
	return nil
}

// User returns the user with that e-mail.
func (s *Server) User(email string) (User, bool) {
	u := s.userByEmail(email)
	if u == nil {
		return User{}, false
	}
	return *u, true
}

func (s *Server) userByEmail(email string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userByEmailLocked(email)
}

func (s *Server) userByEmailLocked(email string) *User {
	for _, u := range s.st.Users {
		if equalFoldASCII(u.Email, email) {
			return u
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
		s.log.Error("zoomsim: saving state", "file", s.opts.StateFile, "err", err)
	}
}

func (s *Server) writeState() error {
	b, err := json.Marshal(s.st)
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.opts.StateFile)
	f, err := os.CreateTemp(dir, ".zoomsim-state-*")
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

// randomID is a Zoom-looking id (user ids are 22 characters).
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

// randomMeetingID is 11 digits, like Zoom's meeting ids.
func randomMeetingID() int64 {
	return 10_000_000_000 + int64(randInt(89_999_999_999))
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// newUUID is a meeting instance's UUID as Zoom makes them: 16 random bytes
// in standard base64, so that it may hold "/" and "+", which callers must
// encode in paths (twice when it begins with "/" or holds "//").
func newUUID() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(randInt(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}
