// Command memory measures the resident memory of `cardgate issuer` and
// `cardgate adapter` as tokens pass through them, from outside:
//
//	go run ./bench/memory -tokens 100000 -junk 1000000
//
// It builds cardgate, sets up an installation in a temporary directory with
// the CLI as bench/run does, starts an echo upstream, the issuer and the
// adapter (remote mode, or local with -mode local; default config, audit
// to the store) on 127.0.0.1,
// and reads VmRSS and VmHWM (the peak) from /proc/PID/status of both:
// before, after minting -tokens distinct tokens (8 at a time) and sending
// each once through the adapter, and after each quarter of -junk distinct
// junk tokens sent to the adapter and to the issuer's /v1/users/me: in
// turn malformed, a valid token with a wrong signature, one with an
// unknown kid, and a well-formed one with an unknown jti (see junk). It
// prints a Markdown table for docs/BENCHMARKS.md. Progress goes to stderr.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/bench/internal/install"
	"github.com/cardgate/cardgate/bench/internal/machine"
)

// Options are the knobs of one invocation.
type Options struct {
	Tokens, Junk int
	Mode         string // the adapter's issuer.mode: remote (empty) or local
	GOMEMLIMIT   string // for the issuer; empty: none
	Cardgate     string // a binary; empty: go build ./cmd/cardgate
	Keep         bool
}

// workers is how many requests are in flight at a time.
const workers = 8

const echoBody = `{"id":42,"name":"Widget","price":9.5}`

func main() {
	o := Options{}
	fs := flag.NewFlagSet("memory", flag.ExitOnError)
	fs.IntVar(&o.Tokens, "tokens", 100_000, "distinct valid tokens to mint and send through the adapter")
	fs.IntVar(&o.Junk, "junk", 1_000_000, "distinct junk tokens to send to the adapter and to the issuer")
	fs.StringVar(&o.Mode, "mode", "remote", "the adapter's issuer.mode: remote or local")
	fs.StringVar(&o.GOMEMLIMIT, "gomemlimit", "", "GOMEMLIMIT for the issuer (e.g. 40MiB); empty: none")
	fs.StringVar(&o.Cardgate, "cardgate", "", "a cardgate binary to use instead of building ./cmd/cardgate")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (configs, logs, store)")
	fs.Parse(os.Args[1:])
	if fs.NArg() > 0 || (o.Mode != "remote" && o.Mode != "local") || o.Tokens < 1 || o.Junk < 0 || o.Tokens > 10_000_000 || o.Junk > 10_000_000 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/memory [-tokens N] [-junk N] [-mode remote|local] [-gomemlimit 40MiB]; N at most 10,000,000")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "memory:", err)
		os.Exit(1)
	}
}

// Run sets everything up, measures and prints the report to out.
// Everything it started is stopped before it returns.
func Run(ctx context.Context, o Options, out, log io.Writer) (err error) {
	started := time.Now()
	dir, err := os.MkdirTemp("", "cardgate-memory-")
	if err != nil {
		return err
	}
	var procs []*exec.Cmd
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			stopProc(procs[i])
		}
		if o.Keep {
			fmt.Fprintf(log, "kept %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	bin := o.Cardgate
	if bin == "" {
		fmt.Fprintln(log, "building cardgate")
		if bin, err = install.Build(ctx, dir); err != nil {
			return err
		}
	}
	data := filepath.Join(dir, "data")
	keys, err := install.Setup(ctx, bin, data)
	if err != nil {
		return err
	}

	// The echo upstream runs in this process: only cardgate is measured.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, echoBody)
	}))
	upURL := "http://" + ln.Addr().String()

	// GOGC and GOMEMLIMIT are the runtime's defaults unless asked.
	env := append([]string{"GOGC=", "GOMEMLIMIT=", "CARDGATE_TOKEN_LIFETIME="}, install.Env...)
	start := func(name string, env []string, args ...string) (string, int, error) {
		url, cmd, err := install.StartLine(ctx, filepath.Join(dir, name+".log"), name, env, bin, args...)
		if cmd != nil {
			procs = append(procs, cmd)
		}
		if err != nil {
			return "", 0, err
		}
		return url, cmd.Process.Pid, nil
	}
	issuerEnv := append(env[:len(env):len(env)], "GOMEMLIMIT="+o.GOMEMLIMIT)
	issuerURL, issuerPid, err := start("issuer", issuerEnv, "issuer", "--data", data,
		"--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--token-lifetime", "30m")
	if err != nil {
		return err
	}
	mode := cmp(o.Mode, "remote")
	cfg := filepath.Join(dir, "adapter.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(install.AdapterConfig, issuerURL, mode, install.Package, upURL)), 0o600); err != nil {
		return err
	}
	if _, err := install.CLI(ctx, bin, data, "", "adapter", "--config", cfg, "--check"); err != nil {
		return err
	}
	adapterEnv := env
	if mode == "local" {
		adapterEnv = append(env[:len(env):len(env)], "CARDGATE_ISSUER_API_KEY="+keys.ResourceServer)
	}
	adapterURL, adapterPid, err := start("adapter", adapterEnv, "adapter", "--data", data,
		"--config", cfg, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}

	pids := [2]int{issuerPid, adapterPid}
	var rows []row
	measure := func(label string) error {
		r := row{label: label}
		for i, pid := range pids {
			if r.rss[i], r.peak[i], err = memory(pid); err != nil {
				return err
			}
		}
		fmt.Fprintf(log, "%s: issuer %.1f MiB (peak %.1f), adapter %.1f MiB (peak %.1f)\n", label, r.rss[0], r.peak[0], r.rss[1], r.peak[1])
		rows = append(rows, r)
		return nil
	}
	if err := measure("before"); err != nil {
		return err
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var sample atomic.Value // a valid token, the model of the junk ones
	fmt.Fprintf(log, "minting %d tokens and sending each through the adapter\n", o.Tokens)
	err = parallel(ctx, 0, o.Tokens, func(i int) error {
		tok, err := install.Mint(ctx, client, issuerURL, keys.Host, install.User)
		if err != nil {
			return err
		}
		sample.CompareAndSwap(nil, tok)
		return get(ctx, client, adapterURL+install.Path, tok, http.StatusOK)
	})
	if err != nil {
		return err
	}
	if err := measure(fmt.Sprintf("after %s distinct valid tokens", thousands(o.Tokens))); err != nil {
		return err
	}

	if o.Junk > 0 {
		fmt.Fprintf(log, "sending %d junk tokens to the adapter and the issuer\n", o.Junk)
		j, err := newJunker(sample.Load().(string))
		if err != nil {
			return err
		}
		for q := 1; q <= 4; q++ {
			lo, hi := (q-1)*o.Junk/4, q*o.Junk/4
			if lo == hi {
				continue
			}
			err = parallel(ctx, lo, hi, func(i int) error {
				tok := j.junk(i)
				if err := get(ctx, client, adapterURL+install.Path, tok, http.StatusUnauthorized); err != nil {
					return fmt.Errorf("%s token: %w", junkKinds[i%len(junkKinds)], err)
				}
				if err := get(ctx, client, issuerURL+"/v1/users/me", tok, http.StatusUnauthorized); err != nil {
					return fmt.Errorf("%s token: %w", junkKinds[i%len(junkKinds)], err)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := measure(fmt.Sprintf("then %s distinct junk tokens", thousands(hi))); err != nil {
				return err
			}
		}
	}
	report(out, o, rows, started)
	return nil
}

type row struct {
	label     string
	rss, peak [2]float64 // MiB: issuer, adapter
}

// parallel calls f for lo..n-1, workers at a time, and stops at the first
// error.
func parallel(ctx context.Context, lo, n int, f func(i int) error) error {
	var next atomic.Int64
	next.Store(int64(lo))
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // the others stop too
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// get sends one request with the token and wants the status.
func get(ctx context.Context, client *http.Client, url, token string, want int) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("GET %s: status %d, want %d: %s", url, res.StatusCode, want, body)
	}
	return nil
}

// junkKinds are the kinds of junk token, in the order junk makes them.
var junkKinds = []string{"malformed", "bad signature", "unknown kid", "unknown jti"}

// junker makes junk tokens from a valid one.
type junker struct {
	parts           [3]string
	header, payload map[string]any
}

func newJunker(model string) (*junker, error) {
	j := &junker{}
	parts := strings.Split(model, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the issuer's token has %d parts, not 3", len(parts))
	}
	copy(j.parts[:], parts)
	for i, dst := range []*map[string]any{&j.header, &j.payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err == nil {
			err = json.Unmarshal(b, dst)
		}
		if err != nil {
			return nil, fmt.Errorf("the issuer's token: %w", err)
		}
	}
	return j, nil
}

// junk is the ith distinct junk token, of kind junkKinds[i%4]: bytes that
// are no JWS at all; the valid token with a wrong signature; its header
// with a kid the issuer never had (the issuer reloads its keys, at most
// once a second, and refuses it); its payload with a jti never minted
// and its signature, now wrong. None is ever valid.
func (j *junker) junk(i int) string {
	enc := base64.RawURLEncoding
	h := sha256.Sum256([]byte(strconv.Itoa(i)))
	with := func(m map[string]any, k string, v any) string {
		m = maps.Clone(m)
		m[k] = v
		b, _ := json.Marshal(m)
		return enc.EncodeToString(b)
	}
	switch i % len(junkKinds) {
	case 0:
		return "junk-" + enc.EncodeToString(h[:])
	case 1:
		return j.parts[0] + "." + j.parts[1] + "." + enc.EncodeToString(append(h[:], h[:]...))
	case 2:
		return with(j.header, "kid", enc.EncodeToString(h[:8])) + "." + j.parts[1] + "." + j.parts[2]
	default:
		return j.parts[0] + "." + with(j.payload, "jti", enc.EncodeToString(h[:16])) + "." + j.parts[2]
	}
}

// memory reads VmRSS and VmHWM, in MiB, from /proc/pid/status.
func memory(pid int) (rss, peak float64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of process %d (Linux only): %w", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, _ := strconv.ParseFloat(f[0], 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("no VmRSS or VmHWM in /proc/%d/status", pid)
	}
	return rss, peak, nil
}

// report prints the Markdown for docs/BENCHMARKS.md.
func report(out io.Writer, o Options, rows []row, started time.Time) {
	cmd := fmt.Sprintf("go run ./bench/memory -tokens %d -junk %d", o.Tokens, o.Junk)
	if o.Mode == "local" {
		cmd += " -mode local"
	}
	if o.GOMEMLIMIT != "" {
		cmd += " -gomemlimit " + o.GOMEMLIMIT
	}
	fmt.Fprintf(out, "Run of %s: `%s`\n\n", machine.Span(started, time.Now()), cmd)
	fmt.Fprintf(out, "Machine: %d × %s, %s, %s; adapter in %s mode; issuer `GOMEMLIMIT` %s.\n\n", runtime.NumCPU(), machine.CPU(), machine.Kernel(),
		runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH, cmp(o.Mode, "remote"), cmp(o.GOMEMLIMIT, "unset"))
	fmt.Fprintln(out, "| MiB | issuer RSS | issuer peak | adapter RSS | adapter peak |")
	fmt.Fprintln(out, "| --- | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %.1f | %.1f | %.1f | %.1f |\n", r.label, r.rss[0], r.peak[0], r.rss[1], r.peak[1])
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// stopProc stops a process with SIGTERM and, after 5 s, SIGKILL.
func stopProc(cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}
