/* tel call tracking snippet. Put on every page of the site:
 *   <script src="https://<your API host>/v1/tracking/snippet.js" data-site-key="trk_..." async></script>
 * and mark where the phone number is shown: <a data-tel-number href="tel:+15550001000">+1 555 000 1000</a>
 * The snippet gives the visit a number of the site's pool, shows it in every marked element
 * (text, and href for links), keeps the number while the page is open, and remembers the session
 * in localStorage so that the next pages show the same number. Without it, the page keeps the
 * number it was written with. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var siteKey = script.getAttribute("data-site-key");
  if (!siteKey) return;
  var api = new URL(script.src).origin + "/v1/tracking/visits";
  var storageKey = "tel_tracking_" + siteKey;
  var clickIds = ["gclid", "gbraid", "wbraid", "fbclid", "yclid", "msclkid", "ttclid"];

  function remembered() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { return null; }
  }
  function remember(session) {
    try { window.localStorage.setItem(storageKey, JSON.stringify(session)); } catch (e) { /* private mode */ }
  }

  // The visit's source: the landing page's utm parameters and click ids, and the referrer when
  // it is another site. Sent only when a session starts.
  function source() {
    var params = new URLSearchParams(window.location.search);
    var body = { landing_page: window.location.href.slice(0, 2048) };
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (name) {
      var value = params.get(name);
      if (value) body[name] = value.slice(0, 256);
    });
    var clicks = {};
    clickIds.forEach(function (name) {
      var value = params.get(name);
      if (value) clicks[name] = value.slice(0, 256);
    });
    if (Object.keys(clicks).length) body.click_ids = clicks;
    if (document.referrer && new URL(document.referrer).host !== window.location.host) {
      body.referrer = document.referrer.slice(0, 2048);
    }
    return body;
  }

  function show(number) {
    if (!number) return;
    var nodes = document.querySelectorAll("[data-tel-number]");
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = number;
      if (nodes[i].tagName === "A") nodes[i].setAttribute("href", "tel:" + number);
    }
  }

  var timer = null;
  function visit() {
    var session = remembered();
    var body = session && session.id ? { session_id: session.id } : source();
    body.site_key = siteKey;
    fetch(api, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (reply) {
        if (!reply) return;
        remember({ id: reply.session_id, number: reply.number });
        show(reply.number);
        // Renew well within the hold period while the page stays open.
        clearTimeout(timer);
        var every = Math.max(30, Math.min(60, (reply.hold_seconds || 120) / 2)) * 1000;
        timer = setTimeout(function renew() {
          if (document.visibilityState === "visible") visit();
          else timer = setTimeout(renew, every);
        }, every);
      })
      .catch(function () { /* the page keeps its own number */ });
  }

  var known = remembered();
  if (known && known.number) show(known.number);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", visit);
  else visit();
})();
