"""Calls, mediations, follow-up tasks and households over HTTP, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import timedelta

import pytest
from openpyxl import Workbook

from app.services.field import today as beijing_today
from tests.support import new_uuid


def mediation_form(**over) -> dict:
    data = {
        "client_uuid": new_uuid(),
        "held_at": "2026-11-20T09:00",
        "dispute_type": "noise",
        "summary": "楼上深夜噪音",
        "parties-0-name": "赵敏",
        "parties-0-role": "applicant",
        "parties-0-phone": "13800000001",
        "parties-1-name": "钱程",
        "parties-1-role": "respondent",
        "mediators-0-name": "孙调解",
        "mediators-0-kind": "five_elders",
        "methods": ["law", "feeling"],
        "outcome": "in_progress",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


async def community_venue(sql) -> int:
    return await sql.fetchval("SELECT unit FROM app_user WHERE username = 'community'")


async def test_call_about_a_visit_closes_its_follow_up_task(as_user, sql):
    s = await as_user("grid")
    visit = await s.post_json(
        "/api/v1/visits",
        {
            "client_uuid": new_uuid(),
            "address": "回访路1号",
            "summary": "需回访",
            "follow_up_due": str(beijing_today()),
        },
    )
    visit_id = visit.json()["id"]
    tasks = await s.get("/tasks")
    assert f"subject_id={visit_id}" in tasks.text
    task_id = await sql.fetchval(
        "SELECT id FROM follow_up_task WHERE source_type = 'visit' AND source_id = $1", visit_id
    )
    page = await s.get(f"/calls/new?subject_type=visit&subject_id={visit_id}&task_id={task_id}")
    assert (
        page.status_code == 200 and "data-outbox" in page.text and 'hx-post="/calls"' in page.text
    )
    missed = await s.post_form(
        "/calls",
        {
            "client_uuid": new_uuid(),
            "subject_type": "visit",
            "subject_id": visit_id,
            "outcome": "no_answer",
        },
    )
    assert missed.status_code == 303
    assert await sql.fetchval("SELECT done_at FROM follow_up_task WHERE id = $1", task_id) is None
    data = {
        "client_uuid": new_uuid(),
        "subject_type": "visit",
        "subject_id": visit_id,
        "outcome": "reached",
        "satisfaction": "satisfied",
        "summary": "已解决",
        "task_id": task_id,
    }
    first, second = await asyncio.gather(
        s.post_form("/calls", data, htmx=True), s.post_form("/calls", data, htmx=True)
    )
    assert first.status_code == second.status_code == 200
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM call WHERE client_uuid = $1::uuid", data["client_uuid"]
        )
        == 1
    )
    task = await sql.fetchrow("SELECT * FROM follow_up_task WHERE id = $1", task_id)
    assert task["done_at"] is not None and task["done_by_type"] == "call"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("outcome", "", "此项为必填项"),
        ("outcome", "hung_up", "不是允许的选项"),
        ("subject_type", "neighbour", "不是允许的选项"),
        ("subject_id", "", "此项为必填项"),
        ("subject_id", "999999", "未找到"),
        ("subject_id", "x", "整数"),
        ("satisfaction", "thrilled", "不是允许的选项"),
        ("called_at", "2099-01-01T00:00", "不能是将来"),
        ("called_at", "now-ish", "日期和时间"),
    ],
)
async def test_call_bad_input_comes_back_422_with_the_message_and_typed_values(
    as_user, field, value, message
):
    s = await as_user("grid")
    data = {
        "client_uuid": new_uuid(),
        "subject_type": "visit",
        "subject_id": "1",
        "outcome": "reached",
        "summary": "随访记录原文",
        field: value,
    }
    response = await s.post_form("/calls", data, htmx=True)
    assert response.status_code == 422
    assert message in response.text and "随访记录原文" in response.text


async def test_satisfaction_only_for_a_reached_call(as_user):
    s = await as_user("grid")
    response = await s.post_json(
        "/api/v1/calls",
        {
            "client_uuid": new_uuid(),
            "subject_type": "household",
            "outcome": "no_answer",
            "satisfaction": "satisfied",
        },
    )
    assert response.status_code == 422 and "satisfaction" in response.json()["errors"]


async def test_calls_out_of_scope_answer_404(as_user):
    s = await as_user("grid")
    created = await s.post_json(
        "/api/v1/calls",
        {
            "client_uuid": new_uuid(),
            "subject_type": "key_person",
            "subject_id": 3,
            "outcome": "refused",
        },
    )
    assert created.status_code == 201
    other = await as_user("grid2")
    assert (await other.get(f"/calls/{created.json()['id']}")).status_code == 404
    assert (await other.get(f"/api/v1/calls/{created.json()['id']}")).status_code == 404


async def test_mediation_runs_from_application_to_printed_agreement_and_tasks(as_user, sql):
    s = await as_user("community")
    new = await s.get("/mediations/new")
    assert new.status_code == 200 and 'hx-post="/mediations"' in new.text
    data = mediation_form()
    created = await s.post_form("/mediations", data)
    assert created.status_code == 303
    mediation_id = int(created.headers["location"].rsplit("/", 1)[1])
    row = await sql.fetchrow("SELECT * FROM mediation WHERE id = $1", mediation_id)
    assert row["venue_unit"] == await community_venue(sql)
    assert row["archive_no"] is None and row["outcome"] == "in_progress"
    assert sorted(row["methods"]) == ["feeling", "law"]
    sitting = await s.post_form(
        f"/mediations/{mediation_id}/sessions",
        {"held_at": "2026-11-21T14:00", "attendees": "双方", "notes": "第一次调解，双方各陈述"},
    )
    assert sitting.status_code == 303
    incomplete = await s.post_form(
        f"/mediations/{mediation_id}/outcome", {**data, "outcome": "agreed_written"}
    )
    assert incomplete.status_code == 422 and "此调解结果需要填写此项" in incomplete.text
    signed = beijing_today()
    done = await s.post_form(
        f"/mediations/{mediation_id}/outcome",
        {
            **data,
            "outcome": "agreed_written",
            "facts": "夜间噪音",
            "responsibilities": "钱程负主要责任",
            "agreement_terms": "晚十点后不再装修",
            "performance_method": "自觉履行",
            "performance_due": str(signed + timedelta(days=14)),
            "agreement_signed_on": str(signed),
        },
    )
    assert done.status_code == 303
    row = await sql.fetchrow("SELECT * FROM mediation WHERE id = $1", mediation_id)
    year = signed.year
    assert re.fullmatch(rf".+调〔{year}〕\d{{4}}号", row["archive_no"])
    assert row["closed_at"] is not None
    kinds = {
        r["kind"]: r["due"]
        for r in await sql.fetch(
            "SELECT kind, due FROM follow_up_task"
            " WHERE source_type = 'mediation' AND source_id = $1",
            mediation_id,
        )
    }
    assert kinds == {
        "judicial_confirmation": signed + timedelta(days=30),
        "performance": signed + timedelta(days=14),
    }
    printed = await s.get(f"/mediations/{mediation_id}/agreement")
    assert printed.status_code == 200
    assert "人民调解协议书" in printed.text and "晚十点后不再装修" in printed.text
    assert row["archive_no"] in printed.text
    final = await s.post_form(f"/mediations/{mediation_id}/outcome", {**data, "outcome": "failed"})
    assert final.status_code == 422


async def test_archive_numbers_are_unique_per_venue_and_year(as_user, sql):
    s = await as_user("community")
    answers = await asyncio.gather(
        *(
            s.post_json(
                "/api/v1/mediations",
                {
                    "client_uuid": new_uuid(),
                    "dispute_type": "wages",
                    "summary": f"欠薪{i}",
                    "parties": [
                        {"name": "工人", "role": "applicant"},
                        {"name": "老板", "role": "respondent"},
                    ],
                    "outcome": "agreed_oral",
                    "agreement_terms": "月底前付清",
                },
            )
            for i in range(4)
        )
    )
    assert [a.status_code for a in answers] == [201] * 4
    numbers = [a.json()["archive_no"] for a in answers]
    assert len(set(numbers)) == 4


async def test_refusal_ends_a_mediation_and_escalation_opens_a_linked_one_up(as_user, sql):
    s = await as_user("community")
    refused = await s.post_json(
        "/api/v1/mediations",
        {
            "client_uuid": new_uuid(),
            "dispute_type": "neighbour",
            "summary": "占道",
            "parties": [{"name": "甲", "role": "applicant"}],
            "party_refused": True,
        },
    )
    assert refused.status_code == 201
    assert refused.json()["outcome"] == "failed" and refused.json()["terminated_note"]
    body = {
        "client_uuid": new_uuid(),
        "dispute_type": "demolition",
        "summary": "补偿争议",
        "parties": [{"name": "住户", "role": "applicant"}],
        "outcome": "escalated",
    }
    first = await s.post_json("/api/v1/mediations", body)
    again = await s.post_json("/api/v1/mediations", body)
    assert first.status_code == 201 and again.status_code == 200
    linked_id = first.json()["escalated_to"]
    linked = await sql.fetchrow("SELECT * FROM mediation WHERE id = $1", linked_id)
    street = await sql.fetchval("SELECT unit FROM app_user WHERE username = 'street'")
    assert linked["venue_unit"] == street and linked["escalated_from"] == first.json()["id"]
    assert linked["outcome"] == "in_progress"
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM mediation WHERE escalated_from = $1", first.json()["id"]
        )
        == 1
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("summary", "", "此项为必填项"),
        ("dispute_type", "cosmic", "不是允许的选项"),
        ("parties-0-name", "", "每一行都需要填写姓名"),
        ("parties-1-role", "judge", "不是允许的选项"),
        ("mediators-0-kind", "wizard", "不是允许的选项"),
        ("methods", ["law", "magic"], "不是允许的选项"),
        ("outcome", "agreed_oral", "此调解结果需要填写此项"),
        ("outcome", "failed", "此调解结果需要填写此项"),
        ("venue_unit_id", "999999", "未找到"),
        ("held_at", "2099-01-01T09:00", "不能是将来"),
        ("performance_due", "2026-02-31", "YYYY-MM-DD"),
    ],
)
async def test_mediation_bad_input_comes_back_422_with_message_and_typed_values(
    as_user, field, value, message
):
    s = await as_user("community")
    data = mediation_form(**{field: value})
    if field == "parties-0-name":
        data.pop("parties-1-name")
        data.pop("parties-0-phone")
    response = await s.post_form("/mediations", data, htmx=True)
    assert response.status_code == 422
    assert message in response.text
    assert "孙调解" in response.text


async def test_household_import_reports_bad_rows_and_imports_nothing(as_user, sql):
    s = await as_user("grid")
    grid = await sql.fetchval("SELECT unit FROM app_user WHERE username = 'grid'")
    before = await sql.fetchval("SELECT count(*) FROM household WHERE unit = $1", grid)

    def sheet(rows) -> bytes:
        wb = Workbook()
        ws = wb.active
        ws.append(["address", "head_name", "head_phone", "size", "tags"])
        for r in rows:
            ws.append(r)
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()

    token = await s.ensure_csrf()
    bad = sheet([["和顺路1号", "王", "13800000000", 3, "独居老人"], ["", "李", "abc", "many", ""]])
    response = await s.request(
        "POST",
        "/households/import",
        data={"grid_id": str(grid), "_csrf_token": token},
        files={"file": ("h.xlsx", bad, "application/octet-stream")},
    )
    assert response.status_code == 422
    assert "未导入任何数据" in response.text and "<td>3</td>" in response.text
    assert await sql.fetchval("SELECT count(*) FROM household WHERE unit = $1", grid) == before
    good = sheet(
        [["和顺路1号", "王", "13800000000", 3, "独居老人,低保"], ["和顺路2号", "李", "", 1, ""]]
    )
    response = await s.request(
        "POST",
        "/households/import",
        data={"grid_id": str(grid), "_csrf_token": token},
        files={"file": ("h.xlsx", good, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    assert await sql.fetchval("SELECT count(*) FROM household WHERE unit = $1", grid) == before + 2
    tags = await sql.fetchval("SELECT tags FROM household WHERE address = '和顺路1号'")
    assert tags == ["独居老人", "低保"]
    other_grid = await sql.fetchval("SELECT unit FROM app_user WHERE username = 'grid2'")
    outside = await s.request(
        "POST",
        "/households/import",
        data={"grid_id": str(other_grid), "_csrf_token": token},
        files={"file": ("h.xlsx", good, "application/octet-stream")},
    )
    assert outside.status_code == 422


async def test_household_added_by_hand_and_coverage_counts_visits(as_user, sql):
    s = await as_user("grid")
    grid = await sql.fetchval("SELECT unit FROM app_user WHERE username = 'grid'")
    bad = await s.post_form(
        "/households", {"grid_id": grid, "address": "", "size": "0", "head_name": "保留的名字"}
    )
    assert bad.status_code == 422 and "保留的名字" in bad.text
    added = await s.post_form(
        "/households", {"grid_id": grid, "address": "覆盖路9号", "head_name": "周", "size": "2"}
    )
    assert added.status_code == 303
    hid = await sql.fetchval("SELECT id FROM household WHERE address = '覆盖路9号'")
    await s.post_json(
        "/api/v1/visits", {"client_uuid": new_uuid(), "household_id": hid, "summary": "覆盖"}
    )
    page = await s.get("/households")
    assert page.status_code == 200 and "覆盖路9号" in page.text and "%" in page.text
