"""A matter whose registration event is missing (loaded from outside the app) still opens."""

from __future__ import annotations

from tests.integration.test_cases_flow import register


async def test_a_matter_without_its_register_event_opens_and_accepts_actions(as_user, sql):
    desk = await as_user("desk")
    case = await register(desk, sql, phone="13912345670")
    await sql.execute('DELETE FROM case_event WHERE "case" = $1', case["id"])
    page = await desk.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    api = await desk.get(f"/api/v1/cases/{case['id']}")
    assert api.status_code == 200
