// The staffing page kept live: the event stream (/api/v1/events; after a drop EventSource
// reconnects by itself with Last-Event-ID, and the server first sends what was missed) says
// an unfilled shift was announced, surge mode changed or a swap moved on; the page fetches
// itself again and swaps in the regions (#unfilled, #surge, #notices, #swaps for shift
// leads; a call taker's page names its own in data-kinds and data-regions: the swaps).
// The server renders every word; nothing is counted here. A burst of events causes one
// refresh.
(function () {
  "use strict";
  var status = document.getElementById("staffing-live");
  if (!status || !window.EventSource) return;
  var REGIONS = (status.dataset.regions || "unfilled surge notices swaps").split(" ");
  var KINDS = (status.dataset.kinds || "staffing.unfilled staffing.surge staffing.swap").split(" ");
  var timer = null, running = false, again = false, wasDown = false;

  function refresh() {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    fetch(location.pathname + location.search, {
      credentials: "same-origin", headers: { "Accept": "text/html" }
    })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        REGIONS.forEach(function (id) {
          var now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) now.replaceWith(document.importNode(next, true));
        });
        status.textContent = status.dataset.updated;
      })
      .catch(function () { status.dataset.state = "offline"; })
      .finally(function () {
        running = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    if (timer === null) timer = setTimeout(refresh, 300 + Math.random() * 700);
  }

  function connect() {
    var events = new EventSource("/api/v1/events");
    events.addEventListener("ready", function () {
      status.dataset.state = "online";
      if (wasDown) { wasDown = false; schedule(); }
    });
    events.addEventListener("error", function () {
      wasDown = true;
      status.dataset.state = "offline";
      // A refused response closes the EventSource for good: open a new one after a pause.
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
    events.addEventListener("signed_out", function () { location.reload(); });
    events.addEventListener("reset", schedule);
    KINDS.forEach(function (kind) { events.addEventListener(kind, schedule); });
  }
  connect();
})();
