// The dashboard kept live: the event stream says something changed, the page fetches the
// fragment concerned again (the server computes every figure; nothing is counted here) and
// swaps it in: the counters, queue and operators (/dashboard/live) on any change, today's
// charts (/dashboard/charts) when cases change. A burst of events (a surge of intake)
// causes one refresh per region every few seconds, not one per event. Every open dashboard
// hears each event at the same moment: each waits a random part of SPREAD_MS before asking,
// so that a room of wallboards does not ask the server all at once.
// EventSource reconnects by itself and resumes from the last event id; meanwhile the page
// says it is reconnecting, and refreshes once the stream is back (events may have been missed).
(function () {
  "use strict";
  var live = document.getElementById("live-region");
  var state = document.getElementById("stream-state");
  if (!live || !window.EventSource) return;
  var SPREAD_MS = 1200;
  // The newest event received: the live figures are never older than it (?after=).
  var newest = 0;

  function show(online) {
    if (!state) return;
    state.textContent = online ? state.dataset.online : state.dataset.offline;
    state.classList.toggle("dash-offline", !online);
    document.body.classList.toggle("dash-reconnecting", !online);
  }

  // One region: refreshed at most once per `every` ms, never two fetches at once.
  function region(node, url, every, withAfter) {
    var timer = null, running = false, again = false, last = 0;
    function refresh() {
      timer = null;
      if (running) { again = true; return; }
      running = true;
      last = Date.now();
      var target = withAfter ? url + "?after=" + newest : url;
      fetch(target, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) { location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html) {
            node.innerHTML = html;
            node.dispatchEvent(new CustomEvent("dashboard:refreshed", { bubbles: true }));
          }
        })
        .catch(function () { show(false); })
        .finally(function () {
          running = false;
          if (again) { again = false; schedule(); }
        });
    }
    function schedule() {
      if (timer !== null) return;
      var soonest = 300 + Math.random() * SPREAD_MS;
      timer = setTimeout(refresh, Math.max(soonest, last + every - Date.now()));
    }
    return schedule;
  }

  function seen(event) {
    var id = event ? parseInt(event.lastEventId, 10) : NaN;
    if (id > newest) newest = id;
  }

  var refreshLive = region(live, live.dataset.liveUrl, 2000, true);
  var chartsNode = document.getElementById("charts-region");
  var refreshCharts = chartsNode ? region(chartsNode, chartsNode.dataset.chartsUrl, 5000, false) : function () {};
  function refreshAll(event) { seen(event); refreshLive(); refreshCharts(); }
  function refreshLiveOnly(event) { seen(event); refreshLive(); }

  // The wallboard: the live part alone on the whole (wall) screen.
  var wall = document.getElementById("wallboard");
  if (wall && live.requestFullscreen) {
    wall.hidden = false;
    wall.addEventListener("click", function () { live.requestFullscreen(); });
  }

  // Every named event that changes a figure here: cases (cases/timeline.py kinds) change
  // the counters and the charts; the operators' states and calls, the live part only.
  // EventSource has no wildcard listener.
  var CASE_KINDS = ["created", "taken", "updated", "forwarded", "accepted", "returned", "resolved",
    "closed", "rejected", "reopened", "overdue", "marked_duplicate", "duplicate_linked",
    "duplicate_repointed", "merged"
  ].map(function (kind) { return "case." + kind; });
  var wasDown = false;

  function connect() {
    // queue=1: callers on hold come as `queue.now`, figures included (/static/queue.js).
    var events = new EventSource("/api/v1/events?queue=1");
    events.addEventListener("ready", function () {
      show(true);
      if (wasDown) { wasDown = false; refreshAll(); }
    });
    events.addEventListener("error", function () {
      wasDown = true;
      show(false);
      // A refused or failed response (not a dropped stream) closes the EventSource for
      // good: open a new one after a pause. A signed-out user is sent to sign in instead.
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
    events.addEventListener("signed_out", function () { location.reload(); });
    events.addEventListener("reset", refreshAll);
    CASE_KINDS.forEach(function (kind) { events.addEventListener(kind, refreshAll); });
    ["agent.status", "call.answered"].forEach(function (kind) {
      events.addEventListener(kind, refreshLiveOnly);
    });
    events.addEventListener("queue.now", function (e) {
      document.dispatchEvent(new CustomEvent("hotline:queue", { detail: JSON.parse(e.data).data }));
    });
  }
  connect();
})();
