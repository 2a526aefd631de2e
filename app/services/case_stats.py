"""Rates per body: registrations, 及时受理率, 按期办结率, satisfaction (DOMAIN.md §5)."""

from __future__ import annotations

from app import db
from app.domain import calendar
from app.domain.clocks import ClockState
from app.services import cases as svc


def _ratio(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


async def per_body(user) -> list[dict]:
    """One row per lead department among the cases the user sees."""
    where, args = svc.scope_sql(user)
    cases = await db.fetch(
        "SELECT c.id, c.lead_department, d.name FROM petition_case c"
        " JOIN department d ON d.id = c.lead_department"
        f" WHERE {where}",
        *args,
    )
    today = calendar.today()
    cal = await svc.calendar()
    evs = await svc.events_of([c["id"] for c in cases])
    rows: dict[int, dict] = {}
    for c in cases:
        r = rows.setdefault(
            c["lead_department"],
            {
                "name": c["name"],
                "cases": 0,
                "acc_due": 0,
                "acc_ok": 0,
                "done_due": 0,
                "done_ok": 0,
                "evaluated": 0,
                "satisfied": 0,
                "overdue": 0,
            },
        )
        r["cases"] += 1
        clocks = svc.clocks_of(evs[c["id"]], cal, today)
        for clock in clocks:
            if clock.name == "acceptance" and clock.state in (
                ClockState.MET,
                ClockState.MET_LATE,
                ClockState.OVERDUE,
            ):
                r["acc_due"] += 1
                r["acc_ok"] += clock.state is ClockState.MET
            if clock.name == "handling" and clock.state in (
                ClockState.MET,
                ClockState.MET_LATE,
                ClockState.OVERDUE,
            ):
                r["done_due"] += 1
                r["done_ok"] += clock.state is ClockState.MET
            if clock.is_open and clock.state is ClockState.OVERDUE:
                r["overdue"] += 1
        for e in evs[c["id"]]:
            if e.kind == "evaluate":
                r["evaluated"] += 1
                r["satisfied"] += e.data.get("satisfaction") in ("satisfied", "basically")
    out = []
    for r in sorted(rows.values(), key=lambda r: -r["cases"]):
        r["acceptance_rate"] = _ratio(r["acc_ok"], r["acc_due"])
        r["completion_rate"] = _ratio(r["done_ok"], r["done_due"])
        r["satisfaction_rate"] = _ratio(r["satisfied"], r["evaluated"])
        out.append(r)
    return out


async def registrations(user) -> list[dict]:
    """Registrations per street (where the matters arose)."""
    where, args = svc.scope_sql(user)
    return await db.fetch(
        "SELECT s.name, count(*) AS n FROM petition_case c"
        " JOIN unit s ON c.unit_path LIKE s.path || '%' AND s.tier = 'street'"
        f" WHERE {where} GROUP BY s.name ORDER BY n DESC",
        *args,
    )
