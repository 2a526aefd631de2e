"""Forecasts: per street x category, weekly history and the next 8 weeks with intervals.

``/forecasts`` lists the streets in scope (a street leader goes straight to their street),
``/forecasts/{street_id}`` draws the charts from ``GET /api/v1/forecasts?street=<id>``.
A street outside the user's scope answers 404 on both.
"""

from __future__ import annotations

from litestar import Request, Response, get

from app.domain import forecast as fc
from app.i18n import gettext
from app.services import forecast as svc
from app.web import not_found, page, require_user

OPT = {"scope": "unit", "cap": "dashboard.read"}


def _labels() -> dict[str, str]:
    return {k: gettext(v) for k, v in fc.CATEGORIES.items()}


async def _street(request: Request, street_id: int) -> dict:
    user = require_user(request)
    for s in await svc.streets(user.scope):
        if s["id"] == street_id:
            return s
    raise not_found()


@get("/forecasts", opt=OPT, include_in_schema=False)
async def forecasts_index(request: Request) -> Response:
    user = require_user(request)
    streets = await svc.streets(user.scope)
    if len(streets) == 1:
        return await _street_page(request, streets[0])
    rising = await svc.above_last_year([s["id"] for s in streets])
    names = {s["id"]: s["name"] for s in streets}
    for r in rising:
        r["street_name"] = names.get(r["street"], "")
    return page("forecast/index.html", request, streets=streets, rising=rising, labels=_labels())


@get("/forecasts/{street_id:int}", opt=OPT, include_in_schema=False)
async def forecast_street(request: Request, street_id: int) -> Response:
    return await _street_page(request, await _street(request, street_id))


async def _street_page(request: Request, street: dict) -> Response:
    user = require_user(request)
    view = await svc.street_view(street["id"])
    return page(
        "forecast/street.html",
        request,
        street=street,
        view=view,
        labels=_labels(),
        several=len(await svc.streets(user.scope)) > 1,
    )


@get("/api/v1/forecasts", opt=OPT, include_in_schema=False)
async def forecasts_api(request: Request) -> dict:
    """``?street=<id>``: history and forecasts of that street; without it: the streets in scope."""
    user = require_user(request)
    raw = request.query_params.get("street")
    if raw is None:
        return {
            "streets": [
                {"id": s["id"], "name": s["name"], "url": f"/api/v1/forecasts?street={s['id']}"}
                for s in await svc.streets(user.scope)
            ]
        }
    if not raw.isdigit():
        raise not_found()
    street = await _street(request, int(raw))
    view = await svc.street_view(street["id"])
    return {
        "street": {"id": street["id"], "name": street["name"]},
        **view,
        "labels": {
            **_labels(),
            "history": gettext("Weekly count"),
            "demo": gettext("Demo history"),
            "forecast": gettext("Forecast"),
            "band80": gettext("%(p)s interval") % {"p": "80%"},
            "band95": gettext("%(p)s interval") % {"p": "95%"},
        },
    }


ROUTES = [forecasts_index, forecast_street, forecasts_api]
