// Live "Top content / Trending" box: the server pushes the ranking over
// Server-Sent Events (/live/trending) whenever it changes. Without
// JavaScript the box rendered with the page stays as it is.
(function () {
  "use strict";
  var source = null;

  function render(box, list, event) {
    var entries;
    try { entries = JSON.parse(event.data); } catch (e) { return; }
    var items = [];
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = entry.url;
      a.textContent = entry.title;  // text, never markup
      li.appendChild(a);
      items.push(li);
    });
    list.replaceChildren.apply(list, items);
    box.hidden = items.length === 0;
    box.setAttribute("data-updated", String(Date.now()));
  }

  function open() {
    var box = document.querySelector("aside.trending");
    var list = document.getElementById("trending-list");
    if (!box || !list || !window.EventSource || source) return;
    source = new EventSource(box.getAttribute("data-live"));
    source.addEventListener("trending", function (event) { render(box, list, event); });
  }

  // A page left for another (or kept in the back/forward cache) gives its
  // stream back: browsers allow few connections per site, and the server
  // a bounded number of streams.
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
      source = null;
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) open();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", open);
  } else {
    open();
  }
})();
