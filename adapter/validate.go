package adapter

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/verify"
)

// Defaults.
const (
	DefaultListen               = "127.0.0.1:8081"
	DefaultMaxBodyBytes         = 1 << 20
	DefaultMaxHeaderBytes       = 64 << 10
	DefaultReadHeaderTimeout    = 10 * time.Second
	DefaultReadTimeout          = time.Minute
	DefaultIdleTimeout          = 2 * time.Minute
	DefaultAuditMaxAge          = 30 * 24 * time.Hour
	DefaultAuditMaxRecords      = 10_000_000
	DefaultTokenCacheSize       = 100_000
	DefaultNegativeCacheSize    = 10_000
	DefaultTimeout              = 30 * time.Second
	DefaultCORSMaxAge           = 10 * time.Minute
	DefaultUserIDHeader         = "X-Cardgate-User-Id"
	DefaultPackageIDHeader      = "X-Cardgate-Package-Id"
	DefaultConversationIDHeader = "X-Cardgate-Conversation-Id"
	DefaultRedisKeyPrefix       = "cardgate:rl:"
)

var (
	routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// headerName allows letters, digits and "-" only: the adapter drops
	// every other request header name (see dropRequestHeader).
	headerName = regexp.MustCompile("^[0-9A-Za-z-]+$")
)

// reservedHeaders may never be set or chosen as identity or credential
// headers: they frame the request or belong to the proxy.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Content-Type": true, "Cookie": true, "Forwarded": true,
}

// validate fills defaults into cfg and reports every problem to p.
func validate(cfg *Config, p *problems) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	} else if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		p.errf("listen", "must be host:port, such as 127.0.0.1:8081")
	}
	s := &cfg.Server
	if s.MaxHeaderBytes < 0 {
		p.errf("server.maxHeaderBytes", "must not be negative")
	} else if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	// Negative durations are refused when the file is decoded.
	if s.ReadHeaderTimeout == 0 {
		s.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if s.ReadTimeout == 0 {
		s.ReadTimeout = DefaultReadTimeout
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = DefaultIdleTimeout
	}

	if cfg.Audit.MaxRecords < 0 {
		p.errf("audit.maxRecords", "must not be negative")
	} else if cfg.Audit.MaxRecords == 0 {
		cfg.Audit.MaxRecords = DefaultAuditMaxRecords
	}
	if cfg.Audit.MaxAge == 0 {
		cfg.Audit.MaxAge = DefaultAuditMaxAge
	}

	if cfg.Issuer.URL == "" {
		p.errf("issuer.url", "is required")
	} else if msg := checkHTTPURL(cfg.Issuer.URL); msg != "" {
		p.errf("issuer.url", "%s", msg)
	}
	switch cfg.Issuer.Mode {
	case "":
		cfg.Issuer.Mode = "remote"
	case "remote", "local":
	default:
		p.errf("issuer.mode", "must be remote or local")
	}
	switch {
	case cfg.Issuer.CacheTTL < 0 || cfg.Issuer.CacheTTL > verify.MaxRemoteTTL:
		p.errf("issuer.cacheTTL", "must be from 0s to %v", verify.MaxRemoteTTL)
	case cfg.Issuer.CacheTTL != 0 && cfg.Issuer.Mode == "local":
		p.errf("issuer.cacheTTL", "applies to mode remote only: local mode follows the issuer's revocation feed")
	case cfg.Issuer.CacheTTL == 0:
		cfg.Issuer.CacheTTL = verify.DefaultRemoteTTL
	}
	switch {
	case cfg.Issuer.CacheSize < 0:
		p.errf("issuer.cacheSize", "must not be negative")
	case cfg.Issuer.CacheSize == 0:
		cfg.Issuer.CacheSize = DefaultTokenCacheSize
	}
	switch {
	case cfg.Issuer.NegativeCacheSize < 0:
		p.errf("issuer.negativeCacheSize", "must not be negative")
	case cfg.Issuer.NegativeCacheSize != 0 && cfg.Issuer.Mode == "local":
		p.errf("issuer.negativeCacheSize", "applies to mode remote only: local mode remembers no rejection")
	case cfg.Issuer.NegativeCacheSize == 0:
		cfg.Issuer.NegativeCacheSize = DefaultNegativeCacheSize
	}

	if cfg.Token.Headers == nil {
		cfg.Token.Headers = []string{"Authorization", "accessToken"}
	}
	if len(cfg.Token.Headers) == 0 && cfg.Token.BodyField == "" {
		p.errf("token.headers", "must name at least one header when token.bodyField is not set")
	}
	for i, h := range cfg.Token.Headers {
		checkHeaderName(p, fmt.Sprintf("token.headers[%d]", i), h)
	}

	checkIdentityHeaders(p, "identityHeaders", &cfg.IdentityHeaders)
	if cfg.IdentityHeaders.UserID == "" {
		cfg.IdentityHeaders.UserID = DefaultUserIDHeader
	}
	if cfg.IdentityHeaders.PackageID == "" {
		cfg.IdentityHeaders.PackageID = DefaultPackageIDHeader
	}
	if cfg.IdentityHeaders.ConversationID == "" {
		cfg.IdentityHeaders.ConversationID = DefaultConversationIDHeader
	}
	checkLimits(p, "limits", &cfg.Limits)
	if cfg.Limits.MaxBodyBytes == 0 {
		cfg.Limits.MaxBodyBytes = DefaultMaxBodyBytes
	}

	rl := &cfg.RateLimit
	switch rl.Backend {
	case "":
		rl.Backend = "memory"
	case "memory":
	case "redis":
		if rl.Redis.Addr == "" {
			p.errf("rateLimit.redis.addr", "is required for the redis backend")
		} else if _, _, err := net.SplitHostPort(rl.Redis.Addr); err != nil {
			p.errf("rateLimit.redis.addr", "must be host:port")
		}
		if rl.Redis.KeyPrefix == "" {
			rl.Redis.KeyPrefix = DefaultRedisKeyPrefix
		}
	default:
		p.errf("rateLimit.backend", "must be memory or redis")
	}
	if rl.Redis.Password != "" {
		checkRef(p, "rateLimit.redis.password", rl.Redis.Password)
	}

	switch cfg.ForwardAuth.From {
	case "":
		cfg.ForwardAuth.From = FromXOriginal
	case FromXOriginal, FromXForwarded, FromRequest:
	default:
		p.errf("forwardAuth.from", "must be x-original (nginx), x-forwarded (Traefik) or request (Envoy)")
	}

	if len(cfg.Routes) == 0 {
		p.errf("routes", "must list at least one route")
	}
	names := make(map[string]int)
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		path := fmt.Sprintf("routes[%d]", i)
		if r.Name == "" {
			p.errf(path+".name", "is required")
		} else if !routeName.MatchString(r.Name) {
			p.errf(path+".name", "must be 1 to 64 letters, digits, '.', '_' or '-'")
		} else if j, dup := names[r.Name]; dup {
			p.errf(path+".name", "is already the name of routes[%d]", j)
		} else {
			names[r.Name] = i
		}
		validateRoute(p, path, cfg, r)
	}
	checkPatterns(p, cfg)
}

func validateRoute(p *problems, path string, cfg *Config, r *Route) {
	if r.Match == "" {
		p.errf(path+".match", `is required, such as "GET /products/{id}"`)
	}
	pol := &r.Policy
	if len(pol.Packages) == 0 {
		p.errf(path+".policy.packages", `must list the action packages allowed, or "*" for any`)
	}
	for i, id := range pol.Packages {
		f := fmt.Sprintf("%s.policy.packages[%d]", path, i)
		if id == "*" {
			if len(pol.Packages) > 1 {
				p.errf(f, `"*" must be the only entry`)
			}
		} else if err := cardgate.ValidatePackageID(f, id); err != nil {
			p.errf(f, "%s", strings.TrimPrefix(cardgate.ErrorMessage(err), f+": "))
		}
	}
	for i, id := range pol.Users {
		f := fmt.Sprintf("%s.policy.users[%d]", path, i)
		if err := cardgate.ValidateUserID(f, id); err != nil {
			p.errf(f, "%s", strings.TrimPrefix(cardgate.ErrorMessage(err), f+": "))
		}
	}
	for i, id := range pol.Conversations {
		// Conversations have GUIDs, as users do.
		f := fmt.Sprintf("%s.policy.conversations[%d]", path, i)
		if err := cardgate.ValidateUserID(f, id); err != nil {
			p.errf(f, "%s", strings.TrimPrefix(cardgate.ErrorMessage(err), f+": "))
		}
	}

	up := &r.Upstream
	if up.URL == "" {
		p.errf(path+".upstream.url", "is required")
	} else if msg := checkHTTPURL(up.URL); msg != "" {
		p.errf(path+".upstream.url", "%s", msg)
	}
	if up.Timeout == 0 {
		up.Timeout = DefaultTimeout
	}
	if sp := up.StripPrefix; sp != "" {
		_, _, pat := splitPattern(r.Match)
		lit, _, _ := strings.Cut(pat, "{")
		switch {
		case !strings.HasPrefix(sp, "/") || (sp != "/" && strings.HasSuffix(sp, "/")) || strings.Contains(sp, "{"):
			p.errf(path+".upstream.stripPrefix", `must start with "/" and not end with one, such as /products`)
		case r.Match != "" && !segmentPrefix(lit, sp):
			p.errf(path+".upstream.stripPrefix", "must be a whole-segment prefix of the match pattern's path")
		}
	}

	if r.WebSocket {
		if m, _, _ := splitPattern(r.Match); m != "" && m != http.MethodGet {
			p.errf(path+".websocket", "needs a match pattern for GET or for every method: a WebSocket handshake is a GET, not %s", m)
		}
	}
	if c := r.Credential; c != nil {
		validateCredential(p, path+".credential", c)
	}
	if ih := r.IdentityHeaders; ih != nil {
		checkIdentityHeaders(p, path+".identityHeaders", ih)
	} else {
		r.IdentityHeaders = &IdentityHeaders{}
	}
	ih := r.IdentityHeaders
	if ih.UserID == "" {
		ih.UserID = cfg.IdentityHeaders.UserID
	}
	if ih.PackageID == "" {
		ih.PackageID = cfg.IdentityHeaders.PackageID
	}
	if ih.UserName == "" {
		ih.UserName = cfg.IdentityHeaders.UserName
	}
	if ih.ConversationID == "" {
		ih.ConversationID = cfg.IdentityHeaders.ConversationID
	}
	if r.Limits == nil {
		r.Limits = &Limits{}
	} else {
		checkLimits(p, path+".limits", r.Limits)
	}
	if r.Limits.MaxBodyBytes == 0 {
		r.Limits.MaxBodyBytes = cfg.Limits.MaxBodyBytes
	}
	if r.Limits.RateLimit.PerUser == nil {
		r.Limits.RateLimit.PerUser = cfg.Limits.RateLimit.PerUser
	}
	if r.Limits.RateLimit.PerPackage == nil {
		r.Limits.RateLimit.PerPackage = cfg.Limits.RateLimit.PerPackage
	}
	if cors := r.CORS; cors != nil {
		if len(cors.Origins) == 0 {
			p.errf(path+".cors.origins", "must list at least one origin")
		}
		for i, o := range cors.Origins {
			if o == "*" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
				p.errf(fmt.Sprintf("%s.cors.origins[%d]", path, i), `must be an origin such as https://cards.example.com, or "*"`)
			}
		}
		if cors.MaxAge == 0 {
			cors.MaxAge = DefaultCORSMaxAge
		}
	}
}

func validateCredential(p *problems, path string, c *Credential) {
	// need lists the fields a type requires; every other field must be
	// empty, so that a mistyped type does not silently drop a secret.
	var need []string
	switch c.Type {
	case CredentialHeader:
		need = []string{"header", "value"}
	case CredentialBasic:
		need = []string{"username", "password"}
	case CredentialBearer:
		need = []string{"token"}
	case CredentialClientCredentials:
		need = []string{"tokenUrl", "clientId", "clientSecret"}
	case "":
		p.errf(path+".type", "is required: header, basic, bearer or oauth2-client-credentials")
		return
	default:
		p.errf(path+".type", "must be header, basic, bearer or oauth2-client-credentials")
		return
	}
	fields := map[string]string{
		"header": c.Header, "value": c.Value, "username": c.Username, "password": c.Password,
		"token": c.Token, "tokenUrl": c.TokenURL, "clientId": c.ClientID, "clientSecret": c.ClientSecret,
		"audience": c.Audience,
	}
	if len(c.Scopes) > 0 {
		fields["scopes"] = "set"
	}
	allowed := map[string]bool{}
	for _, f := range need {
		allowed[f] = true
		if fields[f] == "" {
			p.errf(path+"."+f, "is required for type %s", c.Type)
		}
	}
	if c.Type == CredentialClientCredentials {
		allowed["scopes"], allowed["audience"] = true, true
	}
	for _, f := range []string{"header", "value", "username", "password", "token", "tokenUrl", "clientId", "clientSecret", "scopes", "audience"} {
		if fields[f] != "" && !allowed[f] {
			p.errf(path+"."+f, "is not used by type %s", c.Type)
		}
	}
	for _, f := range []string{"value", "password", "token", "clientSecret"} {
		if fields[f] != "" && allowed[f] {
			checkRef(p, path+"."+f, fields[f])
		}
	}
	if c.Header != "" {
		checkHeaderName(p, path+".header", c.Header)
	}
	if c.TokenURL != "" {
		if msg := checkHTTPURL(c.TokenURL); msg != "" {
			p.errf(path+".tokenUrl", "%s", msg)
		}
	}
}

// checkRef reports a value that is not a secret reference, without ever
// repeating the value: it may be a secret pasted in the wrong place.
func checkRef(p *problems, field, ref string) {
	if _, err := secret.ParseRef(ref); err != nil {
		p.errf(field, "must be a secret reference env:NAME, file:PATH or store:NAME (the value itself never goes in this file)")
	}
}

func checkIdentityHeaders(p *problems, path string, ih *IdentityHeaders) {
	for f, v := range map[string]string{"userId": ih.UserID, "packageId": ih.PackageID, "userName": ih.UserName, "conversationId": ih.ConversationID} {
		if v != "" {
			checkHeaderName(p, path+"."+f, v)
		}
	}
}

func checkHeaderName(p *problems, field, name string) {
	switch {
	case !headerName.MatchString(name):
		p.errf(field, "must be a header name of letters, digits and '-' (names with '_' and the like are dropped)")
	case reservedHeaders[http.CanonicalHeaderKey(name)]:
		p.errf(field, "must not be %s, which frames the request", http.CanonicalHeaderKey(name))
	}
}

func checkLimits(p *problems, path string, l *Limits) {
	if l.MaxBodyBytes < 0 {
		p.errf(path+".maxBodyBytes", "must not be negative")
	}
	for f, r := range map[string]*Rate{"perUser": l.RateLimit.PerUser, "perPackage": l.RateLimit.PerPackage} {
		if r == nil {
			continue
		}
		rp := path + ".rateLimit." + f
		if r.Requests < 1 {
			p.errf(rp+".requests", "must be at least 1")
		}
		if r.Burst < 0 {
			p.errf(rp+".burst", "must not be negative")
		}
		switch r.Per {
		case "":
			r.Per = "second"
		case "second", "minute", "hour":
		default:
			p.errf(rp+".per", "must be second, minute or hour")
		}
	}
}

// checkHTTPURL returns what is wrong with an upstream-style URL, or "".
func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return "must be an absolute http(s) URL"
	case u.User != nil:
		return "must not hold user info; use a credential"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "must not have a fragment"
	}
	return ""
}

// splitPattern splits a ServeMux pattern into method, host and path.
func splitPattern(pat string) (method, host, path string) {
	pat = strings.TrimSpace(pat)
	if m, rest, ok := strings.Cut(pat, " "); ok && !strings.Contains(m, "/") {
		method, pat = m, strings.TrimLeft(rest, " \t")
	}
	i := strings.IndexByte(pat, '/')
	if i < 0 {
		return method, pat, ""
	}
	return method, pat[:i], pat[i:]
}

// segmentPrefix reports whether prefix is p or a prefix of p that ends at a
// segment boundary.
func segmentPrefix(p, prefix string) bool {
	if prefix == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// checkPatterns registers every route's pattern on a scratch ServeMux, which
// reports invalid patterns and pairs that conflict (neither more specific).
func checkPatterns(p *problems, cfg *Config) {
	mux := http.NewServeMux()
	for i, r := range cfg.Routes {
		if r.Match == "" {
			continue
		}
		if msg := register(mux, r.Match, http.NotFoundHandler()); msg != "" {
			p.errf(fmt.Sprintf("routes[%d].match", i), "%s", msg)
		}
	}
}

// register adds pattern to mux and returns ServeMux's complaint, if any.
func register(mux *http.ServeMux, pattern string, h http.Handler) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = strings.TrimPrefix(fmt.Sprint(v), "http: ")
		}
	}()
	mux.Handle(pattern, h)
	return ""
}
