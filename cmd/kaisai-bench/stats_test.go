package main

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond // 1ms … 100ms
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"median of even is the lower", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p1 of 1..100", hundred, 1, 1 * time.Millisecond},
		{"tiny p is the min", hundred, 0.001, 1 * time.Millisecond},
		{"p99 of ten is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p90 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	in := []time.Duration{30, 10, 20, 40}
	orig := slices.Clone(in)
	s := summarize(in)
	if s.N != 4 || s.P50 != 20 || s.P99 != 40 || s.Max != 40 {
		t.Errorf("summarize = %+v", s)
	}
	if !slices.Equal(in, orig) {
		t.Errorf("summarize reordered its input: %v", in)
	}
}

// lineRE is the result line exactly as issue 3 asks for it.
var lineRE = regexp.MustCompile(`^apply rate=\d+\.\d p50_ms=\d+\.\d p99_ms=\d+\.\d baseline_rate=\d+\.\d ratio=\d+\.\d\d$`)

func TestResultLine(t *testing.T) {
	tests := []struct {
		r    result
		want string
	}{
		{result{Rate: 1234.54, P50: 12345 * time.Microsecond, P99: 48 * time.Millisecond, BaselineRate: 4321.06},
			"apply rate=1234.5 p50_ms=12.3 p99_ms=48.0 baseline_rate=4321.1 ratio=0.29"},
		{result{Rate: 1500, P50: 900 * time.Microsecond, P99: 150 * time.Millisecond, BaselineRate: 3000},
			"apply rate=1500.0 p50_ms=0.9 p99_ms=150.0 baseline_rate=3000.0 ratio=0.50"},
		// No baseline (--skip-baseline): the ratio is 0, not Inf or NaN.
		{result{Rate: 10, P50: time.Millisecond, P99: 2 * time.Millisecond},
			"apply rate=10.0 p50_ms=1.0 p99_ms=2.0 baseline_rate=0.0 ratio=0.00"},
		{result{}, "apply rate=0.0 p50_ms=0.0 p99_ms=0.0 baseline_rate=0.0 ratio=0.00"},
	}
	for _, tt := range tests {
		got := tt.r.Line()
		if got != tt.want {
			t.Errorf("Line() = %q, want %q", got, tt.want)
		}
		if !lineRE.MatchString(got) {
			t.Errorf("Line() = %q does not have the required form", got)
		}
	}
}

func TestLoadResultRate(t *testing.T) {
	r := loadResult{Accepted: 2500, Elapsed: 2 * time.Second}
	if got := r.Rate(); got != 1250 {
		t.Errorf("Rate = %v, want 1250", got)
	}
	if got := (&loadResult{Accepted: 5}).Rate(); got != 0 {
		t.Errorf("Rate with no elapsed time = %v, want 0", got)
	}
}
