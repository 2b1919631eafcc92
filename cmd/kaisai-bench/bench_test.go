package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/testdb"
	"kaisai/internal/zoomsim"
)

// TestApplySmoke runs the whole bench briefly: it must set kaisai up, pass
// the capacity check, accept applications and end with the result line. It
// asserts behaviour only; speed goals live in the bench's output.
func TestApplySmoke(t *testing.T) {
	eachSmokeRun(t, []string{"apply", "--clients", "4", "--duration", "300ms", "--warmup", "100ms", "--check-capacity", "10"},
		func(t *testing.T, out string, lines []string) {
			last := lines[len(lines)-1]
			if !lineRE.MatchString(last) {
				t.Errorf("last line %q is not the result line\n%s", last, out)
			}
			if strings.HasPrefix(last, "apply rate=0.0 ") || strings.Contains(last, "baseline_rate=0.0 ") {
				t.Errorf("nothing was accepted: %s", out)
			}
			if !strings.Contains(out, "capacity check ok: schedule of capacity 10 hit by 30 applications") {
				t.Errorf("no passed capacity check in the output:\n%s", out)
			}
		})
}

// eachSmokeRun runs kaisai-bench with args on SQLite and on PostgreSQL (a
// half that cannot run says so, as testdb's tests do), and hands check the
// output and its lines. It starts kaisai (and the Zoom simulator), so
// -short skips it.
func eachSmokeRun(t *testing.T, args []string, check func(t *testing.T, out string, lines []string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts kaisai and the Zoom simulator; skipped with -short")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var extra []string
			if name == "postgres" {
				extra = []string{"--postgres", testdb.PostgresURL(t)}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out bytes.Buffer
			args := append(slices.Clone(args), extra...)
			if err := run(ctx, args, &out, io.Discard); err != nil {
				t.Fatalf("kaisai-bench %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			check(t, out.String(), strings.Split(strings.TrimSpace(out.String()), "\n"))
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

// zoomsyncLineRE is the zoomsync result line exactly as its issue asks.
var zoomsyncLineRE = regexp.MustCompile(`^zoomsync registrants=(\d+) seconds=\d+\.\d\d min_seconds=\d+\.\d\d ratio=\d+\.\d{3} ` +
	`duplicates=(\d+) lost=(\d+) http429=\d+$`)

// TestZoomsyncSmoke runs zoomsync with a few batches' worth of people: every
// one must reach Zoom once, and the last line must be the result line.
func TestZoomsyncSmoke(t *testing.T) {
	eachSmokeRun(t, []string{"zoomsync", "-n", "95", "--idle", "2"}, func(t *testing.T, out string, lines []string) {
		m := zoomsyncLineRE.FindStringSubmatch(lines[len(lines)-1])
		if m == nil {
			t.Fatalf("last line %q is not the result line\n%s", lines[len(lines)-1], out)
		}
		if m[1] != "95" || m[2] != "0" || m[3] != "0" {
			t.Errorf("registrants=%s duplicates=%s lost=%s, want 95, 0, 0\n%s", m[1], m[2], m[3], out)
		}
		if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], "idle: 2 single 入金済") {
			t.Errorf("no idle latency line before the result line:\n%s", out)
		}
	})
}

func TestZoomsyncFlags(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-n", "5000"}, {"--markers", "0"}, {"--idle", "0"}, {"extra"}} {
		if _, err := parseZoomsyncFlags(args, io.Discard); err == nil {
			t.Errorf("parseZoomsyncFlags(%q) accepted", args)
		}
	}
	c, err := parseZoomsyncFlags(nil, io.Discard)
	if err != nil || c.N != 4999 || c.Markers != 32 || c.Idle != 20 || c.PostgresURL != "" {
		t.Errorf("defaults = %+v, %v", c, err)
	}
}

func TestZoomsyncMinAndLine(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{4999, 16700 * time.Millisecond}, // 167 batch adds at Pro's Heavy 10/s
		{4980, 16600 * time.Millisecond}, // exactly 166 batches
		{31, 200 * time.Millisecond},
		{1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := minSyncTime(tt.n, zoomsim.PlanPro); got != tt.want {
			t.Errorf("minSyncTime(%d, Pro) = %v, want %v", tt.n, got, tt.want)
		}
	}
	r := zoomsyncResult{Registrants: 4999, Elapsed: 18234 * time.Millisecond, Min: minSyncTime(4999, zoomsim.PlanPro), HTTP429: 3}
	want := "zoomsync registrants=4999 seconds=18.23 min_seconds=16.70 ratio=1.092 duplicates=0 lost=0 http429=3"
	if got := r.Line(); got != want || !zoomsyncLineRE.MatchString(got) {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

// payLineRE is the pay result line exactly as its issue asks.
var payLineRE = regexp.MustCompile(`^pay payments=(\d+) p50_ms=\d+ p95_ms=\d+ max_ms=\d+ lost=(\d+) duplicates=(\d+)$`)

// TestPaySmoke runs pay with a few payers over a short spread: each must
// pay at Stripe and reach Zoom once through the webhook alone, and the
// last line must be the result line.
func TestPaySmoke(t *testing.T) {
	eachSmokeRun(t, []string{"pay", "-n", "40", "--spread", "500ms", "--clients", "4"}, func(t *testing.T, out string, lines []string) {
		m := payLineRE.FindStringSubmatch(lines[len(lines)-1])
		if m == nil {
			t.Fatalf("last line %q is not the result line\n%s", lines[len(lines)-1], out)
		}
		if m[1] != "40" || m[2] != "0" || m[3] != "0" {
			t.Errorf("payments=%s lost=%s duplicates=%s, want 40, 0, 0\n%s", m[1], m[2], m[3], out)
		}
		if !strings.Contains(out, "Zoom: ") || !strings.Contains(out, "40 approved registrants") {
			t.Errorf("not every payer approved on Zoom:\n%s", out)
		}
		if !strings.Contains(out, " a call; 0 named someone already added)") {
			t.Errorf("kaisai added someone to Zoom twice:\n%s", out)
		}
	})
}

func TestPayFlags(t *testing.T) {
	bad := [][]string{{"-n", "0"}, {"-n", "5000"}, {"--via", "mail"}, {"--via", "api", "--return"},
		{"--deadline", "0s"}, {"--clients", "0"}, {"extra"}}
	for _, args := range bad {
		if _, err := parsePayFlags(args, io.Discard); err == nil {
			t.Errorf("parsePayFlags(%q) accepted", args)
		}
	}
	c, err := parsePayFlags(nil, io.Discard)
	if err != nil || c.N != 1000 || c.Spread != 10*time.Second || c.Via != "page" || c.Return || c.PostgresURL != "" {
		t.Errorf("defaults = %+v, %v", c, err)
	}
}

func TestPayLine(t *testing.T) {
	r := payResult{Payments: 1000, P50: 812400 * time.Microsecond, P95: 1903 * time.Millisecond, Max: 4200 * time.Millisecond}
	want := "pay payments=1000 p50_ms=812 p95_ms=1903 max_ms=4200 lost=0 duplicates=0"
	if got := r.Line(); got != want || !payLineRE.MatchString(got) {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

// TestPaySmokeOtherWays pays through the control API, and through the
// hosted page with the browser coming back to kaisai's success URL.
func TestPaySmokeOtherWays(t *testing.T) {
	for _, way := range [][]string{{"--via", "api"}, {"--return"}} {
		t.Run(strings.Join(way, ""), func(t *testing.T) {
			args := append([]string{"pay", "-n", "10", "--spread", "200ms", "--clients", "2"}, way...)
			eachSmokeRun(t, args, func(t *testing.T, out string, lines []string) {
				m := payLineRE.FindStringSubmatch(lines[len(lines)-1])
				if m == nil || m[1] != "10" || m[2] != "0" || m[3] != "0" {
					t.Errorf("want 10 payments, none lost or doubled:\n%s", out)
				}
				if way[0] == "--return" && !strings.Contains(out, "back at kaisai's success URL: 10 of 10 answered 303") {
					t.Errorf("the payers did not all come back to kaisai:\n%s", out)
				}
			})
		})
	}
}
