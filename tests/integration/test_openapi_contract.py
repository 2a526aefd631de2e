"""The OpenAPI schema declares every answer the API gives (what ``make security`` checks with
schemathesis, here fast and from the route table).

The codes an operation must declare are derived from its ``opt`` and method the way
``app.web.access_guard`` and the CSRF check decide; the bodies of real error answers must
match the schema the operation declares for them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.domain.key_persons import with_check_digit
from app.domain.roles import can
from app.web import MAX_ID
from tests.integration import platform_helpers as h
from tests.integration.test_cases_flow import register

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ACCOUNTS = {
    "grid_worker": "grid",
    "front_desk": "desk",
    "district_leader": "leader",
    "street_leader": "street",
    "community_staff": "community",
    "department": "dept",
    "supervisor": "inspector",
    "admin": "admin",
}
ERROR_SCHEMAS = {"#/components/schemas/Problem", "#/components/schemas/FieldErrors"}


def _operations(client) -> list[tuple[str, str, dict]]:
    """(method, schema path, opt) of every handler the schema documents."""
    found = []
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", []) or []) - {"OPTIONS", "HEAD"}
            if not methods or not handler.resolve_include_in_schema():
                continue
            found += [(m, route.path_format, handler.opt or {}) for m in sorted(methods)]
    return found


def _expected(method: str, path: str, opt: dict) -> set[int]:
    """What the guard, the CSRF check and Litestar's parsing can answer (see access_guard)."""
    kind = opt.get("scope")
    codes = {503}  # the database (sessions, the handler) may be down
    if kind != "public":
        codes.add(401)
    if kind == "admin" or opt.get("cap") or method in UNSAFE:
        codes.add(403)
    if method in UNSAFE:
        codes.add(400)  # a body that does not parse
    if "{" in path:
        codes |= {400, 404}  # not an id / beyond MAX_ID / out of scope
    return codes


def _allowed_account(opt: dict) -> str:
    kind, capability = opt.get("scope"), opt.get("cap")
    for role, username in ACCOUNTS.items():
        if kind == "admin" and role != "admin":
            continue
        if not capability or can(role, capability):
            return username
    raise AssertionError(f"no demo account may use {opt}")


def _resolve(schema: dict, doc: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
    "null": type(None),
}


def _violations(value: Any, schema: dict, doc: dict, where: str = "$") -> list[str]:
    """A small JSON Schema check: enough for the error bodies (types, required, properties)."""
    schema = _resolve(schema, doc)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            if any(not _violations(value, s, doc, where) for s in schema[key]):
                return []
            return [f"{where}: matches none of {key}"]
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        ok = any(
            isinstance(value, TYPES[t]) and not (t in ("integer", "number") and value is True)
            for t in types
        )
        if not ok:
            return [f"{where}: {value!r} is not {types}"]
    errors = []
    if isinstance(value, dict):
        errors += [f"{where}: no {k!r}" for k in schema.get("required", []) if k not in value]
        properties = schema.get("properties", {})
        for k, v in value.items():
            sub = properties.get(k, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                errors += _violations(v, sub, doc, f"{where}.{k}")
    return errors


@pytest.fixture
async def document(client) -> dict:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_every_operation_declares_what_the_guard_and_parsing_can_answer(client, document):
    missing = {}
    for method, path, opt in _operations(client):
        declared = {int(c) for c in document["paths"][path][method.lower()]["responses"]}
        if lacking := _expected(method, path, opt) - declared:
            missing[f"{method} {path}"] = sorted(lacking)
    assert missing == {}


async def test_api_errors_are_declared_with_the_shared_bodies(document):
    wrong = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not path.startswith("/api/"):
                continue
            for code, response in operation["responses"].items():
                if int(code) < 400:
                    continue
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not schema or schema.get("$ref") not in ERROR_SCHEMAS:
                    wrong[f"{method.upper()} {path} {code}"] = schema
    assert wrong == {}


async def test_the_documentation_pages_are_not_operations(document):
    assert [p for p in document["paths"] if p.startswith("/schema")] == []


def _requests(method: str, path: str) -> list[dict]:
    """Bad requests an operation must answer as it documents: no login, no CSRF token, an id
    beyond the integer range, a body that does not parse, an empty object."""
    url = re.sub(r"\{[^}]+\}", str(MAX_ID + 1), path)
    if method not in UNSAFE:
        return [{"anonymous": True, "url": url}, {"url": url}, {"url": url + "?page=x&from=x"}]
    return [
        {"anonymous": True, "url": url, "json": {}},
        {"url": url, "json": {}, "csrf": False},
        {"url": url, "content": b"{not json", "headers": {"content-type": "application/json"}},
        {"url": url, "json": {}},
        {"url": url, "json": []},
    ]


async def test_error_answers_match_what_the_schema_declares(client, document, session, as_user):
    sessions: dict[str, Any] = {}
    problems = []
    for method, path, opt in _operations(client):
        operation = document["paths"][path][method.lower()]
        for req in _requests(method, path):
            username = "anonymous" if req.get("anonymous") else _allowed_account(opt)
            if username not in sessions:
                s = session() if username == "anonymous" else await as_user(username)
                await s.ensure_csrf()
                sessions[username] = s
            s = sessions[username]
            headers = dict(req.get("headers", {}))
            if method in UNSAFE and req.get("csrf", True):
                headers["x-csrftoken"] = s.csrf
            kwargs = {k: req[k] for k in ("json", "content") if k in req}
            response = await s.request(method, req["url"], headers=headers, **kwargs)
            label = f"{method} {req['url']} as {username} ({sorted(req)})"
            declared = operation["responses"].get(str(response.status_code))
            if response.status_code >= 500 or declared is None:
                problems.append(f"{label}: undeclared {response.status_code} {response.text[:80]}")
                continue
            schema = declared.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                problems += [
                    f"{label}: {v}" for v in _violations(response.json(), schema, document)
                ]
    assert problems == []


# --------------------------------------------------------------------------- query parameters

# The lists whose filters the handler reads itself (declared with ``query_parameters``).
FILTERED_LISTS = (
    "/api/v1/visits",
    "/api/v1/calls",
    "/api/v1/mediations",
    "/api/v1/rollups",
    "/api/v1/key-persons",
    "/api/v1/cases",
)


def _query(document: dict, path: str) -> list[dict]:
    return [p for p in document["paths"][path]["get"].get("parameters", []) if p["in"] == "query"]


async def test_lists_declare_their_filters(document):
    missing = [path for path in FILTERED_LISTS if not _query(document, path)]
    assert missing == []
    names = {p["name"] for p in _query(document, "/api/v1/visits")}
    assert names == {
        "date_from", "date_to", "kind", "topic", "mood", "grid", "review", "overdue", "page"
    }
    rollups = {p["name"]: p for p in _query(document, "/api/v1/rollups")}
    assert set(rollups) == {"unit", "from", "to"} and rollups["unit"]["required"] is True


async def test_each_declared_typed_filter_is_read_and_checked_by_its_list(
    client, document, as_user
):
    """A bad value of every declared integer, date or choice filter of a list that answers 422
    comes back as a message for that very name: the schema names what the handler reads."""
    s = await as_user("street")
    unread = []
    for path in FILTERED_LISTS:
        if "422" not in document["paths"][path]["get"]["responses"]:
            continue
        for p in _query(document, path):
            schema = p["schema"]
            if schema.get("type") == "integer" or schema.get("format") == "date" or (
                schema.get("enum") and "true" not in schema["enum"]
            ):
                response = await s.get(path, params={p["name"]: "not-a-value!"})
                if response.status_code != 422 or p["name"] not in response.json()["errors"]:
                    unread.append(f"{path} {p['name']}: {response.status_code}")
    assert unread == []


async def test_a_declared_choice_filter_narrows_lists_without_422(document, as_user, sql):
    """The key-person and case lists ignore a bad filter (no 422), so each is checked by
    filtering: two rows that differ in the filtered field, and each declared value keeps
    only its own."""
    grid, desk, leader = await as_user("grid"), await as_user("desk"), await as_user("leader")
    unit = await h.unit_of(sql, "DS-C1-G1")
    for i, level in enumerate(("high", "low")):
        r = await grid.post_form(
            "/key-persons",
            {
                "name": f"过滤{i}",
                "id_number": with_check_digit(f"2201051970010{i}123"),
                "phone": f"1398765432{i}",
                "category": "repeat",
                "risk_level": level,
                "unit_id": unit["id"],
                "measures": "每周上门一次",
            },
        )
        assert r.status_code == 303, r.text
    for channel in ("visit", "letter"):
        await register(desk, sql, channel=channel)
    for path, name in (("/api/v1/key-persons", "risk_level"), ("/api/v1/cases", "channel")):
        declared = {p["name"]: p for p in _query(document, path)}
        seen = set()
        for value in declared[name]["schema"]["enum"]:
            response = await leader.get(path, params={name: value})
            assert response.status_code == 200
            items = response.json()["items"]
            assert all(item[name] == value for item in items), (path, value)
            seen |= {item[name] for item in items}
        assert seen >= ({"high", "low"} if name == "risk_level" else {"visit", "letter"})
