// Shared by the workspace pages (loaded after htmx, deferred; the CSP allows no inline script).
// Requests htmx makes with the page's cookie carry the session's CSRF token, as the API
// requires of cookie-authenticated changes (web/guard.py).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (window.htmx && meta) {
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    });
  }
})();
