package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/eventually"
	"kaisai/internal/htmltest"
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
	doc := htmltest.Parse(t, organizerPage(t, a))
	for _, want := range []string{"#zoom-simulated", "#zoom-link"} {
		if !doc.Has(want) {
			t.Errorf("/integrations lacks %s", want)
		}
	}
	var passed bool
	eventually.True(t, "the simulator to validate kaisai's webhook endpoint", func() bool {
		var known bool
		passed, known = sim.WebhookValidated("kaisai-dev")
		return known
	})
	if !passed {
		t.Fatal("kaisai failed Zoom's endpoint validation: the webhook secret was not shared")
	}
}

// Without a Zoom app, Zoom features say they are not configured, and no
// page claims a simulator.
func TestZoomNotConfigured(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		body := organizerPage(t, apptest.Start(t, db))
		if doc := htmltest.Parse(t, body); !doc.Has("#zoom-unavailable") || doc.Has("#zoom-link") || doc.Has("#zoom-simulated") {
			t.Errorf("/integrations without a Zoom app:\n%s", body)
		}
	})
	// PostgreSQL without KAISAI_SECRET_KEY: Zoom is off, with the reason.
	db := testdb.Postgres(t)
	body := organizerPage(t, apptest.Start(t, db, func(c *app.Config) {
		c.SecretKey = ""
		c.ZoomClientID, c.ZoomClientSecret = "id", "secret"
	}))
	if doc := htmltest.Parse(t, body); !strings.Contains(doc.Text(), "KAISAI_SECRET_KEY") || doc.Has("#zoom-link") {
		t.Errorf("/integrations on PostgreSQL without a key:\n%s", body)
	}
}
