"""The situation overview (综合态势): one page of numbers for a leader's unit, each traceable.

Reads what the other areas already keep: roll-ups (counts and trends per child unit), the risk
register (open risks), stored emotion analyses (the last 30 days of records in scope), stored
forecasts (next weeks above the same weeks last year) and the cases' clocks (overdue matters).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from app import db
from app.domain.calendar import LOCAL_TZ
from app.domain.roles import Scope
from app.services import forecast, org, risks, rollups

EMOTION_DAYS = 30
#: table -> (time column, detail URL prefix)
RECORDS: dict[str, tuple[str, str]] = {
    "visit": ("visited_at", "/visits/"),
    "call": ("called_at", "/calls/"),
    "mediation": ("held_at", "/mediations/"),
    "petition_case": ("received_at", "/cases/"),
}
EMOTIONS = ("anger", "anxiety", "sadness", "calm", "satisfied")


def _since(day: date, days: int) -> datetime:
    return datetime.combine(day - timedelta(days=days - 1), time(0), tzinfo=LOCAL_TZ)


async def _tables() -> list[str]:
    rows = await db.fetch(
        "SELECT t FROM unnest({}::text[]) AS t WHERE to_regclass(t) IS NOT NULL", list(RECORDS)
    )
    present = {r["t"] for r in rows}
    return [t for t in RECORDS if t in present]


def _emotion_union(tables: list[str]) -> str:
    parts = [
        f"SELECT '{t}' AS tbl, r.id, r.{RECORDS[t][0]} AS at, r.unit_path FROM {t} r"
        f" WHERE r.unit_path LIKE {{}} AND r.{RECORDS[t][0]} >= {{}}"
        for t in tables
    ]
    return " UNION ALL ".join(parts)


async def emotion_mix(scope: Scope, day: date | None = None) -> dict[str, Any]:
    """Dominant emotion of the records in scope of the last 30 days (analysed ones), and how many
    carry an extreme-risk signal."""
    day = day or rollups.today()
    tables = await _tables()
    if not scope.unit_path or not tables:
        return {"counts": {}, "total": 0, "signals": 0}
    since = _since(day, EMOTION_DAYS)
    args: list[Any] = []
    for _ in tables:
        args += [scope.unit_path + "%", since]
    rows = await db.fetch(
        f"SELECT a.emotion, count(*) AS n,"
        f" count(*) FILTER (WHERE jsonb_array_length(a.signals) > 0) AS s"
        f" FROM ({_emotion_union(tables)}) x JOIN text_analysis a"
        f" ON a.table_name = x.tbl AND a.record_id = x.id GROUP BY 1",
        *args,
    )
    counts = {r["emotion"]: r["n"] for r in rows}
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "signals": sum(r["s"] for r in rows),
        "since": since.date(),
    }


async def emotion_records(
    scope: Scope, emotion: str | None, signals_only: bool, limit: int = 200
) -> list[dict]:
    """The records behind an emotion count (newest first), with a link to each."""
    day = rollups.today()
    tables = await _tables()
    if not scope.unit_path or not tables:
        return []
    args: list[Any] = []
    for _ in tables:
        args += [scope.unit_path + "%", _since(day, EMOTION_DAYS)]
    where = []
    if emotion:
        where.append("a.emotion = {}")
        args.append(emotion)
    if signals_only:
        where.append("jsonb_array_length(a.signals) > 0")
    args.append(limit)
    rows = await db.fetch(
        f"SELECT x.tbl, x.id, x.at, u.name AS unit_name, a.emotion, a.intensity, a.signals"
        f" FROM ({_emotion_union(tables)}) x JOIN text_analysis a"
        f" ON a.table_name = x.tbl AND a.record_id = x.id"
        f" LEFT JOIN unit u ON u.path = x.unit_path"
        f" {'WHERE ' + ' AND '.join(where) if where else ''}"
        f" ORDER BY x.at DESC LIMIT {{}}",
        *args,
    )
    for r in rows:
        r["url"] = RECORDS[r["tbl"]][1] + str(r["id"])
        if isinstance(r["signals"], str):
            r["signals"] = json.loads(r["signals"])
    return rows


async def overdue_matters(user: Any) -> int | None:
    """Open petition matters past a statutory deadline, in the user's scope (None: no cases)."""
    try:
        from app.services import cases
    except ImportError:  # pragma: no cover - the cases area is installed in this repo
        return None
    result = await cases.list_cases(user, cases.Filters(overdue=True))
    return result["total"]


async def open_warnings(scope: Scope) -> dict[str, Any] | None:
    """Unhandled early warnings in scope: count per kind and the first few (None: no warnings
    area installed)."""
    try:
        from app.services import warnings
    except ImportError:
        return None
    rows = [r for r in await warnings.search(scope, limit=500) if r["state"] != "handled"]
    by_kind: dict[str, int] = {}
    for r in rows:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    return {"total": len(rows), "by_kind": by_kind, "top": rows[:5]}


async def build(user: Any, unit: dict) -> dict[str, Any]:
    """Everything the overview shows for ``unit`` (the user's unit or one inside their scope)."""
    scope: Scope = user.scope
    children = await org.children(unit["id"])
    dash = await rollups.dashboard(unit, children)
    open_risks = await risks.open_risks(scope)
    unit_risks = [r for r in open_risks if str(r.get("unit_path", "")).startswith(unit["path"])]
    by_level: dict[str, int] = {}
    for r in unit_risks:
        by_level[r["level"]] = by_level.get(r["level"], 0) + 1
    risks_by_child: dict[int, int] = {}
    for c in children:
        risks_by_child[c["id"]] = sum(
            1 for r in unit_risks if str(r.get("unit_path", "")).startswith(c["path"])
        )
    street_rows = [s for s in await forecast.streets() if s["path"].startswith(unit["path"])]
    if not street_rows:  # a community: its street's forecast is not in scope
        street_rows = []
    names = {s["id"]: s["name"] for s in street_rows}
    rising = await forecast.above_last_year([s["id"] for s in street_rows])
    for r in rising:
        r["street_name"] = names.get(r["street"], str(r["street"]))
    return {
        "unit": unit,
        "dash": dash,
        "risks": unit_risks,
        "risks_by_level": by_level,
        "risks_by_child": risks_by_child,
        "emotions": await emotion_mix(scope),
        "overdue": await overdue_matters(user),
        "warnings": await open_warnings(scope),
        "rising": rising,
        "streets": street_rows,
    }
