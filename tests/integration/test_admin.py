"""Administration: the unit tree, departments, accounts, spreadsheets, audit."""

from __future__ import annotations

import io
import re
import uuid

from openpyxl import Workbook, load_workbook


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def _unit_id(sql, code: str) -> int:
    return await sql.fetchval("SELECT id FROM unit WHERE code = $1", code)


async def test_admin_adds_a_community_under_a_street(as_user, sql):
    s = await as_user("admin")
    name = f"测试社区{uuid.uuid4().hex[:6]}"
    street = await _unit_id(sql, "RG")
    response = await s.post_form(
        "/admin/units", {"name": name, "tier": "community", "parent_id": street}
    )
    assert response.status_code == 303
    row = await sql.fetchrow("SELECT path, tier FROM unit WHERE name = $1", name)
    street_path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", street)
    assert row["tier"] == "community" and row["path"].startswith(street_path)


async def test_adding_a_unit_of_the_wrong_tier_keeps_the_input_and_says_why(as_user, sql):
    s = await as_user("admin")
    street = await _unit_id(sql, "RG")
    response = await s.post_form(
        "/admin/units", {"name": "错层网格", "tier": "street", "parent_id": street}
    )
    assert response.status_code == 422
    assert "该层级不能设在所选上级之下" in response.text
    assert 'value="错层网格"' in response.text


async def test_moving_a_community_moves_the_paths_of_its_whole_subtree(as_user, sql):
    s = await as_user("admin")
    street_a, street_b = await _unit_id(sql, "JL"), await _unit_id(sql, "YD")
    name = f"搬迁社区{uuid.uuid4().hex[:6]}"
    await s.post_form("/admin/units", {"name": name, "tier": "community", "parent_id": street_a})
    community = await sql.fetchval("SELECT id FROM unit WHERE name = $1", name)
    await s.post_form("/admin/units", {"name": "一格", "tier": "grid", "parent_id": community})
    response = await s.post_form(f"/admin/units/{community}/move", {"parent_id": street_b})
    assert response.status_code == 303
    b_path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", street_b)
    paths = await sql.fetch(
        "SELECT path FROM unit WHERE path LIKE '%/' || $1::text || '/%'", str(community)
    )
    assert len(paths) == 2
    assert all(p["path"].startswith(f"{b_path}{community}/") for p in paths)


async def test_a_unit_cannot_move_under_itself(as_user, sql):
    s = await as_user("admin")
    street = await _unit_id(sql, "CQ")
    community = await _unit_id(sql, "CQ-C1")
    response = await s.post_form(f"/admin/units/{street}/move", {"parent_id": community})
    assert response.status_code == 422


async def test_unit_move_forms_load_per_unit_and_offer_only_valid_parents(as_user, sql):
    s = await as_user("admin")
    tree = await s.get("/admin/units")
    assert tree.status_code == 200
    # the tree page no longer carries a select of every unit for every unit
    assert len(tree.content) < 400_000
    grid = await _unit_id(sql, "DS-C1-G1")
    assert f'hx-get="/admin/units/{grid}/move"' in tree.text
    assert f'href="/admin/units/{grid}/move"' in tree.text  # without script: a page of its own

    fragment = await s.get(f"/admin/units/{grid}/move", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', fragment.text)}
    communities = {
        r["id"] for r in await sql.fetch("SELECT id FROM unit WHERE tier = 'community'")
    }
    assert offered == communities  # a grid moves under a community, any of them
    parent = await sql.fetchval("SELECT parent FROM unit WHERE id = $1", grid)
    assert f'<option value="{parent}" selected>' in fragment.text

    full = await s.get(f"/admin/units/{grid}/move")
    assert full.status_code == 200 and "<html" in full.text and 'name="parent_id"' in full.text
    district = await sql.fetchval("SELECT id FROM unit WHERE parent IS NULL")
    assert (await s.get(f"/admin/units/{district}/move")).status_code == 404


async def test_a_refused_move_comes_back_with_its_form_and_the_reason(as_user, sql):
    s = await as_user("admin")
    street = await _unit_id(sql, "CQ")
    community = await _unit_id(sql, "CQ-C1")
    response = await s.post_form(f"/admin/units/{street}/move", {"parent_id": community})
    assert response.status_code == 422
    assert f'<select id="move-{street}" name="parent_id" aria-invalid="true"' in response.text
    assert 'class="field-error"' in response.text


async def test_renaming_a_unit_is_audited(as_user, sql):
    s = await as_user("admin")
    unit_id = await _unit_id(sql, "BLB-C1-G2")
    new_name = f"改名网格{uuid.uuid4().hex[:4]}"
    assert (
        await s.post_form(f"/admin/units/{unit_id}/rename", {"name": new_name})
    ).status_code == 303
    assert await sql.fetchval("SELECT name FROM unit WHERE id = $1", unit_id) == new_name
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'unit.rename' AND object_id = $1",
            str(unit_id),
        )
        >= 1
    )


async def test_admin_creates_a_user_who_can_log_in_and_deactivation_ends_the_session(
    as_user, session, sql
):
    s = await as_user("admin")
    username = f"u{uuid.uuid4().hex[:8]}"
    grid = await _unit_id(sql, "DH-C1-G1")
    response = await s.post_form(
        "/admin/users",
        {
            "username": username,
            "full_name": "新网格员",
            "role": "grid_worker",
            "unit_id": grid,
            "password": "a-long-password",
        },
    )
    assert response.status_code == 303
    worker = session()
    assert (await worker.login(username, "a-long-password")).status_code == 303
    user_id = await sql.fetchval("SELECT id FROM app_user WHERE username = $1", username)
    await s.post_form(f"/admin/users/{user_id}/active", {"active": "false"})
    assert (await worker.get("/")).status_code == 303
    assert (await session().login(username, "a-long-password")).status_code == 401


async def test_user_form_reports_each_bad_field(as_user, sql):
    s = await as_user("admin")
    district = await _unit_id(sql, "ED")
    response = await s.post_form(
        "/admin/users",
        {
            "username": "bad name!",
            "role": "grid_worker",
            "unit_id": district,
            "password": "short",
        },
    )
    assert response.status_code == 422
    assert 'value="bad name!"' in response.text
    response = await s.post_form(
        "/admin/users",
        {
            "username": "okname",
            "role": "grid_worker",
            "unit_id": district,
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 422
    assert "该角色应属于其他层级的单位" in response.text


async def test_password_reset_ends_the_users_sessions(as_user, sql):
    admin = await as_user("admin")
    worker = await as_user("gw-yj-c1-g1")
    user_id = await sql.fetchval("SELECT id FROM app_user WHERE username = 'gw-yj-c1-g1'")
    response = await admin.post_form(
        f"/admin/users/{user_id}/password", {"new_password": "fengqiao-demo"}
    )
    assert response.status_code == 303
    assert (await worker.get("/")).status_code == 303


async def test_units_import_with_errors_reports_every_bad_row_and_changes_nothing(as_user, sql):
    s = await as_user("admin")
    before = await sql.fetchval("SELECT count(*) FROM unit")
    sheet = _xlsx(
        [
            ["code", "name", "tier", "parent_code", "subtype"],
            ["IMP-OK-1", "好社区", "community", "DS", ""],
            ["", "无编码", "community", "DS", ""],
            ["IMP-BAD-2", "错层", "street", "DS", ""],
            ["IMP-BAD-3", "无上级", "grid", "NOPE", ""],
        ]
    )
    await s.ensure_csrf()
    response = await s.request(
        "POST",
        "/admin/import/units",
        files={"file": ("u.xlsx", sheet)},
        data={"_csrf_token": s.csrf},
    )
    assert response.status_code == 422
    for row in ("<td>3</td>", "<td>4</td>", "<td>5</td>"):
        assert row in response.text
    assert await sql.fetchval("SELECT count(*) FROM unit") == before


async def test_units_and_users_import_applies_a_clean_sheet(as_user, sql):
    s = await as_user("admin")
    tag = uuid.uuid4().hex[:5].upper()
    units = _xlsx(
        [
            ["code", "name", "tier", "parent_code", "subtype"],
            [f"I{tag}", "导入社区", "community", "DS", ""],
            [f"I{tag}-G1", "导入网格", "grid", f"I{tag}", ""],
        ]
    )
    await s.ensure_csrf()
    response = await s.request(
        "POST",
        "/admin/import/units",
        files={"file": ("u.xlsx", units)},
        data={"_csrf_token": s.csrf},
    )
    assert response.status_code == 200, response.text
    users = _xlsx(
        [
            ["username", "full_name", "role", "unit_code", "department", "phone", "password"],
            [f"imp{tag.lower()}", "导入员", "grid_worker", f"I{tag}-G1", "", "", "imported-pass-1"],
        ]
    )
    response = await s.request(
        "POST",
        "/admin/import/users",
        files={"file": ("u.xlsx", users)},
        data={"_csrf_token": s.csrf},
    )
    assert response.status_code == 200, response.text
    assert (
        await sql.fetchval("SELECT count(*) FROM app_user WHERE username = $1", f"imp{tag.lower()}")
        == 1
    )


async def test_a_non_spreadsheet_upload_is_refused_cleanly(as_user):
    s = await as_user("admin")
    await s.ensure_csrf()
    response = await s.request(
        "POST",
        "/admin/import/users",
        files={"file": ("x.xlsx", b"not a zip")},
        data={"_csrf_token": s.csrf},
    )
    assert response.status_code == 422
    assert "这不是 .xlsx 文件" in response.text


async def test_exports_and_templates_are_real_spreadsheets(as_user):
    s = await as_user("admin")
    for url, header in (
        ("/admin/export/units", "code"),
        ("/admin/export/users", "username"),
        ("/admin/template/units", "code"),
    ):
        response = await s.get(url)
        assert response.status_code == 200
        ws = load_workbook(io.BytesIO(response.content)).active
        assert ws.cell(1, 1).value == header
    rows = list(
        load_workbook(io.BytesIO((await s.get("/admin/export/users")).content)).active.values
    )
    assert any(r[0] == "grid" for r in rows)


async def test_idle_session_times_out(as_user, sql):
    s = await as_user("grid2")
    await sql.execute(
        "UPDATE app_session SET last_seen_at = now() - interval '1 day'"
        " WHERE \"user\" = (SELECT id FROM app_user WHERE username = 'grid2')"
    )
    assert (await s.get("/")).status_code == 303


async def test_admin_changes_and_logins_are_audited(as_user, sql):
    await as_user("admin")
    assert await sql.fetchval("SELECT count(*) FROM audit_event WHERE action = 'login'") > 0
    s = await as_user("admin")
    page = await s.get("/admin/audit?action=login")
    assert page.status_code == 200 and "login" in page.text
