"""CSRF, generated from the app's route table.

Every unsafe route (POST/PUT/PATCH/DELETE) refuses a logged-in user's request that carries no
valid token with 403 and the "form has expired" message, whatever the role, the body type or
the htmx header. ``/login`` is the single documented exception (``exclude_from_csrf``): it
refuses instead any post whose ``Origin``/``Referer`` is another site.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.support import DEMO_PASSWORD

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = {"/login"}  # README: login CSRF is handled by the Origin/Referer check instead
EXPIRED_ZH = "表单已过期"
EXPIRED_EN = "The form has expired"


def unsafe_routes(client) -> list[tuple[str, str, object]]:
    """(method, path template, handler) of every unsafe handler in the route table."""
    out = []
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", []) or []) & UNSAFE
            for method in sorted(methods):
                out.append((method, route.path, handler))
    return sorted(out, key=lambda r: (r[1], r[0]))


def _fill(path: str) -> str:
    """An arbitrary concrete URL for a template (CSRF is checked before the object is looked up)."""
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "units", path)


def _refused_for_csrf(response) -> bool:
    if response.status_code != 403:
        return False
    body = response.text
    return EXPIRED_ZH in body or EXPIRED_EN in body


async def test_the_route_table_has_unsafe_routes_and_only_login_is_exempt(client):
    routes = unsafe_routes(client)
    assert len(routes) >= 35, routes
    exempt = {path for _m, path, h in routes if (h.opt or {}).get("exclude_from_csrf")}
    assert exempt == EXEMPT


@pytest.mark.parametrize("username", ["admin", "grid", "desk", "community"])
async def test_every_unsafe_route_refuses_a_request_without_a_token(as_user, client, username):
    s = await as_user(username)
    assert s.csrf  # the session has a valid cookie token: only the request lacks it
    problems = []
    for method, path, _handler in unsafe_routes(client):
        if path in EXEMPT:
            continue
        url = _fill(path)
        attempts = {
            "form without token": dict(
                content=urlencode({"name": "x", "summary": "x"}),
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            "htmx form without token": dict(
                content="name=x",
                headers={
                    "content-type": "application/x-www-form-urlencoded",
                    "hx-request": "true",
                },
            ),
            "json without header": dict(json={"name": "x"}),
            "json with a forged header": dict(
                json={"name": "x"}, headers={"x-csrftoken": "forged" + s.csrf[6:]}
            ),
            "form with a forged field": dict(
                content=urlencode({"name": "x", "_csrf_token": "0" * len(s.csrf)}),
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
        }
        for label, kwargs in attempts.items():
            response = await s.request(method, url, **kwargs)
            if not _refused_for_csrf(response):
                problems.append((method, url, label, response.status_code))
    assert problems == []


async def test_a_token_of_another_session_is_refused(as_user, client):
    victim = await as_user("grid")
    attacker = await as_user("grid2")
    response = await victim.request(
        "POST", "/api/v1/text/analyze", json={"text": "x"}, headers={"x-csrftoken": attacker.csrf}
    )
    # Litestar's token is a HMAC-signed value compared with the cookie: another session's
    # token does not match this session's cookie.
    if attacker.csrf != victim.csrf:
        assert _refused_for_csrf(response)


async def test_with_a_valid_token_the_same_requests_pass_the_csrf_check(as_user):
    s = await as_user("grid")
    response = await s.post_json("/api/v1/text/analyze", {"text": "今天很好"})
    assert response.status_code in (200, 201), response.text
    response = await s.post_form("/cases/notifications/read", {})
    assert response.status_code not in (403,), response.text


async def test_logout_needs_the_token_too(as_user, session):
    s = await as_user("grid")
    token = s.cookies["fq_session"]
    response = await s.request(
        "POST", "/logout", content="", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert _refused_for_csrf(response)
    check = session()
    check.cookies["fq_session"] = token
    assert (await check.get("/")).status_code == 200  # a forged logout did not end the session


@pytest.mark.parametrize(
    "header",
    [
        {"origin": "https://evil.example"},
        {"referer": "https://evil.example/phish.html"},
        {"origin": "http://testserver.local.evil.example"},
    ],
)
async def test_login_from_another_site_is_refused(session, header):
    s = session()
    response = await s.request(
        "POST",
        "/login",
        content=urlencode({"username": "grid", "password": DEMO_PASSWORD}),
        headers={"content-type": "application/x-www-form-urlencoded", **header},
    )
    assert response.status_code == 403
    assert "fq_session" not in s.cookies


@pytest.mark.parametrize(
    "header",
    [{}, {"origin": "http://testserver.local"}, {"referer": "http://testserver.local/login"}],
)
async def test_login_from_the_same_site_or_a_plain_client_works_without_a_token(session, header):
    s = session()
    response = await s.request(
        "POST",
        "/login",
        content=urlencode({"username": "grid", "password": DEMO_PASSWORD}),
        headers={"content-type": "application/x-www-form-urlencoded", **header},
    )
    assert response.status_code == 303, response.text
    assert "fq_session" in s.cookies
