"""Early warnings: the rules over stored records, idempotent (run twice -> same rows), counted
in the roll-ups, listed in scope, acknowledged and handled (422 without a note, 404 outside)."""

from __future__ import annotations

import json

from tests.integration import platform_helpers as h

CODE = """
import asyncio, json
from app import db
from app.services import warnings
async def main():
    db.configure({url!r})
    await db.open_pool()
    try:
        print(json.dumps(await warnings.evaluate()))
    finally:
        await db.close_pool()
asyncio.run(main())
"""


async def _evaluate(servers) -> dict:
    return await h.run_with_db(servers, CODE)


async def _case(desk, sql, code, name, phone, group=1, content="反映小区供暖问题") -> int:
    """A matter registered by the front desk through the cases API (with its events)."""
    unit = await h.unit_of(sql, code)
    r = await desk.post_json(
        "/api/v1/cases",
        {
            "channel": "visit",
            "petitioner_name": name,
            "petitioner_phone": phone,
            "group_size": group,
            **({"representatives": 3} if group >= 5 else {}),
            "unit_id": unit["id"],
            "category": "供暖",
            "content": content,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_rules_run_twice_give_the_same_rows(as_user, sql, servers):
    started = await sql.fetchval("SELECT now()")
    desk = await as_user("desk")
    repeat = [await _case(desk, sql, "DS-C1-G1", "预警甲", "13700000001") for _ in range(3)]
    group = await _case(desk, sql, "DS-C1-G1", "预警乙", "13700000002", group=12)
    small = await _case(desk, sql, "DS-C1-G1", "预警丙", "13700000003", group=4)
    visit = await h.add_visit(sql, "DS-C1-G1", "他说不想活了")
    await sql.execute(
        "INSERT INTO text_analysis (table_name, record_id, emotion, intensity, signals,"
        " analysed_at) VALUES ('visit', $1, 'sadness', 0.9,"
        ' \'[{"kind": "self_harm", "phrase": "不想活了"}]\', now())',
        visit,
    )
    first = await _evaluate(servers)
    # the live browser-test worker shares this database and runs the same rules every ten
    # minutes: the warnings about our matters are new since the test began, whichever run
    # created them (so ``first["new"]`` may count fewer)
    rows = await sql.fetch("SELECT * FROM warning WHERE created_at >= $1 ORDER BY id", started)
    keys = {(r["kind"], r["subject_type"], r["subject_id"]) for r in rows}
    assert ("group_matter", "petition_case", str(group)) in keys
    assert ("group_matter", "petition_case", str(small)) not in keys
    assert ("extreme_signal", "visit", str(visit)) in keys
    # Other tests of the session register matters too: look at the warnings about ours.
    rep = [
        r
        for r in rows
        if r["kind"] == "repeat_petitioner"
        and set(repeat) & {e["id"] for e in json.loads(r["evidence"])}
    ]
    assert len(rep) == 1
    assert sorted(e["id"] for e in json.loads(rep[0]["evidence"])) == sorted(repeat)
    assert "预警甲" not in rep[0]["subject_id"]
    second = await _evaluate(servers)
    assert second["new"] == 0 and second["found"] == first["found"]
    again = await sql.fetch(
        "SELECT id, kind, subject_id, period FROM warning WHERE created_at >= $1 ORDER BY id",
        started,
    )
    assert [tuple(r) for r in again] == [
        (r["id"], r["kind"], r["subject_id"], r["period"]) for r in rows
    ]
    # counted in the roll-ups: the new warnings marked their buckets dirty or are rolled up
    marked = await sql.fetchval(
        "SELECT count(*) FROM rollup_dirty WHERE unit_path = $1",
        (await h.unit_of(sql, "DS-C1-G1"))["path"],
    )
    rolled = await sql.fetchval(
        "SELECT count(*) FROM rollup_own WHERE metrics ? 'warnings_new'"
        " AND (metrics->>'warnings_new')::int > 0"
    )
    assert marked or rolled


async def test_list_acknowledge_handle_and_scope(as_user, sql, servers):
    await _case(await as_user("desk"), sql, "DS-C1-G2", "预警丁", "13700000009", group=8)
    await _evaluate(servers)
    wid = await sql.fetchval(
        "SELECT id FROM warning WHERE kind = 'group_matter' AND unit_path = $1",
        (await h.unit_of(sql, "DS-C1-G2"))["path"],
    )
    street, grid2, community = (
        await as_user("street"),
        await as_user("grid2"),
        await as_user("community"),
    )
    listing = await street.get("/warnings?state=open&kind=group_matter")
    assert listing.status_code == 200 and f'id="w-{wid}"' in listing.text
    assert f'id="w-{wid}"' not in (await grid2.get("/warnings")).text
    assert (await grid2.post_form(f"/warnings/{wid}/acknowledge", {})).status_code == 404
    assert (await grid2.post_form(f"/warnings/{wid}/handle", {"note": "x"})).status_code == 404
    assert (await street.get("/warnings?kind=zzz&level=1&state=?")).status_code == 200
    home = await street.get("/")
    assert "/warnings?state=open" in home.text

    r = await community.post_form(f"/warnings/{wid}/acknowledge", {})
    assert r.status_code == 303
    row = await sql.fetchrow("SELECT * FROM warning WHERE id = $1", wid)
    assert row["acknowledged_at"] is not None and row["handled_at"] is None
    r = await street.post_form(f"/warnings/{wid}/handle", {"note": "  "})
    assert r.status_code == 422 and f'id="note-{wid}-error"' in r.text
    r = await street.post_form(f"/warnings/{wid}/handle", {"note": "已约谈牵头人，诉求转住建局"})
    assert r.status_code == 303
    row = await sql.fetchrow("SELECT * FROM warning WHERE id = $1", wid)
    assert row["handled_note"] == "已约谈牵头人，诉求转住建局"
    assert row["acknowledged_by"] == await h.user_id(sql, "community")
    assert row["handled_by"] == await h.user_id(sql, "street")
    assert "已约谈牵头人" in (await street.get("/warnings?state=handled")).text
    assert await sql.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'warning.handle' AND object_id = $1",
        str(wid),
    )
    # handled warnings stay handled when the rules run again
    await _evaluate(servers)
    assert (await sql.fetchrow("SELECT handled_at FROM warning WHERE id = $1", wid))["handled_at"]


FORECAST_CODE = """
import asyncio, json
from app import db
from app.domain import calendar
from app.domain.warnings import week_start
from app.services import forecast, warnings
async def main():
    db.configure({url!r})
    await db.open_pool()
    try:
        week = week_start(calendar.today())
        async def intervals():
            return {{({street}, "heating", week): (0.0, 0.5)}}
        forecast.latest_intervals = intervals
        found, _info = await warnings.drafts()
        evidence = [e for d in found if d.kind == "forecast_excess" for e in d.evidence]
        result = await warnings.evaluate()
        print(json.dumps({{**result, "evidence": evidence}}, default=str))
    finally:
        await db.close_pool()
asyncio.run(main())
"""


async def test_forecast_rule_uses_latest_intervals(sql, servers):
    street = await h.unit_of(sql, "DS")
    for _ in range(2):
        await h.add_visit(sql, "DS-C2-G1", "暖气不热，家里只有十五度")
    result = await h.run_with_db(servers, FORECAST_CODE, street=street["id"])
    assert result["forecast_rule"] is True
    # the rule read the intervals it was given: this week's heating bound for the street
    [heating] = [e for e in result["evidence"] if e["category"] == "heating"]
    assert heating["upper"] == 0.5 and heating["actual"] >= 2
    # and the warning is stored; its evidence is the latest evaluation's, and the worker's own
    # runs (every ten minutes, with the real forecasts) may have refreshed it since
    row = await sql.fetchrow(
        "SELECT * FROM warning WHERE kind = 'forecast_excess' AND unit_path = $1"
        " AND evidence::jsonb @> '[{\"category\": \"heating\"}]'",
        street["path"],
    )
    assert row is not None
    evidence = json.loads(row["evidence"])[0]
    assert evidence["category"] == "heating" and evidence["actual"] >= 2


async def test_contact_overdue_warning_names_the_person_masked(as_user, sql, servers):
    grid = await h.unit_of(sql, "DS-C1-G1")
    pid = await sql.fetchval(
        "INSERT INTO key_person (unit, unit_path, name, id_number, phone, category, risk_level,"
        " created_at, updated_at) VALUES ($1, $2, '欧阳预警', '220105196501019999',"
        " '13912349999', 'repeat', 'high', now() - interval '60 days', now())"
        " RETURNING id",
        grid["id"],
        grid["path"],
    )
    await _evaluate(servers)
    wid = await sql.fetchval(
        "SELECT id FROM warning WHERE kind = 'contact_overdue' AND subject_id = $1", str(pid)
    )
    assert wid is not None
    page = (await (await as_user("street")).get("/warnings?kind=contact_overdue")).text
    item = page[page.index(f'id="w-{wid}"') :]
    item = item[: item.index("</li>")]
    assert f'href="/key-persons/{pid}"' in item and "欧***" in item
    assert "欧阳预警" not in page and "13912349999" not in page
