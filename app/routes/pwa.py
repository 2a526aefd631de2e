"""The installable app: manifest, service worker (root scope), offline page, outbox page and API.

The service worker's version is a hash of its own source and of every file it precaches, so any
deploy that changes the shell installs a new worker (and new caches); the phone's outbox lives in
IndexedDB, which no worker version touches.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.utils.scope.state import ScopeState

from app.i18n import gettext
from app.routes.api_responses import reads, writes
from app.services import outbox as outbox_service
from app.settings import ROOT
from app.web import json_errors, page, require_user, user_of

STATIC = ROOT / "static"
SW_SOURCE = STATIC / "sw.js"
HTMX = "/static/vendor/htmx-2.0.11.min.js"

#: Static files the worker precaches (the app shell); pages are added by ``PRECACHE_PAGES``.
PRECACHE_STATIC = [
    "/static/css/app.css",
    HTMX,
    "/static/js/app.js",
    "/static/js/outbox.js",
    "/static/icons/icon-192.png",
    "/static/icons/icon-512.png",
    "/static/icons/maskable-192.png",
    "/static/icons/maskable-512.png",
]
PRECACHE_PAGES = ["/offline", "/outbox", "/manifest.webmanifest"]
#: Templates whose change must also roll the worker (their pages are precached).
PRECACHE_TEMPLATES = ["pwa/offline.html", "pwa/outbox.html", "pwa/_outbox.html", "base.html"]
NO_CACHE = {"cache-control": "no-cache"}
PUBLIC = {"scope": "public"}
ANY = {"scope": "any"}


def sw_version() -> str:
    """A short hash of the worker source and of everything it precaches."""
    digest = hashlib.sha256()
    digest.update(SW_SOURCE.read_bytes())
    for url in PRECACHE_STATIC:
        digest.update(url.encode())
        digest.update((STATIC / url.removeprefix("/static/")).read_bytes())
    templates = ROOT / "app" / "templates"
    for name in PRECACHE_TEMPLATES:
        path = templates / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def render_sw() -> str:
    return (
        SW_SOURCE.read_text(encoding="utf-8")
        .replace('"__FQ_VERSION__"', json.dumps(sw_version()))
        .replace('["__FQ_PRECACHE__"]', json.dumps(PRECACHE_STATIC + PRECACHE_PAGES))
    )


@get("/sw.js", opt={"scope": "public"}, include_in_schema=False)
async def service_worker() -> Response:
    """The service worker, served from the root so its scope is the whole app."""
    return Response(
        render_sw(),
        media_type="text/javascript; charset=utf-8",
        headers={**NO_CACHE, "service-worker-allowed": "/"},
    )


@get("/manifest.webmanifest", opt={"scope": "public"}, include_in_schema=False)
async def manifest() -> Response:
    body = {
        "name": "枫桥",
        "short_name": "枫桥",
        "description": gettext("Grassroots petition and conflict-resolution work"),
        "lang": "zh-CN",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f3f5f7",
        "theme_color": "#1f5f8b",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png",
             "purpose": "any"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png",
             "purpose": "any"},
            {"src": "/static/icons/maskable-192.png", "sizes": "192x192", "type": "image/png",
             "purpose": "maskable"},
            {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json; charset=utf-8",
        headers=NO_CACHE,
    )


@get("/offline", opt={"scope": "public"}, include_in_schema=False)
async def offline(request: Request) -> Response:
    """Shown by the worker for a page that was never opened while online."""
    return page("pwa/offline.html", request)


@get("/outbox", opt={"scope": "public"}, include_in_schema=False)
async def outbox_page(request: Request) -> Response:
    """The records waiting on this phone (read from IndexedDB by outbox.js)."""
    return page("pwa/outbox.html", request)


@get("/api/v1/outbox/whoami", opt=PUBLIC, tags=["outbox"], responses=reads(PUBLIC))
async def whoami(request: Request) -> Response:
    """Who the current session belongs to and the CSRF token to send with replayed records.

    ``{"user": username | null, "csrf": token}``; the outbox replays a record only when
    ``user`` is the user who made it.
    """
    user = user_of(request)
    token = ScopeState.from_scope(request.scope).csrf_token
    return Response(
        {"user": user.username if user else None, "csrf": token if isinstance(token, str) else ""},
        headers={"cache-control": "no-store"},
    )


@post(
    "/api/v1/outbox/heartbeat",
    opt=ANY,
    tags=["outbox"],
    status_code=200,
    responses=writes(ANY, 422),
)
async def heartbeat(request: Request) -> Response:
    """``{device_id, pending, oldest_at}``: what this phone still holds for the current user."""
    user = require_user(request)
    try:
        body: Any = await request.json()
    except Exception:
        body = None
    try:
        device_id, pending, oldest = outbox_service.parse_heartbeat(body)
    except outbox_service.HeartbeatError as exc:
        return json_errors({exc.field: exc.message})
    await outbox_service.record_heartbeat(user.scope, device_id, pending, oldest)
    return Response({"ok": True, "pending": pending,
                     "oldest_at": oldest.isoformat() if isinstance(oldest, datetime) else None})


ROUTES = [service_worker, manifest, offline, outbox_page, whoami, heartbeat]
