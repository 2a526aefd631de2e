"""Shared helpers for the roll-up tests: random raw rows, marks, and direct-SQL expectations."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

import asyncpg
from arq import create_pool

from app.domain.calendar import LOCAL_TZ
from app.services import jobs

LOCAL = LOCAL_TZ
KINDS = ("door", "reception", "away")
CALL_OUTCOMES = ("reached", "no_answer", "refused")
SATISFACTION = ("satisfied", "basically", "dissatisfied", None)
MED_OUTCOMES = ("in_progress", "agreed_written", "agreed_oral", "failed", "escalated", "referred")

MARK = (
    "INSERT INTO rollup_dirty (unit_path, day, marked_at) VALUES ($1, $2, clock_timestamp())"
    " ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at"
)


def today() -> date:
    return datetime.now(LOCAL).date()


def at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), LOCAL)


async def leaf_units(sql: asyncpg.Connection) -> list[asyncpg.Record]:
    return await sql.fetch("SELECT id, path FROM unit WHERE tier IN ('grid', 'community')")


async def author(sql: asyncpg.Connection) -> int:
    return await sql.fetchval("SELECT id FROM app_user ORDER BY id LIMIT 1")


async def ensure_households(sql: asyncpg.Connection, units, per_unit: int = 4) -> None:
    if await sql.fetchval("SELECT count(*) FROM household WHERE address LIKE 'rollup-test%'"):
        return
    for u in units:
        for i in range(per_unit):
            await sql.execute(
                "INSERT INTO household (unit, unit_path, address, created_at)"
                " VALUES ($1, $2, $3, now())",
                u["id"],
                u["path"],
                f"rollup-test {u['id']}-{i}",
            )


async def random_writes(
    sql: asyncpg.Connection, rng: random.Random, n: int, days: int = 40, mark: bool = True
) -> None:
    """Insert ``n`` visits (+ calls, mediations, follow-ups), backdated over ``days`` days."""
    units = await leaf_units(sql)
    await ensure_households(sql, units)
    who = await author(sql)
    households = await sql.fetch("SELECT id, unit, unit_path FROM household")
    for _ in range(n):
        u = rng.choice(units)
        day = today() - timedelta(days=rng.randrange(days))
        hh = [h for h in households if h["unit"] == u["id"]]
        household = rng.choice(hh)["id"] if hh and rng.random() < 0.8 else None
        async with sql.transaction():
            await sql.execute(
                "INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at,"
                " household, mood, resolved_on_site, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), now())",
                uuid.uuid4(),
                who,
                u["id"],
                u["path"],
                rng.choice(KINDS),
                at(day, rng),
                household,
                rng.choice(("calm", "dissatisfied", "agitated")),
                rng.random() < 0.5,
            )
            if mark:
                await sql.execute(MARK, u["path"], day)
            if rng.random() < 0.5:
                await sql.execute(
                    "INSERT INTO call (client_uuid, author, unit, unit_path, called_at,"
                    " subject_type, outcome, satisfaction, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, 'visit', $6, $7, now(), now())",
                    uuid.uuid4(),
                    who,
                    u["id"],
                    u["path"],
                    at(day, rng),
                    rng.choice(CALL_OUTCOMES),
                    rng.choice(SATISFACTION),
                )
            if rng.random() < 0.2:
                outcome = rng.choice(MED_OUTCOMES)
                await sql.execute(
                    "INSERT INTO mediation (client_uuid, author, venue_unit, unit_path, held_at,"
                    " dispute_type, outcome, agreement_signed_on, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, 'neighbour', $6, $7, now(), now())",
                    uuid.uuid4(),
                    who,
                    u["id"],
                    u["path"],
                    at(day, rng),
                    outcome,
                    day if outcome == "agreed_written" else None,  # as the form requires
                )
            if rng.random() < 0.2:
                due = day + timedelta(days=rng.randrange(-3, 10))
                done = at(due + timedelta(days=rng.randrange(-2, 3)), rng)
                await sql.execute(
                    "INSERT INTO follow_up_task (unit_path, source_type, source_id, kind, due,"
                    " done_at, created_at) VALUES ($1, 'visit', 0, 'revisit', $2, $3, now())",
                    u["path"],
                    due,
                    done if rng.random() < 0.6 else None,
                )
                if mark:
                    await sql.execute(MARK, u["path"], due)


async def random_edits(sql: asyncpg.Connection, rng: random.Random, n: int) -> None:
    """Change kind and move visits to another day (marking the old and the new bucket)."""
    rows = await sql.fetch(
        "SELECT id, unit_path, visited_at FROM visit ORDER BY random() LIMIT $1", n
    )
    for r in rows:
        old_day = r["visited_at"].astimezone(LOCAL).date()
        new_day = today() - timedelta(days=rng.randrange(35))
        async with sql.transaction():
            await sql.execute(
                "UPDATE visit SET kind = $2, visited_at = $3 WHERE id = $1",
                r["id"],
                rng.choice(KINDS),
                at(new_day, rng),
            )
            await sql.execute(MARK, r["unit_path"], old_day)
            await sql.execute(MARK, r["unit_path"], new_day)


def expected_sql(table: str, col: str, extra: str = "TRUE") -> str:
    return (
        f"SELECT count(*) FROM {table} WHERE left(unit_path, length($1)) = $1"
        f" AND ({col} AT TIME ZONE 'Asia/Shanghai')::date = $2 AND {extra}"
    )


CHECKS = {
    "visits": expected_sql("visit", "visited_at"),
    "visits_door": expected_sql("visit", "visited_at", "kind = 'door'"),
    "visits_away": expected_sql("visit", "visited_at", "kind = 'away'"),
    "calls": expected_sql("call", "called_at"),
    "calls_reached": expected_sql("call", "called_at", "outcome = 'reached'"),
    "calls_satisfied": expected_sql("call", "called_at", "satisfaction = 'satisfied'"),
    "mediations": expected_sql("mediation", "held_at"),
    "mediations_agreed": expected_sql(
        "mediation", "held_at", "outcome IN ('agreed_written', 'agreed_oral')"
    ),
    "followups_due": (
        "SELECT count(*) FROM follow_up_task WHERE left(unit_path, length($1)) = $1 AND due = $2"
    ),
    # Households (per unit path) whose latest visit there is on that day.
    "households_last_visited": (
        "SELECT count(*) FROM (SELECT unit_path, household,"
        " max((visited_at AT TIME ZONE 'Asia/Shanghai')::date) AS last FROM visit"
        " WHERE left(unit_path, length($1)) = $1 AND household IS NOT NULL GROUP BY 1, 2) x"
        " WHERE last = $2"
    ),
}

VISITED_30D = (
    "SELECT count(DISTINCT (unit_path, household)) FROM visit"
    " WHERE left(unit_path, length($1)) = $1 AND household IS NOT NULL"
    " AND (visited_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $2::date - 29 AND $2"
)


async def bucket(sql: asyncpg.Connection, unit_id: int, day: date) -> dict:
    """The stored metrics of a ``rollup_day`` bucket (core columns + extras); {} if absent."""
    from app.services import rollups

    row = await sql.fetchrow(
        f"SELECT metrics, {', '.join(rollups.CORE)} FROM rollup_day"
        " WHERE unit_id = $1 AND day = $2",
        unit_id,
        day,
    )
    if row is None:
        return {}
    import json

    return {**{n: row[n] for n in rollups.CORE}, **json.loads(row["metrics"])}


async def compare(sql: asyncpg.Connection, rng: random.Random, samples: int = 40) -> int:
    """Check roll-up numbers against direct SQL counts for random units and days."""
    units = await sql.fetch("SELECT id, path FROM unit")
    checked = 0
    for _ in range(samples):
        u = rng.choice(units)
        day = today() - timedelta(days=rng.randrange(45))
        got = await bucket(sql, u["id"], day)
        for name, query in CHECKS.items():
            want = await sql.fetchval(query, u["path"], day)
            assert got.get(name, 0) == want, (name, u["path"], day, got.get(name), want)
            checked += 1
    # 30-day coverage as the dashboard reads it (roll-ups only) equals the distinct count.
    from app.services import rollups

    for u in rng.sample(list(units), min(len(units), 10)):
        want = await sql.fetchval(VISITED_30D, u["path"], today())
        got = await sql.fetchval(
            "SELECT COALESCE(sum(households_last_visited), 0) FROM rollup_day"
            " WHERE unit_id = $1 AND day BETWEEN $2::date - 29 AND $2",
            u["id"],
            today(),
        )
        assert got == want, ("visited_30d", u["path"], got, want)
        assert rollups.COVERAGE_DAYS == 30
    # The district total for every day equals the raw count.
    root = await sql.fetchrow("SELECT id, path FROM unit WHERE parent IS NULL")
    rows = await sql.fetch("SELECT day, visits AS v FROM rollup_day WHERE unit_id = $1", root["id"])
    by_day = {r["day"]: r["v"] for r in rows}
    raw = await sql.fetch(
        "SELECT (visited_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS v"
        " FROM visit GROUP BY 1"
    )
    for r in raw:
        assert by_day.get(r["day"], 0) == r["v"], (r["day"], by_day.get(r["day"]), r["v"])
    return checked


async def snapshot(sql: asyncpg.Connection) -> dict:
    """Every non-zero bucket (an all-zero bucket and a missing one mean the same numbers)."""
    import json

    from app.services import rollups

    cols = ", ".join(rollups.CORE)
    rows = await sql.fetch(f"SELECT unit_id, day, metrics, {cols} FROM rollup_day")
    out = {}
    for r in rows:
        m = {**{n: r[n] for n in rollups.CORE}, **json.loads(r["metrics"])}
        if any(m.values()):
            out[(r["unit_id"], r["day"])] = m
    return out


async def enqueue(servers, function: str, queue: str | None = None, **kwargs) -> None:
    pool = await create_pool(
        jobs.redis_settings(servers.redis_url), default_queue_name=queue or servers.queue_name
    )
    try:
        await pool.enqueue_job(function, **kwargs)
    finally:
        await pool.aclose()
