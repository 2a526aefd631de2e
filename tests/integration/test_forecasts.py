"""Forecasts end to end: weekly counts from raw visits, cases and history; stored forecasts and
intervals; the JSON API's scope (out-of-scope street: 404); the overview for a district leader
and for a street leader (only their street); the backtest command."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import uuid
from datetime import datetime, time, timedelta

import pytest

from app.domain import forecast as fc
from app.domain.calendar import LOCAL_TZ
from tests.support import ROOT

SCRIPT = """
import asyncio, json, sys
from datetime import date
from app import db
from app.services import forecast as svc

async def main():
    db.configure(sys.argv[1])
    await db.open_pool()
    try:
        out = {}
        for step in sys.argv[3:]:
            if step == "counts":
                counts = await svc.weekly_counts([int(sys.argv[2])])
                out["counts"] = {
                    f"{k[1]}": {w.isoformat(): n for w, n in v.items()} for k, v in counts.items()
                }
            elif step == "compute":
                out.setdefault("compute", []).append(await svc.compute())
            elif step == "intervals":
                out["intervals"] = {
                    f"{k[0]}|{k[1]}|{k[2].isoformat()}": v
                    for k, v in (await svc.latest_intervals()).items()
                }
            elif step == "exists":
                out["exists"] = await svc.exists()
        print(json.dumps(out))
    finally:
        await db.close_pool()

asyncio.run(main())
"""


async def service(servers, street_id: int, *steps: str) -> dict:
    """Run forecast service steps in a child process (the app's pool lives in another loop)."""
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, servers.database_url, str(street_id), *steps],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


async def _street(sql, code: str):
    return await sql.fetchrow("SELECT id, path FROM unit WHERE code = $1", code)


async def _seed(sql) -> dict:
    """Three years of seasonal heating history for 东盛 (DS) and raw records in recent weeks."""
    from app.services import forecast as svc  # this_week(): no database

    ds = await _street(sql, "DS")
    grid = await _street(sql, "DS-C1-G1")
    author = await sql.fetchval("SELECT id FROM app_user WHERE username = 'grid'")
    week0 = svc.this_week()
    await sql.execute("DELETE FROM forecast_history WHERE street = $1", ds["id"])
    history = []
    for i in range(160, 4, -1):  # weeks -160 .. -5
        week = week0 - timedelta(weeks=i)
        level = (
            3
            + 12
            * fc.yearly_profile(
                week,
                {
                    m: w
                    for m, w in enumerate(
                        [9, 8, 7, 2.5, 0.3, 0.2, 0.2, 0.2, 0.5, 3, 9, 10], start=1
                    )
                },
            )
            / 10
        )
        history.append((ds["id"], "heating", week, round(level + (i % 3) - 1)))
    await sql.executemany(
        "INSERT INTO forecast_history (street, category, week_start, count, source)"
        " VALUES ($1, $2, $3, $4, 'test')",
        history,
    )
    two_weeks_ago = datetime.combine(week0 - timedelta(weeks=2), time(10), LOCAL_TZ)
    for summary, topics in (
        ("暖气不热，老人受不了", ["request"]),
        ("室温只有十五度", ["dispute"]),
        ("楼道堆放杂物，存在消防隐患", ["security", "fire"]),
    ):
        await sql.execute(
            "INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at, address,"
            " persons_met, topics, summary, mood, resolved_on_site, reported_up, review_state,"
            " review_comment, created_at, updated_at) VALUES ($1, $2, $3, $4, 'door', $5, '',"
            " '', $6, $7, 'calm', false, false, 'pending', '', now(), now())",
            uuid.uuid4(),
            author,
            grid["id"],
            grid["path"],
            two_weeks_ago,
            topics,
            summary,
        )
    number = f"FC-{uuid.uuid4().hex[:8]}"
    await sql.execute(
        "INSERT INTO petition_case (number, channel, petitioner_name, unit, unit_path, category,"
        " content, received_at, state) VALUES ($1, 'visit', '张三', $2, $3, '劳动保障',"
        " '工地拖欠工资', $4, 'registered')",
        number,
        grid["id"],
        grid["path"],
        two_weeks_ago,
    )
    this_week_visit = datetime.combine(week0, time(9), LOCAL_TZ)
    await sql.execute(
        "INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at, address,"
        " persons_met, topics, summary, mood, resolved_on_site, reported_up, review_state,"
        " review_comment, created_at, updated_at) VALUES ($1, $2, $3, $4, 'door', $5, '', '',"
        " '{request}', '供热不达标', 'calm', false, false, 'pending', '', now(), now())",
        uuid.uuid4(),
        author,
        grid["id"],
        grid["path"],
        this_week_visit,
    )
    return {"ds": ds, "week0": week0, "history": history, "case": number}


async def test_service_builds_weekly_series_and_stores_forecasts(servers, sql):
    seeded = await _seed(sql)
    ds, week0 = seeded["ds"], seeded["week0"]
    try:
        result = await service(servers, ds["id"], "counts", "compute", "intervals", "compute")
    finally:  # a bare case row (no events) would break other tests' case pages
        await sql.execute("DELETE FROM petition_case WHERE number = $1", seeded["case"])
    counts = result["counts"]
    w2 = (week0 - timedelta(weeks=2)).isoformat()
    assert counts["heating"][w2] >= 2  # two heating visits that week
    assert counts["safety"][w2] >= 1
    assert counts["wages"][w2] >= 1  # the case (劳动保障)
    assert week0.isoformat() not in counts["heating"]  # the current week is not complete
    first_hist = seeded["history"][0]
    assert counts["heating"][first_hist[2].isoformat()] == first_hist[3]

    streets = await sql.fetchval("SELECT count(*) FROM unit WHERE tier = 'street'")
    n = streets * len(fc.CATEGORIES) * fc.HORIZON
    assert result["compute"] == [n, n]  # recomputing replaces, never duplicates
    assert await sql.fetchval("SELECT count(*) FROM forecast") == n
    rows = await sql.fetch(
        "SELECT * FROM forecast WHERE street = $1 AND category = 'heating' ORDER BY week_start",
        ds["id"],
    )
    assert [r["week_start"] for r in rows] == [week0 + timedelta(weeks=h) for h in range(8)]
    assert rows[0]["model"] == "fourier_ar"  # 156 weeks of history
    for r in rows:
        assert 0 <= r["lo95"] <= r["lo80"] <= r["mean"] <= r["hi80"] <= r["hi95"]

    lo, hi = result["intervals"][f"{ds['id']}|heating|{week0.isoformat()}"]
    assert (lo, hi) == pytest.approx((rows[0]["lo95"], rows[0]["hi95"]), rel=1e-5)


async def _ensure_forecasts(servers, sql) -> None:
    if not await sql.fetchval("SELECT 1 FROM forecast LIMIT 1"):
        seeded = await _seed(sql)
        await sql.execute("DELETE FROM petition_case WHERE number = $1", seeded["case"])
        await service(servers, 0, "compute")


async def test_api_scope_and_pages(as_user, servers, sql):
    await _ensure_forecasts(servers, sql)
    ds, dz = await _street(sql, "DS"), await _street(sql, "DZ")

    street = await as_user("street")
    r = await street.get(f"/api/v1/forecasts?street={ds['id']}")
    assert r.status_code == 200
    body = r.json()
    assert body["street"]["id"] == ds["id"]
    heating = next(c for c in body["categories"] if c["category"] == "heating")
    assert len(heating["forecast"]["mean"]) == 8 and len(heating["history"]) == len(body["weeks"])
    assert (await street.get(f"/api/v1/forecasts?street={dz['id']}")).status_code == 404
    assert (await street.get("/api/v1/forecasts?street=abc")).status_code == 404
    assert (await street.get(f"/forecasts/{dz['id']}")).status_code == 404
    listing = (await street.get("/api/v1/forecasts")).json()
    assert [s["id"] for s in listing["streets"]] == [ds["id"]]
    page = await street.get("/forecasts")  # one street in scope: its charts directly
    assert page.status_code == 200 and 'data-src="/api/v1/forecasts?street=' in page.text

    leader = await as_user("leader")
    assert (await leader.get(f"/api/v1/forecasts?street={dz['id']}")).status_code == 200
    page = await leader.get("/forecasts")
    assert page.status_code == 200 and f'href="/forecasts/{dz["id"]}"' in page.text

    community = await as_user("community")  # below a street: no street in scope
    assert (await community.get(f"/api/v1/forecasts?street={ds['id']}")).status_code == 404
    grid = await as_user("grid")  # no dashboard.read
    assert (await grid.get(f"/api/v1/forecasts?street={ds['id']}")).status_code == 403


async def test_overview_for_district_leader_and_street_leader(as_user, servers, sql):
    await _ensure_forecasts(servers, sql)
    names = {
        r["code"]: r["name"]
        for r in await sql.fetch("SELECT code, name FROM unit WHERE tier = 'street'")
    }
    leader = await as_user("leader")
    r = await leader.get("/overview")
    assert r.status_code == 200, r.text
    for name in names.values():
        assert name in r.text  # a row per street
    assert 'href="/cases?overdue=1"' in r.text and 'href="/overview/emotions?signals=1"' in r.text

    street = await as_user("street")
    r = await street.get("/overview")
    assert r.status_code == 200
    assert names["DS"] in r.text
    for code, name in names.items():
        if code != "DS":
            assert name not in r.text, name
    communities = await sql.fetch(
        "SELECT c.id FROM unit c JOIN unit s ON s.id = c.parent WHERE s.code = 'DS'"
    )
    for c in communities:
        assert f'href="/dashboard?unit={c["id"]}"' in r.text
    assert (await street.get("/overview/emotions?emotion=anger")).status_code == 200
    assert (await (await as_user("grid")).get("/overview")).status_code == 403


async def test_backtest_command_prints_mase(servers, sql):
    if not await sql.fetchval("SELECT 1 FROM forecast_history LIMIT 1"):
        seeded = await _seed(sql)
        await sql.execute("DELETE FROM petition_case WHERE number = $1", seeded["case"])
    env = {**os.environ, "DATABASE_URL": servers.database_url}
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "forecast", "--backtest"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if "heating" in ln and "东盛" in ln]
    assert lines, out.stdout
    overall = [ln for ln in out.stdout.splitlines() if ln.startswith("overall")]
    assert overall and "MASE model" in overall[0] and "seasonal naive" in overall[0]
    model = float(overall[0].split("MASE model ")[1].split()[0])
    assert math.isfinite(model)
