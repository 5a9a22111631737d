// Minimal fake browser windows for the SDK tests.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const HOST_ORIGIN = "http://127.0.0.1:8080";
const CARDS_ORIGIN = "http://127.0.0.1:8082";
const SERVICE_ORIGIN = "http://127.0.0.1:8081";

function golden(name) {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "testdata", "wire", name), "utf8"));
}

// Event target whose listeners get {source, origin, data} message events.
function eventTarget(obj = {}) {
  const listeners = new Set();
  obj.addEventListener = (type, fn) => type === "message" && listeners.add(fn);
  obj.removeEventListener = (type, fn) => type === "message" && listeners.delete(fn);
  obj.listenerCount = () => listeners.size;
  obj.dispatchMessage = (event) => {
    // structuredClone mimics postMessage: the receiver never shares objects.
    const ev = { ...event, data: structuredClone(event.data) };
    for (const fn of [...listeners]) fn(ev);
  };
  return obj;
}

// A window that records what is posted to it.
function postTarget(obj = {}) {
  obj.posted = [];
  obj.onPost = null;
  obj.postMessage = (data, targetOrigin) => {
    const msg = { data: structuredClone(data), targetOrigin };
    obj.posted.push(msg);
    if (obj.onPost) obj.onPost(msg);
  };
  return obj;
}

// A card frame: win.parent is the host page. parent.onPost can answer.
function cardWindow({ ancestorOrigins, fetch, framed = true } = {}) {
  const win = eventTarget({
    location: { href: CARDS_ORIGIN + "/card/index.html", origin: CARDS_ORIGIN, ancestorOrigins },
    fetch: fetch || (() => Promise.reject(new Error("no fetch in this test"))),
  });
  win.parent = framed ? postTarget({}) : win;
  // Deliver a message as the host (by default) would, asynchronously.
  win.receive = (data, { source = win.parent, origin = HOST_ORIGIN } = {}) =>
    setImmediate(() => win.dispatchMessage({ source, origin, data }));
  return win;
}

// Makes the fake host answer every request with reply(requestData).
function autoHost(win, reply) {
  win.parent.onPost = ({ data }) => {
    const answer = reply(data);
    if (answer) win.receive(answer);
  };
}

function tokenReply(req, { token = "tok-1", expiresIn = 1800, externalUrls = [SERVICE_ORIGIN] } = {}) {
  return {
    cardgate: 1,
    id: req.id,
    result: { token, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString(), expiresIn, externalUrls },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

module.exports = { HOST_ORIGIN, CARDS_ORIGIN, SERVICE_ORIGIN, golden, eventTarget, postTarget, cardWindow, autoHost, tokenReply, tick };
