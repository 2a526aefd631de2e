"""Petition-case metrics in the roll-ups: totals equal counts computed straight from the rows.

Cases and their events are written as the cases service writes them (the case row, its
``case_event`` log, a mark on the day of each action); the expected numbers are computed here
in Python from the raw rows, independently of the roll-up SQL.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta

from tests.integration import rollup_helpers as h
from tests.integration.test_rollups_jobs import _env
from tests.support import ROOT, run_worker_burst

SATISFIED = ("satisfied", "basically")


async def _sweep(servers) -> None:
    await h.enqueue(servers, "rollup_sweep")
    await asyncio.to_thread(run_worker_burst, servers)


def _local(ts: datetime) -> date:
    return ts.astimezone(h.LOCAL).date()


async def _event(sql, case_id: int, kind: str, at: datetime, data: dict, path: str) -> None:
    await sql.execute(
        'INSERT INTO case_event ("case", kind, at, role, data) VALUES ($1, $2, $3, $4, $5::jsonb)',
        case_id,
        kind,
        at,
        "front_desk",
        json.dumps(data),
    )
    await sql.execute(h.MARK, path, _local(at))


async def _random_cases(sql, rng: random.Random, n: int) -> list[int]:
    units = await h.leaf_units(sql)
    now = datetime.now(h.LOCAL)
    ids = []
    for _ in range(n):
        u = rng.choice(units)
        received = h.at(h.today() - timedelta(days=rng.randrange(120)), rng)
        tags = ["first_time"] if rng.random() < 0.5 else []
        async with sql.transaction():
            case_id = await sql.fetchval(
                "INSERT INTO petition_case (number, channel, petitioner_name, unit, unit_path,"
                " received_at, state, tags, created_at, updated_at)"
                " VALUES ($1, 'letter', 'p', $2, $3, $4, 'registered', $5, now(), now())"
                " RETURNING id",
                f"T{uuid.uuid4().hex[:12]}",
                u["id"],
                u["path"],
                received,
                tags,
            )
            await _event(sql, case_id, "register", received, {}, u["path"])
            ids.append(case_id)
            accept = received + timedelta(days=rng.randrange(25), hours=rng.randrange(5))
            if rng.random() < 0.85 and accept < now:
                await _event(sql, case_id, "accept", accept, {}, u["path"])
                if rng.random() < 0.3:
                    ext = accept + timedelta(days=rng.randrange(1, 50))
                    if ext < now:
                        await _event(sql, case_id, "extend", ext, {"days": 30}, u["path"])
                reply = accept + timedelta(days=rng.randrange(1, 100))
                if rng.random() < 0.7 and reply < now:
                    await _event(sql, case_id, "opinion", reply, {}, u["path"])
                    ev = reply + timedelta(days=rng.randrange(0, 5), hours=1)
                    if rng.random() < 0.8 and ev < now:
                        sat = rng.choice(("satisfied", "basically", "dissatisfied"))
                        await _event(sql, case_id, "evaluate", ev, {"satisfaction": sat}, u["path"])
                    rv = reply + timedelta(days=rng.randrange(1, 10))
                    if rng.random() < 0.2 and rv < now:
                        await _event(sql, case_id, "request_review", rv, {}, u["path"])
    return ids


async def _expected(sql, path: str) -> dict[str, int]:
    """Counts for the unit's subtree, from the rows, in Python (overdue: due before today)."""
    cases = await sql.fetch(
        "SELECT id, received_at, tags FROM petition_case WHERE left(unit_path, length($1)) = $1",
        path,
    )
    out = dict.fromkeys(
        (
            "cases_registered",
            "cases_first_time",
            "cases_first_time_once",
            "cases_accepted",
            "cases_accepted_timely",
            "cases_replied",
            "cases_replied_on_time",
            "cases_overdue_open",
            "cases_evaluated",
            "cases_satisfied",
        ),
        0,
    )
    today = h.today()
    for c in cases:
        events = await sql.fetch(
            'SELECT kind, at, data FROM case_event WHERE "case" = $1 ORDER BY at', c["id"]
        )
        kinds = [(e["kind"], _local(e["at"]), json.loads(e["data"])) for e in events]
        recv = _local(c["received_at"])
        first = "first_time" in c["tags"]
        out["cases_registered"] += 1
        out["cases_first_time"] += first
        acc = next((d for k, d, _ in kinds if k == "accept"), None)
        rep = next((d for k, d, _ in kinds if k == "opinion"), None)
        ext = sum(x.get("days", 0) for k, _, x in kinds if k == "extend")
        evals = [x["satisfaction"] for k, _, x in kinds if k == "evaluate"]
        reviewed = any(k == "request_review" for k, _, _ in kinds)
        out["cases_evaluated"] += len(evals)
        out["cases_satisfied"] += sum(1 for s in evals if s in SATISFIED)
        if first and rep and not reviewed and evals and evals[0] in SATISFIED:
            out["cases_first_time_once"] += 1
        if acc:
            out["cases_accepted"] += 1
            out["cases_accepted_timely"] += acc <= recv + timedelta(days=15)
            due = acc + timedelta(days=60 + ext)
            if rep:
                out["cases_replied"] += 1
                out["cases_replied_on_time"] += rep <= due
            elif due < today:
                out["cases_overdue_open"] += 1
    return out


async def _rolled_up(sql, unit_id: int) -> dict[str, int]:
    row = await sql.fetchrow(
        "SELECT COALESCE(sum(cases_registered), 0) AS cases_registered,"
        " COALESCE(sum(cases_first_time), 0) AS cases_first_time,"
        " COALESCE(sum(cases_first_time_once), 0) AS cases_first_time_once,"
        " COALESCE(sum(cases_accepted), 0) AS cases_accepted,"
        " COALESCE(sum(cases_accepted_timely), 0) AS cases_accepted_timely,"
        " COALESCE(sum(cases_replied), 0) AS cases_replied,"
        " COALESCE(sum(cases_replied_on_time), 0) AS cases_replied_on_time,"
        " COALESCE(sum(cases_due_open) FILTER (WHERE day < $2), 0) AS cases_overdue_open,"
        " COALESCE(sum(cases_evaluated), 0) AS cases_evaluated,"
        " COALESCE(sum(cases_satisfied), 0) AS cases_satisfied"
        " FROM rollup_day WHERE unit_id = $1",
        unit_id,
        h.today(),
    )
    return dict(row)


async def _check_all_units(sql) -> None:
    for u in await sql.fetch("SELECT id, path FROM unit"):
        assert await _rolled_up(sql, u["id"]) == await _expected(sql, u["path"]), u["path"]


async def test_case_totals_equal_direct_counts_incrementally_and_after_rebuild(sql, servers):
    rng = random.Random(11)
    await sql.execute("DELETE FROM petition_case WHERE number LIKE 'T%'")
    await _random_cases(sql, rng, 60)
    await _sweep(servers)
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") == 0
    await _check_all_units(sql)
    # A later reply marks only its own day: the case's due-day bucket must follow too.
    open_cases = await sql.fetch(
        "SELECT c.id, c.unit_path FROM petition_case c WHERE c.number LIKE 'T%'"
        " AND EXISTS (SELECT 1 FROM case_event e WHERE e.\"case\" = c.id AND e.kind = 'accept')"
        ' AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e."case" = c.id'
        " AND e.kind = 'opinion') LIMIT 5"
    )
    assert open_cases
    for c in open_cases:
        async with sql.transaction():
            await _event(sql, c["id"], "opinion", datetime.now(h.LOCAL), {}, c["unit_path"])
    await _sweep(servers)
    await _check_all_units(sql)
    before = await h.snapshot(sql)
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
    await _check_all_units(sql)


async def test_dashboard_and_api_show_the_case_block(as_user, sql, servers):
    leader = await as_user("leader")
    root = await sql.fetchrow("SELECT id FROM unit WHERE parent IS NULL")
    page = await leader.get("/dashboard")
    assert page.status_code == 200
    assert 'id="dash-cases"' in page.text
    r = await leader.get(f"/api/v1/rollups?unit={root['id']}")
    assert r.status_code == 200
    body = r.json()
    assert "cases_registered" in body["metrics"]
    assert "cases_overdue_open" in body
