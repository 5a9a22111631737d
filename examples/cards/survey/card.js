// "Survey" is written as a Kaizala card: KASClient's names and callbacks,
// as they were spelled there. It wants Contoso's product list, which the
// adapter reserves for the "Order products" card, so it gets 403 and says
// so in words.
(function () {
  "use strict";
  const service = document.querySelector('meta[name="contoso-service"]').content;
  const status = document.getElementById("status");

  function show(text, kind) {
    status.textContent = text;
    status.className = "status " + (kind || "");
    if (kind === "error") document.getElementById("product").replaceChildren(new Option("No products to rate"));
  }

  show("Loading products…");
  KASClient.App.getIntegerationServiceTokenAsync(function (token, error) {
    if (error) return show("This card could not sign in: " + error, "error");
    const params = JSON.stringify({
      method: "GET",
      requestResourcePath: "products",
      requestHeaders: { Authorization: "Bearer " + token },
    });
    KASClient.App.performHTTPRequest(service, params, function (response, error) {
      if (error) return show("Contoso cannot be reached: " + JSON.parse(error).HttpErrorMessage, "error");
      const res = JSON.parse(response);
      if (res.HttpResponseCode === 403) {
        return show("This survey card is not allowed to read Contoso's products, so there is nothing to rate yet. " +
          "Ask your administrator to allow it.", "error");
      }
      if (res.HttpResponseCode !== 200) return show("Contoso answered " + res.HttpResponseCode + ".", "error");
      const products = JSON.parse(res.HttpResponseBody).products;
      const select = document.getElementById("product");
      select.replaceChildren(...products.map((p) => new Option(p.name, p.sku)));
      select.disabled = document.getElementById("rating").disabled = false;
      show("");
    });
  });
})();
