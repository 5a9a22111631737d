// The card host's page: sign-in, the list of cards, and the conversation
// where one card at a time runs in a sandboxed frame. The bridge
// (host-bridge.js) answers the card's SDK; it knows the card's action
// package because this page opened the frame, and never asks the card.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const demo = meta("cardgate-demo") === "true";

  // api calls the host's JSON API. The JSON content type is what the
  // server's CSRF check asks for.
  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = (data && data.error) || {};
      const err = new Error(e.message || `the host answered ${res.status}`);
      err.code = e.code || "Internal";
      err.status = res.status;
      throw err;
    }
    return data;
  }

  const mint = (packageId) => api("POST", "/host/api/tokens", { actionPackageId: packageId });
  let me = null; // the signed-in user and their cards, from /host/api/me

  let toastTimer = 0;
  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 5000);
  }

  // Kaizala's commands (kaizala-host.js) act on the card that asked, if it
  // is still the open one.
  const isOpen = (packageId) => open && open.packageId === packageId;
  const kaizala = window.cardgateKaizala.createKaizalaHost({
    mint,
    user: () => me.user,
    locale: () => navigator.language || "en",
    strings: (packageId, locale) =>
      api("GET", `/host/api/cards/${encodeURIComponent(packageId)}/strings?locale=${encodeURIComponent(locale)}`),
    ui: {
      alert: (text, packageId) => isOpen(packageId) && toast(text),
      logError: (text, packageId) => console.warn(`card ${packageId}:`, text),
      progress: (shown, packageId) => isOpen(packageId) && (open.progress.hidden = !shown),
      dismiss: (packageId) => isOpen(packageId) && closeCard(),
      // A new tab, after the person has read where it goes.
      openUrl: (url, packageId) => {
        if (!isOpen(packageId) || !window.confirm(`The card wants to open ${url} in a new tab. Open it?`)) return false;
        window.open(url, "_blank", "noopener,noreferrer");
        return true;
      },
    },
  });

  // Each card is attached with its own origin (see openCard).
  const bridge = window.cardgateHost.createHostBridge({
    window,
    mint,
    kaizala,
    log: (...args) => console.warn("cardgate host:", ...args),
  });

  // ---- sign-in ----

  let phone = "";

  function say(text, isError) {
    const m = $("signin-message");
    m.textContent = text;
    m.classList.toggle("error", !!isError);
  }

  // sentence is what a person reads for an error. The API's messages start
  // with the field they are about ("phoneNumber: must be ..."), which means
  // nothing on this page: the fields a person fills in get a sentence of
  // their own, and a message about any other field is the page's fault,
  // not theirs.
  function sentence(err) {
    const m = /^([A-Za-z]+): /.exec(err.message || "");
    switch (m && m[1]) {
      case "phoneNumber":
        return "Enter the number in international form, like +14155550123.";
      case "code":
        return "Enter the 6-digit code from the text message.";
    }
    if (err.code === undefined) return "The page cannot reach the server. Check your connection and try again.";
    if (m || err.status >= 500) return "Something went wrong on our side. Try again in a moment.";
    const text = err.message.charAt(0).toUpperCase() + err.message.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  // e164 is the number as the server reads it: people type spaces, dashes,
  // dots and brackets.
  const e164 = (s) => s.replace(/[\s\-().]/g, "");

  function showSignIn() {
    $("chat").hidden = true;
    $("signin").hidden = false;
    $("phone-form").hidden = false;
    $("code-form").hidden = true;
    if (demo) loadDemoUsers();
    $("phone").focus();
  }

  $("phone-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    phone = $("phone").value.trim();
    try {
      const r = await api("POST", "/host/api/signin/code", { phoneNumber: phone });
      say(r.message);
      // Name the number the code went to, so that a typo shows.
      $("code-sent-to").textContent = e164(phone);
      $("phone-form").hidden = true;
      $("code-form").hidden = false;
      $("code").value = "";
      $("code").focus();
    } catch (err) {
      say(sentence(err), true);
    }
  });

  $("code-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/host/api/signin", { phoneNumber: phone, code: $("code").value.trim() });
      say("");
      start();
    } catch (err) {
      say(sentence(err), true);
    }
  });

  $("code-back").addEventListener("click", () => {
    say("");
    $("code-form").hidden = true;
    $("phone-form").hidden = false;
  });

  async function loadDemoUsers() {
    const list = $("demo-user-list");
    try {
      const { users } = await api("GET", "/host/api/demo/users");
      list.replaceChildren(
        ...users.map((u) => {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "demo-user";
          b.dataset.userId = u.id;
          b.append(avatar(u.name), label(u.name, u.phoneNumber));
          b.addEventListener("click", async () => {
            try {
              await api("POST", "/host/api/demo/signin", { userId: u.id });
              start();
            } catch (err) {
              say(sentence(err), true);
            }
          });
          const li = document.createElement("li");
          li.append(b);
          return li;
        }),
      );
      $("demo-users").hidden = users.length === 0;
    } catch (err) {
      say(sentence(err), true);
    }
  }

  $("signout").addEventListener("click", async () => {
    closeCard();
    try {
      await api("POST", "/host/api/signout", {});
    } finally {
      showSignIn();
    }
  });

  // ---- the chat ----

  function initials(name) {
    return name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0].toUpperCase())
      .join("");
  }

  function avatar(name) {
    const a = document.createElement("span");
    a.className = "avatar";
    a.textContent = initials(name);
    return a;
  }

  function cardIcon(c) {
    const icon = document.createElement("img");
    icon.className = "card-icon";
    icon.alt = "";
    if (c.iconUrl) icon.src = c.iconUrl;
    return icon;
  }

  function label(title, subtitle) {
    const s = document.createElement("span");
    s.className = "label";
    const t = document.createElement("span");
    t.className = "title";
    t.textContent = title;
    const d = document.createElement("span");
    d.className = "subtitle";
    d.textContent = subtitle;
    s.append(t, d);
    return s;
  }

  async function start() {
    try {
      me = await api("GET", "/host/api/me");
    } catch (err) {
      if (err.status === 401) return showSignIn();
      document.body.textContent = `The page cannot load: ${sentence(err)}`;
      return;
    }
    $("signin").hidden = true;
    $("chat").hidden = false;
    $("me-avatar").textContent = initials(me.user.name);
    $("me-name").textContent = me.user.name;
    $("me-phone").textContent = me.user.phoneNumber;
    $("card-list").replaceChildren(
      ...me.cards.map((c) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "card-link";
        b.dataset.packageId = c.id;
        b.append(cardIcon(c), label(c.displayName, c.description));
        b.addEventListener("click", () => openCard(c));
        const li = document.createElement("li");
        li.append(b);
        return li;
      }),
    );
    if (me.cards.length === 0) {
      $("card-list").textContent = "No cards are installed.";
    }
  }

  let open = null; // {frame, message, progress, packageId}

  function closeCard() {
    if (!open) return;
    bridge.detach(open.frame.contentWindow);
    open.message.remove();
    open = null;
    $("empty").hidden = false;
    for (const b of document.querySelectorAll(".card-link")) b.classList.remove("active");
  }

  // openCard shows a card as a message in the conversation. The frame is
  // sandboxed: scripts and forms, on its own (cards) origin, and no
  // navigating the host, popups or downloads.
  function openCard(c) {
    closeCard();
    const msg = document.createElement("article");
    msg.className = "message-card";
    msg.dataset.packageId = c.id;
    const head = document.createElement("header");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.title = "Close card";
    close.textContent = "×";
    close.addEventListener("click", closeCard);
    // Kaizala's hardware back button: the card's registered callback.
    const back = document.createElement("button");
    back.type = "button";
    back.className = "close back";
    back.title = "Back";
    back.textContent = "‹";
    back.addEventListener("click", () => bridge.event(frame.contentWindow, "hardwareBackPress"));
    head.append(back, cardIcon(c), label(c.displayName, `${c.providerName} · v${c.version}`), close);
    const progress = document.createElement("div");
    progress.className = "card-progress";
    progress.hidden = true;
    const frame = document.createElement("iframe");
    frame.className = "card-frame";
    frame.title = c.displayName;
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms");
    frame.setAttribute("referrerpolicy", "no-referrer");
    msg.append(head, progress, frame);
    $("empty").hidden = true;
    $("messages").append(msg);
    // Attach before the card loads, so its first request is answered.
    bridge.attach(frame.contentWindow, c.id, c.origin);
    frame.src = c.url;
    open = { frame, message: msg, progress, packageId: c.id };
    for (const b of document.querySelectorAll(".card-link")) {
      b.classList.toggle("active", b.dataset.packageId === c.id);
    }
  }

  start();
})();
