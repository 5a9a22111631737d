// cardgate frame page: Kaizala's web client, on the card's own origin. The
// cards origin serves every card inside a page of its own (cards/frame.go)
// that loads this script; the card is its child frame, so Kaizala's SDK,
// which looks on window.parent for __WEB_CLIENT__ (later __WEB_APP__) and
// calls window.parent.excecuteCommand (later executeCommand), finds them
// here, on its own origin. Each command goes to the host page by
// postMessage (wire protocol 2); the host answers this frame, for the
// package it attached it as, whatever the message says.
(function () {
  "use strict";

  const PROTOCOL = 2;
  // What getClientSupportedSDKVersion answers, here, without a round trip:
  // KASClient.js asks it before its first command and shows its
  // "incompatible client" screen if the answer fails or is lower than a
  // command's version. Above every version it knows; commands the host
  // lacks answer 999 instead.
  const SDK_VERSION = "9999";
  const TIMEOUT_MS = 30000;
  // The callback names KASClient.getSurveySummary passes as arguments.
  const SUMMARY_CALLBACK_RE = /^KASClient\.onGetDoubleJson[0-9]+$/;
  const pending = new Map(); // id -> {ok, fail, timer}

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Kaizala's error string: a JSON object with an error code (ec) and a
  // message (em). 999 is an API this client does not support.
  function kaizalaError(ec, em) {
    return JSON.stringify({ ec, em });
  }

  function hostOrigin() {
    const ao = location.ancestorOrigins;
    return ao && ao.length > 0 ? ao[0] : "*";
  }

  function cardWindow() {
    const f = document.getElementById("cardgate-card");
    return f && f.contentWindow;
  }

  // excecuteCommand is what Kaizala's SDK calls: onSuccess and onError
  // take the arguments of its internal callbacks, as an array. Exactly one
  // of them is called, once, and never synchronously: from a task of the
  // card's own window, as Kaizala's apps ran callbacks in the card's page,
  // so that an error in the card's callback is reported there, to the
  // card, not to this page.
  function excecuteCommand(command, args, onSuccess, onError) {
    if (command === "getSurveySummaryWithNotify") {
      // KASClient names its two callbacks in args instead of passing
      // them: each gets the host's (flat, processed) summaries, or the
      // error, as Kaizala's apps called them.
      const names = (Array.isArray(args) ? args : []).filter((n) => typeof n === "string" && SUMMARY_CALLBACK_RE.test(n));
      const run = (list) => {
        const card = cardWindow();
        const K = card && card.KASClient;
        if (!K || typeof K.executeFunction !== "function") return;
        for (const name of names) card.setTimeout(K.executeFunction, 0, name, list);
      };
      const [done, failed] = [onSuccess, onError];
      onSuccess = (list) => {
        run(list);
        if (typeof done === "function") done(list);
      };
      onError = (list) => {
        run([null, null, list[0]]);
        if (typeof failed === "function") failed(list);
      };
    }
    let answered = false;
    const once = (fn) => (list) => {
      if (answered) return;
      answered = true;
      if (typeof fn !== "function") return;
      // fn itself, not a wrapper of this page's: an error is reported in
      // the realm of the function that throws.
      const card = cardWindow();
      if (card) card.setTimeout(fn, 0, list);
      else setTimeout(fn, 0, list);
    };
    const ok = once(onSuccess);
    const fail = once(onError);
    if (typeof command !== "string" || !command) {
      Promise.resolve().then(() => fail([kaizalaError(400, "command: must be a non-empty string")]));
      return;
    }
    if (command === "getClientSupportedSDKVersion") {
      Promise.resolve().then(() => ok([SDK_VERSION]));
      return;
    }
    if (command === "performHTTPRequest") {
      // From this page, on the card's origin, under the card's connect-src.
      const list = Array.isArray(args) ? args : [];
      window.cardgate.KASClient.App.performHTTPRequest(list[0], list[1], (response, error) => {
        if (error) fail([error]);
        else ok([response]);
      });
      return;
    }
    const id = newId();
    const timer = setTimeout(() => {
      pending.delete(id);
      fail([kaizalaError(100, `no answer from the card host within ${TIMEOUT_MS} ms`)]);
    }, TIMEOUT_MS);
    pending.set(id, { ok, fail, timer });
    try {
      parent.postMessage({ cardgate: PROTOCOL, id, method: "kaizala", command, args: args == null ? [] : args }, hostOrigin());
    } catch (err) {
      clearTimeout(timer);
      pending.delete(id);
      Promise.resolve().then(() => fail([kaizalaError(400, "the command's arguments cannot be sent: " + err.message)]));
    }
  }

  window.addEventListener("message", (event) => {
    const d = event.data;
    if (!d || typeof d !== "object") return;
    const card = cardWindow();
    if (event.source === parent) {
      if (d.cardgate === PROTOCOL && typeof d.id === "string" && pending.has(d.id)) {
        const p = pending.get(d.id);
        pending.delete(d.id);
        clearTimeout(p.timer);
        if (Array.isArray(d.result)) p.ok(d.result);
        else if (Array.isArray(d.failure)) p.fail(d.failure);
        else p.fail([kaizalaError(300, (d.error && d.error.message) || "malformed answer from the card host")]);
      } else if (d.cardgate === PROTOCOL && d.event === "hardwareBackPress") {
        // The host's back button: Kaizala's SDK takes it here.
        try {
          const app = card && card.KASClient && card.KASClient.App;
          if (app && typeof app.OnHardwareBackPress === "function") app.OnHardwareBackPress();
        } catch (err) {
          console.error("cardgate: the card's back-press callback failed", err);
        }
      } else if (d.cardgate === 1 && card) {
        // A cardgate.js card's answer, relayed down.
        card.postMessage(d, location.origin);
      }
      return;
    }
    // A cardgate.js card (protocol 1) asks through this page: relayed up
    // as it is. The host answers this frame for its own package.
    if (card && event.source === card && event.origin === location.origin && d.cardgate === 1) {
      parent.postMessage(d, hostOrigin());
    }
  });

  window.__WEB_CLIENT__ = true;
  window.__WEB_APP__ = true;
  window.excecuteCommand = excecuteCommand; // Kaizala's spelling (2017 SDK)
  window.executeCommand = excecuteCommand;
})();
