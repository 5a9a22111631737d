package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/bench/internal/install"
	"github.com/cardgate/cardgate/bench/loadgen"
)

// Options are the knobs of one invocation.
type Options struct {
	Rounds      int
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency []int
	MaxRequests int
	Targets     []string // empty: all
	// Users is how many users the requests come from, each with its own
	// token, in turn (1: every request carries the same token).
	Users int
	// Body, when positive, makes every request a POST of a JSON body of
	// that many bytes, instead of a GET.
	Body     int
	Cardgate string // a binary; empty: go build ./cmd/cardgate
	Nginx    string
	JSON     string
	Keep     bool
	// Instructions counts the proxies' instructions per request under
	// valgrind instead of timing them (instructions.go).
	Instructions bool
}

// Defaults are the settings of the figures in docs/BENCHMARKS.md.
func Defaults() Options {
	return Options{Rounds: 5, Duration: 5 * time.Second, Warmup: time.Second, Users: 1,
		Concurrency: []int{1, 16, 64}, MaxRequests: 2_000_000, Nginx: "/usr/sbin/nginx"}
}

// The targets, in the order of the table. reverseproxy is the baseline
// every ratio is taken against.
var allTargets = []string{"upstream", "reverseproxy", "reverseproxy-2", "reverseproxy-linked", "reverseproxy-h1", "nginx", "adapter-remote", "adapter-local", "nginx-auth"}

const baseline = "reverseproxy"

var targetDesc = map[string]string{
	"upstream":            "the echo upstream, no proxy (the ceiling of the setup)",
	"reverseproxy":        "bare `httputil.ReverseProxy`, tuned transport (the baseline)",
	"reverseproxy-2":      "a second process of the same bare proxy: its ratios to the baseline are the run's noise (an A/A test)",
	"reverseproxy-linked": "the same bare proxy in a binary that links all of cardgate's packages without calling them (`-tags linked`): what the binary's size and start-up data cost the same code",
	"reverseproxy-h1":     "the same bare proxy forwarding through the adapter's own transport (`internal/h1client` around the tuned `http.Transport`): what the adapter's handler costs over the same transport",
	"nginx":               "nginx `proxy_pass`, keep-alive to the upstream",
	"adapter-remote":      "`cardgate adapter`, `issuer.mode: remote`, default config (audit to the store)",
	"adapter-local":       "`cardgate adapter`, `issuer.mode: local`, default config (audit to the store)",
	"nginx-auth":          "nginx `auth_request` → adapter `/auth` (remote mode), then `proxy_pass`",
}

// A target is one way of reaching the upstream. Every target gets the same
// request, the bearer token included: the bare proxies and nginx pass it
// on, the adapter checks it.
type target struct {
	name  string
	url   string
	proxy []int // the processes doing the proxying, whose CPU is "proxy"
}

// Sample is one measurement: one target at one concurrency in one round.
type Sample struct {
	Round  int             `json:"round"`
	Target string          `json:"target"`
	C      int             `json:"c"`
	Result *loadgen.Result `json:"result"`
	// Instructions the proxy executed in the window (-instructions).
	Instructions int64 `json:"instructions,omitempty"`
}

// Package and user of the benchmark's installation.
const (
	benchUser    = install.User
	benchPackage = install.Package
	benchPath    = install.Path
)

type session struct {
	opts   Options
	dir    string
	self   string
	log    io.Writer
	procs  []*proc
	env    []string // cardgate's environment: only --data counts
	bin    string   // cardgate
	nprocs int      // worker_processes for nginx
	tokens []string // a valid token for each user (-users) and benchPackage, benchUser's first

	upstreamPid, issuerPid int
	loadBefore             string
	started                time.Time      // when the run began, before anything was set up
	nginx                  bool           // an nginx target runs
	dumps                  map[string]int // callgrind dumps written, per target (-instructions)
}

type proc struct {
	name  string
	cmd   *exec.Cmd
	group bool // nginx: stop its workers with it
	done  chan struct{}
}

// Run sets everything up, measures, prints the report to out and returns
// the samples. Everything it started is stopped before it returns.
func Run(ctx context.Context, opts Options, self string, out, log io.Writer) ([]Sample, error) {
	names, err := selectTargets(opts.Targets, opts.Instructions)
	if err != nil {
		return nil, err
	}
	if opts.Instructions {
		if err := checkValgrind(); err != nil {
			return nil, err
		}
	}
	needNginx := slices.Contains(names, "nginx") || slices.Contains(names, "nginx-auth")
	if needNginx {
		if _, err := os.Stat(opts.Nginx); err != nil {
			return nil, fmt.Errorf("nginx not found at %s: install it with 'apt-get install nginx-light', or leave out the nginx targets with -targets", opts.Nginx)
		}
	}
	dir, err := os.MkdirTemp("", "cardgate-bench-")
	if err != nil {
		return nil, err
	}
	s := &session{opts: opts, dir: dir, self: self, log: log, nprocs: runtime.GOMAXPROCS(0), dumps: map[string]int{}}
	defer func() {
		s.stopAll()
		if opts.Keep {
			fmt.Fprintf(log, "kept %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()

	s.loadBefore, s.nginx, s.started = loadAvg(), needNginx, time.Now()
	targets, err := s.setUp(ctx, names)
	if err != nil {
		return nil, err
	}
	samples, err := s.measure(ctx, names, targets)
	if err != nil {
		return samples, err
	}
	if opts.JSON != "" {
		b, _ := json.MarshalIndent(map[string]any{"machine": s.machine(), "samples": samples}, "", "  ")
		if err := os.WriteFile(opts.JSON, b, 0o644); err != nil {
			return samples, err
		}
	}
	if opts.Instructions {
		reportInstructions(out, s, names, samples)
	} else {
		report(out, s, names, samples)
	}
	return samples, nil
}

// selectTargets returns the targets to run, in the table's order: those
// asked for and the baseline, or all of them (all that can be counted,
// with -instructions).
func selectTargets(want []string, counting bool) ([]string, error) {
	all := allTargets
	if counting {
		all = countedTargets
	}
	var names []string
	for _, n := range all {
		if n == baseline || len(want) == 0 || slices.Contains(want, n) {
			names = append(names, n)
		}
	}
	for _, w := range want {
		if !slices.Contains(allTargets, w) {
			return nil, fmt.Errorf("-targets: unknown target %q (known: %s)", w, strings.Join(allTargets, ", "))
		}
		if !slices.Contains(all, w) {
			return nil, fmt.Errorf("-targets: %s is not counted with -instructions (counted: %s): valgrind counts one Go process's instructions", w, strings.Join(all, ", "))
		}
	}
	return names, nil
}

// buildLinked builds this benchmark again with -tags linked (linked.go).
func (s *session) buildLinked(ctx context.Context) (string, error) {
	fmt.Fprintln(s.log, "building the benchmark with cardgate linked in")
	bin := filepath.Join(s.dir, "bench-linked")
	return bin, install.GoBuild(ctx, bin, "bench/run", "run from inside the repository, or leave out reverseproxy-linked with -targets", "linked")
}

// setUp starts the servers the chosen targets need and checks that each
// target answers 200.
func (s *session) setUp(ctx context.Context, names []string) (map[string]*target, error) {
	has := func(n string) bool { return slices.Contains(names, n) }
	ts := map[string]*target{}

	upURL, up, err := s.startLine(ctx, "upstream", nil, s.self, "upstream", "-listen", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ts["upstream"] = &target{name: "upstream", url: upURL + benchPath}

	// The baseline, its twin for the A/A row (the same binary), the same
	// proxy built with cardgate linked in, and with the adapter's transport.
	for _, name := range []string{baseline, "reverseproxy-2", "reverseproxy-linked", "reverseproxy-h1"} {
		if !has(name) {
			continue
		}
		bin := s.self
		args := []string{"proxy", "-listen", "127.0.0.1:0", "-target", upURL}
		switch name {
		case "reverseproxy-linked":
			if bin, err = s.buildLinked(ctx); err != nil {
				return nil, err
			}
		case "reverseproxy-h1":
			args = append(args, "-h1client")
		}
		u, pid, err := s.startProxy(ctx, name, nil, bin, args...)
		if err != nil {
			return nil, err
		}
		ts[name] = &target{name: name, url: u + benchPath, proxy: []int{pid}}
	}

	if has("nginx") {
		u, pids, err := s.startNginx(ctx, "nginx", func(listen string) string {
			return fmt.Sprintf(nginxProxyPass, hostPort(upURL), listen)
		})
		if err != nil {
			return nil, err
		}
		ts["nginx"] = &target{name: "nginx", url: u + benchPath, proxy: pids}
	}

	var issuerPid int
	if has("adapter-remote") || has("adapter-local") || has("nginx-auth") {
		remote, local, ipid, err := s.startCardgate(ctx, upURL, has("adapter-local"))
		if err != nil {
			return nil, err
		}
		issuerPid = ipid
		ts["adapter-remote"] = &target{name: "adapter-remote", url: remote.url + benchPath, proxy: []int{remote.pid}}
		if local != nil {
			ts["adapter-local"] = &target{name: "adapter-local", url: local.url + benchPath, proxy: []int{local.pid}}
		}
		if has("nginx-auth") {
			u, pids, err := s.startNginx(ctx, "nginx-auth", func(listen string) string {
				return fmt.Sprintf(nginxAuth, hostPort(upURL), hostPort(remote.url), listen)
			})
			if err != nil {
				return nil, err
			}
			ts["nginx-auth"] = &target{name: "nginx-auth", url: u + benchPath, proxy: append(pids, remote.pid)}
		}
	}
	s.upstreamPid, s.issuerPid = up, issuerPid

	for _, n := range names {
		if err := s.ready(ctx, ts[n]); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// measure runs the rounds. Within a round, each concurrency runs every
// target back to back, so that the ratios compare points measured close
// in time; the order of the targets rotates from round to round, so that
// none always runs first, or always after the same neighbour.
func (s *session) measure(ctx context.Context, names []string, ts map[string]*target) ([]Sample, error) {
	var samples []Sample
	total := s.opts.Rounds * len(s.opts.Concurrency) * len(names)
	for r := range s.opts.Rounds {
		order := append(slices.Clone(names[r%len(names):]), names[:r%len(names)]...)
		for _, c := range s.opts.Concurrency {
			for _, n := range order {
				fmt.Fprintf(s.log, "[%d/%d] round %d, c=%d, %s\n", len(samples)+1, total, r+1, c, n)
				x := &Sample{Target: n, C: c}
				var err error
				if s.opts.Instructions {
					x, err = s.count(ctx, ts[n], c)
				} else {
					x.Result, err = s.load(ctx, ts[n], c, s.opts.Warmup, s.opts.Duration)
				}
				if err != nil {
					return samples, fmt.Errorf("round %d, c=%d, %s: %w", r+1, c, n, err)
				}
				x.Round = r + 1
				samples = append(samples, *x)
			}
		}
	}
	return samples, nil
}

// load runs the load generator, a process of its own, against one target:
// warmup, then a window of at most duration and -n requests.
func (s *session) load(ctx context.Context, t *target, c int, warmup, duration time.Duration) (*loadgen.Result, error) {
	o := s.opts
	args := []string{"load", "-url", t.url, "-c", strconv.Itoa(c), "-warmup", warmup.String(),
		"-d", duration.String(), "-n", strconv.Itoa(o.MaxRequests),
		"-watch", "upstream=" + strconv.Itoa(s.upstreamPid)}
	if len(t.proxy) > 0 {
		args = append(args, "-watch", "proxy="+joinInts(t.proxy))
	}
	if s.issuerPid != 0 {
		args = append(args, "-watch", "issuer="+strconv.Itoa(s.issuerPid))
	}
	if o.Body > 0 {
		args = append(args, "-body", strconv.Itoa(o.Body))
	}
	if len(s.tokens) > 0 {
		args = append(args, "-tokens", s.tokensFile())
	}
	// Bounded even if the load generator hangs.
	ctx, cancel := context.WithTimeout(ctx, warmup+duration+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.self, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("load generator: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r loadgen.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("load generator said %q: %v", b, err)
	}
	return &r, nil
}

// ready waits until the target answers 200 to the benchmark's request.
func (s *session) ready(ctx context.Context, t *target) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(20 * time.Second)
	if s.opts.Instructions {
		deadline = deadline.Add(2 * time.Minute) // valgrind starts slowly
	}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", t.url, nil)
		if len(s.tokens) > 0 {
			req.Header.Set("Authorization", "Bearer "+s.tokens[0])
		}
		res, err := client.Do(req)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(io.LimitReader(res.Body, 4096))
			res.Body.Close()
			if res.StatusCode == 200 && string(body) == echoBody {
				return nil
			}
			err = fmt.Errorf("status %d: %s", res.StatusCode, body)
		}
		if name := s.exited(t.proxy); name != "" {
			// Under valgrind a proxy that dies would otherwise be waited
			// for minutes.
			return fmt.Errorf("%s (%s) is not ready: %s exited; logs in %s (-keep keeps them)", t.name, t.url, name, s.dir)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s (%s) is not ready: %v; logs in %s (-keep keeps them)", t.name, t.url, err, s.dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startLine starts a server that says "listening on URL" on its first line
// of output, and returns the URL and its process id.
func (s *session) startLine(ctx context.Context, name string, env []string, bin string, args ...string) (string, int, error) {
	url, cmd, err := install.StartLine(ctx, filepath.Join(s.dir, name+".log"), name, env, bin, args...)
	if cmd != nil {
		s.track(name, cmd, false)
	}
	if err != nil {
		return "", 0, err
	}
	return url, cmd.Process.Pid, nil
}

// startProxy is startLine for a proxy, which runs under valgrind when
// instructions are counted.
func (s *session) startProxy(ctx context.Context, name string, env []string, bin string, args ...string) (string, int, error) {
	bin, env, args = s.wrap(name, bin, env, args)
	return s.startLine(ctx, name, env, bin, args...)
}

func (s *session) track(name string, cmd *exec.Cmd, group bool) *proc {
	p := &proc{name: name, cmd: cmd, group: group, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	return p
}

// exited returns the name of a started process among pids that has
// exited, or "".
func (s *session) exited(pids []int) string {
	for _, p := range s.procs {
		if !slices.Contains(pids, p.cmd.Process.Pid) {
			continue
		}
		select {
		case <-p.done:
			return p.name
		default:
		}
	}
	return ""
}

// stopAll stops every process started, newest first, with SIGTERM and,
// after 5 s, SIGKILL.
func (s *session) stopAll() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		pid := p.cmd.Process.Pid
		if p.group {
			pid = -pid
		}
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
