// Command run measures the cardgate adapter against a bare
// httputil.ReverseProxy and nginx, from outside, in one invocation:
//
//	go run ./bench/run -rounds 5 -duration 5s -c 1,16,64
//
// It builds cardgate, sets up an installation in a temporary directory with
// the CLI, starts an echo upstream, a bare ReverseProxy (twice, and once
// more from a build that links all of cardgate), nginx proxy_pass,
// `cardgate issuer`, `cardgate adapter` in remote and in local mode, and
// nginx asking the adapter's /auth, each a process of its own on
// 127.0.0.1, then drives each with a load generator in a process of its own,
// interleaved over the rounds, and prints a Markdown table for
// docs/BENCHMARKS.md. Progress goes to stderr. See docs/BENCHMARKS.md.
//
// With -instructions it counts, instead of timing, the instructions the Go
// proxies execute per request, each under valgrind's callgrind
// (instructions.go): a figure the machine's other work does not move.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		if role, ok := roles[os.Args[1]]; ok {
			if err := role(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, os.Args[1]+":", err)
				os.Exit(1)
			}
			return
		}
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			return
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := Run(ctx, opts, self, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (Options, error) {
	o := Defaults()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./bench/run [flags]\n\nTargets: %s\n\nFlags:\n", strings.Join(allTargets, ", "))
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "rounds; every round runs every target at every concurrency")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured window per point (at most)")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "warm-up before each point, not measured")
	fs.IntVar(&o.MaxRequests, "n", o.MaxRequests, "requests per measured window (at most)")
	fs.IntVar(&o.Users, "users", o.Users, "users the requests come from, each with its own token, in turn (a thousand take about a minute to add)")
	fs.IntVar(&o.Body, "body", 0, "POST a JSON body of this many `bytes` with every request instead of a GET (16 to 1048576; 0: GET)")
	cs := fs.String("c", joinInts(o.Concurrency), "comma-separated concurrency levels (connections)")
	targets := fs.String("targets", "", "comma-separated subset of targets (reverseproxy, the baseline, is always run)")
	fs.StringVar(&o.Cardgate, "cardgate", "", "a cardgate binary to use instead of building ./cmd/cardgate")
	fs.StringVar(&o.Nginx, "nginx", o.Nginx, "nginx binary")
	fs.StringVar(&o.JSON, "json", "", "also write every measurement to this `file` as JSON")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (configs, logs, store)")
	fs.BoolVar(&o.Instructions, "instructions", false, "count the Go proxies' instructions per request under valgrind's callgrind instead of timing them")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.Concurrency = nil
	for _, s := range strings.Split(*cs, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 || c > 1024 {
			return o, fmt.Errorf("-c: %q is not a concurrency between 1 and 1024", s)
		}
		o.Concurrency = append(o.Concurrency, c)
	}
	if *targets != "" {
		o.Targets = strings.Split(*targets, ",")
	}
	if o.Rounds < 1 || o.Duration <= 0 || o.Warmup < 0 || o.MaxRequests < 1 {
		return o, fmt.Errorf("-rounds, -duration and -n must be positive")
	}
	if o.Body != 0 && (o.Body < 16 || o.Body > 1<<20) {
		return o, fmt.Errorf("-body: %d is not a size from 16 bytes to 1 MiB (or 0 for GET)", o.Body)
	}
	if o.Users < 1 || o.Users > 10_000 {
		return o, fmt.Errorf("-users: %d is not a number of users from 1 to 10000", o.Users)
	}
	if o.Duration > 10*time.Minute || o.Rounds > 100 {
		return o, fmt.Errorf("-duration is at most 10m and -rounds at most 100")
	}
	return o, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
