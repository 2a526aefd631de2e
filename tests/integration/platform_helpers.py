"""Rows the smart-platform tests need, inserted directly (the suite's demo has no history)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

from arq import create_pool

from app.services import jobs


async def run_with_db(servers, code: str, **fields: object) -> object:
    """Run ``code`` (a Python script with a ``{url}`` placeholder for the database URL, and
    ``fields`` for its other placeholders) in a fresh interpreter, as the worker or CLI would;
    return the JSON its last output line holds."""
    from tests.support import ROOT

    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code.format(url=servers.database_url, **fields)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "FENGQIAO_ROLLUP_DEFER_SECONDS": "0"},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


async def unit_of(sql, code: str) -> dict:
    return dict(await sql.fetchrow("SELECT id, path FROM unit WHERE code = $1", code))


async def user_id(sql, username: str) -> int:
    return await sql.fetchval("SELECT id FROM app_user WHERE username = $1", username)


async def add_visit(sql, grid_code: str, summary: str, household_id: int | None = None) -> int:
    unit = await unit_of(sql, grid_code)
    author = await sql.fetchval(
        "SELECT id FROM app_user WHERE unit = $1 ORDER BY id LIMIT 1", unit["id"]
    )
    return await sql.fetchval(
        "INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at, household,"
        " summary, created_at, updated_at) VALUES ($1, $2, $3, $4, 'door', now(), $5, $6,"
        " now(), now()) RETURNING id",
        uuid.uuid4(),
        author,
        unit["id"],
        unit["path"],
        household_id,
        summary,
    )


async def add_call(sql, grid_code: str, summary: str, subject_type: str, subject_id: int) -> int:
    unit = await unit_of(sql, grid_code)
    author = await sql.fetchval(
        "SELECT id FROM app_user WHERE unit = $1 ORDER BY id LIMIT 1", unit["id"]
    )
    return await sql.fetchval(
        "INSERT INTO call (client_uuid, author, unit, unit_path, called_at, subject_type,"
        " subject_id, outcome, summary, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, now(), $5, $6, 'reached', $7, now(), now()) RETURNING id",
        uuid.uuid4(),
        author,
        unit["id"],
        unit["path"],
        subject_type,
        subject_id,
        summary,
    )


async def enqueue(servers, function: str, *args) -> None:
    pool = await create_pool(
        jobs.redis_settings(servers.redis_url), default_queue_name=servers.queue_name
    )
    try:
        await pool.enqueue_job(function, *args)
    finally:
        await pool.aclose()
