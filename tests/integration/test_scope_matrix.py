"""The scope matrix, generated from the app's route table.

Every route must declare a scope decision; every role is tried on every route; object routes
are tried with an in-scope and an out-of-scope object: only the allowed succeed, and an
out-of-scope object answers 404 (existence is not revealed).
"""

from __future__ import annotations

import re

import pytest

from app.domain.roles import can
from app.web import SCOPE_KINDS
from tests.scope_registry import NOT_OBJECTS, OBJECT_FINDERS

ACCOUNTS = {
    "admin": "admin",
    "front_desk": "desk",
    "district_leader": "leader",
    "supervisor": "inspector",
    "department": "dept",
    "street_leader": "street",
    "community_staff": "community",
    "grid_worker": "grid",
}


def _routes(client):
    app = client.app
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", []) or []) - {"OPTIONS", "HEAD"}
            if not methods and hasattr(handler, "http_methods"):
                continue  # Litestar's automatic OPTIONS handler
            yield (
                route.path_format if hasattr(route, "path_format") else route.path,
                route.path,
                handler,
                methods,
            )


def _opt(handler) -> dict:
    return handler.opt or {}


def _allowed(role: str, handler) -> bool:
    kind = _opt(handler).get("scope")
    if kind == "public":
        return True
    if kind == "admin" and role != "admin":
        return False
    capability = _opt(handler).get("cap")
    return not capability or can(role, capability)


def _fill(path: str, value: object) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path, count=1)


async def test_every_route_declares_a_scope_decision(client):
    undecided = [
        (path, sorted(methods))
        for _fmt, path, handler, methods in _routes(client)
        if _opt(handler).get("scope") not in SCOPE_KINDS and not path.startswith("/schema")
    ]
    assert undecided == []


async def test_every_object_route_has_a_matrix_entry(client):
    missing = sorted(
        {
            path
            for _fmt, path, handler, _m in _routes(client)
            if "{" in path
            and path not in OBJECT_FINDERS
            and path not in NOT_OBJECTS
            and not path.startswith("/schema")
        }
    )
    assert missing == [], "add these routes to tests/scope_registry.py"


@pytest.mark.parametrize("role", sorted(ACCOUNTS))
async def test_role_gets_exactly_the_pages_it_may_see(as_user, client, role):
    s = await as_user(ACCOUNTS[role])
    problems = []
    for _fmt, path, handler, methods in _routes(client):
        if "GET" not in methods or "{" in path or path.startswith("/schema"):
            continue
        if path in ("/logout",):
            continue
        response = await s.get(path)
        status = response.status_code
        if status >= 500:
            problems.append((path, status, "5xx"))
        elif _allowed(role, handler) and status in (401, 403):
            problems.append((path, status, "refused but allowed"))
        elif not _allowed(role, handler) and status not in (403, 404):
            problems.append((path, status, "allowed but should be refused"))
    assert problems == []


@pytest.mark.parametrize("role", sorted(ACCOUNTS))
async def test_objects_outside_the_scope_answer_404(as_user, client, sql, role):
    s = await as_user(ACCOUNTS[role])
    problems = []
    for _fmt, path, handler, methods in _routes(client):
        if "{" not in path or path not in OBJECT_FINDERS:
            continue
        inside, outside = await OBJECT_FINDERS[path](sql, ACCOUNTS[role])
        method = "GET" if "GET" in methods else "POST"
        for value, expect_inside in ((inside, True), (outside, False)):
            if value is None:
                continue
            url = _fill(path, value)
            if method == "GET":
                response = await s.get(url)
            else:
                response = await s.post_form(url, {})
            status = response.status_code
            if status >= 500:
                problems.append((method, url, status, "5xx"))
            elif not _allowed(role, handler):
                if status not in (403, 404):
                    problems.append((method, url, status, "should be refused"))
            elif expect_inside and status in (401, 403, 404):
                problems.append((method, url, status, "in scope but refused"))
            elif not expect_inside and status != 404:
                problems.append((method, url, status, "out of scope but not 404"))
    assert problems == []
