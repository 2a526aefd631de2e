"""Load benchmark: form submissions vs a bare endpoint, the sync burst, the form page's weight.

All in one run, against servers this module starts itself on 127.0.0.1:

1. Form submissions per second: the real visit form (session cookie, CSRF token, validation,
   insert, roll-up mark; posted as htmx posts it, answered with the saved-record partial) to
   ``fengqiao serve`` vs ``bench.bare_app`` (one asyncpg INSERT of an equivalent row), both under
   the same uvicorn settings and the same load generator (``wrk`` with a Lua script, or an
   ``httpx`` generator when wrk is missing). 1 web process (+1 arq worker) vs 1 bare process,
   then ``--workers 2`` (+2 arq workers) vs 2 bare processes.
2. Sync burst: N phones (1,000 at scale 1) × 20 queued visits replayed at once through
   ``POST /api/v1/visits`` with random duplicate resends: nothing lost, nothing duplicated.
3. Page weight of ``/visits/new`` on first load (gzip) and its Lighthouse mobile score
   (``bench.page_weight``).

Database: a fresh ``fq_bench_load`` on ``$BENCH_DATABASE_URL`` / ``$TEST_DATABASE_URL`` /
``postgresql://postgres@127.0.0.1:5432/postgres`` (embedded pgserver if unreachable); Redis at
``$REDIS_URL`` / ``$TEST_REDIS_URL`` / ``redis://127.0.0.1:6379/0`` (embedded if unreachable),
queue ``fengqiao:bench-load``. ``FENGQIAO_BENCH_SCALE`` scales durations and phones (1.0 = 30 s
per form phase, 1,000 phones). Writes ``bench/out/load.md`` and the README block between the
``load-bench`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LOCAL = ZoneInfo("Asia/Shanghai")
DB_NAME = "fq_bench_load"
QUEUE = "fengqiao:bench-load"
SECRET = "bench-load-" + secrets.token_hex(8)
PASSWORD = "bench-load-pass"
STREETS, GRIDS_PER_STREET = 10, 10  # 100 grids, one community per street
CONNECTIONS = 32  # concurrent connections of the form load (both sides)
BURST_CONCURRENCY = 100  # phones replaying at the same time
RECORDS_PER_PHONE = 20
ROUNDS = 3  # alternating rounds per side in the form comparison


# -- pure helpers (unit-tested) ------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks (as numpy)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, 0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def parse_wrk_result(stdout: str) -> dict:
    """The JSON object the Lua ``done()`` prints after ``FQRESULT``."""
    for line in stdout.splitlines():
        if line.startswith("FQRESULT "):
            return json.loads(line[len("FQRESULT ") :])
    raise ValueError("no FQRESULT line in wrk output:\n" + stdout[-2000:])


def scaled(scale: float, full: float, minimum: float) -> float:
    """``full × scale`` but at least ``minimum``."""
    return max(minimum, full * scale)


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- servers -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _urls() -> tuple[str, str]:
    base = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    redis = (
        os.environ.get("REDIS_URL")
        or os.environ.get("TEST_REDIS_URL")
        or "redis://127.0.0.1:6379/0"
    )
    return base, redis


def _with_db(url: str, name: str) -> str:
    head, sep, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"


async def _reachable_pg(url: str) -> bool:
    try:
        conn = await asyncpg.connect(_with_db(url, "postgres"), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def _reachable_redis(url: str) -> bool:
    from redis.asyncio import from_url

    client = from_url(url, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@dataclass
class Proc:
    """A child process group started by the bench (stopped by its own pid)."""

    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


@dataclass
class Stack:
    """The processes of one configuration and where they answer."""

    base_url: str
    procs: list[Proc] = field(default_factory=list)

    def stop(self) -> None:
        for p in self.procs:
            p.stop()


def _spawn(name: str, argv: list[str], env: dict[str, str], logdir: Path) -> Proc:
    log = logdir / f"{name}.log"
    fh = log.open("wb")
    popen = subprocess.Popen(
        [sys.executable, *argv],
        env=env,
        cwd=ROOT,
        stdout=fh,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Proc(name, popen, log)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's ``--workers`` children)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by ``pids`` (0 where /proc is not readable)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def _wait_ready(stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            for p in stack.procs:
                if p.popen.poll() is not None:
                    raise RuntimeError(f"{p.name} exited:\n{p.log.read_text()[-3000:]}")
            try:
                if (await client.get(stack.base_url + "/healthz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{stack.base_url} not ready after {timeout} s")


def _app_env(db_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        FENGQIAO_SECRET_KEY=SECRET,
        FENGQIAO_QUEUE_NAME=QUEUE,
        FENGQIAO_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


async def start_app(db_url: str, redis_url: str, workers: int, logdir: Path) -> Stack:
    """``fengqiao serve --workers N`` plus N arq workers."""
    port = _free_port()
    env = _app_env(db_url, redis_url)
    stack = Stack(f"http://127.0.0.1:{port}")
    stack.procs.append(
        _spawn(
            f"serve-{workers}",
            [
                "-m",
                "app.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
            ],
            env,
            logdir,
        )
    )
    for i in range(workers):
        stack.procs.append(
            _spawn(f"worker-{workers}-{i}", ["-m", "app.cli", "worker"], env, logdir)
        )
    await _wait_ready(stack)
    return stack


async def start_bare(db_url: str, workers: int, logdir: Path) -> Stack:
    port = _free_port()
    env = dict(os.environ, BARE_DATABASE_URL=db_url, PYTHONUNBUFFERED="1")
    stack = Stack(f"http://127.0.0.1:{port}")
    stack.procs.append(
        _spawn(
            f"bare-{workers}",
            ["-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)],
            env,
            logdir,
        )
    )
    await _wait_ready(stack)
    return stack


# -- data ----------------------------------------------------------------------------------


async def prepare_database(base: str, phones: int) -> str:
    """A fresh ``fq_bench_load``: migrations, 100 grids, ``phones`` grid workers, bare table."""
    admin = await asyncpg.connect(_with_db(base, "postgres"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DB_NAME}")
    finally:
        await admin.close()
    url = _with_db(base, DB_NAME)
    from app import db
    from app.db.migrate import migrate
    from app.services import auth

    db.configure(url, max_size=4)
    await migrate()
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(LOCAL)
        await conn.execute(
            "INSERT INTO unit (id, name, tier, path, sort, created_at)"
            " VALUES (1, 'bench district', 'district', '/1/', 0, $1)",
            now,
        )
        units, grids, nid = [], [], 2
        for s in range(STREETS):
            sid, cid = nid, nid + 1
            nid += 2
            units.append((sid, f"street {s}", "street", 1, f"/1/{sid}/", s))
            units.append((cid, f"community {s}", "community", sid, f"/1/{sid}/{cid}/", 0))
            for g in range(GRIDS_PER_STREET):
                path = f"/1/{sid}/{cid}/{nid}/"
                units.append((nid, f"grid {s}-{g}", "grid", cid, path, g))
                grids.append(nid)
                nid += 1
        await conn.executemany(
            "INSERT INTO unit (id, name, tier, parent, path, sort, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, now())",
            units,
        )
        await conn.execute("SELECT setval(pg_get_serial_sequence('unit', 'id'), $1)", nid)
        # One argon2 hash for every account (hashing 1,000 passwords would take minutes).
        hashed = auth.hash_password(PASSWORD)
        await conn.executemany(
            "INSERT INTO app_user (username, full_name, password_hash, role, unit, created_at)"
            " VALUES ($1, $2, $3, 'grid_worker', $4, now())",
            [
                (f"gw{i:04d}", f"grid worker {i}", hashed, grids[i % len(grids)])
                for i in range(phones)
            ],
        )
        await conn.execute(
            "CREATE TABLE bare_visit (LIKE visit INCLUDING DEFAULTS INCLUDING INDEXES"
            " INCLUDING CONSTRAINTS)"
        )
    finally:
        await conn.close()
    return url


def _session_token_hash(token: str) -> str:
    from app.services import auth

    return auth._token_hash(token)  # how auth.login stores a session


async def open_sessions(url: str, phones: int) -> list[tuple[int, str]]:
    """A logged-in session per phone, stored as ``auth.login`` stores one: (user id, token)."""
    conn = await asyncpg.connect(url)
    try:
        users = await conn.fetch(
            "SELECT id FROM app_user WHERE role = 'grid_worker' ORDER BY id LIMIT $1", phones
        )
        sessions = [(u["id"], secrets.token_urlsafe(32)) for u in users]
        await conn.executemany(
            'INSERT INTO app_session (token_hash, "user", created_at, last_seen_at, ip, user_agent)'
            " VALUES ($1, $2, now(), now(), '127.0.0.1', 'bench phone')",
            [(_session_token_hash(t), uid) for uid, t in sessions],
        )
    finally:
        await conn.close()
    return sessions


async def login(base_url: str, username: str) -> dict[str, str]:
    """A real login through ``/login``; the cookies a browser would then hold."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.get("/login")
        r = await client.post("/login", data={"username": username, "password": PASSWORD})
        if r.status_code != 303:
            raise RuntimeError(f"login of {username} answered {r.status_code}: {r.text[:300]}")
        await client.get("/visits/new")  # what the phone opens next (sets nothing new)
        return {k: v for k, v in client.cookies.items()}


# -- (1) form submissions ------------------------------------------------------------------

WRK_LUA = r"""
local prefix = os.getenv("FQ_UUID_PREFIX")
local body = os.getenv("FQ_BODY")
local counter = 0
local tid = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
if os.getenv("FQ_COOKIE") ~= "" then wrk.headers["Cookie"] = os.getenv("FQ_COOKIE") end
if os.getenv("FQ_HTMX") == "1" then wrk.headers["HX-Request"] = "true" end
local threads = {}
setup = function(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local u = string.format("%s-%04x-4000-8000-%012x", prefix, tid, counter)
  return wrk.format(nil, nil, nil, body .. "&client_uuid=" .. u)
end
done = function(summary, latency, requests)
  io.write(string.format(
    'FQRESULT {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def visit_form_body(csrf: str, grid_id: int) -> str:
    """The visit form as the browser sends it, minus ``client_uuid`` (added per request)."""
    fields = [
        ("_csrf_token", csrf),
        ("task_id", ""),
        ("kind", "door"),
        ("visited_at", (datetime.now(LOCAL) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")),
        ("grid_id", str(grid_id)),
        ("q", ""),
        ("address", "幸福路 12 号 3 单元 402"),
        ("persons_met", "户主及其配偶"),
        ("topics", "request"),
        ("summary", "入户走访，了解家庭近况，反映楼道照明不足，已登记并告知社区跟进。"),
        ("mood", "calm"),
        ("follow_up_due", ""),
    ]
    return urlencode([(k, v) for k, v in fields if csrf or k != "_csrf_token"])


@dataclass
class LoadResult:
    label: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    stored: int = 0
    #: CPU time of the web processes (user + system) per request, in ms (0: not measured).
    cpu_ms: float = 0.0

    @property
    def rps(self) -> float:
        return ratio(self.requests - self.errors, self.seconds)


def run_wrk(url: str, body: str, cookie: str, htmx: bool, seconds: float, tmp: Path) -> dict:
    script = tmp / "form.lua"
    script.write_text(WRK_LUA)
    env = dict(
        os.environ,
        FQ_UUID_PREFIX=secrets.token_hex(4),
        FQ_BODY=body,
        FQ_COOKIE=cookie,
        FQ_HTMX="1" if htmx else "0",
    )
    argv = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr}")
    return parse_wrk_result(done.stdout)


async def run_httpx(url: str, body: str, cookie: str, htmx: bool, seconds: float) -> dict:
    """The fallback generator: CONNECTIONS coroutines posting until the deadline."""
    prefix = secrets.token_hex(4)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["cookie"] = cookie
    if htmx:
        headers["hx-request"] = "true"
    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                counter += 1
                content = f"{body}&client_uuid={prefix}-0000-4000-8000-{counter:012x}"
                t = time.perf_counter()
                try:
                    r = await client.post(url, content=content, headers=headers)
                    if r.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "status_errors": errors,
        "p50_us": int(percentile(latencies, 50) * 1e6),
        "p95_us": int(percentile(latencies, 95) * 1e6),
    }


@dataclass
class Target:
    """One side of the comparison: where to post and what."""

    label: str
    url: str
    body: str
    cookie: str
    htmx: bool
    table: str
    #: The server's process (its tree is the web processes whose CPU time is measured).
    pid: int = 0
    rounds: list[dict] = field(default_factory=list)


async def _one_round(t: Target, seconds: float, tmp: Path) -> dict:
    pids = process_tree(t.pid) if t.pid else []
    before = cpu_seconds(pids)
    if shutil.which("wrk"):
        result = await asyncio.to_thread(run_wrk, t.url, t.body, t.cookie, t.htmx, seconds, tmp)
    else:
        result = await run_httpx(t.url, t.body, t.cookie, t.htmx, seconds)
    result["cpu_s"] = cpu_seconds(pids) - before
    return result


def combine(label: str, rounds: list[dict], stored: int) -> LoadResult:
    """Rounds of one side: requests over their summed time; the median round's latencies."""
    errors = sum(
        r.get(k, 0)
        for r in rounds
        for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return LoadResult(
        label=label,
        requests=sum(r["requests"] for r in rounds),
        seconds=sum(r["duration_us"] for r in rounds) / 1e6,
        errors=errors,
        p50_ms=percentile([r["p50_us"] for r in rounds], 50) / 1000,
        p95_ms=percentile([r["p95_us"] for r in rounds], 50) / 1000,
        stored=stored,
        cpu_ms=ratio(
            sum(r.get("cpu_s", 0.0) for r in rounds) * 1000, sum(r["requests"] for r in rounds)
        ),
    )


async def compare(
    app: Target, bare: Target, seconds: float, rounds: int, tmp: Path, db_url: str
) -> tuple[LoadResult, LoadResult]:
    """Both servers up; a 2 s warm-up each, then alternating rounds (bare, app, bare, app ...)
    so that other load on the machine falls on both sides alike."""
    conn = await asyncpg.connect(db_url)
    try:
        for t in (bare, app):
            await _one_round(t, 2, tmp)
        before = {
            t.table: await conn.fetchval(f"SELECT count(*) FROM {t.table}") for t in (app, bare)
        }
        for _ in range(rounds):
            for t in (bare, app):
                t.rounds.append(await _one_round(t, seconds / rounds, tmp))
        await asyncio.sleep(0.5)
        stored = {
            t.table: await conn.fetchval(f"SELECT count(*) FROM {t.table}") - before[t.table]
            for t in (app, bare)
        }
    finally:
        await conn.close()
    results = tuple(combine(t.label, t.rounds, stored[t.table]) for t in (app, bare))
    for r, t in zip(results, (app, bare), strict=True):
        per_round = ", ".join(f"{x['requests'] / (x['duration_us'] / 1e6):,.0f}" for x in t.rounds)
        print(
            f"  {r.label}: {r.rps:,.0f} req/s (rounds: {per_round}), p50 {r.p50_ms:.1f} ms,"
            f" p95 {r.p95_ms:.1f} ms, {r.requests:,} requests, {r.errors} errors,"
            f" {r.stored:,} rows stored, {r.cpu_ms:.2f} ms CPU per request",
            flush=True,
        )
    return results  # type: ignore[return-value]


# -- (2) sync burst ------------------------------------------------------------------------


@dataclass
class BurstResult:
    phones: int
    records: int
    sends: int
    resends: int
    retries: int
    created: int
    replayed: int
    failed: int
    stored: int
    distinct: int
    duplicates: int
    seconds: float
    rollup_seconds: float | None
    p50_ms: float
    p95_ms: float
    refused: dict[int, int]


async def sync_burst(base_url: str, db_url: str, sessions: list[tuple[int, str]]) -> BurstResult:
    from app.web import SESSION_COOKIE

    rng = random.Random(8)
    limits = httpx.Limits(
        max_connections=BURST_CONCURRENCY, max_keepalive_connections=BURST_CONCURRENCY
    )
    latencies: list[float] = []
    stats = {"sends": 0, "resends": 0, "retries": 0, "created": 0, "replayed": 0, "failed": 0}
    refused: dict[int, int] = {}  # status of the answers that were neither 200 nor 201
    sent: list[uuid.UUID] = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        # Each phone already holds its session and CSRF cookies (it logged in before going
        # offline): fetch the CSRF cookie now, outside the timed part.
        cookies: list[str] = []
        gate = asyncio.Semaphore(BURST_CONCURRENCY)

        async def prime(token: str) -> str:
            async with gate:
                r = await client.get(
                    "/api/v1/outbox/whoami", headers={"cookie": f"{SESSION_COOKIE}={token}"}
                )
                client.cookies.clear()
                csrf = r.cookies.get("csrftoken")
                if r.status_code != 200 or not csrf:
                    raise RuntimeError(f"whoami answered {r.status_code}: {r.text[:200]}")
                return csrf

        csrfs = await asyncio.gather(*(prime(t) for _, t in sessions))
        cookies = [
            f"{SESSION_COOKIE}={t}; csrftoken={c}"
            for (_, t), c in zip(sessions, csrfs, strict=True)
        ]

        outboxes = []
        for _ in sessions:
            records = []
            for n in range(RECORDS_PER_PHONE):
                cu = uuid.uuid4()
                sent.append(cu)
                when = datetime.now(LOCAL) - timedelta(
                    days=rng.randint(0, 6), minutes=rng.randint(5, 600)
                )
                records.append(
                    {
                        "client_uuid": str(cu),
                        "kind": rng.choice(["door", "door", "reception", "away"]),
                        "visited_at": when.isoformat(),
                        "address": f"bench address {n}",
                        "topics": rng.sample(
                            ["dispute", "request", "sanitation"], rng.randint(0, 2)
                        ),
                        "summary": "离线记录，恢复网络后补传。",
                        "mood": rng.choice(["calm", "calm", "dissatisfied"]),
                    }
                )
            outboxes.append(records)

        async def post(cookie: str, csrf: str, record: dict) -> int:
            for attempt in range(6):
                t = time.perf_counter()
                try:
                    r = await client.post(
                        "/api/v1/visits",
                        json=record,
                        headers={"cookie": cookie, "x-csrftoken": csrf},
                    )
                    latencies.append(time.perf_counter() - t)
                    if r.status_code < 500:
                        return r.status_code
                except httpx.HTTPError:
                    latencies.append(time.perf_counter() - t)
                stats["retries"] += 1
                await asyncio.sleep(0.2 * 2**attempt)
            return 0

        async def phone(cookie: str, csrf: str, records: list[dict]) -> None:
            async with gate:
                for record in records:  # an outbox replays in order, one at a time
                    stats["sends"] += 1
                    answers = [await post(cookie, csrf, record)]
                    if rng.random() < 0.1:
                        # The reply was "lost": the phone sends the same record again.
                        stats["resends"] += 1
                        answers.append(await post(cookie, csrf, record))
                    stats["created"] += answers.count(201)
                    stats["replayed"] += answers.count(200)
                    if not any(a in (200, 201) for a in answers):
                        stats["failed"] += 1
                    for a in answers:
                        if a not in (200, 201):
                            refused[a] = refused.get(a, 0) + 1

        conn = await asyncpg.connect(db_url)
        last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM visit")
        await conn.close()
        start = time.perf_counter()
        await asyncio.gather(
            *(phone(c, s, r) for c, s, r in zip(cookies, csrfs, outboxes, strict=True))
        )
        seconds = time.perf_counter() - start

    conn = await asyncpg.connect(db_url)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM visit WHERE client_uuid = ANY($1::uuid[])", sent
        )
        distinct = await conn.fetchval(
            "SELECT count(DISTINCT client_uuid) FROM visit WHERE client_uuid = ANY($1::uuid[])",
            sent,
        )
        authors = [uid for uid, _ in sessions]
        by_phones = await conn.fetchval(
            "SELECT count(*) FROM visit WHERE author = ANY($1::int[]) AND id > $2",
            authors,
            last_id,
        )
        # Roll-ups catching up: the workers empty the dirty marks.
        rollup_seconds = None
        t = time.perf_counter()
        while time.perf_counter() - t < 120:
            if not await conn.fetchval("SELECT count(*) FROM rollup_dirty"):
                rollup_seconds = time.perf_counter() - start
                break
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
    return BurstResult(
        phones=len(sessions),
        records=len(sent),
        sends=stats["sends"],
        resends=stats["resends"],
        retries=stats["retries"],
        created=stats["created"],
        replayed=stats["replayed"],
        failed=stats["failed"],
        stored=stored,
        distinct=distinct,
        duplicates=by_phones - distinct,
        seconds=seconds,
        rollup_seconds=rollup_seconds,
        p50_ms=percentile(latencies, 50) * 1000,
        p95_ms=percentile(latencies, 95) * 1000,
        refused=refused,
    )


# -- the run -------------------------------------------------------------------------------


def _machine() -> str:
    cpus = os.cpu_count()
    mem = model = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {int(fh.readline().split()[1]) / 1024 / 1024:.1f} GiB RAM"
        with open("/proc/cpuinfo") as fh:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    cpu = f" ({model})" if model else ""
    return f"{platform.machine()}, {cpus} CPUs{cpu}{mem}, {platform.system()} {platform.release()}"


async def _servers(tmp: Path) -> tuple[str, str, object | None]:
    """(postgres base URL, redis URL, embedded servers to stop or None)."""
    base, redis = _urls()
    pg_ok, redis_ok = await _reachable_pg(base), await _reachable_redis(redis)
    if pg_ok and redis_ok:
        return base, redis, None
    from app.embedded import EmbeddedServers

    servers = EmbeddedServers(tmp / "embedded", postgres=not pg_ok, redis=not redis_ok)
    db_url, redis_url = servers.start()
    print(f"embedded servers: postgres={not pg_ok} redis={not redis_ok}", flush=True)
    return (base if pg_ok else db_url), (redis if redis_ok else redis_url), servers


async def run(
    scale: float, skip_page: bool, form_only: bool = False, form_workers: tuple[int, ...] = (1, 2)
) -> str:
    seconds = scaled(scale, 30, 6)
    phones = int(scaled(scale, 1000, 20))
    client = "wrk 4 (1 thread)" if shutil.which("wrk") else "httpx.AsyncClient"
    print(
        f"scale {scale}: {seconds:.0f} s per form phase, {CONNECTIONS} connections ({client});"
        f" burst {phones:,} phones × {RECORDS_PER_PHONE}; database {DB_NAME}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="fq-load-"))
    logdir = OUT / "load-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    base, redis_url, embedded = await _servers(tmp)
    stacks: list[Stack] = []
    try:
        db_url = await prepare_database(base, phones)
        conn = await asyncpg.connect(db_url)
        pg = await conn.fetchval("SHOW server_version")
        gw = await conn.fetchrow(
            "SELECT username, unit FROM app_user WHERE role = 'grid_worker' ORDER BY id LIMIT 1"
        )
        await conn.close()

        form: dict[int, tuple[LoadResult, LoadResult]] = {}
        page: dict | None = None
        burst: BurstResult | None = None
        for workers in form_workers if form_only else (1, 2):
            print(f"form submissions, {workers} process(es):", flush=True)
            bare = await start_bare(db_url, workers, logdir)
            stacks.append(bare)
            app = await start_app(db_url, redis_url, workers, logdir)
            stacks.append(app)
            cookies = await login(app.base_url, gw["username"])
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
            form[workers] = await compare(
                Target(
                    f"fengqiao ×{workers}",
                    app.base_url + "/visits",
                    visit_form_body(cookies["csrftoken"], gw["unit"]),
                    cookie,
                    True,
                    "visit",
                    app.procs[0].popen.pid,
                ),
                Target(
                    f"bare ×{workers}",
                    bare.base_url + "/visits",
                    visit_form_body("", gw["unit"]),
                    "",
                    False,
                    "bare_visit",
                    bare.procs[0].popen.pid,
                ),
                seconds,
                ROUNDS,
                tmp,
                db_url,
            )
            bare.stop()
            if workers == 1 and not skip_page and not form_only:
                from bench import page_weight

                print("page weight and Lighthouse of /visits/new:", flush=True)
                page = await asyncio.to_thread(page_weight.measure, app.base_url, cookies, tmp)
                print(f"  {page}", flush=True)
            if workers == 2 and not form_only:
                print(f"sync burst: {phones:,} phones × {RECORDS_PER_PHONE}:", flush=True)
                sessions = await open_sessions(db_url, phones)
                burst = await sync_burst(app.base_url, db_url, sessions)
                print(f"  {burst}", flush=True)
            app.stop()
        block = report(scale, pg, client, seconds, form, burst, page)
    finally:
        for s in stacks:
            s.stop()
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return block


def report(
    scale: float,
    pg: str,
    client: str,
    seconds: float,
    form: dict[int, tuple[LoadResult, LoadResult]],
    burst: BurstResult | None,
    page: dict | None,
) -> str:
    lines = [
        f"Machine: {_machine()}; PostgreSQL {pg}; Python {platform.python_version()}. "
        f"Scale {scale} (`FENGQIAO_BENCH_SCALE`). The load generator ({client}, "
        f"{CONNECTIONS} connections; per side a 2 s warm-up, then {ROUNDS} alternating rounds "
        f"of {seconds / ROUNDS:.0f} s, both servers up) runs on the same 2 cores as the servers, "
        "the arq workers and PostgreSQL, so every figure is a same-machine ratio, "
        "not a capacity.",
        "",
        "**Form submissions** — the real visit form (session cookie, CSRF token, validation, "
        "insert, roll-up mark; htmx post answered with the saved-record partial) vs a bare "
        "Litestar endpoint doing one asyncpg INSERT of the same row (`bench/bare_app.py`), "
        "both on uvicorn with the same settings. ms CPU: user + system time of the web "
        "processes per request (from /proc; arq workers, PostgreSQL and the load generator "
        "not counted):",
        "",
    ]
    rows = []
    for workers, (app_r, bare_r) in sorted(form.items()):
        setup = (
            "1 web process + 1 arq worker" if workers == 1 else "2 web processes + 2 arq workers"
        )
        rows.append(
            [
                f"{setup} vs {workers} bare",
                f"{app_r.rps:,.0f} req/s (p50 {app_r.p50_ms:.1f} ms, p95 {app_r.p95_ms:.1f} ms;"
                f" {app_r.cpu_ms:.2f} ms CPU)",
                f"{bare_r.rps:,.0f} req/s (p50 {bare_r.p50_ms:.1f} ms, p95 {bare_r.p95_ms:.1f} ms;"
                f" {bare_r.cpu_ms:.2f} ms CPU)",
                f"**{ratio(app_r.rps, bare_r.rps):.2f}×**",
                "≥ 0.5×",
                f"{app_r.errors} / {bare_r.errors}",
            ]
        )
    lines.append(md_table(["setup", "fengqiao", "bare", "ratio", "target", "errors"], rows))
    if burst:
        lost = burst.records - burst.stored
        rollup = (
            f"; roll-ups caught up {burst.rollup_seconds:.1f} s after the start"
            if burst.rollup_seconds is not None
            else "; roll-ups not caught up within 120 s"
        )
        lines += [
            "",
            f"**Sync burst** — {burst.phones:,} phones × {RECORDS_PER_PHONE} queued visits "
            f"replayed at once through `POST /api/v1/visits` (each phone its own session, its "
            f"outbox in order; {BURST_CONCURRENCY} phones at a time; 2 web processes + 2 arq "
            "workers; 10 % of records resent as if the reply was lost):",
            "",
            md_table(
                ["measure", "result", "target"],
                [
                    [
                        "records queued / stored",
                        f"{burst.records:,} / {burst.stored:,}",
                        "all stored",
                    ],
                    ["lost", f"**{lost}**", "0"],
                    ["duplicated", f"**{burst.duplicates}**", "0"],
                    [
                        "sends (first / resends)",
                        f"{burst.sends:,} / {burst.resends:,} — "
                        f"201 {burst.created:,}, 200 (already stored) {burst.replayed:,}, "
                        f"failed {burst.failed}{f' {burst.refused}' if burst.refused else ''}, "
                        f"retries after a 5xx or transport error {burst.retries}",
                        "",
                    ],
                    [
                        "time to drain",
                        f"**{burst.seconds:.1f} s** "
                        f"({ratio(burst.sends + burst.resends, burst.seconds):,.0f} req/s, "
                        f"p50 {burst.p50_ms:.0f} ms, p95 {burst.p95_ms:.0f} ms){rollup}",
                        "stated",
                    ],
                ],
            ),
        ]
    if page:
        lines += ["", "**Grid worker's form page** `/visits/new` (first load, gzip):", ""]
        lines.append(page_table(page))
    return "\n".join(lines)


def page_table(page: dict) -> str:
    rows = [
        [
            "bytes transferred on first load (HTML + CSS + JS + icons + manifest)",
            f"**{page['page_bytes'] / 1024:.1f} KB** ({page['page_requests']} requests: "
            + ", ".join(f"{k} {v / 1024:.1f}" for k, v in page["by_type"].items())
            + ")",
            "≤ 60 KB",
        ]
    ]
    if page.get("sw_bytes") is not None:
        rows.append(
            [
                "plus the service worker installing the offline shell",
                f"{page['sw_bytes'] / 1024:.1f} KB ({page['sw_requests']} requests) → "
                f"{(page['page_bytes'] + page['sw_bytes']) / 1024:.1f} KB in all",
                "",
            ]
        )
    if page.get("uncompressed"):
        rows.append(["served without gzip", ", ".join(page["uncompressed"]), "none"])
    lh = page.get("lighthouse") or {}
    if "score" in lh:
        rows.append(
            [
                "Lighthouse mobile performance (simulated slow 4G, 4× CPU)",
                f"**{lh['score']:.0f}** (FCP {lh['fcp']}, LCP {lh['lcp']}, TBT {lh['tbt']}, "
                f"CLS {lh['cls']}; Lighthouse {lh['version']})",
                "≥ 95",
            ]
        )
    else:
        rows.append(["Lighthouse mobile performance", f"not run: {lh.get('error', '?')}", "≥ 95"])
    return md_table(["measure", "result", "target"], rows)


def _write(block: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.md").write_text(block + "\n", encoding="utf-8")
    readme = ROOT / "README.md"
    start, end = "<!-- load-bench:start -->", "<!-- load-bench:end -->"
    text = readme.read_text(encoding="utf-8")
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{block}\n{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 0.1")
    parser.add_argument("--no-page", action="store_true", help="skip page weight and Lighthouse")
    parser.add_argument(
        "--form-only",
        action="store_true",
        help="only the form comparison (for iterating); writes bench/out/load-form.md, not README",
    )
    parser.add_argument(
        "--workers",
        default="1,2",
        help="with --form-only: the process counts to compare (default 1,2)",
    )
    args = parser.parse_args(argv)
    scale = float(os.environ.get("FENGQIAO_BENCH_SCALE") or (0.1 if args.quick else 1.0))
    os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
    if args.form_only:
        workers = tuple(int(w) for w in args.workers.split(","))
        block = asyncio.run(run(scale, True, form_only=True, form_workers=workers))
        print(block)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "load-form.md").write_text(block + "\n", encoding="utf-8")
        return 0
    block = asyncio.run(run(scale, args.no_page))
    print(block)
    _write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
