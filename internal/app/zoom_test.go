package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/testdb"
	"kaisai/internal/zoomsim"
)

type simAdapter struct{ *zoomsim.Server }

func (s simAdapter) SetWebhookEndpoint(url, secret string) error {
	return s.Server.SetWebhookEndpoint("kaisai-dev", url, secret)
}

// organizerPage signs up and returns the body of /integrations.
func organizerPage(t *testing.T, a *app.App) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.PostForm(a.URL()+"/signup", url.Values{"org_name": {"設定社"}, "name": {"担当"},
		"email": {"owner@config.example"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = hc.Get(a.URL() + "/integrations")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/integrations: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// With the simulator beside it, kaisai links against it, says so on every
// organizer page, and receives its webhooks.
func TestZoomSimulatorBeside(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if _, err := sim.Start(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	a := apptest.Start(t, testdb.SQLite(t), func(c *app.Config) {
		c.ZoomSimulator = simAdapter{sim}
		c.ZoomClientID, c.ZoomClientSecret = "kaisai-dev", "kaisai-dev-secret"
	})
	body := organizerPage(t, a)
	for _, want := range []string{`id="zoom-simulated"`, `id="zoom-link"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/integrations lacks %s", want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if passed, known := sim.WebhookValidated("kaisai-dev"); known {
			if !passed {
				t.Fatal("kaisai failed Zoom's endpoint validation: the webhook secret was not shared")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the simulator never validated kaisai's webhook endpoint")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Without a Zoom app, Zoom features say they are not configured, and no
// page claims a simulator.
func TestZoomNotConfigured(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		body := organizerPage(t, apptest.Start(t, db))
		if !strings.Contains(body, `id="zoom-unavailable"`) || strings.Contains(body, `id="zoom-link"`) ||
			strings.Contains(body, `id="zoom-simulated"`) {
			t.Errorf("/integrations without a Zoom app:\n%s", body)
		}
	})
	// PostgreSQL without KAISAI_SECRET_KEY: Zoom is off, with the reason.
	db := testdb.Postgres(t)
	body := organizerPage(t, apptest.Start(t, db, func(c *app.Config) {
		c.SecretKey = ""
		c.ZoomClientID, c.ZoomClientSecret = "id", "secret"
	}))
	if !strings.Contains(body, "KAISAI_SECRET_KEY") || strings.Contains(body, `id="zoom-link"`) {
		t.Errorf("/integrations on PostgreSQL without a key:\n%s", body)
	}
}
