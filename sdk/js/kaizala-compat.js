// cardgate: a web-client path for Kaizala SDKs that predate it. The cards
// origin serves this right after a card page's own KASClient.js
// (cards/compat.go); the package's files stay as imported.
//
// Kaizala's 2017 mobile builds of KASClient.js (the one Microsoft's sample
// packages bundle among them) pick a native bridge from the user agent:
// iOS, Android, Windows, or the Action Designer; in a browser they find
// none and every command dies in console.assert("Unknwon platform"). Later
// builds added a web client: when window.parent has __WEB_CLIENT__, each
// command goes to window.parent.excecuteCommand and its answer to the
// SDK's callback by name (KASClient.executeFunction). This file gives an
// older SDK exactly that path, with the SDK's own version check in front,
// as the later SDK has it; the frame page (web-client.js) answers.
//
// On an SDK that has its own web-client path, outside cardgate's frame
// page, or on a page without KASClient.js, it does nothing.
(function () {
  "use strict";

  const K = window.KASClient;
  if (!K || typeof K.callNativeCommand !== "function" || typeof K.executeFunction !== "function") return;
  if (typeof K.isRenderedForWebClient === "function") return; // this SDK speaks to the web client itself

  let parentIsWebClient = false;
  try {
    parentIsWebClient =
      window.parent !== window &&
      Object.prototype.hasOwnProperty.call(window.parent, "__WEB_CLIENT__") &&
      typeof window.parent.excecuteCommand === "function";
  } catch (err) {
    // A parent on another origin: not cardgate's frame page.
  }
  if (!parentIsWebClient) return;

  // callback runs one of the SDK's callbacks, which it names by string.
  function callback(name, list) {
    if (!name) return;
    if (Array.isArray(list) && list.length > 0) K.executeFunction(name, list);
    else K.executeFunction(name);
  }

  function relay(command, args, onSuccess, onError) {
    window.parent.excecuteCommand(
      command,
      args,
      (result) => callback(onSuccess, result),
      (error) => callback(onError, error),
    );
  }

  K.isRenderedForWebClient = () => true;
  // The SDK's callNativeCommand, with the web client as its platform.
  K.callNativeCommand = function (command, args, onSuccess, onError, bypassVersionChecking) {
    if (args === undefined) args = null;
    if (bypassVersionChecking) {
      relay(command, args, onSuccess || null, onError || null);
      return;
    }
    K.Version.commandIsCompatible(command, (compatible) => {
      if (compatible) relay(command, args, onSuccess || null, onError || null);
      else if (!window.__NO_HTML__) K.UI.showIncompatibleScreen();
      else throw "VersionIncompatible";
    });
  };
})();
