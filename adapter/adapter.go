// Package adapter is cardgate's identity-aware reverse proxy. It stands
// between cards and the business systems they call: it takes the caller's
// integration service token, has it checked, matches the request to a
// configured route, applies the route's policy and limits, removes what the
// client must not set, adds the upstream's credential and the caller's
// identity, and forwards the request, streaming the answer back. Secrets
// stay on the server; every request leaves one audit record.
//
// The configuration is one YAML file (see Config and testdata/example.yaml).
// It is compiled once, when loaded, into a table the request path only
// reads; Reload swaps in a new table atomically, and a bad file leaves the
// running one in place.
package adapter

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/httpserver"
	"github.com/cardgate/cardgate/ratelimit"
)

// Authenticator checks an integration service token and returns the
// identity it stands for. Errors are *cardgate.Error with code
// EINVALIDTOKEN (the token is bad: 401) or EUNAVAILABLE (the issuer cannot
// be asked: 503). Package verify provides one.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*cardgate.Identity, error)
}

// Options are the adapter's dependencies.
type Options struct {
	// Authenticator checks tokens; required.
	Authenticator Authenticator
	// Secrets resolves store: secret references; nil makes them errors.
	Secrets secret.Store
	// LookupEnv resolves env: references; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Limiter, when set, replaces the rate-limit backend the configuration
	// chooses.
	Limiter ratelimit.Limiter
	// Audit receives one record per request, besides the log; nil means
	// the log only.
	Audit AuditSink
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Metrics registers the adapter's metrics; nil means none. Pass a
	// registry of your own, not the global one, in tests.
	Metrics prometheus.Registerer
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// upstream, when set, answers every upstream request in place of
	// the network (package tests and benchmarks).
	upstream http.RoundTripper
}

// Adapter is the proxy. It is an http.Handler; ForwardAuth returns the
// forward-auth handler and Handler both on one mux.
type Adapter struct {
	path    string
	auth    Authenticator
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	table   atomic.Pointer[table]
	bufs    bufferPool
	// started is the configuration the adapter started with, whose
	// listen and server settings stay in force across reloads.
	started *Config

	mu         sync.Mutex // serializes Reload
	transports *transportPool
	memLimiter *ratelimit.Memory
	redis      *redisClient
}

// New loads and compiles the configuration file at path and returns an
// Adapter serving it.
func New(ctx context.Context, path string, opts Options) (*Adapter, error) {
	if opts.Authenticator == nil {
		return nil, errors.New("adapter: Options.Authenticator is required")
	}
	a := &Adapter{
		path:       path,
		auth:       opts.Authenticator,
		opts:       opts,
		log:        opts.Logger,
		now:        opts.Now,
		transports: newTransportPool(opts.upstream),
		memLimiter: &ratelimit.Memory{Now: opts.Now},
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	m, err := newMetrics(opts.Metrics, opts.Audit)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	if err := a.Reload(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.started = a.Config()
	return a, nil
}

// Config returns the configuration being served, with defaults filled in.
// The caller must not modify it.
func (a *Adapter) Config() *Config { return a.table.Load().cfg }

// Reload reads the configuration file again, compiles it and, if that
// succeeds, swaps it in: requests already running finish with the old
// configuration, new ones get the new. If the file is bad, Reload returns
// the error (a *ConfigError names every line and field) and the running
// configuration stays.
func (a *Adapter) Reload(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.build(ctx)
	if err != nil {
		a.metrics.reloads.WithLabelValues("error").Inc()
		if a.table.Load() != nil {
			a.log.LogAttrs(ctx, slog.LevelError, "adapter: configuration refused; the running one stays", slog.String("file", a.path), slog.String("error", err.Error()))
		}
		return err
	}
	old := a.table.Swap(t)
	a.metrics.reloads.WithLabelValues("ok").Inc()
	if old != nil {
		a.log.LogAttrs(ctx, slog.LevelInfo, "adapter: configuration reloaded", slog.String("file", a.path), slog.Int("routes", len(t.routes)))
		a.warnRestart(ctx, t.cfg)
	}
	a.transports.retain(t.upstreams)
	if old != nil && old.redis != nil && old.redis != t.redis {
		// Requests still running with the old table may use the old
		// client for a moment.
		time.AfterFunc(30*time.Second, func() { old.redis.Close() })
	}
	return nil
}

// build loads and compiles the file, without touching the running table.
func (a *Adapter) build(ctx context.Context) (*table, error) {
	cfg, err := Load(a.path)
	if err != nil {
		return nil, err
	}
	return a.compile(ctx, cfg)
}

// Close releases the adapter's idle upstream connections and its Redis
// client. Requests still running are not interrupted.
func (a *Adapter) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.transports.retain(nil)
	if t := a.table.Load(); t != nil && t.redis != nil {
		return t.redis.Close()
	}
	return nil
}

// Load reads the configuration file at path, fills in defaults and checks
// it. Every problem is reported, each with its line and field, in one
// *ConfigError. Secret references are checked for form only; Check also
// resolves them.
func Load(path string) (*Config, error) {
	cfg, p, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	if len(p.errs) == 0 {
		validate(cfg, p)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	cfg.problems = p
	return cfg, nil
}

// Check loads the configuration file at path and compiles it as New would,
// resolving every secret reference, without serving it. It is what
// `cardgate adapter --check` runs.
func Check(ctx context.Context, path string, opts Options) error {
	cfg, err := Load(path)
	if err != nil {
		return err
	}
	if opts.Authenticator == nil {
		opts.Authenticator = refuseAll{}
	}
	a := &Adapter{path: path, auth: opts.Authenticator, opts: opts, log: slog.New(slog.DiscardHandler), now: time.Now,
		transports: newTransportPool(nil), memLimiter: &ratelimit.Memory{}}
	a.metrics, _ = newMetrics(nil, nil)
	t, err := a.compile(ctx, cfg)
	if err != nil {
		return err
	}
	if t.redis != nil {
		t.redis.Close()
	}
	return nil
}

type refuseAll struct{}

func (refuseAll) Authenticate(context.Context, string) (*cardgate.Identity, error) {
	return nil, cardgate.Errorf(cardgate.EUNAVAILABLE, "no authenticator")
}

// HTTPServer returns the server for Handler, with the listen address and
// the server settings the adapter started with: they need a restart to
// change.
func (a *Adapter) HTTPServer() *http.Server { return a.started.HTTPServer(a.Handler()) }

// HTTPServer returns an http.Server for h with the limits of cfg.Server and
// cfg.Listen as its address. A request line and headers larger than
// MaxHeaderBytes get 431 (httpserver.LimitHeaders, exact; net/http's own
// check, 4 KiB looser, stays behind it), and CRLF in a header is refused
// by net/http. ReadTimeout is not net/http's, which would count the time
// spent on headers too: the Adapter applies it to each request's body.
func (cfg *Config) HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Addr:              cfg.Listen,
		Handler:           httpserver.LimitHeaders(h, cfg.Server.MaxHeaderBytes),
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
	}
}

// redisClient is a Redis client and the settings it was made with, so that
// a reload with the same settings keeps the client.
type redisClient struct {
	*redis.Client
	key string
}

// Interface guards.
var (
	_ http.Handler      = (*Adapter)(nil)
	_ ratelimit.Limiter = (*ratelimit.Memory)(nil)
	_ ratelimit.Limiter = (*ratelimit.Redis)(nil)
)
