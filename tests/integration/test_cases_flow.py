"""Petition cases over HTTP: registration, every action by role, scope, masking, repeats."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from app.services.case_notifications import KIND_OVERDUE
from tests.support import ROOT

_seq = itertools.count(1)


def _phone() -> str:
    return f"139{next(_seq) + 10000000:08d}"


async def _unit(sql, code: str) -> int:
    return await sql.fetchval("SELECT id FROM unit WHERE code = $1", code)


async def _dept(sql, code: str) -> int:
    return await sql.fetchval("SELECT id FROM department WHERE code = $1", code)


async def register(desk, sql, *, street="DS", content=None, phone=None, name="张三", **extra):
    body = {
        "channel": "visit", "petitioner_name": name, "petitioner_phone": phone or _phone(),
        "group_size": 1, "unit_id": await _unit(sql, f"{street}-C1"), "category": "住房",
        "content": content or f"小区漏水问题反映 {next(_seq)}", **extra,
    }
    r = await desk.post_json("/api/v1/cases", body)
    assert r.status_code == 201, r.text
    return r.json()


async def act(s, case_id, action, **fields):
    return await s.post_json(f"/api/v1/cases/{case_id}/actions", {"action": action, **fields})


async def test_register_validation_is_422_per_field_never_5xx(as_user):
    desk = await as_user("desk")
    r = await desk.post_json("/api/v1/cases", {"channel": "pigeon", "group_size": "many"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {"channel", "petitioner_name", "content", "group_size"} <= set(errors)
    r = await desk.post_form("/cases", {"channel": "visit", "petitioner_name": ""})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text
    r = await desk.post_json("/api/v1/cases", [1, 2])
    assert r.status_code in (400, 422)


async def test_group_visit_over_five_representatives_refused_art_20(as_user, sql):
    desk = await as_user("desk")
    r = await desk.post_json("/api/v1/cases", {
        "channel": "visit", "petitioner_name": "群体", "group_size": 30, "representatives": 8,
        "unit_id": await _unit(sql, "DS-C1"), "content": "拆迁补偿"})
    assert r.status_code == 422
    assert "representatives" in r.json()["errors"]


async def test_full_flow_over_http_each_action_and_roles(as_user, sql):
    desk, dept, leader, inspector, community = [
        await as_user(u) for u in ("desk", "dept", "leader", "inspector", "community")]
    zj = await _dept(sql, "ZJ")
    case = await register(desk, sql, tags=["first_time"])
    cid = case["id"]
    assert case["state"] == "registered"
    # wrong role: dept cannot transfer (nor see it before dispatch); community cannot accept
    r = await act(dept, cid, "transfer", lead=str(zj))
    assert r.status_code in (404, 422)
    r = await act(community, cid, "accept")
    assert r.status_code == 422 and r.json()["detail"]
    r = await act(desk, cid, "transfer", lead=str(zj))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "dispatched"
    # the desk cannot accept; dept can
    r = await act(desk, cid, "accept", body=str(zj))
    assert r.status_code == 422
    r = await act(dept, cid, "accept")
    assert r.status_code == 200, r.text
    assert (await act(dept, cid, "note", text="现场核查")).json()["state"] == "in_progress"
    # extension needs the head of the body (Art. 34)
    r = await act(dept, cid, "extend", days=10, reason="复杂", approved_by="局长",
                  petitioner_told=True)
    assert r.status_code == 422 and r.json()["article"] == "第三十四条"
    head = await as_user("depthead")
    r = await act(head, cid, "extend", days=10, reason="复杂", approved_by="局长",
                  petitioner_told=True)
    assert r.status_code == 200, r.text
    r = await act(head, cid, "extend", days=5, reason="再延", approved_by="局长",
                  petitioner_told=True)
    assert r.status_code == 422
    r = await act(inspector, cid, "supervise", reason="进度慢", feedback_days=5)
    assert r.status_code == 200, r.text
    r = await act(leader, cid, "claim_ownership")
    assert r.status_code == 200
    r = await act(dept, cid, "report_back", summary="已加快办理")
    assert r.status_code == 200
    assert await sql.fetchval("SELECT feedback FROM supervision WHERE \"case\" = $1", cid)
    r = await act(dept, cid, "opinion", outcome="support", request_summary="修缮",
                  facts_and_reasons="经查属实", opinion="予以修缮", legal_basis="物业管理条例")
    assert r.status_code == 200, r.text
    assert (await desk.get(f"/cases/{cid}/opinion")).status_code == 200
    r = await act(desk, cid, "evaluate", satisfaction="dissatisfied")
    assert r.json()["state"] == "evaluated"
    r = await act(desk, cid, "request_review", reviewing_body="区政府", reason="不满意")
    assert r.json()["state"] == "review_requested"
    r = await act(leader, cid, "decide_review", outcome="uphold", opinion="维持")
    assert r.json()["state"] == "reviewed"
    r = await act(desk, cid, "request_rereview", reviewing_body="市信访局", reason="仍不满意")
    assert r.json()["state"] == "rereview_requested"
    r = await act(leader, cid, "decide_rereview", outcome="uphold", opinion="维持")
    assert r.json()["state"] == "rereviewed"
    r = await act(desk, cid, "close", summary="复核终结")
    assert r.json()["state"] == "final"
    # illegal transition: nothing changes
    before = await sql.fetchval("SELECT count(*) FROM case_event WHERE \"case\" = $1", cid)
    r = await act(desk, cid, "transfer", lead=str(zj))
    assert r.status_code == 422
    assert await sql.fetchval("SELECT count(*) FROM case_event WHERE \"case\" = $1", cid) == before
    # repeat after 复核 refused (Art. 36)
    detail = (await desk.get(f"/api/v1/cases/{cid}")).json()
    assert any(c["article"] for c in detail["clocks"])
    r = await desk.post_json("/api/v1/cases", {
        "channel": "phone", "petitioner_name": "张三",
        "petitioner_phone": await sql.fetchval(
            "SELECT petitioner_phone FROM petition_case WHERE id = $1", cid),
        "unit_id": await _unit(sql, "DS-C1"),
        "content": await sql.fetchval("SELECT content FROM petition_case WHERE id = $1", cid)})
    assert r.status_code == 422
    assert r.json()["article"] == "第三十六条"
    # HTML: refusal shown with the article
    r = await desk.post_form(f"/cases/{cid}/actions", {"action": "transfer", "lead": str(zj)})
    assert r.status_code == 422


async def test_desk_diversion_tell_and_object_and_divert_by_body(as_user, sql):
    desk, dept = await as_user("desk"), await as_user("dept")
    zj = await _dept(sql, "ZJ")
    c1 = (await register(desk, sql))["id"]
    r = await act(desk, c1, "divert", target="political_legal", reason="涉诉")
    assert r.json()["state"] == "diverted"
    c2 = (await register(desk, sql))["id"]
    r = await act(desk, c2, "tell_where_to_go", where="区法院", reason="属诉讼")
    assert r.json()["state"] == "told_where_to_go"
    c3 = (await register(desk, sql))["id"]
    await act(desk, c3, "assign", lead=str(zj), report_days=10)
    r = await act(dept, c3, "object", reason="不属本部门职责")
    assert r.json()["state"] == "objected", r.text
    await act(desk, c3, "transfer", lead=str(zj))
    await act(dept, c3, "accept")
    r = await act(dept, c3, "divert", target="arbitration", reason="劳动争议")
    assert r.json()["state"] == "diverted"


async def test_multi_body_dispatch_incomplete_until_all_acknowledged(as_user, sql):
    desk, dept = await as_user("desk"), await as_user("dept")
    rs_user = await as_user("dept-rs")
    zj, rs = await _dept(sql, "ZJ"), await _dept(sql, "RS")
    cid = (await register(desk, sql))["id"]
    r = await act(desk, cid, "transfer", lead=str(zj), co_handlers=[str(rs)])
    assert r.status_code == 200, r.text
    r = await act(dept, cid, "accept")
    assert r.status_code == 422
    assert "区人社局" in r.json()["detail"] and r.json()["article"] == "第二十四条"
    assert (await act(rs_user, cid, "acknowledge")).status_code == 200
    r = await act(dept, cid, "accept")
    assert r.status_code == 200, r.text
    rows = await sql.fetch("SELECT acknowledged_at FROM case_body WHERE \"case\" = $1", cid)
    assert len(rows) == 2 and all(r["acknowledged_at"] for r in rows)


async def test_scope_grid2_and_department(as_user, sql):
    desk, grid2, dept, grid = [await as_user(u) for u in ("desk", "grid2", "dept", "grid")]
    cid = (await register(desk, sql, street="DS"))["id"]
    assert (await grid2.get(f"/cases/{cid}")).status_code == 404
    assert (await grid2.get(f"/api/v1/cases/{cid}")).status_code == 404
    assert (await act(grid2, cid, "evaluate", satisfaction="satisfied")).status_code == 404
    assert (await dept.get(f"/cases/{cid}")).status_code == 404
    await act(desk, cid, "transfer", lead=str(await _dept(sql, "ZJ")))
    assert (await dept.get(f"/cases/{cid}")).status_code == 200
    other = (await register(desk, sql))["id"]
    await act(desk, other, "transfer", lead=str(await _dept(sql, "RS")))
    ids = {c["id"] for c in (await dept.get("/api/v1/cases?state=dispatched")).json()["items"]}
    assert cid in ids and other not in ids
    # grid of 东盛 community sees a case that arose in its community? Only its own grid subtree.
    assert (await grid.get("/cases")).status_code == 200


async def test_masked_in_list_and_api_and_audited_full_view(as_user, sql):
    desk = await as_user("desk")
    cid = (await register(desk, sql, phone="13812345678",
                          petitioner_id_number="220102199001011234"))["id"]
    listing = await desk.get("/cases")
    assert "13812345678" not in listing.text and "138****5678" in listing.text
    api = (await desk.get(f"/api/v1/cases/{cid}")).json()
    assert api["petitioner_phone"] == "138****5678"
    assert "1990" not in api["petitioner_id_number"]
    page = await desk.get(f"/cases/{cid}")
    assert "13812345678" not in page.text
    full = await desk.get(f"/cases/{cid}/petitioner", headers={"hx-request": "true"})
    assert "13812345678" in full.text and "220102199001011234" in full.text
    assert await sql.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'case.petitioner.view'"
        " AND object_id = $1", str(cid)) == 1


async def test_same_petitioner_open_matter_is_linked(as_user, sql):
    desk = await as_user("desk")
    phone = _phone()
    first = await register(desk, sql, phone=phone, name="李四")
    second = await register(desk, sql, phone=phone, name="李四", content="另一件事")
    assert second["linked_to"]["id"] == first["id"]


async def test_pages_render_for_roles(as_user, sql):
    desk = await as_user("desk")
    cid = (await register(desk, sql))["id"]
    for user in ("desk", "dept", "leader", "inspector", "street", "community", "grid"):
        s = await as_user(user)
        assert (await s.get("/cases")).status_code == 200, user
        assert (await s.get("/lists")).status_code in (200, 403), user
    assert (await desk.get("/cases/new")).status_code == 200
    assert (await desk.get(f"/cases/{cid}")).status_code == 200
    assert (await desk.get("/cases/stats")).status_code == 200
    assert (await desk.get("/lists")).status_code == 200
    dept = await as_user("dept")
    assert (await dept.get("/cases?inbox=1")).status_code == 200
    assert (await (await as_user("grid")).get("/cases/new")).status_code == 403


async def test_calendar_override_admin_only(as_user):
    admin = await as_user("admin")
    r = await admin.post_form("/cases/calendar", {"day": "2031-10-01", "is_workday": "holiday",
                                                  "note": "国庆"})
    assert r.status_code == 303
    assert (await admin.post_form("/cases/calendar", {"day": "x"})).status_code == 422
    assert (await (await as_user("desk")).get("/cases/calendar")).status_code == 403


def _compute_notifications(servers) -> int:
    """Run the notification job's function in its own process (as the worker does)."""
    code = (
        "import asyncio\n"
        "from app import db\n"
        "from app.services import case_notifications as n\n"
        "async def main():\n"
        f"    db.configure({servers.database_url!r})\n"
        "    await db.open_pool()\n"
        "    try:\n"
        "        print(await n.compute())\n"
        "    finally:\n"
        "        await db.close_pool()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True, timeout=60)
    return int(out.stdout.strip().splitlines()[-1])


async def test_notifications_job_is_idempotent(as_user, sql, servers):
    desk = await as_user("desk")
    cid = (await register(desk, sql))["id"]
    # backdate the registration so the 15-day dispatch clock (Art. 22) is overdue
    await sql.execute("UPDATE case_event SET at = at - interval '40 days' WHERE \"case\" = $1",
                      cid)
    _compute_notifications(servers)
    # The first call also adds other tests' cases' notices, and a live worker on this database
    # (the browser tests' session fixture, when a plain `pytest` runs them in the same session;
    # `make test` gives them their own) adds them from cron at minute 7 of every hour, maybe
    # first. So the case's own notices are counted.
    count = 'SELECT count(*) FROM notification WHERE "case" = $1 AND kind = $2'
    added = await sql.fetchval(count, cid, KIND_OVERDUE)
    again = _compute_notifications(servers)
    assert added >= 1
    assert again == 0 and await sql.fetchval(count, cid, KIND_OVERDUE) == added
    r = await desk.get("/cases/notifications/count", headers={"hx-request": "true"})
    assert r.status_code == 200 and "bell" in r.text
    assert (await desk.get("/cases/notifications")).status_code == 200


@pytest.mark.parametrize("action", ["accept", "opinion", "close", "evaluate"])
async def test_actions_on_missing_case_are_404(as_user, action):
    desk = await as_user("desk")
    assert (await act(desk, 999999, action)).status_code == 404
