"""Roll-up benchmark: full rebuild vs raw SQL, freshness under load, dashboard p95 at 1 M / 10 M.

Runs against a separate database (``fq_bench_rollup`` on ``$BENCH_DATABASE_URL``'s server, by
default ``$TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/postgres``) and Redis
(``$REDIS_URL`` / ``$TEST_REDIS_URL`` / ``redis://127.0.0.1:6379/0``). Data is generated with
server-side SQL (``generate_series``). ``FENGQIAO_BENCH_SCALE`` (or ``--quick`` = 0.02) scales
the record counts; 1.0 = 10 M raw records (7 M visits, 2.5 M calls, 0.5 M mediations).

Writes ``bench/out/rollup_results.md`` and the README block between the
``rollup-bench`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LOCAL = ZoneInfo("Asia/Shanghai")
DAYS = 365
STREETS, COMMUNITIES, GRIDS = 10, 10, 10  # 1 + 10 + 100 + 1000 units
SHARE = {"visit": 0.70, "call": 0.25, "mediation": 0.05}
MARK = (
    "INSERT INTO rollup_dirty (unit_path, day, marked_at) VALUES ($1, $2, clock_timestamp())"
    " ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at"
)


def _urls() -> tuple[str, str, str]:
    base = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    head, sep, query = base.partition("?")
    prefix = head.rsplit("/", 1)[0]
    admin = f"{prefix}/postgres{sep}{query}"
    bench = f"{prefix}/fq_bench_rollup{sep}{query}"
    redis = (
        os.environ.get("REDIS_URL")
        or os.environ.get("TEST_REDIS_URL")
        or "redis://127.0.0.1:6379/0"
    )
    return admin, bench, redis


async def _fresh_database(admin: str, url: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute("DROP DATABASE IF EXISTS fq_bench_rollup WITH (FORCE)")
        await conn.execute("CREATE DATABASE fq_bench_rollup")
    finally:
        await conn.close()
    from app import db
    from app.db.migrate import migrate

    db.configure(url, max_size=6)
    await migrate()


async def _organisation(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "INSERT INTO unit (id, name, tier, path, sort, created_at)"
        " VALUES (1, 'bench district', 'district', '/1/', 0, now())"
    )
    nid = 2
    for s in range(STREETS):
        sid = nid
        nid += 1
        await conn.execute(
            "INSERT INTO unit (id, name, tier, parent, path, sort, created_at)"
            " VALUES ($1, $2, 'street', 1, $3, $4, now())",
            sid,
            f"street {s}",
            f"/1/{sid}/",
            s,
        )
        for c in range(COMMUNITIES):
            cid = nid
            nid += 1
            await conn.execute(
                "INSERT INTO unit (id, name, tier, parent, path, sort, created_at)"
                " VALUES ($1, $2, 'community', $3, $4, $5, now())",
                cid,
                f"community {s}-{c}",
                sid,
                f"/1/{sid}/{cid}/",
                c,
            )
            rows = []
            for g in range(GRIDS):
                gid = nid
                nid += 1
                rows.append((gid, f"grid {s}-{c}-{g}", cid, f"/1/{sid}/{cid}/{gid}/", g))
            await conn.executemany(
                "INSERT INTO unit (id, name, tier, parent, path, sort, created_at)"
                " VALUES ($1, $2, 'grid', $3, $4, $5, now())",
                rows,
            )
    await conn.execute("SELECT setval(pg_get_serial_sequence('unit', 'id'), $1)", nid)
    await conn.execute(
        "INSERT INTO app_user (username, full_name, password_hash, role, unit, created_at)"
        " VALUES ('bench', 'bench', 'x', 'district_leader', 1, now())"
    )
    await conn.execute(
        "CREATE TABLE bench_grid AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, path"
        " FROM unit WHERE tier = 'grid'"
    )
    await conn.execute("CREATE UNIQUE INDEX ON bench_grid (n)")
    # 50 households per grid.
    await conn.execute(
        "INSERT INTO household (unit, unit_path, address, created_at)"
        " SELECT g.id, g.path, 'addr ' || g.id || '-' || i, now()"
        " FROM bench_grid g, generate_series(1, 50) i"
    )
    await conn.execute("ALTER TABLE bench_grid ADD COLUMN hh int")
    await conn.execute(
        "UPDATE bench_grid g SET hh = (SELECT min(id) FROM household h WHERE h.unit = g.id)"
    )


async def _generate(conn: asyncpg.Connection, visits: int, calls: int, mediations: int) -> None:
    """Append raw rows spread over the last DAYS days and the 1000 grids (server-side)."""
    ngrids = await conn.fetchval("SELECT count(*) FROM bench_grid")
    author = await conn.fetchval("SELECT id FROM app_user WHERE username = 'bench'")
    when = f"(now() - (random() * {DAYS - 1}) * interval '1 day')"
    if visits:
        await conn.execute(
            f"""INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at,
                   household, mood, resolved_on_site, created_at, updated_at)
                SELECT gen_random_uuid(), $1, g.id, g.path,
                  (ARRAY['door', 'door', 'reception', 'away'])[1 + (i % 4)], {when},
                  CASE WHEN i % 5 = 0 THEN NULL ELSE g.hh + (i % 50)::int END,
                  (ARRAY['calm', 'calm', 'calm', 'dissatisfied', 'agitated'])[1 + (i % 5)],
                  i % 2 = 0, now(), now()
                FROM generate_series(1, $2::bigint) i
                JOIN bench_grid g ON g.n = (i * 7919) % $3""",
            author,
            visits,
            ngrids,
        )
    if calls:
        await conn.execute(
            f"""INSERT INTO call (client_uuid, author, unit, unit_path, called_at, subject_type,
                   outcome, satisfaction, created_at, updated_at)
                SELECT gen_random_uuid(), $1, g.id, g.path, {when}, 'visit',
                  (ARRAY['reached', 'reached', 'reached', 'no_answer', 'refused'])[1 + (i % 5)],
                  (ARRAY['satisfied', 'basically', 'dissatisfied', NULL])[1 + (i % 4)],
                  now(), now()
                FROM generate_series(1, $2::bigint) i
                JOIN bench_grid g ON g.n = (i * 104729) % $3""",
            author,
            calls,
            ngrids,
        )
    if mediations:
        await conn.execute(
            f"""INSERT INTO mediation (client_uuid, author, venue_unit, unit_path, held_at,
                   dispute_type, outcome, created_at, updated_at)
                SELECT gen_random_uuid(), $1, g.id, g.path, {when}, 'neighbour',
                  (ARRAY['in_progress', 'agreed_written', 'agreed_oral', 'failed', 'escalated',
                         'referred'])[1 + (i % 6)], now(), now()
                FROM generate_series(1, $2::bigint) i
                JOIN bench_grid g ON g.n = (i * 1299709) % $3""",
            author,
            mediations,
            ngrids,
        )
    await conn.execute("ANALYZE")


async def _baseline(conn: asyncpg.Connection) -> float:
    """The leaf buckets straight from the raw rows in one ``INSERT ... SELECT ... GROUP BY``.

    It writes what the rebuild's leaf step writes, one row per unit path and local day with
    every metric (visits by kind, distinct households, households by latest visit, calls,
    mediations, follow-ups, cases, registered extras), into a plain table with no index: the
    ``GROUP BY`` over the ``UNION ALL`` of each raw table's ``GROUP BY`` (the households'
    latest visits as a sub-``GROUP BY`` of the visits). Not included, and done by the rebuild
    on top: the unit ids, the parents (community, street, district per day), the households'
    table, the indexes and the swap.
    """
    from app.services import rollups

    hi = rollups.today()
    lo = hi - timedelta(days=DAYS)
    latest = (
        "(SELECT unit_path, household, max((visited_at AT TIME ZONE 'Asia/Shanghai')::date)"
        " AS last_day FROM visit WHERE household IS NOT NULL GROUP BY 1, 2) rollup_household"
    )
    select = rollups.leaf_select().replace("FROM rollup_household", f"FROM {latest}")
    cols = ", ".join(f"{n} int" for n in rollups.CORE)
    extras = "".join(f', "{n}" bigint' for n in rollups.extra_names())
    await conn.execute("DROP TABLE IF EXISTS bench_leaf")
    await conn.execute(f"CREATE TABLE bench_leaf (unit_path text, day date, {cols}{extras})")
    started = time.perf_counter()
    async with conn.transaction():
        await conn.execute("SET LOCAL jit = off")
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute("TRUNCATE bench_leaf")
        await conn.execute(f"INSERT INTO bench_leaf {select}", lo, hi, None)
    return time.perf_counter() - started


async def _rebuild() -> dict:
    from app.services import rollups

    hi = rollups.today()
    return await rollups.rebuild(hi - timedelta(days=DAYS), hi)


async def _dashboard_p95(n: int = 200) -> tuple[float, float]:
    """p50 and p95 (ms) of the district dashboard's data (reads roll-up tables only)."""
    from app.services import org, rollups

    unit = await org.unit(1)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        children = await org.children(1)
        await rollups.dashboard(unit, children)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


async def _freshness(url: str, redis: str, seconds: float, rate: int) -> dict:
    """Submissions at ``rate``/s (insert + mark in one transaction, then wake); time until the
    district's roll-up for today counts each one."""
    from app.services import jobs, marks

    queue = f"fq-bench:{uuid.uuid4().hex[:6]}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        REDIS_URL=redis,
        FENGQIAO_QUEUE_NAME=queue,
        FENGQIAO_SECRET_KEY="bench",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await jobs.open_queue(redis, queue)
    pool = await asyncpg.create_pool(url, min_size=4, max_size=8)
    try:
        await asyncio.sleep(3)  # worker start-up (its start-up sweep)
        grids = await pool.fetch("SELECT id, path FROM bench_grid ORDER BY n")
        author = await pool.fetchval("SELECT id FROM app_user WHERE username = 'bench'")
        today = datetime.now(LOCAL).date()

        async def district_visits() -> int:
            v = await pool.fetchval(
                "SELECT visits FROM rollup_day WHERE unit_id = 1 AND day = $1",
                today,
            )
            return v or 0

        base = await district_visits()
        committed: list[float] = []
        seen: dict[int, float] = {}
        done = asyncio.Event()

        async def submit(i: int) -> None:
            g = grids[(i * 7919) % len(grids)]
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at,"
                    " created_at, updated_at) VALUES ($1, $2, $3, $4, 'door', now(), now(), now())",
                    uuid.uuid4(),
                    author,
                    g["id"],
                    g["path"],
                )
                await conn.execute(MARK, g["path"], today)
            committed.append(time.perf_counter())
            await marks.wake()

        async def poll() -> None:
            while not done.is_set() or len(seen) < len(committed):
                n = await district_visits() - base
                now = time.perf_counter()
                for k in range(len(seen), min(n, len(committed))):
                    seen[k] = now
                await asyncio.sleep(0.05)
                if done.is_set() and now - last[0] > 30:
                    break

        last = [time.perf_counter()]
        poller = asyncio.create_task(poll())
        total = int(seconds * rate)
        start = time.perf_counter()
        tasks = []
        for i in range(total):
            target = start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(submit(i)))
        await asyncio.gather(*tasks)
        achieved = total / (time.perf_counter() - start)
        last[0] = time.perf_counter()
        done.set()
        await poller
        committed.sort()
        lags = [seen[k] - committed[k] for k in range(len(committed)) if k in seen]
        lags.sort()
        return {
            "submissions": total,
            "rate": achieved,
            "counted": len(lags),
            "p50": statistics.median(lags) if lags else float("nan"),
            "p95": lags[int(len(lags) * 0.95) - 1] if lags else float("nan"),
        }
    finally:
        await pool.close()
        await jobs.close_queue()
        worker.terminate()
        worker.wait(timeout=30)


def _machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return f"{platform.machine()}, {cpus} CPUs{mem}, {platform.system()} {platform.release()}"


async def run(scale: float, freshness_seconds: float) -> str:
    from app import db

    admin, url, redis = _urls()
    total = int(10_000_000 * scale)
    small = int(1_000_000 * scale)
    print(
        f"scale {scale}: {small:,} then {total:,} raw records; database fq_bench_rollup", flush=True
    )
    await _fresh_database(admin, url)
    await db.open_pool()
    conn = await asyncpg.connect(url)
    lines = []
    try:
        pg = await conn.fetchval("SHOW server_version")
        await _organisation(conn)
        t = time.perf_counter()
        await _generate(conn, *(int(small * SHARE[k]) for k in ("visit", "call", "mediation")))
        print(f"generated {small:,} records in {time.perf_counter() - t:.1f} s", flush=True)
        r = await _rebuild()
        print(f"rebuild at {small:,}: {r}", flush=True)
        d1 = await _dashboard_p95()
        print(f"dashboard at {small:,}: p50 {d1[0]:.1f} ms, p95 {d1[1]:.1f} ms", flush=True)
        t = time.perf_counter()
        await _generate(
            conn, *(int((total - small) * SHARE[k]) for k in ("visit", "call", "mediation"))
        )
        counts = {
            k: await conn.fetchval(f"SELECT count(*) FROM {k}")
            for k in ("visit", "call", "mediation")
        }
        print(
            f"generated up to {sum(counts.values()):,} in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        # Warm both the same way, then time: baseline, rebuild, baseline, rebuild (best of 2).
        base_t, rebuild_t = [], []
        for _ in range(2):
            base_t.append(await _baseline(conn))
            rebuild_t.append((await _rebuild())["seconds"])
            print(f"baseline {base_t[-1]:.2f} s, rebuild {rebuild_t[-1]:.2f} s", flush=True)
        leaf_rows = await conn.fetchval("SELECT count(*) FROM bench_leaf")
        parent_rows = await conn.fetchval("SELECT count(*) FROM rollup_day") - leaf_rows
        d2 = await _dashboard_p95()
        print(f"dashboard at {total:,}: p50 {d2[0]:.1f} ms, p95 {d2[1]:.1f} ms", flush=True)
        fresh = await _freshness(url, redis, freshness_seconds, 200)
        print(f"freshness: {fresh}", flush=True)
        ratio = min(rebuild_t) / min(base_t)
        lines = [
            f"Machine: {_machine()}; PostgreSQL {pg}. Scale {scale} "
            f"(`FENGQIAO_BENCH_SCALE`); {DAYS} days, 1,111 units (1,000 grids).",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| raw records | {counts['visit']:,} visits, {counts['call']:,} calls, "
            f"{counts['mediation']:,} mediations | ≥ 5 M visits |",
            f"| full rebuild vs raw `INSERT ... SELECT ... GROUP BY` of the same leaf buckets "
            f"(best of 2; {leaf_rows:,} leaf buckets, the rebuild also writes "
            f"{parent_rows:,} parent buckets) | "
            f"{min(rebuild_t):.2f} s vs {min(base_t):.2f} s = **{ratio:.2f}×** | ≤ 1.3× |",
            f"| freshness at {fresh['rate']:.0f} submissions/s for {freshness_seconds:.0f} s "
            f"(district roll-up counts the record) | p50 {fresh['p50']:.2f} s, "
            f"**p95 {fresh['p95']:.2f} s** ({fresh['counted']}/{fresh['submissions']} seen) "
            "| p95 ≤ 5 s |",
            f"| district dashboard data at {small:,} raw records | p50 {d1[0]:.1f} ms, "
            f"**p95 {d1[1]:.1f} ms** | ≤ 50 ms |",
            f"| district dashboard data at {sum(counts.values()):,} raw records | "
            f"p50 {d2[0]:.1f} ms, **p95 {d2[1]:.1f} ms** | ≤ 50 ms, flat |",
        ]
    finally:
        await conn.close()
        await db.close_pool()
    return "\n".join(lines)


def _write(block: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "rollup_results.md").write_text(block + "\n", encoding="utf-8")
    readme = ROOT / "README.md"
    start, end = "<!-- rollup-bench:start -->", "<!-- rollup-bench:end -->"
    text = readme.read_text(encoding="utf-8")
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{block}\n{end}{tail}", encoding="utf-8")


async def run_freshness_only(seconds: float) -> str:
    """Only the freshness step, against the existing ``fq_bench_rollup`` (no regeneration)."""
    from app import db

    _, url, redis = _urls()
    db.configure(url, max_size=6)
    await db.open_pool()
    try:
        conn = await asyncpg.connect(url)
        try:
            visits = await conn.fetchval(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = 'visit'"
            )
            pending = await conn.fetchval("SELECT count(*) FROM rollup_dirty")
        finally:
            await conn.close()
        load = os.getloadavg()
        fresh = await _freshness(url, redis, seconds, 200)
    finally:
        await db.close_pool()
    return (
        f"freshness only, {datetime.now(LOCAL):%Y-%m-%d %H:%M} Asia/Shanghai, existing "
        f"fq_bench_rollup (~{visits:,} visits, {pending} marks pending at start), load average "
        f"{load[0]:.1f} / {os.getloadavg()[0]:.1f} (start / end): {fresh['rate']:.0f} "
        f"submissions/s for {seconds:.0f} s, p50 {fresh['p50']:.2f} s, p95 {fresh['p95']:.2f} s "
        f"({fresh['counted']}/{fresh['submissions']} seen)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 0.02 (200 k records)")
    parser.add_argument("--freshness-seconds", type=float, default=None)
    parser.add_argument(
        "--freshness-only",
        action="store_true",
        help="only the freshness step, on the existing fq_bench_rollup; prints, writes nothing",
    )
    args = parser.parse_args(argv)
    scale = float(os.environ.get("FENGQIAO_BENCH_SCALE") or (0.02 if args.quick else 1.0))
    seconds = args.freshness_seconds or (20.0 if scale >= 0.5 else 10.0)
    os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
    if args.freshness_only:
        print(asyncio.run(run_freshness_only(args.freshness_seconds or 20.0)))
        return 0
    block = asyncio.run(run(scale, seconds))
    print(block)
    _write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
