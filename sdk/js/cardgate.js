// cardgate card SDK: gets integration service tokens from the card host over
// postMessage and offers Kaizala's KASClient names on top of that.
// Classic <script> in the browser, require()-able in Node for tests.
(function () {
  "use strict";

  const PROTOCOL = 1;
  const TOKEN_METHOD = "getIntegrationServiceToken";
  const REFRESH_MARGIN_MS = 60 * 1000;

  function codedError(code, message) {
    const err = new Error(message);
    err.code = code;
    return err;
  }

  // Ids only need to be unguessable enough that a stray message cannot match.
  function newId(win) {
    const bytes = new Uint8Array(16);
    const c = (win && win.crypto) || globalThis.crypto;
    if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function ancestorOrigin(win) {
    const ao = win && win.location && win.location.ancestorOrigins;
    return ao && ao.length > 0 ? ao[0] : undefined;
  }

  // The moment (ms since epoch) the token stops being handed out. Uses the
  // earlier of expiresAt and now+expiresIn, so a skewed card clock errs
  // towards refreshing early rather than sending an expired token.
  function refreshAt(result, now) {
    const candidates = [];
    const at = Date.parse(result.expiresAt);
    if (Number.isFinite(at)) candidates.push(at);
    if (Number.isFinite(result.expiresIn)) candidates.push(now + result.expiresIn * 1000);
    if (candidates.length === 0) return now; // unknown lifetime: don't cache
    const expiry = Math.min(...candidates);
    const lifetime = Number.isFinite(result.expiresIn) ? result.expiresIn * 1000 : expiry - now;
    return expiry - Math.min(REFRESH_MARGIN_MS, Math.max(0, lifetime) / 10);
  }

  // Path prefix must end at a segment boundary: "/api" covers "/api/x", not "/apix".
  function urlUnder(url, base) {
    if (url.origin !== base.origin) return false;
    const p = base.pathname;
    if (p === "/" || url.pathname === p) return true;
    return url.pathname.startsWith(p.endsWith("/") ? p : p + "/");
  }

  function createCardgate(win, options = {}) {
    const timeoutMs = options.timeoutMs ?? 10000;
    const httpTimeoutMs = options.httpTimeoutMs ?? 30000;
    const hostOrigin = options.hostOrigin || ancestorOrigin(win);

    let cached = null; // {token, refreshAt}
    let inflight = null;
    let generation = 0; // bumped by invalidateToken so stale answers aren't cached
    let externalUrls = null; // from the latest token result; null until known

    function requestToken() {
      return new Promise((resolve, reject) => {
        const parent = win.parent;
        if (!parent || parent === win) {
          reject(codedError("NoHost", "cardgate: this card is not framed by a card host"));
          return;
        }
        const id = newId(win);
        const onMessage = (event) => {
          if (event.source !== parent) return;
          if (hostOrigin && event.origin !== hostOrigin) return;
          const d = event.data;
          if (!d || typeof d !== "object" || d.cardgate !== PROTOCOL || d.id !== id) return;
          done();
          if (d.error && typeof d.error === "object") {
            reject(codedError(String(d.error.code || "Internal"), String(d.error.message || "cardgate: token request failed")));
          } else if (d.result && typeof d.result.token === "string" && d.result.token) {
            resolve(d.result);
          } else {
            reject(codedError("Protocol", "cardgate: malformed answer from the card host"));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(codedError("Timeout", `cardgate: no answer from the card host within ${timeoutMs} ms; is this card open in a cardgate host?`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          win.removeEventListener("message", onMessage);
        };
        // Listen before posting: a host may answer before postMessage returns.
        win.addEventListener("message", onMessage);
        try {
          // "*" is fine: the request carries no secret, and the host
          // identifies us by our frame, not by anything in the message.
          parent.postMessage({ cardgate: PROTOCOL, id, method: TOKEN_METHOD }, "*");
        } catch (err) {
          done();
          reject(err);
        }
      });
    }

    function getIntegrationServiceToken() {
      if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
      if (inflight) return inflight;
      const gen = generation;
      const p = requestToken().then(
        (result) => {
          if (inflight === p) inflight = null;
          const urls = Array.isArray(result.externalUrls) ? result.externalUrls.filter((u) => typeof u === "string") : [];
          if (gen === generation) {
            externalUrls = urls;
            cached = { token: result.token, refreshAt: refreshAt(result, Date.now()) };
          }
          return result.token;
        },
        (err) => {
          if (inflight === p) inflight = null;
          throw err;
        },
      );
      inflight = p;
      return p;
    }

    function invalidateToken() {
      generation++;
      cached = null;
      inflight = null;
    }

    function isExternal(url) {
      return (externalUrls || []).some((base) => {
        try {
          return urlUnder(url, new URL(base));
        } catch {
          return false;
        }
      });
    }

    // Like window.fetch, but attaches the token to the card's integration
    // services. A retried request must have a re-readable body (not a stream).
    async function fetch(input, init = {}) {
      const rawUrl = input && typeof input === "object" && "url" in input ? input.url : String(input);
      const url = new URL(rawUrl, win.location.href);
      // Learn externalUrls on first use, except for the card's own origin.
      if (externalUrls === null && url.origin !== new URL(win.location.href).origin) {
        await getIntegrationServiceToken();
      }
      if (!isExternal(url)) return win.fetch(input, init);

      const Headers = win.Headers || globalThis.Headers;
      const baseHeaders = init.headers ?? (input && typeof input === "object" ? input.headers : undefined);
      if (new Headers(baseHeaders).has("Authorization")) return win.fetch(input, init);

      const attempt = async () => {
        const headers = new Headers(baseHeaders);
        headers.set("Authorization", "Bearer " + (await getIntegrationServiceToken()));
        return win.fetch(input, { ...init, headers });
      };
      const res = await attempt();
      if (res.status !== 401) return res;
      invalidateToken();
      return attempt();
    }

    // Kaizala: callback(token, null) or callback(null, errorString).
    function tokenCallback(cb) {
      getIntegrationServiceToken().then(
        (token) => cb(token, null),
        (err) => cb(null, String((err && err.message) || err)),
      );
    }

    function parseHttpParams(parametersJSON) {
      if (typeof parametersJSON !== "string") throw new Error("parametersJSON: must be a JSON object string");
      let p;
      try {
        p = JSON.parse(parametersJSON);
      } catch (err) {
        throw new Error("parametersJSON: not valid JSON: " + err.message);
      }
      if (!p || typeof p !== "object" || Array.isArray(p)) throw new Error("parametersJSON: must be a JSON object string");
      const str = (name, def) => {
        const v = p[name] ?? def;
        if (typeof v !== "string") throw new Error(`parametersJSON: ${name} must be a string`);
        return v;
      };
      const obj = (name) => {
        const v = p[name] ?? {};
        if (typeof v !== "object" || Array.isArray(v)) throw new Error(`parametersJSON: ${name} must be an object`);
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
      };
      const method = str("method", "GET").toUpperCase();
      const body = p.requestBody == null ? undefined : str("requestBody");
      if (body !== undefined && (method === "GET" || method === "HEAD")) {
        throw new Error(`parametersJSON: requestBody is not allowed with ${method}`);
      }
      return { method, body, headers: obj("requestHeaders"), query: obj("queryParameters"), path: str("requestResourcePath", "") };
    }

    // url + "/" + path + query, keeping any query string already in url.
    function buildUrl(base, path, query) {
      const [, pathPart, search = ""] = /^([^?]*)(\?.*)?$/s.exec(String(base));
      let url = pathPart;
      if (path) url = url.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
      const qs = new URLSearchParams(query).toString();
      return url + search + (qs ? (search ? "&" : "?") + qs : "");
    }

    // Kaizala's performHTTPRequest. Always answers exactly once, asynchronously.
    function performHTTPRequest(url, parametersJSON, cb) {
      const fail = (code, message) => cb(null, JSON.stringify({ HttpErrorCode: code, HttpErrorMessage: message }));
      let req;
      try {
        req = parseHttpParams(parametersJSON);
      } catch (err) {
        Promise.resolve().then(() => fail(-3, err.message));
        return;
      }
      const AC = win.AbortController || globalThis.AbortController;
      const controller = new AC();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, httpTimeoutMs);
      (async () => {
        const res = await win.fetch(buildUrl(url, req.path, req.query), {
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: controller.signal,
        });
        const headers = {};
        res.headers.forEach((value, name) => {
          headers[name.toLowerCase()] = value;
        });
        const body = await res.text(); // still under the timeout
        return { HttpResponseCode: res.status, HttpResponseHeader: headers, HttpResponseBody: body };
      })().then(
        (response) => {
          clearTimeout(timer);
          cb(JSON.stringify(response), null);
        },
        (err) => {
          clearTimeout(timer);
          if (timedOut) fail(-2, `request timed out after ${httpTimeoutMs} ms`);
          else fail(-1, "network error: " + String((err && err.message) || err));
        },
      );
    }

    return {
      getIntegrationServiceToken,
      fetch,
      invalidateToken,
      KASClient: {
        // Kaizala's spelling, kept on purpose.
        getIntegerationServiceToken: tokenCallback,
        App: {
          getIntegerationServiceTokenAsync: tokenCallback,
          performHTTPRequest,
        },
      },
    };
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { createCardgate };
  }
  // Installed framed or not: a card opened on its own gets NoHost from
  // getIntegrationServiceToken, which says more than a ReferenceError.
  if (typeof window !== "undefined" && typeof document !== "undefined") {
    const cg = createCardgate(window);
    window.cardgate = cg;
    // Add only what is missing: with Kaizala's own KASClient.js loaded
    // first, its functions stay (they reach the host through the frame
    // page) and this adds what that SDK lacks, like App.performHTTPRequest.
    const kas = window.KASClient && typeof window.KASClient === "object" ? window.KASClient : {};
    if (typeof kas.getIntegerationServiceToken !== "function") kas.getIntegerationServiceToken = cg.KASClient.getIntegerationServiceToken;
    const app = kas.App && typeof kas.App === "object" ? kas.App : {};
    for (const [name, fn] of Object.entries(cg.KASClient.App)) if (typeof app[name] !== "function") app[name] = fn;
    kas.App = app;
    window.KASClient = kas;
  }
})();
