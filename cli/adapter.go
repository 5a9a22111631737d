package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
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
	online := fs.Bool("online", false, "with --check: also reach the issuer the file names, and say what it found")
	asJSON := fs.Bool("json", false, "with --check: print the result, or the error, as JSON")
	listen := fs.String("listen", "", "`address` to listen on, instead of the file's listen")
	ops := fs.String("ops-listen", "127.0.0.1:8091", "`address` for /healthz, /readyz and /metrics")
	if pos, err := parse(env, fs, h, args); err != nil {
		return err
	} else if len(pos) > 0 || *file == "" {
		return usagef("adapter: give the configuration file as --config FILE; see cardgate adapter --help")
	}
	// The store and the log level as the other servers have them: flag,
	// then environment, then the settings file CARDGATE_CONFIG names (the
	// adapter's --config is its adapter.yaml). Its addresses are its own.
	cfg, err := resolve()
	if err != nil {
		return settingError(err)
	}
	lookupEnv := func(k string) (string, bool) { v := env.Getenv(k); return v, v != "" }
	if *check {
		// The store only if a store: secret needs it, and never a new one.
		vault := &lazyVault{cfg: cfg, env: env}
		defer vault.Close()
		if err := adapter.Check(ctx, *file, adapter.Options{Secrets: vault, LookupEnv: lookupEnv}); err != nil {
			return err
		}
		found := ""
		if *online {
			if found, err = checkIssuer(ctx, env, *file); err != nil {
				return err
			}
		}
		if *asJSON {
			out := map[string]any{"file": *file, "ok": true}
			if found != "" {
				out["issuer"] = found
			}
			return printJSON(env.Stdout, out)
		}
		fmt.Fprintf(env.Stdout, "%s: ok\n", *file)
		if found != "" {
			fmt.Fprintln(env.Stdout, found)
		}
		return nil
	}
	if *online {
		return usagef("adapter: --online goes with --check")
	}
	if *asJSON {
		return usagef("adapter: --json goes with --check")
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	logRedisTo(log)
	acfg, err := adapter.Load(*file)
	if err != nil {
		return err
	}
	// Both listeners before anything else, the store included, every
	// conflict reported at once.
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
	store, master, _, err := openStore(ctx, cfg, env, useInstall)
	if err != nil {
		return err
	}
	defer store.Close()
	vault := &secret.Vault{Store: store, Key: master}
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

	hup := notifyHangup() // before "listening": a SIGHUP from then on reloads
	defer signal.Stop(hup)
	fmt.Fprintf(env.Stdout, "listening on http://%s (ops on http://%s)\n", ln.Addr(), opsLn.Addr())

	return serve(ctx, log, []listener{
		// The adapter's server: settings; no write timeout, since
		// responses may stream for long.
		{"adapter", ln, a, 0},
		{"ops", opsLn, opsHandler(log, reg, dependency{"store", store.Ping}, dependency{"issuer", pingOf(auth)},
			dependency{"rate-limit redis", a.Ping}), 30 * time.Second},
	}, func(ctx context.Context) { reloadOnSignal(ctx, a, log, hup) }, func(ctx context.Context) {
		if err := a.Watch(ctx, watchInterval); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("watch configuration", slog.Any("err", err))
		}
	})
}

// watchInterval is how often the adapter looks at its configuration file
// and reads its store: and file: secrets again: a new value is in use
// within it, plus the reload (`cardgate secrets set` says 3 s).
const watchInterval = 2 * time.Second

// reloadOnSignal reloads the configuration on SIGHUP. A bad file is logged
// and the running configuration stays.
func reloadOnSignal(ctx context.Context, a *adapter.Adapter, log *slog.Logger, hup chan os.Signal) {
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

// dependency is something the adapter cannot serve without, and how to
// ask whether it answers.
type dependency struct {
	name string
	ping func(context.Context) error
}

// pingOf returns the readiness probe of the adapter's token check: remote
// mode asks the issuer's /v1/users/me without a token (a live issuer
// answers 401); local mode needs its revocation feed read within
// MaxStaleness.
func pingOf(auth adapter.Authenticator) func(context.Context) error {
	va, _ := auth.(verifierAuth)
	if p, ok := va.Verifier.(interface{ Ping(context.Context) error }); ok {
		return p.Ping
	}
	return func(context.Context) error { return nil }
}

// opsHandler serves liveness, readiness and metrics on their own listener,
// so that they need not be exposed with the proxy. /healthz says the
// process answers, and nothing more (a liveness probe must not restart an
// adapter because its issuer is down). /readyz asks every dependency, at
// once and for at most 2 s: the store (the audit log and store: secrets),
// the issuer, and the rate-limit Redis where its failure refuses requests
// (Adapter.Ping). While one does not answer, new tokens would get 503, so
// the adapter is not ready: 503 with the JSON error shape, naming each.
func opsHandler(log *slog.Logger, reg *prometheus.Registry, deps ...dependency) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		errs := make([]error, len(deps))
		var wg sync.WaitGroup
		for i, d := range deps {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = d.ping(ctx) }()
		}
		wg.Wait()
		var down []string
		for i, err := range errs {
			if err != nil {
				// The cause goes to the log only: a store's error may name
				// more of its connection than a probe should show.
				log.Warn("not ready", slog.String("dependency", deps[i].name), slog.Any("err", err))
				down = append(down, deps[i].name)
			}
		}
		if len(down) > 0 {
			httpjson.Error(w, cardgate.Errorf(cardgate.EUNAVAILABLE, "not ready: %s not answering (see the log)", strings.Join(down, " and ")))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// checkIssuer is --check --online: it reaches the issuer the file names as
// the running adapter would, and returns what it found.
func checkIssuer(ctx context.Context, env *Env, file string) (string, error) {
	acfg, err := adapter.Load(file)
	if err != nil {
		return "", err
	}
	ic := acfg.Issuer
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// For local mode, building the verifier reads the discovery document,
	// the keys and the revocation feed (with the resource-server key).
	auth, closeAuth, err := newAuthenticator(ctx, ic, env, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		return "", fmt.Errorf("issuer %s (%s mode): %w", ic.URL, ic.Mode, err)
	}
	defer closeAuth()
	if err := pingOf(auth)(ctx); err != nil {
		return "", fmt.Errorf("issuer %s (%s mode): %w", ic.URL, ic.Mode, err)
	}
	if ic.Mode == "local" {
		return fmt.Sprintf("issuer %s (local mode): read its discovery document, its keys, and its revocation feed with CARDGATE_ISSUER_API_KEY", ic.URL), nil
	}
	return fmt.Sprintf("issuer %s (remote mode): GET /v1/users/me answers (401 without a token, as an issuer should)", ic.URL), nil
}
