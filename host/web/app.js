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

  // A token for the card's package, in the conversation it is open in:
  // the server mints only for a member.
  const mint = (packageId, ctx) =>
    api("POST", "/host/api/tokens", { actionPackageId: packageId, ...(ctx && ctx.conversationId ? { conversationId: ctx.conversationId } : {}) });
  let me = null; // the signed-in user and their cards, from /host/api/me
  let conv = null; // the open conversation, from /host/api/conversations/<id>

  let toastTimer = 0;
  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 5000);
  }

  // The host's form calls, for the context a card's frame was attached
  // with (never anything the card says); the server checks each against
  // the session's user.
  const enc = encodeURIComponent;
  const formPath = (pkg, ctx, tail = "") => `/host/api/forms/${enc(ctx.formId)}${tail}?package=${enc(pkg)}`;
  const forms = {
    draft: async (pkg, ctx) => (await api("GET", `/host/api/conversations/${enc(ctx.conversationId)}/cards/${enc(pkg)}/draft`)).form,
    create: (pkg, ctx, form, response) =>
      api("POST", `/host/api/conversations/${enc(ctx.conversationId)}/forms`, { packageId: pkg, form, ...(response ? { response } : {}) }),
    state: (pkg, ctx) => api("GET", formPath(pkg, ctx)),
    responses: async (pkg, ctx) =>
      (await api("GET", formPath(pkg, ctx, "/responses") + (ctx.responseId ? `&response=${enc(ctx.responseId)}` : ""))).responses,
    respond: (pkg, ctx, r) => api("POST", formPath(pkg, ctx, "/responses"), r),
    summary: (pkg, ctx) => api("GET", formPath(pkg, ctx, "/summary")),
    close: (pkg, ctx) => api("POST", formPath(pkg, ctx, "/close"), {}),
  };
  // The conversation a card is open in, as the page last loaded it.
  const conversationOf = async (ctx) =>
    conv && ctx && ctx.conversationId === conv.conversation.id ? { title: conv.conversation.title, members: conv.members } : null;

  // Kaizala's commands (kaizala-host.js) act on the card that asked, if it
  // is still the open one.
  const isOpen = (packageId) => open && open.packageId === packageId;
  const kaizala = window.cardgateKaizala.createKaizalaHost({
    mint,
    forms,
    conversation: conversationOf,
    user: () => me.user,
    locale: () => navigator.language || "en",
    strings: (packageId, locale) =>
      api("GET", `/host/api/cards/${encodeURIComponent(packageId)}/strings?locale=${encodeURIComponent(locale)}`),
    ui: {
      alert: (text, packageId) => isOpen(packageId) && toast(text),
      logError: (text, packageId) => console.warn(`card ${packageId}:`, text),
      progress: (shown, packageId) => isOpen(packageId) && (open.progress.hidden = !shown),
      dismiss: (packageId) => isOpen(packageId) && closeCard(),
      // A form or response was sent: the conversation shows it.
      sent: (packageId, ctx) => ctx && conv && ctx.conversationId === conv.conversation.id && loadConversation(conv.conversation.id),
      open: (packageId, ctx, view) => {
        const f = conv && conv.forms.find((x) => x.id === ctx.formId);
        if (!f || !f.views[view]) return false;
        openCard(f.card, { conversationId: ctx.conversationId, formId: f.id, view }, f.views[view]);
        return true;
      },
      // A new tab, after the person has read where it goes.
      openUrl: (url, packageId) => {
        if (!isOpen(packageId) || !window.confirm(`The card wants to open ${url} in a new tab. Open it?`)) return false;
        window.open(url, "_blank", "noopener,noreferrer");
        return true;
      },
    },
  });

  // Each card is attached with its own origin (see openCard).
  // createRequest, updateResponse and closeCard (closeForm) have no
  // callback to fail: the host says why instead.
  const kaizalaWithNotice = async (pkg, command, args, ctx) => {
    const r = await kaizala(pkg, command, args, ctx);
    if ((command === "createRequest" || command === "updateResponse" || command === "closeCard") && r && r.failure && isOpen(pkg)) {
      try {
        toast(JSON.parse(r.failure[0]).em);
      } catch {
        toast("The card could not be sent.");
      }
    }
    return r;
  };
  const bridge = window.cardgateHost.createHostBridge({
    window,
    mint,
    kaizala: kaizalaWithNotice,
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
    if (events) events.close();
    events = null;
    conv = null;
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
    // The conversation first: a card opens in it.
    try {
      await loadConversations();
    } catch (err) {
      toast(sentence(err));
    }
    listen();
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
    // Last: the page is ready once it names the user.
    $("me-avatar").textContent = initials(me.user.name);
    $("me-name").textContent = me.user.name;
    $("me-phone").textContent = me.user.phoneNumber;
  }

  // ---- conversations ----

  async function loadConversations() {
    const { conversations } = await api("GET", "/host/api/conversations");
    $("conversation-list").replaceChildren(
      ...conversations.map((c) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "conversation-link";
        b.dataset.conversationId = c.id;
        b.append(avatar(c.title), label(c.title, `${c.members} members`));
        b.addEventListener("click", () => {
          closeCard();
          loadConversation(c.id);
        });
        const li = document.createElement("li");
        li.append(b);
        return li;
      }),
    );
    if (conversations.length === 0) $("conversation-list").textContent = "You are in no conversation yet.";
    if (!conv && conversations.length > 0) await loadConversation(conversations[0].id);
  }

  // loadConversation shows a conversation's cards, oldest first; the open
  // card stays open.
  async function loadConversation(id) {
    let c;
    try {
      c = await api("GET", `/host/api/conversations/${enc(id)}`);
    } catch (err) {
      toast(sentence(err));
      return;
    }
    conv = c;
    $("conversation-title").textContent = c.conversation.title;
    $("conversation-subtitle").textContent = c.members.map((m) => (m.id === me.user.id ? "You" : m.name)).join(", ");
    $("conversation-avatar").textContent = initials(c.conversation.title);
    for (const b of document.querySelectorAll(".conversation-link")) b.classList.toggle("active", b.dataset.conversationId === id);
    const list = $("form-list");
    list.replaceChildren(...c.forms.flatMap((f) => [formCard(f), ...(f.responses || []).map((r) => responseCard(f, r))]));
    $("empty").hidden = c.forms.length > 0 || open !== null;
  }

  const when = (t) => new Date(t).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

  function button(text, cls, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  // formCard is a form's native card, as its package's ChatCanvasCardView
  // settings describe it.
  function formCard(f) {
    const el = document.createElement("article");
    el.className = "form-card";
    el.dataset.formId = f.id;
    el.dataset.packageId = f.packageId;
    const v = f.cardView;
    const head = document.createElement("header");
    head.append(f.card ? cardIcon(f.card) : avatar(f.title), label(f.title, `${f.creatorName} · ${f.card ? f.card.displayName : f.packageId} · ${when(f.createdAt)}`));
    if (v.showHeader !== false) el.append(head);
    const facts = document.createElement("p");
    facts.className = "form-facts";
    const parts = [];
    if (v.showResponseCount !== false && f.responseCount !== null) parts.push(`${f.responseCount} ${f.responseCount === 1 ? "response" : "responses"}`);
    if (f.myResponses > 0) parts.push(v.labelResponded || "You responded");
    if (v.showExpiry !== false && f.expiry) parts.push(f.expired ? v.labelExpiryMsg || "Expired" : `Open until ${when(f.expiry)}`);
    facts.textContent = parts.join(" · ");
    el.append(facts);
    const actions = document.createElement("footer");
    const ctx = (view) => ({ conversationId: conv.conversation.id, formId: f.id, view });
    if (f.card && f.views.response) {
      const text = f.myResponses > 0 ? v.labelUpdateResponse || v.labelAnotherResponse || "Respond again" : v.labelRespondToForm || "Respond";
      actions.append(button(text, "respond", () => openCard(f.card, ctx("ResponseView"), f.views.response)));
    }
    if (f.card && f.views.results) actions.append(button("Results", "results", () => openCard(f.card, ctx("ResponseResultsView"), f.views.results)));
    if (v.showFooter !== false && actions.childElementCount > 0) el.append(actions);
    return el;
  }

  // responseCard is a response of a card that responds from its
  // CreationView: a message of its own, as Kaizala showed them.
  function responseCard(f, r) {
    const el = document.createElement("article");
    el.className = "form-card response-card";
    el.dataset.formId = f.id;
    el.dataset.responseId = r.id;
    const head = document.createElement("header");
    // mine is the server's word: an anonymous response carries no user
    // ID, and a name may be shared.
    const who = r.mine ? (r.anonymous ? "You responded anonymously" : "You responded") : `${r.userName} responded`;
    head.append(avatar(r.userName), label(who, `${f.title} · ${when(r.sentAt)}`));
    el.append(head);
    if (f.card && f.views.results) {
      const actions = document.createElement("footer");
      actions.append(
        button("View", "results", () =>
          openCard(f.card, { conversationId: conv.conversation.id, formId: f.id, responseId: r.id, view: "ResponseResultsView" }, f.views.results),
        ),
      );
      el.append(actions);
    }
    return el;
  }

  // listen follows the user's live updates (server-sent events): a card
  // sent or a response in the open conversation reloads it. An event only
  // names what changed; the page reads it through the API.
  let events = null;
  let reloadTimer = 0;
  function listen() {
    if (events) events.close();
    events = new EventSource("/host/api/events");
    const onUpdate = (ev) => {
      let d;
      try {
        d = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!conv || d.conversationId !== conv.conversation.id) return;
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(() => loadConversation(conv.conversation.id), 50);
    };
    events.addEventListener("form", onUpdate);
    events.addEventListener("response", onUpdate);
  }

  let open = null; // {frame, message, progress, packageId, context}

  function closeCard() {
    if (!open) return;
    bridge.detach(open.frame.contentWindow);
    open.message.remove();
    open = null;
    $("empty").hidden = !!(conv && conv.forms.length > 0);
    for (const b of document.querySelectorAll(".card-link")) b.classList.remove("active");
  }

  // openCard shows a card as a message in the conversation, opened for
  // context ({conversationId, formId, responseId, view}; in the open
  // conversation's CreationView by default) at the frame page url. The
  // bridge answers the frame for that package and context only. The frame
  // is sandboxed: scripts and forms, on its own (cards) origin, and no
  // navigating the host, popups or downloads.
  function openCard(c, context, url = c.url) {
    closeCard();
    if (!context) context = conv ? { conversationId: conv.conversation.id, view: "CreationView" } : {};
    const msg = document.createElement("article");
    msg.className = "message-card";
    msg.dataset.packageId = c.id;
    msg.dataset.view = context.view || "CreationView";
    if (context.formId) msg.dataset.formId = context.formId;
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
    bridge.attach(frame.contentWindow, c.id, c.origin, context);
    frame.src = url;
    open = { frame, message: msg, progress, packageId: c.id, context };
    for (const b of document.querySelectorAll(".card-link")) {
      b.classList.toggle("active", b.dataset.packageId === c.id);
    }
  }

  start();
})();
