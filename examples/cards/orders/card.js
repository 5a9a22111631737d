// "Order products": the drop-down is filled with Contoso's products through
// cardgate's adapter, which adds Contoso's API key on the server; this card
// holds no secret, only the short-lived token the SDK gets from the host.
(function () {
  "use strict";
  const service = document.querySelector('meta[name="contoso-service"]').content;
  const $ = (id) => document.getElementById(id);
  let products = [];

  function show(text, kind) {
    $("status").textContent = text;
    $("status").className = "status " + (kind || "");
  }

  // explain turns an answer the adapter refused into words for people.
  async function explain(res) {
    let detail = "";
    try {
      detail = (await res.json()).error.message;
    } catch (_) {}
    switch (res.status) {
      case 401:
        return "Your sign-in for this card has ended. Close the card and open it again.";
      case 403:
        return "This card is not allowed to do that. Ask your administrator.";
      case 429:
        return "Too many requests just now. Wait a moment and try again.";
      default:
        return `Contoso could not do that right now (${res.status}${detail ? ": " + detail : ""}).`;
    }
  }

  async function load() {
    show("Loading products…");
    try {
      const res = await cardgate.fetch(service + "/products");
      if (!res.ok) return show(await explain(res), "error");
      products = (await res.json()).products;
      $("product").replaceChildren(
        ...products.map((p) => new Option(`${p.name} — $${p.price.toFixed(2)}`, p.sku)),
      );
      $("product").disabled = $("order").disabled = false;
      show(`${products.length} products from Contoso.`);
    } catch (err) {
      show(`Contoso cannot be reached: ${err.message}`, "error");
    }
  }

  $("order-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const sku = $("product").value;
    const quantity = Number($("quantity").value);
    $("order").disabled = true;
    try {
      const res = await cardgate.fetch(service + "/orders", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sku, quantity }),
      });
      if (!res.ok) return show(await explain(res), "error");
      const order = await res.json();
      const name = products.find((p) => p.sku === sku).name;
      show(`Order ${order.id} placed: ${order.quantity} × ${name}.`, "ok");
    } catch (err) {
      show(`Contoso cannot be reached: ${err.message}`, "error");
    } finally {
      $("order").disabled = false;
    }
  });

  load();
})();
