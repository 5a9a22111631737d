"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { createHostBridge } = require("../host-bridge.js");
const { createCardgate } = require("../cardgate.js");
const { HOST_ORIGIN, CARDS_ORIGIN, golden, eventTarget, postTarget, cardWindow, tick } = require("../support/fakes.js");

const ID = golden("request.json").id;
const request = (extra = {}) => ({ ...golden("request.json"), ...extra });

// A host page with one attached card frame; mint is recorded and controllable.
function setup({ mint } = {}) {
  const host = eventTarget({});
  const frame = postTarget({});
  const minted = [];
  const logs = [];
  const result = golden("token-result.json").result;
  const bridge = createHostBridge({
    window: host,
    cardsOrigin: CARDS_ORIGIN,
    mint: mint || (async (pkg) => (minted.push(pkg), { ...result, secretField: "x" })),
    log: (...a) => logs.push(a),
  });
  bridge.attach(frame, "com.example.poll");
  const send = (data, { source = frame, origin = CARDS_ORIGIN } = {}) => host.dispatchMessage({ source, origin, data });
  return { host, frame, bridge, minted, logs, send };
}

test("answers an attached frame with the minted token, to the cards origin", async () => {
  const { frame, minted, send } = setup();
  send(request());
  await tick();
  assert.deepEqual(minted, ["com.example.poll"]);
  assert.equal(frame.posted.length, 1);
  assert.equal(frame.posted[0].targetOrigin, CARDS_ORIGIN);
  assert.deepEqual(frame.posted[0].data, golden("token-result.json"), "extra mint fields are not forwarded");
});

test("uses the attached package id, never one from the message", async () => {
  const { minted, frame, send } = setup();
  send(request({ packageId: "other" }));
  await tick();
  assert.deepEqual(minted, ["com.example.poll"]);
  assert.equal(frame.posted[0].data.result.token, golden("token-result.json").result.token);
});

test("per-package origins: each frame is answered only from, and to, its own origin", async () => {
  const host = eventTarget({});
  const minted = [];
  const result = golden("token-result.json").result;
  const bridge = createHostBridge({ window: host, mint: async (pkg) => (minted.push(pkg), result) });
  const orders = postTarget({});
  const survey = postTarget({});
  const ordersOrigin = "http://com-contoso-orders-abc.cards.localhost:8082";
  const surveyOrigin = "http://com-contoso-survey-def.cards.localhost:8082";
  bridge.attach(orders, "com.contoso.orders", ordersOrigin);
  bridge.attach(survey, "com.contoso.survey", surveyOrigin);
  // The orders frame, navigated to the survey card's origin, is not answered.
  host.dispatchMessage({ source: orders, origin: surveyOrigin, data: request() });
  await tick();
  assert.deepEqual(minted, []);
  host.dispatchMessage({ source: survey, origin: surveyOrigin, data: request() });
  await tick();
  assert.deepEqual(minted, ["com.contoso.survey"]);
  assert.equal(survey.posted[0].targetOrigin, surveyOrigin);
  assert.equal(orders.posted.length, 0);
  assert.throws(() => bridge.attach(postTarget({}), "com.x.y"), /origin is required/);
});

test("ignores frames that are not attached, and detached ones", async () => {
  const { frame, bridge, minted, logs, send } = setup();
  const stranger = postTarget({});
  send(request(), { source: stranger });
  send(request(), { source: null });
  bridge.detach(frame);
  send(request());
  await tick();
  assert.deepEqual(minted, []);
  assert.equal(stranger.posted.length + frame.posted.length, 0);
  assert.deepEqual(logs, [], "strangers are ignored silently");
});

test("ignores the wrong origin, with a log line", async () => {
  const { frame, minted, logs, send } = setup();
  send(request(), { origin: "http://evil.example" });
  send(request(), { origin: HOST_ORIGIN });
  await tick();
  assert.deepEqual(minted, []);
  assert.equal(frame.posted.length, 0);
  assert.equal(logs.length, 2);
});

test("a malformed request with a usable id gets InvalidRequest naming the field", async () => {
  const { frame, minted, send } = setup();
  send(request({ method: "x" }));
  send(request({ method: undefined }));
  send(request({ cardgate: 3 }));
  await tick();
  assert.deepEqual(minted, []);
  const errors = frame.posted.map((p) => p.data);
  assert.deepEqual(errors[0], { cardgate: 1, id: ID, error: { code: "InvalidRequest", message: 'method: unknown method "x"' } });
  assert.match(errors[1].error.message, /^method: /);
  assert.match(errors[2].error.message, /^cardgate: /);
  assert.ok(errors.every((e) => e.error.code === "InvalidRequest"));
});

test("requests without a usable id are ignored", async () => {
  const { frame, minted, send } = setup();
  for (const id of ["", "a".repeat(65), "has space", "ü", 5, undefined]) send(request({ id }));
  for (const data of [null, "string", [request()], 42]) send(data);
  await tick();
  assert.deepEqual(minted, []);
  assert.equal(frame.posted.length, 0);
});

test("mint failures are forwarded with their code, Internal otherwise", async () => {
  const errors = [Object.assign(new Error("package is not allowed"), { code: "Forbidden" }), new Error("db down"), undefined];
  const { frame, send } = setup({ mint: async () => Promise.reject(errors.shift()) });
  send(request());
  send(request());
  send(request());
  await tick();
  assert.deepEqual(
    frame.posted.map((p) => p.data.error),
    [
      { code: "Forbidden", message: "package is not allowed" },
      { code: "Internal", message: "db down" },
      { code: "Internal", message: "token request failed" },
    ],
  );
  assert.ok(frame.posted.every((p) => p.targetOrigin === CARDS_ORIGIN && p.data.id === ID));
});

test("a mint result without a token is an Internal error", async () => {
  const { frame, send } = setup({ mint: async () => ({ expiresIn: 5 }) });
  send(request());
  await tick();
  assert.equal(frame.posted[0].data.error.code, "Internal");
});

test("a frame detached before the mint completes gets no reply, even if re-attached", async () => {
  let finish;
  const { frame, bridge, send } = setup({ mint: () => new Promise((r) => (finish = r)) });
  send(request());
  await tick();
  bridge.detach(frame);
  bridge.attach(frame, "com.example.other");
  finish(golden("token-result.json").result);
  await tick();
  assert.equal(frame.posted.length, 0);
});

test("at most 8 mints in flight per frame", async () => {
  const pending = [];
  const { frame, send } = setup({ mint: () => new Promise((r) => pending.push(r)) });
  for (let i = 0; i < 10; i++) send(request({ id: "r" + i }));
  await tick();
  assert.equal(pending.length, 8);
  assert.deepEqual(
    frame.posted.map((p) => [p.data.id, p.data.error]),
    ["r8", "r9"].map((id) => [id, { code: "RateLimited", message: "too many token requests" }]),
  );

  // Finishing one frees a slot.
  pending.shift()(golden("token-result.json").result);
  await tick();
  send(request({ id: "r10" }));
  await tick();
  assert.equal(pending.length, 8);
  assert.equal(frame.posted.length, 3);
});

test("close stops listening", async () => {
  const { host, bridge, minted, send } = setup();
  bridge.close();
  send(request());
  await tick();
  assert.deepEqual(minted, []);
  assert.equal(host.listenerCount(), 0);
});

test("card SDK and host bridge work together", async () => {
  const host = eventTarget({});
  const card = cardWindow({ ancestorOrigins: [HOST_ORIGIN] });
  // Wire the two fakes: card -> host and host -> card, like real postMessage.
  card.parent.onPost = ({ data }) => setImmediate(() => host.dispatchMessage({ source: card, origin: CARDS_ORIGIN, data }));
  card.postMessage = (data, targetOrigin) => {
    assert.equal(targetOrigin, CARDS_ORIGIN);
    card.receive(data, { source: card.parent, origin: HOST_ORIGIN });
  };
  const bridge = createHostBridge({
    window: host,
    cardsOrigin: CARDS_ORIGIN,
    mint: async (pkg) => ({ ...golden("token-result.json").result, token: "for-" + pkg }),
  });
  bridge.attach(card, "com.example.poll");
  assert.equal(await createCardgate(card).getIntegrationServiceToken(), "for-com.example.poll");
});
