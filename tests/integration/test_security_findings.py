"""Regressions for what the security suites found: never 500 on odd ids or NUL characters,
exports audited, masked identities stay masked on edit forms."""

from __future__ import annotations

import pytest

from tests.support import new_uuid

HUGE = 648603431005945


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/calls/{HUGE}", f"/api/v1/visits/{HUGE}", f"/api/v1/mediations/{HUGE}",
     f"/api/v1/cases/{HUGE}", f"/visits/{HUGE}", f"/cases/{HUGE}", f"/risks/{HUGE}"],
)
async def test_an_id_beyond_the_integer_range_is_not_found(as_user, path):
    s = await as_user("leader")
    response = await s.get(path)
    assert response.status_code == 404


async def test_a_post_to_a_huge_id_is_not_found(as_user):
    s = await as_user("desk")
    response = await s.post_json(f"/api/v1/cases/{HUGE}/actions", {"action": "accept"})
    assert response.status_code == 404


async def test_a_nul_character_in_a_text_field_gets_a_field_message(as_user):
    s = await as_user("grid")
    response = await s.post_json("/api/v1/visits", {
        "client_uuid": new_uuid(), "kind": "door", "address": "一号楼",
        "summary": "x\u0000y", "mood": "calm",
    })
    assert response.status_code == 422
    assert "summary" in response.json()["errors"]


async def test_a_nul_character_in_a_search_is_refused_without_a_500(as_user):
    s = await as_user("grid")
    response = await s.get("/households/search?q=%00")
    assert response.status_code < 500


async def test_admin_exports_are_audited(as_user, sql):
    s = await as_user("admin")
    before = await sql.fetchval("SELECT count(*) FROM audit_event WHERE action = 'user.export'")
    assert (await s.get("/admin/export/users")).status_code == 200
    after = await sql.fetchval("SELECT count(*) FROM audit_event WHERE action = 'user.export'")
    assert after == before + 1


async def test_the_key_person_edit_form_never_shows_the_full_name(as_user, sql):
    s = await as_user("street")
    unit = await sql.fetchval("SELECT id FROM unit WHERE code = 'DS-C1-G2'")
    created = await s.post_form("/key-persons", {
        "name": "欧阳明远", "category": next(iter(await _categories(sql))), "risk_level": "high",
        "unit_id": unit,
    })
    assert created.status_code == 303, created.text
    person = int(created.headers["location"].rsplit("/", 1)[1])
    form = await s.get(f"/key-persons/{person}/edit")
    assert form.status_code == 200
    assert "欧阳明远" not in form.text
    kept = await s.post_form(f"/key-persons/{person}", {
        "name": "", "category": await sql.fetchval(
            "SELECT category FROM key_person WHERE id = $1", person),
        "risk_level": "medium", "unit_id": unit,
    })
    assert kept.status_code == 303, kept.text
    row = await sql.fetchrow("SELECT name, risk_level FROM key_person WHERE id = $1", person)
    assert row["name"] == "欧阳明远" and row["risk_level"] == "medium"


async def _categories(sql) -> list[str]:
    from app.domain import key_persons

    return list(key_persons.CATEGORIES)


async def test_the_case_api_masks_the_petitioner_inside_its_events(as_user, sql):
    from tests.integration.test_cases_flow import register

    desk = await as_user("desk")
    case = await register(desk, sql, phone="13987654321")
    body = (await desk.get(f"/api/v1/cases/{case['id']}")).text
    assert "13987654321" not in body
    assert "139****4321" in body


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/no-such-page"), ("GET", "/api/v1/no-such-thing"), ("POST", "/healthz")],
)
async def test_answers_before_any_route_carry_the_security_headers(client, method, path):
    # an unknown path (404) or a known path's wrong method (405) is answered by Litestar's
    # router, outside the request middleware that adds the headers to every route's answer
    response = await client.request(method, path, headers={"accept": "text/html"})
    assert response.status_code in (404, 405)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_routes_own_404_carries_each_security_header_once(as_user):
    s = await as_user("leader")
    response = await s.get(f"/visits/{HUGE}")
    assert response.status_code == 404
    assert len(response.headers.get_list("content-security-policy")) == 1


async def test_a_wrong_method_keeps_its_allow_header(client):
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
