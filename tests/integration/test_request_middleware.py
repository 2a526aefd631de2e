"""The request middleware's own work: gzip by size, one form parse shared with the handler."""

from __future__ import annotations

from app.settings import ROOT
from tests.support import new_uuid


async def test_pages_are_gzipped_and_small_answers_are_not(session):
    s = session()
    page = await s.get("/login", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    assert "<form" in page.text  # the client decoded it
    small = await s.get("/healthz", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers
    plain = await s.get("/login", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["content-security-policy"] and plain.headers["x-request-id"]


async def test_a_streamed_static_file_is_gzipped_whole(session):
    s = session()
    response = await s.get("/static/vendor/htmx-2.0.11.min.js", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == (ROOT / "static/vendor/htmx-2.0.11.min.js").read_bytes()
    assert response.headers["x-frame-options"] == "DENY"


async def test_an_htmx_visit_post_is_checked_and_stored_from_one_parse(as_user, sql):
    s = await as_user("grid")
    uid = new_uuid()
    response = await s.post_form(
        "/visits",
        {
            "client_uuid": uid,
            "address": "中山路 1 号 + 2% <b>",
            "summary": "入户走访，了解近况。",
            "topics": ["request", "dispute"],
        },
        htmx=True,
    )
    assert response.status_code == 200, response.text
    row = await sql.fetchrow("SELECT address, topics FROM visit WHERE client_uuid = $1", uid)
    assert row["address"] == "中山路 1 号 + 2% <b>"
    assert list(row["topics"]) == ["request", "dispute"]
    assert "中山路 1 号 + 2% &lt;b&gt;" in response.text


async def test_a_csrf_refusal_is_the_apps_403_with_headers_and_is_counted_as_403(as_user):
    from app.observability import METRICS

    s = await as_user("grid")
    before = METRICS.counts[("POST", "/visits", 403)]
    response = await s.request(
        "POST",
        "/visits",
        content="summary=x&address=y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert response.headers["content-security-policy"] and response.headers["x-request-id"]
    assert response.headers["x-frame-options"] == "DENY"
    assert METRICS.counts[("POST", "/visits", 403)] == before + 1
    assert METRICS.counts[("POST", "/visits", 500)] == 0
    # the JSON API answers it as JSON, with the same headers
    api = await s.request("POST", "/api/v1/visits", json={"summary": "x"})
    assert api.status_code == 403 and api.json()["status_code"] == 403
    assert api.headers["content-security-policy"] and api.headers["x-request-id"]


async def test_a_session_lookup_on_a_down_database_is_the_apps_503_with_headers(
    as_user, monkeypatch
):
    """Fault injection: the session query fails as it does when PostgreSQL is unreachable."""
    from app.observability import METRICS
    from app.services import auth

    s = await as_user("grid")

    async def unreachable(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(auth, "current_user", unreachable)
    before = METRICS.counts[("GET", "/visits", 503)]
    response = await s.get("/visits")
    assert response.status_code == 503
    assert "服务暂时不可用，请一分钟后重试。" in response.text
    assert response.headers["content-security-policy"] and response.headers["x-request-id"]
    assert METRICS.counts[("GET", "/visits", 503)] == before + 1


async def test_a_page_is_rendered_as_litestars_template_response_renders_it(client):
    """``app.web.page`` renders ``.html`` itself: same body and headers as ``Template``."""
    from litestar import Request
    from litestar.response import Template
    from litestar.utils.scope.state import ScopeState

    from app.domain import field as rules
    from app.web import page

    user = None
    for csrf in ("tok<en>&", None):
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"hx-request", b"true")],
            "query_string": b"",
            "litestar_app": client.app,
            "app": client.app,
            "state": {"user": user},
        }
        if csrf is not None:
            ScopeState.from_scope(scope).csrf_token = csrf
        request = Request(scope)
        context = {
            "table": "visit",
            "r": {"id": 3, "review_state": "returned", "review_comment": "<again>"},
            "can_review": True,
            "rules": rules,
            "label": lambda choices, value: choices.get(value, value),
            "values": {"review_comment": "x"},
            "errors": {"action": "Pick one."},
        }
        ours = page("field/_review.html", request, 422, **context)
        theirs = Template(
            template_name="field/_review.html",
            context={**context, "user": user, "htmx": True},
            status_code=422,
            media_type="text/html",
        )
        a = ours.to_asgi_response(None, request)
        b = theirs.to_asgi_response(None, request)
        assert a.body == b.body and a.status_code == b.status_code == 422
        assert b"_csrf_token" in a.body and b"&lt;again&gt;" in a.body
        assert a.encode_headers() == b.encode_headers()


async def test_a_handled_request_leaves_no_reference_cycle(as_user):
    """Each request's objects (its Request, scope, state, user) are freed as soon as it ends,
    not by the cyclic collector (``HTMXRequest`` and its details referred to each other)."""
    import gc

    from litestar.connection import ASGIConnection

    s = await as_user("grid")
    await s.post_form("/visits", {"client_uuid": new_uuid(), "address": "a", "summary": "b"})
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for htmx in (True, False):
            response = await s.post_form(
                "/visits",
                {"client_uuid": new_uuid(), "address": "a", "summary": "b"},
                htmx=htmx,
            )
            assert response.status_code in (200, 303)
        await s.get("/visits")
        gc.collect()
        leaked = [o for o in gc.garbage if isinstance(o, ASGIConnection)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert leaked == []
