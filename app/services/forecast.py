"""Forecasts: weekly counts per street x category, the model's next 8 weeks, stored and read.

Weekly counts come from three places, added up: visits (category from summary and topics),
petition cases (category from the case's category and content) and ``forecast_history``
(weekly numbers kept as numbers: the demo's generated history before its raw records begin).
The week is the local (Asia/Shanghai) Monday-to-Sunday week. The current week is not complete,
so series end at last week and the forecast covers this week and the next seven.

:func:`compute` recomputes and replaces every stored forecast (the worker's weekly cron job and
the demo seeder call it); :func:`latest_intervals` gives the 95% interval per street, category
and week, for the early-warning rules.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app import db
from app.domain import forecast as fc
from app.domain.calendar import LOCAL_TZ, TZ_NAME, today
from app.domain.roles import Scope

log = logging.getLogger("fengqiao.forecast")

HISTORY_WEEKS_SHOWN = 104

_WEEK = "date_trunc('week', ({col} AT TIME ZONE '" + TZ_NAME + "'))::date"
# The street of a record: the second id of its unit path (/district/street/...).
_STREET = "NULLIF(split_part({alias}.unit_path, '/', 3), '')::int"


def this_week() -> date:
    return fc.week_start(today())


def _visit_category_sql() -> str:
    return (
        "CASE WHEN v.summary ~ {} THEN 'heating' WHEN v.summary ~ {} THEN 'wages'"
        " WHEN v.summary ~ {} THEN 'property'"
        " WHEN v.topics && ARRAY['security', 'fire']::varchar[] THEN 'safety'"
        " WHEN 'dispute' = ANY(v.topics) THEN 'dispute'"
        " WHEN 'sanitation' = ANY(v.topics) THEN 'property' ELSE 'other' END"
    )


def _case_category_sql() -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in fc.CASE_CATEGORIES.items())
    return (
        "CASE WHEN c.content ~ {} THEN 'heating'"
        f" ELSE CASE btrim(c.category) {whens} ELSE 'other' END END"
    )


async def weekly_counts(
    street_ids: list[int] | None = None, before: date | None = None
) -> dict[tuple[int, str], dict[date, int]]:
    """(street id, category) -> week start -> count, from visits, cases and history."""
    before = before or this_week()
    pats = (fc.HEATING_PATTERN, fc.WAGES_PATTERN, fc.PROPERTY_PATTERN)
    visit_sql = (
        f"SELECT {_STREET.format(alias='v')} AS street, {_visit_category_sql()} AS category,"
        f" {_WEEK.format(col='v.visited_at')} AS week, count(*) AS n FROM visit v"
        f" WHERE v.visited_at < ({{}}::date)::timestamp AT TIME ZONE '{TZ_NAME}'"
        " GROUP BY 1, 2, 3"
    )
    case_sql = (
        f"SELECT {_STREET.format(alias='c')} AS street, {_case_category_sql()} AS category,"
        f" {_WEEK.format(col='c.received_at')} AS week, count(*) AS n FROM petition_case c"
        f" WHERE c.received_at < ({{}}::date)::timestamp AT TIME ZONE '{TZ_NAME}'"
        " GROUP BY 1, 2, 3"
    )
    hist_sql = (
        "SELECT street, category, week_start AS week, sum(count) AS n FROM forecast_history"
        " WHERE week_start < {} GROUP BY 1, 2, 3"
    )
    sql = (
        f"SELECT street, category, week, sum(n)::int AS n FROM ({visit_sql} UNION ALL {case_sql}"
        f" UNION ALL {hist_sql}) x WHERE street IS NOT NULL"
        " AND ({}::int[] IS NULL OR street = ANY({}::int[])) GROUP BY 1, 2, 3"
    )
    rows = await db.fetch(
        sql, *pats, before, fc.HEATING_PATTERN, before, before, street_ids, street_ids
    )
    out: dict[tuple[int, str], dict[date, int]] = {}
    for r in rows:
        out.setdefault((r["street"], r["category"]), {})[r["week"]] = r["n"]
    return out


async def streets(scope: Scope | None = None) -> list[dict]:
    """Streets (and towns), optionally only those inside ``scope``."""
    rows = await db.fetch("SELECT id, name, path FROM unit WHERE tier = 'street' ORDER BY path")
    if scope is None:
        return rows
    return [r for r in rows if scope.covers(r["path"])]


@dataclass
class Series:
    street: int
    category: str
    first_week: date
    values: list[float]

    @property
    def phase(self) -> int:
        return fc.week_number(self.first_week)


async def all_series(
    street_ids: list[int] | None = None, before: date | None = None
) -> list[Series]:
    """One series per street x category, every series from the same first week to last week."""
    before = before or this_week()
    counts = await weekly_counts(street_ids, before)
    ids = street_ids if street_ids is not None else [s["id"] for s in await streets()]
    weeks = [w for by_week in counts.values() for w in by_week]
    first = min(weeks) if weeks else before - timedelta(days=7)
    last = before - timedelta(days=7)
    out = []
    for street in ids:
        for category in fc.CATEGORIES:
            by_week = counts.get((street, category), {})
            out.append(Series(street, category, first, fc.weekly_series(by_week, first, last)))
    return out


async def compute(before: date | None = None) -> int:
    """Recompute every street x category forecast from the counts and replace the stored ones."""
    before = before or this_week()
    rows = []
    now = datetime.now(LOCAL_TZ)
    for s in await all_series(before=before):
        result = fc.forecast(s.values, fc.HORIZON, phase=s.phase)
        for h in range(fc.HORIZON):
            rows.append(
                (
                    s.street,
                    s.category,
                    before + timedelta(weeks=h),
                    result.mean[h],
                    result.lo80[h],
                    result.hi80[h],
                    result.lo95[h],
                    result.hi95[h],
                    result.model,
                )
            )
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 9
    async with db.transaction():
        await db.fetch("DELETE FROM forecast")
        await db.fetch(
            "INSERT INTO forecast (street, category, week_start, mean, lo80, hi80, lo95, hi95,"
            " model, computed_at) SELECT *, {} FROM unnest({}::int[], {}::varchar[], {}::date[],"
            " {}::real[], {}::real[], {}::real[], {}::real[], {}::real[], {}::varchar[])",
            now,
            *[list(c) for c in cols],
        )
    log.info("forecasts computed: %d rows", len(rows))
    return len(rows)


async def exists() -> bool:
    return bool(await db.fetchval("SELECT 1 FROM forecast LIMIT 1"))


async def latest_intervals() -> dict[tuple[int, str, date], tuple[float, float]]:
    """(street id, category, week start) -> (lo95, hi95) of the stored forecasts."""
    rows = await db.fetch("SELECT street, category, week_start, lo95, hi95 FROM forecast")
    return {
        (r["street"], r["category"], r["week_start"]): (float(r["lo95"]), float(r["hi95"]))
        for r in rows
    }


async def street_view(street_id: int, weeks: int = HISTORY_WEEKS_SHOWN) -> dict[str, Any]:
    """History (last ``weeks``) and stored forecast per category of one street, for the chart."""
    before = this_week()
    counts = await weekly_counts([street_id], before)
    first = before - timedelta(weeks=weeks)
    last = before - timedelta(days=7)
    demo_until = await db.fetchval(
        "SELECT max(week_start) FROM forecast_history WHERE street = {} AND source = 'demo'",
        street_id,
    )
    rows = await db.fetch(
        "SELECT category, week_start, mean, lo80, hi80, lo95, hi95, model, computed_at"
        " FROM forecast WHERE street = {} ORDER BY category, week_start",
        street_id,
    )
    by_cat: dict[str, list[dict]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    hist_weeks = [first + timedelta(weeks=i) for i in range(weeks)]
    categories = []
    for category in fc.CATEGORIES:
        history = fc.weekly_series(counts.get((street_id, category), {}), first, last)
        f_rows = by_cat.get(category, [])
        categories.append(
            {
                "category": category,
                "history": [int(v) for v in history],
                "forecast": {
                    k: [round(float(r[k]), 1) for r in f_rows]
                    for k in ("mean", "lo80", "hi80", "lo95", "hi95")
                },
                "forecast_weeks": [r["week_start"].isoformat() for r in f_rows],
                "model": f_rows[0]["model"] if f_rows else None,
                "next4": round(sum(float(r["mean"]) for r in f_rows[:4]), 1),
                "last_year4": sum(
                    counts.get((street_id, category), {}).get(before + timedelta(weeks=h - 52), 0)
                    for h in range(4)
                ),
            }
        )
    computed = max((r["computed_at"] for r in rows), default=None)
    return {
        "weeks": [w.isoformat() for w in hist_weeks],
        "categories": categories,
        "demo_until": demo_until.isoformat() if demo_until else None,
        "computed_at": computed.isoformat() if computed else None,
    }


async def above_last_year(street_ids: list[int], weeks: int = 4) -> list[dict]:
    """Street x category whose forecast for the next ``weeks`` exceeds the same weeks last year."""
    if not street_ids:
        return []
    before = this_week()
    rows = await db.fetch(
        "SELECT street, category, sum(mean) AS expected, sum(hi95) AS high FROM forecast"
        " WHERE street = ANY({}::int[]) AND week_start >= {} AND week_start < {}"
        " GROUP BY 1, 2",
        street_ids,
        before,
        before + timedelta(weeks=weeks),
    )
    counts = await weekly_counts(street_ids, before - timedelta(weeks=52 - weeks))
    out = []
    for r in rows:
        by_week = counts.get((r["street"], r["category"]), {})
        last_year = sum(by_week.get(before + timedelta(weeks=h - 52), 0) for h in range(weeks))
        expected = float(r["expected"])
        if round(expected) > last_year and expected >= 1:
            out.append(
                {
                    "street": r["street"],
                    "category": r["category"],
                    "expected": round(expected),
                    "last_year": last_year,
                    "change": (expected - last_year) / last_year if last_year else None,
                }
            )
    out.sort(key=lambda x: x["expected"] - x["last_year"], reverse=True)
    return out


@dataclass(frozen=True)
class BacktestRow:
    street: int
    street_name: str
    category: str
    model_mase: float
    naive_mase: float
    origins: int
    coverage95: float


async def backtest_all() -> tuple[list[BacktestRow], dict[str, float]]:
    """Rolling-origin backtest of every street x category; (rows, overall means)."""
    names = {s["id"]: s["name"] for s in await streets()}
    rows = []
    for s in await all_series():
        result = fc.backtest(s.values, phase=s.phase)
        if result is None or not math.isfinite(result.model_mase):
            continue
        rows.append(
            BacktestRow(
                s.street,
                names.get(s.street, str(s.street)),
                s.category,
                result.model_mase,
                result.naive_mase,
                result.origins,
                result.coverage95,
            )
        )
    finite = [r for r in rows if math.isfinite(r.naive_mase)]
    overall = {
        "model_mase": sum(r.model_mase for r in finite) / len(finite) if finite else math.nan,
        "naive_mase": sum(r.naive_mase for r in finite) / len(finite) if finite else math.nan,
        "coverage95": sum(r.coverage95 for r in finite) / len(finite) if finite else math.nan,
        "series": float(len(finite)),
    }
    return rows, overall
