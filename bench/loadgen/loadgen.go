// Package loadgen is a small closed-loop HTTP load generator for the
// benchmarks in docs/BENCHMARKS.md: a fixed pool of workers, each with one
// keep-alive connection, sends requests (GET, or POST with a body) back to
// back for a bounded time and a bounded count, and records every latency.
// It reads the CPU time of the server processes it is told to watch from
// /proc at the start and end of the measured window, so that CPU per
// request covers exactly the requests counted. It refuses any target but
// the loopback address.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one measurement.
type Config struct {
	URL    string      // http://127.0.0.1:PORT/...; nothing else is accepted
	Header http.Header // sent with every request (the token)
	// Tokens, when there are any, go in turn, one a request, as
	// "Authorization: Bearer ...": traffic from many users, as the
	// adapter's token cache and audit log see it in use.
	Tokens []string
	// Body, when not nil, is POSTed as application/json with every
	// request, instead of a GET.
	Body        []byte
	Concurrency int // workers, one connection each
	Warmup      time.Duration
	Duration    time.Duration // the measured window's upper bound
	MaxRequests int           // the measured window's other bound (and the warm-up's)
	// Watch names groups of process ids whose CPU time (utime+stime from
	// /proc/PID/stat) is reported for the measured window.
	Watch map[string][]int
}

// Result is one measurement. Latencies are in microseconds, CPU in seconds.
type Result struct {
	Requests int     `json:"requests"` // answered 200, body read
	Errors   int     `json:"errors"`   // transport errors and statuses other than 200
	FirstErr string  `json:"firstError,omitempty"`
	Seconds  float64 `json:"seconds"` // wall time of the measured window
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50us"`
	P99      float64 `json:"p99us"`
	Max      float64 `json:"maxus"`
	HitCount bool    `json:"hitCount"` // the window ended at MaxRequests, not at Duration
	// CPU holds each watched group's CPU seconds in the window; "loadgen"
	// is this process's own.
	CPU map[string]float64 `json:"cpu"`
	// Switches holds each watched group's context switches in the window
	// (voluntary and not, of all its threads): a count, so unlike CPU
	// time it hardly moves with what else the machine runs; a server
	// that wakes a thread per request shows it here.
	Switches map[string]float64 `json:"switches"`
}

// Run warms up, then measures. It returns an error only when the
// measurement cannot be made at all; failed requests are counted.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := CheckLoopback(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.MaxRequests < 1 {
		return nil, errors.New("loadgen: concurrency, duration and max requests must be positive")
	}
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: cfg.Concurrency,
		MaxConnsPerHost:     cfg.Concurrency,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	if cfg.Warmup > 0 {
		phase(ctx, client, cfg, cfg.Warmup, false)
	}
	before, err := cpuTimes(cfg.Watch)
	if err != nil {
		return nil, err
	}
	switchesBefore := switchCounts(cfg.Watch)
	start := time.Now()
	p := phase(ctx, client, cfg, cfg.Duration, true)
	wall := time.Since(start)
	after, err := cpuTimes(cfg.Watch)
	if err != nil {
		return nil, err
	}
	switchesAfter := switchCounts(cfg.Watch)

	r := &Result{Requests: p.ok, Errors: p.errs, FirstErr: p.firstErr, Seconds: wall.Seconds(),
		HitCount: p.ok+p.errs >= cfg.MaxRequests, CPU: map[string]float64{}, Switches: map[string]float64{}}
	r.RPS = float64(r.Requests) / r.Seconds
	for k, v := range after {
		r.CPU[k] = v - before[k]
	}
	for k, v := range switchesAfter {
		r.Switches[k] = float64(v - switchesBefore[k])
	}
	if len(p.lat) > 0 {
		slices.Sort(p.lat)
		at := func(q float64) float64 {
			return float64(p.lat[int(q*float64(len(p.lat)-1))]) / 1e3
		}
		r.P50, r.P99, r.Max = at(0.50), at(0.99), at(1)
	}
	return r, nil
}

type phaseResult struct {
	ok, errs int
	firstErr string
	lat      []time.Duration
}

// phase runs the workers until d has passed or cfg.MaxRequests requests
// have been started, whichever comes first. A request started before the
// end is finished and counted, never cut off, so that the servers' CPU in
// the window belongs to counted requests only.
func phase(ctx context.Context, client *http.Client, cfg Config, d time.Duration, record bool) phaseResult {
	deadline := time.Now().Add(d)
	auth := make([][]string, len(cfg.Tokens)) // built once: no allocation per request
	for i, t := range cfg.Tokens {
		auth[i] = []string{"Bearer " + t}
	}
	var (
		started atomic.Int64
		mu      sync.Mutex
		total   phaseResult
		wg      sync.WaitGroup
	)
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w phaseResult
			if record {
				w.lat = make([]time.Duration, 0, 4096)
			}
			// One request per worker, reused: it is never in flight twice.
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL, nil)
			for k, v := range cfg.Header {
				req.Header[k] = v
			}
			var body bytes.Reader
			if cfg.Body != nil {
				req.Method, req.ContentLength = http.MethodPost, int64(len(cfg.Body))
				req.Header.Set("Content-Type", "application/json")
			}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := started.Add(1)
				if n > int64(cfg.MaxRequests) {
					break
				}
				if len(auth) > 0 {
					req.Header["Authorization"] = auth[n%int64(len(auth))]
				}
				if cfg.Body != nil {
					body.Reset(cfg.Body)
					req.Body = io.NopCloser(&body)
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				lat := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // interrupted: not the server's failure
					}
					if w.errs == 0 {
						w.firstErr = err.Error()
					}
					w.errs++
					continue
				}
				w.ok++
				if record {
					w.lat = append(w.lat, lat)
				}
			}
			mu.Lock()
			total.ok += w.ok
			total.errs += w.errs
			if total.firstErr == "" {
				total.firstErr = w.firstErr
			}
			total.lat = append(total.lat, w.lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// CheckLoopback refuses a URL that is not plain HTTP to 127.0.0.1.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("loadgen: url: %w", err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("loadgen: %q: only http://127.0.0.1 targets are allowed", raw)
	}
	return nil
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTick = 100

// cpuTimes returns the CPU seconds used so far by each group of processes,
// and by this process under "loadgen".
func cpuTimes(watch map[string][]int) (map[string]float64, error) {
	out := map[string]float64{}
	self, err := ProcessCPU(os.Getpid())
	if err != nil {
		return nil, err
	}
	out["loadgen"] = self
	for name, pids := range watch {
		for _, pid := range pids {
			s, err := ProcessCPU(pid)
			if err != nil {
				return nil, err
			}
			out[name] += s
		}
	}
	return out, nil
}

// ProcessCPU returns utime+stime of a process (all its threads) in seconds.
func ProcessCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("loadgen: cpu of process %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// fields after the last ')'. utime and stime are fields 14 and 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: /proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadgen: /proc/%d/stat: bad utime/stime", pid)
	}
	return float64(ut+st) / clockTick, nil
}

// switchCounts returns the context switches so far of each group of
// processes, by thread: a thread that started in the window counts from
// zero, one that ended in it is missed (Go servers keep their threads).
func switchCounts(watch map[string][]int) map[string]uint64 {
	out := map[string]uint64{}
	for name, pids := range watch {
		for _, pid := range pids {
			out[name] += ProcessSwitches(pid)
		}
	}
	return out
}

// ProcessSwitches returns the context switches of a process's threads so
// far, from /proc/PID/task/*/status; 0 for a process it cannot read.
func ProcessSwitches(pid int) uint64 {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n uint64
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/status")
		if err != nil {
			continue // gone meanwhile
		}
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				c, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// Children returns the ids of the processes whose parent is pid (nginx's
// workers), read from /proc.
func Children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out, nil
}
