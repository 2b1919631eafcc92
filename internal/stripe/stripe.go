// Package stripe is kaisai's client of Stripe's API: it knows Stripe, not
// kaisai.
//
// WIP stub: only what 決済設定 needs (New, Account, the webhook endpoint,
// the error predicates), with the signatures of /work/notes/client-api.md;
// replaced by the i17-client branch.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
)

// DefaultAPIURL is Stripe's own API.
const DefaultAPIURL = "https://api.stripe.com"

// Config is how to reach Stripe.
type Config struct {
	APIURL     string
	Key        string
	HTTPClient *http.Client
}

var (
	// ErrLiveKeyOffStripe: a live key is only ever sent to Stripe itself.
	ErrLiveKeyOffStripe = errors.New("stripe: a live key is only sent to https://api.stripe.com")
	// ErrBadKey: not a Stripe secret or restricted key.
	ErrBadKey = errors.New("stripe: not a secret (sk_) or restricted (rk_) key")
)

// KeyIsLive reports whether key is a live-mode key.
func KeyIsLive(key string) bool {
	return strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")
}

func keyShape(key string) bool {
	for _, p := range []string{"sk_test_", "rk_test_", "sk_live_", "rk_live_"} {
		if strings.HasPrefix(key, p) && len(key) > len(p) && !strings.ContainsAny(key, " \t\r\n") {
			return true
		}
	}
	return false
}

// Client calls Stripe with one account's key.
type Client struct {
	sc   *stripego.Client
	live bool
}

// New makes a client.
func New(cfg Config) (*Client, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if !keyShape(cfg.Key) {
		return nil, ErrBadKey
	}
	if KeyIsLive(cfg.Key) && cfg.APIURL != DefaultAPIURL {
		return nil, ErrLiveKeyOffStripe
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	b := stripego.NewBackendsWithConfig(&stripego.BackendConfig{URL: stripego.String(cfg.APIURL), HTTPClient: hc,
		MaxNetworkRetries: stripego.Int64(1), LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull}})
	return &Client{sc: stripego.NewClient(cfg.Key, stripego.WithBackends(b)), live: KeyIsLive(cfg.Key)}, nil
}

// Account is the account the key belongs to.
type Account struct {
	ID, Name, Country, Email string
	Live                     bool
}

// Account reads GET /v1/account.
func (c *Client) Account(ctx context.Context) (Account, error) {
	a, err := c.sc.V1Accounts.Retrieve(ctx, nil)
	if err != nil {
		return Account{}, wrapErr(err)
	}
	out := Account{ID: a.ID, Country: a.Country, Email: a.Email, Live: c.live}
	if a.Settings != nil && a.Settings.Dashboard != nil {
		out.Name = a.Settings.Dashboard.DisplayName
	}
	if out.Name == "" && a.BusinessProfile != nil {
		out.Name = a.BusinessProfile.Name
	}
	return out, nil
}

// Events are the events kaisai's webhook endpoint subscribes to.
var Events = []string{"checkout.session.completed", "checkout.session.async_payment_succeeded",
	"checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded", "refund.updated", "refund.failed"}

// Endpoint is a registered webhook endpoint and its signing secret.
type Endpoint struct{ ID, Secret string }

// CreateWebhookEndpoint registers url for Events.
func (c *Client) CreateWebhookEndpoint(ctx context.Context, url string) (Endpoint, error) {
	p := &stripego.WebhookEndpointCreateParams{URL: stripego.String(url),
		EnabledEvents: stripego.StringSlice(Events), APIVersion: stripego.String(stripego.APIVersion)}
	we, err := c.sc.V1WebhookEndpoints.Create(ctx, p)
	if err != nil {
		return Endpoint{}, wrapErr(err)
	}
	return Endpoint{ID: we.ID, Secret: we.Secret}, nil
}

// DeleteWebhookEndpoint removes an endpoint; one already gone is no error.
func (c *Client) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	_, err := c.sc.V1WebhookEndpoints.Delete(ctx, id, nil)
	if err != nil && !IsNotFound(wrapErr(err)) {
		return wrapErr(err)
	}
	return nil
}

// Error is a failure answered by Stripe (Status 0: no answer).
type Error struct {
	Status                                int
	Type, Code, Message, Param, RequestID string
	err                                   error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("stripe: no answer: %v", e.err)
	}
	return fmt.Sprintf("stripe: %d %s %s: %s", e.Status, e.Type, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.err }

func wrapErr(err error) error {
	var se *stripego.Error
	if errors.As(err, &se) {
		return &Error{Status: se.HTTPStatusCode, Type: string(se.Type), Code: string(se.Code), Message: se.Msg,
			Param: se.Param, RequestID: se.RequestID, err: err}
	}
	return &Error{err: err}
}

func statusOf(err error) (int, string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Code, true
	}
	return 0, "", false
}

// IsInvalidKey: the key was refused (401 / 403).
func IsInvalidKey(err error) bool {
	s, _, ok := statusOf(err)
	return ok && (s == 401 || s == 403)
}

// IsRateLimited: 429.
func IsRateLimited(err error) bool {
	s, _, ok := statusOf(err)
	return ok && s == 429
}

// IsRetryable: 429, 5xx, 409 lock_timeout, or no answer.
func IsRetryable(err error) bool {
	s, code, ok := statusOf(err)
	return ok && (s == 0 || s == 429 || s >= 500 || (s == 409 && code == "lock_timeout"))
}

// IsNotFound: 404 resource_missing.
func IsNotFound(err error) bool {
	s, _, ok := statusOf(err)
	return ok && s == 404
}
