"""The smart platform's demo history: ~40 key persons, ~60 risks, some overdue, warnings; fast."""

from __future__ import annotations

from tests.integration import platform_helpers as h

CODE = """
import asyncio, json, random, time
from app import db
from app.services import platform_demo
async def main():
    db.configure({url!r})
    await db.open_pool()
    try:
        t = time.monotonic()
        await platform_demo.seed_platform_history(random.Random(7))
        print(json.dumps({{"seconds": time.monotonic() - t}}))
    finally:
        await db.close_pool()
asyncio.run(main())
"""


async def test_demo_history_is_realistic_and_fast(sql, servers):
    before = {
        t: await sql.fetchval(f"SELECT count(*) FROM {t}")
        for t in ("key_person", "risk", "warning")
    }
    seconds = (await h.run_with_db(servers, CODE))["seconds"]
    assert seconds < 5, seconds
    persons = await sql.fetch(
        "SELECT * FROM key_person ORDER BY id OFFSET $1", before["key_person"]
    )
    assert len(persons) == 40
    assert {p["risk_level"] for p in persons} == {"high", "medium", "low"}
    assert len({p["category"] for p in persons}) >= 4
    assert all(p["measures"] and p["grid_worker"] for p in persons)
    assert await sql.fetchval("SELECT count(*) FROM risk") - before["risk"] == 60
    calls = await sql.fetchval(
        "SELECT count(*) FROM call WHERE subject_type = 'key_person' AND subject_id = ANY($1)",
        [p["id"] for p in persons],
    )
    assert calls >= 40
    overdue = await sql.fetchval(
        "SELECT count(*) FROM warning WHERE kind = 'contact_overdue' AND subject_id = ANY($1)",
        [str(p["id"]) for p in persons],
    )
    assert overdue >= 3
