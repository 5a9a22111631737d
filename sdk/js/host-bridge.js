// cardgate host bridge: runs in the card host page and answers token requests
// from the card iframes it opened. A card is identified ONLY by the iframe
// window the host attached it with; nothing in a message can name a package.
(function () {
  "use strict";

  const PROTOCOL = 1;
  // Protocol 2 carries Kaizala's commands from a card's frame page
  // (web-client.js): {cardgate: 2, id, method: "kaizala", command, args}.
  // The answer holds the arguments of Kaizala's success callback (result)
  // or of its error callback (failure), or, for a request the bridge
  // cannot take, error {code, message}.
  const KAIZALA_PROTOCOL = 2;
  const COMMAND_RE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
  const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
  const METHODS = new Set(["getIntegrationServiceToken"]);
  const MAX_INFLIGHT = 8;
  // Kaizala's pages fire several commands at once (strings, user, form):
  // they get a budget of their own.
  const MAX_KAIZALA_INFLIGHT = 32;

  function isPlainObject(v) {
    return v !== null && typeof v === "object" && Object.prototype.toString.call(v) === "[object Object]";
  }

  // Returns what is wrong with an otherwise addressable request, or "".
  function problemWith(d) {
    if (d.cardgate !== PROTOCOL) return `cardgate: unsupported protocol version ${JSON.stringify(d.cardgate)}`;
    if (typeof d.method !== "string") return "method: must be a string";
    if (!METHODS.has(d.method)) return `method: unknown method ${JSON.stringify(d.method)}`;
    return "";
  }

  // Only forward the documented fields, whatever mint resolved with.
  function toResult(r) {
    if (!r || typeof r.token !== "string" || !r.token) throw new Error("mint returned no token");
    return {
      token: r.token,
      expiresAt: r.expiresAt,
      expiresIn: r.expiresIn,
      externalUrls: Array.isArray(r.externalUrls) ? r.externalUrls.slice() : [],
    };
  }

  // cardsOrigin is the origin of every card, unless attach names a frame's
  // own (per-package origins).
  // mint(packageId, context) and kaizala(packageId, command, args, context)
  // get the package and the context the frame was attached with, never
  // anything the message says. kaizala answers a Kaizala command with
  // {result: [...]} or {failure: [...]}; without it every command is
  // unsupported.
  function createHostBridge({ window: win, cardsOrigin, mint, kaizala, log = () => {} } = {}) {
    if (!win || typeof win.addEventListener !== "function") throw new TypeError("createHostBridge: window is required");
    if (cardsOrigin !== undefined && (typeof cardsOrigin !== "string" || !cardsOrigin)) {
      throw new TypeError("createHostBridge: cardsOrigin must be an origin");
    }
    if (typeof mint !== "function") throw new TypeError("createHostBridge: mint must be a function");

    const frames = new Map(); // frame window -> {packageId, origin, context, inflight}

    function post(frameWindow, frame, msg) {
      try {
        // targetOrigin pins the reply to the card's origin: if the frame
        // has navigated elsewhere the token is not delivered.
        frameWindow.postMessage(msg, frame.origin);
      } catch (err) {
        log("cardgate host: posting reply failed", err);
      }
    }

    function onMessage(event) {
      const source = event.source;
      const frame = frames.get(source);
      if (!frame) return; // not one of our cards: not our business
      if (event.origin !== frame.origin) {
        log("cardgate host: ignored message from unexpected origin", event.origin);
        return;
      }
      const d = event.data;
      if (!isPlainObject(d) || typeof d.id !== "string" || !ID_RE.test(d.id)) return; // cannot address a reply
      const id = d.id;
      if (d.cardgate === KAIZALA_PROTOCOL) {
        onKaizala(source, frame, d);
        return;
      }
      const problem = problemWith(d);
      if (problem) {
        post(source, frame, { cardgate: PROTOCOL, id, error: { code: "InvalidRequest", message: problem } });
        return;
      }
      if (frame.inflight >= MAX_INFLIGHT) {
        post(source, frame, { cardgate: PROTOCOL, id, error: { code: "RateLimited", message: "too many token requests" } });
        return;
      }
      frame.inflight++;
      Promise.resolve()
        .then(() => mint(frame.packageId, frame.context))
        .then(toResult)
        .then(
          (result) => ({ cardgate: PROTOCOL, id, result }),
          (err) => {
            log("cardgate host: mint failed", err);
            return {
              cardgate: PROTOCOL,
              id,
              error: {
                code: String((err && err.code) || "Internal"),
                message: String((err && err.message) || "token request failed"),
              },
            };
          },
        )
        .then((reply) => {
          frame.inflight--;
          // Detached (or detached and re-attached) meanwhile: stay silent.
          if (frames.get(source) === frame) post(source, frame, reply);
        });
    }

    function onKaizala(source, frame, d) {
      const id = d.id;
      const reply = (msg) => post(source, frame, { cardgate: KAIZALA_PROTOCOL, id, ...msg });
      if (d.method !== "kaizala" || typeof d.command !== "string" || !COMMAND_RE.test(d.command) || !Array.isArray(d.args)) {
        reply({ error: { code: "InvalidRequest", message: "a Kaizala request needs method \"kaizala\", a command name and an args array" } });
        return;
      }
      if (frame.kaizalaInflight >= MAX_KAIZALA_INFLIGHT) {
        reply({ failure: [JSON.stringify({ ec: 429, em: "too many requests from this card at once" })] });
        return;
      }
      frame.kaizalaInflight++;
      Promise.resolve()
        .then(() => (kaizala ? kaizala(frame.packageId, d.command, d.args, frame.context) : unsupported(d.command)))
        .then(
          (r) => {
            if (r && Array.isArray(r.result)) return { result: r.result };
            if (r && Array.isArray(r.failure)) return { failure: r.failure };
            throw new Error("the command answered nothing");
          },
          (err) => {
            log("cardgate host: Kaizala command failed", d.command, err);
            return { failure: [JSON.stringify({ ec: 300, em: String((err && err.message) || err) })] };
          },
        )
        .then((msg) => {
          frame.kaizalaInflight--;
          if (frames.get(source) === frame) reply(msg);
        });
    }

    win.addEventListener("message", onMessage);

    return {
      // attach answers frameWindow as the card of packageId, served from
      // origin (default: cardsOrigin), opened in context: what the host
      // opened the card for ({conversationId, formId, responseId, view}),
      // kept as a frozen copy.
      attach(frameWindow, packageId, origin = cardsOrigin, context = {}) {
        if (!frameWindow || typeof packageId !== "string" || !packageId) {
          throw new TypeError("attach: frame window and package id are required");
        }
        if (typeof origin !== "string" || !origin) throw new TypeError("attach: the card's origin is required");
        if (!isPlainObject(context)) throw new TypeError("attach: context must be an object");
        frames.set(frameWindow, { packageId, origin, context: Object.freeze({ ...context }), inflight: 0, kaizalaInflight: 0 });
      },
      // event sends a host event (hardwareBackPress) to an attached frame.
      event(frameWindow, name) {
        const frame = frames.get(frameWindow);
        if (frame) post(frameWindow, frame, { cardgate: KAIZALA_PROTOCOL, event: name });
      },
      detach(frameWindow) {
        frames.delete(frameWindow);
      },
      close() {
        win.removeEventListener("message", onMessage);
        frames.clear();
      },
    };
  }

  // Kaizala's answer for an API this client does not have.
  function unsupported(command) {
    return { failure: [JSON.stringify({ ec: 999, em: `${command} is not supported by this client` })] };
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { createHostBridge, unsupported };
  }
  if (typeof window !== "undefined") {
    window.cardgateHost = { createHostBridge, unsupported };
  }
})();
