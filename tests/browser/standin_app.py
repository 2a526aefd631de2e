"""A stand-in field-record form for the browser tests, until the real /visits lands.

Not app code: ``python -m tests.browser.standin_app --port N`` serves the real app plus
``GET /standin/new`` (a form following the field-record conventions: ``data-outbox``, hx-post,
hidden ``_csrf_token`` and ``client_uuid``) and ``POST /standin`` (exactly once per
``client_uuid``; 200 partial for htmx, 303 otherwise; 422 with the form re-rendered when
``summary`` is empty or contains "REJECT"). Records go to the table ``standin_record``.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app import db
from app.web import is_htmx, require_user

FORM_HTML = """{% extends "base.html" %}
{% block title %}Stand-in{% endblock %}
{% block content %}{% include "standin_form" %}{% endblock %}"""

FORM = """<form method="post" action="/standin" data-outbox class="card stack"
 {%- if not plain %} hx-post="/standin" hx-target="this" hx-swap="outerHTML"{% endif %}>
  <input type="hidden" name="_csrf_token" value="{{ csrf_token() }}">
  <input type="hidden" name="client_uuid" value="{{ client_uuid }}">
  {% if error %}<div class="alert error" role="alert">
    <span class="field-error">{{ error }}</span></div>{% endif %}
  <label>Address <input name="address" value="{{ values.get('address', '') }}"></label>
  <label>Summary <textarea name="summary">{{ values.get('summary', '') }}</textarea></label>
  {% for t in ['fire', 'policy'] %}
  <label><input type="checkbox" name="topics" value="{{ t }}"
    {%- if t in values.get('topics', []) %} checked{% endif %}> {{ t }}</label>
  {% endfor %}
  <button type="submit" class="primary">Save</button>
</form>"""

SAVED = """<div class="alert ok" id="standin-saved">Saved {{ client_uuid }}</div>
""" + FORM

TABLE = (
    "CREATE TABLE IF NOT EXISTS standin_record (id serial PRIMARY KEY, client_uuid uuid UNIQUE, "
    "username text, summary text, topics text, created_at timestamptz DEFAULT now())"
)


def _env():
    from jinja2 import DictLoader

    from app.main import make_template_engine

    engine = make_template_engine()
    env = engine.engine
    env.loader = __import__("jinja2").ChoiceLoader(
        [env.loader, DictLoader({"standin_form": FORM, "standin_saved": SAVED})]
    )
    return engine


@get("/standin/new", opt={"scope": "any"}, include_in_schema=False)
async def standin_new(request: Request) -> Template:
    return Template(template_str=FORM_HTML, context={
        "user": require_user(request), "client_uuid": str(uuid.uuid4()), "values": {},
        "error": "", "errors": {}, "plain": request.query_params.get("plain") == "1"})


@post("/standin", opt={"scope": "any"}, include_in_schema=False)
async def standin_post(
    request: Request, data: Annotated[dict, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Response:
    user = require_user(request)
    form = await request.form()
    topics = list(form.getall("topics", []))
    summary = (data.get("summary") or "").strip()
    client_uuid = data.get("client_uuid") or ""
    values = {"address": data.get("address", ""), "summary": summary, "topics": topics}
    error = ""
    if not summary:
        error = "summary: This field is required."
    elif "REJECT" in summary:
        error = "summary: The server refuses this summary."
    if error:
        ctx = {"user": user, "client_uuid": client_uuid, "values": values, "error": error,
               "errors": {}}
        if is_htmx(request):
            return Template(template_name="standin_form", context=ctx, status_code=422)
        return Template(template_str=FORM_HTML, context=ctx, status_code=422)
    await db.fetch(
        "INSERT INTO standin_record (client_uuid, username, summary, topics) "
        "VALUES ({}, {}, {}, {}) ON CONFLICT (client_uuid) DO NOTHING",
        uuid.UUID(client_uuid), user.username, summary, ",".join(topics),
    )
    if is_htmx(request):
        return Template(template_name="standin_saved", context={
            "user": user, "client_uuid": str(uuid.uuid4()), "values": {}, "error": "",
            "errors": {}})
    return Redirect(path="/standin/new", status_code=303)


_deploys = [0]


@post("/standin/deploy", opt={"scope": "public", "exclude_from_csrf": True},
      include_in_schema=False, status_code=200)
async def standin_deploy() -> dict:
    """Simulate a deploy of a new service worker: its version changes, nothing else does."""
    _deploys[0] += 1
    return {"deploys": _deploys[0]}


def create_app():
    from app.main import create_app as real
    from app.routes import pwa

    original = pwa.sw_version
    def version() -> str:
        return original() if not _deploys[0] else f"{original()[:8]}d{_deploys[0]:03d}"

    pwa.sw_version = version

    app = real()
    app.register(standin_new)
    app.register(standin_post)
    app.register(standin_deploy)
    engine = _env()
    app.template_engine = engine
    app.on_startup.append(_create_table)
    return app


async def _create_table(app) -> None:
    await db.fetch(TABLE)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run("tests.browser.standin_app:create_app", factory=True, host="127.0.0.1",
                port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
