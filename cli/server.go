package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/httpserver"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/ratelimit"
	"github.com/cardgate/cardgate/signin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
)

func runIssuer(ctx context.Context, env *Env, args []string) error {
	h := help{name: "issuer", summary: "run the Integration Service, with the card host in front of it and the cards origin",
		more: "The card host (phone sign-in) answers on --listen at /, the API under /v1/, and\n" +
			"the cards origin on --cards-listen. Sign-in codes go to the log unless\n" +
			"--sms-webhook names an SMS gateway; its Authorization header, if it needs one,\n" +
			"comes from CARDGATE_SMS_WEBHOOK_AUTHORIZATION.",
		example: "cardgate issuer --listen 127.0.0.1:8080 --issuer-url https://id.example.com --cards-url https://cards.example.com"}
	fs := newFlags(env, h)
	resolve := configFlags(fs, env.Getenv, serverFlags)
	cardsListen := fs.String("cards-listen", "", "`address` of the cards origin (default 127.0.0.1:8082, env CARDGATE_CARDS_LISTEN)")
	cardsURL := fs.String("cards-url", "", "public `URL` of the cards origin, on a host name of its own, never the issuer's (default\n"+
		"http://cards.localhost:<port> when --cards-listen is on loopback, else http://<cards-listen>; env CARDGATE_CARDS_URL)")
	allowedHosts := fs.String("allowed-hosts", "", "comma-separated `names` (host or host:port) the issuer answers to besides its --issuer-url's\n"+
		"host, such as an internal service name; any other Host gets 421 (env CARDGATE_ALLOWED_HOSTS)")
	webhook := fs.String("sms-webhook", "", "`URL` that sign-in codes are posted to (env CARDGATE_SMS_WEBHOOK; default: the log)")
	secureCookies := fs.Bool("secure-cookies", false, "mark session cookies Secure on plain HTTP, behind a proxy that ends TLS")
	redisURL := fs.String("redis-url", "", "Redis `URL` (redis://host:6379/0) that sign-in's rate limits are kept in, shared by\nevery node; default: each node's memory (env CARDGATE_REDIS_URL)")
	changeIssuer := fs.Bool("change-issuer-url", false, "make this issuer's URL (--issuer-url, else http://<listen>) the installation's, replacing the\n"+
		"one recorded in the store; tokens issued under the old URL then fail (see docs/architecture.md)")
	proxies := fs.String("trusted-proxies", "", "comma-separated `CIDRs` of proxies in front of the host, whose X-Forwarded-For names\nthe client for sign-in's limits (env CARDGATE_TRUSTED_PROXIES)")
	if pos, err := parse(env, fs, h, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("issuer: takes no arguments, got %q; see cardgate issuer --help", pos)
	}
	cfg, err := resolve()
	if err != nil {
		return settingError(err)
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	logRedisTo(log)
	cardsAddr := flagOrEnv(*cardsListen, env, "CARDGATE_CARDS_LISTEN", "127.0.0.1:8082")
	lns, err := listenAll(listenSpec{"--listen", cfg.Listen}, listenSpec{"--cards-listen", cardsAddr})
	if err != nil {
		return err
	}
	ln, cardsLn := lns[0], lns[1]
	defer ln.Close()
	defer cardsLn.Close()
	if cfg.IssuerURL == "" && unspecified(ln.Addr()) {
		return fmt.Errorf("--issuer-url: --listen %s is every interface, which is no URL a client can use, and the issuer answers "+
			"only to its public URL's host name: set --issuer-url (env CARDGATE_ISSUER_URL), like https://id.example.com", cfg.Listen)
	}
	publicCards := flagOrEnv(*cardsURL, env, "CARDGATE_CARDS_URL", "")
	if publicCards == "" {
		if publicCards, err = defaultCardsURL(cardsAddr, cardsLn.Addr()); err != nil {
			return err
		}
	}
	sys, err := open(ctx, cfg, env, openOptions{mode: createInstall, serving: true,
		listenAddr: ln.Addr().String(), changeIssuerURL: *changeIssuer}, log)
	if err != nil {
		return err
	}
	defer sys.Close()
	var sender signin.Sender = signin.LogSender{Log: log}
	if u := flagOrEnv(*webhook, env, "CARDGATE_SMS_WEBHOOK", ""); u != "" {
		sender = signin.WebhookSender{URL: u, Authorization: env.Getenv("CARDGATE_SMS_WEBHOOK_AUTHORIZATION")}
	}
	trusted, err := parsePrefixes(flagOrEnv(*proxies, env, "CARDGATE_TRUSTED_PROXIES", ""))
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	opts := hostOptions{secureCookies: *secureCookies, trustedProxies: trusted, cardsURL: publicCards, done: ctx.Done()}
	for _, h := range strings.Split(flagOrEnv(*allowedHosts, env, "CARDGATE_ALLOWED_HOSTS", ""), ",") {
		if h = strings.TrimSpace(h); h != "" {
			opts.allowedHosts = append(opts.allowedHosts, h)
		}
	}
	var limiter ratelimit.Limiter // nil: in memory
	if u := flagOrEnv(*redisURL, env, "CARDGATE_REDIS_URL", ""); u != "" {
		ro, err := redis.ParseURL(u)
		if err != nil {
			return errors.New("--redis-url: not a redis:// URL like redis://127.0.0.1:6379/0") // the URL may hold a password
		}
		rc := redis.NewClient(ro)
		defer rc.Close()
		limiter = &ratelimit.Redis{Client: rc, Prefix: "cardgate:"}
	}
	si, err := newSignIn(sys, log, limiter, sender)
	if err != nil {
		return err
	}
	// Codes go out in the background: let those in flight finish on
	// shutdown, within the grace period.
	defer waitAtMost(shutdownGrace, si.Wait)
	issuerH, cardsH, err := cardHost(sys, log, opts, si)
	if err != nil {
		return err
	}
	if err := sys.recordIssuerURL(ctx, *changeIssuer, log); err != nil {
		return err
	}
	hup := notifyHangup() // before "listening": a SIGHUP from then on must not kill the issuer
	defer signal.Stop(hup)
	fmt.Fprintf(env.Stdout, "listening on http://%s\ncards origin on http://%s (%s)\n", ln.Addr(), cardsLn.Addr(), publicCards)
	fmt.Fprint(env.Stdout, createdNote(sys, cfg, env))
	return serve(ctx, log, []listener{
		{"issuer", ln, issuerH, 30 * time.Second},
		{"cards", cardsLn, cardsH, 30 * time.Second},
	}, func(ctx context.Context) {
		sys.svc.RefreshKeys(ctx, keyRefresh)
	}, func(ctx context.Context) { warnOnHangup(ctx, log, hup) })
}

// notifyHangup catches SIGHUP, which would otherwise end the process (Go's
// default), for a server to handle.
func notifyHangup() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// warnOnHangup keeps SIGHUP, which operators send to make a server reload,
// from killing the issuer, which has nothing to reload: its settings are
// read at start. It logs how to apply them instead.
func warnOnHangup(ctx context.Context, log *slog.Logger, hup chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Warn("SIGHUP ignored: the issuer reads its flags, environment and config file only at start; restart it to change them " +
				"(signing keys are reloaded every 10 s without a signal)")
		}
	}
}

// waitAtMost calls wait and returns when it does, or after d.
func waitAtMost(d time.Duration, wait func()) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// unspecified reports whether a listener is on every interface (0.0.0.0,
// [::]).
func unspecified(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsUnspecified()
}

// defaultCardsURL is the cards origin's public URL when none is given: its
// listener's address, except that loopback becomes cards.localhost, a host
// name of its own (browsers resolve *.localhost to this machine), so that
// cards are never on the issuer's host name, whose cookies they could set.
func defaultCardsURL(flag string, a net.Addr) (string, error) {
	t, ok := a.(*net.TCPAddr)
	switch {
	case ok && t.IP.IsLoopback():
		return fmt.Sprintf("http://cards.localhost:%d", t.Port), nil
	case !ok || t.IP.IsUnspecified():
		return "", fmt.Errorf("--cards-url: --cards-listen %s is every interface, which is no URL a browser can use: set --cards-url "+
			"(env CARDGATE_CARDS_URL) to the cards origin's public URL, on a host name other than the issuer's, like https://cards.example.com", flag)
	}
	return "http://" + a.String(), nil
}

// parsePrefixes reads comma-separated CIDRs; a bare address is a /32 or
// /128.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR, like 10.0.0.0/8", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// flagOrEnv is a flag's value, else the environment variable's, else def.
func flagOrEnv(flagValue string, env *Env, name, def string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := env.Getenv(name); v != "" {
		return v
	}
	return def
}

// keyRefresh is how often a server reloads its signing keys, so that a key
// made by a rotation elsewhere (the CLI, another node) is known here long
// before it signs (keyring.DefaultRotationDelay), and an immediate rotation
// takes over signing here well inside the leeway.
const keyRefresh = 10 * time.Second

func issuerHandler(sys *system) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return issuer.NewHandler(sys.svc, issuer.HandlerOptions{Metrics: reg})
}

// listener is one HTTP server to run. A handler with its own server
// settings (the adapter, whose configuration has a server: section) says
// so with an HTTPServer method; the others get httpserver's limits and
// writeTimeout.
type listener struct {
	name         string
	ln           net.Listener
	h            http.Handler
	writeTimeout time.Duration
}

func (l listener) server(log *slog.Logger) *http.Server {
	s, ok := l.h.(interface{ HTTPServer() *http.Server })
	if !ok {
		srv := httpserver.New(l.ln.Addr().String(), l.h, log)
		srv.WriteTimeout = l.writeTimeout
		return srv
	}
	srv := s.HTTPServer()
	srv.Addr = l.ln.Addr().String()
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	return srv
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
		srv := l.server(log)
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
