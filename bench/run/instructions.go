package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With -instructions the Go proxies run under valgrind's callgrind, and
// each point is the number of instructions the proxy's process executed
// per request, counted by callgrind between two of its commands
// (callgrind_control -z before the window, -d after it). A count of
// instructions is not a time: it leaves out cache misses, page walks and
// everything the kernel does for the process, but the machine's other work
// hardly moves it (within a run, two processes of the same proxy agree to
// a percent or so), so that a change of a few hundredths can be seen where
// times at c = 1 move by a tenth. Wake-ups between requests are counted
// too, and their number depends on timing: compare within a run.
//
// Each counted process runs with GOMAXPROCS=1, so that no idle thread
// spins between requests (under valgrind its spinning would be counted,
// and would depend on timing); with asynchronous preemption off, since
// callgrind fails an assertion on the signal the Go runtime preempts
// with; and without RDTSCP, which valgrind 3.19 cannot decode and the Go
// runtime reads the clock with wherever CPUID offers it (an AMD EPYC VM
// here offers it, though /proc/cpuinfo does not list it). The garbage
// collector runs as it would, with each binary's own settings, so that
// its work is counted.
var countedTargets = []string{baseline, "reverseproxy-2", "reverseproxy-linked", "reverseproxy-h1", "adapter-remote", "adapter-local"}

// countEnv is the environment of a counted process.
var countEnv = []string{"GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off"}

// checkValgrind says how to get valgrind when it is not there.
func checkValgrind() error {
	for _, c := range []string{"valgrind", "callgrind_control"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("-instructions needs %s: install it with 'apt-get install valgrind'", c)
		}
	}
	return nil
}

// wrap returns the command that starts bin with args: as it is, or under
// callgrind when instructions are counted and name is a counted target.
func (s *session) wrap(name, bin string, env, args []string) (string, []string, []string) {
	if !s.opts.Instructions || !slices.Contains(countedTargets, name) {
		return bin, env, args
	}
	vg := []string{"--tool=callgrind", "--callgrind-out-file=" + s.callgrindOut(name),
		"--log-file=" + filepath.Join(s.dir, name+".valgrind.log"), bin}
	return "valgrind", append(slices.Clone(env), countEnv...), append(vg, args...)
}

func (s *session) callgrindOut(name string) string {
	return filepath.Join(s.dir, name+".callgrind")
}

// count measures one point: a warm-up window, then the counters are zeroed,
// the measured window runs, and callgrind writes its counts (a file per
// dump: name.callgrind.1, .2, ...).
func (s *session) count(ctx context.Context, t *target, c int) (*Sample, error) {
	if s.opts.Warmup > 0 {
		if _, err := s.load(ctx, t, c, 0, s.opts.Warmup); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	pid := strconv.Itoa(t.proxy[0])
	if err := callgrindControl(ctx, "-z", pid); err != nil {
		return nil, err
	}
	res, err := s.load(ctx, t, c, 0, s.opts.Duration)
	if err != nil {
		return nil, err
	}
	s.dumps[t.name]++
	if err := callgrindControl(ctx, "-d", pid); err != nil {
		return nil, err
	}
	ir, err := callgrindTotal(fmt.Sprintf("%s.%d", s.callgrindOut(t.name), s.dumps[t.name]))
	if err != nil {
		return nil, err
	}
	return &Sample{Target: t.name, C: c, Result: res, Instructions: ir}, nil
}

// callgrindControl sends a command to the callgrind running as pid and
// waits for its answer, which comes when the process next runs (its
// runtime's monitor thread wakes at least every 10 ms).
func callgrindControl(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "callgrind_control", args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		return fmt.Errorf("callgrind_control %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// callgrindTotal reads the instructions counted in a callgrind dump: its
// "totals:" line (older versions write only "summary:").
func callgrindTotal(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("callgrind's counts: %w", err)
	}
	var summary string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "totals:"); ok {
			summary = v
			break
		}
		if v, ok := strings.CutPrefix(l, "summary:"); ok {
			summary = v
		}
	}
	f := strings.Fields(summary)
	if len(f) == 0 {
		return 0, fmt.Errorf("%s: no totals line", path)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: totals: %v", path, err)
	}
	return n, nil
}

// reportInstructions prints the table of instructions per request.
func reportInstructions(out io.Writer, s *session, names []string, samples []Sample) {
	header(out, s)
	per := map[key]float64{}
	for _, x := range samples {
		if x.Result.Requests > 0 {
			per[keyOf(x)] = float64(x.Instructions) / float64(x.Result.Requests)
		}
	}
	fmt.Fprintln(out, "| target | c | instructions/req | × bare | − bare | requests counted |")
	fmt.Fprintln(out, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, c := range s.opts.Concurrency {
		for _, n := range names {
			var ir, ratio, diff []float64
			reqs := 0
			for _, x := range samples {
				if x.Target != n || x.C != c {
					continue
				}
				v, b := per[key{x.Round, c, n}], per[key{x.Round, c, baseline}]
				ir, ratio, diff = append(ir, v), append(ratio, v/b), append(diff, v-b)
				reqs += x.Result.Requests
			}
			if len(ir) == 0 {
				continue
			}
			fmt.Fprintf(out, "| %s | %d | %.0f | %s | %+.0f | %d |\n", n, c, median(ir), ratioCol(ratio), median(diff), reqs)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Instructions the proxy's process executed (all its threads: the request's path, the collector, the audit writer, timers), counted by valgrind's callgrind over each measured window and divided by the requests answered in it; medians over %d round(s), × bare and − bare taken within each round against `%s` (range over rounds in brackets). Each counted proxy runs with %s. Not a time: cache misses, page walks and the kernel's work for the process are not in it.\n\n", s.opts.Rounds, baseline, strings.Join(countEnv, " "))
	for _, n := range names {
		fmt.Fprintf(out, "- `%s`: %s\n", n, targetDesc[n])
	}
}
