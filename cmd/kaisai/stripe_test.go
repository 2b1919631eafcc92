package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"kaisai/internal/app"
	"kaisai/internal/stripesim"
)

// TestChooseStripeSimulator: the auto rule of --stripe-simulator. The
// built-in simulator runs only on the embedded default; a production-shaped
// deployment (PostgreSQL) or a chosen Stripe API never gets it unless asked.
func TestChooseStripeSimulator(t *testing.T) {
	const sim = "http://127.0.0.1:9091"
	for _, tc := range []struct {
		mode    string
		cfg     app.Config
		builtIn bool
		shared  string
		err     string // in the error; "" for none
	}{
		{mode: "auto", builtIn: true},
		{mode: "auto", cfg: app.Config{DatabaseURL: "postgres://db/kaisai"}},                      // production-shaped: real Stripe
		{mode: "auto", cfg: app.Config{StripeAPIURL: "http://127.0.0.1:12111"}},                   // stripe-mock, or another chosen server
		{mode: "auto", cfg: app.Config{ZoomClientID: "id", ZoomClientSecret: "s"}, builtIn: true}, // Zoom's settings are Zoom's
		{mode: "on", builtIn: true},
		{mode: "on", cfg: app.Config{DatabaseURL: "postgres://db/kaisai"}, builtIn: true},
		{mode: "on", cfg: app.Config{StripeAPIURL: "https://api.stripe.com"}, err: "choose one"},
		{mode: "off"},
		{mode: "off", cfg: app.Config{StripeAPIURL: "http://127.0.0.1:12111"}},
		{mode: sim, shared: sim},
		{mode: sim + "/", cfg: app.Config{DatabaseURL: "postgres://db/kaisai"}, shared: sim},
		{mode: sim, cfg: app.Config{StripeAPIURL: "https://api.stripe.com"}, err: "--stripe-api-url"},
		{mode: "127.0.0.1:9091", err: "must be auto, on, off or the URL"},
		{mode: "ftp://127.0.0.1:9091", err: "http"},
		{mode: "", err: "must be auto, on, off or the URL"},
	} {
		got, err := chooseStripeSimulator(tc.mode, tc.cfg)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("chooseStripeSimulator(%q, %+v): %v, want an error with %q", tc.mode, tc.cfg, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("chooseStripeSimulator(%q, %+v): %v", tc.mode, tc.cfg, err)
		case tc.err == "" && (got.builtIn != tc.builtIn || got.shared != tc.shared):
			t.Errorf("chooseStripeSimulator(%q, %+v) = %+v, want built-in %v, shared %q", tc.mode, tc.cfg, got, tc.builtIn, tc.shared)
		}
	}
}

// TestServeStripeSettings: KAISAI_STRIPE_API_URL and KAISAI_STRIPE_SIMULATOR
// from the environment; a PostgreSQL deployment gets the real Stripe.
func TestServeStripeSettings(t *testing.T) {
	t.Setenv("KAISAI_DATABASE_URL", "postgres://db/kaisai")
	var errOut bytes.Buffer
	cfg, _, sim, err := serveConfig(nil, &errOut)
	if err != nil || sim.builtIn || sim.shared != "" || cfg.StripeAPIURL != "" {
		t.Errorf("a PostgreSQL deployment: %+v, API %q, %v; want the real Stripe", sim, cfg.StripeAPIURL, err)
	}
	t.Setenv("KAISAI_DATABASE_URL", "")
	t.Setenv("KAISAI_STRIPE_API_URL", "http://127.0.0.1:12111/")
	cfg, _, sim, err = serveConfig(nil, &errOut)
	if err != nil || sim.builtIn || cfg.StripeAPIURL != "http://127.0.0.1:12111" {
		t.Errorf("KAISAI_STRIPE_API_URL: %+v, API %q, %v", sim, cfg.StripeAPIURL, err)
	}
	if _, _, _, err := serveConfig([]string{"--stripe-api-url", "api.stripe.com"}, &errOut); err == nil || !strings.Contains(err.Error(), "--stripe-api-url") {
		t.Errorf("a URL without a scheme: %v", err)
	}
	t.Setenv("KAISAI_STRIPE_API_URL", "")
	t.Setenv("KAISAI_STRIPE_SIMULATOR", "http://127.0.0.1:9091")
	if _, _, sim, err := serveConfig(nil, &errOut); err != nil || sim.shared != "http://127.0.0.1:9091" || sim.builtIn {
		t.Errorf("KAISAI_STRIPE_SIMULATOR=URL: %+v, %v", sim, err)
	}
	t.Setenv("KAISAI_STRIPE_SIMULATOR", "off")
	if _, _, sim, err := serveConfig(nil, &errOut); err != nil || sim.shared != "" || sim.builtIn {
		t.Errorf("KAISAI_STRIPE_SIMULATOR=off: %+v, %v", sim, err)
	}
}

func startStripesim(t *testing.T) (*stripesim.Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := stripesim.New(stripesim.Options{Seed: stripesim.DefaultSeed(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, base
}

// TestUnsaidStripeSimulatorRefused: a Stripe simulator given as the Stripe
// API URL would take payments without the banner; kaisai does not start.
func TestUnsaidStripeSimulatorRefused(t *testing.T) {
	_, base := startStripesim(t)
	var out, errOut bytes.Buffer
	// An address nobody can listen on: were the simulator not refused,
	// kaisai would fail there, not run.
	err := run([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:bad", "--zoom-simulator", "off",
		"--stripe-api-url", base}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--stripe-simulator="+base) {
		t.Errorf("--stripe-api-url naming a simulator: %v, want a refusal naming --stripe-simulator=%s", err, base)
	}
}

// TestSharedStripeSimulator: --stripe-simulator=URL checks that a `kaisai
// stripesim` answers there, and gives its seeded account's key for the
// one-click test account.
func TestSharedStripeSimulator(t *testing.T) {
	sim, base := startStripesim(t)
	shared, err := sharedStripeSimulator(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	key, err := shared.TestAccountKey(context.Background())
	if want := stripesim.DefaultSeed().Accounts[0].SecretKey; err != nil || key != want {
		t.Errorf("test account key = %q, %v; want %q", key, err, want)
	}
	if k, err := (stripeSimAdapter{sim}).TestAccountKey(context.Background()); err != nil || k != key {
		t.Errorf("built-in: %q, %v", k, err)
	}
	if _, err := sharedStripeSimulator(context.Background(), "http://127.0.0.1:1"); err == nil {
		t.Error("no simulator at the URL, and kaisai would start")
	}
}
