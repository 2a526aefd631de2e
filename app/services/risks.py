"""The risk register (风险隐患排查): hazards entered directly or found on a visit.

Every read and write goes through a Scope (prefix match on ``unit_path``; out of scope is
``None``, answered as 404). Status changes are kept in ``risk_event``. Open risks form the 变量
list (:func:`open_risks`).
"""

from __future__ import annotations

from typing import Any

from app import db
from app.domain.forms import N_, Form
from app.domain.roles import Scope
from app.services import audit, field, org

if ("risk", "unit_path") not in org.PATH_COPIES:
    org.PATH_COPIES.append(("risk", "unit_path"))

CATEGORIES = {
    "security": N_("Public security"),
    "fire": N_("Fire safety"),
    "dispute": N_("Dispute"),
    "other": N_("Other"),
}
LEVELS = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High"), "major": N_("Major")}
STATUSES = {"open": N_("Open"), "controlled": N_("Controlled"), "closed": N_("Closed")}
UNIT_TIERS = ("grid", "community")
PAGE_SIZE = 50


class RiskError(Exception):
    """Refused input: field -> message (msgids)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


async def parse(scope: Scope, data: Any) -> tuple[dict[str, Any], Form]:
    """Clean a risk form (HTML or JSON); unit and source visit must lie in ``scope``."""
    form = Form(data)
    values = {
        "title": form.text("title", required=True, max_length=200),
        "category": form.choice("category", CATEGORIES),
        "level": form.choice("level", LEVELS),
        "unit_id": form.integer("unit_id", required=True),
        "place": form.text("place", max_length=255),
        "description": form.text("description", max_length=4000),
        "measures": form.text("measures", max_length=4000),
        "owner": form.text("owner", max_length=100),
        "deadline": form.day("deadline"),
        "source_visit_id": form.integer("source_visit_id", min_value=1),
    }
    if values["unit_id"] is not None and "unit_id" not in form.errors:
        unit = await org.unit_in_scope(scope, values["unit_id"])
        if unit is None or unit["tier"] not in UNIT_TIERS:
            form.error("unit_id", N_("Choose a grid or community of your area."))
        else:
            values["unit_path"] = unit["path"]
    if values["source_visit_id"] and "source_visit_id" not in form.errors:
        path = await db.fetchval(
            "SELECT unit_path FROM visit WHERE id = {}", values["source_visit_id"]
        )
        if not scope.covers(path):
            form.error("source_visit_id", N_("No such visit in your area."))
    return values, form


async def create(scope: Scope, values: dict[str, Any]) -> int:
    async with db.transaction():
        risk_id = await db.fetchval(
            "INSERT INTO risk (unit, unit_path, source_visit_id, category, level, title, place,"
            " description, measures, owner, deadline, status, created_by, created_at, updated_at)"
            " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'open', {}, now(), now())"
            " RETURNING id",
            values["unit_id"],
            values["unit_path"],
            values["source_visit_id"],
            values["category"],
            values["level"],
            values["title"],
            values["place"],
            values["description"],
            values["measures"],
            values["owner"],
            values["deadline"],
            scope.user_id,
        )
        await db.fetch(
            "INSERT INTO risk_event (risk, at, actor, from_status, to_status, note)"
            " VALUES ({}, now(), {}, '', 'open', '')",
            risk_id,
            scope.user_id,
        )
        await audit.record(
            "risk.create",
            actor_id=scope.user_id,
            object_type="risk",
            object_id=risk_id,
            unit_path=values["unit_path"],
        )
    return risk_id


_SELECT = (
    "SELECT r.*, u.name AS unit_name FROM risk r JOIN unit u ON u.id = r.unit"
    " WHERE r.unit_path LIKE {}"
)


async def get(scope: Scope, risk_id: int) -> dict | None:
    if not scope.unit_path:
        return None
    return await db.fetchrow(_SELECT + " AND r.id = {}", scope.unit_path + "%", risk_id)


async def history(risk_id: int) -> list[dict]:
    return await db.fetch(
        "SELECT e.*, coalesce(nullif(u.full_name, ''), u.username) AS actor_name"
        " FROM risk_event e LEFT JOIN app_user u ON u.id = e.actor WHERE e.risk = {}"
        " ORDER BY e.at, e.id",
        risk_id,
    )


async def set_status(scope: Scope, risk_id: int, status: str, note: str) -> bool:
    """Change the status (kept in the history); False when out of scope."""
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT id, status, unit_path FROM risk WHERE id = {} AND unit_path LIKE {} FOR UPDATE",
            risk_id,
            (scope.unit_path or "\x00") + "%",
        )
        if row is None:
            return False
        await db.fetch(
            "UPDATE risk SET status = {}, updated_at = now() WHERE id = {}", status, risk_id
        )
        await db.fetch(
            "INSERT INTO risk_event (risk, at, actor, from_status, to_status, note)"
            " VALUES ({}, now(), {}, {}, {}, {})",
            risk_id,
            scope.user_id,
            row["status"],
            status,
            note,
        )
        await audit.record(
            "risk.status",
            actor_id=scope.user_id,
            object_type="risk",
            object_id=risk_id,
            unit_path=row["unit_path"],
            detail={"from": row["status"], "to": status},
        )
    return True


async def search(
    scope: Scope,
    *,
    status: str = "",
    category: str = "",
    level: str = "",
    unit_id: int | None = None,
    overdue: bool = False,
    limit: int = PAGE_SIZE,
) -> list[dict]:
    """Risks in scope, filtered; the most serious and soonest due first."""
    if not scope.unit_path:
        return []
    sql = _SELECT
    args: list[Any] = [scope.unit_path + "%"]
    if status in STATUSES:
        sql += " AND r.status = {}"
        args.append(status)
    if category in CATEGORIES:
        sql += " AND r.category = {}"
        args.append(category)
    if level in LEVELS:
        sql += " AND r.level = {}"
        args.append(level)
    if unit_id:
        unit = await org.unit_in_scope(scope, unit_id)
        if unit:
            sql += " AND r.unit_path LIKE {}"
            args.append(unit["path"] + "%")
    if overdue:
        sql += " AND r.status <> 'closed' AND r.deadline < {}"
        args.append(field.today())  # Beijing's date, not the server's
    sql += (
        " ORDER BY (r.status = 'closed'),"
        " array_position(ARRAY['major','high','medium','low']::text[], r.level::text),"
        " r.deadline NULLS LAST, r.id DESC LIMIT {}"
    )
    args.append(limit)
    return await db.fetch(sql, *args)


async def open_risks(scope: Scope) -> list[dict]:
    """The 变量 list: risks in scope that are not closed (open or controlled)."""
    if not scope.unit_path:
        return []
    return await db.fetch(
        _SELECT + " AND r.status <> 'closed'"
        " ORDER BY array_position(ARRAY['major','high','medium','low']::text[], r.level::text),"
        " r.deadline NULLS LAST, r.id",
        scope.unit_path + "%",
    )
