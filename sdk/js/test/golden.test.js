"use strict";

// The wire golden files are shared with the Go side; keep them well-formed.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { golden } = require("../support/fakes.js");

test("all golden files exist and parse", () => {
  const dir = path.join(__dirname, "..", "testdata", "wire");
  const want = ["request.json", "token-result.json", "error-result.json", "perform-http-params.json", "perform-http-response.json", "perform-http-network-error.json",
    "kaizala-request.json", "kaizala-result.json", "kaizala-failure.json", "kaizala-event.json"];
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort(), [...want].sort());
  for (const f of want) golden(f);
});

test("token messages share one protocol version and a valid id", () => {
  const msgs = ["request.json", "token-result.json", "error-result.json"].map(golden);
  for (const m of msgs) {
    assert.equal(m.cardgate, 1);
    assert.match(m.id, /^[A-Za-z0-9_-]{1,64}$/);
    assert.equal(m.id, msgs[0].id);
  }
  const { result } = msgs[1];
  assert.equal(typeof result.token, "string");
  assert.ok(Number.isFinite(Date.parse(result.expiresAt)));
  assert.equal(typeof result.expiresIn, "number");
  assert.ok(result.externalUrls.every((u) => new URL(u)));
  assert.deepEqual(Object.keys(msgs[2].error), ["code", "message"]);
});

test("perform-http params carry a string body and a JSON string round-trips", () => {
  const p = golden("perform-http-params.json");
  assert.equal(typeof p.requestBody, "string");
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
});

test("Kaizala messages (protocol 2): one id, arrays of callback arguments, the unsupported error", () => {
  const [req, res, fail] = ["kaizala-request.json", "kaizala-result.json", "kaizala-failure.json"].map(golden);
  for (const m of [req, res, fail]) {
    assert.equal(m.cardgate, 2);
    assert.match(m.id, /^[A-Za-z0-9_-]{1,64}$/);
    assert.equal(m.id, req.id);
  }
  assert.equal(req.method, "kaizala");
  assert.ok(Array.isArray(req.args));
  assert.ok(res.result.every((a) => typeof a === "string"));
  assert.deepEqual(Object.keys(JSON.parse(fail.failure[0])), ["ec", "em"]);
  assert.equal(JSON.parse(fail.failure[0]).ec, 999);
  assert.deepEqual(golden("kaizala-event.json"), { cardgate: 2, event: "hardwareBackPress" });
});
