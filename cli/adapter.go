package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	fs := newFlags(env, "adapter", "adapter --config FILE [flags]")
	resolve := configFlags(fs, env.Getenv, adapterFlags)
	file := fs.String("config", "", "the adapter's YAML configuration `file` (required)")
	check := fs.Bool("check", false, "validate the configuration file (and resolve its secrets), then exit")
	listen := fs.String("listen", "", "`address` to listen on, instead of the file's listen")
	ops := fs.String("ops-listen", "127.0.0.1:8091", "`address` for /healthz, /readyz and /metrics")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fs.Usage()
		return usagef("adapter: --config is required")
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
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	auth, closeAuth, err := newAuthenticator(ctx, acfg.Issuer, env, log, reg)
	if err != nil {
		return err
	}
	defer closeAuth()
	audit := adapter.NewRetainingAuditLog(store, log, 0, acfg.Audit)
	defer audit.Close()
	a, err := adapter.New(ctx, *file, adapter.Options{
		Authenticator: auth, Secrets: vault, LookupEnv: lookupEnv, Audit: audit, Logger: log, Metrics: reg,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	addr := acfg.Listen
	if *listen != "" {
		addr = *listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	opsLn, err := net.Listen("tcp", *ops)
	if err != nil {
		return fmt.Errorf("ops-listen: %w", err)
	}
	defer opsLn.Close()
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
