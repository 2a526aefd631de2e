"""Fault drills against a real ``fengqiao serve`` process: Redis stopped during writes,
PostgreSQL restarted under the app, the web process SIGKILLed mid-request.

What is lost in each: nothing. (Worker SIGKILLed mid-job is drilled in
``test_rollups_jobs.py::test_worker_killed_mid_job_numbers_correct_after_restart``; the
PostgreSQL restart drill needs a server of its own and takes ~40 s, so it is
``tools/drills/pg_restart.py``, run by ``make security``.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from app.embedded import EmbeddedRedis
from app.services.field import today as beijing_today
from tests.support import DEMO_PASSWORD, ROOT, new_uuid, run_worker_burst

RETRY_ZH = "请一分钟后重试"  # "please retry in a minute"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Web:
    """A ``fengqiao serve`` subprocess on a free port."""

    def __init__(self, database_url: str, redis_url: str, queue: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="fq-drill-", suffix=".log")[1])
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            FENGQIAO_QUEUE_NAME=queue,
            FENGQIAO_SECRET_KEY="drill-secret",
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self._fh = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )

    async def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base, timeout=3) as c:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("web not healthy: " + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._fh.close()


async def login(base: str, username: str = "grid2") -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=base, timeout=10)
    await c.get("/login")
    response = await c.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text[:300]
    return c


async def post_visit(c: httpx.AsyncClient, uuid: str, summary: str) -> httpx.Response:
    return await c.post(
        "/api/v1/visits",
        json={
            "client_uuid": uuid,
            "address": "演练路1号",
            "summary": summary,
            "follow_up_due": str(beijing_today() + timedelta(days=3)),
        },
        headers={"x-csrftoken": c.cookies.get("csrftoken", "")},
    )


async def test_redis_stopped_writes_and_logins_succeed_and_rollups_catch_up(servers, sql):
    tmp = Path(tempfile.mkdtemp(prefix="fq-drill-redis-"))
    redis = EmbeddedRedis(tmp)
    redis_url = redis.start()
    queue = servers.queue_name + ":drill"
    web = Web(servers.database_url, redis_url, queue)
    try:
        await web.wait_healthy()
        c = await login(web.base)
        redis.stop()
        uuids = [new_uuid() for _ in range(15)]
        answers = [await post_visit(c, u, "Redis停机时的走访") for u in uuids]
        assert [a.status_code for a in answers] == [201] * len(uuids), answers[-1].text
        health = (await c.get("/healthz")).json()
        assert health["redis"] == "down" and health["db"] == "ok"
        # Logins keep working: sessions live in PostgreSQL.
        other = await login(web.base, "community")
        assert (await other.get("/visits")).status_code == 200
        await other.aclose()
        stored = await sql.fetch(
            "SELECT id, unit_path, (visited_at AT TIME ZONE 'Asia/Shanghai')::date AS day"
            " FROM visit WHERE client_uuid = ANY($1::uuid[])",
            uuids,
        )
        assert len(stored) == len(uuids)
        buckets = {(r["unit_path"], r["day"]) for r in stored}
        # Redis is back: the worker's start-up sweep recomputes every marked bucket.
        redis = EmbeddedRedis(tmp)
        redis_url = redis.start()
        drill_servers = dataclasses.replace(servers, redis_url=redis_url, queue_name=queue)
        # the worker's sweep (the cron runs it every minute; enqueued here so the burst runs it)
        from arq import create_pool

        from app.services.jobs import redis_settings

        pool = await create_pool(redis_settings(redis_url), default_queue_name=queue)
        await pool.enqueue_job("rollup_sweep")
        await pool.aclose()
        await asyncio.to_thread(run_worker_burst, drill_servers)
        pending = await sql.fetchval(
            "SELECT count(*) FROM rollup_dirty WHERE (unit_path, day) IN"
            " (SELECT * FROM unnest($1::text[], $2::date[]))",
            [b[0] for b in buckets],
            [b[1] for b in buckets],
        )
        assert pending == 0
        for unit_path, day in buckets:
            unit = await sql.fetchrow("SELECT id FROM unit WHERE path = $1", unit_path)
            metrics = await sql.fetchval(
                "SELECT visits FROM rollup_day WHERE unit_id = $1 AND day = $2",
                unit["id"],
                day,
            )
            want = await sql.fetchval(
                "SELECT count(*) FROM visit WHERE unit_path = $1"
                " AND (visited_at AT TIME ZONE 'Asia/Shanghai')::date = $2",
                unit_path,
                day,
            )
            assert metrics == want, (unit_path, day, metrics, want)
        await c.aclose()
    finally:
        web.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def test_web_process_killed_mid_request_leaves_no_partial_record(servers, sql):
    web = Web(servers.database_url, servers.redis_url, servers.queue_name + ":killdrill")
    try:
        await web.wait_healthy()
        c = await login(web.base)
        results: list[tuple[str, int | None]] = []
        acked = asyncio.Event()

        async def writer() -> None:
            while True:
                u = new_uuid()
                try:
                    status = (await post_visit(c, u, "进程被杀")).status_code
                except httpx.HTTPError:
                    results.append((u, None))
                    return
                results.append((u, status))
                if sum(1 for _u, st in results if st == 201) >= 20:
                    acked.set()

        writers = [asyncio.create_task(writer()) for _ in range(8)]
        await asyncio.wait_for(acked.wait(), 30)
        web.kill()  # SIGKILL while 8 requests are in flight
        await asyncio.gather(*writers)
        await c.aclose()
    finally:
        web.stop()
    uuids = [u for u, _status in results]
    acknowledged = [u for u, status in results if status == 201]
    cut = [u for u, status in results if status is None]
    rows = await sql.fetch(
        "SELECT v.client_uuid::text AS u, v.summary, v.unit_path,"
        " (SELECT count(*) FROM follow_up_task t WHERE t.source_type = 'visit'"
        "  AND t.source_id = v.id) AS tasks"
        " FROM visit v WHERE v.client_uuid = ANY($1::uuid[])",
        uuids,
    )
    stored = {r["u"] for r in rows}
    assert set(acknowledged) <= stored  # every acknowledged write is stored
    assert all(r["summary"] == "进程被杀" and r["unit_path"] for r in rows)
    assert all(r["tasks"] == 1 for r in rows), "a visit without its follow-up task"
    print(f"kill drill: {len(acknowledged)} acknowledged, {len(cut)} cut, {len(stored)} stored")
