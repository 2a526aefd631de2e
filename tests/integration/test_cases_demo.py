"""The petition-case demo history: fast, every state present, some overdue and supervised."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.support import ROOT

SEED = """
import asyncio, random
from app import db
from app.services import cases_demo
async def main():
    db.configure({url!r})
    await db.open_pool()
    try:
        await cases_demo.seed_cases(random.Random(20))
    finally:
        await db.close_pool()
asyncio.run(main())
"""


async def test_demo_cases_cover_every_state_quickly(servers, sql):
    before = await sql.fetchval("SELECT count(*) FROM petition_case")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", SEED.format(url=servers.database_url)],
        cwd=ROOT,
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert time.monotonic() - started < 10
    assert await sql.fetchval("SELECT count(*) FROM petition_case") - before >= 30
    states = {r["state"] for r in await sql.fetch("SELECT DISTINCT state FROM petition_case")}
    assert {
        "registered",
        "dispatched",
        "objected",
        "accepted",
        "in_progress",
        "extended",
        "diverted",
        "told_where_to_go",
        "replied",
        "evaluated",
        "review_requested",
        "reviewed",
        "rereview_requested",
        "closed",
        "final",
    } <= states
    assert await sql.fetchval("SELECT count(*) FROM supervision") >= 2
    assert await sql.fetchval("SELECT count(*) FROM petition_case WHERE owner_leader IS NOT NULL")
    zj = await sql.fetchval("SELECT id FROM department WHERE code = 'ZJ'")
    assert await sql.fetchval("SELECT count(*) FROM case_body WHERE department = $1", zj) >= 8
