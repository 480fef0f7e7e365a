// The 1022 app's service worker: the report form and what it needs open without a network
// (the form's script then keeps the report in IndexedDB until the connection returns).
// Served from /phan-anh/sw.js with `Service-Worker-Allowed: /phan-anh`, so its scope
// covers /phan-anh itself. Everything else goes to the network as usual.
"use strict";

var CACHE = "hotline-1022-portal-v1";
var FORM = "/phan-anh";
var SHELL = [
  FORM,
  "/static/site.css",
  "/static/portal.css",
  "/static/portal/portal.js",
  "/static/portal/icon.svg",
  "/static/portal/icon-192.png",
  "/phan-anh/manifest.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) { return key !== CACHE; }).map(function (key) {
        return caches.delete(key);
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

// Network first (the form's categories and wards stay current), the cached copy offline.
function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (cached) {
      return cached || Response.error();
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === FORM) {
    event.respondWith(networkFirst(request, FORM));
  } else if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
