package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/stripesim"
)

// simChoice is the Stripe simulator kaisai talks to, if any.
type simChoice struct {
	builtIn bool   // run the built-in simulator beside kaisai
	shared  string // the URL of a running `kaisai stripesim`, shared by several instances
}

// chooseStripeSimulator decides whether payments are simulated, from
// --stripe-simulator. A fake Stripe must never take a real deployment's
// payments by accident, so auto runs the built-in simulator only on the
// embedded default: no --database-url (a production-shaped deployment)
// and no --stripe-api-url (Stripe, or a server the operator chose). There
// it takes `on`, or the URL of a shared `kaisai stripesim`.
func chooseStripeSimulator(mode string, cfg app.Config) (simChoice, error) {
	switch mode {
	case "auto":
		return simChoice{builtIn: cfg.DatabaseURL == "" && cfg.StripeAPIURL == ""}, nil
	case "on":
		if cfg.StripeAPIURL != "" {
			return simChoice{}, errors.New("--stripe-simulator=on runs the built-in simulator, with --stripe-api-url (KAISAI_STRIPE_API_URL) set: choose one")
		}
		return simChoice{builtIn: true}, nil
	case "off":
		return simChoice{}, nil
	}
	if !strings.Contains(mode, "://") {
		return simChoice{}, fmt.Errorf("--stripe-simulator must be auto, on, off or the URL of a running `kaisai stripesim` (http://host:port), not %q", mode)
	}
	u, err := httpURL("--stripe-simulator", mode)
	if err != nil {
		return simChoice{}, err
	}
	if cfg.StripeAPIURL != "" {
		return simChoice{}, errors.New("--stripe-simulator=URL serves the API: unset --stripe-api-url (KAISAI_STRIPE_API_URL)")
	}
	return simChoice{shared: u}, nil
}

// stripeSimState reads GET /_sim/state of the `kaisai stripesim` at base.
func stripeSimState(ctx context.Context, base string, timeout time.Duration) (stripesim.Snapshot, error) {
	var snap stripesim.Snapshot
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_sim/state", nil)
	if err != nil {
		return snap, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return snap, fmt.Errorf("no Stripe simulator answers: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return snap, fmt.Errorf("no Stripe simulator answers: %w", err)
	}
	var keys map[string]json.RawMessage
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &keys) != nil || keys["accounts"] == nil || keys["webhook_endpoints"] == nil {
		return snap, fmt.Errorf("not a kaisai stripesim: GET /_sim/state answered %s", resp.Status)
	}
	if err := json.Unmarshal(body, &snap); err != nil {
		return snap, fmt.Errorf("the state of the Stripe simulator: %w", err)
	}
	return snap, nil
}

// testAccountKey is the secret key of the simulator's seeded test account.
func testAccountKey(snap stripesim.Snapshot) (string, error) {
	seeded := stripesim.DefaultSeed().Accounts[0].ID
	for _, a := range snap.Accounts {
		if a.ID == seeded {
			return a.SecretKey, nil
		}
	}
	return "", fmt.Errorf("the Stripe simulator has no account %s: start it with its seed", seeded)
}

// stripeSimAdapter is app.StripeSimulator over a stripesim.Server beside kaisai.
type stripeSimAdapter struct{ *stripesim.Server }

func (s stripeSimAdapter) TestAccountKey(context.Context) (string, error) {
	return testAccountKey(s.State())
}

// sharedStripeSim is app.StripeSimulator over a `kaisai stripesim` at a URL.
type sharedStripeSim struct{ url string }

func (s sharedStripeSim) BaseURL() string { return s.url }

func (s sharedStripeSim) TestAccountKey(ctx context.Context) (string, error) {
	snap, err := stripeSimState(ctx, s.url, 10*time.Second)
	if err != nil {
		return "", err
	}
	return testAccountKey(snap)
}

// sharedStripeSimulator checks that a `kaisai stripesim` answers at simURL.
func sharedStripeSimulator(ctx context.Context, simURL string) (sharedStripeSim, error) {
	if _, err := stripeSimState(ctx, simURL, 10*time.Second); err != nil {
		return sharedStripeSim{}, fmt.Errorf("--stripe-simulator=%s: %w", simURL, err)
	}
	return sharedStripeSim{url: simURL}, nil
}

// refuseUnsaidStripeSimulator keeps a Stripe simulator from standing in
// for Stripe without the banner: a --stripe-api-url that is a `kaisai
// stripesim` must be named with --stripe-simulator. A server that does not
// answer as one (stripe-mock, a proxy) is taken for what it claims to be.
func refuseUnsaidStripeSimulator(ctx context.Context, cfg app.Config) error {
	if cfg.StripeAPIURL == "" || cfg.StripeAPIURL == app.StripeAPI {
		return nil
	}
	if _, err := stripeSimState(ctx, cfg.StripeAPIURL, 5*time.Second); err == nil {
		return fmt.Errorf("--stripe-api-url %s is a Stripe simulator: name it with --stripe-simulator=%s instead, so that every page says payments are simulated",
			cfg.StripeAPIURL, cfg.StripeAPIURL)
	}
	return nil
}

// startStripeSimulator starts the Stripe simulator two ports after kaisai's
// (the Zoom simulator has the next one; a free port if that is taken), its
// state in the data directory.
func startStripeSimulator(ctx context.Context, cfg app.Config) (*stripesim.Server, error) {
	opts := stripesim.Options{Seed: stripesim.DefaultSeed(), Logger: cfg.Logger.With("component", "stripesim")}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("stripe simulator: %w", err)
		}
		opts.StateFile = filepath.Join(cfg.DataDir, "stripesim.json")
	}
	sim, err := stripesim.New(opts)
	if err != nil {
		return nil, err
	}
	// A stable address: connections keep the api_url they were made against.
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	simPort := 0
	if p, err := strconv.Atoi(port); err == nil && p > 0 {
		simPort = p + 2
	}
	if _, err := sim.Start(ctx, net.JoinHostPort(host, strconv.Itoa(simPort))); err != nil {
		if simPort == 0 {
			sim.Close()
			return nil, err
		}
		cfg.Logger.Warn("Stripe simulator: its usual port is taken; using another one", "err", err)
		if _, err := sim.Start(ctx, net.JoinHostPort(host, "0")); err != nil {
			sim.Close()
			return nil, err
		}
	}
	cfg.Logger.Info("Stripe simulator beside kaisai — not the real Stripe", "url", sim.BaseURL(), "ui", sim.BaseURL()+"/")
	return sim, nil
}
