package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"kaisai/internal/testdb"
)

// TestApplySmoke runs the whole bench briefly: it must set kaisai up, pass
// the capacity check, accept applications and end with the result line. It
// asserts behaviour only; speed goals live in the bench's output.
func TestApplySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kaisai twice over; skipped with -short")
	}
	dbs := map[string][]string{"sqlite": nil}
	if u := os.Getenv(testdb.PostgresEnv); u != "" {
		dbs["postgres"] = []string{"--postgres", u}
	}
	for name, extra := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out bytes.Buffer
			args := append([]string{"apply", "--clients", "4", "--duration", "300ms", "--warmup", "100ms",
				"--check-capacity", "10"}, extra...)
			if err := run(ctx, args, &out, io.Discard); err != nil {
				t.Fatalf("kaisai-bench %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			last := lines[len(lines)-1]
			if !lineRE.MatchString(last) {
				t.Errorf("last line %q is not the result line\n%s", last, out.String())
			}
			if strings.HasPrefix(last, "apply rate=0.0 ") || strings.Contains(last, "baseline_rate=0.0 ") {
				t.Errorf("nothing was accepted: %s", out.String())
			}
			if !strings.Contains(out.String(), "capacity check ok: schedule of capacity 10 hit by 30 applications") {
				t.Errorf("no passed capacity check in the output:\n%s", out.String())
			}
		})
	}
}

func TestApplyFlags(t *testing.T) {
	bad := [][]string{
		{"--clients", "0"},
		{"--duration", "0s"},
		{"--check-capacity", "-1"},
		{"extra"},
	}
	for _, args := range bad {
		if _, err := parseApplyFlags(args, io.Discard); err == nil {
			t.Errorf("parseApplyFlags(%q) accepted", args)
		}
	}
	c, err := parseApplyFlags(nil, io.Discard)
	if err != nil || c.Clients != 32 || c.Duration != 10*time.Second || c.PostgresURL != "" {
		t.Errorf("defaults = %+v, %v", c, err)
	}
}
