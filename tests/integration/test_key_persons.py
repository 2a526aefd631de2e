"""The key-person ledger: validation (422 per field), scope (404), masking in the list, detail,
API and export, the audited reveal, the timeline with emotions, the overdue flag and panel."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app.domain.key_persons import with_check_digit
from tests.integration import platform_helpers as h

ID_NUMBER = with_check_digit("22010519700101123")
PHONE = "13987654321"


async def _new(s, sql, **fields) -> int:
    unit = await h.unit_of(sql, "DS-C1-G1")
    body = {
        "name": "钱多多",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "category": "repeat",
        "risk_level": "high",
        "unit_id": unit["id"],
        "measures": "每周上门一次，包保领导每月见面",
        **fields,
    }
    r = await s.post_form("/key-persons", body)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def _masked(text: str) -> None:
    assert ID_NUMBER not in text and PHONE not in text and "钱多多" not in text


async def test_validation_is_422_per_field_and_never_5xx(as_user, sql):
    s = await as_user("grid")
    other = await h.unit_of(sql, "DZ-C1-G1")
    r = await s.post_form(
        "/key-persons",
        {
            "name": "孙<b>",
            "id_number": "220105197001011230X",
            "phone": "12",
            "category": "vip",
            "risk_level": "extreme",
            "unit_id": other["id"],
            "household_id": "x",
            "leader_user": "999999",
            "grid_worker": "-3",
        },
    )
    assert r.status_code == 422
    for name in (
        "id_number",
        "phone",
        "category",
        "risk_level",
        "unit_id",
        "household_id",
        "leader_user",
        "grid_worker",
    ):
        assert f'id="{name}-error"' in r.text, name
    assert "孙&lt;b&gt;" in r.text
    r = await s.post_form("/key-persons", {})
    assert r.status_code == 422 and 'id="name-error"' in r.text
    assert (await s.get("/key-persons?risk_level=zzz&unit_id=abc&category=1")).status_code == 200
    assert (await s.get("/api/v1/key-persons?unit_id=-1")).status_code == 200


async def test_masked_everywhere_reveal_is_audited_and_scope_is_404(as_user, sql):
    grid, grid2, street = await as_user("grid"), await as_user("grid2"), await as_user("street")
    pid = await _new(grid, sql)
    stored = await sql.fetchrow("SELECT * FROM key_person WHERE id = $1", pid)
    assert stored["id_number"] == ID_NUMBER and stored["phone"] == PHONE

    listing = await street.get("/key-persons")
    assert listing.status_code == 200 and f"/key-persons/{pid}" in listing.text
    _masked(listing.text)
    assert "139****4321" in listing.text
    detail = await grid.get(f"/key-persons/{pid}")
    assert detail.status_code == 200
    _masked(detail.text)
    api = await grid.get("/api/v1/key-persons")
    assert api.status_code == 200
    item = next(i for i in api.json()["items"] if i["id"] == pid)
    assert item["phone"] == "139****4321" and item["name"] == "钱**"
    assert item["id_number"].startswith("220") and ID_NUMBER not in api.text
    assert "/api/v1/key-persons" in (await grid.get("/schema/openapi.json")).text
    one = await grid.get(f"/api/v1/key-persons/{pid}")
    assert one.status_code == 200 and PHONE not in one.text

    export = await street.get("/key-persons/export")
    assert export.status_code == 200
    ws = load_workbook(io.BytesIO(export.content)).active
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "139****4321" in cells
    assert not any(ID_NUMBER in c or PHONE in c or "钱多多" in c for c in cells)
    assert await sql.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'key_person.export'"
        " AND actor = (SELECT id FROM app_user WHERE username = 'street')"
    )
    # another street's grid worker: not in the list, export or API; the person is 404
    assert f"/key-persons/{pid}" not in (await grid2.get("/key-persons")).text
    assert (await grid2.get(f"/key-persons/{pid}")).status_code == 404
    assert (await grid2.get(f"/api/v1/key-persons/{pid}")).status_code == 404
    assert (await grid2.post_form(f"/key-persons/{pid}/reveal", {})).status_code == 404
    assert (await grid2.post_form(f"/key-persons/{pid}", {"name": "x"})).status_code == 404
    ws2 = load_workbook(io.BytesIO((await grid2.get("/key-persons/export")).content)).active
    assert not any(c == "139****4321" for row in ws2.iter_rows(values_only=True) for c in row)

    before = await sql.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'key_person.reveal' AND object_id = $1",
        str(pid),
    )
    shown = await grid.post_form(f"/key-persons/{pid}/reveal", {}, htmx=True)
    assert shown.status_code == 200
    assert ID_NUMBER in shown.text and PHONE in shown.text and "钱多多" in shown.text
    assert shown.headers.get("cache-control") == "no-store"
    plain = await grid.post_form(f"/key-persons/{pid}/reveal", {})
    assert plain.status_code == 200 and PHONE in plain.text
    after = await sql.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'key_person.reveal' AND object_id = $1",
        str(pid),
    )
    assert after == before + 2


async def test_edit_keeps_masked_fields_when_left_empty(as_user, sql):
    grid = await as_user("grid")
    pid = await _new(grid, sql, name="李编辑")
    form = await grid.get(f"/key-persons/{pid}/edit")
    assert form.status_code == 200 and PHONE not in form.text and ID_NUMBER not in form.text
    unit = await h.unit_of(sql, "DS-C1-G1")
    r = await grid.post_form(
        f"/key-persons/{pid}",
        {"name": "李编辑", "category": "beijing", "risk_level": "low", "unit_id": unit["id"]},
    )
    assert r.status_code == 303
    row = await sql.fetchrow("SELECT * FROM key_person WHERE id = $1", pid)
    assert (row["category"], row["risk_level"]) == ("beijing", "low")
    assert row["phone"] == PHONE and row["id_number"] == ID_NUMBER
    # The edit form never shows the full name either: left empty, the stored one is kept.
    r = await grid.post_form(
        f"/key-persons/{pid}",
        {"name": "", "category": "beijing", "risk_level": "low", "unit_id": unit["id"]},
    )
    assert r.status_code == 303
    assert await sql.fetchval("SELECT name FROM key_person WHERE id = $1", pid) == "李编辑"


async def test_timeline_emotion_overdue_flag_filters_and_panel(as_user, sql):
    grid = await as_user("grid")
    unit = await h.unit_of(sql, "DS-C1-G1")
    household = await sql.fetchval(
        "INSERT INTO household (unit, unit_path, address, head_name, created_at)"
        " VALUES ($1, $2, '东盛路1号', '周时间', now()) RETURNING id",
        unit["id"],
        unit["path"],
    )
    pid = await _new(
        grid, sql, name="周时间", phone="13800001111", id_number="", household_id=household
    )
    # registered 10 days ago, never contacted: high risk (7 days) is overdue
    await sql.execute(
        "UPDATE key_person SET created_at = now() - interval '10 days' WHERE id = $1", pid
    )
    overdue = await grid.get("/key-persons?overdue=1&risk_level=high")
    assert f"/key-persons/{pid}" in overdue.text
    assert f"/key-persons/{pid}" not in (await grid.get("/key-persons?risk_level=low")).text
    home = await grid.get("/")
    assert f"/key-persons/{pid}" in home.text
    call = await h.add_call(sql, "DS-C1-G1", "再不解决就去北京上访", "key_person", pid)
    visit = await h.add_visit(sql, "DS-C1-G1", "上门了解情况，情绪平稳", household_id=household)
    await sql.execute(
        "INSERT INTO text_analysis (table_name, record_id, emotion, intensity, signals,"
        " analysed_at) VALUES ('call', $1, 'anger', 0.8,"
        ' \'[{"kind": "escalate", "phrase": "去北京上访", "start": 5, "end": 10}]\','
        " now())",
        call,
    )
    detail = await grid.get(f"/key-persons/{pid}")
    assert f"/calls/{call}" in detail.text
    assert f"/visits/{visit}" in detail.text
    assert "<mark" in detail.text and "80%" in detail.text
    assert f"/key-persons/{pid}" not in (await grid.get("/key-persons?overdue=1")).text
