package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cardgate/cardgate/bench/internal/machine"
)

// Machine describes where a run was made.
type Machine struct {
	Date       string `json:"date"`
	NProc      int    `json:"nproc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	Nginx      string `json:"nginx,omitempty"`
	LoadBefore string `json:"loadBefore"`
	TempFS     string `json:"tempFS"` // where the store (SQLite, audit) lives
	Command    string `json:"command"`
}

// machine describes the machine the run is made on, and when.
func (s *session) machine() Machine {
	m := Machine{Date: machine.Span(s.started, time.Now()), NProc: runtime.NumCPU(), CPU: machine.CPU(), Kernel: machine.Kernel(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		LoadBefore: s.loadBefore, Command: command(s.opts), TempFS: fsType(s.dir)}
	if s.nginx {
		if out, err := exec.Command(s.opts.Nginx, "-v").CombinedOutput(); err == nil {
			m.Nginx = strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: nginx/")
		}
	}
	return m
}

// fsType names the file system dir is on (the mount with the longest
// matching path in /proc/mounts): the audit store's writes cost more on a
// disk than on tmpfs.
func fsType(dir string) string {
	b, _ := os.ReadFile("/proc/mounts")
	best, typ := "", "?"
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		if (dir == f[1] || strings.HasPrefix(dir, strings.TrimSuffix(f[1], "/")+"/")) && len(f[1]) >= len(best) {
			best, typ = f[1], f[2]+" ("+f[0]+")"
		}
	}
	return typ
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// runtimeEnv are the variables that change how every Go process of a run
// behaves (they pass to all of them): the command shows those set.
var runtimeEnv = []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG"}

// command is the invocation that reproduces a run, every setting spelled out.
func command(o Options) string {
	var env string
	for _, k := range runtimeEnv {
		if v, ok := os.LookupEnv(k); ok {
			env += k + "=" + v + " "
		}
	}
	c := fmt.Sprintf("%sgo run ./bench/run -rounds %d -duration %s -warmup %s -c %s -n %d",
		env, o.Rounds, o.Duration, o.Warmup, joinInts(o.Concurrency), o.MaxRequests)
	if len(o.Targets) > 0 {
		c += " -targets " + strings.Join(o.Targets, ",")
	}
	if o.Users > 1 {
		c += fmt.Sprintf(" -users %d", o.Users)
	}
	if o.Body > 0 {
		c += fmt.Sprintf(" -body %d", o.Body)
	}
	if o.Instructions {
		c += " -instructions"
	}
	return c
}

// point is one sample's figures, with CPU in µs per request.
type point struct {
	rps, p50, p99, proxy, upstream, issuer, loadgen float64
	cores                                           float64 // the proxy's CPU seconds per second of the window
	switches                                        float64 // the proxy's context switches per request
	errors                                          int
	hitCount                                        bool
}

func figures(x Sample) point {
	r := x.Result
	per := func(k string) float64 {
		if r.Requests == 0 {
			return math.NaN()
		}
		v, ok := r.CPU[k]
		if !ok {
			return math.NaN()
		}
		return v / float64(r.Requests) * 1e6
	}
	switches := math.NaN()
	if v, ok := r.Switches["proxy"]; ok && r.Requests > 0 {
		switches = v / float64(r.Requests)
	}
	cores := math.NaN()
	if v, ok := r.CPU["proxy"]; ok && r.Seconds > 0 {
		cores = v / r.Seconds
	}
	return point{rps: r.RPS, p50: r.P50 / 1e3, p99: r.P99 / 1e3, proxy: per("proxy"), upstream: per("upstream"),
		issuer: per("issuer"), loadgen: per("loadgen"), cores: cores, switches: switches, errors: r.Errors, hitCount: r.HitCount}
}

// key names a point: a target at a concurrency in a round.
type key struct {
	round, c int
	target   string
}

func keyOf(x Sample) key { return key{x.Round, x.C, x.Target} }

// report prints the Markdown for docs/BENCHMARKS.md: the machine, the
// command, and per target and concurrency the median over rounds of each
// figure and of its per-round ratio or difference to the bare
// ReverseProxy measured in the same round.
func report(out io.Writer, s *session, names []string, samples []Sample) {
	header(out, s)
	by := map[key]point{}
	for _, x := range samples {
		by[keyOf(x)] = figures(x)
	}

	fmt.Fprintln(out, "| target | c | rps | × bare | p50 ms | p99 ms | p99 − bare ms | proxy CPU µs/req | − bare µs | proxy cores | proxy switches/req | upstream CPU µs/req | errors |")
	fmt.Fprintln(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	var issuerCPU []float64
	loadgenCPU := map[int][]float64{}
	within := map[key]rounds{} // per target and c (round 0): the rounds' differences to the baseline
	hit := 0
	for _, c := range s.opts.Concurrency {
		for _, n := range names {
			var rps, ratio, p50, p99, dp99, proxy, dproxy, cores, switches, up []float64
			errs := 0
			for r := 1; r <= s.opts.Rounds; r++ {
				p, ok := by[key{r, c, n}]
				if !ok {
					continue
				}
				b := by[key{r, c, baseline}]
				rps, ratio = append(rps, p.rps), append(ratio, p.rps/b.rps)
				p50, p99, dp99 = append(p50, p.p50), append(p99, p.p99), append(dp99, p.p99-b.p99)
				proxy, dproxy = append(proxy, p.proxy), append(dproxy, p.proxy-b.proxy)
				switches, cores = append(switches, p.switches), append(cores, p.cores)
				up = append(up, p.upstream)
				errs += p.errors
				loadgenCPU[c] = append(loadgenCPU[c], p.loadgen)
				if n == "adapter-remote" && !math.IsNaN(p.issuer) {
					// The only target that calls the issuer for its checks.
					issuerCPU = append(issuerCPU, p.issuer)
				}
				if p.hitCount {
					hit++
				}
			}
			if len(rps) == 0 {
				continue
			}
			within[key{0, c, n}] = rounds{ratio: ratio, cpu: dproxy, p99: dp99}
			proxyCol, dproxyCol, coresCol, switchCol := "—", "—", "—", "—"
			if n != "upstream" {
				proxyCol, dproxyCol = fmt.Sprintf("%.1f", median(proxy)), fmt.Sprintf("%+.1f", median(dproxy))
				coresCol, switchCol = fmt.Sprintf("%.2f", median(cores)), fmt.Sprintf("%.2f", median(switches))
			}
			fmt.Fprintf(out, "| %s | %d | %.0f | %s | %.3f | %.3f | %+.3f | %s | %s | %s | %s | %.1f | %d |\n",
				n, c, median(rps), ratioCol(ratio), median(p50), median(p99), median(dp99),
				proxyCol, dproxyCol, coresCol, switchCol, median(up), errs)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Medians over %d round(s); × bare and the differences are taken within each round against `%s`, then their median (range over rounds in brackets). ", s.opts.Rounds, baseline)
	fmt.Fprintln(out, "CPU is utime+stime from /proc/PID/stat of the proxy's processes (nginx: master and workers; nginx-auth: nginx and the adapter) and, separately, of the upstream, over the measured window, divided by the requests answered in it; proxy cores is the same CPU divided by the window's seconds, the cores the proxy kept busy. Switches are the proxy's context switches (voluntary and not, all threads, from /proc/PID/task/*/status) per request: a count that the machine's other work hardly moves, and what a thread woken per request shows up in.")
	if slices.Contains(names, "reverseproxy-2") {
		fmt.Fprint(out, "\n`reverseproxy-2` runs the baseline's own binary and configuration in a second process: how far its ratios stray from 1.00 is how far this run can tell two proxies apart, and a difference smaller than that is noise.\n")
	}
	fmt.Fprintln(out)
	for _, n := range names {
		fmt.Fprintf(out, "- `%s`: %s\n", n, targetDesc[n])
	}
	fmt.Fprintln(out)
	budgets(out, s.opts.Concurrency, names, within)
	// The load generator's ceiling: its own CPU per request at the highest
	// concurrency, where it is cheapest, bounds what one core lets it send.
	fmt.Fprint(out, "Load generator (its own process, keep-alive, one connection per worker), its own CPU per request, median over targets and rounds:")
	sep := " "
	for _, c := range s.opts.Concurrency {
		fmt.Fprintf(out, "%sc=%d %.1f µs", sep, c, median(loadgenCPU[c]))
		sep = ", "
	}
	top := median(loadgenCPU[slices.Max(s.opts.Concurrency)])
	fmt.Fprintf(out, "; so one core of its own would let it send at most about %.0f requests per second. It shares the machine's cores with the servers: the `upstream` row is the ceiling of the whole setup. ", 1e6/top)
	if len(issuerCPU) > 0 {
		fmt.Fprintf(out, "While `adapter-remote` ran, the issuer, which it asks about tokens it has not cached, used a median %.2f µs of CPU per request (not in the table). ", median(issuerCPU))
	}
	if hit > 0 {
		fmt.Fprintf(out, "%d point(s) ended at the request bound (-n), not at -duration. ", hit)
	}
	fmt.Fprintln(out)
}

// header prints the run's date, command and machine.
func header(out io.Writer, s *session) {
	m := s.machine()
	fmt.Fprintf(out, "Run of %s: `%s`\n\n", m.Date, m.Command)
	fmt.Fprintf(out, "Machine: %d × %s (nproc %d, GOMAXPROCS %d), %s, %s", m.NProc, m.CPU, m.NProc, m.GOMAXPROCS, m.Kernel, m.Go)
	if m.Nginx != "" {
		fmt.Fprintf(out, ", nginx %s with `worker_processes %d`", m.Nginx, s.nprocs)
	}
	fmt.Fprintf(out, "; store and logs on %s; load average before the run %s, after %s.\n\n", m.TempFS, m.LoadBefore, loadAvg())
}

// median of the values that are numbers; NaN when there are none.
func median(v []float64) float64 {
	v = slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return math.IsNaN(x) })
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ratioCol(v []float64) string {
	if len(v) < 2 {
		return fmt.Sprintf("%.2f", median(v))
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(v), slices.Min(v), slices.Max(v))
}
