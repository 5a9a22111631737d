package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/bench/loadgen"
	"github.com/cardgate/cardgate/internal/h1client"
)

// The orchestrator starts its helpers by running its own binary again with
// one of these as the first argument, so that each is a process of its own.
var roles = map[string]func(args []string) error{
	"upstream": runUpstream,
	"proxy":    runProxy,
	"load":     runLoad,
}

// echoBody is the upstream's answer: a small JSON object, as a business
// API's GET of one record would return.
const echoBody = `{"id":42,"name":"Widget","price":9.5}`

// runUpstream is the business system every target forwards to.
func runUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil { // a POST's body, read as an API would
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, echoBody)
	}))
}

// runProxy is the baseline: httputil.ReverseProxy as a Go programmer would
// put it in front of one upstream, with the transport tuned as the
// adapter's is (adapter/transport.go): enough idle connections that a
// loaded proxy does not dial per request. With -h1client it forwards
// through the adapter's own transport too (the reverseproxy-h1 target).
func runProxy(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	target := fs.String("target", "", "upstream base `URL`")
	h1 := fs.Bool("h1client", false, "forward through the adapter's transport (internal/h1client) around the tuned http.Transport")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("proxy: -target must be an http URL, got %q", *target)
	}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	var rt http.RoundTripper = tr
	if *h1 {
		rt = h1client.New(tr, u.Scheme, u.Host)
	}
	return serve(*listen, &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: rt,
	})
}

// serve listens, says where on its first line of output (as cardgate's own
// commands do), and serves until SIGTERM or SIGINT.
func serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// runLoad runs one measurement and prints its loadgen.Result as JSON.
func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var cfg loadgen.Config
	fs.StringVar(&cfg.URL, "url", "", "http://127.0.0.1:PORT/path to request")
	fs.IntVar(&cfg.Concurrency, "c", 1, "workers (connections)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before the measured window")
	fs.DurationVar(&cfg.Duration, "d", 5*time.Second, "length of the measured window (at most)")
	fs.IntVar(&cfg.MaxRequests, "n", 2_000_000, "requests in the measured window (at most)")
	body := fs.Int("body", 0, "POST a JSON body of this many `bytes` (at least 16) instead of a GET")
	tokens := fs.String("tokens", "", "`file` of tokens, one a line, sent in turn as Authorization: Bearer")
	var watch, headers multiFlag
	fs.Var(&watch, "watch", "`name=pid,pid` whose CPU time to report (repeatable)")
	fs.Var(&headers, "H", "`Name: value` header to send (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Header = http.Header{}
	for _, h := range headers {
		if k, v, ok := strings.Cut(h, ":"); ok {
			cfg.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	if *body > 0 {
		b, err := jsonBody(*body)
		if err != nil {
			return err
		}
		cfg.Body = b
	}
	if *tokens != "" {
		b, err := os.ReadFile(*tokens)
		if err != nil {
			return fmt.Errorf("load: %v", err)
		}
		cfg.Tokens = strings.Fields(string(b))
	}
	cfg.Watch = map[string][]int{}
	for _, w := range watch {
		name, list, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("load: -watch %q: want name=pid,pid", w)
		}
		for _, p := range strings.Split(list, ",") {
			pid, err := strconv.Atoi(p)
			if err != nil {
				return fmt.Errorf("load: -watch %q: %v", w, err)
			}
			cfg.Watch[name] = append(cfg.Watch[name], pid)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// jsonBody is a JSON object of exactly n bytes, as a card's form posts.
func jsonBody(n int) ([]byte, error) {
	const frame = `{"pad":""}`
	if n < 16 || n > 1<<20 {
		return nil, fmt.Errorf("load: -body %d: want from 16 bytes to 1 MiB", n)
	}
	return []byte(frame[:8] + strings.Repeat("x", n-len(frame)) + frame[8:]), nil
}
