"""Petition cases, second pass: the global bell and /notifications, publicity events, the 存量
baseline and its reduction ratio, report-up from a visit, due dates filtered in SQL."""

from __future__ import annotations

import re

from tests.integration.test_cases_flow import _unit, register
from tests.support import new_uuid


async def _rollups_dirty(sql, ids) -> None:
    """After moving cases' dates by SQL: mark their roll-up buckets (today and every day they
    now touch) dirty, as the app does on writes, so the roll-ups stay equal to the rows."""
    await sql.execute(
        "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
        " SELECT x.unit_path, x.day, clock_timestamp() FROM (SELECT DISTINCT c.unit_path, d.day"
        " FROM petition_case c,"
        " LATERAL (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date AS day"
        "  UNION SELECT (c.received_at AT TIME ZONE 'Asia/Shanghai')::date"
        "  UNION SELECT (e.at AT TIME ZONE 'Asia/Shanghai')::date FROM case_event e"
        "  WHERE e.\"case\" = c.id) d WHERE c.id = ANY($1)) x"
        " ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at", list(ids))


async def _mark_today(sql, unit_path: str) -> None:
    await sql.execute(
        "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
        " VALUES ($1, (now() AT TIME ZONE 'Asia/Shanghai')::date, clock_timestamp())"
        " ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at", unit_path)


def _bell_count(html: str) -> int:
    m = re.search(r'class="bell-count"[^>]*>(\d+)<', html)
    assert m, html
    return int(m.group(1))


async def test_bell_in_every_page_counts_notices_and_open_warnings(as_user, sql):
    leader = await as_user("leader")
    home = await leader.get("/")
    assert 'hx-get="/notifications/bell"' in home.text
    assert 'hx-trigger="load, every 60s"' in home.text
    assert 'id="outbox-badge"' in home.text
    uid = await sql.fetchval("SELECT id FROM app_user WHERE username = 'leader'")
    path = await sql.fetchval(
        "SELECT un.path FROM app_user u JOIN unit un ON un.id = u.unit WHERE u.id = $1", uid)
    before = _bell_count((await leader.get("/notifications/bell")).text)
    await sql.execute(
        'INSERT INTO notification ("user", kind, message, dedup_key, created_at)'
        " VALUES ($1, 'Deadline passed', '铃铛测试通知', $2, now())", uid, f"bell-test-{uid}")
    wid = await sql.fetchval(
        "INSERT INTO warning (kind, unit_path, subject_type, subject_id, period, level, message,"
        " evidence, created_at, handled_note) VALUES ('group_matter', $1, 'test', 'bell',"
        " 'bell-test', 'high', '铃铛测试预警', '{}'::jsonb, now(), '') RETURNING id", path)
    await _mark_today(sql, path)
    try:
        assert _bell_count((await leader.get("/notifications/bell")).text) == before + 2
        page = await leader.get("/notifications")
        assert page.status_code == 200
        assert "铃铛测试通知" in page.text and "铃铛测试预警" in page.text
        assert (await leader.post_form("/notifications/read", {})).status_code in (200, 303)
        open_warnings = await sql.fetchval(
            "SELECT count(*) FROM warning WHERE unit_path LIKE $1 || '%' AND handled_at IS NULL",
            path)
        # all notices read: the bell counts exactly the open warnings in scope
        assert _bell_count((await leader.get("/notifications/bell")).text) == open_warnings
        # handled warnings leave the bell
        await sql.execute("UPDATE warning SET handled_at = now() WHERE id = $1", wid)
        assert _bell_count((await leader.get("/notifications/bell")).text) == open_warnings - 1
        assert "铃铛测试预警" not in (await leader.get("/notifications")).text
    finally:
        await sql.execute("DELETE FROM warning WHERE id = $1", wid)
        await _mark_today(sql, path)
    # a department user sees no warnings (not theirs), only their own notices
    dept = await as_user("dept")
    assert (await dept.get("/notifications")).status_code == 200
    assert "铃铛测试预警" not in (await dept.get("/notifications")).text


async def _visits_in_and_out(as_user):
    async def log(username):
        s = await as_user(username)
        r = await s.post_json("/api/v1/visits", {
            "client_uuid": new_uuid(), "address": "幸福小区3栋", "summary": "楼道堆物引发邻里纠纷"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    return await log("grid"), await log("grid2")


async def test_report_up_from_a_visit_reaches_the_desk_queue_linked_to_the_visit(as_user, sql):
    grid = await as_user("grid")
    inside, outside = await _visits_in_and_out(as_user)
    assert inside and outside
    page = await grid.get(f"/visits/{inside}")
    assert f'href="/cases/report?visit_id={inside}"' in page.text
    form = await grid.get(f"/cases/report?visit_id={inside}")
    assert form.status_code == 200
    assert (await grid.get(f"/cases/report?visit_id={outside}")).status_code == 404
    r = await grid.post_json("/api/v1/cases/report", {
        "visit_id": inside, "channel": "visit", "petitioner_name": "上报人",
        "petitioner_phone": "13900001111", "content": "走访发现：楼道堆物引发邻里纠纷，需要上报"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    row = await sql.fetchrow("SELECT source_visit_id, state FROM petition_case WHERE id = $1", cid)
    assert row["source_visit_id"] == inside and row["state"] == "registered"
    assert await sql.fetchval("SELECT reported_up FROM visit WHERE id = $1", inside)
    desk = await as_user("desk")
    queue = (await desk.get("/api/v1/cases?state=registered")).json()["items"]
    assert cid in [c["id"] for c in queue]
    # out of scope: 404 and nothing stored
    before = await sql.fetchval("SELECT count(*) FROM petition_case")
    r = await grid.post_json("/api/v1/cases/report", {
        "visit_id": outside, "channel": "visit", "petitioner_name": "越权",
        "content": "不在本网格的走访"})
    assert r.status_code == 404
    r = await grid.post_form("/cases/report", {
        "visit_id": str(outside), "channel": "visit", "petitioner_name": "越权",
        "content": "不在本网格的走访"})
    assert r.status_code == 404
    assert await sql.fetchval("SELECT count(*) FROM petition_case") == before
    # missing visit id: 422 per field; other roles cannot report up
    r = await grid.post_json("/api/v1/cases/report", {"channel": "visit"})
    assert r.status_code == 422 and "visit_id" in r.json()["errors"]
    r = await desk.post_json("/api/v1/cases/report", {"visit_id": inside})
    assert r.status_code in (403, 404)


async def test_baseline_count_and_reduction_ratio_with_numbers(as_user, sql):
    desk = await as_user("desk")
    ids = [(await register(desk, sql, content=f"存量基数测试 {i}"))["id"] for i in range(5)]
    # all received in December 2001 (no other matter is that old)
    await sql.execute(
        "UPDATE petition_case SET received_at = '2001-12-01 09:00+08' WHERE id = ANY($1)", ids)
    await sql.execute(
        "UPDATE case_event SET at = '2001-12-01 09:00+08' WHERE \"case\" = ANY($1)", ids)

    async def close(cid, at):
        await sql.execute(
            "INSERT INTO case_event (\"case\", kind, at, role, data)"
            " VALUES ($1, 'close', $2::text::timestamptz, 'front_desk', '{}'::jsonb)", cid, at)
        await sql.execute("UPDATE petition_case SET state = 'closed' WHERE id = $1", cid)

    # one resolved before the baseline date (not in the stock), one received after it
    await close(ids[0], "2001-12-20 10:00+08")
    await sql.execute(
        "UPDATE petition_case SET received_at = '2002-01-05 09:00+08' WHERE id = $1", ids[1])
    leader = await as_user("leader")
    r = await leader.post_form("/lists/baseline", {"baseline_on": "2001-12-31", "note": "测试"})
    assert r.status_code == 303, r.text
    stored = await sql.fetchrow("SELECT * FROM list_baseline WHERE baseline_on = '2001-12-31'")
    assert stored["count"] == 3  # ids[2], ids[3], ids[4] were open at the end of 2001-12-31
    # one of the three resolved since: 1 / 3 = 33.3 %
    await close(ids[2], "2002-02-01 10:00+08")
    page = (await leader.get("/lists")).text
    assert 'id="baseline-count">3<' in page
    assert 'id="baseline-resolved">1<' in page
    assert 'id="baseline-ratio">33.3%<' in page
    await close(ids[3], "2002-03-01 10:00+08")
    await _rollups_dirty(sql, ids)
    assert 'id="baseline-ratio">66.7%<' in (await leader.get("/lists")).text
    # validation and who may set it
    r = await leader.post_form("/lists/baseline", {"baseline_on": "2999-01-01"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    r = await leader.post_form("/lists/baseline", {"baseline_on": ""})
    assert r.status_code == 422
    street = await as_user("street")
    r = await street.post_form("/lists/baseline", {"baseline_on": "2001-12-31"})
    assert r.status_code == 403
    assert "/lists/baseline" not in (await street.get("/lists")).text
    await sql.execute("DELETE FROM list_baseline WHERE baseline_on = '2001-12-31'")


async def test_publicity_events_log_add_list_validate_scope(as_user, sql):
    street = await as_user("street")
    page = await street.get("/lists/publicity")
    assert page.status_code == 200
    r = await street.post_form("/lists/publicity", {
        "held_on": "", "place": "", "audience_count": "-3", "unit_id": "abc"})
    assert r.status_code == 422
    for name in ("held_on", "place", "audience_count", "unit_id"):
        assert f'id="{name}-error"' in r.text, name
    other_street = await _unit(sql, "DZ-C1")
    r = await street.post_form("/lists/publicity", {
        "held_on": "2026-10-01", "place": "东盛广场", "audience_count": "120",
        "unit_id": str(other_street)})
    assert r.status_code == 422 and 'id="unit_id-error"' in r.text
    r = await street.post_form("/lists/publicity", {
        "held_on": "2099-10-01", "place": "东盛广场", "audience_count": "120",
        "unit_id": str(await _unit(sql, "DS-C1"))})
    assert r.status_code == 422 and 'id="held_on-error"' in r.text
    r = await street.post_form("/lists/publicity", {
        "held_on": "2026-10-01", "place": "东盛广场普法宣传", "audience_count": "120",
        "unit_id": str(await _unit(sql, "DS-C1")), "note": "《信访工作条例》宣讲"})
    assert r.status_code == 303, r.text
    assert "东盛广场普法宣传" in (await street.get("/lists/publicity")).text
    # another street's leader does not see it; departments have no access
    grid2 = await as_user("grid2")
    assert "东盛广场普法宣传" not in (await grid2.get("/lists/publicity")).text
    dept = await as_user("dept")
    assert (await dept.get("/lists/publicity")).status_code == 403


async def test_six_keys_are_tags_and_filters_and_first_time_rate_shown(as_user, sql):
    desk = await as_user("desk")
    c = await register(desk, sql, tags=["to_beijing", "prominent"])
    listing = await desk.get("/cases")
    for key in ("to_beijing", "backlog", "first_time", "risk", "publicity", "prominent"):
        assert f'name="tags" value="{key}"' in listing.text
    got = (await desk.get("/api/v1/cases?tags=to_beijing&tags=prominent")).json()["items"]
    assert c["id"] in [x["id"] for x in got]
    got = (await desk.get("/api/v1/cases?tags=backlog")).json()["items"]
    assert c["id"] not in [x["id"] for x in got]
    await register(desk, sql, tags=["first_time"])
    assert "one-time resolution" in (await desk.get("/lists?lang=en")).text or \
        "一次性化解" in (await desk.get("/lists")).text


async def test_next_due_stored_on_events_and_filters_run_in_sql(as_user, sql):
    from tests.integration.test_cases_flow import _dept, act

    desk = await as_user("desk")
    c = await register(desk, sql, content="时限字段测试：屋顶漏水")
    cid = c["id"]

    async def stored():
        return await sql.fetchrow(
            "SELECT next_due_on, next_due_clock FROM petition_case WHERE id = $1", cid)

    async def listed(query):
        items = (await desk.get(f"/api/v1/cases?q={c['number']}&{query}")).json()["items"]
        return [x for x in items if x["id"] == cid]

    row = await stored()
    shown = (await listed(""))[0]["next_deadline"]  # computed by the domain for display
    assert row["next_due_clock"] == "dispatch" == shown["clock"]
    assert row["next_due_on"].isoformat() == shown["due_on"]
    r = await act(desk, cid, "transfer", lead=str(await _dept(sql, "ZJ")))
    assert r.status_code == 200, r.text
    row = await stored()
    shown = (await listed(""))[0]["next_deadline"]
    assert row["next_due_clock"] not in ("", "dispatch", None)
    assert (row["next_due_clock"], row["next_due_on"].isoformat()) == (
        shown["clock"], shown["due_on"])
    assert not await listed("overdue=1")
    # a row never computed (older rows, imports) is filled lazily from its events
    await sql.execute(
        "UPDATE case_event SET at = at - interval '80 days' WHERE \"case\" = $1", cid)
    await _rollups_dirty(sql, [cid])
    await sql.execute(
        "UPDATE petition_case SET next_due_clock = NULL, next_due_on = NULL WHERE id = $1", cid)
    assert await listed("overdue=1")
    assert (await stored())["next_due_clock"]
    assert not await listed("due_soon=1")
    # the filters read the stored column: due tomorrow is due soon, not overdue
    await sql.execute(
        "UPDATE petition_case SET next_due_on = (now() AT TIME ZONE 'Asia/Shanghai')::date + 1"
        " WHERE id = $1", cid)
    assert await listed("due_soon=1")
    assert not await listed("overdue=1")
    await sql.execute("UPDATE petition_case SET next_due_on = NULL, next_due_clock = ''"
                      " WHERE id = $1", cid)
    assert not await listed("due_soon=1") and not await listed("overdue=1")
    assert await listed("")


async def test_dispatch_to_a_street_office_its_leaders_see_and_act(as_user, sql, servers):
    from tests.integration.test_cases_flow import _compute_notifications, _dept, act

    desk = await as_user("desk")
    # a matter that arose in another street (DZ) is sent to the DS street office
    case = await register(desk, sql, street="DZ", content="跨街道事项：农贸市场噪音扰民")
    cid = case["id"]
    ds = await sql.fetchval("SELECT id FROM unit WHERE code = 'DS'")
    street = await as_user("street")
    assert (await street.get(f"/cases/{cid}")).status_code == 404
    page = await desk.get(f"/cases/{cid}")
    assert f'value="u{ds}"' in page.text  # offered as a competent body
    r = await act(desk, cid, "transfer", lead=f"u{ds}", co_handlers=[str(await _dept(sql, "ZJ"))])
    assert r.status_code == 200, r.text
    body = await sql.fetchrow(
        "SELECT department, unit FROM case_body WHERE \"case\" = $1 AND role = 'lead'", cid)
    assert body["unit"] == ds and body["department"] is None
    lead_department = await sql.fetchval(
        "SELECT lead_department FROM petition_case WHERE id = $1", cid)
    assert lead_department is None
    # the street leader now sees it and acts for the street office; the dispatch is complete
    # only when the co-handling department acknowledges too (Art. 24)
    detail = await street.get(f"/api/v1/cases/{cid}")
    assert detail.status_code == 200
    assert any(b["body_id"] == f"u{ds}" and b["name"] for b in detail.json()["bodies"])
    r = await act(street, cid, "acknowledge")
    assert r.status_code == 200, r.text
    assert await sql.fetchval(
        "SELECT acknowledged_at IS NOT NULL FROM case_body WHERE \"case\" = $1 AND unit = $2",
        cid, ds)
    r = await act(street, cid, "accept")
    assert r.status_code == 422 and r.json()["key"] == "case.refused.dispatch_incomplete"
    dept = await as_user("dept")
    assert (await act(dept, cid, "acknowledge")).status_code == 200
    r = await act(street, cid, "accept")
    assert r.status_code == 200, r.text
    r = await act(street, cid, "note", text="街道组织现场核查")
    assert r.status_code == 200 and r.json()["state"] == "in_progress"
    # the co-handling department is not the lead: it cannot write the opinion
    r = await act(dept, cid, "note", text="越位")
    assert r.status_code == 422
    # another street's people still cannot see it
    grid2 = await as_user("grid2")
    assert (await grid2.get(f"/cases/{cid}")).status_code == 404
    # overdue: the street office's leaders are told (not the desk)
    await sql.execute(
        "UPDATE case_event SET at = at - interval '120 days' WHERE \"case\" = $1", cid)
    await _rollups_dirty(sql, [cid])
    _compute_notifications(servers)
    told = await sql.fetch(
        'SELECT u.username FROM notification n JOIN app_user u ON u.id = n."user"'
        ' WHERE n."case" = $1', cid)
    assert "street" in {r["username"] for r in told}
    assert "desk" not in {r["username"] for r in told}


async def test_the_lists_count_days_and_months_in_beijing(as_user, sql, monkeypatch):
    from datetime import UTC, datetime

    from app.services import field

    desk = await as_user("desk")
    inside = await register(desk, sql, content="北京时间4月1日零点半登记")
    before = await register(desk, sql, content="北京时间3月31日23点半登记")
    # 16:30 UTC on 31 March is 00:30 on 1 April in Beijing; 15:30 UTC is 23:30 on 31 March
    for case, moment in ((inside, "2031-03-31 16:30+00"), (before, "2031-03-31 15:30+00")):
        await sql.execute(
            "UPDATE petition_case SET received_at = $1::text::timestamptz WHERE id = $2",
            moment,
            case["id"],
        )
    # 17:00 UTC on 31 March is 01:00 on 1 April in Beijing: the default range is 1 April
    monkeypatch.setattr(field, "now", lambda: datetime(2031, 3, 31, 17, 0, tzinfo=UTC))
    page = (await (await as_user("leader")).get("/lists")).text
    assert 'name="from" type="date" value="2031-04-01"' in page
    assert 'name="to" type="date" value="2031-04-01"' in page
    assert f">{inside['number']}<" in page and f">{before['number']}<" not in page
