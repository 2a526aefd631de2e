"""Demo history for the forecasts: three years of WEEKLY COUNTS per street x category.

The raw demo records (visits, cases) cover about four months, too short to see a year's cycle.
So before they begin, ``forecast_history`` gets generated weekly numbers (``source`` 'demo',
shown on screen as demo history): a yearly profile per category (Changchun: heating complaints
from October to March, wage arrears before the Spring Festival, neighbour noise in summer),
a mild upward trend, overdispersed noise, and a level calibrated so that the generated weeks
meet the raw weeks without a jump. Then the forecasts are computed (seeder order 95, after the
roll-ups at 90).
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from app import db
from app.domain import forecast as fc
from app.domain.calendar import local_date_sql
from app.services import demo
from app.services import forecast as svc

YEARS = 3
GROWTH = 0.04  # per year
#: category -> weight by month 1..12 (only the shape matters: the level is calibrated)
PROFILES: dict[str, dict[int, float]] = {
    "heating": dict(enumerate([9, 8, 7, 2.5, 0.3, 0.2, 0.2, 0.2, 0.5, 3, 9, 10], start=1)),
    "property": dict(enumerate([3, 3, 3.2, 3.5, 3.5, 3.4, 3.2, 3.2, 3.4, 3.3, 3, 3], start=1)),
    "dispute": dict(enumerate([2, 2.5, 2.5, 3, 4, 4.5, 4.5, 4, 3.5, 3, 2.5, 2], start=1)),
    "wages": dict(enumerate([4, 4, 1.5, 1, 1, 1, 1, 1, 1, 1.2, 2, 4], start=1)),
    "safety": dict(enumerate([2.4, 2.2, 2, 2, 1.8, 1.8, 1.8, 1.8, 2, 2.2, 2.4, 2.6], start=1)),
    "other": dict(enumerate([1.5, 1.5, 1.6, 1.6, 1.6, 1.6, 1.5, 1.5, 1.6, 1.6, 1.5, 1.5], start=1)),
}
MIN_LEVEL = 0.4  # weekly count at profile weight 1 when a street has (almost) no raw records


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(
    rng: random.Random,
    raw: dict[date, int],
    raw_first: date,
    raw_last: date,
    profile: dict[int, float],
    years: int = YEARS,
) -> list[tuple[date, int]]:
    """Weekly counts for the ``years`` before ``raw_first`` (its week included, pro rata)."""
    raw_weeks = fc.weekly_series(raw, raw_first, raw_last)
    first_week = fc.week_start(raw_first)
    shape = [
        fc.yearly_profile(first_week + timedelta(weeks=i), profile) for i in range(len(raw_weeks))
    ]
    level = sum(raw_weeks[1:]) / max(sum(shape[1:]), 1e-9) if len(raw_weeks) > 1 else 0.0
    level = max(level, MIN_LEVEL)
    out = []
    covered = (raw_first - first_week).days / 7  # share of the first raw week before raw data
    for i in range(years * 52, -1, -1):
        week = first_week - timedelta(weeks=i)
        trend = (1 + GROWTH) ** (-i / 52)
        noise = math.exp(rng.gauss(0, 0.12))
        lam = level * fc.yearly_profile(week, profile) * trend * noise
        if i == 0:
            lam *= covered
        out.append((week, _poisson(rng, lam)))
    return out


async def seed_history(rng: random.Random) -> int:
    """Write the generated weeks into ``forecast_history`` (once: skipped if any exist)."""
    if await db.fetchval("SELECT 1 FROM forecast_history WHERE source = 'demo' LIMIT 1"):
        return 0
    raw_first = await db.fetchval(f"SELECT min({local_date_sql('visited_at')}) FROM visit")
    if raw_first is None:
        raw_first = svc.today()
    before = svc.this_week()
    counts = await svc.weekly_counts(before=before)
    rows: list[tuple[int, str, date, int]] = []
    for street in await svc.streets():
        for category, profile in PROFILES.items():
            raw = counts.get((street["id"], category), {})
            for week, n in generate(
                rng, raw, raw_first, before - timedelta(days=1), profile, YEARS
            ):
                rows.append((street["id"], category, week, n))
    if rows:
        cols = [list(c) for c in zip(*rows, strict=True)]
        await db.fetch(
            "INSERT INTO forecast_history (street, category, week_start, count, source)"
            " SELECT s, c, w, n, 'demo' FROM unnest({}::int[], {}::varchar[], {}::date[],"
            " {}::int[]) AS t(s, c, w, n)",
            *cols,
        )
    return len(rows)


@demo.history_seeder(95)
async def forecast_demo_history(rng: random.Random) -> None:
    """Demo weekly history before the raw records, then the forecasts (after roll-ups at 90)."""
    await seed_history(rng)
    await svc.compute()
