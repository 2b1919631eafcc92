package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of sorted
// durations: the smallest value that at least p% of the values do not
// exceed. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencySummary is the percentiles of a phase's latencies.
type latencySummary struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

func summarize(ds []time.Duration) latencySummary {
	s := slices.Clone(ds)
	slices.Sort(s)
	l := latencySummary{N: len(s), P50: percentile(s, 50), P90: percentile(s, 90), P99: percentile(s, 99)}
	if len(s) > 0 {
		l.Max = s[len(s)-1]
	}
	return l
}

func (l latencySummary) String() string {
	return fmt.Sprintf("n=%d p50=%s p90=%s p99=%s max=%s", l.N, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max))
}

// ms is a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", millis(d)) }

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// result is what the last line reports.
type result struct {
	Rate         float64 // accepted applications per second
	P50, P99     time.Duration
	BaselineRate float64 // baseline INSERT requests per second
}

// ratio is Rate over BaselineRate, 0 without a baseline.
func (r result) ratio() float64 {
	if r.BaselineRate <= 0 {
		return 0
	}
	return r.Rate / r.BaselineRate
}

// Line is the result line, exactly:
//
//	apply rate=<accepted per s> p50_ms=<> p99_ms=<> baseline_rate=<per s> ratio=<rate/baseline>
func (r result) Line() string {
	return fmt.Sprintf("apply rate=%.1f p50_ms=%.1f p99_ms=%.1f baseline_rate=%.1f ratio=%.2f",
		r.Rate, millis(r.P50), millis(r.P99), r.BaselineRate, r.ratio())
}
