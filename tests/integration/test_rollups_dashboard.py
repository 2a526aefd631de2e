"""Dashboards and the roll-up API: a visit logged over HTTP shows up; scope; dates; .xlsx."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from openpyxl import load_workbook

from app.domain.calendar import LOCAL_TZ
from tests.support import new_uuid, run_worker_burst

LOCAL = LOCAL_TZ


async def _unit_of(sql, username: str):
    return await sql.fetchrow(
        "SELECT u.* FROM unit u JOIN app_user a ON a.unit = u.id WHERE a.username = $1", username
    )


async def _district_visits(leader, root_id: int, day: str) -> int:
    r = await leader.get(f"/api/v1/rollups?unit={root_id}&from={day}&to={day}")
    assert r.status_code == 200, r.text
    days = r.json()["days"]
    return days[0]["metrics"].get("visits", 0) if days else 0


async def test_visit_logged_by_grid_is_counted_for_street_and_leader(as_user, sql, servers):
    grid = await as_user("grid")
    street = await as_user("street")
    leader = await as_user("leader")
    root = await sql.fetchrow("SELECT id, path FROM unit WHERE parent IS NULL")
    street_unit = await _unit_of(sql, "street")
    today = datetime.now(LOCAL).date().isoformat()
    await asyncio.to_thread(run_worker_burst, servers)
    before = await _district_visits(leader, root["id"], today)
    r = await grid.post_json(
        "/api/v1/visits",
        {
            "client_uuid": new_uuid(),
            "kind": "door",
            "visited_at": datetime.now(LOCAL).isoformat(),
            "address": "roll-up test address 1",
            "summary": "checked in",
            "mood": "calm",
        },
    )
    assert r.status_code == 201, r.text
    assert await sql.fetchval("SELECT count(*) FROM rollup_dirty") >= 1
    await asyncio.to_thread(run_worker_burst, servers)  # the wake-up job the write enqueued
    left = await sql.fetch("SELECT unit_path, day, marked_at FROM rollup_dirty")
    assert not left, [dict(r) for r in left]
    assert await _district_visits(leader, root["id"], today) == before + 1
    r = await street.get(f"/api/v1/rollups?unit={street_unit['id']}&from={today}&to={today}")
    assert r.status_code == 200
    body = r.json()
    assert body["days"][0]["metrics"]["visits"] >= 1
    assert body["as_of"] and body["pending"] == 0
    page = await street.get("/dashboard")
    assert page.status_code == 200
    assert "As of" in page.text or "截至" in page.text
    assert "/static/vendor/uplot-1.6.32.iife.min.js" in page.text
    home = await street.get("/")
    assert "uplot" not in home.text  # the chart library only on dashboard pages


async def test_street_leader_never_sees_another_street(as_user, sql):
    street = await as_user("street")
    mine = await _unit_of(sql, "street")
    others = await sql.fetch(
        "SELECT id, name FROM unit WHERE tier = 'street' AND id <> $1", mine["id"]
    )
    assert others
    page = await street.get("/dashboard")
    assert page.status_code == 200
    for other in others:
        assert other["name"] not in page.text
        assert (await street.get(f"/dashboard?unit={other['id']}")).status_code == 404
        r = await street.get(f"/api/v1/rollups?unit={other['id']}")
        assert r.status_code == 404
    root = await sql.fetchval("SELECT id FROM unit WHERE parent IS NULL")
    assert (await street.get(f"/dashboard?unit={root}")).status_code == 404
    assert (await street.get(f"/api/v1/rollups?unit={root}")).status_code == 404
    # Drilldown inside the street works.
    child = await sql.fetchval("SELECT id FROM unit WHERE parent = $1 LIMIT 1", mine["id"])
    assert (await street.get(f"/dashboard?unit={child}")).status_code == 200


async def test_leader_sees_every_street_as_rows(as_user, sql):
    leader = await as_user("leader")
    page = await leader.get("/dashboard")
    assert page.status_code == 200
    for s in await sql.fetch("SELECT id, name FROM unit WHERE tier = 'street'"):
        assert s["name"] in page.text
        assert f"/dashboard?unit={s['id']}" in page.text


async def test_api_rejects_bad_dates_with_a_message(as_user, sql):
    leader = await as_user("leader")
    root = await sql.fetchval("SELECT id FROM unit WHERE parent IS NULL")
    r = await leader.get(f"/api/v1/rollups?unit={root}&from=2025-13-01")
    assert r.status_code == 422
    assert "from" in r.json()["errors"]
    r = await leader.get(f"/api/v1/rollups?unit={root}&from=2025-02-01&to=2025-01-01")
    assert r.status_code == 422
    r = await leader.get("/api/v1/rollups?unit=abc")
    assert r.status_code == 422
    r = await leader.get(f"/api/v1/rollups?unit={root}&from=2024-01-01&to=2025-12-31")
    assert r.status_code == 422


async def test_roles_without_dashboard_are_refused(as_user):
    grid = await as_user("grid")
    assert (await grid.get("/dashboard")).status_code == 403
    assert (await grid.get("/api/v1/rollups?unit=1")).status_code == 403


async def test_dashboard_table_downloads_as_xlsx(as_user):
    leader = await as_user("leader")
    r = await leader.get("/dashboard?format=xlsx")
    assert r.status_code == 200
    assert "spreadsheetml" in r.headers["content-type"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.active
    assert ws.max_row >= 2
    assert ws.cell(1, 1).value


async def test_dashboard_says_how_many_records_wait_on_phones_in_the_unit(as_user, sql):
    street = await as_user("street")
    grid_user = await sql.fetchrow(
        "SELECT a.id, u.path FROM app_user a JOIN unit u ON u.id = a.unit WHERE a.username = 'grid'"
    )
    other = await sql.fetchrow(
        "SELECT u.path FROM unit u JOIN app_user a ON a.unit = u.id WHERE a.username = 'street'"
    )
    assert grid_user["path"].startswith(other["path"])
    await sql.execute("DELETE FROM outbox_heartbeat")
    for i, pending in enumerate((3, 4)):
        await sql.execute(
            'INSERT INTO outbox_heartbeat (device_key, "user", device_id, unit_path, pending,'
            " oldest_at, reported_at) VALUES ($1, $2, $3, $4, $5, now(), now())",
            f"{grid_user['id']}:phone-{i}xxxx",
            grid_user["id"],
            f"phone-{i}xxxx",
            grid_user["path"],
            pending,
        )
    try:
        page = await street.get("/dashboard")
        assert page.status_code == 200
        text = page.text
        assert ("7 records still waiting on 2 phones" in text) or (
            "还有 7 条记录在 2 部手机上等待上传" in text
        ), text[text.find('id="dash-phones"') - 10 : text.find('id="dash-phones"') + 200]
    finally:
        await sql.execute("DELETE FROM outbox_heartbeat")
    page = await street.get("/dashboard")
    assert "7 records" not in page.text and "7 条记录" not in page.text


async def test_leader_home_shows_todays_numbers_with_their_as_of_time(as_user):
    leader = await as_user("leader")
    home = await leader.get("/")
    assert home.status_code == 200
    assert ("Today's numbers" in home.text) or ("今日数据" in home.text)
    assert 'class="dash-panel"' in home.text
    grid = await as_user("grid")
    assert 'class="dash-panel"' not in (await grid.get("/")).text
