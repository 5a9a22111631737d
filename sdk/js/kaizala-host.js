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

  // options: mint(packageId) -> {token}; user() -> the signed-in user
  // {id, name, phoneNumber}; strings(packageId, locale) -> the package's
  // strings object; locale() -> e.g. "en"; ui: {alert(text, packageId),
  // progress(shown, packageId), dismiss(packageId), openUrl(url, packageId),
  // logError(text, packageId)}.
  function createKaizalaHost({ mint, user, strings, locale = () => "en", ui = {} } = {}) {
    const call = (name, ...a) => (typeof ui[name] === "function" ? ui[name](...a) : undefined);
    const str = (args, i) => (Array.isArray(args) && typeof args[i] === "string" ? args[i] : "");

    const commands = {
      getClientSupportedSDKVersion: () => ok(SDK_VERSION),
      getAppInfo: () => json({ locale: locale(), platform: "web", client: "cardgate" }),
      getCurrentUserId: () => ok(user().id),
      // Only the signed-in user is known to a card until conversations
      // exist: other ids are left out of the map.
      getUserDetails: (pkg, args) => {
        const me = user();
        const out = {};
        for (const id of Array.isArray(args) ? args : []) if (id === me.id) out[id] = JSON.stringify(kasUser(me, true));
        return json(out);
      },
      // No conversations yet: a card opens in the signed-in user's own
      // space, named as the host names it.
      getConversationName: () => ok("Cards"),
      getConversationParticipantsCount: () => ok("1"),
      getLocalizedMiniAppStrings: async (pkg) => json(await strings(pkg, locale())),
      getLocalizedStrings: async (pkg) => json(await strings(pkg, locale())),
      getPackageProperties: () => json({}),
      getPackageCustomSettings: () => json({}),
      getIntegerationServiceToken: async (pkg) => {
        try {
          const r = await mint(pkg);
          return ok(r.token);
        } catch (err) {
          return kerr(100, String((err && err.message) || err));
        }
      },
      dismissScreen: (pkg) => (call("dismiss", pkg), ok()),
      closeCard: (pkg) => (call("dismiss", pkg), ok()),
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

    return async function kaizala(packageId, command, args) {
      const h = Object.prototype.hasOwnProperty.call(commands, command) ? commands[command] : null;
      if (!h) return unsupported(command);
      return h(packageId, args);
    };
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { createKaizalaHost, SDK_VERSION };
  }
  if (typeof window !== "undefined") {
    window.cardgateKaizala = { createKaizalaHost };
  }
})();
