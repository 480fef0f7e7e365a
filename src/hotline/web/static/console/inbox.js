// Conversations in the workspace (channels/pages.py): the console's "Tin nhắn" list and the
// panel of one conversation, the conversation page and the case page's conversations. The
// list and the thread are HTML fragments; a reply is the panel's form, posted here so that
// what the operator reads stays in place. Live events come as `hotline:conversation` from
// the page's own stream (console.js, cases/live.js), or from a stream opened here on the
// conversation's own page. No inline script: the CSP.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var $ = function (id) { return document.getElementById(id); };
  var list = $("conversations"), panel = $("thread-panel"), filters = $("conv-filters");
  var current = null;

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); });
  }
  function debounce(fn, ms) {
    var t;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }
  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // ---- the console's list -------------------------------------------------------------
  function markCurrent() {
    if (!list) return;
    list.querySelectorAll("a.conv-link").forEach(function (a) {
      if (a.dataset.conversationLink === String(current)) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  }
  function refreshList() {
    if (!list || !filters) return;
    var query = new URLSearchParams(new FormData(filters)).toString();
    get("/console/conversations?" + query).then(function (html) {
      list.innerHTML = html;
      markCurrent();
    }, function () {});
  }
  var refreshListSoon = debounce(refreshList, 300);
  if (filters) {
    refreshList();
    filters.addEventListener("change", refreshList);
    filters.addEventListener("submit", function (e) { e.preventDefault(); refreshList(); });
  }
  function openConversation(id, focus) {
    if (!panel) { location.assign("/conversations/" + id); return; }
    var back = encodeURIComponent("/?conversation=" + id);
    get("/conversations/" + id + "?panel=1&back=" + back).then(function (html) {
      panel.innerHTML = html;
      current = String(id);
      markCurrent();
      if (focus) {
        var box = panel.querySelector("textarea[name=text]");
        if (box && !box.disabled) box.focus(); else panel.querySelector("h2").focus();
      }
    }, function () {});
  }
  if (list) {
    list.addEventListener("click", function (e) {
      var a = e.target.closest ? e.target.closest("a.conv-link") : null;
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      openConversation(a.dataset.conversationLink, true);
    });
    var asked = new URLSearchParams(location.search).get("conversation");
    if (asked && /^\d+$/.test(asked)) openConversation(asked, false);
  }

  // ---- one conversation -----------------------------------------------------------------
  function conversationIds() {
    return Array.prototype.map.call(document.querySelectorAll("section.conversation"), function (s) {
      return s.dataset.conversation;
    });
  }
  function refreshMessages(section) {
    get(section.dataset.messagesUrl).then(function (html) {
      var box = section.querySelector("ol.thread");
      if (box) box.outerHTML = html;
    }, function () {});
  }
  function insert(section, text) {
    var box = section.querySelector("textarea[name=text]");
    if (!box || box.disabled) return;
    var start = box.selectionStart, end = box.selectionEnd;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button") : null;
    if (!button) return;
    var section = button.closest("section.conversation");
    if (!section) return;
    if (button.classList.contains("insert-saved")) {
      var picked = section.querySelector("select.saved-reply");
      var option = picked && picked.options[picked.selectedIndex];
      if (option) insert(section, option.getAttribute("data-text"));
    } else if (button.classList.contains("insert-answer")) {
      insert(section, button.getAttribute("data-answer"));
    }
  });
  function send(form) {
    var section = form.closest("section.conversation");
    var key = form.querySelector("input[name=key]");
    var box = form.querySelector("textarea[name=text]");
    var error = form.querySelector(".reply-error");
    var button = form.querySelector("button[type=submit]");
    if (!box.value.trim()) { error.textContent = form.dataset.tEmpty || ""; box.focus(); return; }
    // A retry of a post that got no answer sends the same key: one reply, never two.
    if (!key.value) key.value = newKey();
    button.disabled = true;
    error.textContent = "";
    fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: { "X-Hotline-Fragment": "1", Accept: "text/html" },
      body: new URLSearchParams(new FormData(form)),
    }).then(function (r) {
      return r.text().then(function (text) {
        if (!r.ok) { error.textContent = text.trim() || form.dataset.tFailed || ""; return; }
        var thread = section.querySelector("ol.thread");
        if (thread) thread.outerHTML = text;
        box.value = "";
        key.value = "";
        var count = form.querySelector("output.sms-count");
        if (count) count.textContent = "";
        box.focus();
      });
    }, function () { error.textContent = form.dataset.tFailed || ""; })
      .finally(function () { button.disabled = false; });
  }
  // An SMS reply: its count of SMS parts as the operator types (the server counts, as the
  // gateway will send it), cleared with the box once sent.
  function countSegments(form) {
    var out = form.querySelector("output.sms-count");
    if (!out || !window.fetch) return;
    var body = new URLSearchParams();
    body.set("csrf", form.querySelector("input[name=csrf]").value);
    body.set("text", form.querySelector("textarea[name=text]").value);
    fetch(out.getAttribute("data-segments-url"), {
      method: "POST", credentials: "same-origin", headers: { Accept: "text/html" }, body: body,
    }).then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (text) { out.textContent = text.trim(); }, function () {});
  }
  var counting = new WeakMap();
  document.addEventListener("input", function (e) {
    var form = e.target.closest ? e.target.closest("form.reply-form") : null;
    if (!form || !form.querySelector("output.sms-count")) return;
    if (!counting.has(form)) counting.set(form, debounce(function () { countSegments(form); }, 250));
    counting.get(form)();
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("reply-form") || !window.fetch) return;
    e.preventDefault();
    send(form);
  });
  document.addEventListener("keydown", function (e) {
    var form = e.target.closest ? e.target.closest("form.reply-form") : null;
    if (form && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation();
      send(form);
      return;
    }
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.code === "KeyJ" && list) {
      var first = list.querySelector("a[aria-current]") || list.querySelector("a.conv-link");
      if (first) { e.preventDefault(); first.focus(); }
    } else if (e.code === "KeyY") {
      var box = document.querySelector("form.reply-form textarea[name=text]");
      if (box && !box.disabled) { e.preventDefault(); box.focus(); }
    }
  }, true);

  // Linking to a case: codes offered as typed (the case list's search).
  var typed = null;
  var lookup = debounce(function () {
    var input = typed, options = input && input.list;
    if (!input || !options || input.value.trim().length < 3) return;
    fetch("/api/v1/cases?limit=8&q=" + encodeURIComponent(input.value.trim()), {
      credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); }).then(function (page) {
      options.textContent = "";
      (page.items || []).forEach(function (c) {
        var o = document.createElement("option");
        o.value = c.code;
        o.textContent = (c.description || "").slice(0, 80);
        options.appendChild(o);
      });
    }, function () {});
  }, 250);
  document.addEventListener("input", function (e) {
    if (e.target.classList && e.target.classList.contains("link-code")) { typed = e.target; lookup(); }
  });

  // ---- live ------------------------------------------------------------------------------
  document.addEventListener("hotline:conversation", function (e) {
    var data = (e.detail && e.detail.data) || {};
    refreshListSoon();
    var id = String(data.conversation_id);
    document.querySelectorAll("section.conversation").forEach(function (section) {
      if (section.dataset.conversation !== id) return;
      // A case opened or linked, or the conversation closed: the panel's actions change.
      if (e.detail.kind === "conversation.updated" && panel && panel.contains(section)) openConversation(id, false);
      else refreshMessages(section);
    });
  });
  if (main.classList.contains("conversation-page") && window.EventSource && conversationIds().length) {
    var stream = new EventSource("/api/v1/events");
    ["conversation.message", "conversation.updated"].forEach(function (kind) {
      stream.addEventListener(kind, function (ev) {
        var body;
        try { body = JSON.parse(ev.data); } catch (err) { return; }
        document.dispatchEvent(new CustomEvent("hotline:conversation", { detail: { kind: kind, data: body.data } }));
      });
    });
  }
})();
