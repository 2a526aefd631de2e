"""Roll-up jobs with the real arq worker: totals equal direct SQL counts; idempotent; durable."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from tests.integration import rollup_helpers as h
from tests.support import ROOT, run_worker_burst


def _env(servers) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=servers.database_url,
        REDIS_URL=servers.redis_url,
        FENGQIAO_QUEUE_NAME=servers.queue_name,
        FENGQIAO_SECRET_KEY="test-secret",
    )
    return env


async def _sweep(servers) -> None:
    await h.enqueue(servers, "rollup_sweep")
    await asyncio.to_thread(run_worker_burst, servers)


async def test_totals_equal_direct_counts_after_writes_edits_and_backdating(sql, servers):
    rng = random.Random(1)
    await h.random_writes(sql, rng, 300)
    await _sweep(servers)
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") == 0
    await h.compare(sql, rng)
    await h.random_edits(sql, rng, 40)
    await h.random_writes(sql, rng, 50, days=60)  # backdated further
    await _sweep(servers)
    assert await h.compare(sql, rng) > 0


async def test_redis_down_during_writes_catches_up_on_the_sweep(sql, servers):
    # Writes mark their buckets but no wake-up reaches the queue (as when Redis is down).
    rng = random.Random(2)
    await h.random_writes(sql, rng, 80)
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") > 0
    await asyncio.to_thread(run_worker_burst, servers)  # nothing queued: nothing happens
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") > 0
    await _sweep(servers)
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") == 0
    await h.compare(sql, rng)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_redis_down_http_writes_mark_buckets_and_numbers_catch_up(sql, servers):
    """``fengqiao serve`` pointed at a dead Redis (a unix socket nobody listens on): visits
    posted over HTTP are stored and mark their buckets, no wake-up reaches the queue, and the
    sweep (Redis back) makes the roll-ups equal the raw counts."""
    dead = Path(tempfile.mkdtemp(prefix="fq-ru-")) / "no-redis.sock"
    port = _free_port()
    env = _env(servers)
    env.update(REDIS_URL=f"unix://{dead}", PYTHONUNBUFFERED="1")
    log = Path(tempfile.mkstemp(prefix="fq-ru-serve-", suffix=".log")[1])
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    health = await c.get("/healthz")
                    if health.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                await asyncio.sleep(0.2)
            assert health.json()["redis"] == "down"
            await c.get("/login")
            r = await c.post("/login", data={"username": "grid", "password": "fengqiao-demo"})
            assert r.status_code == 303, r.text[:300]
            grid = await sql.fetchrow(
                "SELECT u.id, u.path FROM unit u JOIN app_user a ON a.unit = u.id"
                " WHERE a.username = 'grid'"
            )
            today = h.today()
            before = await sql.fetchval(
                "SELECT COALESCE(sum(visits), 0) FROM rollup_day WHERE unit_id = $1 AND day = $2",
                grid["id"],
                today,
            )
            await asyncio.to_thread(run_worker_burst, servers)  # drain anything earlier
            await _sweep(servers)
            for i in range(3):
                r = await c.post(
                    "/api/v1/visits",
                    json={
                        "client_uuid": str(uuid.uuid4()),
                        "kind": "door",
                        "visited_at": datetime.now(h.LOCAL).isoformat(),
                        "address": f"redis-down test {i}",
                        "summary": "redis is down",
                        "mood": "calm",
                    },
                    headers={"x-csrftoken": c.cookies.get("csrftoken", "")},
                )
                assert r.status_code == 201, r.text
        assert await sql.fetchval(
            "SELECT count(*) FROM rollup_dirty WHERE unit_path = $1 AND day = $2",
            grid["path"],
            today,
        )
        # Nothing reached the queue: a worker run without the sweep leaves the marks.
        await asyncio.to_thread(run_worker_burst, servers)
        assert await sql.fetchval(
            "SELECT count(*) FROM rollup_dirty WHERE unit_path = $1", grid["path"]
        )
        await _sweep(servers)
        assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") == 0
        after = await sql.fetchval(
            "SELECT visits FROM rollup_day WHERE unit_id = $1 AND day = $2", grid["id"], today
        )
        raw = await sql.fetchval(
            "SELECT count(*) FROM visit WHERE unit_path = $1"
            " AND (visited_at AT TIME ZONE 'Asia/Shanghai')::date = $2",
            grid["path"],
            today,
        )
        assert after == raw == before + 3
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def test_running_twice_and_rebuild_leave_the_same_numbers(sql, servers):
    rng = random.Random(3)
    await h.random_writes(sql, rng, 60)
    await _sweep(servers)
    before = await h.snapshot(sql)
    # Mark everything dirty again and run the job twice.
    await sql.execute(
        "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
        " SELECT u.path, o.day, now() FROM rollup_own o JOIN unit u ON u.id = o.unit_id"
        " ON CONFLICT DO NOTHING"
    )
    await _sweep(servers)
    await _sweep(servers)
    assert await h.snapshot(sql) == before
    # The CLI rebuild from the raw rows agrees too.
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "rollup", "--rebuild"],
        env=_env(servers),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    after = await h.snapshot(sql)
    for key, value in before.items():
        assert after.get(key) == value, key
    await h.compare(sql, rng)


async def test_worker_killed_mid_job_numbers_correct_after_restart(sql, servers):
    rng = random.Random(4)
    await h.random_writes(sql, rng, 200, days=40)
    # Make the recompute large: every bucket of every unit over 200 days is dirty.
    await sql.execute(
        "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
        " SELECT u.path, g.day::date, now() FROM unit u,"
        # Beijing's today (the database's current_date is a day behind from 16:00 UTC)
        " (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date AS local_today) t,"
        " generate_series(t.local_today - 200, t.local_today, interval '1 day') g(day)"
        " ON CONFLICT DO NOTHING"
    )
    await sql.execute("UPDATE rollup_day SET visits = 0, calls = 0")  # stale numbers
    marks = await sql.fetchval("SELECT count(*) FROM rollup_dirty")
    env = _env(servers)
    # The killed worker runs on a queue of its own: its half-done job stays "in progress" there
    # until arq's timeout; what must survive the kill is in PostgreSQL (the marks).
    env["FENGQIAO_QUEUE_NAME"] = servers.queue_name + ":killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # the startup sweep should take the marks; a sweep is also queued in case that cron run is
    # skipped or late (once, in a `.ci/run` of a fresh clone, this worker started no recompute
    # within the minute; the cause was not found — arq's cron job ids are per Redis database)
    await h.enqueue(servers, "rollup_sweep", queue=env["FENGQIAO_QUEUE_NAME"])
    try:
        deadline = time.monotonic() + 60
        seen = False
        while time.monotonic() < deadline and not seen:
            seen = bool(
                await sql.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%rollup_own%'"
                    " AND state = 'active' AND pid <> pg_backend_pid()"
                )
            )
            await asyncio.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert seen, "the worker never started the recompute"
    # Killed mid-transaction: nothing of that batch was committed, its marks are still there.
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") > 0
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") <= marks
    await _sweep(servers)
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") == 0
    await h.compare(sql, rng, samples=60)


async def test_moving_a_grid_moves_its_history_and_recomputes_both_sides(sql, servers, as_user):
    rng = random.Random(5)
    await h.random_writes(sql, rng, 120)
    await _sweep(servers)
    grid = await sql.fetchrow(
        "SELECT u.id, u.path, u.parent FROM unit u WHERE u.tier = 'grid'"
        " AND EXISTS (SELECT 1 FROM visit v WHERE v.unit_path = u.path) ORDER BY u.id LIMIT 1"
    )
    old_parent = await sql.fetchrow("SELECT id, path FROM unit WHERE id = $1", grid["parent"])
    new_parent = await sql.fetchrow(
        "SELECT id, path FROM unit WHERE tier = 'community' AND id <> $1"
        " AND left(path, length($2)) <> $2 ORDER BY id DESC LIMIT 1",
        old_parent["id"],
        old_parent["path"].rsplit("/", 2)[0] + "/",  # a community of another street if any
    )
    moved_visits = await sql.fetchval(
        "SELECT count(*) FROM visit WHERE unit_path = $1", grid["path"]
    )
    admin = await as_user("admin")
    r = await admin.post_form(f"/admin/units/{grid['id']}/move", {"parent_id": new_parent["id"]})
    assert r.status_code == 303, r.text
    new_path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", grid["id"])
    assert new_path.startswith(new_parent["path"])
    # History follows the unit: its records now carry the new path.
    assert await sql.fetchval("SELECT count(*) FROM visit WHERE unit_path = $1", new_path) == (
        moved_visits
    )
    await _sweep(servers)
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") == 0
    for unit in (old_parent, new_parent):
        path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", unit["id"])
        raw = await sql.fetch(
            "SELECT (visited_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n"
            " FROM visit WHERE left(unit_path, length($1)) = $1 GROUP BY 1",
            path,
        )
        got = await sql.fetch(
            "SELECT day, visits AS n FROM rollup_day WHERE unit_id = $1",
            unit["id"],
        )
        got_by_day = {g["day"]: g["n"] for g in got if g["n"]}
        assert got_by_day == {r["day"]: r["n"] for r in raw}, unit["id"]
    await h.compare(sql, rng)


async def test_wake_ups_of_another_queue_on_the_same_redis_do_not_swallow_ours(
    as_user, sql, servers
):
    # arq keys jobs by id in the whole Redis database: another deployment (or test session) on
    # the same Redis with its wake-ups pending in the coming windows must not swallow ours.
    from arq import create_pool

    from app.services import jobs, marks

    grid = await as_user("grid")
    path = await sql.fetchval(
        "SELECT u.path FROM unit u JOIN app_user a ON a.unit = u.id WHERE a.username = 'grid'"
    )
    other = f"{servers.queue_name}:other-deployment"
    pool = await create_pool(jobs.redis_settings(servers.redis_url), default_queue_name=other)
    window = int(time.time() // 0.2)  # the tests' app wakes with no defer: 0.2 s windows
    ids = [marks.job_id(w, other) for w in range(window, window + 100)]  # the next 20 s
    try:
        for job_id in ids:
            assert await pool.enqueue_job(marks.WAKE_JOB, _job_id=job_id, _defer_by=3600)
        r = await grid.post_json(
            "/api/v1/visits",
            {
                "client_uuid": str(uuid.uuid4()),
                "kind": "door",
                "visited_at": datetime.now(h.LOCAL).isoformat(),
                "address": "roll-up test address other queue",
                "summary": "checked in",
                "mood": "calm",
            },
        )
        assert r.status_code == 201, r.text
        assert await sql.fetchval("SELECT count(*) FROM rollup_dirty WHERE unit_path = $1", path)
        await asyncio.to_thread(run_worker_burst, servers)  # only the wake-up the post enqueued
        left = await sql.fetch("SELECT unit_path, day FROM rollup_dirty WHERE unit_path = $1", path)
        assert not left, [dict(r) for r in left]
    finally:
        await pool.delete(other, *(f"arq:job:{job_id}" for job_id in ids))
        await pool.aclose()
