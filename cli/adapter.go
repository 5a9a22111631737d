package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/adapter"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func runAdapter(ctx context.Context, env *Env, args []string) error {
	h := help{name: "adapter", summary: "run the adapter: a reverse proxy that lets only calls with a valid token through to business systems",
		more:     "Its routes, upstreams and issuer are in the YAML file --config names; it\nreloads the file when it changes or on SIGHUP.",
		example:  "cardgate adapter --config adapter.yaml --check\ncardgate adapter --config adapter.yaml --ops-listen 127.0.0.1:8091",
		required: []string{"config"}}
	fs := newFlags(env, h)
	resolve := configFlags(fs, env.Getenv, adapterFlags)
	file := fs.String("config", "", "the adapter's YAML configuration `file` (required)")
	check := fs.Bool("check", false, "validate the configuration file (and resolve its secrets), then exit")
	listen := fs.String("listen", "", "`address` to listen on, instead of the file's listen")
	ops := fs.String("ops-listen", "127.0.0.1:8091", "`address` for /healthz, /readyz and /metrics")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	if pos, err := parse(env, fs, h, args); err != nil {
		return err
	} else if len(pos) > 0 || *file == "" {
		return usagef("adapter: give the configuration file as --config FILE; see cardgate adapter --help")
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	cfg.LogLevel = *logLevel
	if err := cfg.validate(); err != nil {
		return err
	}
	store, master, err := openStore(ctx, cfg, env)
	if err != nil {
		return err
	}
	defer store.Close()
	vault := &secret.Vault{Store: store, Key: master}
	lookupEnv := func(k string) (string, bool) { v := env.Getenv(k); return v, v != "" }

	if *check {
		if err := adapter.Check(ctx, *file, adapter.Options{Secrets: vault, LookupEnv: lookupEnv}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: ok\n", *file)
		return nil
	}

	log := newLogger(env.Stderr, cfg.LogLevel)
	acfg, err := adapter.Load(*file)
	if err != nil {
		return err
	}
	// Both listeners before anything starts, every conflict reported at once.
	addr := acfg.Listen
	if *listen != "" {
		addr = *listen
	}
	lns, err := listenAll(listenSpec{"--listen", addr}, listenSpec{"--ops-listen", *ops})
	if err != nil {
		return err
	}
	ln, opsLn := lns[0], lns[1]
	defer ln.Close()
	defer opsLn.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	auth, closeAuth, err := newAuthenticator(ctx, acfg.Issuer, env, log, reg)
	if err != nil {
		return err
	}
	defer closeAuth()
	audit := adapter.NewAuditLog(store, log, 0)
	defer audit.Close()
	a, err := adapter.New(ctx, *file, adapter.Options{
		Authenticator: auth, Secrets: vault, LookupEnv: lookupEnv, Audit: audit, Logger: log, Metrics: reg,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	fmt.Fprintf(env.Stdout, "listening on http://%s (ops on http://%s)\n", ln.Addr(), opsLn.Addr())

	return serve(ctx, log, []listener{
		// The adapter's server: settings; no write timeout, since
		// responses may stream for long.
		{"adapter", ln, a, 0},
		{"ops", opsLn, opsHandler(store, reg), 30 * time.Second},
	}, func(ctx context.Context) { reloadOnSignal(ctx, a, log) }, func(ctx context.Context) {
		if err := a.Watch(ctx, 2*time.Second); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("watch configuration", slog.Any("err", err))
		}
	})
}

// reloadOnSignal reloads the configuration on SIGHUP. A bad file is logged
// and the running configuration stays.
func reloadOnSignal(ctx context.Context, a *adapter.Adapter, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := a.Reload(ctx); err != nil {
				log.Error("reload refused; the running configuration stays", slog.Any("err", err))
			} else {
				log.Info("configuration reloaded")
			}
		}
	}
}

// opsHandler serves liveness, readiness (the store answers) and metrics on
// their own listener, so that they need not be exposed with the proxy.
func opsHandler(store interface{ Ping(context.Context) error }, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable"})
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
