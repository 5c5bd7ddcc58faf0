// Live "Top content / Trending" box: the server pushes the ranking shown
// (Most read or Most engaged, the box's switch) over Server-Sent Events
// (/live/trending?metric=) whenever it changes. Without JavaScript the box
// rendered with the page stays as it is, its switch still works (CSS).
(function () {
  "use strict";
  var source = null;

  function render(box, list, metric, event) {
    var entries;
    try { entries = JSON.parse(event.data); } catch (e) { return; }
    var items = [];
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = entry.url;
      a.textContent = entry.title;  // text, never markup
      li.appendChild(a);
      if (entry.reading) {
        var reading = document.createElement("span");
        reading.className = "reading-now";
        reading.textContent = entry.reading;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(reading);
      }
      items.push(li);
    });
    list.replaceChildren.apply(list, items);
    // The box shows once anything was read.
    if (metric === "read") box.hidden = items.length === 0;
    box.setAttribute("data-updated", String(Date.now()));
  }

  function open() {
    var box = document.querySelector("aside.trending");
    if (!box || !window.EventSource || source) return;
    var checked = box.querySelector("input[name='trending-metric']:checked");
    var metric = checked ? checked.value : "read";
    var list = box.querySelector("ol[data-metric='" + metric + "']");
    if (!list) return;
    source = new EventSource(box.getAttribute("data-live") + "?metric=" + metric);
    source.addEventListener("trending", function (event) { render(box, list, metric, event); });
  }

  function close() {
    if (source) {
      source.close();
      source = null;
    }
  }

  // The switch: one stream, for the ranking shown.
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "trending-metric") {
      close();
      open();
    }
  });
  // A page left for another (or kept in the back/forward cache) gives its
  // stream back: browsers allow few connections per site, and the server
  // a bounded number of streams.
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) open();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", open);
  } else {
    open();
  }
})();
