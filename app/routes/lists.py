"""The three lists (三张清单): 增量 new matters, 存量 backlog and its reduction ratio, 变量."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app import db
from app.domain.forms import LOCAL_TZ, N_, Form
from app.services import audit, field, org
from app.services import cases as svc
from app.web import page, require_user, see_other

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
BASELINE = {"scope": "unit", "cap": "cases.baseline"}
PUBLICITY = {"scope": "unit", "cap": "cases.publicity"}
#: Events after which a matter has its written answer or left the petition procedure.
RESOLVING_KINDS = ("opinion", "divert", "tell_where_to_go", "close")


def _start_of(day: date) -> datetime:
    """Beijing's midnight at the start of ``day`` (not the database session's)."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def _end_of(day: date) -> datetime:
    return _start_of(day + timedelta(days=1))


#: Matters open at the end of a day: received by then, no resolving event by then.
OPEN_AT = (
    'c.received_at < {} AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e."case" = c.id'
    " AND e.kind = ANY({}) AND e.at < {})"
)


async def open_at(day: date) -> int:
    """How many matters (district-wide) were open at the end of ``day``: the 存量 baseline."""
    end = _end_of(day)
    return await db.fetchval(
        f"SELECT count(*) FROM petition_case c WHERE {OPEN_AT}", end, list(RESOLVING_KINDS), end
    )


async def set_baseline(user: Any, day: date, note: str) -> dict:
    """Compute and store the baseline count for ``day`` (again for the same day: recomputed)."""
    count = await open_at(day)
    async with db.transaction():
        row = await db.fetchrow(
            "INSERT INTO list_baseline (baseline_on, count, note) VALUES ({}, {}, {})"
            " ON CONFLICT (baseline_on) DO UPDATE SET count = EXCLUDED.count,"
            " note = EXCLUDED.note RETURNING id, baseline_on, count",
            day,
            count,
            note,
        )
        await audit.record(
            "lists.baseline",
            actor_id=user.id,
            object_type="list_baseline",
            object_id=row["id"],
            detail={"baseline_on": day.isoformat(), "count": count},
        )
    return row


async def reduction(baseline: dict | None) -> dict:
    """Of the matters open at the baseline date, how many are resolved now; the ratio is
    resolved / the stored baseline count (percent, one decimal)."""
    if not baseline:
        return {"resolved": 0, "ratio": None}
    end = _end_of(baseline["baseline_on"])
    resolved = await db.fetchval(
        f"SELECT count(*) FROM petition_case c WHERE {OPEN_AT} AND c.state = ANY({{}})",
        end,
        list(RESOLVING_KINDS),
        end,
        sorted(svc.RESOLVED_STATES),
    )
    ratio = round(100.0 * resolved / baseline["count"], 1) if baseline["count"] else None
    return {"resolved": resolved, "ratio": ratio}


async def three_lists(user, start: date, end: date) -> dict:
    where, args = svc.scope_sql(user)
    new = await db.fetch(
        "SELECT c.id, c.number, c.petitioner_name, c.state, c.tags, c.received_at"
        f" FROM petition_case c WHERE {where} AND c.received_at >= {{}}"
        " AND c.received_at < {} ORDER BY c.received_at DESC",
        *args,
        _start_of(start),
        _end_of(end),
    )
    baseline = await db.fetchrow("SELECT * FROM list_baseline ORDER BY id DESC LIMIT 1")
    backlog = []
    if baseline:
        end = _end_of(baseline["baseline_on"])
        backlog = await db.fetch(
            "SELECT c.id, c.number, c.petitioner_name, c.state, c.received_at"
            f" FROM petition_case c WHERE {where} AND {OPEN_AT} AND c.state = ANY({{}})"
            " ORDER BY c.received_at LIMIT 50",
            *args,
            end,
            list(RESOLVING_KINDS),
            end,
            sorted(svc.OPEN_STATES),
        )
    red = await reduction(baseline)
    risks = None
    if await db.fetchval("SELECT to_regclass('risk') IS NOT NULL"):
        try:
            risks = await db.fetch("SELECT * FROM risk ORDER BY id DESC LIMIT 50")
        except Exception:  # noqa: BLE001 - the risk area's schema is its own
            risks = []
    first = [r for r in new if "first_time" in (r["tags"] or [])]
    first_resolved = [r for r in first if r["state"] in svc.RESOLVED_STATES]
    return {
        "new": new,
        "key_new": [r for r in new if set(r["tags"] or []) & {"to_beijing", "prominent", "risk"}],
        "first_time": len(first),
        "first_time_resolved": len(first_resolved),
        "baseline": baseline,
        "open_backlog": backlog,
        "resolved": red["resolved"],
        "ratio": red["ratio"],
        "risks": risks,
    }


@get("/lists", opt={"scope": "unit", "cap": "cases.read"}, include_in_schema=False)
async def lists_page(request: Request) -> Response:
    return await _lists_page(request)


async def _lists_page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    form = Form(request.query_params)
    today = field.today()  # Beijing's date, not the server's
    start = form.day("from") or today.replace(day=1)
    end = form.day("to") or today
    data = await three_lists(user, start, end)
    return page(
        "lists/index.html",
        request,
        status,
        start=start,
        end=end,
        data=data,
        state_labels=svc.STATE_LABELS,
        errors=form.errors,
        can_set_baseline=user.scope.can("cases.baseline"),
        can_publicity=user.scope.can("cases.publicity"),
        today=today,
        **context,
    )


@post("/lists/baseline", opt=BASELINE, include_in_schema=False)
async def baseline_set(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form = Form(data)
    day = form.day("baseline_on", required=True)
    note = form.text("note", max_length=200)
    if day is not None and day > datetime.now(LOCAL_TZ).date():
        form.error("baseline_on", N_("The baseline date cannot be in the future."))
    if form.ok and day is not None:
        await set_baseline(user, day, note)
        return see_other("/lists#stock")
    return await _lists_page(request, 422, baseline_errors=form.errors, baseline_values=form.values)


# -- publicity of the Regulations (one of the six keys) ------------------------------------


async def publicity_events(user: Any, limit: int = 200) -> list[dict]:
    if not user.unit_path:
        return []
    return await db.fetch(
        "SELECT p.*, u.name AS unit_name FROM publicity_event p JOIN unit u ON u.id = p.unit"
        " WHERE p.unit_path LIKE {} ORDER BY p.held_on DESC, p.id DESC LIMIT {}",
        user.unit_path + "%",
        limit,
    )


async def _publicity_page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    rows = await publicity_events(user)
    units = await org.subtree(
        user.scope, tiers=("district", "street", "community", "grid", "compound")
    )
    return page(
        "lists/publicity.html",
        request,
        status,
        rows=rows,
        unit_options=[(u["id"], "· " * u.get("depth", 0) + u["name"]) for u in units],
        total_audience=sum(r["audience_count"] for r in rows),
        **{"values": {"unit_id": user.unit_id}, "errors": {}, **context},
    )


@get("/lists/publicity", opt=PUBLICITY, include_in_schema=False)
async def publicity_list(request: Request) -> Response:
    return await _publicity_page(request)


@post("/lists/publicity", opt=PUBLICITY, include_in_schema=False)
async def publicity_add(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form = Form(data)
    held_on = form.day("held_on", required=True)
    place = form.text("place", required=True, max_length=200)
    audience = form.integer("audience_count", required=True, min_value=0, max_value=1000000)
    unit_id = form.integer("unit_id", required=True)
    note = form.text("note", max_length=2000)
    if held_on is not None and held_on > datetime.now(LOCAL_TZ).date():
        form.error("held_on", N_("Record events that have taken place (not a future date)."))
    unit = None
    if unit_id is not None:
        unit = await db.fetchrow("SELECT id, path FROM unit WHERE id = {}", unit_id)
        if unit is None or not (user.unit_path and unit["path"].startswith(user.unit_path)):
            form.error("unit_id", N_("Choose a unit in your area."))
    if not form.ok or unit is None:
        return await _publicity_page(request, 422, values=form.values, errors=form.errors)
    async with db.transaction():
        row = await db.fetchrow(
            "INSERT INTO publicity_event (held_on, place, audience_count, unit, unit_path, note)"
            " VALUES ({}, {}, {}, {}, {}, {}) RETURNING id",
            held_on,
            place,
            audience,
            unit["id"],
            unit["path"],
            note,
        )
        await audit.record(
            "lists.publicity",
            actor_id=user.id,
            object_type="publicity_event",
            object_id=row["id"],
            unit_path=unit["path"],
        )
    return see_other("/lists/publicity")


ROUTES = [lists_page, baseline_set, publicity_list, publicity_add]
