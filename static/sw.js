// Fengqiao service worker, served from /sw.js (root scope) by app/routes/pwa.py, which fills in
// VERSION (a hash of this file and of everything precached) and PRECACHE.
//
// - the app shell (CSS, htmx, app.js, outbox.js, icons, /offline, /outbox) is precached in a
//   versioned cache; old shell caches are deleted when a new version activates;
// - pages are network-first with a cache fallback (cache "fq-pages", kept across versions so the
//   forms and lists opened before still open offline after an update);
// - a new version waits until the page asks it to take over ("new version, reload");
// - the outbox lives in IndexedDB (outbox.js), which no version ever touches; Background Sync
//   replays it here.
"use strict";

var VERSION = "__FQ_VERSION__";
var PRECACHE = ["__FQ_PRECACHE__"];
var SHELL = "fq-shell-" + VERSION;
var PAGES = "fq-pages";
var NETWORK_TIMEOUT_MS = 8000;

importScripts("/static/js/outbox.js");

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      return Promise.all(PRECACHE.map(function (url) {
        // Anonymous and past the HTTP cache: the shell must not carry anybody's session.
        return fetch(new Request(url, { cache: "reload", credentials: "omit" })).then(function (r) {
          if (!r.ok) throw new Error("precache " + url + ": " + r.status);
          return cache.put(url, r);
        });
      }));
    }).then(function () {
      // The very first worker takes over at once; later versions wait for the page's word.
      if (!self.registration.active) return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) {
        return k.indexOf("fq-shell-") === 0 && k !== SHELL;
      }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "SKIP_WAITING") self.skipWaiting();
  else if (data.type === "VERSION" && event.ports && event.ports[0]) event.ports[0].postMessage(VERSION);
  else if (data.type === "REPLAY") event.waitUntil(replayAndTell({ force: true }));
});

function tellClients(result) {
  return self.clients.matchAll({ includeUncontrolled: true, type: "window" }).then(function (list) {
    list.forEach(function (c) { c.postMessage({ type: "outbox-changed", result: result }); });
  });
}

function replayAndTell(opts) {
  return self.FQOutbox.replay(opts || {}).then(function (result) {
    return tellClients(result).then(function () { return result; });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== "fq-outbox") return;
  event.waitUntil(replayAndTell({}).then(function (result) {
    // Still unreachable: fail so the browser schedules another sync.
    if (result && (result.offline || result.unreachable || result.failed)) {
      throw new Error("outbox not empty");
    }
  }));
});

function isShell(url) {
  return PRECACHE.indexOf(url.pathname) >= 0 && url.pathname !== "/offline" &&
    url.pathname !== "/outbox";
}

function timeout(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms, null); });
}

// Pages: network first; the cached copy when the network fails (or is very slow and a copy
// exists); /offline when the page was never opened.
function page(request) {
  var url = new URL(request.url);
  var network = fetch(request).then(function (response) {
    if (response.ok && !response.redirected && response.type === "basic" &&
        (response.headers.get("content-type") || "").indexOf("text/html") === 0 &&
        !url.searchParams.has("fq-outbox")) {
      var copy = response.clone();
      caches.open(PAGES).then(function (c) { return c.put(request.url, copy); });
    }
    return response;
  });
  var cached = function () {
    return caches.open(PAGES).then(function (c) {
      return c.match(request.url).then(function (hit) {
        return hit || c.match(request.url, { ignoreSearch: true });
      });
    }).then(function (hit) {
      return hit || caches.match(url.pathname, { cacheName: SHELL });
    });
  };
  var slow = timeout(NETWORK_TIMEOUT_MS).then(function () {
    return cached().then(function (hit) { return hit || network; });
  });
  return Promise.race([network, slow]).catch(function () {
    return cached().then(function (hit) {
      return hit || caches.match("/offline", { cacheName: SHELL });
    }).then(function (hit) {
      return hit || new Response("offline", { status: 503, headers: { "content-type": "text/plain" } });
    });
  });
}

// A plain (non-htmx) form POST that cannot reach the server: when it is a field-record form
// (a path of OUTBOX_PATHS or of a form[data-outbox] seen by a page), keep it in the outbox and
// show the outbox page instead of the browser's error page.
function plainPost(event) {
  var request = event.request;
  var copy = request.clone();
  var path = new URL(request.url).pathname;
  return fetch(request).catch(function (error) {
    return self.FQOutbox.getMeta("actions").then(function (actions) {
      var known = self.FQOutbox.OUTBOX_PATHS.concat(actions || []);
      if (known.indexOf(path) < 0) throw error; // not a field-record form: the usual error page
      return copy.formData();
    }).then(function (fd) {
      var fields = [];
      fd.forEach(function (v, k) { if (typeof v === "string") fields.push([k, v]); });
      return self.FQOutbox.getMeta("user").then(function (user) {
        var rec = self.FQOutbox.makeRecord(fields, new URL(request.url).pathname, user || "", {
          page: new URL(request.referrer || request.url).pathname, title: "", summary: "",
        });
        return self.FQOutbox.put(rec).then(function () {
          if (self.registration.sync) self.registration.sync.register("fq-outbox").catch(function () {});
          return Response.redirect("/outbox?fq-saved=" + encodeURIComponent(rec.client_uuid), 303);
        });
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    if (request.mode === "navigate") event.respondWith(plainPost(event));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf("/api/") === 0 || url.pathname === "/sw.js") return;
  if (isShell(url)) {
    event.respondWith(
      caches.match(url.pathname, { cacheName: SHELL }).then(function (hit) {
        return hit || fetch(request);
      })
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(request));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fetch(request).catch(function () { return caches.match(request); }));
  }
});
