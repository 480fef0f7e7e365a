/* Hotline 1022 web chat widget. Embed with one tag:
 *   <script src="https://<hotline>/static/webchat.js" data-channel="ID" async></script>
 * optional: data-identifier="…" data-identity-hmac="<hex HMAC-SHA256(secret, identifier)>".
 * No framework, no third-party request; its own styles in a shadow root (docs/channels.md). */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector("script[data-channel][src*='webchat.js']");
  if (!script || window.__hotlineWebchat) return;
  window.__hotlineWebchat = true;
  var base = new URL(script.src, location.href).origin;
  var channel = script.getAttribute("data-channel");
  var identifier = script.getAttribute("data-identifier");
  var proof = script.getAttribute("data-identity-hmac");
  var api = base + "/chat/" + encodeURIComponent(channel);
  var key = "hotline-webchat:" + base + ":" + channel + (identifier ? ":" + identifier : "");
  var en = /^en\b/i.test(document.documentElement.lang || "");
  var T = en ? {
    open: "Open chat with the hotline", close: "Close chat", title: "Chat with the hotline",
    label: "Your message", send: "Send", you: "You", us: "Hotline", unread: " (new message)",
    queued: "Not sent yet: it will be sent when the connection is back",
    failed: "Could not be sent", offline: "Offline. Your messages will be sent when the connection is back."
  } : {
    open: "Mở khung chat với tổng đài", close: "Đóng khung chat", title: "Trò chuyện với tổng đài",
    label: "Tin nhắn của bạn", send: "Gửi", you: "Bạn", us: "Tổng đài", unread: " (có tin mới)",
    queued: "Chưa gửi: sẽ tự gửi khi có mạng trở lại",
    failed: "Không gửi được", offline: "Mất kết nối mạng. Tin nhắn sẽ được gửi khi có mạng."
  };

  var memory = {};
  function load(name, fallback) {
    try { var v = localStorage.getItem(key + ":" + name); return v ? JSON.parse(v) : fallback; }
    catch (e) { return name in memory ? memory[name] : fallback; }
  }
  function save(name, value) {
    memory[name] = value;
    try { localStorage.setItem(key + ":" + name, JSON.stringify(value)); } catch (e) { /* kept in memory */ }
  }

  var token = load("token", null);
  var outbox = load("outbox", []); // [{client_id, text}] written, not yet stored by the hotline
  var lastEvent = load("event", null);
  var shown = {}; // message id or "c:" + client id -> element
  var isOpen = false, streaming = false, flushing = false, retry = 1000, streamRetry = 1000;

  var css = ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}" +
    ".b{position:fixed;right:16px;bottom:16px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;background:#0b5394;color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.35);display:flex;align-items:center;justify-content:center}" +
    ".b:focus-visible,button:focus-visible,textarea:focus-visible,.l:focus-visible{outline:3px solid #f1c232;outline-offset:2px}" +
    ".b svg{width:28px;height:28px;fill:currentColor}.dot{position:absolute;top:6px;right:6px;width:14px;height:14px;border-radius:50%;background:#c00;border:2px solid #fff}" +
    ".p{position:fixed;right:16px;bottom:84px;z-index:2147483000;width:360px;max-width:calc(100vw - 32px);height:480px;max-height:calc(100vh - 100px);background:#fff;color:#1b1b1b;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;font-size:15px;line-height:1.4}" +
    ".p[hidden]{display:none}.h{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:10px 12px;background:#0b5394;color:#fff}" +
    ".h h2{margin:0;font-size:16px;font-weight:600}.x{background:transparent;border:0;color:#fff;font-size:24px;line-height:1;min-width:44px;min-height:44px;cursor:pointer;border-radius:6px}" +
    ".l{flex:1;overflow-y:auto;padding:12px;margin:0;list-style:none;background:#f6f7f9}.m{margin:0 0 8px;max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".v{margin-left:auto;background:#0b5394;color:#fff}.o{background:#fff;border:1px solid #ccd2da;color:#1b1b1b}.w{background:#fff;border:1px dashed #8a94a3;color:#1b1b1b}" +
    ".s{display:block;font-size:12px;margin-top:4px}.v .s{color:#fff}.o .s,.w .s{color:#4a4a4a}.who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    ".n{margin:0;padding:6px 12px;background:#fff4ce;color:#3d3000;font-size:13px}.n[hidden]{display:none}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #ccd2da;background:#fff}" +
    "textarea{flex:1;resize:none;height:44px;max-height:120px;padding:10px;font-size:16px;border:1px solid #6b7480;border-radius:8px;color:#1b1b1b;background:#fff}" +
    ".g{min-width:64px;min-height:44px;border:0;border-radius:8px;background:#0b5394;color:#fff;font-size:15px;font-weight:600;cursor:pointer}" +
    "@media (max-width:480px){.p{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}}";

  var host = document.createElement("div");
  host.setAttribute("data-hotline-webchat", channel);
  var root = host.attachShadow({ mode: "open" });
  try { var sheet = new CSSStyleSheet(); sheet.replaceSync(css); root.adoptedStyleSheets = [sheet]; }
  catch (e) { var style = document.createElement("style"); style.textContent = css; root.appendChild(style); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }
  var button = el("button", { type: "button", "class": "b", "aria-expanded": "false", "aria-controls": "hwc-panel", "aria-label": T.open });
  button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z"/></svg>';
  var panel = el("div", { id: "hwc-panel", "class": "p", role: "dialog", "aria-labelledby": "hwc-title", hidden: "" });
  var head = el("div", { "class": "h" });
  var title = el("h2", { id: "hwc-title" }, T.title);
  var close = el("button", { type: "button", "class": "x", "aria-label": T.close }, "×");
  head.append(title, close);
  var notice = el("p", { "class": "n", role: "status", hidden: "" }, T.offline);
  var list = el("div", { "class": "l", role: "log", "aria-live": "polite", "aria-label": T.title, tabindex: "0" });
  var form = el("form", {});
  var input = el("textarea", { id: "hwc-text", "aria-label": T.label, maxlength: "2000", rows: "1" });
  var send = el("button", { type: "submit", "class": "g" }, T.send);
  form.append(input, send);
  panel.append(head, notice, list, form);
  root.append(button, panel);

  function bubble(id, from, text, state) {
    var item = shown[id];
    if (!item) {
      item = el("p", {});
      item.append(el("span", { "class": "who" }, (from === "visitor" ? T.you : T.us) + ": "), el("span", {}, text));
      shown[id] = item;
      list.appendChild(item);
      list.scrollTop = list.scrollHeight;
    }
    item.className = "m " + (from === "visitor" ? "v" : state === "welcome" ? "w" : "o");
    var old = item.querySelector(".s");
    if (old) old.remove();
    if (state === "queued" || state === "failed") item.append(el("span", { "class": "s" }, T[state]));
    return item;
  }
  function show(m, live) {
    var local = m.client_id && shown["c:" + m.client_id];
    if (local && !shown[m.id]) { shown[m.id] = local; delete shown["c:" + m.client_id]; }
    bubble(m.id, m.from, m.text);
    if (live && m.from === "hotline" && !isOpen) { button.setAttribute("aria-label", T.open + T.unread); if (!button.querySelector(".dot")) button.append(el("span", { "class": "dot", "aria-hidden": "true" })); }
  }

  function call(method, path, body, extra) {
    var headers = Object.assign({}, extra || {});
    if (token) headers.Authorization = "Bearer " + token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit", mode: "cors", cache: "no-store" });
  }
  function forget() { token = null; lastEvent = null; save("token", null); save("event", null); }
  function session() {
    if (token) return Promise.resolve(token);
    var body = identifier && proof ? { identifier: identifier, identity_hmac: proof } : {};
    return call("POST", "/session", body).then(function (r) {
      if (!r.ok) throw r;
      return r.json();
    }).then(function (s) { token = s.token; save("token", token); greet(s); return token; });
  }
  function greet(s) {
    if (s.title) { title.textContent = s.title; list.setAttribute("aria-label", s.title); }
    if (s.welcome_text && !shown.welcome) bubble("welcome", "hotline", s.welcome_text, "welcome");
  }
  function thread() {
    return call("GET", "/messages").then(function (r) {
      if (r.status === 401 || r.status === 404) { forget(); return session().then(thread); }
      if (!r.ok) throw r;
      return r.json().then(function (t) {
        greet(t);
        t.messages.forEach(show);
        if (lastEvent == null || lastEvent < t.cursor) { lastEvent = t.cursor; save("event", lastEvent); }
      });
    });
  }

  function flush() {
    if (flushing || !outbox.length) return;
    if (!navigator.onLine) return;
    flushing = true;
    var next = outbox[0];
    session().then(function () { return call("POST", "/messages", next); }).then(function (r) {
      if (r.status === 401 || r.status === 404) { forget(); throw r; }
      if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 429 && r.status !== 408)) {
        outbox.shift(); save("outbox", outbox); retry = 1000;
        if (!r.ok) { bubble("c:" + next.client_id, "visitor", next.text, "failed"); return; }
        return r.json().then(function (m) { show(m); bubble(m.id, "visitor", m.text); stream(); });
      }
      throw r;
    }).catch(function () {
      bubble("c:" + next.client_id, "visitor", next.text, "queued");
      setTimeout(flush, retry); retry = Math.min(retry * 2, 30000);
    }).then(function () { flushing = false; if (outbox.length && retry === 1000) flush(); });
  }
  function id() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function parse(onEvent) {
    var buf = "", ev = { data: [] };
    return function (chunk) {
      buf += chunk;
      var lines = buf.split(/\r\n|\n|\r(?!$)/);
      buf = lines.pop();
      lines.forEach(function (line) {
        if (line === "") { if (ev.event || ev.data.length) onEvent(ev); ev = { data: [] }; return; }
        if (line[0] === ":") return;
        var c = line.indexOf(":"), f = c < 0 ? line : line.slice(0, c), v = c < 0 ? "" : line.slice(c + 1);
        if (v[0] === " ") v = v.slice(1);
        if (f === "data") ev.data.push(v); else if (f === "event") ev.event = v; else if (f === "id") ev.id = v;
      });
    };
  }
  function stream() {
    if (streaming || !token || !navigator.onLine) return;
    streaming = true;
    var extra = lastEvent != null ? { "Last-Event-ID": String(lastEvent) } : {};
    var decoder = new TextDecoder();
    call("GET", "/stream", null, extra).then(function (r) {
      if (r.status === 401 || r.status === 404) { forget(); throw r; }
      if (!r.ok || !r.body) throw r;
      streamRetry = 1000;
      var reader = r.body.getReader(), feed = parse(function (ev) {
        if (ev.id) { lastEvent = Number(ev.id); save("event", lastEvent); }
        if (ev.event === "message") show(JSON.parse(ev.data.join("\n")), true);
        else if (ev.event === "reset") thread();
      });
      return (function pump() {
        return reader.read().then(function (x) { if (x.done) return; feed(decoder.decode(x.value, { stream: true })); return pump(); });
      })();
    }).catch(function () { /* reconnected below */ }).then(function () {
      streaming = false;
      setTimeout(stream, streamRetry); streamRetry = Math.min(streamRetry * 2, 30000);
    });
  }

  function online() { notice.hidden = navigator.onLine; if (navigator.onLine) { retry = 1000; streamRetry = 1000; flush(); stream(); } }
  function open() {
    isOpen = true; panel.hidden = false; button.setAttribute("aria-expanded", "true");
    button.setAttribute("aria-label", T.close); var dot = button.querySelector(".dot"); if (dot) dot.remove();
    input.focus();
    if (!started) start();
  }
  function shut() { isOpen = false; panel.hidden = true; button.setAttribute("aria-expanded", "false"); button.setAttribute("aria-label", T.open); button.focus(); }
  var started = false;
  function start() {
    started = true;
    outbox.forEach(function (m) { bubble("c:" + m.client_id, "visitor", m.text, "queued"); });
    if (!navigator.onLine) return;
    session().then(thread).then(function () { stream(); flush(); }).catch(function () { setTimeout(start, 5000); });
  }

  button.addEventListener("click", function () { if (isOpen) shut(); else open(); });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); shut(); } });
  input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); } });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var m = { client_id: id(), text: text };
    outbox.push(m); save("outbox", outbox);
    input.value = "";
    bubble("c:" + m.client_id, "visitor", text, navigator.onLine ? null : "queued");
    flush();
  });
  window.addEventListener("online", online);
  window.addEventListener("offline", online);
  function mount() {
    document.body.appendChild(host);
    notice.hidden = navigator.onLine;
    if (token) { started = true; outbox.forEach(function (m) { bubble("c:" + m.client_id, "visitor", m.text, "queued"); }); thread().then(function () { stream(); flush(); }).catch(function () { started = false; }); }
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
