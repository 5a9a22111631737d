package adapter

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cardgate/cardgate/adapter/credential"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/ratelimit"
)

// table is a compiled configuration: everything a request needs, built
// once. The request path only reads it.
type table struct {
	cfg          *Config
	mux          *http.ServeMux
	routes       []*route
	tokenHeaders []tokenHeader
	bodyField    string
	// forwardFrom is ForwardAuth.From; guarded holds the token and
	// identity header names, squashed, that forward-auth refuses in "_"
	// spellings.
	forwardFrom string
	guarded     map[string]bool
	maxBody     int64 // for requests that match no route
	limiter     ratelimit.Limiter
	failClosed  bool
	redis       *redisClient
	upstreams   map[string]bool // transport pool keys in use
	// secretRefs holds the SHA-256 of each store: and file: secret's
	// value as compiled, by reference, so that Watch can tell when one
	// changed (env: values cannot change in a running process).
	secretRefs map[string][32]byte
}

// route is a compiled Route. Its ServeHTTP is never called: the route is
// registered on the table's ServeMux only so that the mux can find it.
type route struct {
	name       string
	anyPackage bool
	packages   map[string]bool
	users      map[string]bool
	// conversations, when not empty, are the conversations a token must
	// have been minted in.
	conversations map[string]bool

	target          *url.URL
	basePath        string
	baseRawPath     string
	cleanBase       string
	cleanBasePrefix string
	stripPrefix     string
	rawStripPrefix  string
	timeout         time.Duration

	maxBody    int64
	perUser    *ratelimit.Limit
	perPackage *ratelimit.Limit
	userKey    string // rate-limit key prefixes
	packageKey string

	userHeader, packageHeader, nameHeader, conversationHeader string
	// drop holds, canonically, the headers deleted from every upstream
	// request besides those dropRequestHeader finds by their form: the
	// token headers, the identity headers, the credential's header and
	// routingHeaders.
	drop map[string]bool
	// websocket lets a request upgrade to a WebSocket ("websocket").
	websocket bool

	// secrets are the values of the route's credential, as sent and in the
	// parts an upstream might repeat (a basic password, the base64 of
	// user:password, a bearer token), looked for in response headers.
	// sentAuth says the credential changes (an OAuth 2.0 access token), so
	// the Authorization value actually sent is looked for as well.
	secrets  []string
	sentAuth bool
	// credName and credValue are a static credential (header, basic,
	// bearer), set by rewrite on the request ReverseProxy has already
	// copied: a credential.Header transport would copy it again.
	credName  string
	credValue secret.Secret
	// upScheme, upHost and upPort name the upstream, lower case (upHost
	// canonical, see canonHost), the port always given, to know its own
	// URLs in a Location header.
	upScheme, upHost, upPort string
	// baseRawPrefix is the base path, escaped, without a trailing slash.
	baseRawPrefix string

	cors  *corsPolicy
	proxy *httputil.ReverseProxy

	latency  prometheus.Observer
	requests *statusCounters // curried with the route label
}

func (rt *route) ServeHTTP(http.ResponseWriter, *http.Request) {
	panic("adapter: route handlers are looked up, never served")
}

// compile turns a loaded Config into a table. Secret references are
// resolved here; their errors name the field and line, never a value.
func (a *Adapter) compile(ctx context.Context, cfg *Config) (*table, error) {
	p := cfg.problems
	if p == nil {
		p = &problems{lines: map[string]int{}}
	}
	res := &secret.Resolver{LookupEnv: a.opts.LookupEnv, Store: a.opts.Secrets}
	var t *table
	resolve := func(field, ref string) secret.Secret {
		s, err := res.Resolve(ctx, ref)
		if err != nil {
			p.errf(field, "%s", strings.TrimPrefix(err.Error(), "secret: "))
		} else if r, _ := secret.ParseRef(ref); r.Kind != secret.KindEnv {
			t.secretRefs[ref] = sha256.Sum256([]byte(s.Reveal()))
		}
		return s
	}
	t = &table{
		secretRefs:  make(map[string][32]byte),
		cfg:         cfg,
		mux:         http.NewServeMux(),
		bodyField:   cfg.Token.BodyField,
		maxBody:     cfg.Limits.MaxBodyBytes,
		failClosed:  cfg.RateLimit.FailClosed,
		upstreams:   make(map[string]bool),
		forwardFrom: cfg.ForwardAuth.From,
		guarded:     make(map[string]bool),
	}
	for _, h := range cfg.Token.Headers {
		ch := http.CanonicalHeaderKey(h)
		t.tokenHeaders = append(t.tokenHeaders, tokenHeader{name: ch, bearer: ch == "Authorization"})
		t.guarded[squash(ch)] = true
	}
	switch {
	case a.opts.Limiter != nil:
		t.limiter = a.opts.Limiter
	case cfg.RateLimit.Backend == "redis":
		rc := cfg.RateLimit.Redis
		var pw secret.Secret
		if rc.Password != "" {
			pw = resolve("rateLimit.redis.password", rc.Password)
		}
		key := fmt.Sprintf("%s|%d|%x", rc.Addr, rc.DB, hashString(pw.Reveal()))
		if cur := a.table.Load(); cur != nil && cur.redis != nil && cur.redis.key == key {
			t.redis = cur.redis
		} else {
			t.redis = &redisClient{key: key, Client: redis.NewClient(&redis.Options{
				Addr: rc.Addr, Password: pw.Reveal(), DB: rc.DB,
				DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
				// A request asks Redis once: go-redis's retries and repeated
				// dials held each request for about 1.7 s while Redis was
				// down, whether the limit then failed open or closed.
				MaxRetries: -1, DialerRetries: 1,
			})}
		}
		t.limiter = &ratelimit.Redis{Client: t.redis.Client, Prefix: rc.KeyPrefix, Now: a.opts.Now}
	default:
		t.limiter = a.memLimiter
	}
	for i := range cfg.Routes {
		rt := a.compileRoute(t, fmt.Sprintf("routes[%d]", i), &cfg.Routes[i], resolve)
		t.routes = append(t.routes, rt)
		if msg := register(t.mux, cfg.Routes[i].Match, rt); msg != "" {
			p.errf(fmt.Sprintf("routes[%d].match", i), "%s", msg)
		}
	}
	if err := p.err(); err != nil {
		if t.redis != nil && (a.table.Load() == nil || a.table.Load().redis != t.redis) {
			t.redis.Close()
		}
		return nil, err
	}
	return t, nil
}

func (a *Adapter) compileRoute(t *table, field string, r *Route, resolve func(field, ref string) secret.Secret) *route {
	rt := &route{
		name:       r.Name,
		packages:   make(map[string]bool),
		users:      make(map[string]bool),
		timeout:    r.Upstream.Timeout,
		maxBody:    r.Limits.MaxBodyBytes,
		userKey:    r.Name + "\x00user\x00",
		packageKey: r.Name + "\x00package\x00",
		latency:    a.metrics.latency.WithLabelValues(r.Name),
		requests:   newStatusCounters(a.metrics.requests.MustCurryWith(prometheus.Labels{"route": r.Name})),
	}
	for _, id := range r.Policy.Packages {
		if id == "*" {
			rt.anyPackage = true
		}
		rt.packages[id] = true
	}
	for _, id := range r.Policy.Users {
		rt.users[id] = true
	}
	if len(r.Policy.Conversations) > 0 {
		rt.conversations = make(map[string]bool, len(r.Policy.Conversations))
		for _, id := range r.Policy.Conversations {
			rt.conversations[id] = true
		}
	}

	target, _ := url.Parse(r.Upstream.URL) // validated
	rt.target = target
	rt.basePath = target.Path
	rt.baseRawPath = target.EscapedPath()
	rt.cleanBase = path.Clean("/" + target.Path)
	rt.cleanBasePrefix = strings.TrimSuffix(rt.cleanBase, "/") + "/"
	rt.stripPrefix = r.Upstream.StripPrefix
	rt.rawStripPrefix = (&url.URL{Path: rt.stripPrefix}).EscapedPath()

	if l := toLimit(r.Limits.RateLimit.PerUser); l != nil {
		rt.perUser = l
	}
	if l := toLimit(r.Limits.RateLimit.PerPackage); l != nil {
		rt.perPackage = l
	}

	ih := r.IdentityHeaders
	rt.userHeader = canonical(ih.UserID)
	rt.packageHeader = canonical(ih.PackageID)
	rt.nameHeader = canonical(ih.UserName)
	rt.conversationHeader = canonical(ih.ConversationID)
	remove := make(map[string]bool, len(routingHeaders)+8)
	for h := range routingHeaders {
		remove[h] = true
	}
	// The adapter answers a client's Expect: 100-continue itself, when it
	// starts reading the body. Passed on, it would make the transport wait
	// for the upstream's 100 too, and pass that one to the client as well:
	// two 100 Continue, in either order.
	remove["Expect"] = true
	for _, h := range []string{rt.userHeader, rt.packageHeader, rt.nameHeader, rt.conversationHeader} {
		if h != "" {
			remove[h] = true
			t.guarded[squash(h)] = true
		}
	}
	for _, th := range t.tokenHeaders {
		remove[th.name] = true
	}
	rt.websocket = r.WebSocket
	rt.upScheme = strings.ToLower(target.Scheme)
	// The upstream's host as canonHost spells a Location's, so that every
	// spelling of it (2130706433, 127.0.0.1., [::ffff:127.0.0.1]) is known.
	rt.upHost = strings.ToLower(target.Hostname())
	if h, _, ok := canonHost(target); ok {
		rt.upHost = h
	}
	rt.upPort = portOf(target)
	rt.baseRawPrefix = strings.TrimSuffix(rt.baseRawPath, "/")
	addSecret := func(s string) {
		if s != "" {
			rt.secrets = append(rt.secrets, s)
		}
	}
	if r.CORS != nil {
		rt.cors = newCORS(r.CORS, r.Match)
	}

	// The route's timeout is the transport's wait for response headers
	// once the request is written: no timer of its own for a request
	// without a body (forward).
	pool := a.transports
	base, key := pool.get(target.Scheme+"://"+target.Host, rt.timeout)
	t.upstreams[key] = true
	var transport http.RoundTripper = retryTransport{base: base}
	static := func(h *credential.Header) {
		rt.credName, rt.credValue = canonical(h.Name), h.Value
		remove[rt.credName] = true
	}
	if c := r.Credential; c != nil {
		cf := field + ".credential"
		switch c.Type {
		case CredentialHeader:
			v := resolve(cf+".value", c.Value)
			addSecret(v.Reveal())
			static(&credential.Header{Name: c.Header, Value: v})
		case CredentialBasic:
			pw := resolve(cf+".password", c.Password)
			addSecret(pw.Reveal())
			addSecret(base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + pw.Reveal())))
			static(credential.Basic(nil, c.Username, pw))
		case CredentialBearer:
			tok := resolve(cf+".token", c.Token)
			addSecret(tok.Reveal())
			static(credential.Bearer(nil, tok))
		case CredentialClientCredentials:
			remove["Authorization"] = true
			rt.sentAuth = true
			var params url.Values
			if c.Audience != "" {
				params = url.Values{"audience": {c.Audience}}
			}
			tokenURL, _ := url.Parse(c.TokenURL)
			tokenTransport, tokenKey := pool.get("token:"+tokenURL.Scheme+"://"+tokenURL.Host, 0)
			t.upstreams[tokenKey] = true
			cs := resolve(cf+".clientSecret", c.ClientSecret)
			addSecret(cs.Reveal())
			transport = credential.ClientCredentials(transport, credential.ClientCredentialsConfig{
				TokenURL: c.TokenURL, ClientID: c.ClientID, ClientSecret: cs,
				Scopes: c.Scopes, Params: params,
				HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: tokenTransport},
			})
		}
	}
	rt.drop = remove
	rt.proxy = &httputil.ReverseProxy{
		Rewrite:   rt.rewrite,
		Transport: transport,
		// FlushInterval 0: ReverseProxy flushes streaming responses (server-
		// sent events, unknown length) after every write by itself; flushing
		// every write of every response as well only adds syscalls.
		FlushInterval:  0,
		ErrorHandler:   a.proxyError,
		ModifyResponse: rt.modifyResponse,
		ErrorLog:       a.errorLog(),
		BufferPool:     &a.bufs,
	}
	return rt
}

// portOf returns u's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

func canonical(h string) string {
	if h == "" {
		return ""
	}
	return http.CanonicalHeaderKey(h)
}

func toLimit(r *Rate) *ratelimit.Limit {
	if r == nil {
		return nil
	}
	per := time.Second
	switch r.Per {
	case "minute":
		per = time.Minute
	case "hour":
		per = time.Hour
	}
	l := ratelimit.Per(r.Requests, per, r.Burst)
	return &l
}

// hashString is FNV-1a, to compare settings without keeping a password.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
