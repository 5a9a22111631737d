"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { createCardgate } = require("../cardgate.js");
const { HOST_ORIGIN, SERVICE_ORIGIN, golden, cardWindow, autoHost, tokenReply, tick } = require("../support/fakes.js");

test("token round trip uses the golden request shape", async () => {
  const win = cardWindow();
  autoHost(win, (req) => ({ ...golden("token-result.json"), id: req.id }));
  const cg = createCardgate(win);
  const token = await cg.getIntegrationServiceToken();

  assert.equal(token, golden("token-result.json").result.token);
  assert.equal(win.parent.posted.length, 1);
  const { data, targetOrigin } = win.parent.posted[0];
  assert.equal(targetOrigin, "*");
  assert.match(data.id, /^[A-Za-z0-9_-]{1,64}$/);
  assert.deepEqual({ ...data, id: "x" }, { ...golden("request.json"), id: "x" });
  assert.equal(win.listenerCount(), 0, "listener removed after the answer");
});

test("replies from another source, with another id or protocol are ignored", async () => {
  const win = cardWindow();
  autoHost(win, (req) => {
    win.receive(tokenReply(req, { token: "evil" }), { source: {} });
    win.receive({ ...tokenReply(req, { token: "wrong-id" }), id: "other" });
    win.receive({ ...tokenReply(req, { token: "v2" }), cardgate: 2 });
    win.receive("not an object");
    return tokenReply(req, { token: "good" });
  });
  assert.equal(await createCardgate(win).getIntegrationServiceToken(), "good");
});

test("replies from the wrong origin are ignored when the host origin is known", async (t) => {
  for (const [name, opts, ancestorOrigins] of [
    ["option", { hostOrigin: HOST_ORIGIN }, undefined],
    ["ancestorOrigins", {}, [HOST_ORIGIN]],
  ]) {
    await t.test(name, async () => {
      const win = cardWindow({ ancestorOrigins });
      autoHost(win, (req) => {
        win.receive(tokenReply(req, { token: "evil" }), { origin: "http://evil.example" });
        return tokenReply(req, { token: "good" });
      });
      assert.equal(await createCardgate(win, opts).getIntegrationServiceToken(), "good");
    });
  }
});

test("error reply rejects with the host's code and message; failures are not cached", async () => {
  const win = cardWindow();
  autoHost(win, (req) => ({ ...golden("error-result.json"), id: req.id }));
  const cg = createCardgate(win);
  const { code, message } = golden("error-result.json").error;
  await assert.rejects(cg.getIntegrationServiceToken(), { code, message });
  await assert.rejects(cg.getIntegrationServiceToken(), { code });
  assert.equal(win.parent.posted.length, 2);
});

test("no answer rejects with Timeout", async () => {
  const win = cardWindow();
  const cg = createCardgate(win, { timeoutMs: 20 });
  await assert.rejects(cg.getIntegrationServiceToken(), (err) => {
    assert.equal(err.code, "Timeout");
    assert.match(err.message, /no answer from the card host within 20 ms/);
    return true;
  });
  assert.equal(win.listenerCount(), 0);
});

test("not framed rejects at once with NoHost", async () => {
  const cg = createCardgate(cardWindow({ framed: false }), { timeoutMs: 60000 });
  await assert.rejects(cg.getIntegrationServiceToken(), { code: "NoHost" });
});

test("token is cached until shortly before expiry", async (t) => {
  const realNow = Date.now;
  t.after(() => (Date.now = realNow));
  let now = realNow();
  Date.now = () => now;

  const win = cardWindow();
  let n = 0;
  autoHost(win, (req) => tokenReply(req, { token: "tok-" + ++n, expiresIn: 1800 }));
  const cg = createCardgate(win);

  assert.equal(await cg.getIntegrationServiceToken(), "tok-1");
  now += 1700 * 1000; // 100 s left: still cached
  assert.equal(await cg.getIntegrationServiceToken(), "tok-1");
  assert.equal(win.parent.posted.length, 1);
  now += 50 * 1000; // 50 s left: refresh
  assert.equal(await cg.getIntegrationServiceToken(), "tok-2");
  assert.equal(win.parent.posted.length, 2);

  // Short tokens refresh expiresIn/10 before expiry: 60 s token -> 6 s.
  cg.invalidateToken();
  autoHost(win, (req) => tokenReply(req, { token: "short", expiresIn: 60 }));
  assert.equal(await cg.getIntegrationServiceToken(), "short");
  now += 53 * 1000;
  assert.equal(await cg.getIntegrationServiceToken(), "short");
  now += 2 * 1000;
  await cg.getIntegrationServiceToken();
  assert.equal(win.parent.posted.length, 4);
});

test("concurrent callers share one request", async () => {
  const win = cardWindow();
  autoHost(win, (req) => tokenReply(req));
  const cg = createCardgate(win);
  const tokens = await Promise.all([cg.getIntegrationServiceToken(), cg.getIntegrationServiceToken(), cg.getIntegrationServiceToken()]);
  assert.deepEqual(tokens, ["tok-1", "tok-1", "tok-1"]);
  assert.equal(win.parent.posted.length, 1);
});

test("invalidateToken forces a new request", async () => {
  const win = cardWindow();
  let n = 0;
  autoHost(win, (req) => tokenReply(req, { token: "tok-" + ++n }));
  const cg = createCardgate(win);
  assert.equal(await cg.getIntegrationServiceToken(), "tok-1");
  cg.invalidateToken();
  assert.equal(await cg.getIntegrationServiceToken(), "tok-2");
});

// Fake fetch recording (url, Authorization) and answering with status(url, auth).
function recordingFetch(status = () => 200) {
  const calls = [];
  const fetch = async (input, init = {}) => {
    const auth = new Headers(init.headers).get("Authorization");
    calls.push({ url: String(input), auth });
    return new Response("ok", { status: status(String(input), auth) });
  };
  return { calls, fetch };
}

test("fetch attaches the token only for externalUrls", async () => {
  const { calls, fetch } = recordingFetch();
  const win = cardWindow({ fetch });
  autoHost(win, (req) => tokenReply(req, { externalUrls: [SERVICE_ORIGIN, "https://api.example/v1"] }));
  const cg = createCardgate(win);

  await cg.fetch(SERVICE_ORIGIN + "/items?x=1");
  await cg.fetch(new URL("https://api.example/v1/items"));
  await cg.fetch("https://api.example/v1");
  await cg.fetch("https://api.example/v10/items"); // prefix must end at a segment
  await cg.fetch("https://api.example/other");
  await cg.fetch("http://127.0.0.1:9999/items"); // other port, other origin
  await cg.fetch("/card/data.json"); // the card's own origin
  await cg.fetch(SERVICE_ORIGIN + "/x", { headers: { Authorization: "Basic abc" } });

  assert.deepEqual(
    calls.map((c) => c.auth),
    ["Bearer tok-1", "Bearer tok-1", "Bearer tok-1", null, null, null, null, "Basic abc"],
  );
  assert.equal(win.parent.posted.length, 1);
});

test("fetch retries once with a fresh token on 401", async () => {
  const { calls, fetch } = recordingFetch((url, auth) => (auth === "Bearer tok-1" ? 401 : 200));
  const win = cardWindow({ fetch });
  let n = 0;
  autoHost(win, (req) => tokenReply(req, { token: "tok-" + ++n }));
  const cg = createCardgate(win);

  const res = await cg.fetch(SERVICE_ORIGIN + "/items", { method: "POST", body: "{}" });
  assert.equal(res.status, 200);
  assert.deepEqual(calls.map((c) => c.auth), ["Bearer tok-1", "Bearer tok-2"]);

  // A 401 from the fresh token is returned, not retried again.
  const always = recordingFetch(() => 401);
  win.fetch = always.fetch;
  assert.equal((await cg.fetch(SERVICE_ORIGIN + "/items")).status, 401);
  assert.equal(always.calls.length, 2);

  // 401 from a URL without the token is not retried.
  const other = recordingFetch(() => 401);
  win.fetch = other.fetch;
  assert.equal((await cg.fetch("https://elsewhere.example/")).status, 401);
  assert.equal(other.calls.length, 1);
});

test("KASClient token callbacks", async () => {
  const win = cardWindow();
  autoHost(win, (req) => tokenReply(req, { token: "kas" }));
  const { KASClient } = createCardgate(win);
  for (const fn of [KASClient.getIntegerationServiceToken, KASClient.App.getIntegerationServiceTokenAsync]) {
    let sync = true;
    const args = await new Promise((resolve) => {
      fn((...a) => resolve([...a, sync]));
      sync = false;
    });
    assert.deepEqual(args, ["kas", null, false]);
  }

  const win2 = cardWindow();
  autoHost(win2, (req) => ({ ...golden("error-result.json"), id: req.id }));
  const kas2 = createCardgate(win2).KASClient;
  const args = await new Promise((resolve) => kas2.App.getIntegerationServiceTokenAsync((...a) => resolve(a)));
  assert.deepEqual(args, [null, golden("error-result.json").error.message]);

  const kas3 = createCardgate(cardWindow({ framed: false })).KASClient;
  const [token, err] = await new Promise((resolve) => kas3.getIntegerationServiceToken((...a) => resolve(a)));
  assert.equal(token, null);
  assert.equal(typeof err, "string");
});

test("browser auto-install merges into an existing KASClient", async (t) => {
  const vm = require("node:vm");
  const src = require("node:fs").readFileSync(require.resolve("../cardgate.js"), "utf8");
  const existing = { getAppInfo() {}, App: { showNativeErrorMessage() {} } };
  const window = { parent: {}, KASClient: existing, location: { href: "http://127.0.0.1:8082/" }, addEventListener() {}, removeEventListener() {} };
  vm.runInNewContext(src, { window, document: {}, URL, setTimeout, clearTimeout });
  await tick();
  assert.equal(typeof window.cardgate.getIntegrationServiceToken, "function");
  assert.equal(window.KASClient, existing);
  assert.equal(typeof existing.getAppInfo, "function");
  assert.equal(typeof existing.App.showNativeErrorMessage, "function");
  assert.equal(typeof existing.App.performHTTPRequest, "function");
  assert.equal(typeof existing.getIntegerationServiceToken, "function");

  // Not framed: installed all the same, and a token request says why it
  // cannot be answered rather than failing on a missing name.
  const top = { location: { href: "http://127.0.0.1:8082/" }, addEventListener() {}, removeEventListener() {} };
  top.parent = top;
  vm.runInNewContext(src, { window: top, document: {}, URL, setTimeout, clearTimeout });
  await assert.rejects(top.cardgate.getIntegrationServiceToken(), { code: "NoHost" });
});
