"""Roll-ups: per unit per local day metric buckets, recomputed from raw rows in set-based SQL.

* ``rollup_own(unit_id, day)`` — metrics of the records made at exactly that unit;
* ``rollup_day(unit_id, day)`` — the unit's subtree: own + children's ``rollup_day``.

Areas add metrics with :func:`register` (a :class:`MetricSource`: names + the SQL computing
their per-unit-path per-day values); nothing else here changes. Every recompute is an upsert of
numbers computed from the raw rows, so it is idempotent: running it twice, or killing it in the
middle (its transaction rolls back, the dirty marks stay), leaves the same numbers.

History follows a moved unit: the org service rewrites the ``unit_path`` of the records, buckets
are keyed by unit id, and :func:`_on_unit_moved` re-marks the old and new ancestors.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from app import db
from app.services import hooks

log = logging.getLogger("fengqiao.rollups")

TZ = "Asia/Shanghai"
LOCAL = ZoneInfo(TZ)
_LOCK = 5_171_050  # advisory lock: one recompute at a time (parents upsert the same rows)
BATCH = 5000  # dirty marks per transaction


@dataclass(frozen=True)
class MetricSource:
    """Metrics computed by one SQL statement over raw rows.

    ``sql`` returns ``unit_path, day, <one column per name in metrics>`` grouped by unit path
    and local day. Parameters: ``$1`` first day, ``$2`` last day (dates, inclusive), ``$3`` a
    ``text[]`` of unit paths to restrict to, or NULL for all. Every metric must be a count that
    adds up from children to parents. ``window_days``: a change on day D changes this source's
    values on D .. D + window_days - 1 (e.g. 30-day coverage).
    """

    name: str
    metrics: tuple[str, ...]
    sql: str
    window_days: int = 1


SOURCES: list[MetricSource] = []


def register(source: MetricSource) -> MetricSource:
    """Add a metric source (another area calls this at import time)."""
    if any(s.name == source.name for s in SOURCES):
        SOURCES[:] = [s for s in SOURCES if s.name != source.name]
    SOURCES.append(source)
    return source


def metric_names() -> list[str]:
    return [m for s in SOURCES for m in s.metrics]


def local_day(ts: str) -> str:
    return f"({ts} AT TIME ZONE '{TZ}')::date"


def _range(col: str) -> str:
    return (
        f"{col} >= ($1::date)::timestamp AT TIME ZONE '{TZ}'"
        f" AND {col} < ($2::date + 1)::timestamp AT TIME ZONE '{TZ}'"
    )


_PATHS = "($3::text[] IS NULL OR unit_path = ANY($3::text[]))"

register(
    MetricSource(
        "visits",
        (
            "visits",
            "visits_door",
            "visits_reception",
            "visits_away",
            "households_visited",
            "visits_unsettled",
            "visits_resolved_on_site",
            "visits_reported_up",
        ),
        f"""SELECT unit_path, {local_day("visited_at")} AS day, count(*),
              count(*) FILTER (WHERE kind = 'door'), count(*) FILTER (WHERE kind = 'reception'),
              count(*) FILTER (WHERE kind = 'away'), count(DISTINCT household),
              count(*) FILTER (WHERE mood <> 'calm'), count(*) FILTER (WHERE resolved_on_site),
              count(*) FILTER (WHERE reported_up)
            FROM visit WHERE {_range("visited_at")} AND {_PATHS} GROUP BY 1, 2""",
    )
)

# Households visited in the 30 days ending each day. Each (household, visit day) covers the days
# up to the next visit or 30 days, whichever is first; the intervals never overlap, so a running
# sum of +1/-1 events per unit is the distinct count. Not computed for days after today.
register(
    MetricSource(
        "coverage",
        ("households_visited_30d",),
        f"""WITH hv AS (
              SELECT DISTINCT unit_path, household, {local_day("visited_at")} AS d FROM visit
              WHERE household IS NOT NULL AND {_PATHS}
                AND visited_at >= ($1::date - 29)::timestamp AT TIME ZONE '{TZ}'
                AND visited_at < ($2::date + 1)::timestamp AT TIME ZONE '{TZ}'),
            iv AS (SELECT unit_path, d, LEAST(lead(d) OVER (PARTITION BY unit_path, household
                                                             ORDER BY d), d + 30) AS e FROM hv),
            ev AS (SELECT unit_path, day, sum(delta) AS delta FROM (
                     SELECT unit_path, d AS day, 1 AS delta FROM iv
                     UNION ALL SELECT unit_path, e, -1 FROM iv) x GROUP BY 1, 2),
            cum AS (SELECT unit_path, day,
                      sum(delta) OVER (PARTITION BY unit_path ORDER BY day) AS n,
                      lead(day) OVER (PARTITION BY unit_path ORDER BY day) AS next_day FROM ev)
            SELECT c.unit_path, g.day::date AS day, c.n
            FROM cum c CROSS JOIN LATERAL generate_series(
                GREATEST(c.day, $1::date),
                LEAST(c.next_day - 1, $2::date, (now() AT TIME ZONE '{TZ}')::date),
                interval '1 day') AS g(day)
            WHERE c.n > 0""",
        window_days=30,
    )
)

register(
    MetricSource(
        "calls",
        (
            "calls",
            "calls_reached",
            "calls_no_answer",
            "calls_refused",
            "calls_satisfied",
            "calls_basically",
            "calls_dissatisfied",
        ),
        f"""SELECT unit_path, {local_day("called_at")} AS day, count(*),
              count(*) FILTER (WHERE outcome = 'reached'),
              count(*) FILTER (WHERE outcome = 'no_answer'),
              count(*) FILTER (WHERE outcome = 'refused'),
              count(*) FILTER (WHERE satisfaction = 'satisfied'),
              count(*) FILTER (WHERE satisfaction = 'basically'),
              count(*) FILTER (WHERE satisfaction = 'dissatisfied')
            FROM call WHERE {_range("called_at")} AND {_PATHS} GROUP BY 1, 2""",
    )
)

# "Local": agreed at a venue below the district (street tier or lower: path depth >= 2).
register(
    MetricSource(
        "mediations",
        (
            "mediations",
            "mediations_in_progress",
            "mediations_agreed",
            "mediations_failed",
            "mediations_escalated",
            "mediations_referred",
            "mediations_agreed_local",
        ),
        f"""SELECT unit_path, {local_day("held_at")} AS day, count(*),
              count(*) FILTER (WHERE outcome = 'in_progress'),
              count(*) FILTER (WHERE outcome IN ('agreed_written', 'agreed_oral')),
              count(*) FILTER (WHERE outcome = 'failed'),
              count(*) FILTER (WHERE outcome = 'escalated'),
              count(*) FILTER (WHERE outcome = 'referred'),
              count(*) FILTER (WHERE outcome IN ('agreed_written', 'agreed_oral')
                               AND length(unit_path) - length(replace(unit_path, '/', '')) > 2)
            FROM mediation WHERE {_range("held_at")} AND {_PATHS} GROUP BY 1, 2""",
    )
)

# Follow-ups count on their due day; overdue = due - done on time, for days before today.
register(
    MetricSource(
        "followups",
        ("followups_due", "followups_done_on_time", "followups_open"),
        f"""SELECT unit_path, due AS day, count(*),
              count(*) FILTER (WHERE done_at IS NOT NULL AND {local_day("done_at")} <= due),
              count(*) FILTER (WHERE done_at IS NULL)
            FROM follow_up_task WHERE due BETWEEN $1::date AND $2::date AND {_PATHS}
            GROUP BY 1, 2""",
    )
)


# -- SQL generation ----------------------------------------------------------------------------


def _json_object(pairs: list[tuple[str, str]]) -> str:
    """``jsonb_build_object`` in chunks (a function takes at most 100 arguments)."""
    parts = []
    for i in range(0, len(pairs), 40):
        chunk = pairs[i : i + 40]
        parts.append("jsonb_build_object(" + ", ".join(f"'{k}', {v}" for k, v in chunk) + ")")
    return " || ".join(parts) if parts else "'{}'::jsonb"


def _own_sql(keys_sql: str | None) -> str:
    """Upsert ``rollup_own`` for the keys (``None``: every key any source yields)."""
    ctes = []
    joins = []
    pairs = []
    for i, source in enumerate(SOURCES):
        cols = ", ".join(f"m{j}" for j in range(len(source.metrics)))
        ctes.append(f"s{i} (unit_path, day, {cols}) AS ({source.sql})")
        joins.append(f"LEFT JOIN s{i} ON s{i}.unit_path = k.unit_path AND s{i}.day = k.day")
        pairs += [(name, f"COALESCE(s{i}.m{j}, 0)") for j, name in enumerate(source.metrics)]
    if keys_sql is None:
        keys_sql = " UNION ".join(f"SELECT unit_path, day FROM s{i}" for i in range(len(SOURCES)))
    return (
        "WITH "
        + ",\n".join(ctes)
        + f",\nk AS ({keys_sql})\n"
        + "INSERT INTO rollup_own (unit_id, day, metrics, as_of)\n"
        + f"SELECT u.id, k.day, {_json_object(pairs)}, now()\n"
        + "FROM k JOIN unit u ON u.path = k.unit_path\n"
        + "\n".join(joins)
        + "\nON CONFLICT (unit_id, day) DO UPDATE SET metrics = EXCLUDED.metrics,"
        " as_of = EXCLUDED.as_of"
    )


def _sum_object() -> str:
    """The summed metrics of rows ``r`` (each row's JSON expanded once by ``_expand``)."""
    return _json_object([(n, f"COALESCE(sum(r.{n}), 0)") for n in metric_names()])


def _expand(alias: str = "x.m") -> str:
    cols = ", ".join(f"{n} bigint" for n in metric_names())
    return f"LEFT JOIN LATERAL jsonb_to_record({alias}) AS r({cols}) ON true"


_DEPTH = "(length(u.path) - length(replace(u.path, '/', '')) - 1)"


def _parents_sql() -> str:
    """Upsert ``rollup_day`` for the ``_anc`` rows of depth $1: own + children's totals."""
    return f"""
    INSERT INTO rollup_day (unit_id, day, metrics, as_of)
    SELECT a.unit_id, a.day, {_sum_object()}, now()
    FROM _anc a LEFT JOIN (
        SELECT o.unit_id, o.day, o.metrics AS m
        FROM _anc b JOIN rollup_own o ON o.unit_id = b.unit_id AND o.day = b.day
        WHERE b.depth = $1
        UNION ALL
        SELECT c.parent, d.day, d.metrics
        FROM _anc b JOIN unit c ON c.parent = b.unit_id
        JOIN rollup_day d ON d.unit_id = c.id AND d.day = b.day
        WHERE b.depth = $1) x ON x.unit_id = a.unit_id AND x.day = a.day
    {_expand()}
    WHERE a.depth = $1
    GROUP BY a.unit_id, a.day
    ON CONFLICT (unit_id, day) DO UPDATE SET metrics = EXCLUDED.metrics, as_of = EXCLUDED.as_of
    """


_HAS_CHILDREN = "EXISTS (SELECT 1 FROM unit c WHERE c.parent = u.id)"


def _rebuild_leaves_sql() -> str:
    """``rollup_day`` of units without children is their own bucket (days $1..$2)."""
    return f"""
    INSERT INTO rollup_day (unit_id, day, metrics, as_of)
    SELECT o.unit_id, o.day, o.metrics, now() FROM rollup_own o JOIN unit u ON u.id = o.unit_id
    WHERE o.day BETWEEN $1 AND $2 AND NOT {_HAS_CHILDREN}
    ON CONFLICT (unit_id, day) DO UPDATE SET metrics = EXCLUDED.metrics, as_of = EXCLUDED.as_of
    """


def _rebuild_parents_sql() -> str:
    """Upsert ``rollup_day`` of units with children at depth $1, days $2..$3."""
    return f"""
    INSERT INTO rollup_day (unit_id, day, metrics, as_of)
    SELECT x.unit_id, x.day, {_sum_object()}, now() FROM (
        SELECT o.unit_id, o.day, o.metrics AS m FROM rollup_own o JOIN unit u ON u.id = o.unit_id
        WHERE {_DEPTH} = $1 AND o.day BETWEEN $2 AND $3 AND {_HAS_CHILDREN}
        UNION ALL
        SELECT u.parent, d.day, d.metrics FROM rollup_day d JOIN unit u ON u.id = d.unit_id
        WHERE {_DEPTH} = $1 + 1 AND d.day BETWEEN $2 AND $3) x
    {_expand()}
    GROUP BY x.unit_id, x.day
    ON CONFLICT (unit_id, day) DO UPDATE SET metrics = EXCLUDED.metrics, as_of = EXCLUDED.as_of
    """


# -- connections -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _connection() -> AsyncIterator[asyncpg.Connection]:
    pool = getattr(db.DB, "pool", None)
    if pool is not None:
        async with pool.acquire() as conn:
            yield conn
    else:
        conn = await asyncpg.connect(db.DB.config["dsn"])
        try:
            yield conn
        finally:
            await conn.close()


def today() -> date:
    return datetime.now(LOCAL).date()


def _max_window() -> int:
    return max((s.window_days for s in SOURCES), default=1)


# -- incremental -------------------------------------------------------------------------------


async def process_dirty(limit: int = BATCH) -> int:
    """Recompute up to ``limit`` dirty buckets in one transaction; return how many marks."""
    async with _connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        await conn.execute("SET LOCAL jit = off")  # JIT compiling costs seconds here
        marks = await conn.fetch(
            "SELECT id, unit_path, day FROM rollup_dirty ORDER BY unit_path, day LIMIT $1"
            " FOR UPDATE SKIP LOCKED",
            limit,
        )
        if not marks:
            await conn.execute(
                "INSERT INTO rollup_state (name, at) VALUES ('drained', now())"
                " ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at"
            )
            return 0
        await _recompute(conn, marks)
        await conn.execute(
            "DELETE FROM rollup_dirty WHERE id = ANY($1::int[])", [m["id"] for m in marks]
        )
    return len(marks)


async def _recompute(conn: asyncpg.Connection, marks: list[Any]) -> None:
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _keys (unit_path text, day date) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS _anc (unit_id int, day date, depth int)"
        " ON COMMIT DELETE ROWS"
    )
    await conn.execute("TRUNCATE _keys, _anc")
    last = max(today(), max(m["day"] for m in marks))
    await conn.execute(
        """INSERT INTO _keys SELECT DISTINCT m.unit_path, g.day::date
           FROM unnest($1::text[], $2::date[]) AS m(unit_path, day)
           CROSS JOIN LATERAL generate_series(m.day, LEAST(m.day + $3::int - 1, $4::date),
                                              interval '1 day') AS g(day)""",
        [m["unit_path"] for m in marks],
        [m["day"] for m in marks],
        _max_window(),
        last,
    )
    await conn.execute("ANALYZE _keys")
    bounds = await conn.fetchrow("SELECT min(day) lo, max(day) hi FROM _keys")
    paths = sorted({m["unit_path"] for m in marks})
    await conn.execute(
        _own_sql("SELECT unit_path, day FROM _keys"), bounds["lo"], bounds["hi"], paths
    )
    # Every ancestor (and the unit itself) of every key, from the ids in the path.
    await conn.execute(
        """INSERT INTO _anc SELECT DISTINCT u.id, k.day,
               length(u.path) - length(replace(u.path, '/', '')) - 1
           FROM _keys k CROSS JOIN LATERAL unnest(
               string_to_array(trim(BOTH '/' FROM k.unit_path), '/')::int[]) AS a(id)
           JOIN unit u ON u.id = a.id"""
    )
    await conn.execute("ANALYZE _anc")
    depth = await conn.fetchval("SELECT max(depth) FROM _anc")
    sql = _parents_sql()
    for d in range(depth or 0, 0, -1):
        await conn.execute(sql, d)


async def drain(max_seconds: float = 60.0) -> int:
    """Process dirty marks until none is left (or time is up); return how many."""
    total = 0
    started = time.monotonic()
    while True:
        n = await process_dirty()
        total += n
        if n == 0 or time.monotonic() - started > max_seconds:
            return total


# -- rebuild -----------------------------------------------------------------------------------


def _parse(value: str | date | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None


async def rebuild(date_from: str | date | None = None, date_to: str | date | None = None) -> dict:
    """Recompute every bucket of the range from the raw rows (default: all history to today).

    One transaction: readers see the old numbers until it commits. Dirty marks are left for the
    incremental job (recomputing them again is harmless).
    """
    lo = _parse(date_from, "from")
    hi = _parse(date_to, "to")
    started = time.monotonic()
    async with _connection() as conn:
        if lo is None or hi is None:
            first, last = await conn.fetchrow(
                f"""SELECT min(lo), max(hi) FROM (
                    SELECT min({local_day("visited_at")}) lo, max({local_day("visited_at")}) hi
                    FROM visit
                    UNION ALL SELECT min({local_day("called_at")}), max({local_day("called_at")})
                    FROM call
                    UNION ALL SELECT min({local_day("held_at")}), max({local_day("held_at")})
                    FROM mediation
                    UNION ALL SELECT min(due), max(due) FROM follow_up_task) x"""
            )
            hi = hi or max(last or today(), today())
            lo = lo or first or hi
        if lo > hi:
            raise ValueError("from: after to")
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
            await conn.execute("SET LOCAL jit = off")  # JIT compiling costs seconds here
            await conn.execute("DELETE FROM rollup_own WHERE day BETWEEN $1 AND $2", lo, hi)
            await conn.execute("DELETE FROM rollup_day WHERE day BETWEEN $1 AND $2", lo, hi)
            await conn.execute(_own_sql(None), lo, hi, None)
            depth = await conn.fetchval(f"SELECT max({_DEPTH}) FROM unit u")
            await conn.execute(_rebuild_leaves_sql(), lo, hi)
            sql = _rebuild_parents_sql()
            for d in range(depth or 0, 0, -1):
                await conn.execute(sql, d, lo, hi)
            await refresh_households(conn)
            buckets = await conn.fetchval(
                "SELECT count(*) FROM rollup_day WHERE day BETWEEN $1 AND $2", lo, hi
            )
    return {
        "from": lo.isoformat(),
        "to": hi.isoformat(),
        "buckets": buckets,
        "seconds": round(time.monotonic() - started, 3),
    }


async def refresh_households(conn: asyncpg.Connection) -> None:
    """Households per unit subtree now (the coverage denominator), O(households) in one pass."""
    await conn.execute(
        """INSERT INTO rollup_unit (unit_id, households, as_of)
           SELECT u.id, COALESCE(x.n, 0), now() FROM unit u LEFT JOIN (
               SELECT a.id, sum(h.n) AS n
               FROM (SELECT unit_path, count(*) AS n FROM household GROUP BY 1) h
               CROSS JOIN LATERAL unnest(
                   string_to_array(trim(BOTH '/' FROM h.unit_path), '/')::int[]) AS a(id)
               GROUP BY a.id) x ON x.id = u.id
           ON CONFLICT (unit_id) DO UPDATE SET households = EXCLUDED.households,
               as_of = EXCLUDED.as_of"""
    )


async def sweep() -> int:
    """The one-minute sweep: drain every mark, refresh the household counts."""
    n = await drain(max_seconds=50)
    async with _connection() as conn:
        await refresh_households(conn)
    return n


# -- moves -------------------------------------------------------------------------------------


@hooks.on_unit_moved
async def _on_unit_moved(old_path: str, new_path: str) -> None:
    """History follows the unit: re-mark its days at the old parent and at the new place."""
    old_parent = old_path.rstrip("/").rsplit("/", 1)[0] + "/"
    unit_id = int(new_path.rstrip("/").rsplit("/", 1)[1])
    await db.fetch(
        "UPDATE rollup_dirty SET unit_path = {} || substr(unit_path, {}) WHERE unit_path LIKE {}",
        new_path,
        len(old_path) + 1,
        old_path + "%",
    )
    await db.fetch(
        "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
        " SELECT p.path, d.day, clock_timestamp() FROM rollup_day d,"
        " (VALUES ({}), ({})) AS p(path) WHERE d.unit_id = {}"
        " ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at",
        old_parent,
        new_path,
        unit_id,
    )
    from app.services import marks

    await marks.wake()


# -- reads -------------------------------------------------------------------------------------


async def series(unit_id: int, date_from: date, date_to: date) -> list[dict]:
    """Per-day metrics of the unit's subtree (days without a bucket are absent)."""
    rows = await db.fetch(
        "SELECT day, metrics, as_of FROM rollup_day WHERE unit_id = {} AND day BETWEEN {} AND {}"
        " ORDER BY day",
        unit_id,
        date_from,
        date_to,
    )
    return [_row(r) for r in rows]


def _row(r: dict) -> dict:
    import json

    m = r["metrics"]
    if isinstance(m, str):
        m = json.loads(m)
    return {"day": r["day"], "metrics": m, "as_of": r["as_of"]}


async def buckets(unit_ids: list[int], date_from: date, date_to: date) -> dict[int, list[dict]]:
    """Per-day buckets of several units (one query; reads roll-ups only)."""
    rows = await db.fetch(
        "SELECT unit_id, day, metrics, as_of FROM rollup_day"
        " WHERE unit_id = ANY({}::int[]) AND day BETWEEN {} AND {} ORDER BY day",
        unit_ids,
        date_from,
        date_to,
    )
    out: dict[int, list[dict]] = {u: [] for u in unit_ids}
    for r in rows:
        out[r["unit_id"]].append(_row(r))
    return out


async def freshness(paths: list[str]) -> dict[str, dict]:
    """Per unit path: marks still pending in its subtree and the "as of" time of its numbers.

    As of: when nothing is pending, the last time the worker drained every mark; otherwise the
    oldest pending mark (everything written before it is counted).
    """
    rows = await db.fetch(
        "SELECT p.path, count(d.*) AS pending, min(d.marked_at) AS oldest"
        " FROM unnest({}::text[]) AS p(path)"
        " LEFT JOIN rollup_dirty d ON left(d.unit_path, length(p.path)) = p.path"
        " GROUP BY p.path",
        paths,
    )
    drained = await db.fetchval("SELECT at FROM rollup_state WHERE name = 'drained'")
    out = {}
    for r in rows:
        as_of = r["oldest"] if r["pending"] else drained
        out[r["path"]] = {"pending": r["pending"], "as_of": as_of}
    return out


def window_start(day: date, days: int) -> date:
    return day - timedelta(days=days - 1)


async def households(unit_ids: list[int]) -> dict[int, int]:
    """Households registered in each unit's subtree (refreshed by the sweep)."""
    rows = await db.fetch(
        "SELECT unit_id, households FROM rollup_unit WHERE unit_id = ANY({}::int[])", unit_ids
    )
    return {r["unit_id"]: r["households"] for r in rows}


WINDOWS = (1, 7, 30)


async def dashboard(unit: dict, children: list[dict], day: date | None = None) -> dict:
    """What the dashboard shows for ``unit`` and its children: windows, rates, trend, freshness.

    Reads roll-up tables only (cost grows with units x days, not with records).
    """
    from app.domain import metrics as f

    day = day or today()
    units = [unit, *children]
    ids = [u["id"] for u in units]
    start = window_start(day, 30)
    by_unit = await buckets(ids, start - timedelta(days=7), day)
    hh = await households(ids)
    fresh = await freshness([u["path"] for u in units])
    rows = []
    for u in units:
        days = by_unit.get(u["id"], [])
        row: dict[str, Any] = {"unit": u, "windows": {}}
        for w in WINDOWS:
            lo = window_start(day, w)
            sums = f.sum_buckets(b["metrics"] for b in days if lo <= b["day"] <= day)
            sums["followups_overdue"] = sum(
                f.overdue(b["metrics"], b["day"], day) for b in days if lo <= b["day"] <= day
            )
            row["windows"][w] = {**sums, **f.derived(sums)}
        prev = f.sum_buckets(
            b["metrics"] for b in days if window_start(day, 14) <= b["day"] < window_start(day, 7)
        )
        row["trend"] = (row["windows"][7].get("visits", 0), prev.get("visits", 0))
        latest = [b for b in days if b["day"] <= day]
        visited_30d = latest[-1]["metrics"].get("households_visited_30d", 0) if latest else 0
        row["households"] = hh.get(u["id"], 0)
        row["visited_30d"] = visited_30d
        row["coverage"] = f.coverage(visited_30d, row["households"])
        row["pending"] = fresh.get(u["path"], {}).get("pending", 0)
        row["as_of"] = fresh.get(u["path"], {}).get("as_of")
        rows.append(row)
    series_days = [start + timedelta(days=i) for i in range(30)]
    own = {b["day"]: b["metrics"] for b in by_unit.get(unit["id"], [])}
    chart = {
        "days": [d.isoformat() for d in series_days],
        "visits": [own.get(d, {}).get("visits", 0) for d in series_days],
        "calls": [own.get(d, {}).get("calls", 0) for d in series_days],
        "mediations": [own.get(d, {}).get("mediations", 0) for d in series_days],
    }
    return {"day": day, "total": rows[0], "rows": rows[1:], "chart": chart}


def _register_demo() -> None:
    from app.services import demo

    @demo.history_seeder(90)
    async def roll_up_demo_history(rng: Any) -> None:
        """Roll the demo history up once it is written (the areas' seeders run first)."""
        result = await rebuild()
        await db.fetch("DELETE FROM rollup_dirty")  # the rebuild covered every mark
        async with _connection() as conn:
            await conn.execute(
                "INSERT INTO rollup_state (name, at) VALUES ('drained', now())"
                " ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at"
            )
        log.info("demo roll-up: %s", result)


_register_demo()
