// Package contoso is a small business system for the demo: a product
// catalogue and an order book, the kind of line-of-business API a card
// must not call with the API key in its own code. It accepts only its own
// API key (X-Api-Key) for the catalogue and an OAuth 2.0 client-credentials
// token, which it issues itself, for orders; and it records which user
// placed each order from the identity headers cardgate's adapter sends.
package contoso

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config holds the system's own credentials: the values the adapter keeps
// on the server side.
type Config struct {
	APIKey       string
	ClientID     string
	ClientSecret string
	// TokenTTL is the lifetime of issued access tokens; 0 means 1 hour.
	TokenTTL time.Duration
	// OpenBackOffice serves GET /backoffice/orders with no credential: the
	// order book as the business's own staff would see it, for a demo on
	// loopback. Leave it off anywhere else.
	OpenBackOffice bool
}

// Product is an item of the catalogue.
type Product struct {
	SKU   string  `json:"sku"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

// Order is an order as recorded, with who placed it.
type Order struct {
	ID              int       `json:"id"`
	SKU             string    `json:"sku"`
	Quantity        int       `json:"quantity"`
	UserID          string    `json:"userId"`
	ActionPackageID string    `json:"actionPackageId"`
	PlacedAt        time.Time `json:"placedAt"`
}

// Catalogue is what the system sells.
var Catalogue = []Product{
	{"P-100", "Recycled paper, A4, 500 sheets", 6.49},
	{"P-200", "Ballpoint pens, blue, box of 10", 3.99},
	{"P-300", "Stapler, heavy duty", 18.00},
	{"P-400", "Sticky notes, 12 pads", 7.25},
}

// System is the business system. It is safe for concurrent use.
type System struct {
	cfg        Config
	tokenCalls atomic.Int64

	mu     sync.Mutex
	tokens map[string]time.Time // access token → expiry
	orders []Order
}

// New returns a System.
func New(cfg Config) *System {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	return &System{cfg: cfg, tokens: map[string]time.Time{}}
}

// TokenCalls reports how many times the token endpoint issued a token.
func (s *System) TokenCalls() int64 { return s.tokenCalls.Load() }

// Orders returns the orders placed so far.
func (s *System) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Order(nil), s.orders...)
}

// Handler returns the system's HTTP API.
func (s *System) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.token)
	mux.Handle("GET /api/products", s.apiKey(http.HandlerFunc(s.products)))
	mux.Handle("POST /api/orders", s.bearer(http.HandlerFunc(s.placeOrder)))
	mux.Handle("GET /api/orders", s.bearer(http.HandlerFunc(s.listOrders)))
	if s.cfg.OpenBackOffice {
		mux.HandleFunc("GET /backoffice/orders", s.listOrders)
	}
	return mux
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func fail(w http.ResponseWriter, status int, code, msg string) {
	write(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *System) apiKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !same(r.Header.Get("X-Api-Key"), s.cfg.APIKey) {
			fail(w, http.StatusUnauthorized, "Unauthorized", "a valid X-Api-Key is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *System) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		exp, known := s.tokens[tok]
		s.mu.Unlock()
		if !ok || !known || time.Now().After(exp) {
			fail(w, http.StatusUnauthorized, "Unauthorized", "a valid OAuth 2.0 access token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// token is an RFC 6749 client-credentials token endpoint.
func (s *System) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		write(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !same(id, s.cfg.ClientID) || !same(secret, s.cfg.ClientSecret) {
		write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	var b [24]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(s.cfg.TokenTTL)
	s.mu.Unlock()
	s.tokenCalls.Add(1)
	w.Header().Set("Cache-Control", "no-store")
	write(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(s.cfg.TokenTTL.Seconds())})
}

func (s *System) products(w http.ResponseWriter, r *http.Request) {
	write(w, http.StatusOK, map[string]any{"products": Catalogue})
}

func (s *System) placeOrder(w http.ResponseWriter, r *http.Request) {
	user, pkg := r.Header.Get("X-Cardgate-User-Id"), r.Header.Get("X-Cardgate-Package-Id")
	if user == "" || pkg == "" {
		fail(w, http.StatusBadRequest, "InvalidRequest", "orders come through cardgate: X-Cardgate-User-Id and X-Cardgate-Package-Id are required")
		return
	}
	var req struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "InvalidRequest", "body: want {\"sku\", \"quantity\"}")
		return
	}
	if req.Quantity < 1 || req.Quantity > 100 {
		fail(w, http.StatusBadRequest, "InvalidRequest", "quantity: must be from 1 to 100")
		return
	}
	found := false
	for _, p := range Catalogue {
		found = found || p.SKU == req.SKU
	}
	if !found {
		fail(w, http.StatusBadRequest, "InvalidRequest", "sku: not in the catalogue")
		return
	}
	s.mu.Lock()
	o := Order{ID: len(s.orders) + 1, SKU: req.SKU, Quantity: req.Quantity, UserID: user, ActionPackageID: pkg, PlacedAt: time.Now().UTC()}
	s.orders = append(s.orders, o)
	s.mu.Unlock()
	write(w, http.StatusCreated, o)
}

func (s *System) listOrders(w http.ResponseWriter, r *http.Request) {
	write(w, http.StatusOK, map[string]any{"orders": s.Orders()})
}
