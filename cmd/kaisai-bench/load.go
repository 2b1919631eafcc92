package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds every request the bench makes.
const requestTimeout = 30 * time.Second

// newTransport keeps one idle keep-alive connection per client and more, so
// that no request pays for a new TCP connection; it never uses a proxy: the
// bench talks to loopback only.
func newTransport(clients int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// newHTTPClient never follows redirects: a 303 to /a/{token} is the answer
// the bench looks for.
func newHTTPClient(t *http.Transport) *http.Client {
	return &http.Client{
		Transport:     t,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// outcome is how one iteration ended.
type outcome int

const (
	accepted outcome = iota // the application (or baseline insert) was taken
	rejected                // a correct "no" (422: the schedule is full)
	failed                  // anything else: an error, an unexpected status
)

// sample is one iteration of a client.
type sample struct {
	Outcome outcome
	Post    time.Duration // the submitting request (POST) alone
	Iter    time.Duration // the whole iteration (GET form + POST)
	Detail  string        // why it was rejected or failed
}

// iteration runs one client iteration; worker and seq make names unique.
type iteration func(ctx context.Context, worker, seq int) sample

// loadResult is a phase's measured iterations: those started within the
// measured window.
type loadResult struct {
	Accepted, Rejected, Failed int
	PostLatency                []time.Duration // of accepted iterations
	IterLatency                []time.Duration // of accepted iterations
	Elapsed                    time.Duration   // from the window's start to the last measured completion
	Details                    map[string]int  // rejection and failure reasons, counted
	CPU                        time.Duration   // the process's CPU time (user+system) over the measured window
}

// CPUPerAccepted is the process's CPU time (server and load generator
// together) per accepted iteration: unlike the rate, it barely moves when
// other work shares the machine.
func (r *loadResult) CPUPerAccepted() time.Duration {
	if r.Accepted == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Accepted)
}

// Rate is accepted iterations per second of the measured window.
func (r *loadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Elapsed.Seconds()
}

func (r *loadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "accepted=%d rejected=%d failed=%d in %.2fs (%.1f/s)", r.Accepted, r.Rejected, r.Failed,
		r.Elapsed.Seconds(), r.Rate())
	if r.CPU > 0 {
		fmt.Fprintf(&b, ", process CPU %.2fs = %s per accepted", r.CPU.Seconds(), ms(r.CPUPerAccepted()))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Details)) {
		fmt.Fprintf(&b, "\n    %6d × %s", r.Details[k], k)
	}
	return b.String()
}

// drive runs clients workers, each repeating it, for warmup and then
// duration; iterations started during the warm-up are not counted. onMeasure,
// if set, is called when the measured window opens (to start a profile). The
// workers carry the pprof label role=client, so that a CPU profile of the
// process can tell the load generator from the server.
func drive(ctx context.Context, clients int, warmup, duration time.Duration, it iteration, onMeasure func()) *loadResult {
	start := time.Now()
	measureFrom := start.Add(warmup)
	until := measureFrom.Add(duration)
	ctx, cancel := context.WithDeadline(ctx, until.Add(requestTimeout))
	defer cancel()
	var cpuAtStart atomic.Int64
	t := time.AfterFunc(warmup, func() {
		cpuAtStart.Store(int64(processCPU()))
		if onMeasure != nil {
			onMeasure()
		}
	})
	defer t.Stop()

	var mu sync.Mutex
	res := &loadResult{Details: map[string]int{}}
	var last atomic.Int64 // UnixNano of the last measured completion
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("role", "client"), func(ctx context.Context) {
				var mine []sample
				for seq := 0; ctx.Err() == nil; seq++ {
					began := time.Now()
					if !began.Before(until) {
						break
					}
					s := it(ctx, w, seq)
					if began.Before(measureFrom) {
						continue
					}
					mine = append(mine, s)
					done := time.Now().UnixNano()
					for {
						old := last.Load()
						if done <= old || last.CompareAndSwap(old, done) {
							break
						}
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for _, s := range mine {
					switch s.Outcome {
					case accepted:
						res.Accepted++
						res.PostLatency = append(res.PostLatency, s.Post)
						res.IterLatency = append(res.IterLatency, s.Iter)
					case rejected:
						res.Rejected++
						res.Details["rejected: "+s.Detail]++
					default:
						res.Failed++
						res.Details["failed: "+s.Detail]++
					}
				}
			})
		})
	}
	wg.Wait()
	if l := last.Load(); l != 0 {
		res.Elapsed = max(time.Unix(0, l).Sub(measureFrom), duration)
	}
	if c := cpuAtStart.Load(); c != 0 {
		res.CPU = processCPU() - time.Duration(c)
	}
	return res
}

// driveCount runs exactly total iterations from clients workers, as fast as
// they go; for the capacity check.
func driveCount(ctx context.Context, clients, total int, it iteration) *loadResult {
	var next atomic.Int64
	var mu sync.Mutex
	res := &loadResult{Details: map[string]int{}}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				seq := int(next.Add(1)) - 1
				if seq >= total {
					return
				}
				s := it(ctx, w, seq)
				mu.Lock()
				switch s.Outcome {
				case accepted:
					res.Accepted++
					res.PostLatency = append(res.PostLatency, s.Post)
				case rejected:
					res.Rejected++
					res.Details["rejected: "+s.Detail]++
				default:
					res.Failed++
					res.Details["failed: "+s.Detail]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}
