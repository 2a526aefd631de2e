"""Roll-ups: per unit per local day metric buckets, recomputed from raw rows in set-based SQL.

* ``rollup_own(unit_id, day)`` — metrics of the records made at exactly that unit;
* ``rollup_day(unit_id, day)`` — the unit's subtree: own + children's ``rollup_day``.

The core metrics (``app.db.rollups.tables.CORE``) are integer columns; areas add metrics with
:func:`register` (a :class:`MetricSource`: names + the SQL computing their per-unit-path
per-day values) and those not in ``CORE`` are stored in the JSONB ``metrics`` column, so
nothing else here changes. A bucket whose numbers are all zero is not stored. Every recompute
deletes the buckets it covers and inserts numbers computed from the raw rows, so it is
idempotent: running it twice, or killing it in the middle (its transaction rolls back, the
dirty marks stay), leaves the same numbers.

30-day coverage: ``rollup_household`` keeps each household's latest visit day per unit path and
``households_last_visited`` counts, per unit and day, the households whose latest visit is that
day; the sum over the 30 days ending today is the number of distinct households visited in
those 30 days (as of now; additive from grids to the district).

History follows a moved unit: the org service rewrites the ``unit_path`` of the records, buckets
are keyed by unit id, and :func:`_on_unit_moved` re-marks the old and new ancestors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg

from app import db
from app.db.rollups.tables import CORE
from app.domain.calendar import TZ_NAME, local_date_sql, today
from app.services import hooks

log = logging.getLogger("fengqiao.rollups")

_LOCK = 5_171_050  # advisory lock: one recompute at a time (parents upsert the same rows)
BATCH = 5000  # dirty marks per transaction


@dataclass(frozen=True)
class MetricSource:
    """Metrics computed by one SQL statement over raw rows.

    ``sql`` returns ``unit_path, day, <one column per name in metrics>`` grouped by unit path
    and local day. Parameters: ``$1`` first day, ``$2`` last day (dates, inclusive), ``$3`` a
    ``text[]`` of unit paths to restrict to, or NULL for all. Every metric must be a count that
    adds up from children to parents. ``window_days``: a change on day D changes this source's
    values on D .. D + window_days - 1. ``touch_sql``: optional SQL returning more
    ``(unit_path, day)`` buckets a mark changes, given the marked buckets in the temporary
    table ``_keys (unit_path, day)`` (e.g. a case action changes the bucket of its due day).
    """

    name: str
    metrics: tuple[str, ...]
    sql: str
    window_days: int = 1
    touch_sql: str | None = None


SOURCES: list[MetricSource] = []


def register(source: MetricSource) -> MetricSource:
    """Add a metric source (another area calls this at import time)."""
    if any(s.name == source.name for s in SOURCES):
        SOURCES[:] = [s for s in SOURCES if s.name != source.name]
    SOURCES.append(source)
    return source


def metric_names() -> list[str]:
    return [m for s in SOURCES for m in s.metrics]


def extra_names() -> list[str]:
    """Registered metrics stored in the JSONB column (not core columns)."""
    return [m for m in metric_names() if m not in CORE]


def _range(col: str) -> str:
    return (
        f"{col} >= ($1::date)::timestamp AT TIME ZONE '{TZ_NAME}'"
        f" AND {col} < ($2::date + 1)::timestamp AT TIME ZONE '{TZ_NAME}'"
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
        f"""SELECT unit_path, {local_date_sql("visited_at")} AS day, count(*),
              count(*) FILTER (WHERE kind = 'door'), count(*) FILTER (WHERE kind = 'reception'),
              count(*) FILTER (WHERE kind = 'away'), count(DISTINCT household),
              count(*) FILTER (WHERE mood <> 'calm'), count(*) FILTER (WHERE resolved_on_site),
              count(*) FILTER (WHERE reported_up)
            FROM visit WHERE {_range("visited_at")} AND {_PATHS} GROUP BY 1, 2""",
    )
)

# Households whose latest visit (at that unit path) is on that day; read from the maintained
# rollup_household (the rebuild refills it from the visits first, the recompute keeps it).
register(
    MetricSource(
        "coverage",
        ("households_last_visited",),
        f"""SELECT unit_path, last_day AS day, count(*) FROM rollup_household
            WHERE last_day BETWEEN $1::date AND $2::date AND {_PATHS} GROUP BY 1, 2""",
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
        f"""SELECT unit_path, {local_date_sql("called_at")} AS day, count(*),
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
        f"""SELECT unit_path, {local_date_sql("held_at")} AS day, count(*),
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
              count(*) FILTER (WHERE done_at IS NOT NULL AND {local_date_sql("done_at")} <= due),
              count(*) FILTER (WHERE done_at IS NULL)
            FROM follow_up_task WHERE due BETWEEN $1::date AND $2::date AND {_PATHS}
            GROUP BY 1, 2""",
    )
)


# -- petition cases (DOMAIN.md §5; issue #6) ----------------------------------------------------
# Each count lands on the day of the event that makes it count: registered / first-time on the
# day received, accepted on the day of the first ``accept`` event (timely: within 15 days of
# receipt, Art. 23, counted in calendar days), replied on the day of the first ``opinion`` (on
# time: by the handling deadline, acceptance + 60 days + extensions, Art. 34, calendar days),
# due / still open on the handling deadline's day (overdue open = due and not replied, for days
# before today), evaluations on their day (satisfied = satisfied or basically satisfied), and
# first-time matters resolved at once (初信初访一次性化解: replied, no 复查 requested, first
# evaluation satisfied) on the day received. A case action marks its own day; ``touch_sql``
# adds the other days of every case with an event on a marked day.


def _case_facts(paths: str) -> str:
    return f"""SELECT c.id, c.unit_path, {local_date_sql("c.received_at")} AS recv,
          'first_time' = ANY(c.tags) AS first_time, e.acc, e.rep, e.acc + 60 + e.ext AS due,
          e.reviewed, e.first_eval
        FROM petition_case c CROSS JOIN LATERAL (
          SELECT min({local_date_sql("at")}) FILTER (WHERE kind = 'accept') AS acc,
                 min({local_date_sql("at")}) FILTER (WHERE kind = 'opinion') AS rep,
                 COALESCE(sum((data->>'days')::int) FILTER (WHERE kind = 'extend'), 0)::int AS ext,
                 COALESCE(bool_or(kind = 'request_review'), false) AS reviewed,
                 (array_agg(data->>'satisfaction' ORDER BY at)
                    FILTER (WHERE kind = 'evaluate'))[1] AS first_eval
          FROM case_event WHERE "case" = c.id) e
        WHERE {paths}"""


_CASES = _case_facts("($3::text[] IS NULL OR c.unit_path = ANY($3::text[]))")
_SATISFIED = "('satisfied', 'basically')"

_CASE_TOUCH = f"""SELECT f.unit_path, v.d FROM ({
    _case_facts("c.unit_path IN (SELECT unit_path FROM _keys)")
}) f
    CROSS JOIN LATERAL (VALUES (f.recv), (f.acc), (f.rep), (f.due)) AS v(d)
    WHERE v.d IS NOT NULL AND EXISTS (
      SELECT 1 FROM _keys k WHERE k.unit_path = f.unit_path AND (k.day = f.recv OR EXISTS (
        SELECT 1 FROM case_event e WHERE e."case" = f.id
          AND e.at >= k.day::timestamp AT TIME ZONE '{TZ_NAME}'
          AND e.at < (k.day + 1)::timestamp AT TIME ZONE '{TZ_NAME}')))"""

register(
    MetricSource(
        "cases_received",
        ("cases_registered", "cases_first_time", "cases_first_time_once"),
        f"""SELECT unit_path, recv, count(*), count(*) FILTER (WHERE first_time),
              count(*) FILTER (WHERE first_time AND rep IS NOT NULL AND NOT reviewed
                               AND first_eval IN {_SATISFIED})
            FROM ({_CASES}) f WHERE recv BETWEEN $1::date AND $2::date GROUP BY 1, 2""",
        touch_sql=_CASE_TOUCH,
    )
)
register(
    MetricSource(
        "cases_accepted",
        ("cases_accepted", "cases_accepted_timely"),
        f"""SELECT unit_path, acc, count(*), count(*) FILTER (WHERE acc <= recv + 15)
            FROM ({_CASES}) f WHERE acc BETWEEN $1::date AND $2::date GROUP BY 1, 2""",
    )
)
register(
    MetricSource(
        "cases_replied",
        ("cases_replied", "cases_replied_on_time"),
        f"""SELECT unit_path, rep, count(*), count(*) FILTER (WHERE rep <= due)
            FROM ({_CASES}) f WHERE rep BETWEEN $1::date AND $2::date GROUP BY 1, 2""",
    )
)
register(
    MetricSource(
        "cases_due",
        ("cases_due", "cases_due_open"),
        f"""SELECT unit_path, due, count(*), count(*) FILTER (WHERE rep IS NULL)
            FROM ({_CASES}) f WHERE due BETWEEN $1::date AND $2::date GROUP BY 1, 2""",
    )
)
register(
    MetricSource(
        "cases_evaluated",
        ("cases_evaluated", "cases_satisfied"),
        f"""SELECT c.unit_path, {local_date_sql("e.at")}, count(*),
              count(*) FILTER (WHERE e.data->>'satisfaction' IN {_SATISFIED})
            FROM case_event e JOIN petition_case c ON c.id = e."case"
            WHERE e.kind = 'evaluate' AND {_range("e.at")}
              AND ($3::text[] IS NULL OR c.unit_path = ANY($3::text[]))
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


def _extras_json(alias: str, agg: bool = True) -> str:
    """The JSONB of the (summed) extra metrics of ``alias`` rows (zeros left out)."""
    ref = 'sum({a}."{n}")' if agg else '{a}."{n}"'
    pairs = [(n, f"NULLIF({ref.format(a=alias, n=n)}, 0)") for n in extra_names()]
    if not pairs:
        return "'{}'::jsonb"
    return f"jsonb_strip_nulls({_json_object(pairs)})"


_COLS = ", ".join(CORE)


def leaf_select(keys_sql: str | None = None) -> str:
    """``unit_path, day, <CORE sums>, <extra sums>`` per unit path and day, from the raw rows.

    One ``SELECT ... GROUP BY`` over the ``UNION ALL`` of the sources' own ``GROUP BY``s (each
    padded with zeros to the full column list); rows only where some source has a record.
    ``keys_sql`` restricts it to those ``(unit_path, day)`` keys.
    """
    extras = extra_names()
    branches = []
    for source in SOURCES:
        cols = ", ".join(f"m{j}" for j in range(len(source.metrics)))
        pos = {name: f"s.m{j}::int" for j, name in enumerate(source.metrics)}
        values = [f"{pos.get(n, '0')} AS {n}" for n in CORE]
        values += [f'{pos.get(n, "0").replace("::int", "::bigint")} AS "{n}"' for n in extras]
        branches.append(
            f"SELECT s.unit_path, s.day, {', '.join(values)}"
            f" FROM ({source.sql}) AS s(unit_path, day, {cols})"
        )
    sums = [f"sum({n})::int AS {n}" for n in CORE] + [f'sum("{n}") AS "{n}"' for n in extras]
    where = f"WHERE (r.unit_path, r.day) IN ({keys_sql})" if keys_sql else ""
    return (
        f"SELECT r.unit_path, r.day, {', '.join(sums)} FROM (\n"
        + "\nUNION ALL\n".join(branches)
        + f"\n) r {where} GROUP BY 1, 2"
    )


def _own_sql(keys_sql: str | None) -> str:
    """Insert ``rollup_own`` for the keys (``None``: every key any source yields)."""
    return (
        f"INSERT INTO rollup_own (unit_id, day, as_of, metrics, {_COLS})\n"
        f"SELECT u.id, a.day, now(), {_extras_json('a', agg=False)}, "
        + ", ".join(f"a.{n}" for n in CORE)
        + f"\nFROM ({leaf_select(keys_sql)}) a JOIN unit u ON u.path = a.unit_path"
    )


def _extra_cols(alias: str) -> str:
    return "".join(f", ({alias}.metrics->>'{n}')::bigint AS \"{n}\"" for n in extra_names())


def _sum_insert(table: str, inner: str) -> str:
    """Insert into ``table`` the sums per ``unit_id, day`` of the ``inner`` rows."""
    return (
        f"INSERT INTO {table} (unit_id, day, as_of, metrics, {_COLS})\n"
        f"SELECT x.unit_id, x.day, now(), {_extras_json('x')}, "
        + ", ".join(f"sum(x.{n})" for n in CORE)
        + f"\nFROM ({inner}) x GROUP BY x.unit_id, x.day"
    )


def _parents_sql() -> str:
    """Insert ``rollup_day`` for the ``_anc`` rows of depth $1: own + children's totals."""
    cols_o = ", ".join(f"o.{n}" for n in CORE)
    cols_d = ", ".join(f"d.{n}" for n in CORE)
    inner = f"""
        SELECT o.unit_id, o.day, {cols_o}{_extra_cols("o")}
        FROM _anc b JOIN rollup_own o ON o.unit_id = b.unit_id AND o.day = b.day
        WHERE b.depth = $1
        UNION ALL
        SELECT c.parent, d.day, {cols_d}{_extra_cols("d")}
        FROM _anc b JOIN unit c ON c.parent = b.unit_id
        JOIN rollup_day d ON d.unit_id = c.id AND d.day = b.day
        WHERE b.depth = $1"""
    return _sum_insert("rollup_day", inner)


_DEPTH = "(length(u.path) - length(replace(u.path, '/', '')) - 1)"
_HAS_CHILDREN = "EXISTS (SELECT 1 FROM unit c WHERE c.parent = u.id)"


_UNITS_SQL = f"""CREATE TEMP TABLE _u ON COMMIT DROP AS
    SELECT u.id, u.parent, {_DEPTH} AS depth, NOT {_HAS_CHILDREN} AS leaf FROM unit u;
    ANALYZE _u"""


def _rebuild_leaves_sql(table: str = "rollup_day", own: str = "rollup_own") -> str:
    """``rollup_day`` of units without children is their own bucket (days $1..$2)."""
    return (
        f"INSERT INTO {table} (unit_id, day, as_of, metrics, {_COLS})\n"
        f"SELECT o.unit_id, o.day, now(), o.metrics, "
        + ", ".join(f"o.{n}" for n in CORE)
        + f"\nFROM {own} o JOIN _u ON _u.id = o.unit_id AND _u.leaf"
        " WHERE o.day BETWEEN $1 AND $2"
    )


def _rebuild_parents_sql(table: str = "rollup_day", own: str = "rollup_own") -> str:
    """Insert ``rollup_day`` of units with children at depth $1, days $2..$3: one statement
    per tier, own buckets + the children's totals (the tier below, already written)."""
    cols_o = ", ".join(f"o.{n}" for n in CORE)
    cols_d = ", ".join(f"d.{n}" for n in CORE)
    inner = f"""
        SELECT o.unit_id, o.day, {cols_o}{_extra_cols("o")}
        FROM {own} o JOIN _u ON _u.id = o.unit_id AND _u.depth = $1 AND NOT _u.leaf
        WHERE o.day BETWEEN $2 AND $3
        UNION ALL
        SELECT _u.parent, d.day, {cols_d}{_extra_cols("d")}
        FROM {table} d JOIN _u ON _u.id = d.unit_id AND _u.depth = $1 + 1
        WHERE d.day BETWEEN $2 AND $3"""
    return _sum_insert(table, inner)


_HOUSEHOLDS_SQL = f"""SELECT unit_path, household, max({local_date_sql("visited_at")})
    FROM visit WHERE household IS NOT NULL GROUP BY 1, 2"""


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


_IN_DAY = (
    f"v.visited_at >= k.day::timestamp AT TIME ZONE '{TZ_NAME}'"
    f" AND v.visited_at < (k.day + 1)::timestamp AT TIME ZONE '{TZ_NAME}'"
)


async def _touch_households(conn: asyncpg.Connection) -> None:
    """Refresh the latest visit day of every household a marked bucket may change.

    Those with a visit in a marked bucket, and those whose stored latest visit is a marked
    bucket (the visit may have moved or gone). The old and the new latest day join ``_keys``.
    The visits are read per key (``LATERAL ... OFFSET 0`` keeps it a range scan of
    ``(unit_path, visited_at)`` per marked bucket): as a plain join the planner chose a merge
    join reading every visit of the marked grids (1.7 M rows, 14-35 s for 200 marks at 10 M).
    """
    await conn.execute(
        f"""INSERT INTO _hh (unit_path, household)
            SELECT v.unit_path, v.household FROM _keys k
            CROSS JOIN LATERAL (
              SELECT v.unit_path, v.household FROM visit v
              WHERE v.unit_path = k.unit_path AND {_IN_DAY} AND v.household IS NOT NULL
              OFFSET 0) v
            UNION
            SELECT h.unit_path, h.household FROM _keys k
            JOIN rollup_household h ON h.unit_path = k.unit_path AND h.last_day = k.day"""
    )
    await conn.execute(
        f"""UPDATE _hh x SET
              old_day = (SELECT h.last_day FROM rollup_household h
                         WHERE h.unit_path = x.unit_path AND h.household = x.household),
              new_day = ((SELECT max(v.visited_at) FROM visit v
                          WHERE v.household = x.household AND v.unit_path = x.unit_path)
                         AT TIME ZONE '{TZ_NAME}')::date"""
    )
    await conn.execute(
        """DELETE FROM rollup_household h USING _hh x
           WHERE h.unit_path = x.unit_path AND h.household = x.household AND x.new_day IS NULL"""
    )
    await conn.execute(
        """INSERT INTO rollup_household (unit_path, household, last_day)
           SELECT unit_path, household, new_day FROM _hh WHERE new_day IS NOT NULL
           ON CONFLICT (unit_path, household) DO UPDATE SET last_day = EXCLUDED.last_day"""
    )
    await conn.execute(
        """INSERT INTO _keys SELECT unit_path, d FROM _hh
             CROSS JOIN LATERAL (VALUES (old_day), (new_day)) AS v(d)
           WHERE d IS NOT NULL AND old_day IS DISTINCT FROM new_day
           ON CONFLICT DO NOTHING"""
    )


async def _recompute(conn: asyncpg.Connection, marks: list[Any]) -> None:
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _keys (unit_path text, day date,"
        " PRIMARY KEY (unit_path, day)) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS _anc (unit_id int, day date, depth int)"
        " ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS _hh (unit_path text, household int, old_day date,"
        " new_day date) ON COMMIT DELETE ROWS"
    )
    await conn.execute("TRUNCATE _keys, _anc, _hh")
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
    await _touch_households(conn)
    for source in SOURCES:
        if source.touch_sql:
            await conn.execute(f"INSERT INTO _keys {source.touch_sql} ON CONFLICT DO NOTHING")
    bounds = await conn.fetchrow("SELECT min(day) lo, max(day) hi FROM _keys")
    paths = [r["unit_path"] for r in await conn.fetch("SELECT DISTINCT unit_path FROM _keys")]
    # Delete the covered buckets, insert the non-zero ones (an all-zero bucket is not stored).
    await conn.execute(
        "DELETE FROM rollup_own o USING _keys k JOIN unit u ON u.path = k.unit_path"
        " WHERE o.unit_id = u.id AND o.day = k.day"
    )
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
    await conn.execute(
        "DELETE FROM rollup_day d USING _anc a WHERE d.unit_id = a.unit_id AND d.day = a.day"
    )
    depth = await conn.fetchval("SELECT max(depth) FROM _anc")
    sql = _parents_sql()
    for d in range(depth or 0, 0, -1):
        await conn.execute(sql, d)


async def drain(max_seconds: float = 60.0) -> int:
    """Process dirty marks until none is left (or time is up); return how many."""
    total = 0
    started = time.monotonic()
    idle = 0
    while True:
        n = await process_dirty()
        total += n
        if time.monotonic() - started > max_seconds:
            return total
        if n == 0:
            # Marks locked by writers still committing are skipped; look again shortly.
            idle += 1
            if idle > 10 or not await db.fetchval("SELECT EXISTS (SELECT 1 FROM rollup_dirty)"):
                return total
            await asyncio.sleep(0.2)


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


_BUCKET_TABLES = ("rollup_own", "rollup_day")


async def _swap_in(conn: asyncpg.Connection) -> None:
    """Replace the bucket tables by their freshly built ``_new`` twins (same transaction)."""
    for t in _BUCKET_TABLES:
        await conn.execute(
            f"ALTER TABLE {t}_new ADD PRIMARY KEY (id);"
            f"CREATE UNIQUE INDEX {t}_key_new ON {t}_new (unit_id, day);"
            f"ALTER SEQUENCE {t}_id_seq OWNED BY {t}_new.id;"
            f"DROP TABLE {t};"
            f"ALTER TABLE {t}_new RENAME TO {t};"
            f"ALTER INDEX {t}_new_pkey RENAME TO {t}_pkey;"
            f"ALTER INDEX {t}_key_new RENAME TO {t}_key"
        )
    await conn.execute(
        "CREATE INDEX rollup_day_day ON rollup_day (day); ANALYZE rollup_own, rollup_day"
    )


async def rebuild(date_from: str | date | None = None, date_to: str | date | None = None) -> dict:
    """Recompute every bucket of the range from the raw rows (default: all history to today).

    One transaction: readers see the old numbers until it commits. When the range covers every
    stored bucket (a full rebuild) the tables are built fresh without indexes and swapped in at
    the end; otherwise the range's buckets are deleted and inserted again. Dirty marks are left
    for the incremental job (recomputing them again is harmless).
    """
    lo = _parse(date_from, "from")
    hi = _parse(date_to, "to")
    started = time.monotonic()
    steps: dict[str, float] = {}

    def step(name: str) -> None:
        steps[name] = round(time.monotonic() - started - sum(steps.values()), 3)

    async with _connection() as conn:
        if lo is None or hi is None:
            first, last = await conn.fetchrow(
                f"""SELECT min(lo), max(hi) FROM (
                    SELECT min({local_date_sql("visited_at")}) lo,
                      max({local_date_sql("visited_at")}) hi FROM visit
                    UNION ALL SELECT min({local_date_sql("called_at")}),
                      max({local_date_sql("called_at")}) FROM call
                    UNION ALL SELECT min({local_date_sql("held_at")}),
                      max({local_date_sql("held_at")}) FROM mediation
                    UNION ALL SELECT min({local_date_sql("received_at")}),
                      CASE WHEN count(*) > 0 THEN current_date + 120 END FROM petition_case
                    UNION ALL SELECT min(due), max(due) FROM follow_up_task) x"""
            )
            hi = hi or max(last or today(), today())
            lo = lo or first or hi
        if lo > hi:
            raise ValueError("from: after to")
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
            await conn.execute("SET LOCAL jit = off")  # JIT compiling costs seconds here
            await conn.execute("SET LOCAL work_mem = '256MB'")
            # The households' latest visits first (the coverage source reads them).
            await conn.execute("TRUNCATE rollup_household")
            await conn.execute(
                f"INSERT INTO rollup_household (unit_path, household, last_day) {_HOUSEHOLDS_SQL}"
            )
            await conn.execute("ANALYZE rollup_household")
            step("households")
            full = not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM rollup_own WHERE day < $1 OR day > $2)"
                " OR EXISTS (SELECT 1 FROM rollup_day WHERE day < $1 OR day > $2)",
                lo,
                hi,
            )
            own, day_t = ("rollup_own_new", "rollup_day_new") if full else _BUCKET_TABLES
            if full:
                for t in _BUCKET_TABLES:
                    await conn.execute(
                        f"CREATE TABLE {t}_new (LIKE {t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                    )
            else:
                await conn.execute("DELETE FROM rollup_own WHERE day BETWEEN $1 AND $2", lo, hi)
                await conn.execute("DELETE FROM rollup_day WHERE day BETWEEN $1 AND $2", lo, hi)
            step("prepare")
            await conn.execute(_own_sql(None).replace("rollup_own", own, 1), lo, hi, None)
            step("leaves")
            await conn.execute(_UNITS_SQL)
            depth = await conn.fetchval("SELECT max(depth) FROM _u")
            await conn.execute(_rebuild_leaves_sql(day_t, own), lo, hi)
            await conn.execute(f"ANALYZE {day_t}")
            step("leaf_totals")
            sql = _rebuild_parents_sql(day_t, own)
            for d in range(depth or 0, 0, -1):
                await conn.execute(sql, d, lo, hi)
            step("parents")
            if full:
                await _swap_in(conn)
            await refresh_households(conn)
            step("indexes_swap")
            buckets = await conn.fetchval(
                "SELECT count(*) FROM rollup_day WHERE day BETWEEN $1 AND $2", lo, hi
            )
    return {
        "from": lo.isoformat(),
        "to": hi.isoformat(),
        "buckets": buckets,
        "full": full,
        "seconds": round(time.monotonic() - started, 3),
        "steps": steps,
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
    for table in ("rollup_dirty", "rollup_household"):
        await db.fetch(
            f"UPDATE {table} SET unit_path = {{}} || substr(unit_path, {{}})"
            " WHERE unit_path LIKE {}",
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


def _row(r: Any) -> dict:
    m = r["metrics"]
    if isinstance(m, str):
        m = json.loads(m)
    return {
        "day": r["day"],
        "metrics": {**{n: r[n] for n in CORE}, **(m or {})},
        "as_of": r["as_of"],
    }


async def series(unit_id: int, date_from: date, date_to: date) -> list[dict]:
    """Per-day metrics of the unit's subtree (days without a bucket are absent)."""
    rows = await db.fetch(
        f"SELECT day, metrics, as_of, {_COLS} FROM rollup_day"
        " WHERE unit_id = {} AND day BETWEEN {} AND {} ORDER BY day",
        unit_id,
        date_from,
        date_to,
    )
    return [_row(r) for r in rows]


async def buckets(unit_ids: list[int], date_from: date, date_to: date) -> dict[int, list[dict]]:
    """Per-day buckets of several units (one query; reads roll-ups only)."""
    rows = await db.fetch(
        f"SELECT unit_id, day, metrics, as_of, {_COLS} FROM rollup_day"
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
    oldest pending mark (everything written before it is counted). The count is a range scan
    of ``rollup_dirty_prefix`` (paths end in '/', and '/' + 1 = '0').
    """
    rows = await db.fetch(
        "SELECT p.path, x.pending, x.oldest, s.at AS drained"
        " FROM unnest({}::text[]) AS p(path) CROSS JOIN LATERAL ("
        "   SELECT count(*) AS pending, min(d.marked_at) AS oldest FROM rollup_dirty d"
        "   WHERE d.unit_path ~>=~ p.path AND d.unit_path ~<~ (left(p.path, -1) || '0')) x"
        " LEFT JOIN rollup_state s ON s.name = 'drained'",
        paths,
    )
    out = {}
    for r in rows:
        as_of = r["oldest"] if r["pending"] else r["drained"]
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
COVERAGE_DAYS = 30


def _windows_sql() -> str:
    """Per unit: every core count summed over each window ending $2, and what derives from them.

    Overdue (follow-ups; cases due and not replied) counts days before $2 only. Coverage: the
    households whose latest visit lies in the 30 days ending $2. Reads ``rollup_day`` only.
    """
    parts = []
    for w in WINDOWS:
        inside = f"day >= $2::date - {w - 1}"
        for n in CORE:
            parts.append(f"COALESCE(sum({n}) FILTER (WHERE {inside}), 0)::int AS w{w}_{n}")
        parts.append(
            f"COALESCE(sum(followups_due - followups_done_on_time)"
            f" FILTER (WHERE {inside} AND day < $2), 0)::int AS w{w}_followups_overdue"
        )
    parts.append(
        "COALESCE(sum(visits) FILTER (WHERE day BETWEEN $2::date - 13 AND $2::date - 7), 0)::int"
        " AS prev7_visits"
    )
    parts.append(
        f"COALESCE(sum(households_last_visited) FILTER (WHERE day >= $2::date - "
        f"{COVERAGE_DAYS - 1}), 0)::int AS visited_30d"
    )
    parts.append(
        "COALESCE(sum(cases_due_open) FILTER (WHERE day < $2), 0)::int AS cases_overdue_open"
    )
    # cases_due_open over every day before today (a case may be overdue for months).
    return (
        "SELECT unit_id, " + ", ".join(parts) + " FROM rollup_day"
        " WHERE unit_id = ANY($1::int[]) AND (day BETWEEN $2::date - 29 AND $2::date"
        " OR (day < $2::date - 29 AND cases_due_open > 0)) AND day <= $2::date GROUP BY unit_id"
    )


async def dashboard(unit: dict, children: list[dict], day: date | None = None) -> dict:
    """What the dashboard shows for ``unit`` and its children: windows, rates, trend, freshness.

    Reads roll-up tables only (cost grows with units x days, not with records): the windows
    are summed in one SQL statement over the core columns.
    """
    from app.domain import metrics as f

    day = day or today()
    units = [unit, *children]
    ids = [u["id"] for u in units]
    start = window_start(day, 30)
    async with _connection() as conn:
        sums = {r["unit_id"]: r for r in await conn.fetch(_windows_sql(), ids, day)}
        extras: dict[int, list[tuple[date, dict]]] = {u: [] for u in ids}
        if extra_names():
            for r in await conn.fetch(
                "SELECT unit_id, day, metrics FROM rollup_day WHERE unit_id = ANY($1::int[])"
                " AND day BETWEEN $2 AND $3 AND metrics <> '{}'::jsonb",
                ids,
                start,
                day,
            ):
                m = r["metrics"]
                extras[r["unit_id"]].append((r["day"], json.loads(m) if isinstance(m, str) else m))
        chart_rows = await conn.fetch(
            "SELECT day, visits, calls, mediations FROM rollup_day"
            " WHERE unit_id = $1 AND day BETWEEN $2 AND $3",
            unit["id"],
            start,
            day,
        )
    hh = await households(ids)
    fresh = await freshness([u["path"] for u in units])
    rows = []
    for u in units:
        s = sums.get(u["id"])
        row: dict[str, Any] = {"unit": u, "windows": {}}
        for w in WINDOWS:
            lo = window_start(day, w)
            win: dict[str, Any] = {n: (s[f"w{w}_{n}"] if s else 0) for n in CORE}
            win.update(f.sum_buckets(m for d, m in extras[u["id"]] if lo <= d <= day))
            win["followups_overdue"] = s[f"w{w}_followups_overdue"] if s else 0
            row["windows"][w] = {**win, **f.derived(win)}
        row["trend"] = (row["windows"][7]["visits"], s["prev7_visits"] if s else 0)
        row["households"] = hh.get(u["id"], 0)
        row["visited_30d"] = s["visited_30d"] if s else 0
        row["coverage"] = f.coverage(row["visited_30d"], row["households"])
        row["cases_overdue_open"] = s["cases_overdue_open"] if s else 0
        row["pending"] = fresh.get(u["path"], {}).get("pending", 0)
        row["as_of"] = fresh.get(u["path"], {}).get("as_of")
        rows.append(row)
    series_days = [start + timedelta(days=i) for i in range(30)]
    own = {r["day"]: r for r in chart_rows}
    chart = {
        "days": [d.isoformat() for d in series_days],
        **{
            k: [own[d][k] if d in own else 0 for d in series_days]
            for k in ("visits", "calls", "mediations")
        },
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
