"""The risk register: validation, scope (404), status history, filters, the open-risks list."""

from __future__ import annotations

from tests.integration import platform_helpers as h


async def _new(s, sql, **fields):
    unit = await h.unit_of(sql, "DS-C1-G1")
    body = {
        "title": "小区消防通道被占用",
        "category": "fire",
        "level": "high",
        "unit_id": unit["id"],
        "place": "幸福小区3栋",
        "measures": "通知物业清理",
        "owner": "王主任",
        "deadline": "2030-01-31",
        **fields,
    }
    r = await s.post_form("/risks", body)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


async def test_validation_is_422_per_field_and_keeps_what_was_typed(as_user, sql):
    s = await as_user("grid")
    other = await h.unit_of(sql, "DZ-C1-G1")
    r = await s.post_form(
        "/risks",
        {
            "title": "电动车楼道充电<b>",
            "category": "flood",
            "level": "",
            "unit_id": other["id"],
            "deadline": "31/01/2030",
            "source_visit_id": "abc",
        },
    )
    assert r.status_code == 422
    for name in ("category", "level", "unit_id", "deadline", "source_visit_id"):
        assert f'id="{name}-error"' in r.text, name
    assert "电动车楼道充电&lt;b&gt;" in r.text
    assert "31/01/2030" in r.text
    r = await s.post_form("/risks", {})
    assert r.status_code == 422 and 'id="title-error"' in r.text


async def test_create_detail_status_history_and_scope(as_user, sql):
    grid, grid2, street = await as_user("grid"), await as_user("grid2"), await as_user("street")
    risk_id = await _new(grid, sql)
    assert (
        await sql.fetchval("SELECT unit_path FROM risk WHERE id = $1", risk_id)
        == (await h.unit_of(sql, "DS-C1-G1"))["path"]
    )
    page = await street.get(f"/risks/{risk_id}")
    assert page.status_code == 200 and "小区消防通道被占用" in page.text
    assert (await grid2.get(f"/risks/{risk_id}")).status_code == 404
    r = await grid2.post_form(f"/risks/{risk_id}/status", {"status": "closed"})
    assert r.status_code == 404
    assert (await grid.post_form(f"/risks/{risk_id}/status", {"status": "gone"})).status_code == 422
    r = await grid.post_form(f"/risks/{risk_id}/status", {"status": "controlled", "note": "已清理"})
    assert r.status_code == 303
    events = await sql.fetch(
        "SELECT from_status, to_status FROM risk_event WHERE risk = $1 ORDER BY id", risk_id
    )
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("", "open"),
        ("open", "controlled"),
    ]
    assert "已清理" in (await grid.get(f"/risks/{risk_id}")).text
    # desk and departments do not use the register
    assert (await (await as_user("desk")).get("/risks")).status_code == 403


async def test_from_a_visit_and_list_filters(as_user, sql):
    grid, grid2 = await as_user("grid"), await as_user("grid2")
    visit = await h.add_visit(sql, "DS-C1-G1", "发现楼道内私拉电线")
    foreign = await h.add_visit(sql, "DZ-C1-G1", "走访")
    assert f'value="{visit}"' in (await grid.get(f"/risks/new?visit_id={visit}")).text
    risk_id = await _new(
        grid, sql, title="私拉电线隐患", category="security", source_visit_id=visit
    )
    assert await sql.fetchval("SELECT source_visit_id FROM risk WHERE id = $1", risk_id) == visit
    r = await grid.post_form(
        "/risks",
        {
            "title": "x",
            "category": "fire",
            "level": "low",
            "unit_id": (await h.unit_of(sql, "DS-C1-G1"))["id"],
            "source_visit_id": foreign,
        },
    )
    assert r.status_code == 422 and 'id="source_visit_id-error"' in r.text
    listing = await grid.get("/risks?category=security")
    assert "私拉电线隐患" in listing.text and "小区消防通道被占用" not in listing.text
    assert "私拉电线隐患" not in (await grid2.get("/risks")).text
    assert (await grid.get("/risks?status=bogus&level=zzz")).status_code == 200


async def test_open_risks_is_the_variables_list_in_scope(as_user, sql, servers):
    import asyncio
    import subprocess
    import sys

    from tests.support import ROOT

    grid = await as_user("grid")
    closed = await _new(grid, sql, title="已关闭的隐患")
    await grid.post_form(f"/risks/{closed}/status", {"status": "closed"})
    code = (
        "import asyncio\n"
        "from app import db\n"
        "from app.domain.roles import Scope\n"
        "from app.services import risks\n"
        "async def main():\n"
        "    db.configure({!r})\n"
        "    await db.open_pool()\n"
        "    try:\n"
        "        for path in ({!r}, {!r}):\n"
        "            rows = await risks.open_risks(Scope(1, 'street_leader', 1, path))\n"
        "            print(sorted(r['id'] for r in rows))\n"
        "    finally:\n"
        "        await db.close_pool()\n"
        "asyncio.run(main())\n"
    ).format(
        servers.database_url,
        (await h.unit_of(sql, "DS"))["path"],
        (await h.unit_of(sql, "DZ"))["path"],
    )
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    ds, dz = out.stdout.strip().splitlines()[-2:]
    ds_ids = eval(ds)  # noqa: S307  (our own printed list)
    expected = await sql.fetch(
        "SELECT id FROM risk WHERE status <> 'closed' AND unit_path LIKE $1 || '%' ORDER BY id",
        (await h.unit_of(sql, "DS"))["path"],
    )
    assert ds_ids == [r["id"] for r in expected]
    assert closed not in ds_ids
    assert not set(ds_ids) & set(eval(dz))  # noqa: S307


async def test_overdue_means_past_its_deadline_in_beijing(as_user, sql, monkeypatch):
    from datetime import UTC, datetime

    from app.services import field

    # 17:00 UTC on 4 March is 01:00 on 5 March in Beijing
    monkeypatch.setattr(field, "now", lambda: datetime(2031, 3, 4, 17, 0, tzinfo=UTC))
    grid = await as_user("grid")
    await _new(grid, sql, title="昨日到期的隐患", deadline="2031-03-04")
    await _new(grid, sql, title="今日到期的隐患", deadline="2031-03-05")
    listing = (await grid.get("/risks?overdue=1")).text
    assert "昨日到期的隐患" in listing and "今日到期的隐患" not in listing
