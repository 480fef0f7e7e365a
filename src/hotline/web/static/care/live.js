// Home care's pages, live: on the worklist an alert or a reminder for this doctor (the
// stream sends `care.*` events only to the patient's doctor and the supervisors) fetches
// the rows again (/care/worklist) and says so; on the alerts page an alert fetches the
// alerts again (/care/alerts/list); on a patient's page, one about this patient
// says the page has news, with a link to reload it. (No inline script: the CSP.)
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !window.EventSource) return;
  var scope = main.dataset.liveScope;
  var patient = main.dataset.patient ? Number(main.dataset.patient) : null;
  var lastId = main.dataset.lastEvent || "";

  function setLive(on) {
    var box = document.getElementById("live-status");
    if (!box) return;
    box.querySelector("[data-live=on]").hidden = !on;
    box.querySelector("[data-live=off]").hidden = on;
  }

  var running = false, again = false;
  function refreshRows() {
    var target = document.getElementById(main.dataset.rowsTarget || "worklist");
    if (!target) return;
    if (running) { again = true; return; }
    running = true;
    fetch(main.dataset.rowsUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { location.assign("/login"); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        target.innerHTML = html;
        var note = document.getElementById("care-alert");
        if (note) note.hidden = false;
        main.dataset.refreshed = String(Number(main.dataset.refreshed || 0) + 1);
      })
      .catch(function () { setLive(false); })
      .finally(function () {
        running = false;
        if (again) { again = false; refreshRows(); }
      });
  }

  function onCare(ev) {
    if (ev.lastEventId) lastId = ev.lastEventId;
    var body;
    try { body = JSON.parse(ev.data); } catch (e) { return; }
    var data = body.data || {};
    if (scope === "worklist") { refreshRows(); return; }
    if (scope === "alerts") {
      if (ev.type === "care.alert" || ev.type === "care.checkin") refreshRows();
      return;
    }
    if (scope === "patient" && data.patient_id === patient) {
      var note = document.getElementById("changed");
      if (note) note.hidden = false;
    }
  }

  function connect() {
    // A new EventSource does not send Last-Event-ID by itself: the query names it.
    var url = "/api/v1/events" + (lastId ? "?last_event_id=" + encodeURIComponent(lastId) : "");
    var source = new EventSource(url);
    source.addEventListener("open", function () { setLive(true); });
    source.addEventListener("ready", function () { setLive(true); main.dataset.live = "1"; });
    source.addEventListener("signed_out", function () { location.assign("/login"); });
    source.addEventListener("reset", function () {
      if (scope === "worklist" || scope === "alerts") refreshRows();
    });
    ["care.alert", "care.reminder", "care.checkin"].forEach(function (kind) {
      source.addEventListener(kind, onCare);
    });
    source.addEventListener("error", function () {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
  }
  connect();
})();
