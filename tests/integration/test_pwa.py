"""PWA routes: manifest, service worker (root scope, no-cache, versioned), offline and outbox
pages, whoami, and the outbox heartbeat (stored per user and phone, scoped by unit)."""

from __future__ import annotations

import json
import re

from app.routes import pwa


async def test_manifest_is_installable(session):
    response = await session().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    body = json.loads(response.text)
    assert body["name"] == "枫桥"
    assert body["short_name"]
    assert body["start_url"] == "/"
    assert body["display"] == "standalone"
    assert body["theme_color"].startswith("#") and body["background_color"].startswith("#")
    sizes = {(i["sizes"], i["purpose"]) for i in body["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in body["icons"]:
        r = await session().get(icon["src"])
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/png"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = int.from_bytes(r.content[16:20], "big"), int.from_bytes(r.content[20:24], "big")
        assert f"{w}x{h}" == icon["sizes"]


async def test_service_worker_served_from_root_with_a_content_version(session):
    response = await session().get("/sw.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    text = response.text
    assert "__FQ_VERSION__" not in text and "__FQ_PRECACHE__" not in text
    version = re.search(r'var VERSION = "([0-9a-f]{12})"', text).group(1)
    assert version == pwa.sw_version()
    precache = json.loads(re.search(r"var PRECACHE = (\[.*?\]);", text).group(1))
    for url in ["/static/vendor/htmx-2.0.11.min.js", "/static/js/outbox.js", "/static/js/app.js",
                "/static/css/app.css", "/offline", "/static/icons/maskable-512.png"]:
        assert url in precache
    for url in precache:  # every precached URL answers (the worker's install needs all of them)
        assert (await session().get(url)).status_code == 200, url


async def test_offline_and_outbox_pages_are_public_and_carry_the_outbox_texts(session):
    for path in ["/offline", "/outbox"]:
        response = await session().get(path)
        assert response.status_code == 200
        assert 'id="fq-outbox-msgs"' in response.text
        assert "/static/js/outbox.js" in response.text
        assert "data-msg-saved=" in response.text
    assert "已保存在本机" in (await session().get("/outbox")).text


async def test_whoami_names_the_session_user_and_gives_the_csrf_token(session, as_user):
    anon = await session().get("/api/v1/outbox/whoami")
    assert anon.status_code == 200
    assert anon.json()["user"] is None
    assert anon.headers["cache-control"] == "no-store"
    grid = await as_user("grid")
    body = (await grid.get("/api/v1/outbox/whoami")).json()
    assert body["user"] == "grid"
    assert body["csrf"] and body["csrf"] == grid.csrf


async def test_heartbeat_needs_login_and_csrf(session, as_user):
    s = session()
    assert (await s.post_json("/api/v1/outbox/heartbeat",
                              {"device_id": "abcdefgh1234", "pending": 1})).status_code == 401
    grid = await as_user("grid")
    response = await grid.request("POST", "/api/v1/outbox/heartbeat",
                                   json={"device_id": "abcdefgh1234", "pending": 1})
    assert response.status_code == 403


async def test_heartbeat_is_stored_per_user_and_phone_and_scoped(as_user, sql, client):
    import anyio

    from app.domain.roles import Scope
    from app.services import outbox

    async def pending_on_phones(scope: Scope) -> dict:
        # the app's pool lives on the test client's portal loop: run the service there
        return await anyio.to_thread.run_sync(
            client.blocking_portal.call, outbox.pending_on_phones, scope)

    await sql.execute("DELETE FROM outbox_heartbeat")
    grid = await as_user("grid")
    first = await grid.post_json("/api/v1/outbox/heartbeat", {
        "device_id": "phone-aaaa-1111", "pending": 3, "oldest_at": "2026-11-01T08:00:00Z"})
    assert first.status_code == 200, first.text
    again = await grid.post_json("/api/v1/outbox/heartbeat", {
        "device_id": "phone-aaaa-1111", "pending": 2, "oldest_at": "2026-11-01T09:00:00Z"})
    assert again.status_code == 200
    other_phone = await grid.post_json("/api/v1/outbox/heartbeat", {
        "device_id": "phone-bbbb-2222", "pending": 1, "oldest_at": None})
    assert other_phone.status_code == 200
    grid2 = await as_user("grid2")
    assert (await grid2.post_json("/api/v1/outbox/heartbeat", {
        "device_id": "phone-cccc-3333", "pending": 5})).status_code == 200
    # an emptied phone counts for nothing
    assert (await grid2.post_json("/api/v1/outbox/heartbeat", {
        "device_id": "phone-dddd-4444", "pending": 0})).status_code == 200

    rows = await sql.fetch(
        "SELECT h.device_id, h.pending, u.username FROM outbox_heartbeat h "
        "JOIN app_user u ON u.id = h.user ORDER BY h.device_id")
    assert [(r["device_id"], r["pending"], r["username"]) for r in rows] == [
        ("phone-aaaa-1111", 2, "grid"), ("phone-bbbb-2222", 1, "grid"),
        ("phone-cccc-3333", 5, "grid2"), ("phone-dddd-4444", 0, "grid2")]

    async def scope_of(username: str) -> Scope:
        row = await sql.fetchrow(
            "SELECT u.id, u.role, u.unit, un.path FROM app_user u "
            "LEFT JOIN unit un ON un.id = u.unit WHERE u.username = $1", username)
        return Scope(user_id=row["id"], role=row["role"], unit_id=row["unit"],
                     unit_path=row["path"])

    street = await pending_on_phones(await scope_of("street"))
    assert (street["records"], street["phones"]) == (3, 2)
    assert street["oldest_at"].isoformat().startswith("2026-11-01T09:00")
    district = await pending_on_phones(await scope_of("leader"))
    assert (district["records"], district["phones"]) == (8, 3)
    other = await pending_on_phones(await scope_of("grid2"))
    assert (other["records"], other["phones"]) == (5, 1)
    dept = await pending_on_phones(await scope_of("dept"))
    assert dept["records"] == 0 and dept["phones"] == 0


async def test_heartbeat_refuses_bad_input_with_field_messages(as_user):
    grid = await as_user("grid")
    for body, field in [
        ({"device_id": "x", "pending": 1}, "device_id"),
        ({"device_id": "phone-aaaa-1111", "pending": -1}, "pending"),
        ({"device_id": "phone-aaaa-1111", "pending": "many"}, "pending"),
        ({"device_id": "phone-aaaa-1111", "pending": 1, "oldest_at": "yesterday"}, "oldest_at"),
        ([], "body"),
    ]:
        response = await grid.post_json("/api/v1/outbox/heartbeat", body)
        assert response.status_code == 422, body
        assert field in response.json()["errors"]
