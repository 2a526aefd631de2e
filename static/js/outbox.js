// Fengqiao offline outbox. Runs in pages (loaded by pwa/_outbox.html) and in the service worker
// (importScripts). A field-record form (form[data-outbox]) that cannot reach the server is kept
// in IndexedDB with its client_uuid and the user who made it, and replayed later: on `online`,
// on Background Sync (the worker), on every page load, with backoff. A record leaves only after
// a 2xx; a 4xx (other than 401 / CSRF) quarantines it with the server's message; a lost session
// keeps everything queued until the same user logs in again. No libraries; no inline code (CSP).
(function (global) {
  "use strict";

  var DB_NAME = "fengqiao-outbox";
  var DB_VERSION = 1;
  var RECORDS = "records";
  var META = "meta";
  var LOCK = "fq-outbox-replay";
  var SEND_TIMEOUT_MS = 15000;
  var FORM_TIMEOUT_MS = 20000;
  var BACKOFF_BASE_MS = 2000;
  var BACKOFF_MAX_MS = 5 * 60 * 1000;
  // Plain (non-htmx) POST navigations to these paths are kept by the worker when they fail.
  var OUTBOX_PATHS = ["/visits", "/calls", "/mediations"];
  var isWindow = typeof document !== "undefined";

  // ---------------------------------------------------------------- IndexedDB
  var dbPromise = null;
  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = function () {
        // Only ever add stores: no version of the app may drop queued records.
        var db = req.result;
        if (!db.objectStoreNames.contains(RECORDS)) {
          var store = db.createObjectStore(RECORDS, { keyPath: "client_uuid" });
          store.createIndex("user", "user");
        }
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META, { keyPath: "key" });
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = function () { dbPromise = null; reject(req.error); };
    });
    return dbPromise;
  }

  function tx(store, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
        var req = fn(t.objectStore(store));
        if (req) req.onsuccess = function () { result = req.result; };
      });
    });
  }

  function allRecords() {
    return tx(RECORDS, "readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return a.created_at < b.created_at ? -1 : 1; });
    });
  }
  function getRecord(id) { return tx(RECORDS, "readonly", function (s) { return s.get(id); }); }
  function putRecord(rec) { return tx(RECORDS, "readwrite", function (s) { return s.put(rec); }); }
  function deleteRecord(id) { return tx(RECORDS, "readwrite", function (s) { return s.delete(id); }); }
  function getMeta(key) {
    return tx(META, "readonly", function (s) { return s.get(key); }).then(function (row) {
      return row ? row.value : null;
    });
  }
  function setMeta(key, value) {
    return tx(META, "readwrite", function (s) { return s.put({ key: key, value: value }); });
  }

  // ---------------------------------------------------------------- helpers
  function uuid4() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    var b = new Uint8Array(16);
    global.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function backoff(attempts) {
    var ms = BACKOFF_BASE_MS * Math.pow(2, Math.max(0, attempts - 1));
    return Math.min(BACKOFF_MAX_MS, ms) + Math.floor(Math.random() * 500);
  }

  function withTimeout(ms) {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, ms);
    return { signal: ctl.signal, done: function () { clearTimeout(timer); } };
  }

  function stripTags(html) {
    return html.replace(/<script[\s\S]*?<\/script>/gi, "").replace(/<style[\s\S]*?<\/style>/gi, "")
      .replace(/<[^>]+>/g, " ").replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
      .replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
  }

  // The server's message for a refused record: per-field errors of a re-rendered form, the alert
  // of an error page, or the JSON errors.
  function serverMessage(text, contentType) {
    try {
      if (contentType && contentType.indexOf("json") >= 0) {
        var body = JSON.parse(text);
        var parts = [];
        if (body.errors) Object.keys(body.errors).forEach(function (k) { parts.push(k + ": " + body.errors[k]); });
        if (!parts.length && body.detail) parts.push(String(body.detail));
        return parts.join("; ");
      }
    } catch (e) { /* fall through to text */ }
    // per-field messages first; the form's general alert only when there are none
    var found = fieldErrors(text).map(function (e) { return e[1]; });
    var re = /<(\w+)[^>]*class="[^"]*\balert error\b[^"]*"[^>]*>([\s\S]*?)<\/\1>/g;
    var m;
    while (!found.length && (m = re.exec(text)) !== null) {
      var t = stripTags(m[2]);
      if (t && found.indexOf(t) < 0) found.push(t);
    }
    if (!found.length) {
      var p = /<main[^>]*>([\s\S]*?)<\/main>/i.exec(text);
      found.push(stripTags(p ? p[1] : text).slice(0, 300));
    }
    return found.join(" ");
  }

  // [[field name, message], ...] from a re-rendered form (<span class="field-error" id="x-error">)
  function fieldErrors(text) {
    var out = [];
    var re = /<(\w+)[^>]*class="[^"]*\bfield-error\b[^"]*"[^>]*>([\s\S]*?)<\/\1>/g;
    var m;
    while ((m = re.exec(text)) !== null) {
      var id = /\bid="([\w-]+?)-error"/.exec(m[0]);
      var t = stripTags(m[2]);
      if (t) out.push([id ? id[1] : "", t]);
    }
    return out;
  }

  // ---------------------------------------------------------------- replay
  // Who the session belongs to now, and the CSRF token of the current session (never the stale
  // one stored with a record). null when the server cannot be reached.
  function whoami() {
    var t = withTimeout(SEND_TIMEOUT_MS);
    return fetch("/api/v1/outbox/whoami", {
      credentials: "same-origin", cache: "no-store", signal: t.signal,
      headers: { "accept": "application/json" },
    }).then(function (r) {
      t.done();
      if (!r.ok) return null;
      return r.json();
    }).catch(function () { t.done(); return null; });
  }

  function send(rec, csrf) {
    var body = new URLSearchParams();
    rec.fields.forEach(function (kv) { if (kv[0] !== "_csrf_token") body.append(kv[0], kv[1]); });
    body.append("_csrf_token", csrf);
    var t = withTimeout(SEND_TIMEOUT_MS);
    return fetch(rec.action, {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      redirect: "manual", signal: t.signal,
      headers: { "HX-Request": "true", "x-csrftoken": csrf, "X-Fq-Outbox": "replay" },
    }).then(function (r) {
      t.done();
      if (r.type === "opaqueredirect") return { kind: "login" };
      if (r.ok) return { kind: "ok", status: r.status };
      if (r.status === 401) return { kind: "login", status: 401 };
      if (r.status === 408 || r.status === 429 || r.status >= 500) {
        return { kind: "retry", status: r.status, message: "HTTP " + r.status };
      }
      return r.text().then(function (text) {
        var msg = serverMessage(text, r.headers.get("content-type") || "");
        var ct = r.headers.get("content-type") || "";
        var fields = ct.indexOf("json") >= 0 ? [] : fieldErrors(text);
        try { if (ct.indexOf("json") >= 0) fields = Object.entries(JSON.parse(text).errors || {}); } catch (e) { /* none */ }
        return { kind: r.status === 403 ? "forbidden" : "reject", status: r.status, message: msg,
                 fields: fields };
      });
    }).catch(function (e) {
      t.done();
      return { kind: "retry", network: true, message: String(e && e.message || e) };
    });
  }

  function runReplay(opts) {
    var result = { sent: 0, quarantined: 0, failed: 0, waiting: 0, otherUser: 0,
                   needLogin: false, offline: false, user: null };
    return allRecords().then(function (recs) {
      var pending = recs.filter(function (r) { return r.state === "pending"; });
      return whoami().then(function (who) {
        if (!who) { result.offline = true; return result; }
        result.user = who.user;
        if (!pending.length) return result;
        if (!who.user) { result.needLogin = true; return result; }
        var now = Date.now();
        var csrf = who.csrf;
        var refreshed = false;
        var i = 0;
        function next() {
          if (i >= pending.length) return result;
          var rec = pending[i++];
          if (rec.user !== who.user) { result.otherUser += 1; return next(); }
          if (!opts.force && rec.next_try && rec.next_try > now) { result.waiting += 1; return next(); }
          return getRecord(rec.client_uuid).then(function (cur) {
            if (!cur || cur.state !== "pending") return next();
            return attempt(cur);
          });
        }
        function attempt(cur) {
          return send(cur, csrf).then(function (out) {
            if (out.kind === "ok") {
              result.sent += 1;
              return deleteRecord(cur.client_uuid).then(next);
            }
            if (out.kind === "login") { result.needLogin = true; return result; }
            if (out.kind === "forbidden" && !refreshed) {
              // Perhaps the CSRF token changed: fetch the current one and try once more.
              refreshed = true;
              return whoami().then(function (w) {
                if (!w) { result.offline = true; return result; }
                if (!w.user || w.user !== who.user) { result.needLogin = true; return result; }
                csrf = w.csrf;
                return attempt(cur);
              });
            }
            if (out.kind === "reject" || out.kind === "forbidden") {
              cur.state = "quarantined";
              cur.status = out.status;
              cur.message = out.message;
              cur.field_errors = out.fields || [];
              cur.quarantined_at = new Date().toISOString();
              result.quarantined += 1;
              return putRecord(cur).then(next);
            }
            cur.attempts = (cur.attempts || 0) + 1;
            cur.next_try = Date.now() + backoff(cur.attempts);
            cur.last_error = out.message || "";
            result.failed += 1;
            return putRecord(cur).then(function () {
              if (out.network) { result.unreachable = true; return result; }
              return next();
            });
          });
        }
        return next();
      });
    });
  }

  // Only one context (tab or worker) replays at a time; exactly-once on the server does not
  // depend on it (client_uuid), but it avoids sending a record twice for nothing.
  function replay(opts) {
    opts = opts || {};
    var run = function () {
      return runReplay(opts).then(function (res) {
        return heartbeat(res).then(function () { return res; });
      });
    };
    if (global.navigator && navigator.locks && navigator.locks.request) {
      return navigator.locks.request(LOCK, { ifAvailable: !!opts.ifAvailable }, function (lock) {
        if (!lock) return { skipped: true };
        return run();
      });
    }
    return run();
  }

  function deviceId() {
    return getMeta("device_id").then(function (id) {
      if (id) return id;
      var fresh = uuid4().replace(/-/g, "");
      try { if (isWindow && global.localStorage) fresh = localStorage.getItem("fq-device-id") || fresh; } catch (e) { /* private mode */ }
      try { if (isWindow && global.localStorage) localStorage.setItem("fq-device-id", fresh); } catch (e) { /* private mode */ }
      return setMeta("device_id", fresh).then(function () { return fresh; });
    });
  }

  // Tell the server how many records this phone still holds for the logged-in user (when that
  // changed, and at least every few minutes while the phone is online).
  var HEARTBEAT_EVERY_MS = 5 * 60 * 1000;
  function heartbeat(res) {
    if (!res || res.skipped || res.offline || !res.user) return Promise.resolve();
    return Promise.all([allRecords(), deviceId(), whoami(), getMeta("heartbeat")]).then(function (v) {
      var who = v[2];
      if (!who || who.user !== res.user) return;
      var mine = v[0].filter(function (r) { return r.user === res.user; });
      var oldest = mine.length ? mine[0].created_at : null;
      var last = v[3];
      if (last && last.user === who.user && last.pending === mine.length &&
          last.oldest_at === oldest && Date.now() - last.at < HEARTBEAT_EVERY_MS) return;
      return fetch("/api/v1/outbox/heartbeat", {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "content-type": "application/json", "x-csrftoken": who.csrf },
        body: JSON.stringify({ device_id: v[1], pending: mine.length, oldest_at: oldest }),
      }).then(function (r) {
        if (r.ok) {
          return setMeta("heartbeat", { user: who.user, pending: mine.length, oldest_at: oldest,
                                        at: Date.now() });
        }
      }).catch(function () { /* next time */ });
    }).catch(function () { /* next time */ });
  }

  function makeRecord(fields, action, user, extra) {
    var uuid = null;
    fields.forEach(function (kv) { if (kv[0] === "client_uuid" && kv[1]) uuid = kv[1]; });
    if (!uuid) { uuid = uuid4(); fields.push(["client_uuid", uuid]); }
    var rec = {
      client_uuid: uuid, user: user || "", action: action, fields: fields,
      created_at: new Date().toISOString(), state: "pending", attempts: 0, next_try: 0,
      message: "", status: 0,
    };
    Object.keys(extra || {}).forEach(function (k) { rec[k] = extra[k]; });
    return rec;
  }

  var api = {
    openDb: openDb, all: allRecords, get: getRecord, put: putRecord, remove: deleteRecord,
    getMeta: getMeta, setMeta: setMeta, replay: replay, heartbeat: heartbeat, whoami: whoami,
    makeRecord: makeRecord, uuid4: uuid4, send: send, OUTBOX_PATHS: OUTBOX_PATHS,
  };
  global.FQOutbox = api;

  if (!isWindow) return;

  // ================================================================ page side
  var msgs = {};
  var lastCount = 0;
  var retryTimer = null;
  var reloadOnControllerChange = false;
  var lastUser = "";

  function msg(name, n, user) {
    var text = msgs[name] || name;
    if (n !== undefined) text = text.split("{n}").join(String(n));
    if (user !== undefined) text = text.split("{user}").join(String(user));
    return text;
  }

  function currentUser() {
    var meta = document.querySelector("meta[name=fq-user]");
    return meta ? meta.getAttribute("content") : "";
  }

  function emit() {
    document.dispatchEvent(new CustomEvent("fq:outbox-changed"));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function setStatus(kind, text) {
    var box = document.getElementById("fq-outbox-status");
    if (!box) return;
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.className = "alert " + kind;
    box.textContent = text;
    box.hidden = false;
  }

  function refreshBadge() {
    return allRecords().then(function (recs) {
      var user = currentUser();
      var mine = recs.filter(function (r) { return !user || r.user === user; });
      lastCount = mine.length;
      var badge = document.getElementById("outbox-badge");
      if (badge) {
        badge.textContent = mine.length ? String(mine.length) : "";
        badge.hidden = mine.length === 0;
        badge.title = msg("badge", mine.length);
        badge.setAttribute("aria-label", msg("badge", mine.length));
        badge.dataset.count = String(mine.length);
      }
      renderList(recs);
      return mine;
    }).catch(function () { return []; });
  }

  function showResult(res) {
    if (!res || res.skipped) return;
    var user = currentUser();
    allRecords().then(function (recs) {
      var mine = recs.filter(function (r) { return !user || r.user === user; });
      var pending = mine.filter(function (r) { return r.state === "pending"; }).length;
      var bad = mine.filter(function (r) { return r.state === "quarantined"; }).length;
      if (res.needLogin && pending) setStatus("warn", msg("login", pending));
      else if (bad) setStatus("error", msg("quarantined", bad));
      else if (pending && (res.offline || res.unreachable || !navigator.onLine)) setStatus("warn", msg("offline", pending));
      else if (pending) setStatus("warn", msg("waiting", pending));
      else if (res.sent) setStatus("ok", msg("sent", res.sent));
      else setStatus("", "");
    });
  }

  function scheduleRetry() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    allRecords().then(function (recs) {
      var times = recs.filter(function (r) { return r.state === "pending" && r.next_try; })
        .map(function (r) { return r.next_try; });
      if (!times.length) return;
      var wait = Math.max(500, Math.min.apply(null, times) - Date.now());
      retryTimer = setTimeout(function () { doReplay({ ifAvailable: true }); }, wait);
    });
  }

  function doReplay(opts) {
    return replay(opts || {}).then(function (res) {
      showResult(res);
      return refreshBadge().then(function () { scheduleRetry(); return res; });
    }).catch(function () { scheduleRetry(); });
  }

  // A field-record form's values as [name, value] pairs (files are not kept offline).
  function formFields(form, submitter) {
    var fd;
    try { fd = submitter ? new FormData(form, submitter) : new FormData(form); } catch (e) { fd = new FormData(form); }
    var out = [];
    fd.forEach(function (v, k) { if (typeof v === "string") out.push([k, v]); });
    return out;
  }

  function formAction(form) {
    var a = form.getAttribute("hx-post") || form.getAttribute("action") || location.pathname;
    return new URL(a, location.href).pathname;
  }

  // What the worker recognises a record by: where (address / parties) and what (summary).
  function summaryOf(fields) {
    var pick = ["address", "parties", "petitioner_name", "summary"];
    var parts = [];
    pick.forEach(function (name) {
      fields.forEach(function (kv) {
        if (kv[0] === name && kv[1] && parts.length < 2) parts.push(kv[1].trim());
      });
    });
    var text = parts.join(" · ");
    return text.length > 90 ? text.slice(0, 89) + "…" : text;
  }

  function pageTitle() {
    var h = document.querySelector("main h1, main h2");
    return (h ? h.textContent : document.title.split(" · ")[0]).trim();
  }

  function noteNear(form, kind, text) {
    var prev = form.previousElementSibling;
    var note = prev && prev.hasAttribute("data-outbox-note") ? prev : el("div");
    note.setAttribute("data-outbox-note", "");
    note.setAttribute("role", "status");
    note.className = "alert " + kind;
    note.textContent = text;
    if (note !== prev) form.parentNode.insertBefore(note, form);
    return note;
  }

  function freshUuid(form) {
    var input = form.querySelector("input[name=client_uuid]");
    if (input) input.value = uuid4();
  }

  function keep(form, submitter) {
    var fields = formFields(form, submitter);
    var user = currentUser();
    var rec = makeRecord(fields, formAction(form), user, {
      page: location.pathname, title: pageTitle(), summary: summaryOf(fields),
    });
    if (form.dataset.outboxFixing === rec.client_uuid) delete form.dataset.outboxFixing;
    // A blank form with a new client_uuid at once: the next record must never reuse this one.
    form.reset();
    freshUuid(form);
    return putRecord(rec).then(function () {
      var note = noteNear(form, "warn", msg("saved"));
      // the worker pressed Save at the bottom of a long form: bring the confirmation into view
      note.tabIndex = -1;
      note.scrollIntoView({ block: "center" });
      note.focus({ preventScroll: true });
      form.dispatchEvent(new CustomEvent("fq:outbox-saved", { bubbles: true, detail: { client_uuid: rec.client_uuid } }));
      requestPersist();
      registerSync();
      return refreshBadge();
    }).then(function () {
      showResult({ offline: !navigator.onLine });
      scheduleRetry();
    });
  }

  function requestPersist() {
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (done) {
        if (!done) return navigator.storage.persist();
      }).catch(function () { /* not granted */ });
    }
  }

  function registerSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync && reg.sync.register) return reg.sync.register("fq-outbox");
    }).catch(function () { /* no Background Sync: online/page-load replay covers it */ });
  }

  function isOutboxForm(node) {
    return node && node.matches && node.matches("form[data-outbox]");
  }

  function onSubmit(ev) {
    var form = ev.target;
    if (form && form.id === "logout-form") return onLogout(ev);
    if (!isOutboxForm(form)) return;
    var viaHtmx = !!(global.htmx && form.getAttribute("hx-post"));
    if (!navigator.onLine) {
      // Certainly offline: do not even try; keep it on the phone.
      ev.preventDefault();
      ev.stopPropagation();
      keep(form, ev.submitter);
      return;
    }
    if (!viaHtmx) return; // a plain POST: the worker keeps it if the network fails
  }

  function onLogout(ev) {
    var form = ev.target;
    if (form.dataset.confirmed === "1") return;
    ev.preventDefault();
    var go = function () {
      form.dataset.confirmed = "1";
      // Pages of this user must not be shown to the next one offline.
      clearPages().then(function () { form.submit(); });
    };
    if (lastCount > 0 && !window.confirm(msg("logout", lastCount))) return;
    go();
  }

  // The cached pages (network-first copies of lists and records) of whoever used this phone.
  function clearPages() {
    if (!global.caches) return Promise.resolve();
    return caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("fq-pages") === 0; })
        .map(function (k) { return caches.delete(k); }));
    }).catch(function () {});
  }

  function onHtmxFailure(ev) {
    var form = ev.detail && ev.detail.elt;
    if (!isOutboxForm(form)) return;
    var xhr = ev.detail.xhr;
    if (ev.type === "htmx:responseError" && !(xhr && xhr.status >= 502 && xhr.status <= 504)) return;
    if (form._fqKept) return; // a timeout may be followed by an error event for one request
    form._fqKept = true;
    keep(form, null);
  }

  function onHtmxConfig(ev) {
    var form = ev.detail && ev.detail.elt;
    if (!isOutboxForm(form)) return;
    var params = ev.detail.parameters;
    var uuid = params && params.get ? params.get("client_uuid") : null;
    form._fqUuid = uuid;
    form._fqKept = false;
  }

  function onHtmxAfter(ev) {
    var form = ev.detail && (ev.detail.requestConfig && ev.detail.requestConfig.elt || ev.detail.elt);
    if (!isOutboxForm(form)) return;
    var xhr = ev.detail.xhr;
    if (!xhr || xhr.status < 200 || xhr.status >= 300 || !form._fqUuid) return;
    // A record opened from the outbox and sent from the form: it has reached the server.
    var note = form.previousElementSibling;
    if (note && note.hasAttribute("data-outbox-note")) note.remove();
    getRecord(form._fqUuid).then(function (rec) {
      if (rec) {
        return deleteRecord(rec.client_uuid).then(refreshBadge).then(function () {
          showResult({ sent: 1 });
        });
      }
    });
  }

  function prepareForms(root) {
    (root || document).querySelectorAll("form[data-outbox]").forEach(function (form) {
      if (!form.hasAttribute("hx-request")) form.setAttribute("hx-request", JSON.stringify({ timeout: FORM_TIMEOUT_MS }));
    });
  }

  // A blank form opened from the cache still carries the time it was rendered as its default
  // "when" (e.g. visited_at): a default (untouched, no errors shown) more than 10 minutes old
  // becomes the phone's current time.
  function refreshStaleTimes() {
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var d = new Date();
    var now = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
    document.querySelectorAll("form[data-outbox]").forEach(function (form) {
      if (form.querySelector(".has-error, .alert.error")) return;
      form.querySelectorAll("input[type=datetime-local]").forEach(function (input) {
        if (!input.value || input.value !== input.defaultValue) return;
        var then = new Date(input.value);
        if (!isNaN(then) && Date.now() - then.getTime() > 10 * 60 * 1000) input.value = now;
      });
    });
  }

  // The worker keeps failed plain POSTs only to the actions of outbox forms it has been told of.
  function rememberActions() {
    var seen = Array.prototype.map.call(document.querySelectorAll("form[data-outbox]"), formAction);
    if (!seen.length) return;
    getMeta("actions").then(function (known) {
      known = known || [];
      var merged = known.concat(seen.filter(function (a) { return known.indexOf(a) < 0; }));
      if (merged.length !== known.length) return setMeta("actions", merged.slice(-50));
    }).catch(function () {});
  }

  // ---- open a kept record in its form to fix it (?fq-outbox=<client_uuid>)
  function fill(form, fields) {
    var values = {};
    fields.forEach(function (kv) { (values[kv[0]] = values[kv[0]] || []).push(kv[1]); });
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.name === "_csrf_token") return;
      var vals = values[input.name];
      if (input.type === "checkbox" || input.type === "radio") {
        input.checked = !!vals && vals.indexOf(input.value) >= 0;
      } else if (input.tagName === "SELECT" && input.multiple) {
        Array.prototype.forEach.call(input.options, function (o) { o.selected = !!vals && vals.indexOf(o.value) >= 0; });
      } else if (vals && vals.length) {
        input.value = vals.shift();
      } else if (input.type !== "hidden" && input.type !== "submit" && input.type !== "button") {
        input.value = "";
      }
    });
  }

  function openForFix() {
    var id = new URLSearchParams(location.search).get("fq-outbox");
    if (!id) return Promise.resolve(false);
    return getRecord(id).then(function (rec) {
      if (!rec) return false;
      var forms = Array.prototype.filter.call(document.querySelectorAll("form[data-outbox]"), function (f) {
        return formAction(f) === rec.action;
      });
      var form = forms[0] || document.querySelector("form[data-outbox]");
      if (!form) return false;
      fill(form, rec.fields);
      form.dataset.outboxFixing = rec.client_uuid;
      (rec.field_errors || []).forEach(function (fe) {
        if (!fe[0]) return;
        var input = form.querySelector("[name='" + fe[0].replace(/'/g, "") + "']");
        if (!input) return;
        input.setAttribute("aria-invalid", "true");
        var wrap = input.closest(".field");
        if (wrap) wrap.classList.add("has-error");
        if (wrap && !wrap.querySelector(".field-error")) wrap.appendChild(el("span", "field-error", fe[1]));
      });
      var note = noteNear(form, rec.state === "quarantined" ? "error" : "warn",
        rec.message ? msg("fix") + " " + rec.message : msg("fix"));
      note.scrollIntoView({ block: "center" });
      return true;
    });
  }

  // ---- the /outbox page
  function fmtTime(iso) {
    try { return new Date(iso).toLocaleString(document.documentElement.lang || undefined); } catch (e) { return iso; }
  }

  function renderList(recs) {
    var list = document.getElementById("outbox-list");
    if (!list) return;
    // On a shared phone a user sees the contents of their own records only; the others' are
    // counted (they are sent when their author logs in here again).
    var user = currentUser() || lastUser;
    var others = user ? recs.filter(function (r) { return r.user !== user; }) : [];
    var shown = user ? recs.filter(function (r) { return r.user === user; }) : recs;
    list.textContent = "";
    var empty = document.getElementById("outbox-empty");
    if (empty) empty.hidden = shown.length > 0;
    if (others.length) {
      var line = el("p", "alert warn outbox-others", msg("others", others.length));
      list.appendChild(line);
    }
    shown.forEach(function (rec) {
      var card = el("article", "card outbox-record");
      card.dataset.uuid = rec.client_uuid;
      card.dataset.state = rec.state;
      var h = el("h2", null, rec.title || rec.action);
      card.appendChild(h);
      var meta = el("p", "muted", fmtTime(rec.created_at) + (rec.user ? " · " + rec.user : ""));
      card.appendChild(meta);
      if (rec.summary) card.appendChild(el("p", null, rec.summary));
      var state = el("p", "outbox-state");
      var label = rec.state === "quarantined" ? msg("state-quarantined") : msg("state-pending");
      state.appendChild(el("strong", null, label));
      if (rec.state === "pending" && rec.attempts) state.appendChild(document.createTextNode(" · " + msg("attempts", rec.attempts)));
      card.appendChild(state);
      if (rec.state === "quarantined" && rec.message) {
        var m = el("div", "alert error outbox-message", rec.message);
        m.setAttribute("role", "note");
        card.appendChild(m);
      }
      var actions = el("p", "actions");
      var fix = el("a", "button outbox-fix", msg("fix-open"));
      fix.href = (rec.page || rec.action) + "?fq-outbox=" + encodeURIComponent(rec.client_uuid);
      actions.appendChild(fix);
      var resend = el("button", "primary outbox-resend", msg("resend"));
      resend.type = "button";
      resend.addEventListener("click", function () {
        getRecord(rec.client_uuid).then(function (cur) {
          if (!cur) return;
          cur.state = "pending"; cur.next_try = 0; cur.attempts = 0; cur.message = "";
          return putRecord(cur);
        }).then(function () { return doReplay({ force: true }); });
      });
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(resend);
      var del = el("button", "danger outbox-delete", msg("delete"));
      del.type = "button";
      del.addEventListener("click", function () {
        if (!window.confirm(msg("delete-confirm"))) return;
        deleteRecord(rec.client_uuid).then(refreshBadge).then(function () { return doReplay({ ifAvailable: true }); });
      });
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(del);
      card.appendChild(actions);
      list.appendChild(card);
    });
  }

  // ---- service worker: register, announce updates
  function showUpdate(reg) {
    var box = document.getElementById("fq-update");
    if (!box || !reg.waiting) return;
    box.hidden = false;
    var btn = box.querySelector("button");
    if (btn && !btn._fqBound) {
      btn._fqBound = true;
      btn.addEventListener("click", function () {
        reloadOnControllerChange = true;
        if (reg.waiting) reg.waiting.postMessage({ type: "SKIP_WAITING" });
        else location.reload();
      });
    }
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (reloadOnControllerChange) location.reload();
    });
    navigator.serviceWorker.addEventListener("message", function (ev) {
      if (ev.data && ev.data.type === "outbox-changed") { refreshBadge(); showResult(ev.data.result); }
    });
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (reg) {
      if (reg.waiting && navigator.serviceWorker.controller) showUpdate(reg);
      reg.addEventListener("updatefound", function () {
        var w = reg.installing;
        if (!w) return;
        w.addEventListener("statechange", function () {
          if (w.state === "installed" && navigator.serviceWorker.controller) showUpdate(reg);
        });
      });
    }).catch(function () { /* no worker: the outbox still works while this page is open */ });
  }

  function start() {
    var holder = document.getElementById("fq-outbox-msgs");
    if (holder) {
      Object.keys(holder.dataset).forEach(function (k) {
        if (k.indexOf("msg") === 0) {
          var name = k.slice(3).replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); }).replace(/^-/, "");
          msgs[name] = holder.dataset[k];
        }
      });
    }
    var user = currentUser();
    if (user) {
      // the last user of this phone; when it was somebody else (their session ended without a
      // logout, which clears the pages), their cached pages must not be shown to this one
      getMeta("user").then(function (previous) {
        if (previous && previous !== user) return clearPages();
      }).then(function () { return setMeta("user", user); }).catch(function () {});
    }
    prepareForms(document);
    rememberActions();
    // A page served from the cache carries the client_uuid of the day it was cached: every
    // blank form gets a fresh one so two records typed offline never share it.
    document.querySelectorAll("form[data-outbox] input[name=client_uuid]").forEach(function (input) {
      input.value = uuid4();
    });
    refreshStaleTimes();
    var badge = document.getElementById("outbox-badge");
    if (badge) {
      badge.setAttribute("role", "link");
      badge.tabIndex = 0;
      badge.addEventListener("click", function () { location.href = "/outbox"; });
    }
    document.addEventListener("submit", onSubmit, true);
    document.addEventListener("htmx:configRequest", onHtmxConfig);
    document.addEventListener("htmx:sendError", onHtmxFailure);
    document.addEventListener("htmx:timeout", onHtmxFailure);
    document.addEventListener("htmx:responseError", onHtmxFailure);
    // before the swap: an outerHTML swap detaches the form, and events on it no longer bubble
    document.addEventListener("htmx:beforeSwap", onHtmxAfter);
    document.addEventListener("htmx:load", function (ev) { prepareForms(ev.target); });
    global.addEventListener("online", function () { doReplay({ force: true }); });
    global.addEventListener("offline", function () { showResult({ offline: true }); });
    registerWorker();
    getMeta("user").then(function (u) { lastUser = user || u || ""; }, function () {})
      .then(openForFix).then(function () {
      var saved = new URLSearchParams(location.search).get("fq-saved");
      var main = document.getElementById("main");
      if (saved && main) {
        var note = el("div", "alert warn", msg("saved"));
        note.setAttribute("data-outbox-note", "");
        note.setAttribute("role", "status");
        main.insertBefore(note, main.firstChild);
      }
      return refreshBadge();
    }).then(function (mine) {
      if (mine.length) requestPersist();
      return doReplay({});
    }).then(function () {
      setInterval(function () { if (navigator.onLine) doReplay({ ifAvailable: true }); }, 60000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(typeof self !== "undefined" ? self : this);
