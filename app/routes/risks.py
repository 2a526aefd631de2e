"""The risk register (风险隐患排查): list with filters, new (directly or from a visit), detail
with the status history."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain.forms import Form
from app.services import org
from app.services import risks as svc
from app.web import not_found, page, require_user, see_other

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
READ = {"scope": "unit", "cap": "platform.read"}
WRITE = {"scope": "unit", "cap": "platform.write"}


def _labels() -> dict[str, Any]:
    return {
        "categories": svc.CATEGORIES,
        "levels": svc.LEVELS,
        "statuses": svc.STATUSES,
    }


@get("/risks", opt=READ, include_in_schema=False)
async def risk_list(request: Request) -> Response:
    user = require_user(request)
    form = Form(request.query_params)
    f = {
        "status": form.choice("status", svc.STATUSES, required=False) or "",
        "category": form.choice("category", svc.CATEGORIES, required=False) or "",
        "level": form.choice("level", svc.LEVELS, required=False) or "",
        "overdue": form.boolean("overdue"),
    }
    rows = await svc.search(user.scope, **f)
    return page("platform/risks.html", request, rows=rows, f=f, **_labels())


async def _form_page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    units = await org.subtree(user.scope, tiers=svc.UNIT_TIERS)
    return page("platform/risk_form.html", request, status, units=units, **_labels(), **context)


@get("/risks/new", opt=WRITE, include_in_schema=False)
async def risk_new(request: Request) -> Response:
    user = require_user(request)
    visit_id = Form(request.query_params).integer("visit_id", min_value=1)
    values: dict[str, Any] = {"unit_id": user.unit_id, "level": "medium"}
    if visit_id:
        values["source_visit_id"] = visit_id
    return await _form_page(request, values=values)


@post("/risks", opt=WRITE, include_in_schema=False)
async def risk_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    values, form = await svc.parse(user.scope, data)
    if form.ok:
        risk_id = await svc.create(user.scope, values)
        return see_other(f"/risks/{risk_id}")
    return await _form_page(request, 422, values=form.values, errors=form.errors)


async def _detail(request: Request, risk_id: int, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    risk = await svc.get(user.scope, risk_id)
    if risk is None:
        raise not_found()
    return page(
        "platform/risk_detail.html",
        request,
        status,
        r=risk,
        events=await svc.history(risk_id),
        **_labels(),
        **context,
    )


@get("/risks/{risk_id:int}", opt=READ, include_in_schema=False)
async def risk_detail(request: Request, risk_id: int) -> Response:
    return await _detail(request, risk_id)


@post("/risks/{risk_id:int}/status", opt=WRITE, include_in_schema=False)
async def risk_status(request: Request, risk_id: int, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    if await svc.get(user.scope, risk_id) is None:
        raise not_found()
    form = Form(data)
    status = form.choice("status", svc.STATUSES)
    note = form.text("note", max_length=2000)
    if form.ok and await svc.set_status(user.scope, risk_id, status, note):
        return see_other(f"/risks/{risk_id}")
    return await _detail(request, risk_id, 422, errors=form.errors, values=form.values)


ROUTES = [risk_list, risk_new, risk_create, risk_detail, risk_status]
