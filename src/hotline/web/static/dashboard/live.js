// The dashboard's live counters: the event stream says something changed, the page fetches
// the counters fragment again (the server computes every figure; nothing is counted here).
// A burst of events (a surge of intake) causes one refresh per REFRESH_MS, not one per event.
// Every open dashboard hears each event at the same moment: each waits a random part of
// SPREAD_MS before asking, so that a room of wallboards does not ask the server all at once.
// EventSource reconnects by itself and resumes from the last event id; meanwhile the page
// says it is reconnecting, and refreshes once the stream is back (events may have been missed).
(function () {
  "use strict";
  var region = document.getElementById("live-region");
  var state = document.getElementById("stream-state");
  if (!region || !window.EventSource) return;
  var REFRESH_MS = 2000;
  var SPREAD_MS = 1200;
  var timer = null;
  var running = false;
  var again = false;
  var last = 0;
  var newest = 0;

  function show(online) {
    if (!state) return;
    state.textContent = online ? state.dataset.online : state.dataset.offline;
    state.classList.toggle("dash-offline", !online);
    document.body.classList.toggle("dash-reconnecting", !online);
  }

  function refresh() {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    last = Date.now();
    // The newest event received: the server never answers with figures older than it.
    var url = region.dataset.liveUrl + "?after=" + newest;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          region.innerHTML = html;
          region.dispatchEvent(new CustomEvent("dashboard:refreshed", { bubbles: true }));
        }
      })
      .catch(function () { show(false); })
      .finally(function () {
        running = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule(event) {
    var id = event ? parseInt(event.lastEventId, 10) : NaN;
    if (id > newest) newest = id;
    if (timer !== null) return;
    var soonest = 300 + Math.random() * SPREAD_MS;
    timer = setTimeout(refresh, Math.max(soonest, last + REFRESH_MS - Date.now()));
  }

  // The wallboard: the live part alone on the whole (wall) screen.
  var wall = document.getElementById("wallboard");
  if (wall && region.requestFullscreen) {
    wall.hidden = false;
    wall.addEventListener("click", function () { region.requestFullscreen(); });
  }

  // Every named event that changes a figure here: cases (cases/timeline.py kinds), the
  // operators' states and calls. EventSource has no wildcard listener.
  var KINDS = ["created", "taken", "updated", "forwarded", "accepted", "returned", "resolved",
    "closed", "rejected", "reopened", "overdue", "marked_duplicate", "duplicate_linked",
    "duplicate_repointed", "merged"
  ].map(function (kind) { return "case." + kind; }).concat(["agent.status", "call.answered"]);
  var wasDown = false;

  function connect() {
    var events = new EventSource("/api/v1/events");
    events.addEventListener("ready", function () {
      show(true);
      if (wasDown) { wasDown = false; schedule(); }
    });
    events.addEventListener("error", function () {
      wasDown = true;
      show(false);
      // A refused or failed response (not a dropped stream) closes the EventSource for
      // good: open a new one after a pause. A signed-out user is sent to sign in instead.
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
    events.addEventListener("signed_out", function () { location.reload(); });
    events.addEventListener("reset", schedule);
    KINDS.forEach(function (kind) { events.addEventListener(kind, schedule); });
  }
  connect();
})();
