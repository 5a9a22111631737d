"use strict";

// Kaizala's commands: the host bridge's protocol 2, the host's answers
// (kaizala-host.js) and the frame page's web client (web-client.js).
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const vm = require("node:vm");
const { createHostBridge } = require("../host-bridge.js");
const { createKaizalaHost, SDK_VERSION } = require("../kaizala-host.js");
const { CARDS_ORIGIN, HOST_ORIGIN, golden, eventTarget, postTarget, tick } = require("../support/fakes.js");

const ALICE = { id: "u-alice", name: "Alice Ahmed", phoneNumber: "+14155550101" };

function kaizalaHost(extra = {}) {
  const calls = [];
  const ui = new Proxy({}, { get: (_, name) => (...a) => (calls.push([name, ...a]), extra[name] ? extra[name](...a) : undefined) });
  const minted = [];
  const k = createKaizalaHost({
    mint: async (pkg) => (minted.push(pkg), { token: "tok-" + pkg }),
    user: () => ALICE,
    strings: async (pkg, locale) => ({ pkg, locale }),
    locale: () => "fr-CA",
    ui,
  });
  return { k, calls, minted };
}

function setup(kaizala) {
  const host = eventTarget({});
  const frame = postTarget({});
  const bridge = createHostBridge({ window: host, mint: async () => ({ token: "t" }), kaizala });
  bridge.attach(frame, "com.example.poll", CARDS_ORIGIN);
  const send = (data, { source = frame, origin = CARDS_ORIGIN } = {}) => host.dispatchMessage({ source, origin, data });
  return { bridge, frame, send };
}

test("golden request: the token for the frame's package, never the message's", async () => {
  const { k, minted } = kaizalaHost();
  const { frame, send } = setup(k);
  send({ ...golden("kaizala-request.json"), packageId: "com.other", actionPackageId: "com.other" });
  await tick();
  await tick();
  assert.deepEqual(minted, ["com.example.poll"]);
  assert.equal(frame.posted.length, 1);
  assert.equal(frame.posted[0].targetOrigin, CARDS_ORIGIN);
  assert.deepEqual(frame.posted[0].data, { ...golden("kaizala-result.json"), result: ["tok-com.example.poll"] });
});

test("every unknown command answers Kaizala's unsupported error, once", async () => {
  const { k } = kaizalaHost();
  const { frame, send } = setup(k);
  for (const command of ["sendReminder", "forwardSurvey", "addLike", "selectAssignees", "toString", "constructor"]) {
    send({ ...golden("kaizala-request.json"), command });
  }
  await tick();
  await tick();
  assert.equal(frame.posted.length, 6);
  assert.deepEqual(frame.posted[0].data, golden("kaizala-failure.json"));
  for (const p of frame.posted) assert.equal(JSON.parse(p.data.failure[0]).ec, 999);
});

test("without a kaizala option every command is unsupported", async () => {
  const { frame, send } = setup(undefined);
  send(golden("kaizala-request.json"));
  await tick();
  await tick();
  assert.equal(JSON.parse(frame.posted[0].data.failure[0]).ec, 999);
});

test("frames not attached, or from another origin, get no answer", async () => {
  const { k, minted } = kaizalaHost();
  const { frame, send } = setup(k);
  const stranger = postTarget({});
  send(golden("kaizala-request.json"), { source: stranger });
  send(golden("kaizala-request.json"), { origin: "http://com-other-x.cards.localhost:8082" });
  await tick();
  await tick();
  assert.deepEqual(minted, []);
  assert.equal(frame.posted.length + stranger.posted.length, 0);
});

test("malformed Kaizala requests are refused with a reason", async () => {
  const { k } = kaizalaHost();
  const { frame, send } = setup(k);
  const base = golden("kaizala-request.json");
  send({ ...base, method: "other" });
  send({ ...base, command: "no spaces" });
  send({ ...base, args: "x" });
  await tick();
  assert.equal(frame.posted.length, 3);
  for (const p of frame.posted) assert.equal(p.data.error.code, "InvalidRequest");
});

test("host commands answer in Kaizala's shapes", async () => {
  const { k, calls } = kaizalaHost({ openUrl: () => true });
  assert.deepEqual(await k("p", "getClientSupportedSDKVersion", []), { result: [SDK_VERSION] });
  assert.ok(parseInt(SDK_VERSION) >= 17, "at least every version KASClient.js knows");
  assert.deepEqual(await k("p", "getCurrentUserId", []), { result: [ALICE.id] });
  const users = JSON.parse((await k("p", "getUserDetails", [ALICE.id, "u-stranger"])).result[0]);
  assert.deepEqual(Object.keys(users), [ALICE.id]);
  assert.deepEqual(JSON.parse(users[ALICE.id]), {
    id: ALICE.id, name: "You", originalName: "Alice Ahmed", pictureUrl: "", phoneNumber: ALICE.phoneNumber,
    pictureBGColor: "#6264a7", pictureInitials: "AA",
  });
  assert.deepEqual(await k("p", "getConversationName", []), { result: ["Cards"] });
  assert.deepEqual(JSON.parse((await k("p", "getLocalizedMiniAppStrings", [])).result[0]), { pkg: "p", locale: "fr-CA" });
  assert.deepEqual(JSON.parse((await k("p", "getAppInfo", [])).result[0]).locale, "fr-CA");
  assert.deepEqual(await k("p", "getPackageProperties", []), { result: ["{}"] });
  assert.deepEqual(await k("p", "showAlert", ["Oops"]), { result: [] });
  assert.deepEqual(await k("p", "showProgressBar", []), { result: [] });
  assert.deepEqual(await k("p", "hideProgressBar", []), { result: [] });
  assert.deepEqual(await k("p", "dismissScreen", []), { result: [] });
  assert.deepEqual(await k("p", "logError", ["bad"]), { result: [] });
  assert.deepEqual(await k("p", "openUrl", ["https://example.com/x"]), { result: [] });
  assert.equal(JSON.parse((await k("p", "openUrl", ["javascript:alert(1)"])).failure[0]).ec, 400);
  assert.deepEqual(calls, [
    ["alert", "Oops", "p"], ["progress", true, "p"], ["progress", false, "p"], ["dismiss", "p"], ["logError", "bad", "p"],
    ["openUrl", "https://example.com/x", "p"],
  ]);
  const { k: k2 } = kaizalaHost({ openUrl: () => false });
  assert.equal(JSON.parse((await k2("p", "openUrl", ["https://example.com/"])).failure[0]).ec, 400, "declined");
});

test("a failed mint answers Kaizala's error callback", async () => {
  const k = createKaizalaHost({ mint: async () => Promise.reject(new Error("card disabled")), user: () => ALICE, strings: async () => ({}) });
  const r = await k("p", "getIntegerationServiceToken", []);
  assert.deepEqual(JSON.parse(r.failure[0]), { ec: 100, em: "card disabled" });
});

// The frame page, in a fake window whose parent is the host and whose
// child frame is the card.
function framePage({ setTimeout: st = setTimeout } = {}) {
  const src = fs.readFileSync(require.resolve("../web-client.js"), "utf8");
  const host = postTarget({});
  // The card's window runs the SDK's callbacks, in tasks of its own.
  const card = postTarget({ callbacks: 0 });
  card.setTimeout = (fn, ms, ...args) => setImmediate(() => (card.callbacks++, fn(...args)));
  const window = eventTarget({ location: { origin: CARDS_ORIGIN, ancestorOrigins: [HOST_ORIGIN] } });
  window.cardgate = {
    KASClient: { App: { performHTTPRequest: (url, params, cb) => setImmediate(() => cb(JSON.stringify({ HttpResponseCode: 200, url }), null)) } },
  };
  const document = { getElementById: (id) => (id === "cardgate-card" ? { contentWindow: card } : null) };
  vm.runInNewContext(src, { window, document, location: window.location, parent: host, crypto, setTimeout: st, clearTimeout, Promise, console });
  return { window, host, card };
}

test("the frame page is Kaizala's web client and relays to the host", async () => {
  const { window, host, card } = framePage();
  assert.equal(window.__WEB_CLIENT__, true);
  assert.equal(window.__WEB_APP__, true);
  assert.equal(window.excecuteCommand, window.executeCommand);
  const got = [];
  window.excecuteCommand("getCurrentUserId", null, (r) => got.push(["ok", r]), (e) => got.push(["err", e]));
  assert.equal(host.posted.length, 1);
  const req = host.posted[0];
  assert.equal(req.targetOrigin, HOST_ORIGIN);
  assert.deepEqual(Object.keys(req.data), ["cardgate", "id", "method", "command", "args"]);
  assert.deepEqual({ ...req.data, id: "" }, { cardgate: 2, id: "", method: "kaizala", command: "getCurrentUserId", args: [] });
  // Not from the host: ignored. From the host: answered once.
  window.dispatchMessage({ source: {}, origin: HOST_ORIGIN, data: { cardgate: 2, id: req.data.id, result: ["forged"] } });
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: { cardgate: 2, id: req.data.id, result: ["u-alice"] } });
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: { cardgate: 2, id: req.data.id, result: ["again"] } });
  assert.deepEqual(got, [], "never synchronously");
  await tick();
  assert.deepEqual(got, [["ok", ["u-alice"]]]);

  window.excecuteCommand("sendReminder", null, (r) => got.push(["ok", r]), (e) => got.push(["err", e]));
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: { ...golden("kaizala-failure.json"), id: host.posted[1].data.id } });
  await tick();
  assert.deepEqual(got[1], ["err", golden("kaizala-failure.json").failure]);
  assert.equal(card.callbacks, 2, "both callbacks ran in the card's window");
});

test("the frame page performs performHTTPRequest itself, on the card's origin", async () => {
  const { window, host } = framePage();
  const got = [];
  window.excecuteCommand("performHTTPRequest", ["http://127.0.0.1:8081/api", "{}"], (r) => got.push(r), (e) => got.push(e));
  await tick();
  await tick();
  assert.equal(host.posted.length, 0, "not relayed");
  assert.deepEqual(JSON.parse(got[0][0]), { HttpResponseCode: 200, url: "http://127.0.0.1:8081/api" });
});

test("the frame page relays a cardgate.js card's token requests both ways", async () => {
  const { window, host, card } = framePage();
  window.dispatchMessage({ source: card, origin: CARDS_ORIGIN, data: golden("request.json") });
  window.dispatchMessage({ source: card, origin: "http://evil.example", data: golden("request.json") });
  assert.deepEqual(host.posted.map((p) => [p.data, p.targetOrigin]), [[golden("request.json"), HOST_ORIGIN]]);
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: golden("token-result.json") });
  assert.deepEqual(card.posted.map((p) => [p.data, p.targetOrigin]), [[golden("token-result.json"), CARDS_ORIGIN]]);
});

test("the host's back button reaches the card's Kaizala callback", async () => {
  const { window, host, card } = framePage();
  let pressed = 0;
  card.KASClient = { App: { OnHardwareBackPress: () => pressed++ } };
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: golden("kaizala-event.json") });
  window.dispatchMessage({ source: card, origin: CARDS_ORIGIN, data: golden("kaizala-event.json") });
  assert.equal(pressed, 1);
});

test("bridge.event posts host events to attached frames only", async () => {
  const { bridge, frame } = setup(undefined);
  bridge.event(frame, "hardwareBackPress");
  bridge.event(postTarget({}), "hardwareBackPress");
  assert.deepEqual(frame.posted, [{ data: golden("kaizala-event.json"), targetOrigin: CARDS_ORIGIN }]);
});

test("the frame page answers the SDK version itself, above every version KASClient.js knows", async () => {
  const { window, host } = framePage();
  const got = [];
  window.excecuteCommand("getClientSupportedSDKVersion", null, (r) => got.push(r), (e) => got.push(e));
  assert.deepEqual(got, [], "never synchronously");
  await tick();
  await tick();
  assert.deepEqual(JSON.parse(JSON.stringify(got)), [[SDK_VERSION]]);
  assert.equal(host.posted.length, 0);
});

test("Kaizala commands have a budget of their own: the 33rd at once is refused, not dropped", async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  const { frame, send } = setup(async () => (await gate, { result: [] }));
  for (let i = 0; i < 33; i++) send({ ...golden("kaizala-request.json"), id: "k" + i });
  await tick();
  assert.equal(frame.posted.length, 1);
  assert.equal(JSON.parse(frame.posted[0].data.failure[0]).ec, 429);
  release();
  await tick();
  await tick();
  assert.equal(frame.posted.length, 33);
});

// docs/kaizala.md's table of commands is what the host answers: every row
// marked unsupported answers 999, every other row something else.
test("docs/kaizala.md's command table matches the host's answers", async () => {
  const doc = fs.readFileSync(require("node:path").join(__dirname, "..", "..", "..", "docs", "kaizala.md"), "utf8");
  const table = doc.slice(doc.indexOf("| command | here |"), doc.indexOf("What needs no command"));
  const { k } = formsHost();
  const ctx = { conversationId: "c-team", formId: "f-1", view: "ResponseResultsView" };
  let rows = 0;
  for (const line of table.split("\n").slice(2)) {
    if (!line.startsWith("| ")) continue;
    const [names, here] = line.slice(2).split(" | ");
    const unsupported = here.startsWith("unsupported");
    for (const [, name] of names.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)) {
      if (name === "performHTTPRequest") continue; // the frame page's (tested above)
      rows++;
      const args = name === "openUrl" ? ["https://example.com/"] : [];
      const r = await k("p", name, args, ctx);
      const is999 = Array.isArray(r.failure) && JSON.parse(r.failure[0]).ec === 999;
      assert.equal(is999, unsupported, `${name}: ${JSON.stringify(r)}; the table says ${here}`);
    }
  }
  assert.ok(rows >= 76, `${rows} commands in the table`);
});

test("the frame page fails a command the host never answers, after 30 s, with ec 100", async () => {
  const timers = [];
  const { window } = framePage({ setTimeout: (fn, ms) => (timers.push(ms), setImmediate(fn), 0) });
  const got = [];
  window.excecuteCommand("getCurrentUserId", null, (r) => got.push(["ok", r]), (e) => got.push(["err", e]));
  await tick();
  await tick();
  assert.deepEqual(timers, [30000]);
  assert.equal(got.length, 1);
  assert.equal(JSON.parse(got[0][1][0]).ec, 100);
});

// A Kaizala host with the form calls, recording them; the API answers as
// the host's would.
const TEAM = { title: "Contoso team", members: [ALICE, { id: "u-bob", name: "Bob Barros", phoneNumber: "+14155550102" }] };
const DRAFT = { id: "", gid: "c-team", pid: "p", title: "Lunch?", ques: [] };
const SENT = { ...DRAFT, id: "f-1" };
function formsHost({ fail } = {}) {
  const calls = [];
  const rec = (name, value) => async (...a) => {
    calls.push([name, ...a]);
    if (fail) throw Object.assign(new Error(fail.message), { status: fail.status });
    return value;
  };
  const forms = {
    draft: rec("draft", DRAFT),
    create: rec("create", { form: SENT }),
    state: rec("state", { form: SENT, active: false, canRespond: false, canSeeResults: true }),
    responses: rec("responses", [{ response_Id_native: "r-1" }]),
    respond: rec("respond", { response: { response_Id_native: "r-2" } }),
    summary: rec("summary", { flat: { id: "f-1" }, processed: { TotalResponseCount: 2 }, aggregated: { rc: 2 } }),
    close: rec("close", { form: SENT, active: false, canRespond: false, canSeeResults: true }),
  };
  const ui = new Proxy({}, { get: (_, name) => (...a) => calls.push(["ui." + name, ...a]) });
  const k = createKaizalaHost({
    mint: async (pkg, ctx) => (calls.push(["mint", pkg, ctx]), { token: "t" }),
    user: () => ALICE,
    strings: async () => ({}),
    conversation: async (ctx) => (ctx && ctx.conversationId ? TEAM : null),
    forms,
    ui,
  });
  return { k, calls };
}

const CREATE = { conversationId: "c-team", view: "CreationView" };
const RESPOND = { conversationId: "c-team", formId: "f-1", view: "ResponseView" };

test("form commands in a CreationView: the app model, then the form sent to the conversation", async () => {
  const { k, calls } = formsHost();
  assert.deepEqual(JSON.parse((await k("p", "getSurveyJson", [], CREATE)).result[0]), DRAFT);
  assert.deepEqual(await k("p", "getPollStatus", [], CREATE), { result: ["0"] });
  assert.deepEqual(await k("p", "canRespondToSurvey", [], CREATE), { result: ["true"] });
  assert.deepEqual(await k("p", "getResponses", [], CREATE), { result: ["[]"] });
  assert.deepEqual(await k("p", "createRequest", ['{"title":"Pizza?"}', null, false, true], CREATE), { result: [] });
  assert.deepEqual(calls, [
    ["draft", "p", CREATE],
    ["create", "p", CREATE, '{"title":"Pizza?"}', null],
    ["ui.sent", "p", CREATE, "form"],
    ["ui.dismiss", "p"],
  ]);
  // A response-only card responds from its CreationView: the form comes
  // with the creator's response; shouldDismiss false keeps it open.
  calls.length = 0;
  assert.deepEqual(await k("p", "updateResponse", [{ 0: "Lisbon" }, null, false, true, false, false], CREATE), { result: [] });
  assert.deepEqual(calls, [
    ["create", "p", CREATE, "", { answers: { 0: "Lisbon" }, responseId: "", isEdit: false, isAnonymous: false }],
    ["ui.sent", "p", CREATE, "response"],
  ]);
  // No summary before the form is sent.
  assert.equal(JSON.parse((await k("p", "getSurveySummaryJson", [], CREATE)).failure[0]).ec, 400);
});

test("form commands on a sent form answer for the frame's form, in KASClient's shapes", async () => {
  const { k, calls } = formsHost();
  assert.deepEqual(JSON.parse((await k("p", "getSurveyJson", [], RESPOND)).result[0]), SENT);
  assert.deepEqual(await k("p", "getPollStatus", [], RESPOND), { result: ["1"] }, "expired");
  assert.deepEqual(await k("p", "canRespondToSurvey", [], RESPOND), { result: ["false"] });
  assert.deepEqual(await k("p", "shouldSeeSurveySummary", [], RESPOND), { result: ["true"] });
  assert.deepEqual(JSON.parse((await k("p", "getResponses", [], RESPOND)).result[0]), [{ response_Id_native: "r-1" }]);
  assert.deepEqual(JSON.parse((await k("p", "getSurveySummaryJson", [], RESPOND)).result[0]), { id: "f-1" });
  assert.deepEqual(JSON.parse((await k("p", "getSurveyResultJson", [], RESPOND)).result[0]), { TotalResponseCount: 2 });
  assert.deepEqual(JSON.parse((await k("p", "getSurveyAggregatedSummaryJson", [], RESPOND)).result[0]), { rc: 2 });
  const both = await k("p", "getSurveySummaryWithNotify", ["KASClient.onGetDoubleJson1", null], RESPOND);
  assert.deepEqual(both.result.map((x) => JSON.parse(x)), [{ id: "f-1" }, { TotalResponseCount: 2 }]);
  assert.equal(JSON.parse((await k("p", "getLikesAndCommentsData", [], RESPOND)).result[0]).shouldShowLikesAndComments, false);
  calls.length = 0;
  await k("p", "updateResponse", ['{"0":"1"}', "r-1", true, false, true], RESPOND);
  assert.deepEqual(calls, [
    ["respond", "p", RESPOND, { answers: { 0: "1" }, responseId: "r-1", isEdit: true, isAnonymous: true }],
    ["ui.sent", "p", RESPOND, "response"],
    ["ui.dismiss", "p"],
  ]);
  assert.equal(JSON.parse((await k("p", "createRequest", ["{}"], RESPOND)).failure[0]).ec, 400, "sent already");
  assert.equal(JSON.parse((await k("p", "updateResponse", [[1, 2]], RESPOND)).failure[0]).ec, 400);
  // The conversation's members and name.
  assert.deepEqual(await k("p", "getConversationName", [], RESPOND), { result: ["Contoso team"] });
  assert.deepEqual(await k("p", "getConversationParticipantsCount", [], RESPOND), { result: ["2"] });
  const users = JSON.parse((await k("p", "getUserDetails", ["u-bob", "u-stranger"], RESPOND)).result[0]);
  assert.deepEqual(Object.keys(users), ["u-bob"]);
  assert.equal(JSON.parse(users["u-bob"]).originalName, "Bob Barros");
  // The token names the frame's conversation.
  calls.length = 0;
  await k("p", "getIntegerationServiceToken", [], RESPOND);
  assert.deepEqual(calls, [["mint", "p", RESPOND]]);
});

test("a refused form call is Kaizala's invalid-operation error (ec 400) with the host's reason", async () => {
  const { k } = formsHost({ fail: { status: 403, message: "only the conversation's members may see this form" } });
  for (const command of ["getSurveyJson", "getResponses", "getSurveySummaryJson", "getSurveyResultJson", "shouldSeeSurveySummary", "updateResponse"]) {
    const r = await k("p", command, command === "updateResponse" ? [{}] : [], RESPOND);
    assert.deepEqual(JSON.parse(r.failure[0]), { ec: 400, em: "only the conversation's members may see this form" }, command);
  }
  const down = formsHost({ fail: { status: 503, message: "store unavailable" } });
  assert.equal(JSON.parse((await down.k("p", "getSurveyJson", [], RESPOND)).failure[0]).ec, 100);
  // Outside a conversation there is no form.
  const out = await formsHost().k("p", "getSurveyJson", [], {});
  assert.equal(JSON.parse(out.failure[0]).ec, 400);
});

test("form commands act on the context the frame was attached with, never the message's", async () => {
  const { k, calls } = formsHost();
  const host = eventTarget({});
  const frame = postTarget({});
  const bridge = createHostBridge({ window: host, mint: async () => ({ token: "t" }), kaizala: k });
  bridge.attach(frame, "com.example.poll", CARDS_ORIGIN, RESPOND);
  host.dispatchMessage({ source: frame, origin: CARDS_ORIGIN,
    data: { ...golden("kaizala-request.json"), command: "getSurveyJson", args: [], formId: "f-other", conversationId: "c-other", context: CREATE } });
  await tick();
  await tick();
  assert.deepEqual(calls, [["state", "com.example.poll", RESPOND]]);
  assert.equal(JSON.parse(frame.posted[0].data.result[0]).id, "f-1");
});

test("the frame page runs getSurveySummaryWithNotify's two named callbacks in the card", async () => {
  const { window, host, card } = framePage();
  const ran = [];
  card.KASClient = { executeFunction: (name, list) => ran.push([name, list]) };
  window.excecuteCommand("getSurveySummaryWithNotify", ["KASClient.onGetDoubleJson12", "KASClient.onGetDoubleJson13", "alert(1)"], null, null);
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: { cardgate: 2, id: host.posted[0].data.id, result: ["{}", "{\"x\":1}"] } });
  await tick();
  await tick();
  assert.deepEqual(JSON.parse(JSON.stringify(ran)), [["KASClient.onGetDoubleJson12", ["{}", "{\"x\":1}"]], ["KASClient.onGetDoubleJson13", ["{}", "{\"x\":1}"]]]);
  ran.length = 0;
  window.excecuteCommand("getSurveySummaryWithNotify", ["KASClient.onGetDoubleJson14", null], null, null);
  window.dispatchMessage({ source: host, origin: HOST_ORIGIN, data: { cardgate: 2, id: host.posted[1].data.id, failure: ['{"ec":400,"em":"no"}'] } });
  await tick();
  await tick();
  assert.deepEqual(JSON.parse(JSON.stringify(ran)), [["KASClient.onGetDoubleJson14", [null, null, '{"ec":400,"em":"no"}']]]);
});

// KASClient.Form.closeForm sends closeCard: on a sent form the host closes
// the form (the creator only, which the server decides), then the card.
test("closeCard on a sent form closes the form, then the card", async () => {
  const SUMMARY = { conversationId: "c-team", formId: "f-1", view: "ResponseResultsView" };
  const { k, calls } = formsHost();
  assert.deepEqual(await k("p", "closeCard", [], SUMMARY), { result: [] });
  assert.deepEqual(calls, [["close", "p", SUMMARY], ["ui.sent", "p", SUMMARY, "close"], ["ui.dismiss", "p"]]);
  // dismissScreen only closes the card.
  calls.length = 0;
  assert.deepEqual(await k("p", "dismissScreen", [], SUMMARY), { result: [] });
  assert.deepEqual(calls, [["ui.dismiss", "p"]]);
});

test("closeCard outside a sent form only closes the card", async () => {
  const { k, calls } = formsHost();
  for (const ctx of [CREATE, {}, undefined]) {
    calls.length = 0;
    assert.deepEqual(await k("p", "closeCard", [], ctx), { result: [] });
    assert.deepEqual(calls, [["ui.dismiss", "p"]], JSON.stringify(ctx));
  }
  // A host without form calls dismisses as before.
  const { k: plain, calls: uiCalls } = kaizalaHost();
  assert.deepEqual(await plain("p", "closeCard", [], RESPOND), { result: [] });
  assert.deepEqual(uiCalls, [["dismiss", "p"]]);
});

test("closeCard refused by the host answers Kaizala's error and keeps the card open", async () => {
  const { k, calls } = formsHost({ fail: { status: 403, message: "only the form's creator may close it" } });
  const r = await k("p", "closeCard", [], RESPOND);
  assert.deepEqual(JSON.parse(r.failure[0]), { ec: 400, em: "only the form's creator may close it" });
  assert.deepEqual(calls, [["close", "p", RESPOND]], "not dismissed");
  const down = formsHost({ fail: { status: 503, message: "store unavailable" } });
  assert.equal(JSON.parse((await down.k("p", "closeCard", [], RESPOND)).failure[0]).ec, 100);
});

test("closeCard acts on the frame's form, never the message's", async () => {
  const { k, calls } = formsHost();
  const host = eventTarget({});
  const frame = postTarget({});
  const bridge = createHostBridge({ window: host, mint: async () => ({ token: "t" }), kaizala: k });
  bridge.attach(frame, "com.example.poll", CARDS_ORIGIN, RESPOND);
  host.dispatchMessage({ source: frame, origin: CARDS_ORIGIN,
    data: { ...golden("kaizala-request.json"), command: "closeCard", args: ["f-other"], formId: "f-other", context: { conversationId: "c-other", formId: "f-other" } } });
  await tick();
  await tick();
  assert.deepEqual(calls[0], ["close", "com.example.poll", RESPOND]);
  assert.deepEqual(frame.posted[0].data.result, []);
});
