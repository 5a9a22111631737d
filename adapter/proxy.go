package adapter

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

// ServeHTTP proxies one request: check it, forward it, record it.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	t := a.table.Load()
	ex := &exchange{ResponseWriter: w}
	defer a.finish(ex, r, start, false)
	if t.preflight(ex, r) {
		return
	}
	if err := a.admit(t, ex, r, w, true); err != nil {
		a.fail(ex, r, err)
		return
	}
	if err := readWhole(r); err != nil {
		a.fail(ex, r, err)
		return
	}
	a.forward(ex, r)
}

// admit runs every check a request must pass before it may be forwarded:
// path, size, token, identity, route, policy and rate limits, in an order
// that tells an unauthenticated client nothing about the routes. On
// success ex holds the route, the identity and the upstream path.
func (a *Adapter) admit(t *table, ex *exchange, r *http.Request, w http.ResponseWriter, readBody bool) error {
	if err := checkPath(r.URL); err != nil {
		return err
	}
	if r.Method == http.MethodTrace {
		// TRACE echoes the request, with the injected credential, in the
		// body, where no header scrubbing reaches.
		return &methodError{}
	}
	rt, matchErr := t.match(r)
	maxBody := t.maxBody
	if rt != nil {
		maxBody = rt.maxBody
		// Refusals carry the CORS headers too, so that a card can read
		// the 401, 403 or 429 and say what went wrong.
		rt.allowOrigin(ex.Header(), r)
	}
	if r.ContentLength > maxBody {
		return tooLarge(maxBody)
	}
	if readBody && r.Body != nil && r.Body != http.NoBody {
		ex.body = http.MaxBytesReader(w, r.Body, maxBody)
		r.Body = ex
		ex.limitBodyTime(w, a.started.Server.ReadTimeout)
	}
	tok, err := t.headerToken(r.Header)
	if err != nil {
		return err
	}
	// The body field is removed whether or not a header carried the
	// token, so that it never reaches the upstream. The body is read for
	// it before the token is checked only when no header carried one: a
	// client with a bad header token is refused without sending its body.
	checkBody := readBody && t.bodyField != "" && ex.body != nil
	if checkBody && tok == "" {
		if tok, err = t.fieldToken(r, ""); err != nil {
			return err
		}
		checkBody = false
	}
	if tok == "" {
		return errNoToken
	}
	id, err := a.auth.Authenticate(r.Context(), tok)
	switch {
	case err == nil && id == nil:
		err = cardgate.Errorf(cardgate.EINVALIDTOKEN, "token rejected")
	case err != nil && cardgate.ErrorCode(err) == cardgate.EINTERNAL:
		// Fail closed, and tell the client it is not its fault.
		err = cardgate.WrapError(cardgate.EUNAVAILABLE, "token check unavailable", err)
	}
	a.metrics.auth(err)
	if err != nil {
		return err
	}
	if checkBody {
		if _, err := t.fieldToken(r, tok); err != nil {
			return err
		}
	}
	ex.id = id
	if rt == nil {
		return matchErr
	}
	ex.route = rt
	if !rt.allows(id) {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "route %s does not allow this action package or user", rt.name)
	}
	if err := rt.inConversation(id); err != nil {
		return err
	}
	if readBody { // forward-auth: the proxy in front makes the upgrade
		if ex.upgrade, err = rt.checkUpgrade(r); err != nil {
			return err
		}
	}
	if err := a.limit(r.Context(), t, rt, id); err != nil {
		return err
	}
	p, raw, ok := rt.upstreamPath(r.URL)
	if !ok {
		return errBadPath
	}
	ex.upPath, ex.upRawPath = p, raw
	return nil
}

func tooLarge(n int64) error {
	return cardgate.Errorf(cardgate.ETOOLARGE, "body: larger than %d bytes", n)
}

// match finds the route for r, or returns the 404 or 405 error ServeMux
// would have answered.
func (t *table) match(r *http.Request) (*route, error) {
	h, _ := t.mux.Handler(r)
	if rt, ok := h.(*route); ok {
		return rt, nil
	}
	// Not a route: ask the mux's own handler whether it means 404 or 405
	// (and which methods it would allow).
	if status, hdr := httpjson.MuxMiss(h, r); status == http.StatusMethodNotAllowed {
		return nil, &methodError{allow: hdr.Get("Allow")}
	}
	return nil, errNoRoute
}

var errNoRoute = cardgate.Errorf(cardgate.ENOTFOUND, "no route for this path")

// methodError is a 405 that knows the methods the path allows.
type methodError struct{ allow string }

func (e *methodError) Error() string { return "adapter: method not allowed" }

func (e *methodError) Unwrap() error {
	return cardgate.Errorf(cardgate.EMETHOD, "method not allowed on this path")
}

// allows applies the route's policy: the package must be listed and, if
// users are listed, the user too. Display names never count.
func (rt *route) allows(id *cardgate.Identity) bool {
	if !rt.anyPackage && !rt.packages[id.ActionPackageID] {
		return false
	}
	return len(rt.users) == 0 || rt.users[id.UserID]
}

// inConversation applies the route's conversations, if it lists any: the
// token must have been minted in one of them. The refusal says which case
// it is, never which conversations the route lists.
func (rt *route) inConversation(id *cardgate.Identity) error {
	switch {
	case len(rt.conversations) == 0 || rt.conversations[id.ConversationID]:
		return nil
	case id.ConversationID == "":
		return cardgate.Errorf(cardgate.EFORBIDDEN, "route %s is only for cards opened in its conversations: this token was minted outside any conversation", rt.name)
	}
	return cardgate.Errorf(cardgate.EFORBIDDEN, "route %s is only for cards opened in its conversations: this token names another conversation", rt.name)
}

// limit applies the route's per-user and per-package rate limits.
func (a *Adapter) limit(ctx context.Context, t *table, rt *route, id *cardgate.Identity) error {
	if rt.perUser != nil {
		if err := a.take(ctx, t, rt, "user", rt.userKey+id.UserID, *rt.perUser); err != nil {
			return err
		}
	}
	if rt.perPackage != nil {
		if err := a.take(ctx, t, rt, "package", rt.packageKey+id.ActionPackageID, *rt.perPackage); err != nil {
			return err
		}
	}
	return nil
}

// forward sends the admitted request upstream through the route's proxy.
// The route's timeout on the wait for the response headers is its
// transport's ResponseHeaderTimeout, whose clock starts once the whole
// request is written. A request with a body also gets a timer of its own:
// the backstop for an upstream that stops taking the body, which that
// clock never sees.
func (a *Adapter) forward(ex *exchange, r *http.Request) {
	rt := ex.route
	ctx := context.WithValue(r.Context(), exchangeKey{}, ex)
	if ex.body != nil {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		ex.startTimer(rt.timeout, func() { cancel(errUpstreamTimeout) })
		defer ex.stopTimer()
	}
	rt.proxy.ServeHTTP(ex, r.WithContext(ctx))
	if ex.sized {
		// The whole response is written: send it now, so that the
		// client does not wait for the metrics and the audit record.
		http.NewResponseController(ex.ResponseWriter).Flush()
	}
}

var errUpstreamTimeout = errors.New("adapter: upstream timed out")

// rewrite builds the upstream request: the route's URL, none of the
// client's forwarding, routing, identity, token or credential headers nor
// any header whose name holds more than letters, digits and "-", no
// trailers, our own identity headers, and X-Forwarded-For and -Proto from
// what the adapter saw. Hop-by-hop headers are already gone (ReverseProxy
// removes them before Rewrite).
func (rt *route) rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeFrom(pr.In.Context())
	out := pr.Out
	h := out.Header
	for k := range h {
		if rt.drop[k] || dropRequestHeader(k) {
			delete(h, k)
		}
	}
	// Trailers would arrive after the checks, and some servers merge them
	// into the headers.
	out.Trailer = nil
	out.URL.Scheme = rt.target.Scheme
	out.URL.Host = rt.target.Host
	out.URL.Path, out.URL.RawPath = ex.upPath, ex.upRawPath
	switch {
	case rt.target.RawQuery == "":
	case out.URL.RawQuery == "":
		out.URL.RawQuery = rt.target.RawQuery
	default:
		out.URL.RawQuery = rt.target.RawQuery + "&" + out.URL.RawQuery
	}
	out.Host = "" // the upstream's own host, never the client's
	// The values set below share one array (one allocation, not seven);
	// each header gets a slice capped at its own value, so that an
	// append to one never writes into another.
	var vals [7]string
	set := func(i int, k, v string) {
		vals[i] = v
		h[k] = vals[i : i+1 : i+1]
	}
	// Only what the adapter knows: the address that connected to it and
	// whether that was TLS. Not X-Forwarded-Host: the client chose Host.
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		set(0, "X-Forwarded-For", ip)
	}
	if pr.In.TLS != nil {
		set(1, "X-Forwarded-Proto", "https")
	} else {
		set(1, "X-Forwarded-Proto", "http")
	}
	id := ex.id
	if rt.userHeader != "" {
		set(2, rt.userHeader, id.UserID)
	}
	if rt.packageHeader != "" {
		set(3, rt.packageHeader, id.ActionPackageID)
	}
	if rt.nameHeader != "" {
		set(4, rt.nameHeader, url.PathEscape(id.Name))
	}
	if rt.conversationHeader != "" && id.ConversationID != "" {
		set(5, rt.conversationHeader, id.ConversationID)
	}
	if rt.credName != "" {
		set(6, rt.credName, rt.credValue.Reveal())
	}
}

// modifyResponse runs when the upstream's headers arrive: it drops every
// header (and, once the body is read, trailer) that holds the route's
// credential, maps Location to the public path, and refuses a switch of
// protocols nobody asked for.
func (rt *route) modifyResponse(res *http.Response) error {
	ex := exchangeFrom(res.Request.Context())
	if ex != nil {
		ex.stopTimer()
		ex.upstreamStatus = res.StatusCode
		ex.sized = res.ContentLength >= 0 && res.StatusCode != http.StatusSwitchingProtocols
	}
	if res.StatusCode == http.StatusSwitchingProtocols && (ex == nil || !ex.upgrade) {
		return errUnrequested101
	}
	if len(rt.secrets) > 0 || rt.sentAuth {
		sent := rt.sentSecret(res.Request)
		rt.scrub(res.Header, sent)
		if ex != nil && res.StatusCode != http.StatusSwitchingProtocols {
			ex.resBody = scrubBody{ReadCloser: res.Body, rt: rt, res: res, sent: sent}
			res.Body = &ex.resBody
		}
	}
	rt.mapLocations(res.Header)
	if rt.cors != nil {
		// The route's CORS policy is the adapter's, not the upstream's.
		for k := range res.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				delete(res.Header, k)
			}
		}
	}
	return nil
}

// proxyError answers a request the upstream did not: 504 when it took too
// long, 502 otherwise; but when the client's body failed on the way (too
// large, too slow, malformed, cut off), the client's status, and no
// upstream error is counted. The log gets the cause, without the URL (its
// query may hold details); the client gets the code and a short message.
func (a *Adapter) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	ex := w.(*exchange)
	reason := ""
	switch berr := ex.bodyError(); {
	case berr != nil && cardgate.ErrorCode(berr) != cardgate.EUPSTREAMTIMEOUT:
		// The client's doing: fail answers with berr.
	case berr != nil || errors.Is(context.Cause(r.Context()), errUpstreamTimeout) || headerTimeout(err):
		reason = "timeout"
		err = cardgate.WrapError(cardgate.EUPSTREAMTIMEOUT, "upstream did not answer in time", err)
	case r.Context().Err() != nil:
		err = errClientGone
	default:
		reason = "unreachable"
		if !isDialError(err) {
			reason = "failed"
		}
		err = cardgate.WrapError(cardgate.EUPSTREAM, "upstream failed", err)
	}
	if reason != "" {
		route := ""
		if ex.route != nil {
			route = ex.route.name
		}
		a.metrics.upstreamErrors.WithLabelValues(route, reason).Inc()
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "adapter: upstream error", slog.String("route", route),
			slog.String("reason", reason), slog.String("error", errorWithoutURL(err)))
	}
	a.fail(ex, r, err)
}

// headerTimeout reports whether err is the transport's
// ResponseHeaderTimeout: net/http's error for it matches
// context.DeadlineExceeded. So does a dial that timed out, which is an
// unreachable upstream instead.
func headerTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) && !isDialError(err)
}

// errorWithoutURL returns err's text without the URL a *url.Error adds.
func errorWithoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// fail writes err as a JSON error; 405 gets Allow, 429 Retry-After. If
// the client's body failed, that is the answer, whatever err it caused on
// the way. A client that is gone gets nothing: the connection is closed,
// and the record says 499. A body left unread closes the connection after
// the answer, which is therefore sent at once, without waiting for the
// body.
func (a *Adapter) fail(ex *exchange, r *http.Request, err error) {
	if berr := ex.bodyError(); berr != nil {
		err = berr
	}
	if err == errClientGone {
		ex.status = 499
		panic(http.ErrAbortHandler)
	}
	if ex.unread(r) {
		ex.refuseBody()
	}
	var me *methodError
	if errors.As(err, &me) {
		if me.allow != "" {
			ex.Header().Set("Allow", me.allow)
		}
		err = me.Unwrap()
	}
	var rl *rateLimitError
	if errors.As(err, &rl) {
		ex.Header().Set("Retry-After", strconv.FormatInt(int64((rl.retryAfter+time.Second-1)/time.Second), 10))
	}
	ex.code = cardgate.ErrorCode(err)
	if errors.Unwrap(err) != nil && ex.code != cardgate.EUPSTREAM && ex.code != cardgate.EUPSTREAMTIMEOUT {
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "adapter: request refused", slog.String("code", ex.code), slog.String("error", err.Error()))
	}
	httpjson.Error(ex, err)
}

// errorLog sends ReverseProxy's own log lines (copy errors and the like) to
// the adapter's logger.
func (a *Adapter) errorLog() *log.Logger {
	return slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
}
