"""Mediation corrections over HTTP: the author corrects for 24 hours (and after a send-back),
every change audited, roll-up days marked; afterwards read-only (422); out of scope 404."""

from __future__ import annotations

import json
from datetime import date, timedelta

from app.services.field import today as beijing_today
from tests.integration.test_field_work import mediation_form


async def _open(s, **over) -> tuple[int, dict]:
    data = mediation_form(**over)
    created = await s.post_form("/mediations", data)
    assert created.status_code == 303
    return int(created.headers["location"].rsplit("/", 1)[1]), data


async def test_author_corrects_a_mediation_within_24_hours_audited_and_marked(as_user, sql):
    s = await as_user("community")
    # Days no other test writes on (Beijing), so the roll-up marks are ours.
    mediation_id, data = await _open(s, held_at="2026-09-11T10:00")
    page = await s.get(f"/mediations/{mediation_id}")
    assert f'href="/mediations/{mediation_id}/edit"' in page.text
    form = await s.get(f"/mediations/{mediation_id}/edit")
    assert form.status_code == 200
    assert "楼上深夜噪音" in form.text and "赵敏" in form.text and "孙调解" in form.text
    assert 'name="outcome"' not in form.text  # the outcome is not corrected here
    path = await sql.fetchval("SELECT unit_path FROM mediation WHERE id = $1", mediation_id)
    before = await sql.fetchval("SELECT clock_timestamp()")
    fixed = {
        **data,
        "held_at": "2026-09-12T10:00",
        "summary": "楼上深夜噪音（更正）",
        "parties-1-name": "钱诚",
        "outcome": "failed",  # ignored: a correction keeps the outcome
    }
    answer = await s.post_form(f"/mediations/{mediation_id}/edit", fixed)
    assert answer.status_code == 303, answer.text
    row = await sql.fetchrow("SELECT * FROM mediation WHERE id = $1", mediation_id)
    assert row["summary"] == "楼上深夜噪音（更正）" and row["outcome"] == "in_progress"
    assert [p["name"] for p in json.loads(row["parties"])] == ["赵敏", "钱诚"]
    event = await sql.fetchrow(
        "SELECT * FROM audit_event WHERE action = 'mediation.correct' AND object_id = $1",
        str(mediation_id),
    )
    changed = json.loads(event["detail"])
    assert set(changed) == {"held_at", "summary", "parties"}
    assert changed["summary"] == ["楼上深夜噪音", "楼上深夜噪音（更正）"]
    for day in (date(2026, 9, 11), date(2026, 9, 12)):
        marked = await sql.fetchval(
            "SELECT marked_at FROM rollup_dirty WHERE unit_path = $1 AND day = $2", path, day
        )
        assert marked is not None and marked >= before

    bad = await s.post_form(
        f"/mediations/{mediation_id}/edit", {**fixed, "summary": "", "parties-0-name": ""}
    )
    assert bad.status_code == 422
    assert "此项为必填项" in bad.text and "孙调解" in bad.text

    await sql.execute(
        "UPDATE mediation SET created_at = now() - interval '25 hours' WHERE id = $1", mediation_id
    )
    detail = await s.get(f"/mediations/{mediation_id}")
    assert f"/mediations/{mediation_id}/edit" not in detail.text
    late_form = await s.get(f"/mediations/{mediation_id}/edit")
    assert late_form.status_code == 422 and "24 小时" in late_form.text
    late = await s.post_form(f"/mediations/{mediation_id}/edit", {**fixed, "summary": "太晚了"})
    assert late.status_code == 422 and "24 小时" in late.text
    assert await sql.fetchval("SELECT summary FROM mediation WHERE id = $1", mediation_id) == (
        "楼上深夜噪音（更正）"
    )


async def test_after_a_send_back_the_author_corrects_a_closed_agreement(as_user, sql):
    s = await as_user("community")
    signed = beijing_today()
    mediation_id, data = await _open(
        s,
        outcome="agreed_written",
        facts="夜间噪音",
        responsibilities="钱程负主要责任",
        agreement_terms="晚十点后不再装修",
        performance_method="自觉履行",
        performance_due=str(signed + timedelta(days=14)),
        agreement_signed_on=str(signed),
    )
    archive_no = await sql.fetchval("SELECT archive_no FROM mediation WHERE id = $1", mediation_id)
    street = await as_user("street")
    back = await street.post_form(
        f"/mediations/{mediation_id}/review",
        {"action": "returned", "review_comment": "履行期限写错了"},
    )
    assert back.status_code == 303
    await sql.execute(
        "UPDATE mediation SET created_at = now() - interval '3 days' WHERE id = $1", mediation_id
    )
    missing = await s.post_form(f"/mediations/{mediation_id}/edit", {**data, "agreement_terms": ""})
    assert missing.status_code == 422 and "此调解结果需要填写此项" in missing.text
    due = signed + timedelta(days=20)
    fixed = await s.post_form(
        f"/mediations/{mediation_id}/edit", {**data, "performance_due": str(due)}
    )
    assert fixed.status_code == 303, fixed.text
    row = await sql.fetchrow("SELECT * FROM mediation WHERE id = $1", mediation_id)
    assert row["performance_due"] == due and row["review_state"] == "pending"
    assert row["archive_no"] == archive_no and row["outcome"] == "agreed_written"
    task_due = await sql.fetchval(
        "SELECT due FROM follow_up_task WHERE source_type = 'mediation' AND source_id = $1"
        " AND kind = 'performance'",
        mediation_id,
    )
    assert task_due == due
    ok = await street.post_form(
        f"/mediations/{mediation_id}/review", {"action": "reviewed", "review_comment": "好"}
    )
    assert ok.status_code == 303
    reviewed = await s.post_form(f"/mediations/{mediation_id}/edit", data)
    assert reviewed.status_code == 422 and "已审阅" in reviewed.text


async def test_only_the_author_corrects_and_out_of_scope_is_404(as_user, sql):
    s = await as_user("community")
    mediation_id, data = await _open(s)
    street = await as_user("street")  # sees it (in scope) but did not log it
    assert (await street.get(f"/mediations/{mediation_id}")).status_code == 200
    other = await street.post_form(f"/mediations/{mediation_id}/edit", {**data, "summary": "他人"})
    assert other.status_code == 422 and "只有记录人" in other.text
    outsider = await as_user("grid2")
    assert (await outsider.get(f"/mediations/{mediation_id}/edit")).status_code == 404
    assert (await outsider.post_form(f"/mediations/{mediation_id}/edit", data)).status_code == 404
    assert await sql.fetchval("SELECT summary FROM mediation WHERE id = $1", mediation_id) == (
        "楼上深夜噪音"
    )
