"""``GET /api/v1/rollups?unit=<id>&from=<date>&to=<date>``: per-day metrics of a unit's subtree."""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Request, Response, get

from app.i18n import N_
from app.routes.api_responses import query, query_parameters, reads
from app.services import org, rollups
from app.web import json_errors, not_found, require_user

MAX_DAYS = 366


READ = {"scope": "unit", "cap": "dashboard.read"}


@get(
    "/api/v1/rollups",
    opt=READ,
    tags=["roll-ups"],
    responses=reads(READ, 404, 422),
    operation_class=query_parameters(
        query("unit", "The unit's id (in the caller's scope).", "integer", required=True),
        query("from", "First day (default: 29 days before `to`).", "date"),
        query("to", "Last day (default: today in Beijing).", "date"),
    ),
)
async def list_rollups(request: Request) -> Response:
    """Per-day metrics of the unit (in the caller's scope) with each bucket's ``as_of``.

    ``from``/``to`` default to the last 30 days; at most 366 days. Counts are additive; rates
    are not stored (compute them from the counts, see ``app.domain.metrics``).
    """
    user = require_user(request)
    q = request.query_params
    errors: dict[str, str] = {}
    raw_unit = q.get("unit") or ""
    if not raw_unit.isdigit():
        errors["unit"] = N_("Enter a unit id.")
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = q.get(name)
        days[name] = None
        if raw:
            try:
                days[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = N_("Enter a date as YYYY-MM-DD.")
    if errors:
        return json_errors(errors)
    day_to = days["to"] or rollups.today()
    day_from = days["from"] or day_to - timedelta(days=29)
    if day_from > day_to:
        return json_errors({"from": N_("The start date is after the end date.")})
    if (day_to - day_from).days >= MAX_DAYS:
        return json_errors({"to": N_("At most 366 days at a time.")})
    unit = await org.unit_in_scope(user.scope, int(raw_unit))
    if unit is None:
        raise not_found()
    rows = await rollups.series(unit["id"], day_from, day_to)
    fresh = (await rollups.freshness([unit["path"]]))[unit["path"]]
    households = (await rollups.households([unit["id"]])).get(unit["id"], 0)
    now = (await rollups.dashboard(unit, []))["total"]
    return Response(
        {
            "unit": {"id": unit["id"], "name": unit["name"], "tier": unit["tier"]},
            "from": day_from.isoformat(),
            "to": day_to.isoformat(),
            "as_of": fresh["as_of"].isoformat() if fresh["as_of"] else None,
            "pending": fresh["pending"],
            "households": households,
            # As of now (not per day): households visited in the 30 days ending today, and
            # petition cases past their handling deadline without an answer.
            "visited_30d": now["visited_30d"],
            "cases_overdue_open": now["cases_overdue_open"],
            "metrics": rollups.metric_names(),
            "days": [
                {
                    "day": r["day"].isoformat(),
                    "as_of": r["as_of"].isoformat(),
                    "metrics": r["metrics"],
                }
                for r in rows
            ],
        }
    )


ROUTES = [list_rollups]
