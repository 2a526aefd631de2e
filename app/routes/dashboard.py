"""Leaders' dashboards: the children of my unit as rows, today / 7 / 30 days, trend, drilldown."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from litestar import Request, Response, get
from litestar.response import Template

from app.domain import metrics as f
from app.i18n import N_, gettext
from app.services import marks, org, outbox, rollups, spreadsheets
from app.services.auth import CurrentUser
from app.services.home import Panel, panel_source
from app.templating import local_time
from app.web import not_found, page, require_user

OPT = {"scope": "unit", "cap": "dashboard.read"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _unit_for(request: Request) -> dict:
    """The unit asked for (``?unit=``), if in scope; else the user's own unit."""
    user = require_user(request)
    raw = request.query_params.get("unit")
    unit_id = user.unit_id
    if raw:
        if not raw.isdigit():
            raise not_found()
        unit_id = int(raw)
    if unit_id is None:
        raise not_found()
    unit = await org.unit_in_scope(user.scope, unit_id)
    if unit is None:
        raise not_found()
    return unit


async def _data(request: Request) -> tuple[dict, dict]:
    unit = await _unit_for(request)
    children = await org.children(unit["id"])
    return unit, await rollups.dashboard(unit, children)


async def phones_of(user, unit: dict) -> dict:
    """Records still held on phones of users in ``unit``'s subtree (their last heartbeat)."""
    scope = dataclasses.replace(user.scope, unit_id=unit["id"], unit_path=unit["path"])
    return await outbox.pending_on_phones(scope)


def _breadcrumbs(unit: dict, scope_path: str | None, names: dict[int, str]) -> list[dict]:
    ids = [int(x) for x in unit["path"].strip("/").split("/")]
    crumbs = []
    for i, uid in enumerate(ids):
        path = "/" + "/".join(str(x) for x in ids[: i + 1]) + "/"
        if scope_path and not path.startswith(scope_path):
            continue
        crumbs.append({"id": uid, "name": names.get(uid, str(uid))})
    return crumbs


class _get_with_settings(get):
    """``@get`` that also hands the app's settings to the roll-up triggers when the app is
    built (``marks.wake()`` then defers by ``Settings.rollup_defer_seconds`` of *this* app)."""

    def on_registration(self, app) -> None:  # noqa: ANN001 - Litestar's signature
        super().on_registration(app)
        settings = getattr(app.state, "settings", None)
        if settings is not None:
            marks.configure(settings.rollup_defer_seconds)


@_get_with_settings("/dashboard", opt=OPT, include_in_schema=False)
async def dashboard(request: Request) -> Template | Response:
    user = require_user(request)
    unit, data = await _data(request)
    if request.query_params.get("format") == "xlsx":
        return _xlsx(unit, data)
    ids = [int(x) for x in unit["path"].strip("/").split("/")]
    names = {r["id"]: r["name"] for r in await _names(ids)}
    day = data["day"]
    return page(
        "dashboard/index.html",
        request,
        unit=unit,
        data=data,
        phones=await phones_of(user, unit),
        crumbs=_breadcrumbs(unit, user.unit_path, names),
        chart_json=json.dumps(
            {
                **data["chart"],
                "labels": {
                    "visits": gettext("Visits"),
                    "calls": gettext("Calls"),
                    "mediations": gettext("Mediations"),
                },
            }
        ),
        pct=f.percent,
        d7=(day - timedelta(days=6)).isoformat(),
        d30=(day - timedelta(days=29)).isoformat(),
        today=day.isoformat(),
    )


async def _names(ids: list[int]) -> list[dict]:
    from app import db

    return await db.fetch("SELECT id, name FROM unit WHERE id = ANY({}::int[])", ids)


COLUMNS = (
    "unit",
    "visits_today",
    "visits_7d",
    "visits_30d",
    "door_30d",
    "households_today",
    "coverage_30d",
    "calls_30d",
    "reach_rate_30d",
    "satisfaction_30d",
    "mediations_30d",
    "agreed_30d",
    "failed_30d",
    "escalated_30d",
    "success_rate_30d",
    "local_rate_30d",
    "followups_due_7d",
    "overdue_30d",
    "cases_30d",
    "accepted_timely_30d",
    "replied_on_time_30d",
    "cases_overdue_open",
    "pending_marks",
    "as_of",
)


def table_rows(data: dict) -> list[list]:
    """The dashboard table as plain values (the .xlsx download)."""
    out = []
    for row in [*data["rows"], data["total"]]:
        w1, w7, w30 = (row["windows"][w] for w in rollups.WINDOWS)
        out.append(
            [
                row["unit"]["name"],
                w1.get("visits", 0),
                w7.get("visits", 0),
                w30.get("visits", 0),
                w30.get("visits_door", 0),
                w1.get("households_visited", 0),
                f.percent(row["coverage"]),
                w30.get("calls", 0),
                f.percent(w30["reach_rate"]),
                f.percent(w30["satisfaction_rate"]),
                w30.get("mediations", 0),
                w30.get("mediations_agreed", 0),
                w30.get("mediations_failed", 0),
                w30.get("mediations_escalated", 0),
                f.percent(w30["mediation_success_rate"]),
                f.percent(w30["resolved_locally_rate"]),
                w7.get("followups_due", 0),
                w30.get("followups_overdue", 0),
                w30.get("cases_registered", 0),
                f.percent(w30["accepted_timely_rate"]),
                f.percent(w30["replied_on_time_rate"]),
                row.get("cases_overdue_open", 0),
                row["pending"],
                local_time(row["as_of"], "%Y-%m-%d %H:%M:%S"),
            ]
        )
    return out


HEADERS = {
    "unit": N_("Unit"),
    "visits_today": N_("Visits today"),
    "visits_7d": N_("Visits 7 days"),
    "visits_30d": N_("Visits 30 days"),
    "door_30d": N_("Door-to-door visits 30 days"),
    "households_today": N_("Households visited today"),
    "coverage_30d": N_("Coverage 30 days"),
    "calls_30d": N_("Calls 30 days"),
    "reach_rate_30d": N_("Reach rate"),
    "satisfaction_30d": N_("Satisfaction"),
    "mediations_30d": N_("Mediations 30 days"),
    "agreed_30d": N_("Agreed"),
    "failed_30d": N_("Failed"),
    "escalated_30d": N_("Escalated"),
    "success_rate_30d": N_("Mediation success rate"),
    "local_rate_30d": N_("Resolved at street tier or below"),
    "followups_due_7d": N_("Follow-ups due 7 days"),
    "overdue_30d": N_("Follow-ups overdue 30 days"),
    "cases_30d": N_("Cases registered 30 days"),
    "accepted_timely_30d": N_("Accepted within 15 days"),
    "replied_on_time_30d": N_("Answered on time"),
    "cases_overdue_open": N_("Cases overdue and unanswered"),
    "pending_marks": N_("Pending updates"),
    "as_of": N_("As of"),
}


def _xlsx(unit: dict, data: dict) -> Response:
    headers = tuple(gettext(HEADERS[c]) for c in COLUMNS)
    content = spreadsheets.workbook_bytes(headers, table_rows(data), gettext("Dashboard"))
    name = f"dashboard-{unit['id']}-{data['day'].isoformat()}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


LEADERS = frozenset({"district_leader", "street_leader", "supervisor"})


@panel_source
async def headline_panel(user: CurrentUser) -> Panel | None:
    """Leaders' home page: today's headline numbers of their unit and as of when."""
    if user.role not in LEADERS or user.unit_id is None:
        return None
    unit = await org.unit_in_scope(user.scope, user.unit_id)
    if unit is None:
        return None
    data = await rollups.dashboard(unit, [])
    return Panel(
        N_("Today's numbers"),
        "dashboard/_panel.html",
        {"unit": unit, "total": data["total"], "pct": f.percent},
        order=5,
    )


ROUTES = [dashboard]
