"""Early warnings (预警): list with filters, acknowledge, handle with a note; the home panel."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, post
from litestar import get as get_route
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain import warnings as rules
from app.domain.forms import Form
from app.domain.roles import can
from app.services import warnings as svc
from app.services.auth import CurrentUser
from app.services.home import Panel, panel_source
from app.web import not_found, page, require_user, see_other

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
READ = {"scope": "unit", "cap": "platform.read"}
WRITE = {"scope": "unit", "cap": "platform.write"}


def _labels() -> dict[str, Any]:
    return {
        "kinds": rules.KINDS,
        "levels": rules.LEVELS,
        "states": svc.STATES,
        "record_paths": svc.RECORD_PATHS,
    }


def _filters(query: Any) -> dict[str, str]:
    form = Form(query)
    return {
        "kind": form.choice("kind", rules.KINDS, required=False) or "",
        "level": form.choice("level", rules.LEVELS, required=False) or "",
        "state": form.choice("state", svc.STATES, required=False) or "",
    }


async def _list(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    f = _filters(request.query_params)
    rows = await svc.search(user.scope, **f)
    return page("platform/warnings.html", request, status, rows=rows, f=f, **_labels(), **context)


@get_route("/warnings", opt=READ, include_in_schema=False)
async def warning_list(request: Request) -> Response:
    return await _list(request)


@post("/warnings/{warning_id:int}/acknowledge", opt=READ, include_in_schema=False)
async def warning_acknowledge(request: Request, warning_id: int) -> Response:
    if not await svc.acknowledge(require_user(request).scope, warning_id):
        raise not_found()
    return see_other(f"/warnings#w-{warning_id}")


@post("/warnings/{warning_id:int}/handle", opt=WRITE, include_in_schema=False)
async def warning_handle(
    request: Request, warning_id: int, data: Annotated[dict, FORM]
) -> Response:
    user = require_user(request)
    if await svc.get(user.scope, warning_id) is None:
        raise not_found()
    form = Form(data)
    note = form.text("note", required=True, max_length=2000)
    if form.ok and await svc.handle(user.scope, warning_id, note):
        return see_other(f"/warnings#w-{warning_id}")
    return await _list(
        request, 422, errors={f"note-{warning_id}": form.errors.get("note", "")}, failed=warning_id
    )


@panel_source
async def warnings_panel(user: CurrentUser) -> Panel | None:
    """Open warnings in the user's area (those who may read the platform)."""
    if not can(user.role, "platform.read"):
        return None
    scope = user.scope
    return Panel(
        "Early warnings",
        "platform/warnings_panel.html",
        {
            "count": await svc.open_count(scope),
            "rows": await svc.search(scope, state="open", limit=5),
            "kinds": rules.KINDS,
        },
        order=12,
    )


ROUTES = [warning_list, warning_acknowledge, warning_handle]
