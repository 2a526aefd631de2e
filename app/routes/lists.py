"""The three lists (三张清单): 增量 new matters, 存量 backlog and its reduction ratio, 变量."""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Request, get
from litestar.response import Template

from app import db
from app.domain.forms import Form
from app.services import cases as svc
from app.web import page, require_user


async def three_lists(user, start: date, end: date) -> dict:
    where, args = svc.scope_sql(user)
    new = await db.fetch(
        "SELECT c.id, c.number, c.petitioner_name, c.state, c.tags, c.received_at"
        f" FROM petition_case c WHERE {where} AND c.received_at >= {{}}"
        " AND c.received_at < {} ORDER BY c.received_at DESC",
        *args,
        start,
        end + timedelta(days=1),
    )
    baseline = await db.fetchrow("SELECT * FROM list_baseline ORDER BY baseline_on DESC LIMIT 1")
    backlog = await db.fetch(
        "SELECT c.id, c.number, c.petitioner_name, c.state, c.received_at,"
        ' (SELECT max(e.at) FROM case_event e WHERE e."case" = c.id'
        "  AND e.kind IN ('opinion', 'divert', 'tell_where_to_go', 'close')) AS resolved_at"
        f" FROM petition_case c WHERE {where} AND 'backlog' = ANY(c.tags)"
        " ORDER BY c.received_at",
        *args,
    )
    resolved = []
    if baseline:
        resolved = [
            r
            for r in backlog
            if r["state"] in svc.RESOLVED_STATES
            and r["resolved_at"]
            and r["resolved_at"].date() >= baseline["baseline_on"]
        ]
    ratio = (
        round(100.0 * len(resolved) / baseline["count"], 1)
        if baseline and baseline["count"]
        else None
    )
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
        "backlog": backlog,
        "open_backlog": [r for r in backlog if r["state"] in svc.OPEN_STATES],
        "resolved": resolved,
        "ratio": ratio,
        "risks": risks,
    }


@get("/lists", opt={"scope": "unit", "cap": "cases.read"}, include_in_schema=False)
async def lists_page(request: Request) -> Template:
    user = require_user(request)
    form = Form(request.query_params)
    today = date.today()
    start = form.day("from") or today.replace(day=1)
    end = form.day("to") or today
    data = await three_lists(user, start, end)
    return page(
        "lists/index.html",
        request,
        start=start,
        end=end,
        data=data,
        state_labels=svc.STATE_LABELS,
        errors=form.errors,
    )


ROUTES = [lists_page]
