// cardgate Kaizala commands: what the card host answers to Kaizala's SDK
// (KASClient.js) in a card, relayed by the card's frame page. Each handler
// gets the package of the frame that asked (the host bridge's attach, never
// the message) and the command's arguments, and returns the arguments of
// Kaizala's success callback, {result: [...]}, or of its error callback,
// {failure: [...]}. Results are strings, as Kaizala's native clients gave
// them. docs/kaizala.md lists every command and what it does here.
(function () {
  "use strict";

  // What getClientSupportedSDKVersion answers: above every version
  // KASClient.js checks a command against, so that it shows no
  // "incompatible client" screen; commands this host lacks answer 999.
  const SDK_VERSION = "9999";

  const kerr = (ec, em) => ({ failure: [JSON.stringify({ ec, em })] });
  const unsupported = (command) => kerr(999, `${command} is not supported by this client`);
  const ok = (...values) => ({ result: values });
  const json = (v) => ok(JSON.stringify(v));

  function initials(name) {
    return String(name || "")
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0].toUpperCase())
      .join("");
  }

  // A KASUser (KASClient/KASUser.md) for a cardgate user.
  function kasUser(u, current) {
    return {
      id: u.id,
      name: current ? "You" : u.name,
      originalName: u.name,
      pictureUrl: "",
      phoneNumber: u.phoneNumber || "",
      pictureBGColor: "#6264a7",
      pictureInitials: initials(u.name),
    };
  }

  // The answer a KASFormReaction reads: no likes or comments here.
  const NO_REACTIONS = { shouldShowLikesAndComments: false, likesCount: 0, commentsCount: 0, didILike: false, hideComments: true };

  // formError is Kaizala's error string for a failed call to the host's
  // API: 400 ("Wrong Operation", Kaizala's invalid-operation code) for
  // what the user may not do or what does not exist for this card (403,
  // 404) and for bad input (400, 409), 100 when the host cannot be reached
  // or fails (5xx), 300 otherwise. The message says why.
  function formError(err) {
    const status = err && err.status;
    const em = String((err && err.message) || err);
    if (status === 403 || status === 404 || status === 400 || status === 409 || status === 413) return kerr(400, em);
    if (status === undefined || status >= 500) return kerr(100, em);
    return kerr(300, em);
  }

  // options: mint(packageId, context) -> {token}; user() -> the signed-in
  // user {id, name, phoneNumber}; strings(packageId, locale) -> the
  // package's strings object; locale() -> e.g. "en"; conversation(context)
  // -> {title, members: [{id, name, phoneNumber}]} of the conversation the
  // card is open in, or null; forms: the host's form calls (below); ui:
  // {alert(text, packageId), progress(shown, packageId), dismiss(packageId),
  // openUrl(url, packageId), logError(text, packageId), sent(packageId,
  // context, what: "form", "response" or "close"), open(packageId,
  // context, view)}.
  //
  // context is what the host opened the card's frame for (host-bridge.js's
  // attach): {conversationId, formId, responseId, view}. Every form
  // command acts on it, never on anything in its arguments.
  //
  // forms: draft(pkg, ctx) -> KASForm JSON object; create(pkg, ctx,
  // formJSONText, response) -> {form, response}; state(pkg, ctx) -> {form,
  // active, canRespond, canSeeResults}; responses(pkg, ctx) -> [KASFormResponse
  // JSON]; respond(pkg, ctx, {answers, responseId, isEdit, isAnonymous});
  // summary(pkg, ctx) -> {flat, processed, aggregated}; close(pkg, ctx) ->
  // the closed form's state, as state gives it. A failure is an Error with
  // the API's status.
  function createKaizalaHost({ mint, user, strings, locale = () => "en", conversation = async () => null, forms = null, ui = {} } = {}) {
    const call = (name, ...a) => (typeof ui[name] === "function" ? ui[name](...a) : undefined);
    const str = (args, i) => (Array.isArray(args) && typeof args[i] === "string" ? args[i] : "");
    const arg = (args, i) => (Array.isArray(args) ? args[i] : undefined);

    // form runs a form command: unsupported without the host's form calls,
    // refused outside a conversation, Kaizala's error on failure.
    function form(command, fn) {
      return async (pkg, args, ctx) => {
        if (!forms) return unsupported(command);
        if (!ctx || !ctx.conversationId) return kerr(400, `${command}: this card is not open in a conversation, so it has no form`);
        try {
          return await fn(pkg, args, ctx);
        } catch (err) {
          return formError(err);
        }
      };
    }
    // onForm is form for commands about a sent form (not a CreationView).
    const onForm = (command, fn) =>
      form(command, (pkg, args, ctx) => (ctx.formId ? fn(pkg, args, ctx) : kerr(400, `${command}: this card has not been sent yet, so it has no responses`)));

    const dismissAfter = (pkg, ctx, args, i, what) => {
      call("sent", pkg, ctx, what);
      if (arg(args, i) !== false) call("dismiss", pkg);
      return ok();
    };

    const commands = {
      getClientSupportedSDKVersion: () => ok(SDK_VERSION),
      getAppInfo: () => json({ locale: locale(), platform: "web", client: "cardgate" }),
      getCurrentUserId: () => ok(user().id),
      // The signed-in user and the members of the card's conversation;
      // other IDs are left out of the map.
      getUserDetails: async (pkg, args, ctx) => {
        const me = user();
        const c = await conversation(ctx).catch(() => null);
        const known = new Map([[me.id, me]]);
        for (const m of (c && c.members) || []) if (!known.has(m.id)) known.set(m.id, m);
        const out = {};
        for (const id of Array.isArray(args) ? args : []) {
          if (typeof id === "string" && known.has(id)) out[id] = JSON.stringify(kasUser(known.get(id), id === me.id));
        }
        return json(out);
      },
      // Outside a conversation a card opens in the user's own space, named
      // as the host names it.
      getConversationName: async (pkg, args, ctx) => {
        const c = await conversation(ctx).catch(() => null);
        return ok(c ? c.title : "Cards");
      },
      getConversationParticipantsCount: async (pkg, args, ctx) => {
        const c = await conversation(ctx).catch(() => null);
        return ok(String(c ? c.members.length : 1));
      },
      getLocalizedMiniAppStrings: async (pkg) => json(await strings(pkg, locale())),
      getLocalizedStrings: async (pkg) => json(await strings(pkg, locale())),
      getPackageProperties: () => json({}),
      getPackageCustomSettings: () => json({}),
      getIntegerationServiceToken: async (pkg, args, ctx) => {
        try {
          const r = await mint(pkg, ctx);
          return ok(r.token);
        } catch (err) {
          return kerr(100, String((err && err.message) || err));
        }
      },
      dismissScreen: (pkg) => (call("dismiss", pkg), ok()),
      // closeCard is KASClient.Form.closeForm: on a sent form, the form's
      // creator closes it to responses (the host refuses anyone else), then
      // the card closes; a refusal keeps the card open and answers
      // Kaizala's error. Elsewhere (a CreationView) it only closes the card.
      closeCard: async (pkg, args, ctx) => {
        if (forms && ctx && ctx.conversationId && ctx.formId) {
          try {
            await forms.close(pkg, ctx);
          } catch (err) {
            return formError(err);
          }
          call("sent", pkg, ctx, "close");
        }
        call("dismiss", pkg);
        return ok();
      },
      showProgressBar: (pkg) => (call("progress", true, pkg), ok()),
      hideProgressBar: (pkg) => (call("progress", false, pkg), ok()),
      showAlert: (pkg, args) => (call("alert", str(args, 0), pkg), ok()),
      logError: (pkg, args) => (call("logError", str(args, 0), pkg), ok()),
      logToReport: (pkg, args) => (call("logError", str(args, 0), pkg), ok()),
      screenChanged: () => ok(),
      customizeNativeToolbar: () => ok(),
      isTalkBackEnabled: () => ok("false"),
      getFontSizeMultiplier: () => ok("1"),
      generateUUID: () => ok(crypto.randomUUID()),
      openUrl: (pkg, args) => openUrl(pkg, str(args, 0)),

      // ---- forms (docs/kaizala.md) ----
      // The form: in a CreationView the package's AppModel.json, else the
      // form the card was opened for.
      getSurveyJson: form("getSurveyJson", async (pkg, args, ctx) =>
        json(ctx.formId ? (await forms.state(pkg, ctx)).form : await forms.draft(pkg, ctx)),
      ),
      // KASClient reads 0 as active; a form not yet sent is.
      getPollStatus: form("getPollStatus", async (pkg, args, ctx) => ok(!ctx.formId || (await forms.state(pkg, ctx)).active ? "0" : "1")),
      canRespondToSurvey: form("canRespondToSurvey", async (pkg, args, ctx) =>
        ok(String(!ctx.formId || (await forms.state(pkg, ctx)).canRespond)),
      ),
      shouldSeeSurveySummary: onForm("shouldSeeSurveySummary", async (pkg, args, ctx) =>
        ok(String((await forms.state(pkg, ctx)).canSeeResults)),
      ),
      // The user's own responses; on a response's own card, that response.
      getResponses: form("getResponses", async (pkg, args, ctx) => json(ctx.formId ? await forms.responses(pkg, ctx) : [])),
      getSurveySummaryJson: onForm("getSurveySummaryJson", async (pkg, args, ctx) => json((await forms.summary(pkg, ctx)).flat)),
      getSurveyResultJson: onForm("getSurveyResultJson", async (pkg, args, ctx) => json((await forms.summary(pkg, ctx)).processed)),
      getSurveyAggregatedSummaryJson: onForm("getSurveyAggregatedSummaryJson", async (pkg, args, ctx) =>
        json((await forms.summary(pkg, ctx)).aggregated),
      ),
      // Both of KASClient's callbacks (named in args) get the flat and the
      // processed summary: the frame page calls them (web-client.js).
      getSurveySummaryWithNotify: onForm("getSurveySummaryWithNotify", async (pkg, args, ctx) => {
        const s = await forms.summary(pkg, ctx);
        return ok(JSON.stringify(s.flat), JSON.stringify(s.processed));
      }),
      // createRequest(formJSONText, payload, shouldInflate, shouldDismiss):
      // the form, sent to the conversation from a CreationView.
      createRequest: form("createRequest", async (pkg, args, ctx) => {
        if (ctx.formId) return kerr(400, "createRequest: this card was sent already");
        const text = arg(args, 0);
        if (text != null && typeof text !== "string") return kerr(400, "createRequest: the form must be JSON text");
        await forms.create(pkg, ctx, text || "", null);
        return dismissAfter(pkg, ctx, args, 3, "form");
      }),
      // updateResponse(questionToAnswerMap, responseId, isEdit,
      // showInChatCanvas, isAnonymous, shouldDismiss): a response to the
      // form, or, from the CreationView of a card that only responds
      // (Kaizala's Response sample), the form with the creator's response.
      updateResponse: form("updateResponse", async (pkg, args, ctx) => {
        let answers = arg(args, 0);
        if (typeof answers === "string") answers = JSON.parse(answers);
        if (answers === null || typeof answers !== "object" || Array.isArray(answers)) {
          return kerr(400, "updateResponse: questionToAnswerMap must be an object");
        }
        const responseId = typeof arg(args, 1) === "string" ? arg(args, 1) : "";
        const r = { answers, responseId, isEdit: arg(args, 2) === true, isAnonymous: arg(args, 4) === true };
        if (ctx.formId) await forms.respond(pkg, ctx, r);
        else await forms.create(pkg, ctx, "", r);
        return dismissAfter(pkg, ctx, args, 5, "response");
      }),
      // No likes or comments: the card hides them.
      getLikesAndCommentsData: onForm("getLikesAndCommentsData", async () => json(NO_REACTIONS)),
      // The form's response view, opened by the host.
      respondToSurvey: onForm("respondToSurvey", async (pkg, args, ctx) =>
        call("open", pkg, ctx, "response") === false ? kerr(400, "respondToSurvey: you cannot respond to this form") : ok(),
      ),
    };
    function openUrl(pkg, raw) {
      let u;
      try {
        u = new URL(raw);
      } catch {
        return kerr(400, "openUrl: not a URL");
      }
      if (u.protocol !== "https:" && u.protocol !== "http:") return kerr(400, "openUrl: only http and https URLs open");
      return call("openUrl", u.href, pkg) === false ? kerr(400, "openUrl: the user declined") : ok();
    }

    return async function kaizala(packageId, command, args, context = {}) {
      const h = Object.prototype.hasOwnProperty.call(commands, command) ? commands[command] : null;
      if (!h) return unsupported(command);
      return h(packageId, args, context || {});
    };
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { createKaizalaHost, SDK_VERSION };
  }
  if (typeof window !== "undefined") {
    window.cardgateKaizala = { createKaizalaHost };
  }
})();
