// Package stripe is kaisai's Stripe client: the calls of DESIGN.md §8
// (checking a key, registering kaisai's webhook endpoint on an
// organizer's account, Checkout Sessions for paying an application,
// refunds) on stripe-go, webhook verification, and Stripe's errors as one
// type with predicates. It knows Stripe, not kaisai: amounts are integer
// yen, an application is only a number sent as client_reference_id.
//
// Keys: a live key (sk_live_, rk_live_) is sent to https://api.stripe.com
// and nowhere else; New refuses any other URL with one. A key travels
// only in the Authorization header: never in a URL, an error or a log
// line (stripe-go's own logging is off).
//
// Retries: each attempt has its own timeout (DefaultTimeout when the
// client makes the HTTP client). stripe-go tries a call once more when no
// answer came (a network failure, a timeout, a lost answer) or on a 429
// lock_timeout, with the same Idempotency-Key (its own random one on a
// POST the caller gave none); it does not retry Stripe's 5xx or other
// 429s. What still fails comes back as an error whose predicates
// (IsRetryable and its siblings) tell the caller, usually a job, whether
// to try again later, with the same idempotency key.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
)

// StripeAPIURL is Stripe's own API: the default, and the only place a
// live key is sent.
const StripeAPIURL = "https://api.stripe.com"

// Defaults of the client.
const (
	// DefaultTimeout bounds one attempt of a call when Config.HTTPClient
	// is nil.
	DefaultTimeout = 30 * time.Second
	// networkRetries is how many times stripe-go tries a call again.
	networkRetries = 1
)

// Config says which Stripe API to call with which key.
type Config struct {
	// APIURL is Stripe's API (StripeAPIURL when empty) or any
	// Stripe-compatible server: the simulator, stripe-mock.
	APIURL string
	// Key is the account's secret or restricted key: sk_test_, rk_test_,
	// sk_live_ or rk_live_.
	Key string
	// HTTPClient sends the requests; nil: one whose Timeout is
	// DefaultTimeout per attempt.
	HTTPClient *http.Client
}

var (
	// ErrLiveKeyOffStripe: a live key with an APIURL other than Stripe's
	// own https://api.stripe.com. New refuses it, so a live key never
	// reaches a simulator or anything else.
	ErrLiveKeyOffStripe = errors.New("stripe: a live key is only sent to " + StripeAPIURL)
	// ErrBadKey: the key is not shaped like a Stripe secret or restricted
	// key.
	ErrBadKey = errors.New("stripe: not a Stripe secret or restricted key (sk_test_, rk_test_, sk_live_, rk_live_)")
)

var keyShape = regexp.MustCompile(`^(sk|rk)_(test|live)_[A-Za-z0-9]+$`)

// KeyIsLive reports whether key is a live-mode key (sk_live_, rk_live_):
// one that moves real money.
func KeyIsLive(key string) bool {
	return strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")
}

// Client calls the Stripe API of one account. It is safe for concurrent
// use.
type Client struct {
	sc   *stripego.Client
	key  string
	live bool
}

// New is a client for cfg. It refuses a key of the wrong shape
// (ErrBadKey), a live key anywhere but Stripe (ErrLiveKeyOffStripe) and
// an APIURL that is not an http(s) URL.
func New(cfg Config) (*Client, error) {
	if !keyShape.MatchString(cfg.Key) {
		return nil, ErrBadKey
	}
	apiURL := strings.TrimSuffix(cfg.APIURL, "/")
	if apiURL == "" {
		apiURL = StripeAPIURL
	}
	live := KeyIsLive(cfg.Key)
	if live && apiURL != StripeAPIURL {
		return nil, ErrLiveKeyOffStripe
	}
	if !strings.HasPrefix(apiURL, "http://") && !strings.HasPrefix(apiURL, "https://") {
		return nil, fmt.Errorf("stripe: API URL %q is not an http(s) URL", apiURL)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	backend := &stripego.BackendConfig{
		URL:               stripego.String(apiURL),
		HTTPClient:        hc,
		MaxNetworkRetries: stripego.Int64(networkRetries),
		LeveledLogger:     &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	sc := stripego.NewClient(cfg.Key, stripego.WithBackends(stripego.NewBackendsWithConfig(backend)))
	return &Client{sc: sc, key: cfg.Key, live: live}, nil
}

// Account is the account a key belongs to.
type Account struct {
	ID, Name, Country, Email string
	// Live: the key is a live-mode key (本番); false is test mode (テストモード).
	Live bool
}

// Account reads the key's account (GET /v1/account): whether the key
// works, and the account's name (its dashboard display name, else its
// business name), country and e-mail.
func (c *Client) Account(ctx context.Context) (Account, error) {
	a, err := c.sc.V1Accounts.Retrieve(ctx, nil)
	if err != nil {
		return Account{}, c.wrap("GET /v1/account", err)
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

// Events are the event types kaisai's webhook endpoint receives.
var Events = []string{
	"checkout.session.completed",
	"checkout.session.async_payment_succeeded",
	"checkout.session.async_payment_failed",
	"checkout.session.expired",
	"charge.refunded",
	"refund.updated",
	"refund.failed",
}

// Endpoint is a webhook endpoint kaisai registered, with its signing
// secret (whsec_…), which Stripe shows only when it is created.
type Endpoint struct{ ID, Secret string }

// CreateWebhookEndpoint registers url on the account for Events, in
// stripe-go's API version so that ParseEvent reads what is sent.
func (c *Client) CreateWebhookEndpoint(ctx context.Context, url string) (Endpoint, error) {
	p := &stripego.WebhookEndpointCreateParams{
		URL:           stripego.String(url),
		EnabledEvents: stripego.StringSlice(Events),
		APIVersion:    stripego.String(stripego.APIVersion),
		Description:   stripego.String("kaisai"),
	}
	we, err := c.sc.V1WebhookEndpoints.Create(ctx, p)
	if err != nil {
		return Endpoint{}, c.wrap("POST /v1/webhook_endpoints", err)
	}
	return Endpoint{ID: we.ID, Secret: we.Secret}, nil
}

// DeleteWebhookEndpoint removes the endpoint id; one already gone is no
// error.
func (c *Client) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	_, err := c.sc.V1WebhookEndpoints.Delete(ctx, id, nil)
	if err != nil {
		err = c.wrap("DELETE /v1/webhook_endpoints/"+id, err)
		if IsNotFound(err) {
			return nil
		}
		return err
	}
	return nil
}
