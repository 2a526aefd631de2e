"""Petition cases, second pass: the global bell and /notifications, publicity events, the 存量
baseline and its reduction ratio, report-up from a visit, due dates filtered in SQL."""

from __future__ import annotations

import re


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
        " 'bell-test', 'high', '铃铛测试预警', '{}'::jsonb, now(), '') RETURNING id", path + "x/")
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
    # a department user sees no warnings (not theirs), only their own notices
    dept = await as_user("dept")
    assert (await dept.get("/notifications")).status_code == 200
    assert "铃铛测试预警" not in (await dept.get("/notifications")).text
