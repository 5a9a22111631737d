package adapter

import "time"

// Config is the adapter's configuration file, as written. Load decodes and
// checks it; compile turns it into the table the hot path reads. Field
// comments give each field's YAML name and default.
type Config struct {
	// Listen is the address to serve on ("listen"); default
	// 127.0.0.1:8081, loopback unless told otherwise.
	Listen string `yaml:"listen"`
	// Server bounds what a client can make the server hold ("server").
	Server ServerConfig `yaml:"server"`
	// Issuer is the Integration Service whose tokens the adapter trusts
	// ("issuer").
	Issuer IssuerConfig `yaml:"issuer"`
	// Token says where requests carry their token ("token").
	Token TokenConfig `yaml:"token"`
	// IdentityHeaders are the default identity headers for every route
	// ("identityHeaders").
	IdentityHeaders IdentityHeaders `yaml:"identityHeaders"`
	// Limits are the default limits for every route ("limits").
	Limits Limits `yaml:"limits"`
	// RateLimit chooses where rate-limit buckets live ("rateLimit").
	RateLimit RateLimitBackend `yaml:"rateLimit"`
	// Audit bounds the audit records kept in the store ("audit").
	Audit AuditConfig `yaml:"audit"`
	// ForwardAuth says which proxy in front asks GET /auth
	// ("forwardAuth").
	ForwardAuth ForwardAuthConfig `yaml:"forwardAuth"`
	// Routes are the upstream calls the adapter makes for cards, matched
	// in the order net/http.ServeMux gives them: the most specific pattern
	// wins, whatever the order in the file ("routes").
	Routes []Route `yaml:"routes"`

	// problems remembers the file name and each field's line, so that
	// errors found while compiling name them too.
	problems *problems
	// sum is the SHA-256 of the file as loaded, for Watch.
	sum [32]byte
}

// ServerConfig holds the HTTP server's own limits. They are read when the
// adapter starts; a reload does not change them.
type ServerConfig struct {
	// MaxHeaderBytes bounds the request line and headers
	// ("maxHeaderBytes"); larger ones get 431. Default 64 KiB.
	MaxHeaderBytes int `yaml:"maxHeaderBytes"`
	// ReadHeaderTimeout bounds how long a client may take to send its
	// request line and headers ("readHeaderTimeout"); a slower client has
	// its connection closed without an answer. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	// ReadTimeout bounds how long a client may take to send its request
	// body, counted from the end of its headers ("readTimeout"); a body
	// still coming then gets 408 and the connection is closed. It does not
	// limit responses, however long they stream. Default 1m; raise it
	// for routes that take large uploads over slow links.
	ReadTimeout time.Duration `yaml:"readTimeout"`
	// IdleTimeout closes idle keep-alive connections ("idleTimeout");
	// default 2m.
	IdleTimeout time.Duration `yaml:"idleTimeout"`
}

// AuditConfig is how long audit records are kept. Records past either
// bound are deleted, oldest first, in small batches between writes. Read
// at start; a reload does not change it.
type AuditConfig struct {
	// MaxAge deletes records older than this ("maxAge"); default 720h
	// (30 days).
	MaxAge time.Duration `yaml:"maxAge"`
	// MaxRecords keeps at most this many records ("maxRecords"); default
	// 10,000,000 (about 1.5 GB in SQLite).
	MaxRecords int64 `yaml:"maxRecords"`
}

// The values of ForwardAuthConfig.From.
const (
	FromXOriginal  = "x-original"
	FromXForwarded = "x-forwarded"
	FromRequest    = "request"
)

// ForwardAuthConfig says where GET /auth reads the request it checks. Only
// one family of headers is read: a request that carries the other family's
// method or URI header (which the client may have sent, and a proxy that
// sets one family passes the other through) is refused with 400, and so is
// one that repeats a header that is read.
type ForwardAuthConfig struct {
	// From is x-original (nginx auth_request: X-Original-Method and
	// X-Original-Uri, set by the proxy, and the request's Host),
	// x-forwarded (Traefik ForwardAuth: X-Forwarded-Method,
	// X-Forwarded-Uri and X-Forwarded-Host) or request (Envoy ext_authz:
	// the request itself) ("from"); default x-original.
	From string `yaml:"from"`
}

// IssuerConfig names the Integration Service.
type IssuerConfig struct {
	// URL is the issuer's base URL ("url"), required.
	URL string `yaml:"url"`
	// Mode is "remote" (ask GET /v1/users/me, cached) or "local" (verify
	// signatures with the issuer's published keys) ("mode"); default
	// remote.
	Mode string `yaml:"mode"`
	// CacheTTL is how long remote mode reuses the issuer's answer for a
	// token ("cacheTTL"); default 3s, at most 30m. A revoked token, or one
	// of a disabled user or package, keeps passing for up to CacheTTL plus
	// the issuer's own 1 s state cache: the default keeps that within 5 s.
	// Remote mode only: local mode reads the issuer's revocation feed
	// every 2 s and caches nothing that a revocation could outlive. Read at
	// start, like the rest of the issuer section.
	CacheTTL time.Duration `yaml:"cacheTTL"`
	// CacheSize caps the tokens the adapter remembers as valid
	// ("cacheSize"); default 100,000. An entry costs about 290 bytes in
	// remote mode (an identity) and 120 in local mode (the claims), so the
	// default about 29 MB or 12 MB when full (verify's
	// TestRemoteCacheEntrySize, TestLocalCacheEntrySize); in remote mode
	// entries leave once expired, so the cache holds about the tokens of
	// the last cacheTTL. Read at start.
	CacheSize int `yaml:"cacheSize"`
	// NegativeCacheSize caps the rejected tokens remote mode remembers
	// ("negativeCacheSize"); default 10,000, about 210 bytes each, 2 MB
	// (TestRemoteNegativeCacheEntrySize). Read at start.
	NegativeCacheSize int `yaml:"negativeCacheSize"`
}

// TokenConfig says where requests carry their integration service token.
type TokenConfig struct {
	// Headers are read in order ("headers"); default [Authorization,
	// accessToken]. "Authorization" means the "Bearer <token>" scheme;
	// any other header holds the bare token.
	Headers []string `yaml:"headers"`
	// BodyField, when set, is a top-level field of a JSON request body
	// that holds the token when no header does ("bodyField"). The field
	// (in any case) is removed before the body goes upstream, also when a
	// header carries the token; a body token that differs from the
	// header's is refused with 401.
	BodyField string `yaml:"bodyField"`
}

// IdentityHeaders name the request headers that tell the upstream who is
// calling. The adapter deletes whatever the client sent under these names
// (and under any X-Cardgate-* name) before setting them.
type IdentityHeaders struct {
	// UserID carries the user's id ("userId"); default X-Cardgate-User-Id.
	UserID string `yaml:"userId"`
	// PackageID carries the action package's id ("packageId"); default
	// X-Cardgate-Package-Id.
	PackageID string `yaml:"packageId"`
	// UserName, when set, carries the user's display name, percent-encoded
	// as UTF-8 ("userName"); default none. Never authorize on it: the user
	// chooses it.
	UserName string `yaml:"userName"`
	// ConversationID carries the conversation the card was opened in, for a
	// token minted in one ("conversationId"); default
	// X-Cardgate-Conversation-Id. The upstream gets no such header for a
	// token minted outside a conversation; GET /auth answers it empty.
	ConversationID string `yaml:"conversationId"`
}

// Limits bound one route's requests.
type Limits struct {
	// MaxBodyBytes is the largest request body ("maxBodyBytes"); larger
	// ones get 413. Default 1 MiB.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// RateLimit limits requests per user and per action package
	// ("rateLimit"); default none.
	RateLimit RateLimits `yaml:"rateLimit"`
}

// RateLimits are a route's rate limits. Each user, and each action package,
// has its own bucket per route.
type RateLimits struct {
	// PerUser limits each user ("perUser").
	PerUser *Rate `yaml:"perUser"`
	// PerPackage limits each action package, all its users together
	// ("perPackage").
	PerPackage *Rate `yaml:"perPackage"`
}

// Rate is a token bucket: Requests per Per, up to Burst at once.
type Rate struct {
	// Requests is how many requests are allowed per period ("requests").
	Requests int `yaml:"requests"`
	// Per is the period: second, minute or hour ("per"); default second.
	Per string `yaml:"per"`
	// Burst is how many may come at once ("burst"); default Requests.
	Burst int `yaml:"burst"`
}

// RateLimitBackend says where rate-limit buckets live.
type RateLimitBackend struct {
	// Backend is "memory" (one node) or "redis" (shared by every node)
	// ("backend"); default memory.
	Backend string `yaml:"backend"`
	// Redis is the Redis server for the redis backend ("redis").
	Redis RedisConfig `yaml:"redis"`
	// FailClosed makes a Redis failure refuse requests with 503 instead of
	// letting them through unlimited ("failClosed"); default false.
	FailClosed bool `yaml:"failClosed"`
}

// RedisConfig locates a Redis server.
type RedisConfig struct {
	// Addr is host:port ("addr"), required for the redis backend.
	Addr string `yaml:"addr"`
	// Password is a secret reference ("password"); default none.
	Password string `yaml:"password"`
	// DB is the database number ("db"); default 0.
	DB int `yaml:"db"`
	// KeyPrefix starts every key ("keyPrefix"); default "cardgate:rl:".
	KeyPrefix string `yaml:"keyPrefix"`
}

// Route is one upstream call the adapter makes for cards.
type Route struct {
	// Name identifies the route in logs, metrics and audit records
	// ("name"), required and unique.
	Name string `yaml:"name"`
	// Match is a net/http.ServeMux pattern, "[METHOD ][HOST]/PATH", such as
	// "GET /products/{id}" or "/orders/" ("match"), required and unique.
	Match string `yaml:"match"`
	// Policy says who may call the route ("policy").
	Policy Policy `yaml:"policy"`
	// Upstream is where requests go ("upstream").
	Upstream Upstream `yaml:"upstream"`
	// Credential is added to every upstream request ("credential");
	// default none.
	Credential *Credential `yaml:"credential"`
	// IdentityHeaders override the top-level ones, field by field
	// ("identityHeaders").
	IdentityHeaders *IdentityHeaders `yaml:"identityHeaders"`
	// Limits override the top-level ones, field by field ("limits").
	Limits *Limits `yaml:"limits"`
	// CORS lets cards on other origins call the route from a browser
	// ("cors"); default none.
	CORS *CORS `yaml:"cors"`
	// WebSocket lets a GET request switch to a WebSocket ("websocket");
	// default false. No other protocol switch is ever allowed. After the
	// switch the adapter only copies bytes: see docs/adapter.md.
	WebSocket bool `yaml:"websocket"`
}

// Policy says who may call a route. A caller passes when its action package
// is listed (or Packages is ["*"]), if Users is not empty its user is listed
// too, and if Conversations is not empty its token was minted in a listed
// conversation. Authorization never looks at display names.
type Policy struct {
	// Packages are the action package ids allowed ("packages"), required:
	// ["*"] allows every package explicitly.
	Packages []string `yaml:"packages"`
	// Users are the user ids allowed ("users"); empty allows every user of
	// an allowed package.
	Users []string `yaml:"users"`
	// Conversations, when set, are the conversation ids the route is for
	// ("conversations"): only a token minted for a card opened in one of
	// them passes (the issuer mints such a token only for a member of the
	// conversation). Default none: tokens minted in any conversation or
	// none pass.
	Conversations []string `yaml:"conversations"`
}

// Upstream is a route's destination.
//
// Path mapping: the request path, less StripPrefix, is appended to the URL's
// path. A request for /products/42 on a route with url
// http://erp:8080/api/v2/items and stripPrefix /products goes to
// http://erp:8080/api/v2/items/42; without stripPrefix it goes to
// /api/v2/items/products/42. So "replace prefix A with B" is stripPrefix A
// with B at the end of the URL. The result never leaves the URL's path.
type Upstream struct {
	// URL is the absolute http(s) base URL ("url"), required; it may have
	// a path and a query, never user info or a fragment.
	URL string `yaml:"url"`
	// StripPrefix is removed from the start of the request path ("stripPrefix");
	// it must be a whole-segment prefix of the match pattern's path.
	StripPrefix string `yaml:"stripPrefix"`
	// Timeout bounds how long the upstream may take to start answering (to
	// send its response headers) ("timeout"); default 30s. A response that
	// is streaming (a download, server-sent events, a WebSocket) is not cut
	// off once it has started.
	Timeout time.Duration `yaml:"timeout"`
}

// The credential types.
const (
	CredentialHeader            = "header"
	CredentialBasic             = "basic"
	CredentialBearer            = "bearer"
	CredentialClientCredentials = "oauth2-client-credentials"
)

// Credential is what the adapter adds to upstream requests. Every secret is
// a reference: env:NAME, file:PATH or store:NAME, never the value itself.
type Credential struct {
	// Type is header, basic, bearer or oauth2-client-credentials ("type").
	Type string `yaml:"type"`
	// Header is the header name for type header ("header"), such as
	// X-Api-Key.
	Header string `yaml:"header"`
	// Value is the header's value for type header ("value"), a reference.
	Value string `yaml:"value"`
	// Username is the user for type basic ("username"), not secret.
	Username string `yaml:"username"`
	// Password is the password for type basic ("password"), a reference.
	Password string `yaml:"password"`
	// Token is the token for type bearer ("token"), a reference.
	Token string `yaml:"token"`
	// TokenURL is the token endpoint for oauth2-client-credentials
	// ("tokenUrl").
	TokenURL string `yaml:"tokenUrl"`
	// ClientID is the OAuth 2.0 client id ("clientId"), not secret.
	ClientID string `yaml:"clientId"`
	// ClientSecret is the OAuth 2.0 client secret ("clientSecret"), a
	// reference.
	ClientSecret string `yaml:"clientSecret"`
	// Scopes are requested with each token ("scopes").
	Scopes []string `yaml:"scopes"`
	// Audience, when set, is sent as the "audience" parameter some
	// authorization servers require ("audience").
	Audience string `yaml:"audience"`
}

// CORS lets browsers on the listed origins call a route.
type CORS struct {
	// Origins are allowed origins, such as https://cards.example.com
	// ("origins"), required.
	Origins []string `yaml:"origins"`
	// MaxAge is how long a browser may cache a preflight answer ("maxAge");
	// default 10m.
	MaxAge time.Duration `yaml:"maxAge"`
}
