// Views and engaged time of an article page. The page is cached, so the id
// of this page view is made here: the view beacon is loaded with it, and
// while the page is visible and its reader was active (scroll, key,
// pointer, touch) within the last few seconds, every second counts as
// engaged; every ping interval the engaged seconds since the previous ping
// go to the server with the page view's id. When the page is hidden or
// left, the seconds counted so far go in a last ping. Without JavaScript
// the <noscript> beacon counts the view, without engaged time.
(function () {
  "use strict";
  var IDLE_MS = 5000;       // active: an input within this long
  var MIN_GAP_MS = 10000;   // the trending service turns away closer pings
  var MAX_STEP_MS = 2000;   // a late timer (busy or frozen page) counts no more

  var el = document.getElementById("page-view");
  if (!el || !window.crypto || !window.crypto.getRandomValues) return;
  var interval = Number(el.getAttribute("data-ping-interval-ms")) || 15000;
  var minGap = Math.min(interval, MIN_GAP_MS);
  var pageView = "";
  var engagedMs = 0;        // engaged time not sent yet
  var lastPing = 0;
  var lastActive = 0;
  var lastCount = 0;
  // Visible since the last count (updated after counting on a change).
  var visible = document.visibilityState === "visible";

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  // Opening the page counts as an input.
  function startPageView() {
    pageView = newId();
    engagedMs = 0;
    lastPing = lastActive = lastCount = Date.now();
    el.setAttribute("data-page-view-id", pageView);
    new Image().src = el.getAttribute("data-beacon") + "?pv=" + pageView;
  }

  // Adds the time since the last count when the page was visible and its
  // reader active.
  function count(now) {
    var step = Math.min(now - lastCount, MAX_STEP_MS);
    lastCount = now;
    if (visible && now - lastActive <= IDLE_MS && step > 0) engagedMs += step;
  }

  // Sends the whole engaged seconds counted (the rest waits for the next
  // ping); none without any.
  function ping(now) {
    var seconds = Math.floor(engagedMs / 1000);
    if (seconds < 1) return;
    var url = el.getAttribute("data-engaged");
    var body = new URLSearchParams({ pv: pageView, s: String(seconds) });
    // sendBeacon outlives the page (pagehide); fetch with keepalive where
    // it is missing or refuses.
    var queued = navigator.sendBeacon && navigator.sendBeacon(url, body);
    if (!queued && window.fetch) {
      window.fetch(url, { method: "POST", body: body, keepalive: true, credentials: "same-origin" })
        .catch(function () {});
    }
    engagedMs -= seconds * 1000;
    lastPing = now;
  }

  function tick() {
    var now = Date.now();
    count(now);
    if (now - lastPing >= interval) ping(now);
  }

  // Hidden or left: what was counted goes now, unless a ping went out too
  // recently to be counted; then it waits for the next one (lost if the
  // page is closed meanwhile, at most minGap's worth).
  function flush() {
    var now = Date.now();
    count(now);
    if (now - lastPing >= minGap) ping(now);
  }

  function active() { lastActive = Date.now(); }

  ["scroll", "wheel", "keydown", "pointerdown", "pointermove", "touchstart"].forEach(function (type) {
    window.addEventListener(type, active, { capture: true, passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    count(Date.now());  // up to now, as it was
    visible = document.visibilityState === "visible";
    if (visible) {
      active();  // coming back to the tab is an input
    } else {
      flush();
    }
  });
  window.addEventListener("pagehide", flush);
  // Back to a page kept in the back/forward cache: a new page view.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) startPageView();
  });
  startPageView();
  window.setInterval(tick, 1000);
})();
