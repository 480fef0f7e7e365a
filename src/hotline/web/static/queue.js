// Callers waiting in the phone line's queues, on the console's bar and the dashboard's
// wallboard. The server renders the figures ([data-queue-waiting], [data-queue-longest]
// with data-wait-seconds as of the render); each page's event stream hands `queue.now` over
// as a "hotline:queue" DOM event; the longest wait ticks here every second, counted from
// when the figure arrived (the browser's clock may differ from the server's).
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-queue-longest]").forEach(function (node) {
      var base = node.dataset.waitSeconds;
      if (!node.dataset.seenAt) node.dataset.seenAt = String(now);
      var text = "–";
      if (base !== undefined && base !== "") {
        text = clock(Number(base) + Math.floor((now - Number(node.dataset.seenAt)) / 1000));
      }
      if (node.textContent !== text) node.textContent = text;
    });
  }
  document.addEventListener("hotline:queue", function (e) {
    var d = e.detail || {};
    var now = String(Date.now());
    document.querySelectorAll("[data-queue-waiting]").forEach(function (node) {
      node.textContent = String(d.waiting || 0);
    });
    document.querySelectorAll("[data-queue-longest]").forEach(function (node) {
      node.dataset.waitSeconds = d.wait_seconds === null || d.wait_seconds === undefined ? "" : String(d.wait_seconds);
      node.dataset.seenAt = now;
    });
    tick();
  });
  document.addEventListener("dashboard:refreshed", tick); // a fragment swapped in
  tick();
  setInterval(tick, 1000);
})();
