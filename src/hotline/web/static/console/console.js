// The operator console (console/pages.py). Talks to the JSON API with the page's cookie
// (writes carry the CSRF token from the meta tag: web/guard.py); the case list is an HTML
// fragment (/console/cases). Every request is asynchronous and abortable, so a slow server
// never freezes typing. Texts come translated from the page's data-t-* attributes.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !main.classList.contains("console")) return;
  var $ = function (id) { return document.getElementById(id); };
  var T = function (key) { return main.getAttribute("data-t-" + key) || ""; };
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var me = Number(main.dataset.me);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // One request per purpose at a time: a newer one aborts the older (typing fast).
  var pending = {};
  function api(purpose, method, url, body, extra) {
    if (pending[purpose]) pending[purpose].abort();
    var ctl = new AbortController();
    pending[purpose] = ctl;
    var timer = setTimeout(function () { ctl.abort(); }, 15000);
    var headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = csrf;
    }
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin", signal: ctl.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      var read = type.indexOf("json") >= 0 ? r.json() : r.text();
      return read.then(function (data) {
        if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; e.data = data; throw e; }
        return data;
      });
    }).finally(function () {
      clearTimeout(timer);
      if (pending[purpose] === ctl) delete pending[purpose];
    });
  }
  function aborted(e) { return e && e.name === "AbortError"; }
  function debounce(fn, ms) {
    var t;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  // ---- the case list ------------------------------------------------------------------
  var filters = $("filters");
  function listQuery() { return new URLSearchParams(new FormData(filters)); }
  function shownRows() { return $("cases").querySelectorAll("tr[data-code]").length; }
  function refreshList() {
    var query = listQuery();
    // A live refresh keeps the rows loaded with "Xem thêm" (the server caps it at 200).
    if (shownRows() > 50) query.set("limit", String(shownRows()));
    api("list", "GET", "/console/cases?" + query.toString()).then(function (html) {
      $("cases").innerHTML = html;
    }, function () {});
  }
  // "Xem thêm": the next page by the list's cursor, added under the rows already shown.
  $("cases").addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button.load-more") : null;
    if (!button) return;
    var query = listQuery();
    query.set("cursor", button.getAttribute("data-cursor"));
    query.set("shown", String(shownRows()));
    button.disabled = true;
    api("more", "GET", "/console/cases?" + query.toString()).then(function (html) {
      var more = button.closest("tr");
      if (!more.parentNode) return; // the list was refreshed meanwhile
      var before = shownRows();
      more.insertAdjacentHTML("afterend", html);
      more.remove();
      // Keyboard users carry on where the new rows start.
      var next = $("cases").querySelectorAll("tr[data-code] a")[before] ||
        $("cases").querySelector("button.load-more");
      if (next) next.focus();
    }, function () { button.disabled = false; });
  });
  var refreshSoon = debounce(refreshList, 300);
  filters.addEventListener("change", function (e) {
    // A status chosen here replaces the several a dashboard link named.
    if (e.target.id === "f-status") {
      filters.querySelectorAll('input[data-linked][name="status"]').forEach(function (i) { i.remove(); });
    }
    refreshList();
  });
  filters.addEventListener("submit", function (e) { e.preventDefault(); refreshList(); });

  // ---- ward type-ahead (with or without diacritics: the API folds them) ---------------
  function wardCombo(input, hidden, list, onPick) {
    var items = [], active = -1;
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function mark() {
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        if (i === active) input.setAttribute("aria-activedescendant", li.id);
      });
    }
    function pick(i) {
      var w = items[i];
      if (!w) return;
      input.value = w.name;
      hidden.value = w.code;
      close();
      if (onPick) onPick(w);
    }
    var search = debounce(function () {
      var q = input.value.trim();
      if (!q) { close(); return; }
      api("ward-" + input.id, "GET", "/api/v1/places/wards?limit=8&q=" + encodeURIComponent(q))
        .then(function (wards) {
          items = wards;
          list.textContent = "";
          if (!wards.length) list.appendChild(el("li", { role: "option", "aria-disabled": "true" }, T("no-ward")));
          wards.forEach(function (w, i) {
            var li = el("li", { role: "option", id: input.id + "-o" + i }, w.name);
            li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
            list.appendChild(li);
          });
          active = wards.length ? 0 : -1;
          mark();
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
        }, function () {});
    }, 200);
    input.addEventListener("input", function () { hidden.value = ""; search(); });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        var n = items.length;
        if (n) active = (active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        mark();
      } else if (e.key === "Enter" && !e.ctrlKey) {
        e.preventDefault();
        pick(active);
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }
  wardCombo($("f-ward-q"), $("f-ward"), $("f-ward-list"), refreshList);
  $("f-ward-q").addEventListener("input", function () { if (!this.value) refreshList(); });

  // ---- the new-case form --------------------------------------------------------------
  var form = $("case-form");
  var phone = $("phone-no"), desc = $("description"), category = $("category");
  var urgent = $("urgent");
  var saved = null, triage = null, attempt = null;
  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // randomUUID needs HTTPS; office PCs may use plain HTTP
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  wardCombo($("ward-q"), $("ward-code"), $("ward-list"), function () { $("ward-error").textContent = ""; });

  function showContact(contact, pastCases) {
    var box = $("contact");
    box.textContent = "";
    if (!contact) { box.appendChild(el("p", {}, T("no-contact"))); }
    else {
      box.appendChild(el("p", {}, contact.name || ""));
      if (contact.name && !$("contact-name").value) $("contact-name").value = contact.name;
    }
    var p = el("p", { class: "past" }, T("past") + ": ");
    if (!pastCases.length) p.appendChild(document.createTextNode(T("none")));
    pastCases.slice(0, 10).forEach(function (c) {
      var code = el("code", { title: c.description || "" }, c.code || c);
      p.appendChild(code);
      p.appendChild(document.createTextNode(" "));
    });
    box.appendChild(p);
  }
  var lookup = debounce(function () {
    var number = phone.value.replace(/[^0-9+]/g, "");
    if (number.length < 8) { $("contact").textContent = ""; return; }
    api("lookup", "GET", "/api/v1/contacts/lookup?phone=" + encodeURIComponent(number))
      .then(function (c) { showContact(c, c.cases || []); }, function (e) {
        if (e.status === 404) showContact(null, []);
      });
  }, 300);
  phone.addEventListener("input", lookup);

  function listBlock(title, rows, render) {
    var box = el("div", { class: "sugg" });
    box.appendChild(el("h3", {}, title));
    var ul = el("ul");
    rows.forEach(function (r) { ul.appendChild(render(r)); });
    box.appendChild(ul);
    return box;
  }
  function showSuggestions(s) {
    triage = s.triage;
    var box = $("suggest");
    box.textContent = "";
    var t = s.triage;
    var line = el("p", { class: "triage" + (t.urgent ? " is-urgent" : ""), id: "triage" });
    line.appendChild(el("b", {}, T("category") + ": "));
    line.appendChild(el("span", { id: "triage-category", "data-code": t.category }, t.category_name || t.category));
    line.appendChild(document.createTextNode(" · "));
    line.appendChild(el("span", { class: t.urgent ? "tag urgent" : "tag", id: "triage-urgent" },
      t.urgent ? T("urgent") : T("not-urgent")));
    // Each urgency reason once: its label, and the words as the citizen wrote them (`quote`;
    // null when they cannot be mapped back, then the label alone).
    var seen = {};
    t.reasons.forEach(function (r) {
      if (r.kind === "category") return;
      var quote = r.quote || "";
      var key = r.label + "\u0000" + quote.toLowerCase();
      if (seen[key]) return;
      seen[key] = true;
      line.appendChild(document.createTextNode(" "));
      var chip = el("mark", { class: "reason", "data-code": r.code }, r.label);
      if (quote && quote.toLowerCase() !== r.label.toLowerCase()) {
        chip.appendChild(document.createTextNode(": \u201c" + quote + "\u201d"));
      }
      line.appendChild(chip);
    });
    line.appendChild(el("kbd", {}, "Alt+G"));
    box.appendChild(line);
    duplicates = s.duplicates;
    articles = s.articles;
    if (duplicates.length) {
      box.appendChild(listBlock(T("duplicates"), duplicates, function (d) {
        var li = el("li");
        var same = el("button", { type: "button", class: "same", "data-duplicate": d.code,
          "aria-pressed": d.code === $("duplicate-of").value ? "true" : "false" }, T("same"));
        same.addEventListener("click", function () { chooseDuplicate(d.code); });
        li.appendChild(same);
        li.appendChild(el("code", {}, d.code));
        li.appendChild(document.createTextNode(" " + d.description.slice(0, 100)));
        return li;
      }));
    }
    if (articles.length) {
      box.appendChild(listBlock(T("articles"), articles, function (a) {
        var li = el("li");
        var insert = el("button", { type: "button", class: "insert", "data-article-id": String(a.id) }, T("insert"));
        insert.addEventListener("click", function () { insertAnswer(a); });
        li.appendChild(insert);
        var details = el("details");
        details.appendChild(el("summary", {}, a.question));
        details.appendChild(el("p", {}, a.answer));
        li.appendChild(details);
        return li;
      }));
    }
  }

  // ---- acting on the suggestions: the POST that saves the case carries the choice ------
  var duplicates = [], articles = [];
  var answer = $("answer");
  function insertAnswer(a) {
    answer.value = a.answer;
    $("article-id").value = String(a.id);
    $("answer-error").textContent = "";
    answer.focus();
  }
  answer.addEventListener("input", function () {
    if (!answer.value.trim()) $("article-id").value = "";
  });
  function chooseDuplicate(code) {
    var chosen = $("duplicate-of").value === code ? "" : code;  // again: unchosen
    $("duplicate-of").value = chosen;
    $("duplicate-code").textContent = chosen;
    $("duplicate-choice").hidden = !chosen;
    $("duplicate-error").textContent = "";
    document.querySelectorAll("#suggest button.same").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.duplicate === chosen ? "true" : "false");
    });
  }
  $("duplicate-clear").addEventListener("click", function () {
    chooseDuplicate("");
    desc.focus();
  });
  var suggest = debounce(function () {
    var text = desc.value.trim();
    if (text.length < 8) return;
    var body = { text: text, limit: 3 };
    if (category.value) body.category = category.value;
    if ($("ward-code").value) body.ward_code = $("ward-code").value;
    api("suggest", "POST", "/api/v1/suggestions", body).then(showSuggestions, function () {});
  }, 400);
  desc.addEventListener("input", suggest);

  function applySuggestion() {
    if (!triage) return;
    if (!category.value && category.querySelector('option[value="' + triage.category + '"]')) {
      category.value = triage.category;
    }
    urgent.checked = triage.urgent;
    urgent.dataset.touched = "1";
  }
  urgent.addEventListener("change", function () { urgent.dataset.touched = "1"; });

  function resetForm(call) {
    form.reset();
    $("ward-code").value = "";
    $("call-id").value = call ? call.call_id : "";
    delete urgent.dataset.touched;
    ["contact", "suggest", "description-error", "ward-error", "phone-error", "name-error",
      "address-error", "form-error", "answer-error", "duplicate-error"].forEach(function (id) {
      $(id).textContent = "";
    });
    triage = null;
    saved = null;
    attempt = null;
    duplicates = [];
    articles = [];
    $("article-id").value = "";
    chooseDuplicate("");
    $("saved").hidden = true;
    form.hidden = false;
    if (call && call.caller) phone.value = call.caller;
  }

  function save() {
    if (form.hidden) return;
    var text = desc.value.trim();
    ["form-error", "description-error", "ward-error", "phone-error", "name-error",
      "address-error", "answer-error", "duplicate-error"].forEach(function (id) {
      $(id).textContent = "";
    });
    if (!text) { $("description-error").textContent = T("need-description"); desc.focus(); return; }
    if ($("ward-q").value.trim() && !$("ward-code").value) {
      $("ward-error").textContent = T("pick-ward");
      $("ward-q").focus();
      return;
    }
    var body = { channel: "phone", description: text };
    if ($("call-id").value) body.call_id = Number($("call-id").value);
    if (phone.value.trim() || $("contact-name").value.trim()) {
      body.contact = { name: $("contact-name").value.trim() };
      if (phone.value.trim()) body.contact.phone = phone.value.trim();
    }
    if (category.value) body.category = category.value;
    if (urgent.dataset.touched) body.urgent = urgent.checked;
    if ($("ward-code").value) body.ward_code = $("ward-code").value;
    if ($("address").value.trim()) body.address = $("address").value.trim();
    // The suggestion taken: saved as a duplicate of it, or answered (and so resolved) at once.
    if ($("duplicate-of").value) body.duplicate_of = $("duplicate-of").value;
    if (answer.value.trim()) {
      body.answer = answer.value.trim();
      if ($("article-id").value) body.article_id = Number($("article-id").value);
    }
    $("save").disabled = true;
    var slow = setTimeout(function () { $("form-error").textContent = T("slow"); }, 1500);
    // A retry of a request that got no answer sends the same key: one case, never two.
    var json = JSON.stringify(body);
    if (!attempt || attempt.body !== json) attempt = { body: json, key: newKey() };
    api("save", "POST", "/api/v1/cases", body, { "Idempotency-Key": attempt.key }).then(function (c) {
      attempt = null;
      saved = c;
      form.hidden = true;
      $("saved").hidden = false;
      $("forward-error").textContent = "";
      $("forward-note").value = "";
      if (c.status === "duplicate" || c.status === "resolved") {
        // Nothing to forward: it repeats another case, or the caller has their answer.
        $("saved-text").textContent = T("saved") + " " + c.code + " · " +
          (c.status === "duplicate" ? T("duplicate-of") + " " + c.duplicate_of : T("answered"));
        $("forward-box").hidden = true;
        $("new-case").focus();
      } else {
        $("saved-text").textContent = T("saved") + " " + c.code;
        $("forward-box").hidden = false;
        loadUnits(c);
      }
      refreshSoon();
    }, function (e) {
      var d = e.data || {};
      var spans = { ward_code: "ward-error", description: "description-error", "contact.phone": "phone-error",
        "contact.name": "name-error", address: "address-error",
        answer: "answer-error", article_id: "answer-error", duplicate_of: "duplicate-error" };
      var span = spans[d.field];
      // Next to its field, the field's own message (the detail names the field too).
      var own = span && d.errors && d.errors[0] && d.errors[0].field === d.field ? d.errors[0].message : "";
      $(span || "form-error").textContent = own || d.detail || T("failed");
      // The field to correct gets the focus (the message is read with it: aria-describedby).
      var inputs = { ward_code: "ward-q", description: "description", "contact.phone": "phone-no",
        "contact.name": "contact-name", address: "address", answer: "answer", article_id: "answer" };
      var wrong = inputs[d.field] && $(inputs[d.field]);
      if (wrong) wrong.focus();
    }).finally(function () {
      clearTimeout(slow);
      $("save").disabled = false;
      if ($("form-error").textContent === T("slow")) $("form-error").textContent = "";
    });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); save(); });

  function loadUnits(c) {
    var box = $("units");
    box.textContent = "";
    if (!c.category) { box.appendChild(el("p", {}, T("no-unit"))); return; }
    var url = "/api/v1/units/suggest?category=" + encodeURIComponent(c.category) +
      (c.ward_code ? "&ward=" + encodeURIComponent(c.ward_code) : "");
    api("units", "GET", url).then(function (units) {
      if (!units.length) box.appendChild(el("p", {}, T("no-unit")));
      units.slice(0, 6).forEach(function (u, i) {
        var id = "unit-" + u.id;
        var p = el("p", { class: "check" });
        var radio = el("input", { type: "radio", name: "unit", id: id, value: String(u.id) });
        if (i === 0) radio.checked = true;
        p.appendChild(radio);
        p.appendChild(document.createTextNode(" "));
        p.appendChild(el("label", { for: id }, u.name));
        box.appendChild(p);
      });
      var first = box.querySelector("input");
      if (first) first.focus();
    }, function () { box.appendChild(el("p", {}, T("failed"))); });
  }

  function forward() {
    if (!saved || $("saved").hidden || $("forward-box").hidden) return;
    var chosen = document.querySelector('#units input[name="unit"]:checked');
    if (!chosen) return;
    var name = document.querySelector('label[for="' + chosen.id + '"]').textContent;
    $("forward").disabled = true;
    api("forward", "POST", "/api/v1/cases/" + encodeURIComponent(saved.code) + "/forward",
      { unit_id: Number(chosen.value), note: $("forward-note").value })
      .then(function () {
        $("saved-text").textContent = T("saved") + " " + saved.code + " · " + T("forwarded") + " " + name;
        $("forward-box").hidden = true;
        refreshSoon();
        $("new-case").focus();
      }, function (e) {
        $("forward-error").textContent = (e.data && e.data.detail) || T("failed");
      }).finally(function () { $("forward").disabled = false; });
  }
  $("forward").addEventListener("click", forward);
  $("new-case").addEventListener("click", function () { resetForm(null); phone.focus(); });

  // ---- availability and the callback queue ----------------------------------------------
  var statusForm = $("status-form");
  function showStatus(value) {
    var b = $("agent-status");
    if (!b) return;
    b.textContent = T(value);
    statusForm.querySelectorAll("button[name=status]").forEach(function (btn) {
      btn.disabled = btn.value === value;
    });
  }
  function setStatus(value) {
    if (!statusForm) return;
    // Available or busy clocks the operator in; refused (no place, no leave), say why.
    api("status", "PUT", "/api/v1/agents/me/status", { status: value })
      .then(function (a) {
        $("status-error").textContent = "";
        showStatus(a.status);
      }, function (e) {
        if (!aborted(e)) $("status-error").textContent = (e.data && e.data.detail) || T("failed");
      });
  }
  if (statusForm) {
    statusForm.addEventListener("submit", function (e) {
      e.preventDefault();
      if (e.submitter) setStatus(e.submitter.value);
    });
  }
  function refreshCallbacks() {
    api("callbacks", "GET", "/api/v1/callbacks?status=open&limit=500").then(function (rows) {
      $("callbacks").textContent = rows.length >= 500 ? "500+" : String(rows.length);
    }, function () {}).finally(function () { setTimeout(refreshCallbacks, 30000); });
  }
  refreshCallbacks();

  // ---- live events ------------------------------------------------------------------------
  function onCall(data) {
    resetForm(data);
    var card = $("call-card");
    card.textContent = "";
    var box = el("div", { id: "on-call" });
    box.appendChild(el("h3", {}, T("call") + " " + (data.caller || T("hidden"))));
    card.appendChild(box);
    showContact(data.contact, data.past_cases || []);
    showStatus("busy");
    desc.focus();
  }
  var conn = $("conn");
  var lastId = main.dataset.lastEvent || "", retry = 1000;
  function lost() { conn.textContent = T("lost"); conn.classList.add("lost"); }
  function track(handler) {
    return function (e) { if (e.lastEventId) lastId = e.lastEventId; handler(e); };
  }
  var handlers = {
    ready: function () { main.dataset.live = "1"; retry = 1000; },
    reset: refreshList,
    signed_out: function () { location.assign("/login"); },
    "call.answered": function (e) { onCall(JSON.parse(e.data).data); },
    "queue.now": function (e) {
      document.dispatchEvent(new CustomEvent("hotline:queue", { detail: JSON.parse(e.data).data }));
    },
    "agent.status": function (e) {
      var d = JSON.parse(e.data).data;
      if (d.user_id === me) showStatus(d.status);
    },
  };
  // Conversations: the messages panel (inbox.js) refreshes what it shows.
  ["conversation.message", "conversation.updated"].forEach(function (kind) {
    handlers[kind] = function (e) {
      document.dispatchEvent(new CustomEvent("hotline:conversation",
        { detail: { kind: kind, data: JSON.parse(e.data).data } }));
    };
  });
  ["created", "taken", "updated", "forwarded", "accepted", "returned", "resolved", "closed",
    "rejected", "reopened", "marked_duplicate", "merged", "overdue"].forEach(function (kind) {
    handlers["case." + kind] = refreshSoon;
  });
  function connect() {
    // A new EventSource does not send Last-Event-ID by itself: the query names it.
    // queue=1: callers waiting in the phone line's queues come as `queue.now`.
    var url = "/api/v1/events?queue=1" + (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : "");
    var stream = new EventSource(url);
    Object.keys(handlers).forEach(function (kind) {
      stream.addEventListener(kind, track(handlers[kind]));
    });
    stream.addEventListener("open", function () {
      if (conn.textContent) { conn.textContent = ""; conn.classList.remove("lost"); refreshList(); }
    });
    stream.addEventListener("error", function () {
      lost();
      // While CONNECTING the browser retries by itself, resuming from Last-Event-ID. A stream
      // it gave up on (an error status while the server restarts) is opened again here.
      if (stream.readyState === EventSource.CLOSED) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      }
    });
  }
  connect();
  var caller = $("call-id");
  if (caller.value) {
    phone.value = caller.dataset.caller || "";
    desc.focus();
  }

  // ---- keyboard shortcuts (listed on the page) ---------------------------------------
  var keys = {
    // A draft being typed is kept: only the panel of a saved case gives way to a new form.
    KeyN: function () { if (form.hidden) resetForm(null); phone.focus(); },
    KeyM: function () { desc.focus(); },
    KeyL: function () { category.focus(); },
    KeyK: function () { urgent.checked = !urgent.checked; urgent.dataset.touched = "1"; },
    KeyP: function () { $("ward-q").focus(); },
    KeyG: applySuggestion,
    KeyI: function () { if (articles.length && !form.hidden) insertAnswer(articles[0]); },
    KeyU: function () { if (duplicates.length && !form.hidden) chooseDuplicate(duplicates[0].code); },
    KeyC: forward,
    KeyT: function () { $("f-view").focus(); },
    KeyR: function () { setStatus("available"); },
    KeyB: function () { setStatus("busy"); },
    KeyV: function () { setStatus("away"); },
  };
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      // Ctrl+Enter in a conversation sends its reply (inbox.js), not the new case.
      if (e.target.closest && e.target.closest("section.conversation")) return;
      e.preventDefault(); save(); return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && keys[e.code]) {
      e.preventDefault();
      keys[e.code]();
    }
  });
})();
