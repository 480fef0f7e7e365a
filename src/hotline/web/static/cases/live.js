// The case page and the unit inbox, live: the timeline is refreshed when another user
// changes the case or adds a note, and the page says when the live connection is lost.
// A note changes nothing of the case's version, so it shows without the "changed" notice.
// The knowledge base's answers go into the resolve answer or the reply box in one click.
// (No inline script: the CSP.)
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var code = main.dataset.caseCode || null;
  var inbox = main.dataset.liveScope === "inbox";
  var shown = Number(main.dataset.version || 0);

  function setLive(on) {
    var box = document.getElementById("live-status");
    if (!box) return;
    box.querySelector("[data-live=on]").hidden = !on;
    box.querySelector("[data-live=off]").hidden = on;
  }

  function showChanged() {
    var note = document.getElementById("changed");
    if (note) note.hidden = false;
  }

  function refreshTimeline() {
    var target = document.getElementById("timeline");
    if (!target) return;
    fetch(main.dataset.timelineUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        target.innerHTML = html;
        var list = target.querySelector("[data-version]");
        // Our own action's event can arrive after the reload that showed it.
        if (list && Number(list.dataset.version) !== shown) showChanged();
      })
      .catch(function () { showChanged(); });
  }

  function onCaseEvent(ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    // The inbox lists no notes: a note on one of its cases leaves the list as it is.
    if (inbox) { if (!/^case\.(note|reply)$/.test(ev.type)) showChanged(); return; }
    if (data.case_code === code) refreshTimeline();
  }

  var KINDS = ["created", "updated", "taken", "forwarded", "accepted", "returned", "resolved",
    "closed", "rejected", "reopened", "marked_duplicate", "duplicate_linked",
    "duplicate_repointed", "merged", "answer_shared", "overdue", "article_used",
    "attachment_added", "note", "reply"];
  if (window.EventSource && (code || inbox)) {
    // EventSource reconnects by itself and resumes with Last-Event-ID.
    var source = new EventSource("/api/v1/events");
    source.addEventListener("open", function () { setLive(true); });
    source.addEventListener("ready", function () { setLive(true); });
    source.addEventListener("error", function () { setLive(false); });
    source.addEventListener("reset", showChanged);
    KINDS.forEach(function (kind) { source.addEventListener("case." + kind, onCaseEvent); });
    // The case's conversations (console/inbox.js refreshes their threads).
    ["conversation.message", "conversation.updated"].forEach(function (kind) {
      source.addEventListener(kind, function (ev) {
        var body;
        try { body = JSON.parse(ev.data); } catch (e) { return; }
        document.dispatchEvent(new CustomEvent("hotline:conversation", { detail: { kind: kind, data: body.data } }));
      });
    });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button.use-article");
    if (!button) return;
    var answer = document.getElementById(button.dataset.target || "answer");
    var article = document.getElementById(button.dataset.articleField || "article_id");
    if (!answer) return;
    answer.value = button.dataset.answer;
    if (article) article.value = button.dataset.articleId;
    answer.focus();
  });
})();
