// Live "Top content / Trending" box: the server pushes the ranking over
// Server-Sent Events (/live/trending) whenever it changes. Without
// JavaScript the box rendered with the page stays as it is.
(function () {
  "use strict";
  function start() {
    var box = document.querySelector("aside.trending");
    var list = document.getElementById("trending-list");
    if (!box || !list || !window.EventSource) return;
    var source = new EventSource(box.getAttribute("data-live"));
    source.addEventListener("trending", function (event) {
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
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
