package host

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/signin"
)

// The session cookie. Over TLS it takes the __Host- prefix, which the
// browser only accepts Secure, for this host alone, on path /.
const (
	cookieName       = "cardgate_session"
	secureCookieName = "__Host-cardgate_session"
)

// maxBody bounds the API's request bodies: they hold a phone number, a code
// or an ID.
const maxBody = 1 << 10

func (h *handler) error(w http.ResponseWriter, r *http.Request, err error) {
	var ra signin.RetryAfter
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.Itoa(int(time.Duration(ra).Seconds())))
	}
	if httpjson.Status(cardgate.ErrorCode(err)) >= 500 {
		h.log.LogAttrs(r.Context(), slog.LevelError, "host request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	httpjson.Error(w, err)
}

// csrf refuses a state-changing request that did not come from the host's
// own page. SameSite=Strict already keeps the cookie off cross-site
// requests; this also stops same-site ones (another port on the same host)
// and requires JSON, which no HTML form can send without a CORS preflight
// that the host never answers. Origin is compared with the host's
// configured origins, never with the request's own Host, which a page that
// rebinds its DNS name to the host would write itself. A header sent twice
// is refused rather than read once.
func (h *handler) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" || len(r.Header.Values("Content-Type")) > 1 {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "body: Content-Type must be application/json"))
			return
		}
		sites, origins := r.Header.Values("Sec-Fetch-Site"), r.Header.Values("Origin")
		if len(sites) > 1 || len(origins) > 1 ||
			(len(sites) == 1 && sites[0] != "same-origin") || (len(origins) == 1 && !slices.Contains(h.cfg.Origins, origins[0])) {
			h.error(w, r, cardgate.Errorf(cardgate.EFORBIDDEN, "cross-origin request refused: the host's API answers only its own page"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type userKey struct{}

// errTwoSessions answers a request that carries more than one session
// cookie. The host sets one, on path /; another can only come from a page
// on the same host name (cookies ignore the port) or, over plain HTTP, on a
// subdomain of its site, which sets its own on a longer path so that the
// browser sends it first: the viewer would act as whoever that session is
// (cookie tossing). No copy is trusted; every one is cleared.
var errTwoSessions = cardgate.Errorf(cardgate.EUNAUTHORIZED,
	"more than one session cookie came with this request (another page on this host name may have set one); all are cleared: sign in again")

// session requires a signed-in user, whom it puts in the context.
func (h *handler) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens := h.sessionTokens(r)
		switch len(tokens) {
		case 0:
			h.error(w, r, cardgate.Errorf(cardgate.EUNAUTHORIZED, "not signed in"))
			return
		case 1:
		default:
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "request refused: it carried several session cookies", slog.Int("cookies", len(tokens)))
			h.clearCookies(w, r)
			h.error(w, r, errTwoSessions)
			return
		}
		u, err := h.cfg.SignIn.Lookup(r.Context(), tokens[0])
		if err != nil {
			if cardgate.ErrorCode(err) == cardgate.EUNAUTHORIZED {
				h.clearCookies(w, r)
			}
			h.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

func userFrom(ctx context.Context) *cardgate.User { return ctx.Value(userKey{}).(*cardgate.User) }

// sessionTokens returns the value of every session cookie the request
// carries: the host's own, and any that another page tossed in.
func (h *handler) sessionTokens(r *http.Request) []string {
	var out []string
	for _, c := range r.CookiesNamed(h.cookieName(r)) {
		out = append(out, c.Value)
	}
	return out
}

func (h *handler) secure(r *http.Request) bool { return r.TLS != nil || h.cfg.SecureCookies }

func (h *handler) cookieName(r *http.Request) string {
	if h.secure(r) {
		return secureCookieName
	}
	return cookieName
}

// setCookie sets the session cookie, after clearing any copy on another
// path or domain (see clearCookies).
func (h *handler) setCookie(w http.ResponseWriter, r *http.Request, s *signin.Session) {
	h.clearStray(w, r)
	h.writeCookie(w, r, "/", "", s.Token, int(time.Until(s.ExpiresAt).Seconds()))
}

// clearCookies expires the session cookie wherever it may be: the host's
// own, and every copy a page on this host name (or, for a domain cookie, on
// this site) could have set for one of the host's paths.
func (h *handler) clearCookies(w http.ResponseWriter, r *http.Request) {
	h.clearStray(w, r)
	h.writeCookie(w, r, "/", "", "", -1)
}

// clearStray expires every copy of the session cookie but the host's own
// (host-only, path /). A browser replaces or expires a cookie only when its
// name, path and domain all match, so each place is named: every path that
// a host API path starts with, host-only and for the host's name and each
// parent domain (a subdomain page over plain HTTP can set one there). A
// __Host- cookie exists only host-only on path /, so it has no strays.
func (h *handler) clearStray(w http.ResponseWriter, r *http.Request) {
	if h.secure(r) {
		return
	}
	for _, d := range cookieDomains(r.Host) {
		for _, p := range cookiePaths {
			if d != "" || p != "/" {
				h.writeCookie(w, r, p, d, "", -1)
			}
		}
	}
}

// writeCookie sets the session cookie, always with the same attributes.
func (h *handler) writeCookie(w http.ResponseWriter, r *http.Request, path, domain, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(r), Value: value, Path: path, Domain: domain, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
}

// apiPaths are the paths of the host's API that read the session cookie.
var apiPaths = []string{"/host/api/me", "/host/api/tokens", "/host/api/cards", "/host/api/signout", "/host/api/signin/code",
	"/host/api/demo/users", "/host/api/demo/signin", "/host/api/conversations", "/host/api/forms", "/host/api/events"}

// cookiePaths are the cookie paths that match a request for one of
// apiPaths: "/", "/host", "/host/", "/host/api", …, each path itself.
var cookiePaths = func() []string {
	out := []string{"/"}
	for _, p := range apiPaths {
		for i := 1; i < len(p); i++ {
			if p[i] == '/' {
				out = append(out, p[:i], p[:i+1])
			}
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}()

// cookieDomains are the domains a session cookie that reaches this host
// may have been set for: "" (host-only), the host name itself and each
// parent domain of two labels or more. An IP address has only "".
func cookieDomains(hostport string) []string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	out := []string{""}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return out
	}
	for d := strings.ToLower(host); strings.Count(d, ".") >= 1; {
		out = append(out, d)
		_, d, _ = strings.Cut(d, ".")
	}
	return out
}

// clientAddr is the rate limits' key for the caller: its IP address (see
// Config.TrustedProxies).
func (h *handler) clientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !h.trusted(addr) {
		return addr.String()
	}
	// Walk X-Forwarded-For from the nearest hop; the first address that is
	// not one of our proxies is the client. Entries further left were
	// written by the client itself and prove nothing.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if addr = a.Unmap(); !h.trusted(addr) {
			break
		}
	}
	return addr.String()
}

func (h *handler) trusted(a netip.Addr) bool {
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type sendCodeRequest struct {
	PhoneNumber string `json:"phoneNumber"`
}

func (h *handler) sendCode() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req sendCodeRequest
		if err := httpjson.Decode(w, r, &req, maxBody); err != nil {
			h.error(w, r, err)
			return
		}
		if err := h.cfg.SignIn.Start(r.Context(), req.PhoneNumber, h.clientAddr(r)); err != nil {
			h.error(w, r, err)
			return
		}
		// The same answer whether or not the number has an account.
		httpjson.Write(w, http.StatusAccepted, map[string]string{
			"message": "If this number has an account, a 6-digit code is on its way. It works for 10 minutes."})
	})
}

type signInRequest struct {
	PhoneNumber string `json:"phoneNumber"`
	Code        string `json:"code"`
}

func (h *handler) signIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req signInRequest
		if err := httpjson.Decode(w, r, &req, maxBody); err != nil {
			h.error(w, r, err)
			return
		}
		s, err := h.cfg.SignIn.Verify(r.Context(), req.PhoneNumber, req.Code, h.clientAddr(r))
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.setCookie(w, r, s)
		httpjson.Write(w, http.StatusOK, map[string]any{"user": s.User})
	})
}

func (h *handler) signOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every session the request names ends, a tossed-in one too.
		for _, tok := range h.sessionTokens(r) {
			if err := h.cfg.SignIn.End(r.Context(), tok); err != nil {
				h.error(w, r, err)
				return
			}
		}
		h.clearCookies(w, r)
		w.WriteHeader(http.StatusNoContent)
	})
}

// card is an installed card as the client shows it.
type card struct {
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	Description  string `json:"description"`
	ProviderName string `json:"providerName"`
	Version      string `json:"version"`
	IconURL      string `json:"iconUrl,omitempty"`
	// URL is the card's entry page; Origin is the origin it runs on, the
	// only one the host's bridge answers for its frame.
	URL    string `json:"url"`
	Origin string `json:"origin"`
}

func (h *handler) me() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cards, err := h.cards(r.Context())
		if err != nil {
			h.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{"user": userFrom(r.Context()), "cards": cards})
	})
}

// cards lists the installed cards: enabled action packages that were
// imported with their files.
func (h *handler) cards(ctx context.Context) ([]card, error) {
	pkgs, err := h.cfg.Store.Packages(ctx)
	if err != nil {
		return nil, err
	}
	cards := []card{}
	for _, p := range pkgs {
		if p.Disabled {
			continue
		}
		m, err := h.manifest(ctx, p.ID)
		if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
			continue // registered for tokens, but no card to show
		} else if err != nil {
			return nil, err
		}
		c := card{ID: p.ID, DisplayName: m.DisplayName, Description: m.Description, ProviderName: m.ProviderName,
			Version: m.Version, URL: h.frameURL(p.ID, entryPage(m)), Origin: h.cfg.Cards.For(p.ID)}
		if m.Icon != "" {
			c.IconURL = h.fileURL(p.ID, m.Icon)
		}
		cards = append(cards, c)
	}
	slices.SortFunc(cards, func(a, b card) int {
		return strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName))
	})
	return cards, nil
}

// manifest returns the package's parsed manifest, from the cache if it
// was read in the last ManifestCacheTTL. A missing or bad one is not
// cached, so that an import is seen by the next request.
func (h *handler) manifest(ctx context.Context, id string) (*actionpkg.Manifest, error) {
	ttl := h.cfg.ManifestCacheTTL
	now := time.Now()
	if ttl > 0 {
		h.mu.Lock()
		c, ok := h.manifests[id]
		h.mu.Unlock()
		if ok && now.Before(c.until) {
			return c.m, nil
		}
	}
	raw, err := h.cfg.Store.PackageManifest(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := actionpkg.ParseManifest(raw)
	if err != nil || ttl <= 0 {
		return m, err
	}
	h.mu.Lock()
	if len(h.manifests) >= manifestCacheSize {
		clear(h.manifests)
	}
	h.manifests[id] = cachedManifest{m: m, until: now.Add(ttl)}
	h.mu.Unlock()
	return m, nil
}

func (h *handler) fileURL(pkg, file string) string {
	return h.cfg.Cards.For(pkg) + "/" + url.PathEscape(pkg) + "/" + (&url.URL{Path: file}).EscapedPath()
}

// frameURL is the frame page around a card's page (cards/frame.go): what
// the host frames, on the card's origin.
func (h *handler) frameURL(pkg, file string) string {
	return h.cfg.Cards.For(pkg) + "/frame/" + url.PathEscape(pkg) + "/" + (&url.URL{Path: file}).EscapedPath()
}

// entryPage is the page a card opens at: Kaizala's CreationView.
func entryPage(m *actionpkg.Manifest) string { return m.EntryPage() }

// localeRE is a BCP 47 language tag, as far as a file name needs it.
var localeRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$`)

// cardStrings answers Kaizala's getLocalizedStrings for the host page's
// bridge: the package's strings_<locale>.json, else the one of the
// locale's language (strings_fr.json for fr-CA), else strings_en.json,
// else {}. The page names the package of the frame it opened.
func (h *handler) cardStrings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, locale := r.PathValue("pkg"), r.URL.Query().Get("locale")
		if err := cardgate.ValidatePackageID("package", id); err != nil {
			h.error(w, r, err)
			return
		}
		if locale == "" {
			locale = "en"
		}
		if !localeRE.MatchString(locale) {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "locale: must be a language tag like en or fr-CA"))
			return
		}
		if _, err := h.manifest(ctx, id); cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
			h.error(w, r, cardgate.Errorf(cardgate.ENOTFOUND, "package: no card %s is installed", id))
			return
		} else if err != nil {
			h.error(w, r, err)
			return
		}
		lang, _, _ := strings.Cut(locale, "-")
		for _, name := range []string{"strings_" + locale + ".json", "strings_" + lang + ".json", "strings_en.json"} {
			b, err := h.cfg.Store.PackageFile(ctx, id, name)
			if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
				continue
			} else if err != nil {
				h.error(w, r, err)
				return
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil || v == nil {
				h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "%s of %s is not a JSON object", name, id))
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			httpjson.Write(w, http.StatusOK, v)
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{})
	})
}

type mintRequest struct {
	ActionPackageID string `json:"actionPackageId"`
	// ConversationID is the conversation the card is open in, "" for
	// none; the token then names it (the conv claim).
	ConversationID string `json:"conversationId,omitempty"`
}

// tokenResult is what the bridge hands a card: sdk/js/testdata/wire/
// token-result.json's "result".
type tokenResult struct {
	Token        string    `json:"token"`
	ExpiresAt    time.Time `json:"expiresAt"`
	ExpiresIn    int64     `json:"expiresIn"`
	ExternalURLs []string  `json:"externalUrls"`
}

// mint is the host page's side of the bridge: the page names the package
// of the frame it opened, and the conversation it opened it in, and this
// mints for the signed-in user and that package if it is an installed card
// and, in a conversation, only if the user is a member of it.
func (h *handler) mint() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req mintRequest
		if err := httpjson.Decode(w, r, &req, maxBody); err != nil {
			h.error(w, r, err)
			return
		}
		ctx := r.Context()
		if err := cardgate.ValidatePackageID("actionPackageId", req.ActionPackageID); err != nil {
			h.error(w, r, err)
			return
		}
		m, err := h.manifest(ctx, req.ActionPackageID)
		if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
			h.error(w, r, cardgate.Errorf(cardgate.ENOTFOUND, "actionPackageId: no card %s is installed", req.ActionPackageID))
			return
		} else if err != nil {
			h.error(w, r, err)
			return
		}
		me := userFrom(ctx)
		if req.ConversationID != "" {
			if _, err := h.membership(ctx, req.ConversationID, me.ID); err != nil {
				h.error(w, r, err)
				return
			}
		}
		raw, c, err := h.cfg.Minter.MintIn(ctx, me.ID, req.ActionPackageID, req.ConversationID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		urls := m.ExternalURLs
		if urls == nil {
			urls = []string{} // a list, also for a card that lists none
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusCreated, tokenResult{Token: raw, ExpiresAt: c.ExpiresAt, ExpiresIn: int64(c.ExpiresAt.Sub(c.IssuedAt) / time.Second),
			ExternalURLs: urls})
	})
}

// demoUser is a user as the demo's picker shows them.
type demoUser struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	PhoneNumber string `json:"phoneNumber"`
}

func (h *handler) demoUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		users, err := h.cfg.Store.Users(r.Context())
		if err != nil {
			h.error(w, r, err)
			return
		}
		out := []demoUser{}
		for _, u := range users {
			if !u.Disabled {
				out = append(out, demoUser{u.ID, u.Name, u.PhoneNumber})
			}
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"users": out})
	})
}

type demoSignInRequest struct {
	UserID string `json:"userId"`
}

func (h *handler) demoSignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req demoSignInRequest
		if err := httpjson.Decode(w, r, &req, maxBody); err != nil {
			h.error(w, r, err)
			return
		}
		if err := cardgate.ValidateUserID("userId", req.UserID); err != nil {
			h.error(w, r, err)
			return
		}
		s, err := h.cfg.SignIn.NewSession(r.Context(), req.UserID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.setCookie(w, r, s)
		httpjson.Write(w, http.StatusOK, map[string]any{"user": s.User})
	})
}
