package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cardgate/cardgate/httpserver"
	"github.com/cardgate/cardgate/issuer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func runIssuer(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "issuer", "issuer [flags]")
	resolve := configFlags(fs, env.Getenv, serverFlags)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	sys, err := open(ctx, cfg, env, cfg.issuer(ln.Addr().String()), log)
	if err != nil {
		return err
	}
	defer sys.Close()
	fmt.Fprintf(env.Stdout, "listening on http://%s\n", ln.Addr())
	return serve(ctx, log, []listener{{"issuer", ln, issuerHandler(sys), 30 * time.Second}}, func(ctx context.Context) {
		sys.svc.RefreshKeys(ctx, keyRefresh)
	})
}

// keyRefresh is how often a server reloads its signing keys, so that a
// rotation made by the CLI takes over signing here well inside the leeway.
const keyRefresh = 10 * time.Second

func issuerHandler(sys *system) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return issuer.NewHandler(sys.svc, issuer.HandlerOptions{Metrics: reg})
}

// listener is one HTTP server to run.
type listener struct {
	name         string
	ln           net.Listener
	h            http.Handler
	writeTimeout time.Duration
}

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 10 * time.Second

// serve runs the listeners and the background jobs until ctx ends (SIGTERM
// or SIGINT in main) or a server fails, then shuts every server down
// gracefully.
func serve(ctx context.Context, log *slog.Logger, ls []listener, background ...func(context.Context)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, job := range background {
		go job(ctx)
	}
	errc := make(chan error, len(ls))
	servers := make([]*http.Server, len(ls))
	for i, l := range ls {
		srv := httpserver.New(l.ln.Addr().String(), l.h, log)
		srv.WriteTimeout = l.writeTimeout
		servers[i] = srv
		log.Info("listening", slog.String("server", l.name), slog.String("addr", l.ln.Addr().String()))
		go func() {
			if err := srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", l.name, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer scancel()
	for _, srv := range servers {
		if serr := srv.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", serr)
		}
	}
	return err
}
