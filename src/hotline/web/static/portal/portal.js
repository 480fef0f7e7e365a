// The citizen portal's app: registers the service worker (the form opens offline), sends a
// report with fetch() and its files with XMLHttpRequest (for the progress bar), and keeps a
// report written offline in IndexedDB until the connection returns. Without this script the
// form still posts as a plain HTML form (without files).
(function () {
  "use strict";

  var DB_NAME = "hotline-1022-portal";
  var STORE = "outbox";
  var form = document.getElementById("report-form");
  var flushing = false;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/phan-anh/sw.js", { scope: "/phan-anh" }).catch(function () {
      // No offline page then; sending and the outbox still work.
    });
  }

  // ---- the outbox (IndexedDB: it keeps File objects, localStorage only strings) ----
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  var outbox = {
    add: function (item) { return withStore("readwrite", function (s) { return s.add(item); }); },
    put: function (item) { return withStore("readwrite", function (s) { return s.put(item); }); },
    remove: function (id) { return withStore("readwrite", function (s) { return s.delete(id); }); },
    all: function () { return withStore("readonly", function (s) { return s.getAll(); }); }
  };

  // ---- the page ----
  function el(id) { return document.getElementById(id); }
  function text(id) { var node = el(id); return node ? node.textContent.trim() : ""; }
  function show(id, on) { var node = el(id); if (node) { node.hidden = !on; } }

  function showCount() {
    return outbox.all().then(function (items) {
      var count = el("outbox-count");
      if (count) { count.textContent = String(items.length); }
      show("outbox", items.length > 0);
      return items;
    });
  }

  function clearErrors() {
    if (!form) { return; }
    form.querySelectorAll("p.error[id$='-error']").forEach(function (p) {
      p.hidden = true;
      p.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
    });
    show("form-error-live", false);
    var first = el("form-error");
    if (first) { first.hidden = true; }
  }

  function showErrors(errors) {
    var focused = false;
    Object.keys(errors || {}).forEach(function (field) {
      var message = errors[field];
      var box = el(field + "-error");
      var input = el(field);
      if (!box || field === "form") { box = el("form-error-live"); }
      box.textContent = message;
      box.hidden = false;
      if (input && field !== "form") {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", box.id);
        if (!focused) { input.focus(); focused = true; }
      }
    });
  }

  function fieldsOf(formElement) {
    var fields = {};
    new FormData(formElement).forEach(function (value, key) {
      if (key !== "csrf" && key !== "files" && typeof value === "string") { fields[key] = value; }
    });
    return fields;
  }

  function restore(item) {
    // A report the server refused after it waited offline goes back into the form: nothing
    // the citizen typed is lost.
    Object.keys(item.fields).forEach(function (key) {
      var input = form.elements.namedItem(key);
      if (!input || key === "channel") { return; }
      if (input.type === "checkbox") { input.checked = item.fields[key] === "1"; } else { input.value = item.fields[key]; }
    });
    if (item.files && item.files.length && window.DataTransfer) {
      var transfer = new DataTransfer();
      item.files.forEach(function (file) { transfer.items.add(file); });
      el("files").files = transfer.files;
    }
  }

  function checkFiles(files) {
    var max = Number(form.dataset.maxFiles);
    var maxBytes = Number(form.dataset.maxBytes);
    if (files.length > max) { return text("msg-too-many"); }
    for (var i = 0; i < files.length; i += 1) {
      if (files[i].size > maxBytes) { return text("msg-too-big") + " " + files[i].name; }
    }
    return "";
  }

  // The form's answer names fields as {field: message}; a refusal of the app-wide input
  // check (a NUL character) is problem+json with a list of {field, message}.
  function errorsOf(answer) {
    var errors = answer.errors;
    if (Array.isArray(errors)) {
      var named = {};
      errors.forEach(function (e) {
        var field = e && el(e.field + "-error") ? e.field : "form";
        if (!named[field]) { named[field] = (e && e.message) || answer.detail || ""; }
      });
      return named;
    }
    if (errors && typeof errors === "object") { return errors; }
    return { form: answer.detail || text("offline-failed") };
  }

  // ---- sending ----
  function freshToken() {
    return fetch("/phan-anh/csrf", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) { return body.csrf; });
  }

  function offline() { var e = new Error("offline"); e.offline = true; return e; }

  function upload(sent, file, token, index, total) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      data.append("secret", sent.secret);
      data.append("csrf", token);
      data.append("file", file, file.name || "tep");
      var xhr = new XMLHttpRequest();
      var bar = el("progress");
      show("progress-box", true);
      xhr.upload.onprogress = function (event) {
        if (bar && event.lengthComputable) {
          bar.value = Math.round(((index + event.loaded / event.total) / total) * 100);
        }
      };
      xhr.onload = function () {
        if (xhr.status === 201) { resolve(); return; }
        var detail = "";
        try { detail = JSON.parse(xhr.responseText).detail || ""; } catch (ignored) { detail = ""; }
        var refused = new Error(detail);
        refused.refused = true;  // this file will never be taken: go on without it
        refused.detail = text("msg-upload-failed") + " " + (file.name || "") + " — " + detail;
        reject(refused);
      };
      xhr.onerror = function () { reject(offline()); };
      xhr.open("POST", "/phan-anh/" + encodeURIComponent(sent.code) + "/tep");
      xhr.send(data);
    });
  }

  function uploadAll(item, token) {
    var warnings = [];
    var total = item.files.length;
    var done = 0;
    function next() {
      if (!item.files.length) { return Promise.resolve(warnings); }
      return upload(item.sent, item.files[0], token, done, total).catch(function (error) {
        if (!error.refused) { throw error; }
        warnings.push(error.detail);
      }).then(function () {
        done += 1;
        item.files.shift();
        var bar = el("progress");
        if (bar) { bar.value = Math.round((done / total) * 100); }
        return item.id ? outbox.put(item) : null;
      }).then(next);
    }
    return next();
  }

  // Sends one report (the case, then its files). A report already made but whose files did
  // not all go keeps its code and secret in `item.sent`, so it is never made twice.
  function send(item) {
    return freshToken().catch(function () { throw offline(); }).then(function (token) {
      var made = item.sent ? Promise.resolve(item.sent) : (function () {
        var body = new URLSearchParams(item.fields);
        body.set("csrf", token);
        return fetch("/phan-anh", {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { Accept: "application/json" }
        }).catch(function () { throw offline(); }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (answer) {
            if (r.status === 201) { return answer; }
            var refused = new Error("refused");
            refused.errors = errorsOf(answer);
            throw refused;
          });
        });
      })();
      return made.then(function (sent) {
        item.sent = { code: sent.code, secret: sent.secret };
        var saved = item.id ? outbox.put(item) : Promise.resolve();
        return saved.then(function () { return uploadAll(item, token); });
      });
    });
  }

  function flush() {
    if (flushing || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    var sentAny = false;
    return outbox.all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return send(item).then(function () {
            sentAny = true;
            return outbox.remove(item.id);
          }, function (error) {
            if (error.offline) { throw error; }
            // Refused by the server (a field to correct): back into the form, out of the box.
            return outbox.remove(item.id).then(function () {
              if (form) { restore(item); showErrors(error.errors); }
            });
          });
        });
      }, Promise.resolve());
    }).catch(function () {
      // Still offline: the reports wait for the next "online".
    }).then(function () {
      flushing = false;
      return showCount();
    }).then(function () {
      if (!sentAny) { return; }
      var typing = form && el("description") && el("description").value.trim();
      if (typing) { show("flushed", true); } else { window.location.assign("/phan-anh/da-gui"); }
    });
  }

  function keep(item) {
    return outbox.add(item).then(function () {
      show("queued", true);
      el("queued").focus();  // in view and read out, above the form that now empties
      var channel = el("channel").value;
      form.reset();  // ready for another report; this one is safe in the outbox
      el("channel").value = channel;
      return showCount();
    });
  }

  if (form) {
    form.querySelectorAll(".js-only").forEach(function (node) { node.hidden = false; });
    if (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches) {
      el("channel").value = "app";  // sent from the installed app
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      show("queued", false);
      show("offline-failed", false);
      var files = Array.prototype.slice.call(el("files").files || []);
      var problem = checkFiles(files);
      if (problem) { showErrors({ files: problem }); return; }
      var item = { fields: fieldsOf(form), files: files, at: Date.now() };
      var button = el("send");
      button.disabled = true;
      var done = navigator.onLine ? send(item).then(function (warnings) {
        if (warnings && warnings.length) { showErrors({ files: warnings.join(" ") }); }
        window.location.assign("/phan-anh/da-gui");
      }) : Promise.reject(offline());
      done.catch(function (error) {
        if (error.offline && !item.sent) { return keep(item); }
        if (error.offline) {
          // The report was made; only files are left: they wait in the outbox.
          return keep(item);
        }
        showErrors(error.errors || { form: text("offline-failed") });
      }).then(function () { button.disabled = false; });
    });
  }

  window.addEventListener("online", flush);
  if ("indexedDB" in window) { showCount().then(flush); }
}());
