package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/bench/internal/install"
)

// TestMain lets the test binary stand in for the command: the orchestrator
// starts its helpers (upstream, proxy, load generator) by running its own
// binary with a role as the first argument.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		if role, ok := roles[os.Args[1]]; ok {
			if err := role(os.Args[2:]); err != nil {
				os.Stderr.WriteString(os.Args[1] + ": " + err.Error() + "\n")
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// smokeOptions are a smoke run's settings (one round, 0.3 s per point)
// and the binary that plays the helpers, or a skip: with -short, or
// without nginx outside CI.
func smokeOptions(t *testing.T) (Options, string) {
	if testing.Short() {
		t.Skip("-short: a smoke run builds cardgate and starts several processes")
	}
	opts := Defaults()
	if _, err := os.Stat(opts.Nginx); err != nil {
		msg := "nginx not found at " + opts.Nginx + ": install it with 'apt-get install nginx-light' to run the benchmark's smoke test"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts.Rounds, opts.Duration, opts.Warmup, opts.MaxRequests = 1, 300*time.Millisecond, 100*time.Millisecond, 100_000
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return opts, self
}

// TestSmokeRun runs the whole benchmark very briefly (one round, 0.3 s per
// point, c = 1 and 4, three users) so that CI proves the script still
// works: every target has a row at every concurrency, with requests
// answered and no errors, and the adapter saw every user's requests. The
// figures themselves are not checked: they mean nothing on a shared
// machine in 0.3 s.
func TestSmokeRun(t *testing.T) {
	opts, self := smokeOptions(t)
	opts.Concurrency, opts.Users, opts.Keep = []int{1, 4}, 3, true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	samples, err := Run(ctx, opts, self, &out, &log)
	if m := regexp.MustCompile(`(?m)^kept (.+)$`).FindStringSubmatch(log.String()); m != nil {
		defer os.RemoveAll(m[1])
		// Every user's token went through the adapter, as its audit log says.
		for _, u := range []string{install.User, "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"} {
			rec, err := install.CLI(ctx, filepath.Join(m[1], "cardgate"), filepath.Join(m[1], "data"), "", "audit", "query", "--user", u, "--limit", "1", "--json")
			if err != nil || !regexp.MustCompile(`"status":\s*200`).MatchString(rec) {
				t.Errorf("the adapter's audit log for user %s: %q, %v; want a request answered 200", u, rec, err)
			}
		}
	} else {
		t.Errorf("-keep: the log does not say where the run was kept:\n%s", log.String())
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(samples) != len(allTargets)*2 {
		t.Errorf("%d samples, want %d", len(samples), len(allTargets)*2)
	}
	for _, x := range samples {
		if x.Result.Requests == 0 || x.Result.Errors != 0 {
			t.Errorf("%s at c=%d: %d requests, %d errors (first: %s)", x.Target, x.C, x.Result.Requests, x.Result.Errors, x.Result.FirstErr)
		}
		if x.Target != "upstream" && x.Result.CPU["proxy"] == 0 && x.Result.Requests > 1000 {
			t.Errorf("%s at c=%d: no proxy CPU measured over %d requests", x.Target, x.C, x.Result.Requests)
		}
	}

	// The table: one row per target and concurrency, rps > 0, no errors.
	text := out.String()
	for _, n := range allTargets {
		for _, c := range opts.Concurrency {
			m := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(n) + ` \| ` + strconv.Itoa(c) + ` \| (\d+) \|.*\| (\d+) \|$`).FindStringSubmatch(text)
			if m == nil {
				t.Errorf("no row for %s at c=%d in:\n%s", n, c, text)
				continue
			}
			if m[1] == "0" || m[2] != "0" {
				t.Errorf("row for %s at c=%d: rps %s, errors %s", n, c, m[1], m[2])
			}
		}
	}
	for _, want := range []string{"Machine: ", "go run ./bench/run -rounds 1 -duration 300ms", " -users 3", "Load generator", "how far this run can tell two proxies apart", "| proxy cores |", "Against the budgets: one round gives no interval", "While `adapter-remote` ran, the issuer"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?m)^Run of \d{4}-\d\d-\d\d \d\d:\d\d(–| – \d{4}-\d\d-\d\d )\d\d:\d\d UTC: `).MatchString(text) {
		t.Errorf("output does not say when the run started and ended:\n%s", text)
	}
}

// TestSmokePost: with -body, every target takes POSTs of that size, the
// adapter through its POST route and nginx → adapter `/auth` too, without
// an error.
func TestSmokePost(t *testing.T) {
	opts, self := smokeOptions(t)
	opts.Concurrency, opts.Body = []int{1}, 512
	opts.Targets = []string{"nginx", "adapter-remote", "adapter-local", "nginx-auth"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	samples, err := Run(ctx, opts, self, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(samples) != 5 {
		t.Errorf("%d samples, want 5 (the baseline and four targets)", len(samples))
	}
	for _, x := range samples {
		if x.Result.Requests == 0 || x.Result.Errors != 0 {
			t.Errorf("%s: %d POSTs answered, %d errors (first: %s)", x.Target, x.Result.Requests, x.Result.Errors, x.Result.FirstErr)
		}
	}
	if !strings.Contains(out.String(), " -body 512") {
		t.Errorf("the command does not say the requests were POSTs of 512 bytes:\n%s", out.String())
	}
}

// TestSelectTargets: the baseline is always measured, unknown names are
// refused.
func TestSelectTargets(t *testing.T) {
	if got, err := selectTargets(nil, true); err != nil || strings.Join(got, ",") != strings.Join(countedTargets, ",") {
		t.Errorf("selectTargets(all, counting) = %v, %v", got, err)
	}
	if _, err := selectTargets([]string{"nginx"}, true); err == nil || !strings.Contains(err.Error(), "not counted") {
		t.Errorf("nginx with -instructions: %v, want a refusal that says it is not counted", err)
	}
	got, err := selectTargets([]string{"adapter-local"}, false)
	if err != nil || strings.Join(got, ",") != "reverseproxy,adapter-local" {
		t.Errorf("selectTargets(adapter-local) = %v, %v", got, err)
	}
	if _, err := selectTargets([]string{"envoy"}, false); err == nil {
		t.Error("an unknown target was accepted")
	}
}

// TestInstructionsRun runs `bench/run -instructions` as a user would (its
// own build, without the race detector, which valgrind cannot run under)
// for one short round, and checks what makes the count worth having: two
// processes of the same proxy execute the same instructions per request
// within a few percent, and the adapter, which checks a token and writes an
// audit row on top of proxying, executes more than the bare proxy.
func TestInstructionsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the run builds cardgate and runs three proxies under valgrind")
	}
	if err := checkValgrind(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "benchrun")
	if err := install.GoBuild(ctx, bin, "bench/run", "the test runs inside the repository"); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-instructions", "-rounds", "1", "-duration", "2s", "-warmup", "500ms",
		"-c", "1", "-targets", "reverseproxy-2,adapter-remote")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text := stdout.String()
	perReq := map[string]float64{}
	for _, n := range []string{"reverseproxy", "reverseproxy-2", "adapter-remote"} {
		m := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(n) + ` \| 1 \| (\d+) \| [^|]+ \| [^|]+ \| (\d+) \|$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no row for %s in:\n%s", n, text)
		}
		perReq[n], _ = strconv.ParseFloat(m[1], 64)
		if reqs, _ := strconv.Atoi(m[2]); reqs < 50 {
			t.Errorf("%s: %d requests counted, want at least 50 in 2 s", n, reqs)
		}
	}
	if r := perReq["reverseproxy-2"] / perReq["reverseproxy"]; r < 0.95 || r > 1.05 {
		t.Errorf("the same proxy counted %.0f and %.0f instructions per request (%.3f×): the count is not reproducible\n%s",
			perReq["reverseproxy"], perReq["reverseproxy-2"], r, text)
	}
	if perReq["adapter-remote"] <= perReq["reverseproxy"] {
		t.Errorf("the adapter counted %.0f instructions per request, the bare proxy %.0f: it does more than that\n%s",
			perReq["adapter-remote"], perReq["reverseproxy"], text)
	}
	for _, want := range []string{"-instructions", "GOMAXPROCS=1", "| instructions/req |"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// TestCommandShowsRuntimeEnv: a run made with GOGC (or GOMEMLIMIT,
// GOMAXPROCS, GODEBUG) set, which every process of the run inherits,
// prints a command that sets it too, so that it reproduces the run.
func TestCommandShowsRuntimeEnv(t *testing.T) {
	for _, k := range runtimeEnv {
		if v, ok := os.LookupEnv(k); ok {
			t.Setenv(k, v) // restored after the test
			os.Unsetenv(k)
		}
	}
	o := Defaults()
	if c := command(o); !strings.HasPrefix(c, "go run ./bench/run -rounds 5 ") {
		t.Errorf("command() = %q", c)
	}
	t.Setenv("GOGC", "off")
	t.Setenv("GOMEMLIMIT", "1GiB")
	o.Instructions = true
	if c := command(o); !strings.HasPrefix(c, "GOGC=off GOMEMLIMIT=1GiB go run ./bench/run ") || !strings.HasSuffix(c, " -instructions") {
		t.Errorf("command() = %q, want GOGC=off GOMEMLIMIT=1GiB go run ./bench/run ... -instructions", c)
	}
}

// TestReadyNoticesExit: a proxy that dies while starting is reported at
// once, by name, rather than waited for until the deadline (minutes under
// valgrind).
func TestReadyNoticesExit(t *testing.T) {
	s := &session{dir: t.TempDir()}
	cmd := exec.Command("false")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := s.track("adapter-remote", cmd, false)
	<-p.done
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.ready(ctx, &target{name: "adapter-remote", url: "http://" + port + benchPath, proxy: []int{cmd.Process.Pid}})
	if err == nil || !strings.Contains(err.Error(), "adapter-remote exited") {
		t.Fatalf("ready = %v, want an error that says adapter-remote exited", err)
	}
	if ctx.Err() != nil {
		t.Error("ready waited for the deadline")
	}
}
