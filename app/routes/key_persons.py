"""The key-person ledger (重点人员): list with filters, new, detail with the contact timeline,
edit, audited reveal of the full ID number and phone, masked ``.xlsx`` export, JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain import key_persons as rules
from app.domain.forms import Form
from app.i18n import gettext
from app.routes.api_responses import ID_IN_PATH, query, query_parameters, reads
from app.services import key_persons as svc
from app.services import org
from app.services.auth import CurrentUser
from app.services.home import Panel, panel_source
from app.web import client_ip, is_htmx, not_found, page, require_user, see_other

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
READ = {"scope": "unit", "cap": "platform.read"}
WRITE = {"scope": "unit", "cap": "platform.write"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_STORE = {"cache-control": "no-store"}


def _labels() -> dict[str, Any]:
    return {
        "categories": rules.CATEGORIES,
        "risk_levels": rules.RISK_LEVELS,
        "contact_days": rules.CONTACT_DAYS,
        "mask_name": svc.mask_name,
    }


def unit_options(units: list[dict]) -> list[tuple[int, str]]:
    """(id, label) of grids and communities; a grid is named with its community."""
    names = {u["id"]: u["name"] for u in units}
    return [
        (
            u["id"],
            f"{names[u['parent_id']]} · {u['name']}" if u["parent_id"] in names else u["name"],
        )
        for u in units
    ]


async def _filters(request: Request) -> dict[str, Any]:
    form = Form(request.query_params)
    return {
        "category": form.choice("category", rules.CATEGORIES, required=False) or "",
        "risk_level": form.choice("risk_level", rules.RISK_LEVELS, required=False) or "",
        "unit_id": form.integer("unit_id", min_value=1),
        "overdue": form.boolean("overdue"),
    } | ({"unit_id": None} if "unit_id" in form.errors else {})


@get("/key-persons", opt=READ, include_in_schema=False)
async def person_list(request: Request) -> Response:
    user = require_user(request)
    f = await _filters(request)
    rows = await svc.search(user.scope, **f)
    units = unit_options(await org.subtree(user.scope, tiers=svc.UNIT_TIERS))
    return page("platform/key_persons.html", request, rows=rows, f=f, units=units, **_labels())


@get("/key-persons/export", opt=READ, include_in_schema=False)
async def person_export(request: Request) -> Response:
    user = require_user(request)
    f = await _filters(request)
    rows = await svc.search(user.scope, **f, limit=100_000)
    content = await svc.export(user.scope, rows, ip=client_ip(request))
    return Response(
        content,
        media_type=XLSX,
        headers={"content-disposition": 'attachment; filename="key-persons.xlsx"', **NO_STORE},
    )


async def _form_page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    units = await org.subtree(user.scope, tiers=svc.UNIT_TIERS)
    leaders = await svc.leader_options(user.scope)
    workers = await svc.worker_options(user.scope)
    return page(
        "platform/key_person_form.html",
        request,
        status,
        category_options=[(k, gettext(v)) for k, v in rules.CATEGORIES.items()],
        level_options=[(k, gettext(v)) for k, v in rules.RISK_LEVELS.items()],
        unit_options=unit_options(units),
        leader_options=[(r["id"], f"{r['name']} · {r['unit_name']}") for r in leaders],
        worker_options=[(r["id"], f"{r['name']} · {r['unit_name']}") for r in workers],
        **_labels(),
        **context,
    )


@get("/key-persons/new", opt=WRITE, include_in_schema=False)
async def person_new(request: Request) -> Response:
    user = require_user(request)
    values = {"unit_id": user.unit_id, "risk_level": "medium"}
    if user.role == "grid_worker":
        values["grid_worker"] = user.id
    return await _form_page(request, values=values)


@post("/key-persons", opt=WRITE, include_in_schema=False)
async def person_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    values, form = await svc.parse(user.scope, data)
    if form.ok:
        person_id = await svc.create(user.scope, values)
        return see_other(f"/key-persons/{person_id}")
    return await _form_page(request, 422, values=form.values, errors=form.errors)


async def _detail(request: Request, person_id: int, status: int = 200, **context: Any):
    user = require_user(request)
    person = await svc.get(user.scope, person_id)
    if person is None:
        raise not_found()
    return page(
        "platform/key_person_detail.html",
        request,
        status,
        p=person,
        timeline=await svc.timeline(user.scope, person),
        **_labels(),
        **context,
    )


@get("/key-persons/{person_id:int}", opt=READ, include_in_schema=False)
async def person_detail(request: Request, person_id: int) -> Response:
    return await _detail(request, person_id)


@get("/key-persons/{person_id:int}/edit", opt=WRITE, include_in_schema=False)
async def person_edit(request: Request, person_id: int) -> Response:
    user = require_user(request)
    person = await svc.get(user.scope, person_id)
    if person is None:
        raise not_found()
    values = {k: person[k] for k in ("address", "category", "risk_level", "leader")}
    values.update(
        unit_id=person["unit"],
        household_id=person["household_id"],
        leader_user=person["leader_user"],
        grid_worker=person["grid_worker"],
        measures=person["measures"],
        note=person["note"],
    )
    return await _form_page(request, p=person, values=values)


@post("/key-persons/{person_id:int}", opt=WRITE, include_in_schema=False)
async def person_update(request: Request, person_id: int, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    person = await svc.get(user.scope, person_id)
    if person is None:
        raise not_found()
    values, form = await svc.parse(user.scope, data, current=person)
    if form.ok and await svc.update(user.scope, person_id, values):
        return see_other(f"/key-persons/{person_id}")
    return await _form_page(request, 422, p=person, values=form.values, errors=form.errors)


@post("/key-persons/{person_id:int}/reveal", opt=READ, include_in_schema=False)
async def person_reveal(request: Request, person_id: int) -> Response:
    """The full name, ID number and phone (audited); an htmx fragment or the whole page."""
    user = require_user(request)
    full = await svc.reveal(user.scope, person_id, ip=client_ip(request))
    if full is None:
        raise not_found()
    if is_htmx(request):
        response = page("platform/key_person_identity.html", request, full=full)
    else:
        response = await _detail(request, person_id, full=full)
    response.headers.update(NO_STORE)
    return response


@get(
    "/api/v1/key-persons",
    opt=READ,
    tags=["key persons"],
    responses=reads(READ),
    operation_class=query_parameters(
        query("category", "Only persons of this category.", choices=rules.CATEGORIES),
        query("risk_level", "Only persons at this risk level.", choices=rules.RISK_LEVELS),
        query("unit_id", "A unit's id: only persons of that unit and below.", "integer"),
        query("overdue", "`1`: only persons whose contact is overdue.", "boolean"),
    ),
)
async def api_list(request: Request) -> Response:
    """Key persons in the caller's scope, **masked** (name, ID number, phone).

    Filters: ``category``, ``risk_level``, ``unit_id``, ``overdue`` (``1``). Full values are only
    shown, audited, by ``POST /key-persons/{id}/reveal``.
    """
    user = require_user(request)
    rows = await svc.search(user.scope, **await _filters(request), limit=1000)
    return Response({"items": [svc.public(r) for r in rows]}, headers=NO_STORE)


@get(
    "/api/v1/key-persons/{person_id:int}",
    opt=READ,
    tags=["key persons"],
    responses=reads(READ, *ID_IN_PATH),
)
async def api_detail(request: Request, person_id: int) -> Response:
    """One key person (masked); 404 when out of the caller's scope."""
    user = require_user(request)
    person = await svc.get(user.scope, person_id)
    if person is None:
        raise not_found()
    return Response(svc.public(person), headers=NO_STORE)


@panel_source
async def overdue_panel(user: CurrentUser) -> Panel | None:
    """Key persons whose contact is overdue: a grid worker's own, community staff's area."""
    if user.role == "grid_worker":
        rows = await svc.overdue_for(user.scope, worker_id=user.id)
        rows += [
            r
            for r in await svc.overdue_for(user.scope)
            if r["grid_worker"] is None and r not in rows
        ]
    elif user.role == "community_staff":
        rows = await svc.overdue_for(user.scope)
    else:
        return None
    return Panel(
        "Key persons to contact",
        "platform/key_person_panel.html",
        {"rows": rows[:10], "total": len(rows), "mask_name": svc.mask_name},
        order=15,
    )


ROUTES = [
    person_list,
    person_export,
    person_new,
    person_create,
    person_detail,
    person_edit,
    person_update,
    person_reveal,
    api_list,
    api_detail,
]
