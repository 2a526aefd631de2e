"""Drill: PostgreSQL restarted under a running ``fengqiao serve``.

A PostgreSQL of its own (pgserver, in a temp dir) is migrated and seeded, the web process
started against it, a few visits written, the server stopped: requests during the outage must
answer 503 with the retry message (never 500); after the restart the app recovers without being
restarted, the session still works, and every acknowledged write is stored.

    .venv/bin/python -m tools.drills.pg_restart      # exit status 0 = drill passed
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from pgserver._commands import pg_ctl

from app.embedded import EmbeddedPostgres
from tests.integration.test_faults import RETRY_ZH, Web, login, post_visit
from tests.support import ROOT, new_uuid


async def drill(redis_url: str, queue: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="fq-drill-pg-"))
    pg = EmbeddedPostgres(tmp)
    database_url = await asyncio.to_thread(pg.start)
    env = {**os.environ, "DATABASE_URL": database_url, "FENGQIAO_SECRET_KEY": "drill"}
    for argv in (["migrate"], ["seed-demo", "--no-history"]):
        subprocess.run(
            [sys.executable, "-m", "app.cli", *argv],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=180,
        )
    web = Web(database_url, redis_url, queue)
    acknowledged: list[str] = []
    try:
        await web.wait_healthy()
        c = await login(web.base)
        for _ in range(5):
            u = new_uuid()
            assert (await post_visit(c, u, "停机前")).status_code == 201
            acknowledged.append(u)
        user = pg._server.system_user
        opts = shlex.split((pg.pgdata / "postmaster.opts").read_text())[1:]
        keep = [a for i, a in enumerate(opts) if a != "-D" and (i == 0 or opts[i - 1] != "-D")]
        await asyncio.to_thread(pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=pg.pgdata, user=user)
        during = []
        for _ in range(4):
            u = new_uuid()
            r = await post_visit(c, u, "停机中")
            during.append(r)
            if r.status_code == 201:
                acknowledged.append(u)
        page = await c.get("/visits")
        statuses = [r.status_code for r in during] + [page.status_code]
        assert 500 not in statuses, statuses
        assert set(statuses) == {503}, statuses
        assert RETRY_ZH in page.text
        assert during[-1].json()["status_code"] == 503
        async with httpx.AsyncClient(base_url=web.base) as probe:  # a load balancer: no cookie
            health = await probe.get("/healthz")
        assert health.status_code == 503 and health.json()["db"] == "down"

        log = str(pg.pgdata / "restart.log")
        start = ["-w", "-l", log, "-o", shlex.join(keep), "start"]
        await asyncio.to_thread(pg_ctl, start, pgdata=pg.pgdata, user=user)
        deadline = time.monotonic() + 30
        while (await c.get("/healthz")).status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover"
            await asyncio.sleep(0.3)
        assert web.proc.poll() is None  # recovered without a restart
        # the pool may still hold connections from before: a few retries at most
        recovered = None
        for _ in range(20):
            u = new_uuid()
            r = await post_visit(c, u, "恢复后")
            assert r.status_code in (201, 503), (r.status_code, r.text[:300])
            if r.status_code == 201:
                acknowledged.append(u)
                recovered = r
                break
            await asyncio.sleep(0.3)
        assert recovered is not None
        assert (await c.get("/visits")).status_code == 200  # the session survived
        conn = await asyncpg.connect(database_url)
        try:
            stored = await conn.fetchval(
                "SELECT count(*) FROM visit WHERE client_uuid = ANY($1::uuid[])", acknowledged
            )
        finally:
            await conn.close()
        assert stored == len(acknowledged)
        print(
            f"pg restart drill: outage answers {statuses} (no 500, retry message shown);"
            f" recovered without a web restart; {len(acknowledged)} acknowledged writes,"
            f" {stored} stored"
        )
        await c.aclose()
    finally:
        web.stop()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # No Redis on purpose (nothing listens there): the drill also runs with Redis down.
    asyncio.run(drill(os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"), "fq-drill:pg"))
