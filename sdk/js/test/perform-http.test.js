"use strict";

// KASClient.App.performHTTPRequest against a real local HTTP server.
const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const { createCardgate } = require("../cardgate.js");
const { golden, cardWindow } = require("../support/fakes.js");

let server;
let base;
let seen = [];

test.before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url.startsWith("/slow")) return; // never answers
      const r = golden("perform-http-response.json");
      res.writeHead(r.HttpResponseCode, { "Content-Type": "application/json", "X-Trace": "abc" });
      res.end(r.HttpResponseBody);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});

test.after(() => {
  server.closeAllConnections();
  server.close();
});

// Calls performHTTPRequest and resolves with [response, error], checking the
// callback comes exactly once and never synchronously.
function perform(kas, url, params) {
  return new Promise((resolve, reject) => {
    let calls = 0;
    let sync = true;
    kas.App.performHTTPRequest(url, params, (...args) => {
      calls++;
      if (sync) reject(new Error("callback called synchronously"));
      setTimeout(() => (calls === 1 ? resolve(args) : reject(new Error("callback called twice"))), 20);
    });
    sync = false;
  });
}

const kasFor = (opts) => createCardgate(cardWindow({ fetch: globalThis.fetch }), opts).KASClient;

test("request is forwarded and the response has Kaizala's shape", async () => {
  seen = [];
  const params = golden("perform-http-params.json");
  const [response, error] = await perform(kasFor(), base + "/api/", JSON.stringify(params));
  assert.equal(error, null);

  const req = seen[0];
  assert.equal(req.method, "POST");
  assert.equal(req.url, "/api/v1/items?lang=en&page=2");
  assert.equal(req.headers["content-type"], "application/json");
  assert.equal(req.headers.authorization, params.requestHeaders.Authorization);
  assert.equal(req.body, params.requestBody);

  const got = JSON.parse(response);
  assert.deepEqual(Object.keys(got), Object.keys(golden("perform-http-response.json")));
  assert.equal(got.HttpResponseCode, 201);
  assert.equal(got.HttpResponseBody, '{"ok":true}');
  assert.equal(got.HttpResponseHeader["content-type"], "application/json");
  assert.equal(got.HttpResponseHeader["x-trace"], "abc");
  for (const name of Object.keys(got.HttpResponseHeader)) assert.equal(name, name.toLowerCase());
});

test("defaults: GET, no path, no query; URL join uses exactly one slash", async () => {
  seen = [];
  const kas = kasFor();
  await perform(kas, base, "{}");
  await perform(kas, base + "/a", JSON.stringify({ requestResourcePath: "b", queryParameters: { q: "x y" } }));
  await perform(kas, base + "/a//?k=1", JSON.stringify({ requestResourcePath: "//b", queryParameters: { q: "1" } }));
  await perform(kas, base + "/a?k=1", JSON.stringify({ method: "delete" }));
  assert.deepEqual(
    seen.map((r) => [r.method, r.url]),
    [["GET", "/"], ["GET", "/a/b?q=x+y"], ["GET", "/a/b?k=1&q=1"], ["DELETE", "/a?k=1"]],
  );
});

test("network failure answers HttpErrorCode -1", async () => {
  // Grab a free port, then close it so nothing listens there.
  const s = http.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));

  const [response, error] = await perform(kasFor(), `http://127.0.0.1:${port}/`, "{}");
  assert.equal(response, null);
  // Node's fetch says "fetch failed", browsers e.g. "Failed to fetch".
  assert.deepEqual(JSON.parse(error), golden("perform-http-network-error.json"));
});

test("invalid parametersJSON answers HttpErrorCode -3", async () => {
  const kas = kasFor();
  for (const bad of ["not json", "[]", "null", "42", undefined, { method: "GET" }, '{"method":5}', '{"requestHeaders":[]}', '{"requestBody":"x"}']) {
    const [response, error] = await perform(kas, base, bad);
    assert.equal(response, null, String(bad));
    const e = JSON.parse(error);
    assert.equal(e.HttpErrorCode, -3, String(bad));
    assert.match(e.HttpErrorMessage, /^parametersJSON: /);
  }
});

test("no answer within httpTimeoutMs answers HttpErrorCode -2", async () => {
  const [response, error] = await perform(kasFor({ httpTimeoutMs: 50 }), base + "/slow", "{}");
  assert.equal(response, null);
  assert.deepEqual(JSON.parse(error), { HttpErrorCode: -2, HttpErrorMessage: "request timed out after 50 ms" });
});
